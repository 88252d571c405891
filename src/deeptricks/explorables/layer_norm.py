"""The layer-norm explorable: state (a ``param.Parameterized``) and page."""

from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, CustomJS, FixedTicker, HoverTool, LinearColorMapper, Range1d, Span
from bokeh.palettes import PuOr
from bokeh.plotting import figure

from deeptricks.ui import (HistogramGrid, LayerLineChart, comparison, control_label, note_alert, readout,
                           set_note, theme)

from deeptricks.ui.charts import fit_log_ticks
from deeptricks.ui.a11y import RadioButtonGroup
from deeptricks.ui.sources import set_data
from deeptricks.ui.views import PageOnly, View

from . import paths
from .base import Coalesced, caption
from .sections import Sectioned
from .shared import shared
from .state import ExplorableState
from .layer_stats import fmt
from .layer_norm_model import MAX_DEPTH, N_EXAMPLES, N_FEATURES, POOL, LayerNormModel

TITLE = "Layer normalization"
SUMMARY = "Standardize each example over its own features: no batch statistics, so a batch of one works."

INTRO = (
    "**Layer norm** does batch norm's arithmetic over one example's own features instead of one "
    "feature across the batch, so an example's output never depends on its batch."
)
MORE = (
    "Both subtract a mean and divide by a standard deviation. **Batch norm** takes one feature across "
    "the examples of a batch; **layer norm** takes one example across its own features. That single "
    "choice decides whether an example's output depends on the rest of its batch, which is why layer "
    "norm sits in every transformer block."
)

METHOD_OPTIONS = {"batch norm": "batch", "layer norm": "layer"}
PALETTE = list(PuOr[11])                 # purple below 0, orange above: colour-blind safe, white at 0
BN_COLOR, LN_COLOR = theme.BLUE, theme.GREEN


class LayerNormState(ExplorableState):
    """The controls of the layer-norm explorable, with their bounds."""

    method = param.Selector(default="layer", objects=list(METHOD_OPTIONS.values()), label="Normalize with",
                            doc="Batch norm averages down a feature column; layer norm across an example's row.")
    feature = param.Integer(3, bounds=(1, N_FEATURES), label="Feature (column) batch norm averages",
                            doc="Which column of the table batch norm's mean and standard deviation come from.")
    example = param.Integer(2, bounds=(1, N_EXAMPLES), label="Example (row) layer norm averages",
                            doc="Which row of the table layer norm's mean and standard deviation come from.")
    batch = param.Integer(8, bounds=(1, POOL), label="Batch size",
                          doc="How many examples share example 1's batch.")
    depth = param.Integer(10, bounds=(1, MAX_DEPTH), label="Depth (layers)",
                          doc="How many layers the deep stack has.")
    gain = param.Number(1.5, bounds=(0.25, 3.0), step=0.05, label="Weight scale (init gain)",
                        doc="Multiplies every initial weight of the deep stack; 1 is He initialisation.")

    def __init__(self, **params):
        super().__init__(**params)
        self.model, self.model_lock = shared(LayerNormModel)


URL_PARAMS = {"method": "method", "feature": "feature", "example": "example", "batch": "batch",
              "depth": "depth", "gain": "gain"}
TABLE = {"method", "feature", "example"}
SHRINK = {"batch"}
DEEP = {"depth", "gain"}
SPREAD_SERIES = ("no normalization", "layer norm")

BATCH_OF_ONE = (
    "**Batch norm is undefined for a batch of one (in training mode).** Its mean would be example 1 "
    "itself and its standard deviation 0, so there is nothing to divide by; libraries raise an error. "
    "Layer norm, on the right, does not care: it only ever looks at example 1's own 12 features."
)
BATCH_OF_ONE_VIEW = BATCH_OF_ONE.replace("Layer norm, on the right,", "Layer norm")
"""The same note in a view, where the two charts may sit one above the other."""


def _heatmap(name: str, title: str, low: float, high: float):
    """A batch x features table as coloured cells with their values written in."""
    src = ColumnDataSource({"x": [], "y": [], "value": [], "label": [], "alpha": [], "text_alpha": [],
                            "ink": []},
                           name=f"{name}-source")
    box = ColumnDataSource({"x": [], "y": [], "w": [], "h": []}, name=f"{name}-highlight")
    fig = figure(name=f"{name}-figure", title=title, height=300, min_width=260, sizing_mode="stretch_width",
                 x_range=Range1d(0.5, N_FEATURES + 0.5), y_range=Range1d(N_EXAMPLES + 0.5, 0.5), tools="")
    mapper = LinearColorMapper(palette=PALETTE, low=low, high=high, low_color=PALETTE[0],
                               high_color=PALETTE[-1], name=f"{name}-mapper")
    cells = fig.rect("x", "y", 0.94, 0.92, source=src, fill_color={"field": "value", "transform": mapper},
                     fill_alpha={"field": "alpha"}, line_color=None, name=f"{name}-cells")
    fig.text("x", "y", text={"field": "label"}, source=src, text_align="center", text_baseline="middle",
             text_font_size="11px", text_color={"field": "ink"}, text_alpha={"field": "text_alpha"},
             name=f"{name}-values")
    fig.rect("x", "y", "w", "h", source=box, fill_color=None, line_color=theme.BLACK, line_width=2.5,
             name=f"{name}-box")
    fig.add_tools(HoverTool(renderers=[cells], tooltips=[("example", "@y"), ("feature", "@x"),
                                                         ("value", "@label")]))
    fig.xaxis.ticker = FixedTicker(ticks=list(range(1, N_FEATURES + 1)))
    fig.yaxis.ticker = FixedTicker(ticks=list(range(1, N_EXAMPLES + 1)))
    fig.xaxis.axis_label = "feature"
    fig.yaxis.axis_label = "example"
    fig.grid.visible = False
    theme.style_figure(fig)
    fig.xaxis.major_tick_line_color = None
    fig.yaxis.major_tick_line_color = None
    return fig, src, box


def _one_decimal(x: float) -> str:
    """``-1.2`` as "−1.2"; never "−0.0"."""
    text = f"{x:.1f}"
    return "0.0" if text in ("-0.0", "0.0") else text.replace("-", "\u2212")


def _signed(x: float, digits: int = 2, bracket: bool = False) -> str:
    """A number with a true minus sign (in brackets when ``bracket``, for after a minus); no "−0.00"."""
    text = f"{x:.{digits}f}"
    if not text.startswith("-") or float(text) == 0:
        return text.lstrip("-")
    return f"(\u2212{text[1:]})" if bracket else f"\u2212{text[1:]}"


def _cells(values: np.ndarray, mask: np.ndarray, scale: float) -> dict:
    rows, cols = np.indices(values.shape)
    v = values.ravel()
    return {"x": cols.ravel() + 1, "y": rows.ravel() + 1, "value": v,
            "label": [_one_decimal(x) for x in v],
            "alpha": np.where(mask.ravel(), 1.0, 0.35),
            "text_alpha": np.where(mask.ravel(), 1.0, 0.7),
            "ink": np.where(np.abs(v) > 0.62 * scale, "#ffffff", theme.TEXT)}


def _shrink_figure(name: str, color: str):
    src = ColumnDataSource({"x": [], "y": [], "text": []}, name=f"{name}-source")
    fig = figure(name=f"{name}-figure", height=250, min_width=240, sizing_mode="stretch_width",
                 x_range=Range1d(0.4, N_FEATURES + 0.6), y_range=Range1d(-3, 3), tools="",
                 title="Example 1, normalized, feature by feature")
    bars = fig.vbar("x", top="y", width=0.7, source=src, fill_color=color, fill_alpha=0.8, line_color=None,
                    name=f"{name}-bars")
    fig.add_tools(HoverTool(renderers=[bars], tooltips=[("feature", "@x"), ("normalized", "@text")]))
    fig.xaxis.ticker = FixedTicker(ticks=list(range(1, N_FEATURES + 1)))
    fig.xaxis.axis_label = "feature"
    fig.yaxis.axis_label = "normalized value"
    fig.xgrid.visible = False
    theme.style_figure(fig)
    return fig, src


_FIT_LABELS_JS = """
const px = Math.max(8, Math.min(11, Math.floor(cb_obj.inner_width / n / 2.45)));
if (glyph.text_font_size.value !== px + "px") { glyph.text_font_size = {value: px + "px"}; }
"""


def _fit_cell_labels(fig) -> None:
    """Shrink the values written in a table's cells (11 px down to 8 px) when the cells get too
    narrow for them: a view can be 320 px wide."""
    renderer = fig.select_one({"name": f"{fig.name.removesuffix('-figure')}-values"})
    fig.js_on_change("inner_width", CustomJS(args={"glyph": renderer.glyph, "n": N_FEATURES},
                                             code=_FIT_LABELS_JS))


class LayerNormPage(Sectioned):
    """Builds the figures once and refreshes their data when the state changes."""

    SLUG, TITLE, INTRO, MORE = "layer_norm", TITLE, INTRO, MORE
    URL_PARAMS = URL_PARAMS
    PATH = paths.LAYER_NORM
    VIEWS = (
        View("axes", "1 · Same arithmetic, different numbers",
             "the example × feature table: which values batch norm averages, and which layer norm does",
             "The frame marks the values the method averages, a column for batch norm or a row for layer "
             "norm; afterwards every column, or every row, has mean 0 and standard deviation 1.",
             controls=("method", "feature", "example"), first_screen=True),
        View("shrink-batch", "2 · Shrink the batch",
             "shrink the batch to one: batch norm's output moves and then fails, layer norm's stays put",
             "Drag the batch size down: batch norm's bars for example 1 leave the black dashes (their "
             "values in the batch of 64) and vanish at a batch of one, while layer norm's bars never move.",
             color=BN_COLOR, first_screen=True),
        View("depth", "3 · A deep stack with layer norm",
             "a deep ReLU stack with and without layer norm: drifting histograms against steady ones",
             "Without normalization the values grow with depth at a weight scale above 1 and fade below "
             "it; with layer norm every layer keeps standard deviation 1.",
             color=LN_COLOR),
    )

    def __init__(self, state: LayerNormState | None = None):
        self.state = state or LayerNormState()
        m = self.state.model

        # 1 · what each method averages over
        raw_top = float(np.abs(m.table).max())
        self.raw_fig, self.raw_source, self.raw_box = _heatmap("ln-table", "The batch: 8 examples × 12 features",
                                                               -raw_top, raw_top)
        self.raw_scale = raw_top
        self.norm_fig, self.norm_source, self.norm_box = _heatmap("ln-normed", "", -2.5, 2.5)
        self.table_text = readout("ln-table-text")

        # 2 · shrinking the batch
        self.bn_fig, self.bn_source = _shrink_figure("ln-shrink-bn", BN_COLOR)
        self.bn_ref = ColumnDataSource({"x0": [], "x1": [], "y": [], "text": []}, name="ln-shrink-bn-ref")
        refs = self.bn_fig.segment("x0", "y", "x1", "y", source=self.bn_ref, line_color=theme.BLACK,
                                   line_width=2.5, name="ln-shrink-bn-refs")
        self.bn_fig.add_tools(HoverTool(renderers=[refs], tooltips=[("in the batch of 64", "@text")]))
        self.ln_fig, self.ln_source = _shrink_figure("ln-shrink-ln", LN_COLOR)
        self.shrink = comparison(self.bn_fig, self.ln_fig, "Batch norm", "Layer norm",
                                 left_color=BN_COLOR, right_color=LN_COLOR, name="ln-shrink")
        self.shrink_note = note_alert("ln-batch-note", alert_type="warning")
        self.shrink_text = readout("ln-shrink-text")

        # 3 · a deep stack
        grid = dict(n_panels=12, row_height=46, x_label="value")
        self.left = HistogramGrid(("values",), name="ln-left", colors=[theme.WITHOUT_TRICK], **grid)
        self.right = HistogramGrid(("values",), name="ln-right", colors=[LN_COLOR], **grid)
        for g in (self.left, self.right):
            g.x_mode = "symlog"
        self.deep = comparison(self.left, self.right, "No normalization: xₖ", "With layer norm: LN(xₖ)",
                               right_color=LN_COLOR, name="ln-deep")
        self.spread = LayerLineChart(SPREAD_SERIES, name="ln-spread", log_y=True, max_decades=60, height=240,
                                     colors=[theme.WITHOUT_TRICK, LN_COLOR],
                                     title="How different the examples still are, layer by layer",
                                     x_label="layer k", y_label="std across the batch (log)")
        self.spread.figure.add_layout(Span(location=1.0, dimension="width", line_color=theme.AXIS,
                                           line_dash="dashed", line_width=1, name="ln-spread-one"))
        self.deep_text = readout("ln-deep-text")

        self.compact = False            # a view alone: shorter titles (see prepare_view)
        self.update = Coalesced(self._update, with_changes=True)
        self.state.param.watch(self.update, list(URL_PARAMS))
        self._update(set(URL_PARAMS))

    # -- state → views ------------------------------------------------------------
    def _update(self, dirty: set[str]) -> None:
        with self.state.model_lock, pn.io.hold():   # the model is shared by the process's sessions
            if dirty & TABLE and self.shows("axes"):
                self._update_table()
            if dirty & SHRINK and self.shows("shrink-batch"):
                self._update_shrink()
            if dirty & DEEP and self.shows("depth"):
                self._update_deep()

    def facts(self) -> dict:
        """The numbers the guided path quotes (see :mod:`.paths`)."""
        s, m = self.state, self.state.model
        with s.model_lock:
            t = m.table_view(s.method, s.feature if s.method == "batch" else s.example)
            v = m.shrink(s.batch)
            full = m.shrink(POOL)
            m.set_net(s.gain, "relu")
            m.columns(("plain", "layer"), s.depth, layers=[], x_axis="shared")   # the layers, no histograms
            plain, layer = m.plain.summary, m.layer.summary
        return {"method": s.method, "feature": s.feature, "example": s.example, "batch": s.batch,
                "depth": s.depth, "gain": s.gain, "n_examples": N_EXAMPLES, "n_features": N_FEATURES,
                "pool": POOL, "mean": t.mean, "std": t.std,
                "out_mean": float(t.group_normalized.mean()), "out_std": float(t.group_normalized.std()),
                "moved": v.moved, "undefined": v.undefined,
                "ln_shift": float(np.abs(v.layer - full.layer).max()),
                "plain_first": float(plain[0].std), "plain_last": float(plain[s.depth - 1].std),
                "ln_last": float(layer[s.depth - 1].std)}

    def _update_table(self) -> None:
        s, m = self.state, self.state.model
        index = s.feature if s.method == "batch" else s.example
        v = m.table_view(s.method, index)
        set_data(self.raw_source, _cells(v.x, v.highlight, self.raw_scale))
        set_data(self.norm_source, _cells(v.normalized, v.highlight, 2.5))
        if s.method == "batch":
            box = {"x": [index], "y": [(N_EXAMPLES + 1) / 2], "w": [0.98], "h": [N_EXAMPLES]}
            what = f"feature {index} over the {N_EXAMPLES} examples (a column)"
            name = "Batch norm"
        else:
            box = {"x": [(N_FEATURES + 1) / 2], "y": [index], "w": [N_FEATURES], "h": [0.96]}
            what = f"example {index} over its {N_FEATURES} features (a row)"
            name = "Layer norm"
        set_data(self.raw_box, box)
        set_data(self.norm_box, box)
        groups = "columns" if s.method == "batch" else "rows"
        self.norm_fig.title.text = (f"After {name.lower()} ({groups})" if self.compact else
                                    f"After {name.lower()}: {groups} have mean 0, std 1")
        first, out = float(v.group[0]), float(v.group_normalized[0])
        self.table_text.object = (
            f"**{name}** averages {what}: mean **{_signed(v.mean)}**, standard deviation **{v.std:.2f}**. "
            f"Each value becomes (value − mean) / std; the first, for example: "
            f"({_signed(first, 1)} − {_signed(v.mean, bracket=True)}) / {v.std:.2f} = **{_signed(out)}**. It does the same "
            f"for every "
            f"{'column' if s.method == 'batch' else 'row'}, each with its own mean and std.")

    def _update_shrink(self) -> None:
        s, m = self.state, self.state.model
        v = m.shrink(s.batch)
        x = v.features
        set_data(self.ln_source, {"x": x, "y": v.layer, "text": [fmt(y) for y in v.layer]})
        if v.undefined:
            set_data(self.bn_source, {"x": [], "y": [], "text": []})
        else:
            set_data(self.bn_source, {"x": x, "y": v.batch_norm, "text": [fmt(y) for y in v.batch_norm]})
        set_data(self.bn_ref, {"x0": x - 0.4, "x1": x + 0.4, "y": v.batch_norm_full,
                               "text": [fmt(y) for y in v.batch_norm_full]})
        top = max(3.0, float(np.abs(v.layer).max()), float(np.abs(v.batch_norm_full).max()),
                  float(np.abs(v.batch_norm).max()) if v.batch_norm.size else 0.0) * 1.1
        for fig in (self.bn_fig, self.ln_fig):
            fig.y_range.update(start=-top, end=top, reset_start=-top, reset_end=top)
        if self.compact:                # a view can be 320 px wide: titles that fit half of it
            self.bn_fig.title.text = "Batch of 1: undefined" if v.undefined else f"Example 1, batch of {v.batch}"
            self.ln_fig.title.text = "Example 1, in any batch"
        else:
            self.bn_fig.title.text = (f"Example 1 in a batch of {v.batch}: undefined" if v.undefined else
                                      f"Example 1 in a batch of {v.batch}")
            self.ln_fig.title.text = f"Example 1 in a batch of {v.batch}: the same as ever"
        set_note(self.shrink_note, (BATCH_OF_ONE_VIEW if self.compact else BATCH_OF_ONE) if v.undefined else "")
        if v.undefined:
            text = "Batch norm has no output for a batch of one; layer norm's bars are unchanged."
        elif v.batch == POOL:
            text = (f"With all {POOL} examples batch norm's bars sit exactly on the black dashes. "
                    "Now shrink the batch.")
        else:
            text = (f"Batch norm's output for example 1 has moved **{fmt(v.moved)}** (root-mean-square over "
                    f"the 12 features) from its value in the batch of {POOL} (black dashes), only because "
                    "the other examples changed. Layer norm's output has not moved at all.")
            if v.batch == 2:
                text += " With two examples every batch-norm value is −1 or +1: which one depends on the other example."
        self.shrink_text.object = text

    def _update_deep(self) -> None:
        s, m = self.state, self.state.model
        m.set_net(s.gain, "relu")
        layers = self.left.select_layers(s.depth)
        plain, layer = m.columns(("plain", "layer"), s.depth, layers=layers, x_axis="log")
        for grid, col in ((self.left, plain), (self.right, layer)):
            grid.update({"values": col.hists}, notes=col.notes, alerts=col.alerts, layer_labels=col.labels)
        self.spread.update({SPREAD_SERIES[0]: plain.spread, SPREAD_SERIES[1]: layer.spread})
        fit_log_ticks(self.spread.figure)
        last = plain.summaries[s.depth - 1]
        if last.n_bad:
            plain_text = f"overflows (inf or nan) by layer {s.depth}"
        elif last.size < 1e-4:
            plain_text = f"fades to about {fmt(last.size)} by layer {s.depth}"
        else:
            plain_text = f"has a standard deviation of {fmt(plain.std[-1])} at layer {s.depth}"
        self.deep_text.object = (
            f"Without normalization the signal {plain_text} (it starts at {fmt(plain.std[0])}). With layer "
            f"norm every layer's values have standard deviation {fmt(float(np.median(layer.std)))}, whatever "
            "the depth or the weight scale.")

    # -- layout -------------------------------------------------------------------
    def controls_by_name(self) -> dict:
        s = self.state
        w = pn.widgets
        wide = {"min_width": 290} if self.compact else {}     # in a view: room for the long label
        feature = w.IntSlider.from_param(s.param.feature, sizing_mode="stretch_width", **wide)
        example = w.IntSlider.from_param(s.param.example, sizing_mode="stretch_width", **wide)
        feature.visible, example.visible = s.method == "batch", s.method == "layer"

        def show(event):
            feature.visible, example.visible = event.new == "batch", event.new == "layer"

        s.param.watch(show, "method")
        return {
            "method": pn.Column(control_label("Normalize with"),
                                RadioButtonGroup.from_param(s.param.method, options=METHOD_OPTIONS,
                                                            sizing_mode="stretch_width", color="primary",
                                                            variant="outline"),
                                sizing_mode="stretch_width", margin=0),
            "feature": feature,
            "example": example,
            "_note": pn.pane.Markdown(
                "These pick the highlighted group in the table (section 1). The other sections have their "
                "controls next to their plots.",
                styles={"color": theme.MUTED, "font-size": "13px"}, margin=(6, 10)),
        }

    def prepare_view(self, name: str) -> None:
        self.compact = True
        if name == "axes":              # the two tables one above the other, each the view's width
            self.raw_fig.title.text = f"The batch: {N_EXAMPLES} examples"
            self.raw_fig.xaxis.axis_label = None      # the table below it has the same columns, labelled
            self.raw_fig.height, self.norm_fig.height = 180, 200
            for fig in (self.raw_fig, self.norm_fig):
                _fit_cell_labels(fig)
        elif name == "depth":           # eight rows at most, and the spread chart left to the page
            for grid in (self.left, self.right):
                grid.n_panels, grid.row_height = 8, 34
        self._update({"axes": TABLE, "shrink-batch": SHRINK, "depth": DEEP}[name])

    def section(self, name: str) -> list:
        s = self.state
        w = pn.widgets
        if name == "axes":
            basis = "1 1 100%" if self.compact else "1 1 340px"    # a view stacks the tables
            return [
                PageOnly(caption(
                    "The table is one small batch. The framed values are the ones the chosen method averages "
                    "over; it then does the same for every other column (batch norm) or row (layer norm). "
                    "**Try:** switch between the two methods and move the highlighted column or row. Notice "
                    "that after layer norm the loud example 6 looks like the others, while after batch norm "
                    "each feature is on the same scale.")),
                pn.FlexBox(*(pn.Column(fig, sizing_mode="stretch_width", styles={"flex": basis})
                             for fig in (self.raw_fig, self.norm_fig)),
                           sizing_mode="stretch_width", gap="0 16px"),
                self.table_text,
            ]
        if name == "shrink-batch":
            return [
                PageOnly(caption(
                    "Example 1 is normalized in a batch made of the first *B* examples of 64. Batch norm's "
                    "statistics come from the batch, so its output changes with the company example 1 keeps; "
                    "layer norm's come from example 1 alone. **Try:** drag the batch size down to 2, then 1.")),
                self.beside("batch", w.IntSlider.from_param(s.param.batch, sizing_mode="stretch_width",
                                                            max_width=520)),
                self.shrink_note,
                self.shrink,
                self.shrink_text,
            ]
        if name == "depth":
            depth = self.beside("depth", w.IntSlider.from_param(s.param.depth, sizing_mode="stretch_width",
                                                                min_width=200))
            gain = self.beside("gain", w.FloatSlider.from_param(s.param.gain, sizing_mode="stretch_width",
                                                                min_width=200))
            return [
                PageOnly(caption(
                    "The same kind of 256-unit ReLU stack as on the batch-norm page, run on 512 inputs with "
                    "the same weights, with and without layer norm before each layer. Histograms use one "
                    "signed-log axis (0, 1, 10, 100 evenly spaced) for every row; exact zeros are counted "
                    "in the title. **Try:** deepen the stack and raise or lower the weight scale.")),
                pn.FlexBox(pn.Column(depth, sizing_mode="stretch_width", styles={"flex": "1 1 240px"}),
                           pn.Column(gain, sizing_mode="stretch_width", styles={"flex": "1 1 240px"}),
                           sizing_mode="stretch_width", gap="0 16px"),
                self.deep,
                PageOnly(self.spread),
                self.deep_text,
                PageOnly(caption(
                    "Layer norm fixes each example's own mean and spread rather than each feature's, yet in "
                    "this stack it holds every layer steady just as batch norm does, and it would work the "
                    "same with a batch of one.")),
            ]
        raise KeyError(name)


def page(state: LayerNormState | None = None):
    """The servable layer-norm page."""
    return LayerNormPage(state).layout()


def view(name: str, state: LayerNormState | None = None, **kwargs):
    """One view of the layer-norm page, alone (see :data:`LayerNormPage.VIEWS`)."""
    return LayerNormPage(state).view(name, **kwargs)
