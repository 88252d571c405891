"""The client guard: what a browser may change in its session, checked before Bokeh applies it.

A websocket client can send a patch for any property of any model in its document, and
Bokeh's server applies it. A browser only ever sends a few kinds of change: a widget's value
(a slider's ``value``, a button group's ``active``), a click or another event, its address
(Panel's ``Location``), the sizes of laid-out figures and the ranges and legend toggles of
a plot's tools. :func:`screen` looks at each event of an incoming patch, still in its JSON
form, and refuses:

* events of a kind no browser sends here (columns streamed or patched, roots added or
  removed, the title);
* changes to a model the document does not hold, or whose value brings in a model it does
  not hold;
* writes to a data source's ``data`` (the server owns every plot's data);
* a widget value its control does not offer: a slider's value outside its start and end,
  NaN or infinite, of the wrong type, an index past the last button (:func:`check_value`).

Each refused change is logged in one line (no traceback), and the widget or data source is
sent its server-side value again, so the browser shows what the server holds. The rest of
the patch goes through. Without this, a refused value makes Panel log two tracebacks and
leaves the widget (and the browser) showing the value the page refused.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("deeptricks.guard")

#: event kinds a browser sends in a PATCH-DOC
CLIENT_KINDS = frozenset({"ModelChanged", "MessageSent"})

#: properties that carry a widget's value from the browser (checked against the widget)
VALUE_ATTRS = frozenset({"value", "value_throttled", "active"})

#: bytes: the largest websocket message a page sends is a few kB (a patch of one value, the
#: sizes of a page's figures); 512 kB leaves room and refuses anything near Bokeh's 20 MB default
MAX_MESSAGE_BYTES = 512 * 1024


@dataclass(frozen=True)
class Refusal:
    """One refused change: which model and property, and why."""

    model_id: str | None
    attr: str | None
    why: str
    kind: str = "ModelChanged"

    def line(self) -> str:
        what = f"{self.attr} of {self.model_id}" if self.attr else f"{self.kind} on {self.model_id}"
        return f"refused a change from the browser: {what}: {self.why}"


# -- values in their JSON form ------------------------------------------------------------------
def decode(value: Any) -> Any:
    """A plain value of a patch (numbers, NaN and infinities, strings, booleans, lists and
    None); anything else (models, buffers, maps) raises ``ValueError``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict) and value.get("type") == "number":
        return float(value.get("value"))          # "nan", "inf", "-inf"
    raise ValueError(f"a {value.get('type') if isinstance(value, dict) else type(value).__name__} "
                       "where a plain value belongs")


def _refs(value: Any) -> set[str]:
    """Ids of the models a JSON value refers to or defines."""
    found: set[str] = set()
    if isinstance(value, dict):
        if value.get("type") in ("object", "ref") or ("id" in value and len(value) <= 2):
            if isinstance(value.get("id"), str):
                found.add(value["id"])
        for v in value.values():
            found |= _refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= _refs(v)
    return found


# -- the widgets behind the models ----------------------------------------------------------------
def panel_widgets(doc) -> dict[str, Any]:
    """Bokeh model id -> the Panel widget it shows, for every widget in ``doc``'s Panel views."""
    import panel as pn
    from panel.io.state import state

    out: dict[str, Any] = {}
    for obj, _, view_doc, _ in list(state._views.values()):
        if view_doc is not doc:
            continue
        for w in obj.select(pn.widgets.Widget):
            for model, _ in list(w._models.values()):
                for m in model.select({}) if hasattr(model, "select") else [model]:
                    out.setdefault(m.id, w)
    return out


def check_value(model, widget, attr: str, value: Any) -> str | None:
    """Why ``value`` for ``model``'s ``attr`` is not one its control offers, or None.

    The model says what it offers (a slider's start and end, a button group's labels); the
    Panel ``widget`` it shows (if known) adds its own type (an integer slider) and checks."""
    from bokeh.models import AbstractSlider

    if widget is not None and getattr(widget, "disabled", False) and attr in ("value", "value_throttled", "active"):
        return "its control is locked"                 # e.g. a teacher's link: lock=...

    def finite_number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if isinstance(model, AbstractSlider) and attr in ("value", "value_throttled"):
        pair = type(model).__name__.endswith("RangeSlider")            # (start, end)
        values = value if pair and isinstance(value, list) and len(value) == 2 else [value]
        if not all(finite_number(v) for v in values):
            return f"{value!r} is not a finite number" + (" pair" if pair else "")
        low, high = sorted((model.start, model.end))
        if not all(low <= v <= high for v in values):
            return f"{value!r} is outside {low}..{high}"
        if widget is not None and "Int" in type(widget).__name__ and any(v != int(v) for v in values):
            return f"{value!r} is not a whole number"
    elif attr == "active" and hasattr(model, "labels"):                # button and box groups
        picks = value if isinstance(value, list) else [] if value is None else [value]
        n = len(model.labels)
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i in picks):
            return f"{value!r} is not a choice of its {n}"
    elif attr == "active":                                              # a switch or a toggle
        if not isinstance(value, bool):
            return f"{value!r} is not true or false"
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if widget is None:
        return None
    try:
        params = widget._process_property_change({attr: value})
        for name, v in params.items():
            if "." not in name and name in widget.param:
                widget.param[name]._validate(v)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# -- screening a patch --------------------------------------------------------------------------
def screen(doc, events: list, widgets: dict[str, Any] | None = None) -> tuple[list, list[Refusal]]:
    """Split a patch's JSON events into those to apply and the refused ones (see the module)."""
    from bokeh.models import ColumnarDataSource

    kept, refused = [], []
    if widgets is None:                  # found once per document, again for an unknown control
        widgets = getattr(doc, "_deeptricks_widgets", None)
        rescanned = widgets is None
        if widgets is None:
            widgets = panel_widgets(doc)
            try:
                doc._deeptricks_widgets = widgets
            except AttributeError:
                pass
    else:
        rescanned = False
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            refused.append(Refusal(None, None, "not an event", kind=type(event).__name__))
            continue
        kind = event.get("kind")
        model_ref = event.get("model") if isinstance(event.get("model"), dict) else {}
        mid = model_ref.get("id")
        if kind not in CLIENT_KINDS:
            refused.append(Refusal(mid, None, f"a browser does not send {kind!r} here", kind=str(kind)))
            continue
        if kind == "MessageSent":
            kept.append(event)
            continue
        attr, new = event.get("attr"), event.get("new")
        model = doc.get_model_by_id(mid) if isinstance(mid, str) else None
        if model is None:
            refused.append(Refusal(mid, attr, "no such model in this document"))
            continue
        if not isinstance(attr, str) or attr not in model.properties():
            refused.append(Refusal(mid, attr, f"{type(model).__name__} has no such property"))
            continue
        unknown = {r for r in _refs(new) if doc.get_model_by_id(r) is None}
        if unknown:
            refused.append(Refusal(mid, attr, f"refers to models not in the document ({len(unknown)})"))
            continue
        if attr == "data" and isinstance(model, ColumnarDataSource):
            refused.append(Refusal(mid, attr, "the server owns the plots' data"))
            continue
        if attr in VALUE_ATTRS:
            widget = widgets.get(mid)
            if widget is None and not rescanned:
                widgets.update(panel_widgets(doc))   # a control built after the first look
                rescanned, widget = True, widgets.get(mid)
            try:
                why = check_value(model, widget, attr, decode(new))
            except ValueError as exc:
                why = str(exc)
            if why is not None:
                refused.append(Refusal(mid, attr, why))
                continue
        kept.append(event)
    return kept, refused


def put_back(doc, refusal: Refusal) -> None:
    """Send the browser the server's value of a refused property again."""
    model = doc.get_model_by_id(refusal.model_id) if isinstance(refusal.model_id, str) else None
    if model is None or refusal.attr is None or refusal.attr not in model.properties():
        return
    value = getattr(model, refusal.attr)
    model.trigger(refusal.attr, value, value)


def guarded(handle_patch):
    """``ServerSession._handle_patch`` (Bokeh's undecorated method, which runs with the
    document locked) with the patch screened first and refused values sent back. A patch that
    still fails to apply (a value Bokeh cannot read) is answered with an error and logged in
    one line; the connection stays open."""
    def _handle_patch(self, message, connection):
        session = str(getattr(self, "id", "?"))[:12]
        content = message.content if isinstance(message.content, dict) else {}
        events = content.get("events")
        if not isinstance(events, list):
            log.warning("session %s: refused a patch from the browser: no list of events", session)
            content["events"] = events = []
        kept, refused = screen(self.document, events)
        if refused:
            for r in refused:
                log.warning("session %s: %s", session, r.line())
            content["events"] = kept
            for r in refused:
                put_back(self.document, r)
        try:
            return handle_patch(self, message, connection)
        except Exception as exc:          # e.g. a value of a form Bokeh cannot read
            log.warning("session %s: could not apply a patch from the browser: %s: %s", session,
                        type(exc).__name__, str(exc)[:200])
            return connection.error(message, "the server refused this change")
    _handle_patch.deeptricks_guard = True
    return _handle_patch


def install() -> bool:
    """Screen every client patch of this process's Bokeh server sessions (once)."""
    from bokeh.server import session as bokeh_session

    current = bokeh_session.ServerSession._handle_patch
    if getattr(getattr(current, "__wrapped__", None), "deeptricks_guard", False):
        return True
    inner = getattr(current, "__wrapped__", None)
    lock = getattr(bokeh_session, "_needs_document_lock", None)
    if inner is None or lock is None:
        return False
    bokeh_session.ServerSession._handle_patch = lock(guarded(inner))
    return True
