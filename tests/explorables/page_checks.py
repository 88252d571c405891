"""Checks shared by the fuzz and edge tests: build a page bound to a fake address bar, walk its
Bokeh model tree, and check every data source, range, figure and visible label.

The checks look only at the rendered Bokeh models (not at a page's Python attributes), so
they hold whatever components a page is built from.
"""

from __future__ import annotations

import html
import importlib
import math
import numbers
import re
from dataclasses import dataclass

import numpy as np
import param
import pytest
from bokeh.models import ColumnDataSource, GlyphRenderer, Label, Plot, Range1d, Text, Title

from deeptricks.explorables import sections
from deeptricks.ui import urlsync

PAGES = {
    # name: (state class, page class)
    "dropout": ("DropoutState", "DropoutPage"),
    "batch_norm": ("BatchNormState", "BatchNormPage"),
    "layer_norm": ("LayerNormState", "LayerNormPage"),
    "residual": ("ResidualState", "ResidualPage"),
    "lab": ("LabState", "LabPage"),
}


class FakeLocation(param.Parameterized):
    """Stands in for ``pn.state.location``: only ``search`` is read and written."""

    search = param.String(default="")


@dataclass
class Built:
    name: str
    module: object
    page: object
    state: param.Parameterized
    layout: object
    root: object
    sync: urlsync.URLSync
    location: FakeLocation
    sources: list


def build(name: str, search: str = "", **state_kw) -> Built:
    """Build page ``name`` with its URL binding on a fake location holding ``search``."""
    module = importlib.import_module(f"deeptricks.explorables.{name}")
    state_cls, page_cls = (getattr(module, n) for n in PAGES[name])
    loc = FakeLocation(search=search)
    state = state_cls(**state_kw)
    page = page_cls(state)
    made = []

    def bind(state, params=None, **kw):  # the page binds pn.state.location: give it ours
        made.append(urlsync.url_sync(state, params, **{**kw, "location": loc}))
        return made[-1]

    with pytest.MonkeyPatch.context() as mp:
        for where in (module, sections):        # a page binds itself, or through its sections
            if hasattr(where, "url_sync"):
                mp.setattr(where, "url_sync", bind)
        layout = page.layout()
    assert len(made) == 1 and made[0].location is loc, "the page has no URL binding"
    sync = made[0]
    root = layout.get_root()
    sources = list(root.select({"type": ColumnDataSource}))
    return Built(name, module, page, state, layout, root, sync, loc, sources)


# -- the Bokeh model tree ----------------------------------------------------------

def _children(model):
    for attr in ("children", "tabs"):
        kids = getattr(model, attr, None)
        if isinstance(kids, dict):          # Panel's ReactiveHTML layouts (FlexBox): {slot: [models]}
            kids = [k for v in kids.values() for k in (v if isinstance(v, (list, tuple)) else [v])]
        if isinstance(kids, (list, tuple)):
            for k in kids:
                yield k[0] if isinstance(k, tuple) else k
    child = getattr(model, "child", None)
    if child is not None:
        yield child


def visible_models(root):
    """Every model of the layout tree that is shown: it and all its ancestors are visible."""
    stack = [root]
    while stack:
        m = stack.pop()
        if not getattr(m, "visible", True):
            continue
        yield m
        stack.extend(_children(m))


def visible_figures(root) -> list[Plot]:
    return [m for m in visible_models(root) if isinstance(m, Plot)]


def figure_texts(fig: Plot) -> list[str]:
    """The title, Title and Label annotations, and the strings drawn by text glyphs (row labels
    and notes of the histogram grids) of a figure."""
    texts = [fig.title.text] if isinstance(fig.title, Title) and fig.title.text else []
    for side in ("above", "below", "left", "right", "center"):
        for item in getattr(fig, side):
            if isinstance(item, (Title, Label)) and item.visible and item.text:
                texts.append(item.text)
    for r in fig.renderers:
        if isinstance(r, GlyphRenderer) and r.visible and isinstance(r.glyph, Text):
            spec = r.glyph.text
            field = spec.get("field") if isinstance(spec, dict) else getattr(spec, "field", None)
            if field is None and isinstance(spec, str):
                field = spec if spec in r.data_source.data else None
            if field is not None:
                texts.extend(str(t) for t in r.data_source.data.get(field, []) if t)
            elif isinstance(spec, dict) and spec.get("value"):
                texts.append(str(spec["value"]))
    return texts


def visible_text(root) -> str:
    """All text a reader sees: markup panes, alerts, figure titles and notes (HTML unescaped)."""
    parts = []
    for m in visible_models(root):
        text = getattr(m, "text", None)
        if isinstance(text, str) and text:
            parts.append(re.sub(r"<[^>]+>", " ", html.unescape(text)))
        if isinstance(m, Plot):
            parts.extend(figure_texts(m))
    return "\n".join(parts)


def figure_sources(fig: Plot) -> list[ColumnDataSource]:
    return [r.data_source for r in fig.renderers if isinstance(getattr(r, "data_source", None), ColumnDataSource)]


def source_len(src: ColumnDataSource) -> int:
    return max((len(v) for v in src.data.values()), default=0)


def unlabelled_empty_figures(root) -> list[str]:
    """Empty visible figures that say nothing about why (no title note beyond the plain title)."""
    out = []
    for fig in visible_figures(root):
        srcs = figure_sources(fig)
        if srcs and any(source_len(s) for s in srcs):
            continue
        notes = [t for t in figure_texts(fig) if t != fig.title.text]
        if not notes:  # a figure's own title is its name, not a note about what happened
            out.append(fig.name or fig.title.text)
    return out


# -- values -------------------------------------------------------------------------

def _nonfinite(col) -> bool:
    arr = np.asarray(col) if not isinstance(col, (list, tuple)) or not col or not isinstance(
        col[0], (np.ndarray, list, tuple)) else None
    if arr is not None and arr.dtype.kind in "fiub":
        return not np.isfinite(arr.astype(float)).all()
    for v in (col if arr is None or arr.dtype == object else []):
        if isinstance(v, (np.ndarray, list, tuple)):
            if _nonfinite(v):
                return True
        elif isinstance(v, numbers.Number) and not isinstance(v, bool) and not math.isfinite(v):
            return True
    return False


def bad_sources(sources) -> list[str]:
    """Sources with a NaN/inf in a numeric column, or columns of unequal length."""
    bad = []
    for src in sources:
        lengths = {k: len(v) for k, v in src.data.items()}
        if len(set(lengths.values())) > 1:
            bad.append(f"{src.name}: column lengths {lengths}")
        for key, col in src.data.items():
            if _nonfinite(col):
                bad.append(f"{src.name}.{key}: NaN or inf")
    return bad


def bad_ranges(root) -> list[str]:
    """Visible figures whose fixed ranges are non-finite, empty or (on a log axis) not positive."""
    bad = []
    for fig in visible_figures(root):
        for axis, rng in (("x", fig.x_range), ("y", fig.y_range)):
            if not isinstance(rng, Range1d):
                continue
            lo, hi = rng.start, rng.end
            ok = all(isinstance(v, numbers.Number) and math.isfinite(v) for v in (lo, hi)) and lo != hi
            scale = fig.x_scale if axis == "x" else fig.y_scale
            if ok and type(scale).__name__ == "LogScale":
                ok = min(lo, hi) > 0
            if not ok:
                bad.append(f"{fig.name}: {axis} range [{lo}, {hi}]")
    return bad


def assert_page_valid(b: Built) -> None:
    """No NaN/inf in any data source, sane ranges on every visible figure."""
    problems = bad_sources(b.sources) + bad_ranges(b.root)
    assert not problems, problems


def check_param_value(p: param.Parameter, v) -> None:
    """``v`` is a value ``p`` accepts, of the exact kind the controls use."""
    if isinstance(p, param.Boolean):
        assert isinstance(v, bool), (p.name, v)
    elif isinstance(p, param.Number):
        assert isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v), (p.name, v)
        if isinstance(p, param.Integer):
            assert isinstance(v, numbers.Integral), (p.name, v)
        lo, hi = p.bounds or (None, None)
        assert (lo is None or v >= lo) and (hi is None or v <= hi), (p.name, v, p.bounds)
    elif isinstance(p, param.Selector):
        assert v in p.objects, (p.name, v)
    p._validate(v)


def state_values(state, names) -> dict:
    return {n: getattr(state, n) for n in names}


def source_snapshot(sources) -> list:
    """A comparable copy of every source's data."""
    snap = []
    for s in sources:
        cols = {}
        for k, v in s.data.items():
            try:
                cols[k] = np.asarray(v).tobytes() if np.asarray(v).dtype != object else repr(list(v))
            except Exception:
                cols[k] = repr(v)
        snap.append(cols)
    return snap


def alert_says(sync: urlsync.URLSync, key: str) -> bool:
    """The URL alert is visible and names ``key`` (as the alert's Markdown escapes it)."""
    return bool(sync.alert.visible) and urlsync._md_escape(key) in sync.alert.object


def reset(b: Built) -> None:
    """Back to the defaults of every synced control, through the address bar."""
    b.location.search = ""
    defaults = {k: b.state.param[k].default for k in b.sync.mapping}
    b.state.param.update(**defaults)
