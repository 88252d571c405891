"""What happens as sessions come and go, under ``deeptricks serve`` and ``panel serve`` alike."""

from __future__ import annotations

import gc

from . import patches
from .loop import server_loop
from .tuning import release_free_memory


ALLOWED_ORIGINS: list[str] | None = None
"""The hosts whose pages may embed a view by script tag (``deeptricks serve`` sets it to its
``--allow-websocket-origin`` list; None: no check, as under ``panel serve``)."""


def session_created(session_context=None) -> None:
    """A session opens: the workarounds that need the server's event loop go in (once)."""
    patches.install_session()


def embed_origin(session_context) -> str | None:
    """For a session asked for by a ``server_document`` script tag (``autoload.js``), the host
    of the page that holds the tag, from its Origin or Referer header; else None."""
    from urllib.parse import urlparse

    request = getattr(session_context, "request", None)
    try:
        if "bokeh-autoload-element" not in dict(request.arguments):
            return None
        headers = {str(k).lower(): v for k, v in dict(request.headers).items()}
    except Exception:
        return None
    for key in ("origin", "referer"):
        value = headers.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value and value != "null":
            return urlparse(str(value)).netloc or None
    return None


def foreign_embed(session_context) -> str | None:
    """The host of a page the server does not allow that asks for a session by script tag,
    else None. Bokeh builds such a session (the page is built by the route's function) and
    refuses only its websocket afterwards; the route builds nothing for it
    (:func:`deeptricks.server.app.session_page`). A request that names no page (no Origin or
    Referer header) is left to the websocket check."""
    from bokeh.server.util import check_allowlist

    if ALLOWED_ORIGINS is None or session_context is None:
        return None
    host = embed_origin(session_context)
    return host if host is not None and not check_allowlist(host, ALLOWED_ORIGINS) else None


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
