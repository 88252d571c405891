"""``deeptricks serve``: the index at ``/``, every explorable at ``/<name>``, ``/liveness``; and
the same pages for ``panel serve apps/*.py`` (:func:`page_for_panel_serve`)."""

from __future__ import annotations

import importlib
import os
from functools import partial
from pathlib import Path
from typing import Callable

import panel as pn

from . import guard, hooks, patches
from .debug import debug_patterns
from .tuning import freeze_startup_objects, resolve_bokeh_settings

EMBED_DIR = Path(__file__).resolve().parents[1] / "assets" / "embed"
"""Served at ``/deeptricks/``: ``frames.js``, which sizes a course page's deeptricks iframes."""


def session_page(build: Callable[[], object]) -> Callable[[], object]:
    """A route's page function for a server: it prepares a script-tag embed's session
    (:func:`patches.prepare_embedded_session`) before it builds the page."""
    def page():
        doc = pn.state.curdoc
        host = hooks.foreign_embed(getattr(doc, "session_context", None))
        if host is not None:
            print(f"deeptricks: refused a script-tag session for a page on {host}: not an allowed origin",
                  flush=True)
            return pn.pane.HTML("", name="refused")          # no page is built for it
        patches.prepare_embedded_session()
        return build()

    page.__name__ = getattr(build, "__name__", None) or "page"
    page.__doc__ = getattr(build, "__doc__", None)
    return page


def routes() -> tuple[dict[str, Callable], dict[str, str]]:
    """``({route: page function}, {route: title})`` for every page served."""
    from deeptricks.explorables import index
    from deeptricks.explorables.registry import EXPLORABLES, view_routes

    pages = {"/": session_page(index.page)}
    titles = {"/": "deeptricks"}
    for e in EXPLORABLES:
        pages[f"/{e.slug}"] = session_page(e.page)
        titles[f"/{e.slug}"] = f"{e.title} · deeptricks"
    for e, v in view_routes():
        pages[f"/{e.slug}/{v.name}"] = session_page(partial(e.view, v.name))
        titles[f"/{e.slug}/{v.name}"] = f"{v.title} · {e.title} · deeptricks"
    return pages, titles


def default_origins(address: str, port: int) -> list[str]:
    hosts = ["localhost", "127.0.0.1"] if address in ("localhost", "127.0.0.1", "0.0.0.0", "::") else [address]
    return [f"{h}:{port}" for h in hosts]


def env_origins() -> list[str]:
    """Origins from ``DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN`` (comma-separated), as the Docker image sets."""
    raw = os.environ.get("DEEPTRICKS_ALLOW_WEBSOCKET_ORIGIN", "")
    return [o.strip() for o in raw.split(",") if o.strip()]


def serve(args) -> None:
    """Serve every page with Panel's server, as the command line's ``serve`` asks."""
    from deeptricks.explorables.registry import EXPLORABLES

    pages, titles = routes()
    origins = args.allow_websocket_origin or env_origins() or default_origins(args.address, args.port)
    if args.autoreload:
        pn.config.autoreload = True
    shown = "localhost" if args.address in ("0.0.0.0", "::") else args.address
    prefix = "/" + args.prefix.strip("/") if args.prefix.strip("/") else ""
    print(f"deeptricks: open http://{shown}:{args.port}{prefix}/", flush=True)
    pn.state.on_session_created(hooks.session_created)
    pn.state.on_session_destroyed(hooks.session_destroyed)
    lifetime_ms = max(100, int(args.session_lifetime * 1000))
    debug = os.environ.get("DEEPTRICKS_DEBUG_ENDPOINTS") == "1"   # /debug/live, for tests and benchmarks
    for e in EXPLORABLES:                 # import every page's code now, then keep it out of the
        importlib.import_module(e.module)  # garbage collector's full passes (before any session)
    import panel.io.server  # noqa: F401
    hooks.ALLOWED_ORIGINS = list(origins)
    patches.install_process()
    resolve_bokeh_settings()
    freeze_startup_objects()
    pn.serve(pages, port=args.port, address=args.address, websocket_origin=origins, prefix=prefix,
             num_procs=args.num_procs, show=args.show, title=titles, verbose=False,
             use_xheaders=args.use_xheaders, liveness="liveness", unused_session_lifetime_milliseconds=lifetime_ms,
             check_unused_sessions_milliseconds=min(10_000, max(50, lifetime_ms // 2)),
             extra_patterns=debug_patterns() if debug else [], static_dirs={"deeptricks": str(EMBED_DIR)},
             websocket_max_message_size=guard.MAX_MESSAGE_BYTES)


def page_for_panel_serve(slug: str | None = None):
    """The page ``apps/<slug>.py`` serves under ``panel serve`` (``None``: the index), with
    what ``deeptricks serve`` sets up around it: the workarounds, and the session hooks.

    ``panel serve`` gives each app file one route, so a view is asked for in the query:
    ``/dropout?view=units`` (``deeptricks serve`` answers ``/dropout/units`` too)."""
    from deeptricks.explorables import index
    from deeptricks.explorables.registry import by_slug
    from deeptricks.explorables.sections import query_value

    patches.install_process()
    hooks.session_created()
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        doc.on_session_destroyed(hooks.session_destroyed)
    if slug is None:
        return session_page(index.page)()
    explorable = by_slug(slug)
    view = query_value("view")
    if view and view in {v.name for v in explorable.views()}:
        return session_page(partial(explorable.view, view))()
    return session_page(explorable.page)()
