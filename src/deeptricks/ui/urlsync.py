"""Two-way binding between app state and the URL query, tolerant of bad links.

Panel's own ``pn.state.location.sync`` hands query values straight to param:
an out-of-range value makes the whole batch fail (and, depending on order,
some earlier values are already set), and a few odd strings (e.g. ``?p=²``)
make its query parser raise. Here every value is first coerced by
:func:`coerce_query`, which never raises, and what was changed is reported.

A page embedded in another site with Bokeh's ``server_document`` script tag
gets its settings from the tag's ``arguments`` (``pn.state.session_args``);
its ``pn.state.location`` is the embedding page's address, which is neither
read nor rewritten (see :func:`embed_session_args`).
"""

from __future__ import annotations

import math
import re
import urllib.parse
import weakref
from collections.abc import Mapping, Sequence
from functools import partial

import panel as pn
import param
from panel.io.state import set_curdoc

_TRUE = {"true", "1", "on", "yes", "y", "t"}
_FALSE = {"false", "0", "off", "no", "n", "f"}
_MAX_TEXT = 200


def _param_map(parameterized, params) -> dict[str, str]:
    """``{parameter name: query key}`` for the parameters to sync."""
    if params is None:
        names = [p for p in parameterized.param if p != "name"]
        return {p: p for p in names}
    if isinstance(params, Mapping):
        return {str(k): str(v) for k, v in params.items()}
    return {str(p): str(p) for p in params}


def _text(raw) -> str | None:
    """One query value as text: the last of a list, bytes decoded, junk dropped."""
    if isinstance(raw, (list, tuple)):
        if not raw:
            return None
        raw = raw[-1]
    if raw is None:
        return None
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8", errors="replace")
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if not isinstance(raw, str):
        raw = str(raw)
    return raw.strip()


def _show(text: str) -> str:
    """Short printable form of a raw value for a note."""
    text = "".join(c if c.isprintable() else "\ufffd" for c in text)
    return repr(text if len(text) <= 24 else text[:23] + "\u2026")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _parse_float(text: str) -> float | None:
    try:
        return float(text)
    except (ValueError, OverflowError):
        return None


def _coerce_number(p: param.Number, key: str, text: str, notes: list[str]):
    is_int = isinstance(p, param.Integer)
    v = _parse_float(text)
    if v is None:
        notes.append(f"{key}={_show(text)} is not a number; ignored.")
        return None
    if not math.isfinite(v):
        notes.append(f"{key}={_show(text)} is not a finite number; ignored.")
        return None
    if is_int:
        if v != math.floor(v):
            r = int(round(v))
            notes.append(f"{key}={_show(text)} is not a whole number; using {r}.")
            v = r
        else:
            try:
                v = int(text)  # exact for long integers
            except ValueError:
                v = int(v)
    lo, hi = (p.bounds or (None, None))
    inc_lo, inc_hi = getattr(p, "inclusive_bounds", (True, True)) or (True, True)
    if lo is not None and (v < lo or (v == lo and not inc_lo)):
        new = lo if inc_lo else (lo + 1 if is_int else math.nextafter(lo, math.inf))
        notes.append(f"{key}={_show(text)} is below the minimum {_fmt(lo)}; using {_fmt(new)}.")
        v = new
    elif hi is not None and (v > hi or (v == hi and not inc_hi)):
        new = hi if inc_hi else (hi - 1 if is_int else math.nextafter(hi, -math.inf))
        notes.append(f"{key}={_show(text)} is above the maximum {_fmt(hi)}; using {_fmt(new)}.")
        v = new
    return int(v) if is_int else float(v)


def _coerce_selector(p: param.Selector, key: str, text: str, notes: list[str]):
    objects = list(p.objects or [])
    names = getattr(p, "names", None) or {}
    if text in names:
        return names[text]
    for obj in objects:
        if isinstance(obj, str) and obj == text:
            return obj
    low = text.lower()
    for n, obj in names.items():
        if str(n).lower() == low:
            return obj
    for obj in objects:
        if str(obj).lower() == low and not isinstance(obj, bool):
            return obj
    num = _parse_float(text)
    if num is not None and math.isfinite(num):
        for obj in objects:
            if isinstance(obj, (int, float)) and not isinstance(obj, bool) and obj == num:
                return obj
    choices = list(names) if names else [str(o) for o in objects]
    shown = ", ".join(choices[:8]) + (", \u2026" if len(choices) > 8 else "")
    notes.append(f"{key}={_show(text)} is not one of: {shown}; ignored.")
    return None


def coerce_query(
    parameterized: param.Parameterized,
    raw: Mapping,
    params: Sequence[str] | Mapping[str, str] | None = None,
) -> tuple[dict, list[str]]:
    """Turn raw query values into valid parameter values; never raises.

    ``raw`` maps query keys to str, bytes, or lists of them (the last wins), as
    from ``urllib.parse.parse_qs`` or ``pn.state.session_args``. ``params``
    lists the parameter names to accept (or maps parameter name to query key).
    Returns ``(values, notes)``: values keyed by parameter name, each valid for
    its parameter (numbers clamped into bounds; bad values left out), and one
    plain-text note per value that was changed or ignored. Unknown keys are
    ignored silently.
    """
    values: dict = {}
    notes: list[str] = []
    try:
        mapping = _param_map(parameterized, params)
        items = dict(raw.items()) if isinstance(raw, Mapping) else {}
    except Exception:  # a broken argument is the caller's bug, not the link's
        return {}, ["could not read the link's settings; ignored."]
    for pname, key in mapping.items():
        if key not in items or pname not in parameterized.param:
            continue
        try:
            text = _text(items[key])
        except Exception:
            text = None
        if text is None:
            continue
        p = parameterized.param[pname]
        if len(text) > _MAX_TEXT:
            notes.append(f"{key}: value too long; ignored.")
            continue
        if getattr(p, "constant", False) or getattr(p, "readonly", False):
            notes.append(f"{key} cannot be set from the link; ignored.")
            continue
        try:
            v = _coerce_one(p, key, text, notes)
        except Exception:
            notes.append(f"{key}={_show(text)} could not be read; ignored.")
            v = None
        if v is not None:
            values[pname] = v
    return values, notes


def _coerce_one(p, key: str, text: str, notes: list[str]):
    if text == "":
        notes.append(f"{key} is empty; ignored.")
        return None
    if isinstance(p, param.Boolean):
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        notes.append(f"{key}={_show(text)} is not true/false; ignored.")
        return None
    if isinstance(p, param.Number):
        return _coerce_number(p, key, text, notes)
    if isinstance(p, param.ListSelector):
        notes.append(f"{key} cannot be set from the link; ignored.")
        return None
    if isinstance(p, param.Selector):
        return _coerce_selector(p, key, text, notes)
    if isinstance(p, param.String):
        regex = getattr(p, "regex", None)
        if regex and not re.match(regex, text):
            notes.append(f"{key}={_show(text)} has the wrong form; ignored.")
            return None
        return text
    notes.append(f"{key} cannot be set from the link; ignored.")
    return None


def serialize_value(p: param.Parameter, value) -> str | None:
    """The query text for ``value`` of parameter ``p`` (``None`` to leave it out)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(p, param.Selector):
        names = getattr(p, "names", None) or {}
        for n, obj in names.items():
            if obj == value:
                return str(n)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>&~\"'=:;/?%$@^,])", r"\\\1", text)


# Arguments Bokeh's autoload.js request carries besides the page's own settings.
_AUTOLOAD_ARG = "bokeh-autoload-element"


def embed_session_args(doc=None) -> dict | None:
    """The settings of a session opened by a ``server_document`` script tag, else ``None``.

    Such a session starts from a request for ``/<app>/autoload.js`` whose query
    holds Bokeh's own ``bokeh-*`` arguments and the tag's ``arguments``; the
    latter are returned (``{key: [bytes, ...]}``, as ``pn.state.session_args``).
    A normal page load or an iframe gives ``None``: its settings are in its URL.
    ``doc`` defaults to the current document.
    """
    doc = doc if doc is not None else pn.state.curdoc
    try:
        request = doc.session_context.request
        args = dict(request.arguments)
    except Exception:  # no document, no session, no request
        return None
    if _AUTOLOAD_ARG not in args:
        return None
    return {k: v for k, v in args.items() if not str(k).startswith("bokeh-")}


_QUEUED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
"""Per document, the URLSyncs whose state changed and whose URL is not written yet."""


def flush_url_writes(doc) -> None:
    """Write the URLs queued for ``doc`` now (a page calls this inside its update's hold, so
    the URL travels in the same message as the plots)."""
    for sync in _QUEUED.pop(doc, ()):
        sync._write_url()


def _flush_on_tick(doc) -> None:
    if doc in _QUEUED:                      # no page update took them along
        with set_curdoc(doc), pn.io.hold(doc):
            flush_url_writes(doc)


_BINDINGS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
"""Location -> the :class:`URLSync` bindings on it (a page's and its guided path's)."""


class URLSync:
    """Keeps chosen parameters of ``state`` and the URL query in step (see :func:`url_sync`).

    ``notes`` holds the latest adjustments; ``alert`` shows them. Placing the
    object in a Panel layout shows the alert. With ``session_args`` (an
    embedded session's settings) the values are applied once and no location
    is read or written.
    """

    def __init__(self, state, params=None, *, location=None, alert: pn.pane.Alert | None = None,
                 session_args: Mapping | None = None):
        self.state = state
        self.mapping = _param_map(state, params)
        self.location = None if session_args is not None else location
        self.notes: list[str] = []
        self.alert = alert or pn.pane.Alert("", alert_type="warning", visible=False,
                                            sizing_mode="stretch_width", name="url-notes")
        self._writing = False
        if session_args is not None:
            self._apply_raw(session_args)
            return
        if location is None:
            return
        _BINDINGS.setdefault(location, weakref.WeakSet()).add(self)
        self._apply_query(location.search)
        self._write_url()
        state.param.watch(self._on_state, list(self.mapping))
        location.param.watch(self._on_search, ["search"])

    # URL -> state
    def _apply_query(self, search: str) -> None:
        try:
            raw = urllib.parse.parse_qs((search or "").lstrip("?"), keep_blank_values=True)
        except Exception:
            raw = {}
        self._apply_raw(raw)

    def _apply_raw(self, raw: Mapping) -> None:
        values, notes = coerce_query(self.state, raw, self.mapping)
        changed = {k: v for k, v in values.items() if getattr(self.state, k) != v}
        if changed:
            try:
                self.state.param.update(**changed)
            except Exception:
                for k, v in changed.items():
                    try:
                        setattr(self.state, k, v)
                    except Exception:
                        notes.append(f"{self.mapping[k]} could not be applied; ignored.")
        self._show(notes)

    def __panel__(self):
        return self.alert

    def _show(self, notes: list[str]) -> None:
        self.notes = notes
        if notes:
            lines = "\n".join(f"- {_md_escape(n)}" for n in notes)
            text = f"**Some settings in the link were adjusted:**\n\n{lines}"
        else:
            text = ""
        if self.alert.object != text:
            self.alert.object = text
        if self.alert.visible != bool(notes):
            self.alert.visible = bool(notes)

    # state -> URL
    def query_string(self) -> str:
        """The search string (``?a=1&b=2``) for the current state, other keys kept."""
        search = (self.location.search if self.location is not None else "") or ""
        try:
            pairs = urllib.parse.parse_qsl(search.lstrip("?"), keep_blank_values=True)
        except Exception:
            pairs = []
        ours = set(self.mapping.values())
        kept = [(k, v) for k, v in pairs if k not in ours]
        for pname, key in self.mapping.items():
            text = serialize_value(self.state.param[pname], getattr(self.state, pname))
            if text is not None:
                kept.append((key, text))
        return ("?" + urllib.parse.urlencode(kept)) if kept else ""

    def _write_url(self) -> None:
        search = self.query_string()
        if self.location.search != search:
            # every binding of this address ignores the write (a guided path's ?step= beside the
            # page's keys): none of them re-reads the link and forgets how it was adjusted
            together = list(_BINDINGS.get(self.location, ()))
            for b in together:
                b._writing = True
            try:
                self.location.search = search
            finally:
                for b in together:
                    b._writing = False

    def _on_state(self, *events) -> None:
        """Follow the controls. In a server session the write joins the page's own update:
        it is queued for the document and done inside the update's hold (see
        :func:`flush_url_writes`), so one patch carries both; otherwise (no page update
        coming, or outside a server) at once or on the next tick."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            self._write_url()
            return
        pending = _QUEUED.setdefault(doc, set())
        if self not in pending:
            pending.add(self)
            doc.add_next_tick_callback(partial(_flush_on_tick, doc))

    def _on_search(self, event) -> None:
        if self._writing:
            return
        self._apply_query(event.new)
        self._write_url()


def url_sync(state: param.Parameterized, params=None, *, location=None,
             alert: pn.pane.Alert | None = None, session_args: Mapping | None = None) -> URLSync:
    """Bind ``params`` of ``state`` to the URL query both ways.

    On load the query is read and coerced with :func:`coerce_query` (bad values
    clamped or ignored, never raised) and the URL is rewritten to the values in
    use; afterwards every change of those parameters updates the URL. The
    returned :class:`URLSync` has ``.alert`` (hidden unless something in the
    link was adjusted) and ``.notes``; put it (or its alert) in the page.
    ``location`` defaults to ``pn.state.location`` (None outside a server: then
    nothing is bound and the alert stays hidden).

    In a session opened by a ``server_document`` script tag the settings come
    from the tag's arguments (``session_args``, found by
    :func:`embed_session_args` unless given) and are applied once; the
    location, which is the embedding page's, is ignored (even if passed) and
    never rewritten.
    """
    if session_args is None:
        session_args = embed_session_args()
    if session_args is not None:
        return URLSync(state, params, alert=alert, session_args=session_args)
    if location is None:
        location = pn.state.location
    return URLSync(state, params, location=location, alert=alert)
