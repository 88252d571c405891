"""Serverless embed: self-contained HTML files of the explorables (``deeptricks export``).

Each explorable page is built as the server builds it, its main controls are
restricted to a coarse grid of values, every combination of those values is
computed in Python, and the results are stored in the page. The other controls
are disabled at their start values, with a note pointing to the live version.
The files need no Python server and make no network request at all:

* Bokeh's and Panel's JavaScript is inlined (``resources=INLINE``);
* Panel still links some stylesheets from its CDN even then
  (holoviz/panel#6759): every ``ImportedStyleSheet`` is replaced by an
  ``InlineStyleSheet`` holding the file from the installed ``panel/dist``, with
  the spinner images it refers to turned into ``data:`` URIs, and the favicon
  links by an inline icon;
* :func:`external_references` lists anything a browser would still load from
  elsewhere, and :func:`export_page` refuses to write a file that has any.

Panel's embedding (``panel.io.embed.embed_state``) turns the sliders into
discrete ones over the grid and wires the controls, but it records each grid
point as the patch produced on the way from the previous one, in one table over
the whole cross product. Such a patch is wrong when a learner arrives from
another point (the pages skip views whose inputs did not change and touch some
properties only when they differ), and the cross product stores every view once
for every value of the controls it does not depend on. So the patches are made
here instead (:func:`_store_states`): a snapshot of every property at every grid
point, each property that varies filed under the controls it depends on, one
table per set of controls, and a small CustomJS callback that applies them.
Float arrays are stored with 16 significant bits (relative error below 2e-5,
far below a pixel), which compresses much better.

The lab trains a network live and cannot be precomputed; it is left out and
the index page says so.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: the size budget of one exported page: Bokeh's and Panel's inline JavaScript alone is about
#: 3 MB (0.8 MB gzipped); the stored states may add up to 2 MB, so a page stays under about
#: 1.5 MB gzipped, some 6 s on a slow 2 Mbit/s connection
PAGE_BUDGET = 5_000_000

LIVE_NOTE = ("**Offline copy.** This page was computed ahead of time for the values the controls "
             "offer now ({grid}); the greyed-out controls are fixed at the values shown. The live "
             "version, served by `deeptricks serve`, has every control and every value.")


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
    prepare: Callable[[Any, dict[str, tuple]], None] | None = None   # e.g. pre-train for each grid point

    def n_states(self, grid: dict[str, tuple] | None = None) -> int:
        return math.prod(len(v) for v in (grid or self.grid).values())


def _pretrain_residual(page, grid: dict[str, tuple]) -> None:
    """Run the residual page's training comparison for every grid point (synchronous here).

    It depends on depth, normalization, activation and block-weight scale; the page
    keeps the last 12 runs, which must cover the grid.
    """
    from itertools import product

    s = page.state
    names = [n for n in ("depth", "norm", "activation", "gain") if n in grid]
    start = {n: getattr(s, n) for n in names}
    for values in product(*[grid[n] for n in names]):
        s.param.update(**dict(zip(names, values)))
        page.run_training()
    s.param.update(**start)
    page.run_training()       # the start settings' run is then the one shown


SPECS: tuple[ExportSpec, ...] = (
    ExportSpec("dropout", "dropout", "DropoutState", "DropoutPage",
               grid={"p": tuple(round(0.1 * i, 1) for i in range(10)), "mode": ("train", "test"),
                     "scale": (True, False), "layer": (1, 5, 10)},
               grid_text="dropout rate 0 to 0.9 in steps of 0.1, training or test mode, scaling on or "
                         "off, layer 1, 5 or 10",
               start={"p": 0.5}),
    ExportSpec("batch_norm", "batch_norm", "BatchNormState", "BatchNormPage",
               grid={"depth": (3, 10, 30, 60), "activation": ("relu", "sigmoid"), "bn": (True, False),
                     "batch": (1, 2, 16, 64), "mode": ("train", "eval")},
               grid_text="depth 3, 10, 30 or 60, ReLU or sigmoid, BatchNorm on or off, batch size 1, 2, "
                         "16 or 64, training or eval mode (with no warm-up)",
               start={"depth": 10, "batch": 16}),
    ExportSpec("layer_norm", "layer_norm", "LayerNormState", "LayerNormPage",
               grid={"method": ("layer", "batch"), "example": tuple(range(1, 9)), "batch": (1, 2, 8, 64),
                     "depth": (3, 10, 30)},
               grid_text="batch norm or layer norm, any example of the table (its feature fixed), batch "
                         "size 1, 2, 8 or 64, depth 3, 10 or 30",
               start={"batch": 8, "depth": 10}),
    ExportSpec("residual", "residual", "ResidualState", "ResidualPage",
               grid={"depth": (5, 10, 20, 50, 100), "residual": (True, False),
                     "activation": ("sigmoid", "tanh", "relu")},
               grid_text="depth 5, 10, 20, 50 or 100 blocks, plain or residual, sigmoid, tanh or relu; "
                         "the training comparison was run ahead for each depth",
               start={"depth": 50}, prepare=_pretrain_residual),
)

_FROZEN_CSS = ":host { opacity: 0.5; }"

LEFT_OUT = {"lab": "it trains a network live in the browser session, which needs the Python server"}


def spec_for(slug: str) -> ExportSpec:
    for s in SPECS:
        if s.slug == slug:
            return s
    raise KeyError(slug)


# -- building a restricted page ----------------------------------------------------------------
@dataclass
class BuiltPage:
    spec: ExportSpec
    page: Any                 # the <Name>Page object
    layout: Any               # its Panel layout
    grid: dict[str, tuple]
    grid_widgets: dict[Any, list]   # Panel widget -> values to store
    frozen: list              # widgets disabled in the export


def build(spec: ExportSpec, grid: dict[str, tuple] | None = None, *, prepare: bool = True) -> BuiltPage:
    """Build the page of ``spec`` with only ``grid``'s controls live (the others disabled)."""
    import importlib

    import panel as pn

    grid = dict(grid or spec.grid)
    mod = importlib.import_module(f"deeptricks.explorables.{spec.module}")
    state = getattr(mod, spec.state_class)(**spec.start)
    for name, values in grid.items():
        if getattr(state, name) not in values:
            setattr(state, name, values[0])
    page = getattr(mod, spec.page_class)(state)
    if prepare and spec.prepare is not None:
        spec.prepare(page, grid)
    layout = page.layout()

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

    note = pn.pane.Markdown(LIVE_NOTE.format(grid=spec.grid_text), name=f"{spec.slug}-offline-note",
                            sizing_mode="stretch_width", disable_math=True, margin=(4, 8),
                            styles={"font-size": "13px", "color": "#3d444d"})
    controls = [o for o in layout.select(pn.Column) if (o.name or "").endswith("-controls")]
    (controls[0] if controls else layout).insert(0, note)
    for footer in layout.select(pn.pane.HTML):   # "All explorables" leads to the exported index
        if (footer.name or "").endswith("-footer"):
            footer.object = footer.object.replace('href="./"', 'href="index.html"')
    return BuiltPage(spec, page, layout, grid, grid_widgets, frozen)


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


def _store_states(built: BuiltPage, doc, state_model, root_ref: str) -> dict:
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


# -- stylesheets, icons -----------------------------------------------------------------------
def _dist_file(url: str) -> Path | None:
    """The installed file behind one of Panel's CDN URLs (None if it is not Panel's)."""
    from panel.io.resources import CDN_DIST, DIST_DIR
    path = url.split("?", 1)[0]
    if not path.startswith(CDN_DIST):
        return None
    f = DIST_DIR / path[len(CDN_DIST):]
    return f if f.is_file() else None


def _data_uri(path: Path) -> str:
    mime = {".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
            ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}.get(path.suffix, "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


def inline_css(css: str, base: Path) -> str:
    """``url(...)`` references to local files in ``css`` (relative to ``base``) as data: URIs."""
    def repl(m):
        ref = m.group(2).strip()
        if ref.startswith(("data:", "#")) or re.match(r"^[a-z]+:", ref) or ref.startswith("//"):
            return m.group(0)
        f = (base / ref.split("?", 1)[0].split("#", 1)[0]).resolve()
        if not f.is_file():
            raise FileNotFoundError(f"stylesheet refers to {ref}, not found at {f}")
        return f'url("{_data_uri(f)}")'
    return _CSS_URL.sub(repl, css)


def inline_stylesheets(doc) -> int:
    """Replace each ImportedStyleSheet from Panel's CDN by an InlineStyleSheet with the file's CSS."""
    from bokeh.models import ImportedStyleSheet, InlineStyleSheet

    cache: dict[str, InlineStyleSheet] = {}
    replaced = 0
    for m in list(doc.models):
        sheets = getattr(m, "stylesheets", None) if "stylesheets" in m.properties() else None
        if not sheets:
            continue
        new, changed = [], False
        for s in sheets:
            if isinstance(s, ImportedStyleSheet):
                f = _dist_file(s.url)
                if f is None:
                    raise ValueError(f"stylesheet {s.url} is not one of Panel's installed files")
                if s.url not in cache:
                    cache[s.url] = InlineStyleSheet(css=inline_css(f.read_text(encoding="utf-8"), f.parent))
                new.append(cache[s.url])
                changed = True
            else:
                new.append(s)
        if changed:
            m.stylesheets = new
            replaced += 1
    return replaced


def _favicon() -> str:
    from panel.io.resources import DIST_DIR
    return _data_uri(DIST_DIR / "images" / "favicon.ico")


_ICON_LINK = re.compile(r"<link[^>]*rel=\"(?:apple-touch-icon|icon|shortcut icon)\"[^>]*>", re.I)


def _fix_head(page_html: str) -> str:
    page_html = _ICON_LINK.sub("", page_html)
    icon = f'<link rel="icon" href="{_favicon()}">'
    return page_html.replace("<head>", "<head>\n" + icon, 1)


# -- checking for external references ---------------------------------------------------------
_ATTR_REF = re.compile(r"""<(script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?\b(src|href|data)\s*=\s*(['"]?)([^'"\s>]+)""", re.I)


def external_references(page_html: str) -> list[str]:
    """What a browser would load from outside this file when it opens it.

    Looks at the HTML's tags outside scripts (script/link/img ... src or href), at
    every stylesheet (``@import`` and ``url(...)``, in <style> tags and in the Bokeh
    document's inline stylesheets, stored states included) and at any
    ImportedStyleSheet left in the document. Text inside scripts (URLs in comments,
    code paths never taken) is not counted: the browser test checks that nothing is
    requested.
    """
    found = []
    outside = _SCRIPT_BODY.sub(r"\1\2", page_html)
    for m in _ATTR_REF.finditer(outside):
        tag, attr, ref = m.group(1).lower(), m.group(2).lower(), m.group(4)
        if not ref.startswith(("data:", "#", "javascript:")):
            found.append(f"<{tag} {attr}={ref}>")
    sheets = re.findall(r"<style[^>]*>(.*?)</style>", outside, re.S | re.I)
    docs = [json.loads(d) for d in _DOC_JSON.findall(page_html)]
    imported: list[str] = []
    for d in docs:
        _walk_doc(d, sheets, imported)
    for css in sheets:
        found.extend(re.findall(r"@import\s+[^;]+;", css))
        found.extend(f"url({ref})" for _, ref in _CSS_URL.findall(css)
                     if not ref.strip().startswith(("data:", "#")))
    found.extend(f"ImportedStyleSheet({u})" for u in imported)
    return found


_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>).*?(</script>)", re.S | re.I)
_DOC_JSON = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)


def _walk_doc(node, sheets: list[str], imported: list[str]) -> None:
    """Collect inline CSS and imported stylesheet URLs of a document (and its stored patches)."""
    if isinstance(node, dict):
        name = node.get("name")
        attrs = node.get("attributes") if isinstance(node.get("attributes"), dict) else {}
        if name == "InlineStyleSheet" and isinstance(attrs.get("css"), str):
            sheets.append(attrs["css"])
        elif name == "ImportedStyleSheet":
            imported.append(str(attrs.get("url")))
        for k, v in node.items():
            if k == "content" and isinstance(v, str) and v.startswith("{"):
                _walk_doc(json.loads(v), sheets, imported)
            else:
                _walk_doc(v, sheets, imported)
    elif isinstance(node, list):
        for v in node:
            _walk_doc(v, sheets, imported)


def stored_tables(page_html: str) -> list[dict]:
    """The tables of stored states in an exported page (for tests and reports).

    Each is ``{"names": [control, ...], "patches": {key: [event, ...]}}``; a key joins the
    JSON of each control's stored value (a slider's index into its values, a button
    group's index, a switch's true/false) with ``|``.
    """
    out = []
    for doc_json in _DOC_JSON.findall(page_html):
        for doc in json.loads(doc_json).values():
            for cb in _objects(doc, "CustomJS"):
                attrs = cb.get("attributes", {})
                if attrs.get("name") != STATES_NAME:
                    continue
                for table in _unmap(attrs["args"])["tables"]:
                    out.append({"names": table["names"],
                                "patches": {k: json.loads(v)["events"] for k, v in table["patches"].items()}})
                return out
    return out


def model_ids(page_html: str, name: str) -> list[str]:
    """Ids of the Bokeh models called ``name`` in an exported page."""
    ids = []
    for doc_json in _DOC_JSON.findall(page_html):
        for doc in json.loads(doc_json).values():
            ids += [o["id"] for o in _objects(doc) if o.get("attributes", {}).get("name") == name]
    return ids


def decode_array(node: dict) -> np.ndarray:
    """A serialized ndarray (``{"type": "ndarray", ...}``) as numpy."""
    data = base64.b64decode(node["array"]["data"])
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return np.frombuffer(data, dtype=node["dtype"]).reshape(node["shape"])


def _objects(node, name: str | None = None) -> list[dict]:
    out = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node and (name is None or node.get("name") == name):
            out.append(node)
        for v in node.values():
            out += _objects(v, name)
    elif isinstance(node, list):
        for v in node:
            out += _objects(v, name)
    return out


def _unmap(node):
    """Bokeh's serialized {"type": "map", "entries": [...]} back into dicts."""
    if isinstance(node, dict) and node.get("type") == "map" and "entries" in node:
        return {k: _unmap(v) for k, v in node["entries"]}
    if isinstance(node, dict):
        return {k: _unmap(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unmap(v) for v in node]
    return node


# -- one page, the index, the command ---------------------------------------------------------
@contextmanager
def _muted(page):
    """Skip the page's coalesced updates (``deeptricks.explorables.base.Coalesced``) for a while."""
    from deeptricks.explorables.base import Coalesced

    updates = [v for v in vars(page).values() if isinstance(v, Coalesced)]
    saved = [u.fn for u in updates]
    for u in updates:
        u.fn = lambda *args: None
    try:
        yield
    finally:
        for u, fn in zip(updates, saved):
            u.fn = fn
            u.changed = set()


def render(built: BuiltPage, title: str, *, progress: bool = False) -> tuple[str, dict]:
    """The exported page's HTML and a few figures (states, properties stored)."""
    import panel as pn
    from bokeh.document import Document
    from bokeh.resources import INLINE
    from panel.config import config
    from panel.io.embed import embed_state
    from panel.io.resources import set_resource_mode
    from panel.io.save import file_html
    from panel.io.resources import Resources
    from pyviz_comms import Comm

    doc_now = pn.state.curdoc
    if doc_now is not None and doc_now.session_context is not None:
        # inside a server session the pages' Coalesced updates wait for the next tick, and every
        # snapshot below would be taken before the page had caught up
        raise RuntimeError("export the pages outside a server session (e.g. `deeptricks export`)")
    n = math.prod(len(v) for v in built.grid_widgets.values())
    doc = Document()
    doc.title = title
    with config.set(embed=True), set_resource_mode("inline"):
        model = built.layout.get_root(doc, Comm())
        # Panel's pass sets up the discrete sliders, the callbacks and the keys of the states;
        # the patches it records are replaced below, so the page need not compute them here
        with _muted(built.page):
            state_model = embed_state(built.layout, model, doc, max_states=max(n, 2) ** 2,
                                      progress=progress, states=built.grid_widgets)
    if state_model is None:
        raise RuntimeError(f"{built.spec.slug}: Panel recorded no states")
    figures = _store_states(built, doc, state_model, model.ref["id"])
    figures["stylesheets_inlined"] = inline_stylesheets(doc)
    with set_resource_mode("inline"):
        page_html = file_html(doc, Resources.from_bokeh(INLINE), title)
    return _fix_head(page_html), figures


def export_page(spec: ExportSpec, out_dir: str | os.PathLike, grid: dict[str, tuple] | None = None, *,
                prepare: bool = True, progress: bool = False) -> tuple[Path, dict]:
    """Write ``<out_dir>/<slug>.html``; returns its path and figures (size, states, ...)."""
    from deeptricks.explorables.registry import by_slug

    title = f"{by_slug(spec.slug).title} · deeptricks (offline)"
    built = build(spec, grid, prepare=prepare)
    page_html, figures = render(built, title, progress=progress)
    bad = external_references(page_html)
    if bad:
        raise RuntimeError(f"{spec.slug}: the page would still load {sorted(set(bad))[:5]}")
    path = Path(out_dir) / f"{spec.slug}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page_html, encoding="utf-8")
    data = page_html.encode("utf-8")
    figures.update(bytes=len(data), gzip_bytes=len(gzip.compress(data, compresslevel=6)))
    return path, figures


def index_html(pages: Sequence[str]) -> str:
    """A plain HTML index linking the exported pages (no script, no external request)."""
    from deeptricks.explorables.registry import EXPLORABLES

    items = []
    for e in EXPLORABLES:
        if e.slug not in pages:
            continue
        items.append(f'<li><a href="{e.slug}.html">{html.escape(e.title)}</a>'
                     f'<span>{html.escape(e.summary)}</span></li>')
    left_out = "".join(
        f"<li><b>{html.escape(next((e.title for e in EXPLORABLES if e.slug == slug), slug))}</b>: "
        f"not included, because {html.escape(why)}.</li>" for slug, why in LEFT_OUT.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deeptricks · offline explorables</title>
<link rel="icon" href="{_favicon()}">
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 760px; margin: 24px auto; padding: 0 16px; line-height: 1.55; }}
h1 {{ font-size: 26px; margin-bottom: 4px; }}
ul.pages {{ list-style: none; padding: 0; }}
ul.pages li {{ margin: 10px 0; padding: 10px 12px; background: #f6f8fa; border-radius: 8px; }}
ul.pages a {{ font-weight: 600; font-size: 17px; display: block; }}
p.note, ul.left {{ color: #3d444d; font-size: 14px; }}
</style>
</head>
<body>
<h1>deeptricks: the tricks that made deep networks trainable</h1>
<p>Offline copies of the explorables. Each page works without a server and without a network
connection: its controls offer a coarse set of values, computed ahead of time.</p>
<ul class="pages">
{chr(10).join(items)}
</ul>
<ul class="left">{left_out}</ul>
<p class="note">The live version (<code>deeptricks serve</code>) offers every control and every value.</p>
</body>
</html>
"""


def export(out_dir: str | os.PathLike, only: Sequence[str] | None = None, *,
           log: Callable[[str], None] | None = print) -> list[tuple[Path, dict]]:
    """Export the explorables (all, or those named in ``only``) and the index into ``out_dir``."""
    names = [s.slug for s in SPECS]
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"cannot export {', '.join(unknown)}; choose from {', '.join(names)}"
                             + "".join(f" ({k} is left out: {v})" for k, v in LEFT_OUT.items() if k in unknown))
        names = [n for n in names if n in only]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path, figures = export_page(spec_for(name), out)
        written.append((path, figures))
        if log:
            log(_line(path, figures))
    exported = sorted({p.stem for p in out.glob("*.html") if p.stem in {s.slug for s in SPECS}} | set(names))
    index = out / "index.html"
    index.write_text(index_html(exported), encoding="utf-8")
    data = index.read_bytes()
    written.append((index, {"bytes": len(data), "gzip_bytes": len(gzip.compress(data))}))
    if log:
        log(_line(index, written[-1][1]))
    return written


def _line(path: Path, f: dict) -> str:
    extra = f", {f['states']} states" if "states" in f else ""
    over = "  OVER BUDGET" if f["bytes"] > PAGE_BUDGET else ""
    return (f"wrote {path}  {f['bytes'] / 1e6:.2f} MB ({f['gzip_bytes'] / 1e6:.2f} MB gzipped){extra}{over}")
