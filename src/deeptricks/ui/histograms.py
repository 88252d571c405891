"""Per-layer histograms as a grid of small figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import panel as pn
import param
from bokeh.models import (
    ColumnDataSource, CustomJSTickFormatter, FixedTicker, HoverTool, Range1d, Title,
)
from bokeh.plotting import figure
from panel.io import hold
from panel.viewable import Viewer

from . import theme
from .sanitize import LIMIT, as_float_array, describe, fast_histogram, symlog, widen

_EMPTY = {"left": [], "right": [], "top": [], "count": [], "share": [], "lo": [], "hi": []}

def _grid_css(min_width: int) -> str:
    """CSS turning a Column into a grid with as many columns of ``min_width`` px as fit."""
    return (":host { display: grid !important; gap: 2px 14px; width: 100%; "
            f"grid-template-columns: repeat(auto-fill, minmax({int(min_width)}px, 1fr)); }}")


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return out or "series"


class HistogramGrid(Viewer):
    """Histograms of several layers, one small figure per layer, 1 or more overlaid series.

    At most ``n_panels`` figures exist; with more layers than that an evenly
    spaced subset (always the first and last layer) is shown, or the layers
    listed in ``layers``, and the caption says which.
    """

    x_mode = param.Selector(default="shared", objects=["shared", "per_layer", "symlog"], doc="""
        'shared': every panel uses one linear x range, so drift between layers is visible.
        'per_layer': each panel fits its own data, so shapes stay readable.
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
        panel_height: int = 160,
        min_panel_width: int = 170,
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
        self.flags: list[str] = []
        self.shown_layers: list[int] = []
        self.figures = []
        self.sources: list[dict[str, ColumnDataSource]] = []
        self.notes: list[Title] = []
        alpha = 0.75 if len(self.series) == 1 else 0.45
        # Tick models for the symlog axis, shared by all panels.
        self._sym_ticker = FixedTicker(ticks=[0], minor_ticks=[], name=f"{name}-symlog-ticker")
        self._sym_formatter = CustomJSTickFormatter(code=_SYMLOG_TICK_JS)
        self._lin_axis = []
        for k in range(self.n_panels):
            fig = figure(
                name=f"{name}-panel{k}",
                height=panel_height,
                min_width=120,
                sizing_mode="stretch_width",
                x_range=Range1d(-1, 1),
                y_range=Range1d(0, 1),
                tools="",
                title="",
            )
            note = Title(text="", text_font_size=theme.TICK_SIZE, text_font_style="normal",
                         text_color=theme.MUTED, text_font=theme.FONT, name=f"{name}-panel{k}-note")
            fig.add_layout(note, "above")
            sources = {}
            for j, s in enumerate(self.series):
                src = ColumnDataSource(data=dict(_EMPTY), name=f"{name}-panel{k}-{_slug(s)}-source")
                r = fig.quad(
                    left="left", right="right", bottom=0, top="top", source=src,
                    fill_color=self.colors[j], fill_alpha=alpha, line_color=None,
                    name=f"{name}-panel{k}-{_slug(s)}",
                )
                # numbers, not preformatted strings: every update stays a few binary arrays
                fig.add_tools(HoverTool(renderers=[r], tooltips=[
                    ("", escape(s)), ("bin", "@lo{%.3g} to @hi{%.3g}"), ("count", "@count"),
                    ("share", "@share{0.0%}"),
                ], formatters={"@lo": "printf", "@hi": "printf"}))
                sources[s] = src
            fig.xaxis.axis_label = None
            fig.yaxis.visible = False
            fig.ygrid.visible = False
            fig.xaxis.ticker.desired_num_ticks = 4
            self._lin_axis.append((fig.xaxis[0].ticker, fig.xaxis[0].formatter))
            theme.style_figure(fig)
            fig.title.text_font_size = theme.LABEL_SIZE
            self.figures.append(fig)
            self.sources.append(sources)
            self.notes.append(note)
        self._panes = [
            pn.pane.Bokeh(f, sizing_mode="stretch_width", margin=(0, 0)) for f in self.figures
        ]
        # Hide unused panels on the figure itself: Panel 1.9 ignores visible=False
        # passed to pn.pane.Bokeh at construction.
        for f in self.figures[1:]:
            f.visible = False
        self._caption = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5),
                                     stylesheets=[theme.stylesheet()])
        self._grid = pn.Column(*self._panes, sizing_mode="stretch_width",
                               stylesheets=[_grid_css(min_panel_width)])
        self._layout = pn.Column(self._caption, self._grid, sizing_mode="stretch_width",
                                 name=f"{name}-layout")
        self._last = None
        self._render_caption(0)

    def __panel__(self):
        return self._layout

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
    ) -> None:
        """Histogram raw per-layer values and show them.

        ``values`` maps series name to a list of arrays, one per layer. Only the
        shown layers are histogrammed; series share bins within a layer. With
        ``notes="auto"`` each panel is annotated from ``stat_series`` (default:
        the first series) by :func:`deeptricks.ui.sanitize.describe`.
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
        self._last = call

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
    ) -> None:
        """Show precomputed histograms.

        ``hists`` maps series name to a per-layer list whose entries are
        ``(counts, edges)`` pairs, objects with ``.counts``/``.edges``, or None.
        A plain list is taken as the first series. ``notes``/``alerts``/
        ``layer_labels`` are per layer (all layers, not only the shown ones);
        an alert note is drawn in the warning colour.
        """
        with hold():
            self._update(hists, notes, alerts, layer_labels)

    def _update(self, hists, notes, alerts, layer_labels) -> None:
        hists = self._as_mapping(hists)
        unknown = [s for s in hists if s not in self.series]
        n_layers = max((len(v) for v in hists.values()), default=0)
        self._last = ("hists", (hists,), dict(notes=notes, alerts=alerts, layer_labels=layer_labels))
        shown = self.select_layers(n_layers)
        self.shown_layers = shown
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
            panels.append((i, label, per_series))

        # x ranges
        spans = [(e[0], e[-1]) for _, _, ps in panels for (_, e) in ps.values() if e.size]
        shared = None
        log = self.x_mode == "symlog"
        if self.x_mode != "per_layer" and spans:
            shared = widen(min(a for a, _ in spans), max(b for _, b in spans))

        for k in range(self.n_panels):
            fig, srcs, note = self.figures[k], self.sources[k], self.notes[k]
            if k >= len(panels):
                if fig.visible:
                    for src in srcs.values():
                        src.data = dict(_EMPTY)
                    fig.visible = False
                continue
            i, label, per_series = panels[k]
            top_max = 0.0
            own = [(e[0], e[-1]) for (_, e) in per_series.values() if e.size]
            ticker, formatter = (self._sym_ticker, self._sym_formatter) if log else self._lin_axis[k]
            axis = fig.xaxis[0]
            if axis.ticker is not ticker:
                axis.update(ticker=ticker, formatter=formatter)
            for s, (counts, edges) in per_series.items():
                data, tmax = self._bars(counts, edges, s, log)
                top_max = max(top_max, tmax)
                srcs[s].data = data
            lo, hi = shared if shared else (
                widen(min(a for a, _ in own), max(b for _, b in own)) if own else (-1.0, 1.0))
            pad = 0.02 * (0.5 * hi - 0.5 * lo) * 2
            _set_range(fig.x_range, lo - pad, hi + pad)
            _set_range(fig.y_range, 0.0, top_max * 1.08 if top_max > 0 else 1.0)
            text = notes[i] if notes is not None and i < len(notes) and notes[i] else ""
            alert = bool(alerts[i]) if alerts is not None and i < len(alerts) else False
            fig.title.text = label
            note.text = ("\u26a0 " + text) if (alert and text) else text
            note.text_color = theme.WARN if alert else theme.MUTED
            if not fig.visible:
                fig.visible = True
        if log and shared:
            ticks = _symlog_ticks(*shared)
            if list(self._sym_ticker.ticks) != ticks:
                self._sym_ticker.ticks = ticks
        self.flags = flags
        self._render_caption(n_layers)

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

    def _bars(self, counts: np.ndarray, edges: np.ndarray, series: str,
              log: bool = False) -> tuple[dict, float]:
        if counts.size == 0:
            return dict(_EMPTY), 0.0
        total = counts.sum()
        share = counts / total if total > 0 else np.zeros_like(counts)
        top = share if self.normalize else counts.copy()
        left, right = edges[:-1], edges[1:]
        real = _inv_symlog(edges) if log else edges
        data = {
            "left": left,
            "right": right,
            "top": top,
            "count": counts.astype(np.int64),
            "share": share,
            "lo": real[:-1],
            "hi": real[1:],
        }
        return data, float(top.max()) if top.size else 0.0

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
            "shared": "Same x axis in every panel.",
            "per_layer": "Each panel has its own x axis.",
            "symlog": "Same signed-log x axis in every panel (ticks at powers of ten).",
        }[self.x_mode]
        parts.append(f"x: {escape(self.x_label)}. {mode}")
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
