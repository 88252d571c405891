"""Finding the server's event loop from wherever a page's code runs."""

from __future__ import annotations

import asyncio
import threading

import panel as pn


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's event loop, from any thread; ``None`` outside a server.

    Bokeh 3.10 (with Panel 1.10, on Python 3.12+) builds a session's document and runs
    its locked callbacks on worker threads, where asyncio has no current loop: the
    loop is then found through the session's application context.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    ctx = getattr(pn.state.curdoc, "session_context", None)
    app_ctx = getattr(getattr(ctx, "server_context", None), "application_context", None)
    loop = getattr(app_ctx, "io_loop", None)
    loop = getattr(loop, "asyncio_loop", loop)
    if isinstance(loop, asyncio.AbstractEventLoop):
        return loop
    if threading.current_thread() is threading.main_thread():
        try:
            return asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return None
    return None
