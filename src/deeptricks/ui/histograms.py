"""Per-layer histograms, one row per layer, all drawn on one canvas.

The rows share one figure (a "ridgeline" of small histograms): a page with ten
layers repaints one canvas instead of ten, and in the shared x modes every row
sits on the same axis, so drift from layer to layer reads straight down the
page. Each row has a one-line label above its bars (the layer and a few
numbers) and its own height scale, like a small panel of its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import panel as pn
import param
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, CustomJSTickFormatter, FixedTicker, HoverTool, Range1d
from bokeh.plotting import figure
from panel.io import hold
from panel.viewable import Viewer

from . import theme
from .sanitize import LIMIT, as_float_array, describe, fast_histogram, symlog, widen
from .sources import set_data

BAR_HEIGHT = 0.68
"""Bars fill this share of a row's height; the label line sits above them."""
AXIS_PX = 44        # room for the x axis and its label below the rows
TOP_PX = 4
PLAN_CACHE_SIZE = 128     # laid-out grids remembered per process, by the key a page gives (see update)
_PLANS: OrderedDict = OrderedDict()

_BAR_COLUMNS = ("left", "right", "bottom", "top", "count", "share", "lo", "hi", "layer")
_TEXT_COLUMNS = ("x", "y", "text", "color", "align")


def _empty(columns) -> dict:
    return {c: [] for c in columns}


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return out or "series"


class HistogramGrid(Viewer):
    """Histograms of several layers, one row per layer, 1 or more overlaid series.

    At most ``n_panels`` rows are drawn; with more layers than that an evenly
    spaced subset (always the first and last layer) is shown, or the layers
    listed in ``layers``, and the caption says which. Every row is scaled to
    its own tallest bar. All rows live in one Bokeh figure with one data source
    per series (column ``layer`` tells the rows apart) and one for the labels.
    """

    x_mode = param.Selector(default="shared", objects=["shared", "per_layer", "symlog"], doc="""
        'shared': every row uses one linear x axis, so drift between layers is visible.
        'per_layer': each row is fitted to its own data, so shapes stay readable; the
        row's label gives its range.
        'symlog': one shared signed-log axis, sign(x)*log10(1+|x|), which shows both
        shape and drift over many orders of magnitude. In this mode edges given
        to ``update`` must already be in symlog units (``update_from_values``
        transforms for you).""")

    layers = param.List(default=None, allow_None=True, doc="""
        Layer indices (0-based) to show; None picks an evenly spaced subset.""")

    normalize = param.Boolean(default=True, doc="""
        Plot the share of values per bin rather than raw counts, so series of
        different sizes compare.""")

    def __init__(
        self,
        series: Sequence[str] = ("train",),
        *,
        n_panels: int = 12,
        name: str = "hist",
        x_label: str = "value",
        row_height: int = 52,
        colors: Sequence[str] | None = None,
        **params,
    ):
        super().__init__(name=name, **params)
        if isinstance(series, str):
            series = (series,)
        self.series = tuple(series)
        if not self.series:
            raise ValueError("HistogramGrid needs at least one series")
        self.colors = list(colors) if colors else theme.series_colors(self.series)
        self.n_panels = max(int(n_panels), 1)
        self.x_label = x_label
        self.row_height = max(int(row_height), 24)
        self.flags: list[str] = []
        self.shown_layers: list[int] = []
        self.row_text: dict[int, tuple[str, str]] = {}   # layer -> (label, note) as drawn
        self.figure = figure(
            name=f"{name}-figure", height=self._height(1), min_width=160, sizing_mode="stretch_width",
            x_range=Range1d(-1, 1), y_range=Range1d(0, 1), tools="", title="",
        )
        alpha = 0.75 if len(self.series) == 1 else 0.45
        self.sources: dict[str, ColumnDataSource] = {}
        for j, s in enumerate(self.series):
            src = ColumnDataSource(data=_empty(_BAR_COLUMNS), name=f"{name}-{_slug(s)}-source")
            r = self.figure.quad(left="left", right="right", bottom="bottom", top="top", source=src,
                                 fill_color=self.colors[j], fill_alpha=alpha, line_color=None,
                                 name=f"{name}-{_slug(s)}")
            # numbers, not preformatted strings: every update stays a few binary arrays
            self.figure.add_tools(HoverTool(renderers=[r], tooltips=[
                ("", escape(s)), ("layer", "@layer"), ("bin", "@lo{%.3g} to @hi{%.3g}"),
                ("count", "@count"), ("share", "@share{0.0%}"),
            ], formatters={"@lo": "printf", "@hi": "printf"}))
            self.sources[s] = src
        self.baseline_source = ColumnDataSource({"x0": [], "x1": [], "y": []}, name=f"{name}-baselines")
        self.figure.segment("x0", "y", "x1", "y", source=self.baseline_source, line_color=theme.AXIS,
                            line_width=1, name=f"{name}-baseline-lines")
        self.label_source = ColumnDataSource(self._pad_labels({c: [] for c in _TEXT_COLUMNS}, 0.0),
                                             name=f"{name}-labels")
        self.figure.text("x", "y", text="text", source=self.label_source, text_color="color",
                         text_align="align", text_baseline="top", text_font=value(theme.FONT),
                         text_font_size=value(theme.TICK_SIZE), name=f"{name}-label-text")
        self.figure.yaxis.visible = False
        self.figure.ygrid.visible = False
        self.figure.xaxis.axis_label = x_label
        self.figure.xaxis.ticker.desired_num_ticks = 6
        self._sym_ticker = FixedTicker(ticks=[0], minor_ticks=[], name=f"{name}-symlog-ticker")
        self._sym_formatter = CustomJSTickFormatter(code=_SYMLOG_TICK_JS)
        self._lin_axis = (self.figure.xaxis[0].ticker, self.figure.xaxis[0].formatter)
        theme.style_figure(self.figure)
        self.figure.min_border_top = TOP_PX
        self.pane = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", margin=(0, 0))
        self._caption = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5),
                                     stylesheets=[theme.stylesheet()])
        self._layout = pn.Column(self._caption, self.pane, sizing_mode="stretch_width",
                                 name=f"{name}-layout")
        self._last = None
        self._render_caption(0)

    def __panel__(self):
        return self._layout

    def _height(self, n_rows: int) -> int:
        return TOP_PX + max(n_rows, 1) * self.row_height + AXIS_PX

    # -- layer choice -----------------------------------------------------------
    def select_layers(self, n_layers: int) -> list[int]:
        """The layer indices that will be shown for a network of ``n_layers`` layers."""
        n_layers = max(int(n_layers), 0)
        if self.layers:
            chosen = [int(i) for i in dict.fromkeys(self.layers) if 0 <= int(i) < n_layers]
            return chosen[: self.n_panels]
        if n_layers <= self.n_panels:
            return list(range(n_layers))
        return np.unique(np.round(np.linspace(0, n_layers - 1, self.n_panels)).astype(int)).tolist()

    def row(self, layer: int, series: str | None = None) -> dict:
        """The bars drawn for ``layer`` (0-based) of ``series`` (default: the first), column by column."""
        d = self.sources[series or self.series[0]].data
        keep = np.asarray(d["layer"]) == layer + 1
        return {k: np.asarray(v)[keep] for k, v in d.items()}

    # -- updates ----------------------------------------------------------------
    def update_from_values(
        self,
        values: Mapping[str, Sequence] | Sequence,
        *,
        bins: int = 40,
        notes: Sequence[str | None] | str | None = "auto",
        alerts: Sequence[bool] | None = None,
        layer_labels: Sequence[str] | None = None,
        stat_series: str | None = None,
        remember: bool = True,
    ) -> None:
        """Histogram raw per-layer values and show them.

        ``values`` maps series name to a list of arrays, one per layer. Only the
        shown layers are histogrammed; series share bins within a layer. With
        ``notes="auto"`` each row is annotated from ``stat_series`` (default:
        the first series) by :func:`deeptricks.ui.sanitize.describe`.

        The grid keeps ``values`` so that it can bin them again when ``x_mode``,
        ``normalize`` or ``layers`` change. With ``remember=False`` it keeps
        nothing (a page whose grid has none of those controls, and whose values
        are large), and a change of those settings waits for the next update.
        """
        values = self._as_mapping(values)
        n_layers = max((len(v) for v in values.values()), default=0)
        shown = self.select_layers(n_layers)
        hists: dict[str, list] = {s: [None] * n_layers for s in values}
        auto_notes: list[str | None] = [None] * n_layers
        auto_alerts: list[bool] = [False] * n_layers
        stat = stat_series if stat_series in values else (list(values)[0] if values else None)
        log = self.x_mode == "symlog"
        raw = {s: {i: as_float_array(values[s][i]) for i in shown if i < len(values[s])} for s in values}
        binned = {s: {i: (symlog(a) if log else a) for i, a in d.items()} for s, d in raw.items()}
        shared = None
        if self.x_mode != "per_layer":
            shared = self._joint_range([a for d in binned.values() for a in d.values()])
        for i in shown:
            arrays = {s: binned[s][i] for s in values if i in binned[s]}
            lo, hi = shared if shared else self._joint_range(list(arrays.values()))
            for s, a in arrays.items():
                h = fast_histogram(a, bins, lo, hi)
                hists[s][i] = (h.counts, h.edges)
            if stat in arrays:
                auto_notes[i], auto_alerts[i] = describe(raw[stat][i])
        call = ("values", (values,), dict(bins=bins, notes=notes, alerts=alerts,
                                         layer_labels=layer_labels, stat_series=stat_series))
        if isinstance(notes, str) and notes == "auto":
            notes, alerts = auto_notes, (alerts if alerts is not None else auto_alerts)
        self.update(hists, notes=notes, alerts=alerts, layer_labels=layer_labels)
        self._last = call if remember else None

    @staticmethod
    def _joint_range(arrays) -> tuple[float, float]:
        lo, hi = np.inf, -np.inf
        for a in arrays:
            a = as_float_array(a)
            a = a[np.isfinite(a)]
            if a.size:
                lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
        if not np.isfinite(lo):
            return -1.0, 1.0
        return widen(lo, hi)

    def _as_mapping(self, hists) -> dict:
        if isinstance(hists, Mapping):
            return {str(k): list(v) for k, v in hists.items()}
        return {self.series[0]: list(hists)}

    def update(
        self,
        hists: Mapping[str, Sequence] | Sequence,
        *,
        notes: Sequence[str | None] | None = None,
        alerts: Sequence[bool] | None = None,
        layer_labels: Sequence[str] | None = None,
        key=None,
    ) -> None:
        """Show precomputed histograms.

        ``hists`` maps series name to a per-layer list whose entries are
        ``(counts, edges)`` pairs, objects with ``.counts``/``.edges``, or None.
        A plain list is taken as the first series. ``notes``/``alerts``/
        ``layer_labels`` are per layer (all layers, not only the shown ones);
        an alert note is drawn in the warning colour.

        ``key``, when given, must determine ``hists``, ``notes``, ``alerts``
        and ``layer_labels`` (a page passes the setting its cached view was
        computed for). The columns drawn for it are then remembered, for every
        grid of this name in the process: the sessions of a class asking for
        the same setting lay the bars out once.
        """
        with hold():
            self._update(hists, notes, alerts, layer_labels, key)

    def _update(self, hists, notes, alerts, layer_labels, key=None) -> None:
        hists = self._as_mapping(hists)
        self._last = ("hists", (hists,), dict(notes=notes, alerts=alerts, layer_labels=layer_labels, key=key))
        if key is None:
            self._apply(self._plan(hists, notes, alerts, layer_labels))
            return
        plan_key = (key, self.name, self.series, self.n_panels, self.row_height, self.x_mode,
                    self.normalize, tuple(self.layers or ()))
        plan = _PLANS.get(plan_key)
        if plan is None:
            plan = _PLANS[plan_key] = self._plan(hists, notes, alerts, layer_labels)
            if len(_PLANS) > PLAN_CACHE_SIZE:
                _PLANS.popitem(last=False)
        else:
            _PLANS.move_to_end(plan_key)
        self._apply(plan)

    def _plan(self, hists, notes, alerts, layer_labels) -> dict:
        """Everything drawn for these histograms (data columns, ranges, texts), computed, not yet shown."""
        unknown = [s for s in hists if s not in self.series]
        n_layers = max((len(v) for v in hists.values()), default=0)
        shown = self.select_layers(n_layers)
        flags: list[str] = []
        if unknown:
            flags.append("unknown series ignored: " + ", ".join(unknown))
        panels = []
        for i in shown:
            label = (layer_labels[i] if layer_labels is not None and i < len(layer_labels)
                     else f"layer {i + 1}")
            per_series = {}
            for s in self.series:
                entry = hists.get(s, [])
                entry = entry[i] if i < len(entry) else None
                per_series[s] = self._clean_hist(entry, f"{label}, {s}", flags)
            text = notes[i] if notes is not None and i < len(notes) and notes[i] else ""
            alert = bool(alerts[i]) if alerts is not None and i < len(alerts) else False
            panels.append((i, label, per_series, text, alert))

        per_layer = self.x_mode == "per_layer"
        log = self.x_mode == "symlog"
        spans = [(e[0], e[-1]) for p in panels for (_, e) in p[2].values() if e.size]
        if per_layer:
            lo, hi = 0.0, 1.0
        else:
            lo, hi = widen(min(a for a, _ in spans), max(b for _, b in spans)) if spans else (-1.0, 1.0)
        pad = 0.02 * (hi - lo)
        x0, x1 = lo - pad, hi + pad

        n = len(panels)
        bars = {s: {c: [] for c in _BAR_COLUMNS} for s in self.series}
        texts = {c: [] for c in _TEXT_COLUMNS}
        row_text = {}
        for k, (i, label, per_series, text, alert) in enumerate(panels):
            base = float(n - 1 - k)          # the first shown layer on top
            shares = {s: _share(c) for s, (c, _) in per_series.items()}
            tops = shares if self.normalize else {s: c for s, (c, _) in per_series.items()}
            row_max = max((float(t.max()) for t in tops.values() if t.size), default=0.0)
            own = [(e[0], e[-1]) for (_, e) in per_series.values() if e.size]
            r_lo, r_hi = widen(min(a for a, _ in own), max(b for _, b in own)) if own else (0.0, 1.0)
            for s, (counts, edges) in per_series.items():
                if counts.size == 0:
                    continue
                share = shares[s]
                scaled = tops[s] / row_max * BAR_HEIGHT if row_max > 0 else np.zeros_like(counts)
                xs = (edges - r_lo) / (r_hi - r_lo) if per_layer else edges
                real = _inv_symlog(edges) if log else edges
                b = bars[s]
                b["left"].append(xs[:-1])
                b["right"].append(xs[1:])
                b["bottom"].append(np.full(counts.size, base))
                b["top"].append(base + scaled)
                b["count"].append(counts.astype(np.int64))
                b["share"].append(share)
                b["lo"].append(real[:-1])
                b["hi"].append(real[1:])
                b["layer"].append(np.full(counts.size, i + 1, dtype=np.int64))
            if per_layer and own:
                shown_lo, shown_hi = (_inv_symlog(np.array([r_lo, r_hi])) if log else (r_lo, r_hi))
                rng = f"x from {theme.fmt_num(shown_lo)} to {theme.fmt_num(shown_hi)}"
                text = f"{text} · {rng}" if text else rng
            note = ("\u26a0 " + text) if (alert and text) else text
            row_text[i] = (label, note)
            y = base + 0.98
            texts["x"] += [x0 + 0.004 * (x1 - x0), x1 - 0.004 * (x1 - x0)]
            texts["y"] += [y, y]
            texts["text"] += [label, note]
            texts["color"] += [theme.TEXT, theme.WARN if alert else theme.MUTED]
            texts["align"] += ["left", "right"]
        self._pad_labels(texts, x0)
        return {
            "bars": {s: {c: (np.concatenate(v) if v else np.zeros(0)) for c, v in bars[s].items()}
                     for s in self.series},
            "texts": texts, "row_text": row_text, "flags": flags, "shown": shown, "n_layers": n_layers,
            "baselines": {"x0": [x0] * n, "x1": [x1] * n, "y": [float(n - 1 - k) for k in range(n)]},
            "x": (x0, x1), "n": n, "lo_hi": (lo, hi), "per_layer": per_layer, "log": log,
        }

    def _pad_labels(self, texts: dict, x: float) -> dict:
        """Fill ``texts`` up to two labels per panel with blank ones below the figure, in place.

        The label source keeps one length: BokehJS builds a Text glyph's labels asynchronously,
        and when the source's length changes while that is under way (a depth change right after
        another move) it colours the new labels with the old indices and throws a RangeError
        ("Offset is outside the bounds of the DataView")."""
        blank = 2 * self.n_panels - len(texts["text"])
        for column, filler in (("x", x), ("y", -1.0), ("text", ""), ("color", theme.MUTED), ("align", "left")):
            texts[column].extend([filler] * blank)
        return texts

    def _apply(self, plan: dict) -> None:
        """Show a :meth:`_plan` (only the columns that changed reach the browser)."""
        (x0, x1), n, (lo, hi) = plan["x"], plan["n"], plan["lo_hi"]
        per_layer, log = plan["per_layer"], plan["log"]
        self.shown_layers = plan["shown"]
        for s in self.series:
            set_data(self.sources[s], plan["bars"][s])
        set_data(self.label_source, plan["texts"])
        set_data(self.baseline_source, plan["baselines"])
        self.row_text = plan["row_text"]

        fig = self.figure
        _set_range(fig.x_range, x0, x1)
        _set_range(fig.y_range, 0.0, float(max(n, 1)))
        height = self._height(n)
        if fig.height != height:
            fig.height = height
        ticker, formatter = (self._sym_ticker, self._sym_formatter) if log else self._lin_axis
        axis = fig.xaxis[0]
        if axis.ticker is not ticker:
            axis.update(ticker=ticker, formatter=formatter)
        if axis.visible == per_layer:
            axis.visible = not per_layer
            fig.xgrid.visible = not per_layer
        if log:
            ticks = _symlog_ticks(lo, hi, max_ticks=6)
            if list(self._sym_ticker.ticks) != ticks:
                self._sym_ticker.ticks = ticks
        self.flags = list(plan["flags"])
        self._render_caption(plan["n_layers"])

    def _clean_hist(self, entry, where: str, flags: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if entry is None:
            return np.zeros(0), np.zeros(0)
        if hasattr(entry, "counts") and hasattr(entry, "edges"):
            counts, edges = entry.counts, entry.edges
        else:
            counts, edges = entry
        counts = as_float_array(counts)
        edges = as_float_array(edges)
        if counts.size == 0:
            return counts, np.zeros(0)
        bad = ~np.isfinite(counts) | (counts < 0)
        if bad.any():
            flags.append(f"{where}: {int(bad.sum())} invalid counts set to 0")
            counts = np.where(bad, 0.0, counts)
        ok_edges = (
            edges.size == counts.size + 1
            and np.isfinite(edges).all()
            and np.all(np.diff(edges) >= 0)
            and edges[-1] > edges[0]
        )
        if not ok_edges:
            if edges.size == counts.size + 1 and np.isfinite(edges).any() and counts.size > 0:
                lo, hi = widen(np.nanmin(np.where(np.isfinite(edges), edges, np.nan)),
                               np.nanmax(np.where(np.isfinite(edges), edges, np.nan)))
                edges = np.linspace(lo, hi, counts.size + 1)
            else:
                edges = np.arange(counts.size + 1, dtype=float)
            flags.append(f"{where}: invalid bin edges replaced")
        edges = np.clip(edges, -LIMIT, LIMIT)
        return counts, edges

    def _render_caption(self, n_layers: int) -> None:
        parts = []
        if len(self.series) > 1 or self.series[0] not in ("", "values"):
            parts.append(" ".join(theme.swatch_html(s, c) for s, c in zip(self.series, self.colors)))
        shown = self.shown_layers
        if n_layers and len(shown) < n_layers:
            labels = [str(i + 1) for i in shown]
            if len(labels) > 8:
                labels = labels[:4] + ["\u2026"] + labels[-2:]
            parts.append(f"Showing {len(shown)} of {n_layers} layers ({', '.join(labels)}).")
        mode = {
            "shared": "One row per layer, all on the same x axis.",
            "per_layer": "One row per layer, each fitted to its own values (its range is at the right).",
            "symlog": "One row per layer, all on the same signed-log x axis (ticks at powers of ten).",
        }[self.x_mode]
        parts.append(f"{mode} Each row is scaled to its tallest bar.")
        html = '<div class="dt-caption">' + " &nbsp; ".join(parts) + "</div>"
        if self.flags:
            html += '<div class="dt-flag">' + escape("; ".join(self.flags[:4]))
            if len(self.flags) > 4:
                html += escape(f"; and {len(self.flags) - 4} more")
            html += "</div>"
        if self._caption.object != html:
            self._caption.object = html

    @param.depends("x_mode", "normalize", "layers", watch=True)
    def _redraw(self):
        if self._last is not None:
            kind, args, kwargs = self._last
            (self.update_from_values if kind == "values" else self.update)(*args, **kwargs)


def _share(counts: np.ndarray) -> np.ndarray:
    """Each bin's share of the row's values (zeros for an empty row)."""
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts)


def _set_range(rng: Range1d, start: float, end: float) -> None:
    """Move a Range1d (and what the reset tool returns to) only if it changed."""
    start, end = float(start), float(end)
    if rng.start != start or rng.end != end:
        rng.update(start=start, end=end, reset_start=start, reset_end=end)


_SYMLOG_TICK_JS = """
const a = Math.abs(tick);
if (a < 1e-12) { return "0"; }
const v = Math.pow(10, a) - 1;
const k = Math.round(Math.log10(v));
let s;
if (Math.abs(v - Math.pow(10, k)) <= 1e-6 * Math.pow(10, k)) {
  s = (k >= -2 && k <= 3) ? String(Number(Math.pow(10, k).toPrecision(1))) : "1e" + k;
} else {
  s = String(Number(v.toPrecision(2)));
}
return tick < 0 ? "\u2212" + s : s;
"""


def _inv_symlog(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`symlog`."""
    with np.errstate(over="ignore"):
        return np.sign(y) * np.expm1(np.abs(y) * np.log(10.0))


def _symlog_ticks(lo: float, hi: float, max_ticks: int = 4) -> list[float]:
    """Tick positions (in symlog units) at 0 and at powers of ten inside ``[lo, hi]``.

    Uses every decade, or every 2nd, 3rd, ... so that at most ``max_ticks``
    ticks remain, at least ``span / (max_ticks + 1)`` apart; narrow ranges
    fall back to 2 and 5 times powers of ten.
    """
    span = hi - lo
    if not span > 0:
        return [0.0]
    gap = span / (max_ticks + 1)
    top = int(np.ceil(max(abs(lo), abs(hi)))) + 1

    def spaced(values):
        ticks = [0.0] if lo <= 0 <= hi else []
        cands = [s * float(np.log10(1.0 + v)) for v in values for s in (1.0, -1.0)]
        for t in sorted(cands, key=abs, reverse=True):
            if lo <= t <= hi and all(abs(t - u) >= gap for u in ticks):
                ticks.append(t)
        return sorted(ticks)

    for stride in (1, 2, 3, 4, 5, 10, 20, 25, 50, 100):
        ks = [k for k in range(-2, top + 1) if k % stride == 0 and (k >= 0 or stride == 1)]
        ticks = spaced([10.0 ** k for k in ks])
        if len(ticks) <= max_ticks:
            break
    if len(ticks) < 3:
        more = spaced([m * 10.0 ** k for k in range(-2, top + 1) for m in (1.0, 2.0, 5.0)])
        if len(more) <= max_ticks:
            ticks = more
    return ticks
