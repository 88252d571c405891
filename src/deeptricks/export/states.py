"""Exporting a page over a grid of control values, its states stored in the page.

An :class:`ExportSpec` names an explorable and the grid of values its main
controls keep in the export. :func:`build` makes the page as the server makes
it, leaves the grid's controls live and disables every other one at its start
value (greyed out, with a note pointing to the live version).

Panel's embedding (``panel.io.embed.embed_state``) turns the sliders into
discrete ones over the grid and wires the controls, but it records each grid
point as the patch produced on the way from the previous one, in one table over
the whole cross product. Such a patch is wrong when a learner arrives from
another point (the pages skip views whose inputs did not change and touch some
properties only when they differ), and the cross product stores every view once
for every value of the controls it does not depend on. So :func:`store_states`
makes the patches instead: a snapshot of every property at every grid point,
each property that varies filed under the controls it depends on, one table
per set of controls, and a small CustomJS callback that applies them. Float
arrays are stored with 16 significant bits (relative error below 2e-5, far
below a pixel), which compresses much better.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LIVE_NOTE = ("**Offline copy.** This page was computed ahead of time for the values the controls "
             "offer now ({grid}); the greyed-out controls are fixed at the values shown. The live "
             "version, served by `deeptricks serve`, has every control and every value.")
VIEW_NOTE = "Offline copy: the controls offer values computed ahead of time."


@dataclass(frozen=True)
class ExportSpec:
    """How one explorable is exported."""

    slug: str
    module: str                       # deeptricks.explorables.<module>
    state_class: str                  # e.g. "DropoutState"
    page_class: str                   # e.g. "DropoutPage"
    grid: dict[str, tuple]            # state parameter -> the values stored
    grid_text: str                    # the grid in words, for the caption
    start: dict[str, Any] = field(default_factory=dict)   # start values (must lie on the grid)
    view_grids: dict[str, dict[str, tuple]] = field(default_factory=dict)   # a view's own extra controls
    prepare_views: tuple[str, ...] | None = None   # the views that need ``prepare`` (None: every one)
    prepare: Callable[[Any, dict[str, tuple]], None] | None = None   # e.g. pre-train for each grid point

    def n_states(self, grid: dict[str, tuple] | None = None) -> int:
        return math.prod(len(v) for v in (grid or self.grid).values())



_FROZEN_CSS = ":host { opacity: 0.5; }"


# -- building a restricted page ----------------------------------------------------------------
@dataclass
class BuiltPage:
    spec: ExportSpec
    page: Any                 # the <Name>Page object
    layout: Any               # its Panel layout
    grid: dict[str, tuple]
    grid_widgets: dict[Any, list]   # Panel widget -> values to store
    frozen: list              # widgets disabled in the export
    view: str | None = None   # a view of the page (its name), or None for the whole page


def build(spec: ExportSpec, grid: dict[str, tuple] | None = None, *, prepare: bool = True,
          view: str | None = None) -> BuiltPage:
    """Build the page of ``spec`` (or its view ``view``) with only ``grid``'s controls live.

    On a page, the other controls are disabled at their start values, with a note. A view
    hides its controls that are not on the grid instead (its figure stays at their start
    values), says in one line that it is an offline copy, and links to the exported page."""
    import importlib

    import panel as pn

    grid = dict(grid or spec.grid)
    if view is not None:
        grid.update(spec.view_grids.get(view, {}))
    mod = importlib.import_module(f"deeptricks.explorables.{spec.module}")
    state = getattr(mod, spec.state_class)(**spec.start)
    for name, values in grid.items():
        if getattr(state, name) not in values:
            setattr(state, name, values[0])
    page = getattr(mod, spec.page_class)(state)
    if view is None:
        if prepare and spec.prepare is not None:
            spec.prepare(page, grid)
        layout = page.layout(guide=False)   # no server, no guided path: the card needs one
    else:            # the grid's controls that the view shows, above its figure or inside it
        layout = page.view(view, link=f"../{spec.slug}.html")
        shown = {getattr(w, "_param_name", None) for w in layout.select(pn.widgets.Widget)
                 if getattr(w, "_param_pane", None) is not None}
        grid = {k: v for k, v in grid.items() if k in shown}
        if prepare and spec.prepare is not None and (spec.prepare_views is None or view in spec.prepare_views):
            spec.prepare(page, grid)
        for key, control in page._view_controls.items():
            if key not in grid:
                control.visible = False

    grid_widgets, frozen = {}, []
    for w in layout.select(pn.widgets.Widget):
        pname = getattr(w, "_param_name", None)
        if pname in grid and getattr(w, "_param_pane", None) is not None and pname not in {
                getattr(g, "_param_name", None) for g in grid_widgets}:
            grid_widgets[w] = list(grid[pname])
        else:
            w.disabled = True
            w.stylesheets = [*w.stylesheets, _FROZEN_CSS]    # greyed out, whatever the widget's style
            frozen.append(w)
    missing = set(grid) - {w._param_name for w in grid_widgets}
    if missing:
        raise ValueError(f"{spec.slug}: no widget for {sorted(missing)}")

    text = VIEW_NOTE if view else LIVE_NOTE.format(grid=spec.grid_text)
    note = pn.pane.Markdown(text, name=f"{spec.slug}-offline-note",
                            sizing_mode="stretch_width", disable_math=True, margin=(2, 8) if view else (4, 8),
                            styles={"font-size": "12px" if view else "13px", "color": "#3d444d"})
    if view:
        _hide_frozen(layout, frozen)
        layout.insert(0, note)
        return BuiltPage(spec, page, layout, grid, grid_widgets, frozen, view)
    controls = [o for o in layout.select(pn.Column) if (o.name or "").endswith("-controls")]
    (controls[0] if controls else layout).insert(0, note)
    for footer in layout.select(pn.pane.HTML):   # "All explorables" leads to the exported index
        if (footer.name or "").endswith("-footer"):
            footer.object = footer.object.replace('href="./"', 'href="index.html"')
    return BuiltPage(spec, page, layout, grid, grid_widgets, frozen)


def _hide_frozen(layout, frozen: list) -> None:
    """In a view, hide the controls that are fixed (not on the grid) rather than grey them out,
    with their label when a small panel holds just the two."""
    import panel as pn

    fixed = {id(w) for w in frozen}
    hidden = set()
    for box in layout.select(pn.layout.ListPanel):
        items = list(box.objects)
        if not any(id(o) in fixed for o in items) or len(items) > 3:
            continue
        if all(id(o) in fixed or isinstance(o, (pn.pane.HTML, pn.pane.Markdown)) for o in items):
            box.visible = False
            hidden.update(id(o) for o in items)
    for w in frozen:
        if id(w) not in hidden:
            w.visible = False


# -- recording the states ----------------------------------------------------------------------
def _leaves(node, path=()):
    """(path, leaf) of Panel's nested state dict, in insertion (= recording) order."""
    if isinstance(node, dict) and "content" in node:
        yield path, node
        return
    for k, v in node.items():
        yield from _leaves(v, path + (k,))


def _snapshot(doc, known: dict[int, Any], known_ids: set[str]) -> dict[tuple, str]:
    """Every set property of every model now in the document that the page knows from the start.

    Keys are ``(model id, attribute)``, and ``(model id, "data", column)`` for each
    column of a data source (``(model id, "data")`` then holds the column names), so
    that a state stores only the columns that change. Values are encoded as they
    would travel in a patch: models the page defines from the start as references,
    any other model inline with its attributes (a fresh serializer per property,
    so each value stands on its own).
    """
    from bokeh.core.serialization import Serializer
    from bokeh.models import ColumnarDataSource

    def encode(v):
        ser = Serializer(deferred=False)
        ser._references = dict(known)
        return json.dumps(ser.encode(v), sort_keys=True, separators=(",", ":"))

    out = {}
    for m in doc.models:
        if m.id not in known_ids:
            continue
        values = {**m._unstable_default_values, **m._property_values}
        for attr, v in values.items():
            if attr == "stylesheets":      # Panel re-creates equal sheets: compare what they hold
                out[(m.id, attr)] = json.dumps([_sheet_text(x) for x in v])
            elif attr == "data" and isinstance(m, ColumnarDataSource):
                out[(m.id, attr)] = json.dumps(sorted(v))
                for col, values_ in v.items():
                    out[(m.id, attr, col)] = encode(values_)
            else:
                out[(m.id, attr)] = encode(v)
    return out


def _fill_defaults(doc, known: dict[int, Any], snaps: list[dict]) -> None:
    """Where a model is on the page but one of its properties was never set, store the default."""
    from bokeh.core.serialization import Serializer

    keys = {k for snap in snaps for k in snap if len(k) == 2}
    cache: dict[tuple, str] = {}
    for snap in snaps:
        present = {k[0] for k in snap}
        for k in keys:
            if k in snap or k[0] not in present:
                continue
            if k not in cache:
                m = doc.get_model_by_id(k[0])
                default = type(m).lookup(k[1]).class_default(type(m))
                ser = Serializer(deferred=False)
                ser._references = dict(known)
                cache[k] = (json.dumps(sorted(default)) if k[1] == "data"
                            else json.dumps([_sheet_text(x) for x in default]) if k[1] == "stylesheets"
                            else json.dumps(ser.encode(default), sort_keys=True, separators=(",", ":")))
            snap[k] = cache[k]


def _key_value(widget, values: list, key):
    """The control's value behind the key Panel stores a state under."""
    import panel as pn
    from panel.widgets.input import _BooleanWidget

    if isinstance(widget, _BooleanWidget):
        return bool(key)
    if isinstance(widget, (pn.widgets.FloatSlider, pn.widgets.IntSlider, pn.widgets.DiscreteSlider)):
        return values[int(key)]           # the slider becomes a discrete one over ``values``
    if isinstance(widget, (pn.widgets.RadioButtonGroup, pn.widgets.RadioBoxGroup)):
        return widget.values[int(key)]    # the index of the active button
    raise TypeError(f"no stored-state key for a {type(widget).__name__}")


def _sheet_text(sheet) -> str:
    if isinstance(getattr(sheet, "url", None), str):
        return "url:" + sheet.url.split("?", 1)[0]     # Panel adds ?v=<version> on some renders
    if isinstance(getattr(sheet, "css", None), str):
        return "css:" + sheet.css
    return f"text:{sheet}"


def _events(keys: Sequence[tuple], snap: dict[tuple, str]) -> list[dict]:
    """Patch events setting ``keys`` to their values in ``snap`` (one per data source)."""
    events, columns = [], {}
    for key in keys:
        if key not in snap:
            continue                     # that model is not on the page at this grid point
        if len(key) == 3:
            columns.setdefault(key[0], []).append((key[2], json.loads(snap[key])))
        else:
            events.append({"kind": "ModelChanged", "model": {"id": key[0]}, "attr": key[1],
                           "new": json.loads(snap[key])})
    for mid, cols in columns.items():
        events.append({"kind": "ColumnDataChanged", "model": {"id": mid}, "attr": "data",
                       "data": {"type": "map", "entries": [[c, v] for c, v in cols]},
                       "cols": [c for c, _ in cols]})
    return events


STATES_NAME = "deeptricks-offline-states"

#: run when a grid control changes: for each table that depends on that control, look up the
#: values of the controls it depends on and apply the stored patch
STATES_JS = """
const vals = widgets.map((m, i) => JSON.stringify(m[props[i]]));
const changed = widgets.indexOf(cb_obj);
for (const table of tables) {
  if (changed >= 0 && !table.deps.includes(changed)) continue;
  const content = table.patches[table.deps.map((j) => vals[j]).join("|")];
  if (content != null) cb_obj.document.apply_json_patch(JSON.parse(content));
}
"""


QUERY_NAME = "deeptricks-offline-query"

#: run once the file is open: settings in its link (``view.html?p=0.7``, the live server's
#: keys) move the grid controls to the stored value named, or to the nearest number on the grid
QUERY_JS = """
const q = new URLSearchParams(window.location.search);
for (const [i, key, entries] of query) {
  const raw = q.get(key);
  if (raw == null) continue;
  const text = raw.trim().toLowerCase();
  let hit = entries.find((e) => e[0] === text);
  const x = Number(text);
  if (hit === undefined && text !== "" && Number.isFinite(x)) {
    let best = Infinity;
    for (const e of entries)
      if (e[1] !== null && Math.abs(e[1] - x) < best) { best = Math.abs(e[1] - x); hit = e; }
  }
  if (hit !== undefined && JSON.stringify(widgets[i][props[i]]) !== JSON.stringify(hit[2]))
    widgets[i][props[i]] = hit[2];
}
"""

_TRUE, _FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no")


def _query_entries(widget, values: list) -> list:
    """``[text, number or None, the control's property value]`` for each stored value of a
    grid control: what a link may say (lower case) and what the control is then set to."""
    import panel as pn
    from panel.widgets.input import _BooleanWidget

    _RADIO = (pn.widgets.RadioButtonGroup, pn.widgets.RadioBoxGroup)
    out = []
    for j, v in enumerate(values):
        if isinstance(widget, _BooleanWidget):
            out.extend([t, None, bool(v)] for t in (_TRUE if v else _FALSE))
            continue
        # the inverse of _key_value: a slider's index on the grid, a button group's active index
        key = list(widget.values).index(v) if isinstance(widget, _RADIO) else j
        number = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        out.append([str(v).lower(), number, key])
    return out


def store_states(built: BuiltPage, doc, state_model, root_ref: str) -> dict:
    """Store the page's states in tables by what they depend on; returns figures for the report.

    Panel records each grid point as the patch produced on the way from the previous
    one, in one table over the whole cross product. Such a patch is wrong when a
    learner reaches that point from elsewhere, and the cross product repeats every
    view once for every value of the controls it does not depend on. Here every grid
    point is set again and a snapshot taken of every property; each property that
    differs anywhere on the grid is filed under the controls it depends on (moving
    that control alone changes it), and a table per set of controls holds one patch
    per combination of their values. A CustomJS callback on each grid control applies
    the patches of the tables that depend on it; Panel's State model and its callbacks
    are removed. Properties of the grid's own widgets are left out (the learner sets
    them) and of the disabled widgets only ``visible`` is kept.
    """
    from bokeh.models import CustomJS

    leaves = list(_leaves(state_model.state))
    names = [w._param_name for w in built.grid_widgets]
    combos = [tuple(_key_value(w, values, k) for (w, values), k in zip(built.grid_widgets.items(), path))
              for path, _ in leaves]
    if len(set(combos)) != len(combos):
        raise RuntimeError(f"{built.spec.slug}: two stored states have the same values")

    # Panel's machinery out: its State root and the callbacks that feed it
    index = dict(state_model.widgets)
    widget_models: list = [None] * len(names)
    props: list = [None] * len(names)
    for m in list(doc.models):
        for event, callbacks in dict(m.js_property_callbacks).items():
            keep = [c for c in callbacks if "set_state(cb_obj" not in getattr(c, "code", "")]
            if len(keep) != len(callbacks):
                widget_models[index[m.id]], props[index[m.id]] = m, event.split(":", 1)[1]
                m.js_property_callbacks = {**m.js_property_callbacks, event: keep}
    doc.remove_root(state_model)
    if any(m is None for m in widget_models):
        raise RuntimeError(f"{built.spec.slug}: a grid control has no state callback")

    grid_ids = _widget_model_ids(built.grid_widgets, root_ref) | {m.id for m in widget_models}
    frozen_ids = _widget_model_ids(built.frozen, root_ref)
    models = list(doc.models)
    known = {id(m): m.ref for m in models}
    known_ids = {m.id for m in models}
    state = built.page.state
    start_values = {n: getattr(state, n) for n in names}

    # a slider on the grid is shown by Panel's discrete slider, which does not follow the
    # original widget's ``visible`` (a page may hide a control that does not apply)
    parents = {c.id: m for m in models for c in (getattr(m, "children", None) or [])
               if hasattr(c, "id") and not isinstance(c, tuple)}
    shown_by = {}
    for w, m in zip(built.grid_widgets, widget_models):
        if m.id in parents and type(parents[m.id]).__name__ == "Column" and m.id not in _widget_model_ids([w], root_ref):
            shown_by[parents[m.id].id] = w

    def snapshot():
        snap = _snapshot(doc, known, known_ids)
        for mid, w in shown_by.items():
            snap[(mid, "visible")] = json.dumps(bool(w.visible))
        return snap

    snaps = []
    for combo in combos:
        state.param.update(**dict(zip(names, combo)))
        snaps.append(snapshot())
    state.param.update(**start_values)
    final = snapshot()     # the page as the file will hold it
    _fill_defaults(doc, known, [final, *snaps])

    def wanted(key):
        mid, attr = key[:2]
        return attr == "visible" or (mid not in grid_ids and mid not in frozen_ids)

    def varies(key):
        values = [snap[key] for snap in [final, *snaps] if key in snap]
        return any(v != values[0] for v in values[1:])

    keys = sorted({k for snap in snaps for k in snap} | set(final))
    varying = [k for k in keys if wanted(k) and varies(k)]
    # properties that differ between two visits of the start values: views hidden at the start
    # (e.g. the panels of layers deeper than the start depth) keep what they last showed
    at_start = [snap for combo, snap in zip(combos, snaps) if dict(zip(names, combo)) == start_values]
    path_dependent = [k for k in varying if at_start and at_start[0].get(k) != final.get(k)]
    bad = [k for k in varying if len(k) == 2 and k[1] in ("data", "stylesheets")]
    if bad:
        raise RuntimeError(f"{built.spec.slug}: cannot store {bad[:3]}: the columns of a data source or "
                           "a stylesheet change with the controls")

    # which controls each property depends on
    paths = [path for path, _ in leaves]
    deps_of = {}
    for k in varying:
        deps = []
        for j in range(len(names)):
            seen: dict[tuple, str | None] = {}
            for path, snap in zip(paths, snaps):
                rest = path[:j] + path[j + 1:]
                if seen.setdefault(rest, snap.get(k)) != snap.get(k):
                    deps.append(j)
                    break
        deps_of[k] = tuple(deps)
    groups: dict[tuple, list] = {}
    for k in varying:
        groups.setdefault(deps_of[k], []).append(k)

    tables, stored, n_patches = [], 0, 0
    for deps, keys_ in sorted(groups.items()):
        patches = {}
        for path, snap in zip(paths, snaps):
            sub = "|".join(json.dumps(path[j]) for j in deps)
            if sub not in patches:
                patches[sub] = json.dumps({"events": _compact(_events(keys_, snap))}, separators=(",", ":"))
        tables.append({"deps": list(deps), "names": [names[j] for j in deps], "patches": patches})
        stored += sum(len(c) for c in patches.values())
        n_patches += len(patches)
    callback = CustomJS(name=STATES_NAME, code=STATES_JS,
                        args={"widgets": widget_models, "props": props, "tables": tables})
    for m, prop in zip(widget_models, props):
        m.js_on_change(prop, callback)
    url_keys = getattr(built.page, "URL_PARAMS", {}) or {}
    query = [[i, url_keys[w._param_name], _query_entries(w, values)]
             for i, (w, values) in enumerate(built.grid_widgets.items()) if w._param_name in url_keys]
    if query:
        doc.js_on_event("document_ready", CustomJS(name=QUERY_NAME, code=QUERY_JS,
                                                   args={"widgets": widget_models, "props": props, "query": query}))
    return {"states": len(leaves), "patches": n_patches, "properties": len(varying),
            "path_dependent": len(path_dependent),
            "tables": [t["names"] for t in tables], "state_bytes": stored}


_KEEP_BITS = 16   # significant bits kept of each float: relative error < 2**-16, about 1.5e-5


def _round_floats(a: np.ndarray) -> np.ndarray:
    """Round a float array to _KEEP_BITS significant bits (same dtype, so tiny and huge values survive)."""
    if a.dtype == np.float64:
        bits, total = np.uint64, 52
    elif a.dtype == np.float32:
        bits, total = np.uint32, 23
    else:
        return a
    drop = total - _KEEP_BITS
    u = a.view(bits).copy()
    half = bits(1) << bits(drop - 1)
    mask = ~((bits(1) << bits(drop)) - bits(1))
    rounded = (u + half) & mask     # to nearest; a carry into the exponent is still correct
    finite = np.isfinite(a)
    u[finite] = rounded[finite]
    return u.view(a.dtype)


def _compact(node):
    """Store the float arrays of events with fewer significant bits (compresses far better)."""
    if isinstance(node, dict):
        if node.get("type") == "ndarray" and isinstance(node.get("array"), dict) \
                and node["array"].get("type") == "bytes" and node.get("dtype") in ("float64", "float32"):
            data = base64.b64decode(node["array"]["data"])
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            a = np.frombuffer(data, dtype=node["dtype"])
            packed = gzip.compress(_round_floats(a).tobytes(), compresslevel=9, mtime=0)
            return {**node, "array": {"type": "bytes", "data": base64.b64encode(packed).decode()}}
        return {k: _compact(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_compact(v) for v in node]
    if isinstance(node, float) and math.isfinite(node) and node != 0:
        return float(f"{node:.6g}")
    return node


def _widget_model_ids(widgets, root_ref: str) -> set[str]:
    ids = set()
    for w in widgets:
        entry = w._models.get(root_ref)
        if entry:
            ids.update(m.id for m in entry[0].select({}) if hasattr(m, "id"))
    return ids
