"""What happens as sessions come and go, under ``deeptricks serve`` and ``panel serve`` alike."""

from __future__ import annotations

import gc

from . import patches
from .loop import server_loop
from .tuning import release_free_memory


def session_created(session_context=None) -> None:
    """A session opens: the workarounds that need the server's event loop go in (once)."""
    patches.install_session()


def session_destroyed(session_context) -> None:
    """A session is freed: one line in the server's output, and the memory handed back once
    its objects are gone (one collection and trim shortly after the last of a group)."""
    sid = getattr(session_context, "id", None) or "?"
    print(f"deeptricks: session {sid[:12]} freed", flush=True)
    _schedule_trim()


_trim_pending = False


def _schedule_trim(delay_s: float = 2.0) -> None:
    """One trim ``delay_s`` after the last freed session (a class leaving together costs one)."""
    global _trim_pending
    if _trim_pending:
        return
    loop = server_loop()
    if loop is None:
        return

    def run():
        global _trim_pending
        _trim_pending = False
        gc.collect()
        release_free_memory()

    _trim_pending = True
    loop.call_soon_threadsafe(loop.call_later, delay_s, run)
