"""The debug endpoint ``/debug/live``: what is alive in the server, for the soak test and
``benchmarks/memory.py`` (served only with ``DEEPTRICKS_DEBUG_ENDPOINTS=1``)."""

from __future__ import annotations

import gc
import json
from collections import Counter


def live_objects() -> dict[str, int]:
    """After a full ``gc.collect()``: live instances of every class of the explorables' and
    ui modules (pages, states, models, components), of Bokeh documents and of the server's
    sessions, and the sizes of Panel's per-document registries (a destroyed document left
    in one is a leak)."""
    from bokeh.document import Document
    from bokeh.server.session import ServerSession
    from panel.io import document as pdoc
    from panel.io.state import state

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
    registries = {"panel.change_callbacks": getattr(state, "_change_callbacks", None),
                  "panel.views": getattr(state, "_views", None)}
    # module-level names differ between Panel versions (1.10 has _WRITE_EVENTS, 1.9 _WRITE_MSGS)
    for attr in ("_WRITE_FUTURES", "_WRITE_MSGS", "_WRITE_EVENTS", "_write_tasks"):
        registries["panel." + attr.strip("_").lower()] = getattr(pdoc, attr, None)
    for name, reg in registries.items():
        if reg is not None and len(reg):
            counts[name] = len(reg)
    return dict(counts)


def debug_patterns() -> list:
    """Tornado routes of the debug endpoint: ``/debug/live`` answers :func:`live_objects` as JSON."""
    from tornado.web import RequestHandler

    class LiveObjectsHandler(RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.write(json.dumps(live_objects()))

    return [(r"/debug/live", LiveObjectsHandler)]
