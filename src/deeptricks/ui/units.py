"""Heatmap of the units of one layer for one example, on a fixed colour scale."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, Range1d
from bokeh.plotting import figure
from panel.io import hold
from panel.viewable import Viewer

from . import theme
from .charts import show_flags
from .histograms import _set_range
from .sanitize import as_float_array
from .sources import set_data


class UnitGrid(Viewer):
    """One layer's units as a grid of cells coloured on a fixed scale.

    The scale (``low`` to ``high``) never follows the data, so a layer that
    blows up or dies looks different from one that is fine. Cells beyond the
    scale take its end colour; the hover always shows the true value.
    """

    def __init__(
        self,
        n_units: int = 256,
        *,
        name: str = "units",
        title: str = "",
        low: float = 0.0,
        high: float = 3.0,
        ncols: int | None = None,
        palette: Sequence[str] = theme.HEAT_PALETTE,
        value_label: str = "activation",
        height: int = 360,
        max_width: int = 420,
        colorbar: bool = True,
    ):
        super().__init__(name=name)
        if not (math.isfinite(low) and math.isfinite(high) and high > low):
            raise ValueError("UnitGrid needs finite low < high")
        self.fixed_ncols = ncols
        self.value_label = value_label
        self.flags: list[str] = []
        self.mapper = LinearColorMapper(
            palette=list(palette), low=float(low), high=float(high),
            low_color=palette[0], high_color=palette[-1], nan_color=theme.GRID,
            name=f"{name}-mapper",
        )
        rows, cols = self._shape(n_units)
        self.figure = figure(
            name=f"{name}-figure",
            title=title,
            width=height,  # a width:height ratio for scale_width; cells come out near square
            height=height + (70 if colorbar else 30),
            max_width=max_width,
            sizing_mode="scale_width",
            x_range=Range1d(-0.5, cols - 0.5),
            y_range=Range1d(rows - 0.5, -0.5),  # row 0 at the top
            tools="",
        )
        self.source = ColumnDataSource(data=self._empty(), name=f"{name}-source")
        self.renderer = self.figure.rect(
            x="col", y="row", width=0.92, height=0.92, source=self.source,
            fill_color={"field": "shown", "transform": self.mapper},
            line_color=None, name=f"{name}-cells",
        )
        self.figure.add_tools(HoverTool(renderers=[self.renderer], tooltips=[
            ("unit", "@unit"), (value_label, "@value{%.3g}@note"),
        ], formatters={"@value": "printf"}))
        if colorbar:
            self.colorbar = ColorBar(
                color_mapper=self.mapper, orientation="horizontal", height=10,
                location=(0, 0), title=f"{value_label} (fixed scale; values beyond it use the end colour)",
                title_text_font_size=theme.TICK_SIZE, title_text_font_style="normal",
                title_text_color=theme.MUTED, title_text_font=theme.FONT,
                major_label_text_font_size=theme.TICK_SIZE, major_label_text_color=theme.MUTED,
                name=f"{name}-colorbar", padding=4,
            )
            self.figure.add_layout(self.colorbar, "below")
        else:
            self.colorbar = None
        self.figure.axis.visible = False
        self.figure.grid.visible = False
        theme.style_figure(self.figure)
        self.pane = pn.pane.Bokeh(self.figure, sizing_mode="scale_width", max_width=max_width)
        self._caption = pn.pane.HTML("", sizing_mode="stretch_width", visible=False,
                                     stylesheets=[theme.stylesheet()], margin=(0, 5))
        self._layout = pn.Column(self.pane, self._caption, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    @staticmethod
    def _empty() -> dict:
        return {"col": [], "row": [], "unit": [], "value": [], "shown": [], "note": []}

    def _shape(self, n: int) -> tuple[int, int]:
        n = max(int(n), 1)
        cols = self.fixed_ncols or math.ceil(math.sqrt(n))
        cols = max(int(cols), 1)
        return math.ceil(n / cols), cols

    @property
    def low(self) -> float:
        return self.mapper.low

    @property
    def high(self) -> float:
        return self.mapper.high

    def set_scale(self, low: float, high: float) -> None:
        """Change the fixed colour scale (only when the app means to, never per update)."""
        if math.isfinite(low) and math.isfinite(high) and high > low:
            self.mapper.update(low=float(low), high=float(high))

    def update(self, values) -> None:
        """Show ``values`` (any shape; flattened) as the grid of units."""
        v = as_float_array(values)
        n = v.size
        rows, cols = self._shape(n)
        idx, col, row, blank = self._layout_columns(n, cols)
        finite = np.isfinite(v)
        lo, hi = self.mapper.low, self.mapper.high
        # Non-finite values get the end colour of the side they belong to; NaN shows as top.
        shown = np.where(finite, np.clip(v, lo, hi), np.where(v == -np.inf, lo, hi))
        n_bad = int(n - np.count_nonzero(finite))
        n_high = int(np.count_nonzero(finite & (v > hi)))
        n_low = int(np.count_nonzero(finite & (v < lo)))
        data = {
            "col": col,
            "row": row,
            "unit": idx,
            "value": np.where(finite, v, 0.0),
            "shown": shown,
            # the hover's value is finite; a non-finite unit says what it really was
            "note": (blank if not n_bad else
                     ["" if ok else f" (really {theme.fmt_num(x)})" for ok, x in zip(finite, v)]),
        }
        flags = []
        if n_high:
            flags.append(f"{n_high} of {n} units above the scale top ({theme.fmt_num(hi)})")
        if n_low:
            flags.append(f"{n_low} of {n} units below the scale bottom ({theme.fmt_num(lo)})")
        if n_bad:
            flags.append(f"{n_bad} of {n} units inf or nan (overflow)")
        if n == 0:
            flags.append("no units to show")
        self.flags = flags
        with hold():
            set_data(self.source, data)
            _set_range(self.figure.x_range, -0.5, cols - 0.5)
            _set_range(self.figure.y_range, rows - 0.5, -0.5)
            show_flags(self._caption, flags, keep_line=self._steady)

    _steady = False
    _columns_for = None

    def _layout_columns(self, n: int, cols: int):
        """Unit index, column, row and blank notes for ``n`` units: the same objects while ``n``
        stays, so sending only what changed (``set_data``) sees them unchanged at once."""
        if self._columns_for is None or self._columns_for[0] != (n, cols):
            idx = np.arange(n)
            self._columns_for = ((n, cols), (idx, idx % cols, idx // cols, [""] * n))
        return self._columns_for[1]

    def steady_layout(self) -> "UnitGrid":
        """Keep the flag caption's line when it is empty, so a flag that comes and goes as
        a slider moves does not shift the page (see ``_Chart.steady_layout``)."""
        self._steady = True
        show_flags(self._caption, self.flags, keep_line=True)
        return self
