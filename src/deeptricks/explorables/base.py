"""What every explorable page shares: coalesced updates and the page skeleton."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Callable

import panel as pn
from panel.io.state import set_curdoc

log = logging.getLogger(__name__)


class Coalesced:
    """Call ``fn`` once per server tick however many changes arrive in that tick.

    During a fast drag several slider events can arrive before the server has
    drawn the first; each marks the page dirty, and one update then runs with
    the latest values, so stale intermediate states are never computed. Outside
    a server (tests, notebooks) the update runs at once.

    With ``with_changes=True`` ``fn`` receives the set of parameter names that
    changed since its last run, so a page recomputes only the views they affect.
    """

    def __init__(self, fn: Callable[..., None], *, with_changes: bool = False):
        self.fn = fn
        self.with_changes = with_changes
        self.changed: set[str] = set()
        self.pending = False
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            install_closed_socket_handler()   # `panel serve apps/*.py` too, not only `deeptricks serve`

    def __call__(self, *events) -> None:
        self.changed.update(e.name for e in events if getattr(e, "name", None))
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._flush()
            return
        if self.pending:
            return
        self.pending = True
        doc.add_next_tick_callback(partial(self._run, doc))

    def _run(self, doc) -> None:
        self.pending = False
        with set_curdoc(doc), pn.io.hold(doc):
            self._flush()

    def _flush(self) -> None:
        changed, self.changed = self.changed, set()
        if self.with_changes:
            self.fn(changed)
        else:
            self.fn()


def caption(text: str, **kwargs) -> pn.pane.Markdown:
    """A short explanatory paragraph under a plot."""
    return pn.pane.Markdown(text, sizing_mode="stretch_width", margin=(0, 8, 6, 8),
                            styles={"color": "#3d444d", "font-size": "14px"}, disable_math=True,
                            **kwargs)


# --------------------------------------------------------------------------- sessions


def _closed_socket_handler(loop, context) -> None:
    """The event loop's exception handler: a write to a websocket that the browser closed
    meanwhile (a tab closed mid-update or during training) is expected, not an error.

    Panel writes a patch as one asyncio task per websocket frame; when the browser goes
    away mid-message the tasks after the first fail with ``WebSocketClosedError`` and,
    if nobody awaited them, asyncio prints "Task exception was never retrieved" with a
    traceback. Those are dropped here (logged at debug level); everything else goes to
    asyncio's default handler as before."""
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    if isinstance(context.get("exception"), (WebSocketClosedError, StreamClosedError)):
        log.debug("browser closed the websocket during a write: %s", context.get("message"))
        return
    loop.default_exception_handler(context)


def install_closed_socket_handler() -> None:
    """Install :func:`_closed_socket_handler` on the current event loop (once)."""
    loop = asyncio.get_event_loop()
    if loop.get_exception_handler() is not _closed_socket_handler:
        loop.set_exception_handler(_closed_socket_handler)


def on_session_created(session_context) -> None:
    """``pn.state.on_session_created`` hook of ``deeptricks serve`` (every page, the
    index too): :func:`install_closed_socket_handler`."""
    install_closed_socket_handler()


def tune_allocator() -> None:
    """Let the server give a closed session's memory back to the system (glibc only).

    A session's numpy arrays are megabytes each. glibc serves such blocks with mmap and
    returns them on free, but after the first one is freed it raises its mmap threshold
    to that size, so later sessions' arrays come from the heap, which it seldom gives
    back: the server's resident memory then only grows as learners come and go. Fixing
    the threshold at glibc's initial 128 kB (``mallopt(M_MMAP_THRESHOLD)``, the same as
    ``MALLOC_MMAP_THRESHOLD_=131072``) keeps big arrays on mmap."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 128 * 1024)     # M_MMAP_THRESHOLD
    except (OSError, AttributeError):    # not glibc: nothing to tune
        pass


def log_session_freed(session_context) -> None:
    """``pn.state.on_session_destroyed`` hook of ``deeptricks serve``: one line per freed session."""
    sid = getattr(session_context, "id", None) or "?"
    print(f"deeptricks: session {sid[:12]} freed", flush=True)


def live_objects() -> dict[str, int]:
    """After a full ``gc.collect()``: live instances of every class of the explorables'
    and ui modules (pages, states, models, components), of Bokeh documents and of the
    server's sessions. What the soak test and ``benchmarks/memory.py`` read from the
    debug endpoint to prove that closed sessions leave nothing behind."""
    import gc
    from collections import Counter

    from bokeh.document import Document
    from bokeh.server.session import ServerSession

    gc.collect()
    counts: Counter = Counter()
    for o in gc.get_objects():
        t = type(o)
        mod = t.__dict__.get("__module__", "")
        if isinstance(mod, str) and mod.startswith(("deeptricks.explorables", "deeptricks.ui")) and not isinstance(o, type):
            counts[t.__name__] += 1
        elif t is Document:
            counts["bokeh.Document"] += 1
        elif t is ServerSession:
            counts["bokeh.ServerSession"] += 1
    # Panel's per-document registries: a destroyed document left in one is a leak
    from panel.io import document as pdoc
    from panel.io.state import state

    for name, reg in (("panel.change_callbacks", state._change_callbacks),
                      ("panel.write_futures", pdoc._WRITE_FUTURES), ("panel.write_msgs", pdoc._WRITE_MSGS),
                      ("panel.write_tasks", pdoc._write_tasks), ("panel.views", state._views)):
        if len(reg):
            counts[name] = len(reg)
    return dict(counts)


def debug_patterns() -> list:
    """Tornado routes of the debug endpoint ``/debug/live`` (JSON of :func:`live_objects`),
    served only when ``DEEPTRICKS_DEBUG_ENDPOINTS=1`` (tests and benchmarks)."""
    import json

    from tornado.web import RequestHandler

    class LiveObjectsHandler(RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.write(json.dumps(live_objects()))

    return [(r"/debug/live", LiveObjectsHandler)]
