"""Line charts: a value per layer (``LayerLineChart``) and training curves (``CurveChart``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, Legend, LegendItem, Range1d, Title
from bokeh.plotting import figure
from panel.io import hold
from panel.viewable import Viewer

from . import theme
from .histograms import _set_range, _slug
from .sanitize import LIMIT, as_float_array, widen
from .sources import set_data

# Markers tell the reader which points are not drawn at their true value.
OK, FLOORED, CLAMPED_HIGH, CLAMPED_LOW, NONFINITE = (
    "circle", "inverted_triangle", "triangle", "inverted_triangle", "x")


def fit_log_ticks(fig) -> None:
    """Ticks at powers of ten (and 2 and 5 on short ranges) inside a log axis' current range."""
    lo, hi = fig.y_range.start, fig.y_range.end
    if not (lo and hi and 0 < lo < hi):
        return
    a, b = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    mantissas = (1, 2, 5) if b - a <= 2 else (1,)
    step = max(1, int(np.ceil((b - a) / 6)))
    ticks = [m * 10.0 ** e for e in range(a, b + 1, step if len(mantissas) == 1 else 1) for m in mantissas
             if lo <= m * 10.0 ** e <= hi]
    ticker = fig.yaxis[0].ticker
    if not isinstance(ticker, FixedTicker):
        ticker = FixedTicker(ticks=ticks, minor_ticks=[])
        fig.yaxis[0].ticker = ticker
    elif list(ticker.ticks) != ticks:
        ticker.ticks = ticks


def show_flags(caption: pn.pane.HTML, flags: list[str], keep_line: bool = False) -> None:
    """Show ``flags`` (what a plot could not draw as is) in the ``caption`` pane under it;
    hidden when there are none, or, with ``keep_line``, an invisible line so that the
    caption's height never changes. Only what changed is sent."""
    if flags:
        html = '<div class="dt-flag">' + escape("; ".join(flags)) + "</div>"
    else:
        html = '<div class="dt-flag" style="visibility: hidden" aria-hidden="true">&nbsp;</div>' if keep_line else ""
    if caption.object != html:
        caption.object = html
    if caption.visible != bool(html):
        caption.visible = bool(html)


class _Chart(Viewer):
    """Shared figure, legend, ranges and caption of the line charts."""

    _columns = ("x", "y", "text", "marker", "series")

    def __init__(self, series, *, name, title, x_label, y_label, log_y, y_range, height,
                 colors, markers, hover_mode="mouse", empty_text=""):
        super().__init__(name=name)
        if isinstance(series, str):
            series = (series,)
        self.series = tuple(series)
        if not self.series:
            raise ValueError("a chart needs at least one series")
        self.colors = list(colors) if colors else theme.series_colors(self.series)
        self.log_y = bool(log_y)
        if y_range is not None:
            lo, hi = (float(v) for v in y_range)
            if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo) or (self.log_y and lo <= 0):
                raise ValueError(f"invalid fixed y_range {y_range!r}")
            self.fixed_y = (lo, hi)
        else:
            self.fixed_y = None
        self.flags: list[str] = []
        y0 = self.fixed_y or ((1e-3, 1.0) if self.log_y else (0.0, 1.0))
        self.figure = figure(
            name=f"{name}-figure",
            title=title,
            height=height,
            min_width=200,
            sizing_mode="stretch_width",
            x_range=Range1d(0, 1),
            y_range=Range1d(*y0),
            y_axis_type="log" if self.log_y else "linear",
            tools="box_zoom,reset,save",
            active_drag=None,  # keep touch scrolling of the page working on phones
        )
        self.figure.xaxis.axis_label = x_label
        self.figure.yaxis.axis_label = y_label
        self.sources: dict[str, ColumnDataSource] = {}
        self.lines = {}
        self.points = {}
        items = []
        for j, s in enumerate(self.series):
            slug = _slug(s)
            src = ColumnDataSource(data={c: [] for c in self._columns}, name=f"{name}-{slug}-source")
            line = self.figure.line("x", "y", source=src, line_color=self.colors[j], line_width=2.2,
                                    name=f"{name}-{slug}-line")
            rends = [line]
            if markers:
                pts = self.figure.scatter("x", "y", source=src, marker="marker", size=8,
                                          line_color=self.colors[j], fill_color=self.colors[j],
                                          line_width=1.5, name=f"{name}-{slug}-points")
                self.points[s] = pts
                rends.append(pts)
            self.sources[s] = src
            self.lines[s] = line
            items.append(LegendItem(label=s, renderers=rends))
        hover_targets = list(self.points.values()) or list(self.lines.values())
        self.figure.add_tools(HoverTool(renderers=hover_targets, mode=hover_mode, tooltips=[
            ("", "@series"), (x_label or "x", "@x"), (y_label or "value", "@text"),
        ]))
        if len(self.series) > 1:
            self.legend = Legend(items=items, orientation="horizontal", location="top_left",
                                 name=f"{name}-legend")
            theme.style_legend(self.legend)
            self.figure.add_layout(self.legend, "above")
        else:
            self.legend = None
        self._items = dict(zip(self.series, items))
        self._listed = dict.fromkeys(self.series, True)
        theme.style_figure(self.figure, show_toolbar=True)
        # said under the title while the chart has no points, so an empty chart is never a mystery
        self.empty_note = Title(text=empty_text, visible=bool(empty_text), text_font=theme.FONT,
                                text_font_size=theme.LABEL_SIZE, text_font_style="italic",
                                text_color=theme.MUTED, name=f"{name}-empty-note")
        self.figure.add_layout(self.empty_note, "above")
        self._sync_legend()
        self.pane = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width")
        self._caption_pane: pn.pane.HTML | None = None
        self._layout = pn.Column(self.pane, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    @property
    def _caption(self) -> pn.pane.HTML:
        """The flag caption under the plot, made the first time it has something to say (or
        to keep a line for): most charts never flag anything, and a pane is ~27 kB a session."""
        if self._caption_pane is None:
            self._caption_pane = pn.pane.HTML("", sizing_mode="stretch_width", visible=False,
                                              stylesheets=[theme.stylesheet()], margin=(0, 5))
            self._layout.append(self._caption_pane)
        return self._caption_pane

    def steady_layout(self, left_px: int = 64) -> "_Chart":
        """Keep the page still while the data moves: the flag caption keeps its line when
        empty, and the plot keeps ``left_px`` for the y axis whatever width its tick labels
        take. Appearing captions and resizing plots make the browser lay the whole page
        out again (about 70 ms on the dropout page), and the content jumps under the
        learner's eyes. Returns the chart."""
        self._steady = True
        self.figure.min_border_left = max(self.figure.min_border_left or 0, int(left_px))
        self._show_flags(self.flags)
        return self

    _steady = False

    def list_in_legend(self, series: str, listed: bool) -> None:
        """Whether ``series`` has an entry in the legend; a listed series is shown there
        once it has points (see :meth:`_sync_legend`)."""
        self._listed[series] = bool(listed)
        self._sync_legend()

    def _sync_legend(self) -> None:
        """An entry for each listed series that has points, none for the others.

        Bokeh draws no colour swatch for a renderer without data, so an entry for an
        empty series would be a bare word with nothing to match it to a line."""
        if self.legend is None:
            return
        for s, item in self._items.items():
            show = self._listed[s] and len(self.sources[s].data["x"]) > 0
            if item.visible != show:
                item.visible = show

    def _show_flags(self, flags: list[str]) -> None:
        self.flags = flags
        self._sync_legend()
        empty = bool(self.empty_note.text) and not any(len(src.data["x"]) for src in self.sources.values())
        if self.empty_note.visible != empty:
            self.empty_note.visible = empty
        if flags or self._steady or self._caption_pane is not None:
            show_flags(self._caption, flags, keep_line=self._steady)

    def _padded_y(self, lo: float, hi: float) -> tuple[float, float]:
        """The y range for data in ``[lo, hi]``: padded, and rounded outwards to a coarse grid.

        Rounding keeps the axis still while a slider moves the data a little,
        so the eye compares like with like (and the browser need not lay the
        axis out again on every step)."""
        if self.fixed_y:
            return self.fixed_y
        if self.log_y:
            llo, lhi = math.log10(lo), math.log10(hi)
            if lhi - llo < 1e-9:
                llo, lhi = llo - 0.5, lhi + 0.5
            pad = 0.06 * (lhi - llo)
            step = 0.25 if lhi - llo < 3 else 1.0        # quarter decades, or whole ones
            llo, lhi = math.floor((llo - pad) / step) * step, math.ceil((lhi + pad) / step) * step
            return 10 ** max(llo, -300.0), 10 ** min(lhi, 300.0)
        lo, hi = widen(lo, hi)
        pad = 0.06 * (0.5 * hi - 0.5 * lo) * 2
        lo, hi = max(lo - pad, -LIMIT), min(hi + pad, LIMIT)
        step = nice_step(hi - lo)
        if step > 0 and math.isfinite(step):
            lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
        return max(lo, -LIMIT), min(hi, LIMIT)


class LayerLineChart(_Chart):
    """One value per layer for several named series (e.g. "plain" vs "residual").

    On a log axis, values that are zero, negative or far below the rest are
    drawn at a floor with a downward triangle, and non-finite values at the top
    with an ``x``; the hover shows the true value and ``flags`` says what moved.
    """

    def __init__(
        self,
        series: Sequence[str] = ("plain", "residual"),
        *,
        name: str = "lines",
        title: str = "",
        x_label: str = "layer",
        y_label: str = "",
        log_y: bool = False,
        log_floor: float | None = None,
        max_decades: float = 30.0,
        y_range: tuple[float, float] | None = None,
        first_layer: int = 1,
        height: int = 300,
        colors: Sequence[str] | None = None,
        markers: bool = True,
        empty_text: str = "",
    ):
        super().__init__(series, name=name, title=title, x_label=x_label, y_label=y_label,
                         log_y=log_y, y_range=y_range, height=height, colors=colors,
                         markers=markers, empty_text=empty_text)
        if log_floor is not None and not (math.isfinite(log_floor) and log_floor > 0):
            raise ValueError("log_floor must be positive and finite")
        self.log_floor = log_floor
        self.max_decades = float(max_decades)
        self.first_layer = int(first_layer)
        self.x_pad = 0.5          # the x range reaches this far beyond the first and last point
        self.floor_used: float | None = None
        self.figure.xaxis.ticker.min_interval = 1

    def update(self, values: Mapping[str, Sequence[float]] | Sequence[float], x=None) -> None:
        """Replace all series. ``values`` maps series name to one value per layer.

        ``x`` (optional) gives the layer numbers; default ``first_layer, first_layer+1, ...``.
        """
        if not isinstance(values, Mapping):
            values = {self.series[0]: values}
        arrays = {s: as_float_array(values.get(s)) for s in self.series}
        flags = [f"unknown series ignored: {s}" for s in values if s not in self.sources]
        finite = [a[np.isfinite(a)] for a in arrays.values()]
        finite = np.concatenate(finite) if finite else np.zeros(0)
        finite = np.clip(finite, -LIMIT, LIMIT)

        # The band points are drawn in.
        if self.log_y:
            pos = finite[finite > 0]
            top = float(pos.max()) if pos.size else 1.0
            if self.log_floor is not None:
                floor = self.log_floor
            else:
                floor = float(pos.min()) / 10 if pos.size else top * 1e-3
                floor = max(floor, top * 10.0 ** (-self.max_decades), 1e-300)
            self.floor_used = floor
            lo, hi = floor, max(top, floor * 10)
        else:
            self.floor_used = None
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if self.fixed_y:
            lo, hi = self.fixed_y

        datas = {}
        xs_all = []
        for s, a in arrays.items():
            n = a.size
            xs = as_float_array(x)[:n] if x is not None else np.arange(n, dtype=float) + self.first_layer
            if xs.size < n or not np.isfinite(xs).all():
                xs = np.arange(n, dtype=float) + self.first_layer
            xs_all.append(xs)
            y, marker, s_flags = _place(a, lo, hi, self.log_y, s)
            flags += s_flags
            datas[s] = {
                "x": xs, "y": y, "text": [theme.fmt_num(v) for v in a],
                "marker": marker, "series": [s] * n,
            }
        xs_all = np.concatenate(xs_all) if xs_all else np.zeros(0)
        x0, x1 = (float(xs_all.min()), float(xs_all.max())) if xs_all.size else (0.0, 1.0)
        ys = np.concatenate([d["y"] for d in datas.values()]) if datas else np.zeros(0)
        if self.log_y:
            ylo, yhi = (float(ys.min()), float(ys.max())) if ys.size else (lo, hi)
            ylo, yhi = max(ylo, 1e-300), max(yhi, ylo)
        else:
            ylo, yhi = (float(ys.min()), float(ys.max())) if ys.size else (lo, hi)
        with hold():
            for s, d in datas.items():
                set_data(self.sources[s], d)
            _set_range(self.figure.x_range, x0 - self.x_pad, x1 + self.x_pad)
            _set_range(self.figure.y_range, *self._padded_y(ylo, yhi))
            self._show_flags(flags)


def nice_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) about a tenth of ``span``."""
    if not (span > 0 and math.isfinite(span)):
        return 0.0
    base = 10.0 ** math.floor(math.log10(span / 10))
    return next((m * base for m in (1, 2, 5) if m * base >= span / 10), 10 * base)


def _count(mask: np.ndarray, noun: str) -> str:
    n = int(np.count_nonzero(mask))
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _place(a: np.ndarray, lo: float, hi: float, log: bool, series: str):
    """Finite y positions and markers for values ``a`` drawn in the band ``[lo, hi]``."""
    n = a.size
    y = np.clip(np.where(np.isfinite(a), a, 0.0), -LIMIT, LIMIT)
    marker = np.full(n, OK, dtype=object)
    flags = []
    nonfinite = ~np.isfinite(a)
    below = np.isfinite(a) & (a < lo)
    above = np.isfinite(a) & (a > hi)
    y[below] = lo
    marker[below] = FLOORED if log else CLAMPED_LOW
    y[above] = hi
    marker[above] = CLAMPED_HIGH
    y[nonfinite & (a == -np.inf)] = lo
    y[nonfinite & (a != -np.inf)] = hi
    marker[nonfinite] = NONFINITE
    if below.any():
        what = "\u2264 0 or tiny" if log else "below the axis"
        flags.append(f"{series}: {_count(below, 'value')} {what}, drawn at {theme.fmt_num(lo)} (\u25bd)")
    if above.any():
        flags.append(f"{series}: {_count(above, 'value')} above the axis, drawn at its top (\u25b3)")
    if nonfinite.any():
        flags.append(f"{series}: {_count(nonfinite, 'value')} inf or nan (overflow), marked \u00d7")
    return y, marker.tolist(), flags


class CurveChart(_Chart):
    """Training curves: y against step for several series, by full replace or by streaming.

    Non-finite values (a diverged run) are not drawn; ``flags`` reports the
    first step where each series went non-finite. On a log axis values at or
    below ``log_floor`` are drawn at it.
    """

    def __init__(
        self,
        series: Sequence[str] = ("train", "test"),
        *,
        name: str = "curve",
        title: str = "",
        x_label: str = "step",
        y_label: str = "loss",
        log_y: bool = False,
        log_floor: float = 1e-8,
        y_range: tuple[float, float] | None = None,
        height: int = 280,
        colors: Sequence[str] | None = None,
        rollover: int | None = None,
        empty_text: str = "",
    ):
        super().__init__(series, name=name, title=title, x_label=x_label, y_label=y_label,
                         log_y=log_y, y_range=y_range, height=height, colors=colors,
                         markers=False, hover_mode="vline", empty_text=empty_text)
        if not (math.isfinite(log_floor) and log_floor > 0):
            raise ValueError("log_floor must be positive and finite")
        self.log_floor = float(log_floor)
        self.rollover = rollover
        self._diverged: dict[str, float] = {}
        self._floored: dict[str, int] = {}
        self._xspan = [math.inf, -math.inf]
        self._yspan = [math.inf, -math.inf]

    def _prepare(self, s: str, steps: np.ndarray, vals: np.ndarray) -> dict:
        n = min(steps.size, vals.size)
        steps, vals = steps[:n], vals[:n]
        good = np.isfinite(vals) & np.isfinite(steps)
        if not good.all():
            first = float(steps[~good][0]) if np.isfinite(steps[~good][0]) else math.nan
            self._diverged.setdefault(s, first)
            steps, vals = steps[good], vals[good]
        vals = np.clip(vals, -LIMIT, LIMIT)
        if self.log_y:
            low = vals < self.log_floor
            if low.any():
                self._floored[s] = self._floored.get(s, 0) + int(low.sum())
            shown = np.maximum(vals, self.log_floor)
        else:
            shown = vals
        if steps.size:
            self._xspan = [min(self._xspan[0], float(steps.min())), max(self._xspan[1], float(steps.max()))]
            self._yspan = [min(self._yspan[0], float(shown.min())), max(self._yspan[1], float(shown.max()))]
        return {"x": steps, "y": shown, "text": [theme.fmt_num(v) for v in vals],
                "marker": [OK] * steps.size, "series": [s] * steps.size}

    def _flags(self) -> list[str]:
        flags = [f"{s}: inf/nan from step {theme.fmt_num(st)} on (not drawn)"
                 for s, st in self._diverged.items()]
        flags += [f"{s}: {c} value{'' if c == 1 else 's'} \u2264 {theme.fmt_num(self.log_floor)}, "
                  "drawn at that floor"
                  for s, c in self._floored.items()]
        return flags

    def _apply_ranges(self) -> None:
        x0, x1 = self._xspan
        if not math.isfinite(x0):
            x0, x1 = 0.0, 1.0
        if x1 <= x0:
            x1 = x0 + 1.0
        _set_range(self.figure.x_range, x0, x1)
        y0, y1 = self._yspan
        if not math.isfinite(y0):
            y0, y1 = (self.log_floor, 1.0) if self.log_y else (0.0, 1.0)
        _set_range(self.figure.y_range, *self._padded_y(y0, y1))

    def clear(self) -> None:
        """Remove all points."""
        self.replace({})

    def replace(self, data: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> None:
        """Replace every series by ``{name: (steps, values)}``; missing series are emptied."""
        self._diverged, self._floored = {}, {}
        self._xspan = [math.inf, -math.inf]
        self._yspan = [math.inf, -math.inf]
        prepared = {}
        for s in self.series:
            steps, vals = data.get(s, ((), ()))
            prepared[s] = self._prepare(s, as_float_array(steps), as_float_array(vals))
        with hold():
            for s, d in prepared.items():
                set_data(self.sources[s], d)
            self._apply_ranges()
            self._show_flags(self._flags())

    def stream(self, step: float, values: Mapping[str, float]) -> None:
        """Append one point per named series at ``step`` (keeps at most ``rollover`` points)."""
        with hold():
            for s, v in values.items():
                if s not in self.sources:
                    continue
                d = self._prepare(s, as_float_array([step]), as_float_array([v]))
                if len(d["x"]):
                    self.sources[s].stream(d, rollover=self.rollover)
            self._apply_ranges()
            self._show_flags(self._flags())
