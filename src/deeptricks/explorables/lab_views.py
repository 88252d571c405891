"""The lab's own views: the decision boundary over the input plane and the training curves.

Each view is built once and afterwards only given new data; when that happens
is the page's business (:class:`deeptricks.explorables.lab.LabPage`), and
nothing here trains or keeps training state.

* :class:`BoundaryView` draws what one net predicts at every point of the
  plane, pale blue through white to pale orange (:data:`BOUNDARY_PALETTE`),
  with the training and test points on top in their classes' colours;
* :class:`BatchCurveChart` is a curve chart that takes all the points of a
  training tick in one call; :func:`percentile_chart` and :func:`grad_chart`
  make the two per-net charts of the inside of the network from it;
* :func:`title_html`, :func:`half` and :func:`pair` are the pieces the page is
  laid out with: a titled half-width column, and halves side by side that
  wrap on a narrow screen.

Net A is drawn in blue and net B in orange, as are the two classes.
"""

from __future__ import annotations

from html import escape

import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, Range1d
from bokeh.plotting import figure

from deeptricks.ui import CurveChart, theme

from .lab_model import GRID

A_COLOR, B_COLOR = theme.BLUE, theme.VERMILLION
CLASS_COLORS = (theme.BLUE, theme.VERMILLION)


def _mix(hex_color: str, t: float) -> tuple[int, int, int]:
    """``hex_color`` blended towards white by ``t`` (0 = the colour, 1 = white)."""
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(c + (255 - c) * t) for c in rgb)


def diverging_palette(low: str = CLASS_COLORS[0], high: str = CLASS_COLORS[1], n: int = 256,
                      tint: float = 0.45) -> list[str]:
    """Light ``low`` → white → light ``high``: blue/orange, readable with every common colour
    blindness, and pale enough that the class-coloured points stay visible on top."""
    a, b = np.array(_mix(low, tint), float), np.array(_mix(high, tint), float)
    white = np.array([255.0, 255.0, 255.0])
    out = []
    for t in np.linspace(0, 1, n):
        c = a + (white - a) * (t / 0.5) if t < 0.5 else white + (b - white) * ((t - 0.5) / 0.5)
        out.append("#%02x%02x%02x" % tuple(int(round(v)) for v in c))
    return out


BOUNDARY_PALETTE = diverging_palette()


# --------------------------------------------------------------------------- views of one net


class BoundaryView:
    """The decision boundary of one net over the input plane, with the data on top."""

    def __init__(self, tag: str, title: str):
        self.tag = tag
        self.mapper = LinearColorMapper(palette=BOUNDARY_PALETTE, low=0.0, high=1.0,
                                        name=f"lab-boundary-{tag}-mapper")
        self.figure = figure(name=f"lab-boundary-{tag}-figure", width=420, height=470, max_width=520,
                             sizing_mode="scale_width", tools="", match_aspect=True,
                             x_range=Range1d(-1.5, 1.5), y_range=Range1d(-1.5, 1.5), title=title)
        self.figure.title.name = f"lab-boundary-{tag}-title"
        self.image_source = ColumnDataSource({"image": [np.full((GRID, GRID), 0.5)], "x": [-1.5],
                                              "y": [-1.5], "dw": [3.0], "dh": [3.0]},
                                             name=f"lab-boundary-{tag}-image")
        self.figure.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image_source,
                          color_mapper=self.mapper, name=f"lab-boundary-{tag}-glyph")
        self.train_source = ColumnDataSource({"x": [], "y": [], "color": [], "cls": []},
                                             name=f"lab-boundary-{tag}-train")
        self.test_source = ColumnDataSource({"x": [], "y": [], "color": [], "cls": []},
                                            name=f"lab-boundary-{tag}-test")
        test = self.figure.scatter("x", "y", source=self.test_source, size=5, fill_color=None,
                                   line_color="color", line_width=1.2, line_alpha=0.75,
                                   name=f"lab-boundary-{tag}-test-points")
        train = self.figure.scatter("x", "y", source=self.train_source, size=7, fill_color="color",
                                    line_color="white", line_width=1.0,
                                    name=f"lab-boundary-{tag}-train-points")
        # one hover tool per kind of point, so that no per-point label strings are kept or sent
        self.figure.add_tools(HoverTool(renderers=[train], tooltips=[("", "training point, class @cls")]),
                              HoverTool(renderers=[test], tooltips=[("", "test point, class @cls")]))
        self.figure.add_layout(ColorBar(
            color_mapper=self.mapper, orientation="horizontal", height=8, location=(0, 0), padding=4,
            title="P(class 1), as the net predicts it",
            title_text_font_size=theme.TICK_SIZE, title_text_font_style="normal",
            title_text_color=theme.MUTED, major_label_text_font_size=theme.TICK_SIZE,
            major_label_text_color=theme.MUTED, name=f"lab-boundary-{tag}-colorbar"), "below")
        self.figure.xaxis.axis_label = "x₁"
        self.figure.yaxis.axis_label = "x₂"
        theme.style_figure(self.figure)
        self.pane = pn.pane.Bokeh(self.figure, sizing_mode="scale_width", max_width=520)

    def set_data(self, data, extent: float) -> None:
        def pts(X, y):
            cls = np.asarray(y, dtype=np.int32)
            return {"x": X[:, 0], "y": X[:, 1], "color": [CLASS_COLORS[c] for c in cls.tolist()], "cls": cls}
        self.train_source.data = pts(data.X_train, data.y_train)
        self.test_source.data = pts(data.X_test, data.y_test)
        for rng in (self.figure.x_range, self.figure.y_range):
            rng.update(start=-extent, end=extent, reset_start=-extent, reset_end=extent)
        self._extent = extent

    def set_image(self, probs: np.ndarray, title: str) -> None:
        e = self._extent
        self.image_source.data = {"image": [probs.astype(np.float32)], "x": [-e], "y": [-e],
                                  "dw": [2 * e], "dh": [2 * e]}
        if self.figure.title.text != title:
            self.figure.title.text = title


WINDOW_NOTE = "No points yet: this chart adds one for every 10 training steps."


CURVE_NOTE = "No points yet: press Start and the curves grow as the net learns."

SWEEP_NOTE = "No sweep yet: press the button above to train at each fraction."

SHIFT_NOTE = "Nothing measured yet: train a net with batch norm, then pause."


class BatchCurveChart(CurveChart):
    """A :class:`CurveChart` that streams many steps of several series in one call.

    A training tick adds several points per series; streaming them one
    ``stream`` call at a time costs one websocket frame per column per point.
    Here each series gets one ``stream`` per tick, with plain lists (sent
    inline in the JSON patch rather than as separate binary buffers).
    """

    def stream_many(self, steps, values: dict) -> None:
        steps = np.asarray(steps, float)
        if steps.size == 0:
            return
        with pn.io.hold():
            for s, v in values.items():
                if s not in self.sources:
                    continue
                d = self._prepare(s, steps, np.asarray(v, float))
                if len(d["x"]):
                    self.sources[s].stream({k: list(map(float, c)) if k in ("x", "y") else list(c)
                                            for k, c in d.items()}, rollover=self.rollover)
            self._apply_ranges()
            self._show_flags(self._flags())


def title_html(text: str, color: str) -> str:
    return f'<div class="dt-section-title" style="border-left-color:{color}">{escape(text)}</div>'


def half(*objs, title_pane=None) -> pn.Column:
    return pn.Column(*([title_pane] if title_pane is not None else []), *objs, css_classes=["dt-half"],
                     sizing_mode="stretch_width", stylesheets=[theme.stylesheet()])


def percentile_chart(tag: str) -> BatchCurveChart:
    """15th/50th/85th percentile of one block's pre-activations over training (net ``tag``)."""
    color, band = (A_COLOR, theme.SKY_BLUE) if tag == "a" else (B_COLOR, theme.ORANGE)
    chart = BatchCurveChart(("85th", "50th", "15th"), name=f"lab-pct-{tag}", title="",
                            y_label="pre-activation", height=250, colors=(band, color, band),
                            empty_text=WINDOW_NOTE)
    for s_name in ("85th", "15th"):
        chart.lines[s_name].glyph.line_width = 1.5
    return chart


def grad_chart(tag: str) -> BatchCurveChart:
    """‖dL/dW‖ of the first, middle and last block over training (net ``tag``)."""
    return BatchCurveChart(("first block", "middle block", "last block"), name=f"lab-grad-{tag}",
                           title="", y_label="‖dL/dW‖", log_y=True, log_floor=1e-30, height=250,
                           colors=(theme.GREEN, theme.PURPLE, theme.BLACK), empty_text=WINDOW_NOTE)


def pair(*halves: pn.Column, name: str) -> pn.FlexBox:
    return pn.FlexBox(*halves, gap="8px 20px", flex_wrap="wrap", sizing_mode="stretch_width",
                      stylesheets=[theme.stylesheet()], name=name)
