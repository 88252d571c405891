"""The batch-norm explorable: state (a ``param.Parameterized``) and page."""

from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, Legend, LegendItem, Range1d, Span
from bokeh.plotting import figure

from deeptricks.ui import (HistogramGrid, LayerLineChart, comparison, control_label, note_alert, readout,
                           section_title, set_note, theme)

from deeptricks.ui.a11y import RadioButtonGroup
from deeptricks.ui.charts import fit_log_ticks
from deeptricks.ui.sources import set_data

from deeptricks.ui.views import PageOnly, View

from . import paths
from .base import Coalesced, Prefetcher, caption
from .sections import Sectioned
from .shared import ViewCache, shared
from .state import ExplorableState
from .batch_norm_model import BATCH, MAX_DEPTH, MOMENTUM, N_DRAWS, BatchNormModel
from .layer_stats import SHARED_LIM, fmt

TITLE = "Batch normalization"
SUMMARY = "Standardize every feature over the batch, so each layer receives values of a sane size."

INTRO = (
    "**Batch normalization** resets each feature at every layer to the batch's mean 0 and standard "
    "deviation 1, so a deep stack's signal can neither blow up nor fade away."
)
MORE = (
    "Without it, a deep stack makes its signal grow or shrink a little at every layer until the numbers "
    "are huge, tiny, or all the same. BatchNorm subtracts the batch's mean and divides by the batch's "
    "standard deviation (then applies a learned scale and shift, left at 1 and 0 here). One network of "
    "256 units per layer runs on the same 512 inputs with the same weights twice: without BatchNorm on "
    "the left, with it on the right."
)

ACT_OPTIONS = {"ReLU": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
AXIS_OPTIONS = {f"shared ±{SHARED_LIM:g}": "shared", "log scale": "log", "fit each layer": "fit"}
GRID_MODES = {"shared": "shared", "log": "symlog", "fit": "per_layer"}
MODE_OPTIONS = {"training (batch statistics)": "train", "eval (running statistics)": "eval"}


class BatchNormState(ExplorableState):
    """The controls of the batch-norm explorable, with their bounds."""

    depth = param.Integer(10, bounds=(1, MAX_DEPTH), label="Depth (layers)",
                          doc="How many layers both nets have.")
    gain = param.Number(1.5, bounds=(0.25, 3.0), step=0.05, label="Weight scale (init gain)",
                        doc="Multiplies every initial weight; 1 is He initialisation, which keeps ReLU "
                            "layers' size steady on average.")
    activation = param.Selector(default="relu", objects=list(ACT_OPTIONS.values()), label="Activation",
                                doc="The nonlinearity after every layer.")
    bn = param.Boolean(True, label="BatchNorm in the right-hand net",
                       doc="Untick to run the right-hand net without BatchNorm: it becomes the left one.")
    x_axis = param.Selector(default="log", objects=list(AXIS_OPTIONS.values()), label="Histogram x axis",
                            doc="One fixed axis ±5 for every row, one shared signed-log axis (0, 1, 10, "
                                "100, …: shows any size), or each row fitted to its own values (shows shape).")
    batch = param.Integer(16, bounds=(1, BATCH), label="Batch size",
                          doc="How many examples share a batch in the one-example view.")
    mode = param.Selector(default="train", objects=list(MODE_OPTIONS.values()), label="BatchNorm mode",
                          doc="Training mode normalizes with the batch's statistics, eval mode with the "
                              "running averages.")
    warmup = param.Integer(0, bounds=(0, 200), label="Running-average updates (warm-up)",
                           doc="How many training-mode passes have updated the running averages.")

    def __init__(self, **params):
        super().__init__(**params)
        self.model, self.model_lock = shared(BatchNormModel)


VIEWS = ViewCache(256)
"""Computed columns and mode views, shared by the process's sessions (see ViewCache)."""

URL_PARAMS = {"depth": "depth", "gain": "gain", "activation": "act", "bn": "bn", "x_axis": "x",
              "batch": "batch", "mode": "mode", "warmup": "warmup"}
NET = {"depth", "gain", "activation"}
COMPARE = NET | {"bn", "mode", "x_axis"}
ONE = {"batch", "mode"}
MODES = NET | {"warmup"}

LEFT_TITLE = "Without BatchNorm: xₖ"
SPREAD_SERIES = ("without BatchNorm", "with BatchNorm")
MODE_SERIES = ("training mode", "eval mode")

_NO_BATCH_STATS = (
    "**A batch of one has no batch statistics.** In training mode BatchNorm uses the batch's mean and "
    "standard deviation; with one example the mean *is* the example and the standard deviation is 0, "
    "so every feature would come out as 0 (then just the learned shift β). Libraries refuse: PyTorch "
    "raises an error here, and so does this page's engine."
)
BATCH_OF_ONE = _NO_BATCH_STATS + (
    " Pick a batch of 2 or more, switch to **eval mode** below (it uses running averages instead), "
    "or use **layer norm**, which normalizes each example on its own."
)
BATCH_OF_ONE_ALONE = _NO_BATCH_STATS + (
    " Pick a batch of 2 or more; for single examples, eval mode's running averages or layer norm, "
    "which normalizes each example on its own, have no such problem."
)
"""The note in the batch-noise view alone, which has no eval-mode switch below."""


_TITLES: dict = {}


def _title_html(text: str, color: str) -> str:
    """The HTML of ``section_title(text, color)``, built once per title."""
    if (text, color) not in _TITLES:
        _TITLES[(text, color)] = section_title(text, color).object
    return _TITLES[(text, color)]


class BatchNormPage(Sectioned):
    """Builds the figures once and refreshes their data when the state changes."""

    SLUG, TITLE, INTRO, MORE = "batch_norm", TITLE, INTRO, MORE
    URL_PARAMS = URL_PARAMS
    PATH = paths.BATCH_NORM
    VIEWS = (
        View("compare", "1 · Every layer, without and with BatchNorm",
             "every layer's values side by side, without and with BatchNorm, with depth, gain and activation",
             "Each row is one layer's values over the batch: without BatchNorm (left) they grow, shrink "
             "or collapse with depth; with it (right) every layer keeps std 1.",
             controls=("depth", "gain", "activation", "bn"), first_screen=True),
        View("batch-noise", "2 · One example, many batches",
             "one example normalized in 20 random batches: small batches make its output jitter",
             "Each dot is one example normalized within a different random batch: the smaller the batch, "
             "the wider the dots scatter around the black dash (the whole data set's statistics).",
             color=theme.WITH_TRICK),
        View("running-stats", "3 · Training mode vs eval mode",
             "training mode against eval mode layer by layer, and how many updates the running averages need",
             "Eval mode uses running averages: with no warm-up its line drifts like a plain net's, and "
             "a few dozen updates bring it onto the training-mode line.",
             color=theme.ORANGE),
    )

    def __init__(self, state: BatchNormState | None = None):
        self.state = state or BatchNormState()
        m = self.state.model
        self._batch_of_one = BATCH_OF_ONE

        # 1 · every layer, without and with BatchNorm
        grid = dict(n_panels=12, row_height=46, x_label="value")
        self.left = HistogramGrid(("values",), name="bn-left", colors=[theme.WITHOUT_TRICK], **grid)
        self.right = HistogramGrid(("values",), name="bn-right", colors=[theme.WITH_TRICK], **grid)
        self.compare = comparison(self.left, self.right, LEFT_TITLE, "", name="bn-compare")
        self.right_title = self.compare[1][0]
        self.spread = LayerLineChart(
            SPREAD_SERIES, name="bn-spread", log_y=True, max_decades=60, height=260,
            title="How different the examples still are, layer by layer",
            x_label="layer k", y_label="std across the batch (log)")
        self.spread.figure.add_layout(Span(location=1.0, dimension="width", line_color=theme.AXIS,
                                           line_dash="dashed", line_width=1, name="bn-spread-one"))
        self.spread_text = readout("bn-spread-text")

        # 2 · one example, many batches
        self.one_source = ColumnDataSource({"x": [], "y": [], "feature": [], "batch_no": [], "text": []},
                                           name="bn-one-source")
        self.ref_source = ColumnDataSource({"x0": [], "x1": [], "y": [], "feature": [], "text": []},
                                           name="bn-one-ref")
        self.one_fig = figure(name="bn-one-figure", height=280, min_width=240, sizing_mode="stretch_width",
                              x_range=Range1d(0.45, 6.55), y_range=Range1d(-3, 3), tools="",
                              title="One example in 20 batches")
        dots = self.one_fig.scatter("x", "y", source=self.one_source, size=7, fill_alpha=0.55,
                                    color=theme.WITH_TRICK, name="bn-one-dots")
        refs = self.one_fig.segment("x0", "y", "x1", "y", source=self.ref_source, line_width=3,
                                    line_color=theme.BLACK, name="bn-one-refs")
        self.one_fig.add_tools(HoverTool(renderers=[dots], tooltips=[
            ("feature", "@feature"), ("batch", "#@batch_no"), ("normalized", "@text")]))
        self.one_fig.add_tools(HoverTool(renderers=[refs], tooltips=[
            ("feature", "@feature"), ("with all the data's statistics", "@text")]))
        legend = Legend(items=[LegendItem(label="in one batch", renderers=[dots]),
                               LegendItem(label="with all the data's statistics", renderers=[refs])],
                        orientation="horizontal", location="top_left", name="bn-one-legend")
        theme.style_legend(legend)
        legend.click_policy = "none"
        self.one_fig.add_layout(legend, "above")
        feats = [int(f) for f in m.features]
        self.one_fig.xaxis.ticker = FixedTicker(ticks=list(range(1, len(feats) + 1)))
        self.one_fig.xaxis.major_label_overrides = {i + 1: f"#{f + 1}" for i, f in enumerate(feats)}
        self.one_fig.xaxis.axis_label = "feature"
        self.one_fig.xgrid.visible = False
        self.one_fig.yaxis.axis_label = "normalized value"
        theme.style_figure(self.one_fig)

        self.curve_source = ColumnDataSource({"batch": [], "spread": [], "text": []}, name="bn-curve-source")
        self.now_source = ColumnDataSource({"batch": [], "spread": [], "text": []}, name="bn-curve-now")
        self.curve_fig = figure(name="bn-curve-figure", height=280, min_width=220, sizing_mode="stretch_width",
                                x_axis_type="log", y_axis_type="log", tools="",
                                x_range=Range1d(1.6, 700), y_range=Range1d(0.03, 1.2),
                                title="Spread shrinks as the batch grows")
        self.curve_fig.line("batch", "spread", source=self.curve_source, line_color=theme.WITH_TRICK,
                            line_width=2, name="bn-curve-line")
        pts = self.curve_fig.scatter("batch", "spread", source=self.curve_source, size=6,
                                     color=theme.WITH_TRICK, name="bn-curve-points")
        now = self.curve_fig.scatter("batch", "spread", source=self.now_source, size=15, marker="circle",
                                     fill_color=None, line_color=theme.BLACK, line_width=2.5,
                                     name="bn-curve-now-marker")
        self.curve_fig.add_tools(HoverTool(renderers=[pts, now], tooltips=[("batch", "@batch"),
                                                                          ("spread", "@text")]))
        self.curve_fig.xaxis.axis_label = "batch size (log)"
        self.curve_fig.yaxis.axis_label = "spread across batches (log)"
        self.curve_fig.xaxis.ticker = FixedTicker(ticks=[2, 4, 8, 16, 32, 64, 128, 256, 512])
        theme.style_figure(self.curve_fig)
        fit_log_ticks(self.curve_fig)
        self.one_text = readout("bn-one-text")
        self.batch_note = note_alert("bn-batch-note", alert_type="warning")

        # 3 · training vs eval mode
        self.modes = LayerLineChart(MODE_SERIES, name="bn-modes", log_y=True, max_decades=60, height=260,
                                    colors=[theme.GREEN, theme.ORANGE],
                                    title="Std of BatchNorm's output, layer by layer",
                                    x_label="layer k", y_label="std (log)")
        self.modes.figure.add_layout(Span(location=1.0, dimension="width", line_color=theme.AXIS,
                                          line_dash="dashed", line_width=1, name="bn-modes-one"))
        self.modes_text = readout("bn-modes-text")
        self.running_table = pn.pane.HTML("", sizing_mode="stretch_width", name="bn-running-table",
                                          stylesheets=[_TABLE_CSS], margin=(0, 8))

        self.update = Coalesced(self._update, with_changes=True)
        self.state.param.watch(self.update, list(URL_PARAMS))
        self.prefetch = Prefetcher(self.state, self._warm, ["gain", "depth", "batch", "warmup"], ranges=["gain"])
        self._update(set(URL_PARAMS))

    # -- state → views ------------------------------------------------------------
    def _update(self, dirty: set[str]) -> None:
        s = self.state
        with s.model_lock, pn.io.hold():           # the model is shared by the process's sessions
            s.model.set_net(s.gain, s.activation)
            eval_now = s.mode == "eval"
            if self.shows("compare") and (dirty & COMPARE or ("warmup" in dirty and eval_now and s.bn)):
                self._update_compare()
            if self.shows("running-stats") and dirty & MODES:
                self._update_modes()
            if self.shows("batch-noise") and (dirty & ONE or ("warmup" in dirty and eval_now)):
                self._update_one()
        self.prefetch.schedule()

    def _columns(self, v: dict):
        """``(kind, (left, right))``: the comparison's two columns for the control values ``v``."""
        m = self.state.model
        layers = self.left.select_layers(v["depth"])
        kind = ("eval" if v["mode"] == "eval" else "train") if v["bn"] else "plain"
        warm = v["warmup"] if kind == "eval" else 0          # only eval mode depends on the warm-up
        key = ("columns", v["gain"], v["activation"], kind, v["depth"], warm, v["x_axis"], tuple(layers))

        def compute():
            m.set_net(v["gain"], v["activation"])
            return m.columns(("plain", kind), v["depth"], warmup=v["warmup"], x_axis=v["x_axis"], layers=layers)
        return kind, VIEWS.get(key, compute)

    def _modes(self, v: dict):
        """The training-vs-eval views for the control values ``v``."""
        m = self.state.model

        def compute():
            m.set_net(v["gain"], v["activation"])
            return m.modes(v["depth"], v["warmup"])
        return VIEWS.get(("modes", v["gain"], v["activation"], v["depth"], v["warmup"]), compute)

    def _warm(self, v: dict) -> None:
        """Fill the caches for the control values ``v`` (the prefetcher's neighbours); the shared
        model keeps the layers it had computed for the current setting."""
        m = self.state.model
        with self.state.model_lock, m.preserved():
            self._columns(v)
            self._modes(v)
            m.one_example(v["batch"], v["mode"], v["warmup"])

    def facts(self) -> dict:
        """The numbers the guided path quotes (see :mod:`.paths`)."""
        s, m = self.state, self.state.model
        v = self._values()
        with s.model_lock, m.preserved():
            kind, (left, right) = self._columns(v)
            modes = self._modes(v)
            one = m.one_example(s.batch, s.mode, s.warmup)
            one16 = m.one_example(16, "train", 0)
        first, last = float(left.std[0]), float(left.std[-1])
        return {"depth": s.depth, "gain": s.gain, "bn": s.bn, "mode": s.mode, "batch": s.batch,
                "warmup": s.warmup, "std_first": first, "std_last": last,
                "std_growth": last / first if first > 0 else float("nan"),
                "per_layer": (last / first) ** (1 / max(s.depth - 1, 1)) if first > 0 and last > 0 else float("nan"),
                "bn_lo": float(right.std.min()), "bn_hi": float(right.std.max()),
                "one_spread": float(one.spread), "one_undefined": one.undefined, "spread16": float(one16.spread),
                "train_last": float(modes.std_train[-1]), "eval_last": float(modes.std_eval[-1])}

    def _values(self) -> dict:
        return {name: getattr(self.state, name) for name in URL_PARAMS}

    def _update_compare(self) -> None:
        s = self.state
        kind, (left, right) = self._columns(self._values())
        x_mode = GRID_MODES[s.x_axis]
        for grid, col in ((self.left, left), (self.right, right)):
            if grid.x_mode != x_mode:
                grid._last = None            # nothing to redraw: the update below replaces it
                grid.x_mode = x_mode
            grid.update({"values": col.hists}, notes=col.notes, alerts=col.alerts, layer_labels=col.labels)
        if not s.bn:
            title = "BatchNorm off: the left net again, xₖ"
        elif kind == "eval":
            title = "With BatchNorm (eval mode): BN(xₖ)"
        else:
            title = "With BatchNorm: BN(xₖ)"
        html = _title_html(title, theme.WITH_TRICK)
        if self.right_title.object != html:
            self.right_title.object = html
        self.spread.update({SPREAD_SERIES[0]: left.spread, SPREAD_SERIES[1]: right.spread if s.bn else []})
        fit_log_ticks(self.spread.figure)
        self.spread.figure.title.text = ("How different the examples still are, layer by layer"
                                         + (" (right-hand net in eval mode)" if kind == "eval" else ""))
        self.spread_text.object = self._spread_text(left, right, kind)

    def _spread_text(self, left, right, kind: str) -> str:
        s = self.state
        last = left.summaries[s.depth - 1]
        first = left.summaries[0]
        if last.n_bad:
            plain = f"the values overflowed (inf or nan) by layer {s.depth}"
        elif last.collapsed:
            plain = (f"by layer {s.depth} every example gives the same values: the differences between "
                     f"examples shrank from {fmt(first.spread)} to {fmt(last.spread)}, below float32's "
                     f"precision at that size")
        else:
            ratio = left.spread[-1] / left.spread[0] if left.spread[0] > 0 else float("nan")
            plain = (f"the examples' spread goes from {fmt(left.spread[0])} at layer 1 to "
                     f"{fmt(left.spread[-1])} at layer {s.depth} (×{fmt(ratio)})")
        text = f"**Without BatchNorm** {plain}."
        if kind == "plain":
            text += " BatchNorm is off, so the right-hand net is the same net: tick it again to compare."
        else:
            lo, hi = float(np.min(right.spread)), float(np.max(right.spread))
            mode = "eval mode" if kind == "eval" else "training mode"
            if hi - lo < 0.005:
                text += f" **With BatchNorm** ({mode}) it is {lo:.2f} at every layer."
            else:
                text += f" **With BatchNorm** ({mode}) it ranges from {fmt(lo)} to {fmt(hi)}."
        return text

    def _update_one(self) -> None:
        s, m = self.state, self.state.model
        v = m.one_example(s.batch, s.mode, s.warmup)
        n_f = len(v.features)
        offsets = np.linspace(-0.27, 0.27, N_DRAWS)
        if v.undefined:
            set_data(self.one_source, {"x": [], "y": [], "feature": [], "batch_no": [], "text": []})
        else:
            xs = (np.arange(1, n_f + 1)[None, :] + offsets[:, None]).ravel()
            ys = v.values.ravel()
            set_data(self.one_source, {
                "x": xs, "y": ys, "feature": np.tile(v.features + 1, N_DRAWS),
                "batch_no": np.repeat(np.arange(1, N_DRAWS + 1), n_f), "text": [fmt(y) for y in ys]})
        pos = np.arange(1, n_f + 1)
        set_data(self.ref_source, {"x0": pos - 0.36, "x1": pos + 0.36, "y": v.reference,
                                   "feature": v.features + 1, "text": [fmt(y) for y in v.reference]})
        top = max(2.5, float(np.abs(v.reference).max()),
                  float(np.abs(v.values).max()) if v.values.size else 0.0) * 1.12
        self.one_fig.y_range.update(start=-top, end=top, reset_start=-top, reset_end=top)
        set_note(self.batch_note, self._batch_of_one if v.undefined else "")

        sizes, spreads = m.spread_curve()
        set_data(self.curve_source, {"batch": sizes, "spread": spreads, "text": [fmt(x) for x in spreads]})
        if s.mode == "train" and not v.undefined:
            set_data(self.now_source, {"batch": [v.batch], "spread": [max(v.spread, 1e-3)], "text": [fmt(v.spread)]})
        else:
            set_data(self.now_source, {"batch": [], "spread": [], "text": []})

        if v.undefined:
            text = "No dots: with a batch of one there is nothing to normalize with (see the note above)."
        elif s.mode == "eval":
            warm = ("the running averages have not been updated yet (mean 0, variance 1), so the "
                    "output is just the raw input, nowhere near the black dashes"
                    if s.warmup == 0 else
                    f"after {s.warmup} warm-up updates the running averages are close to the data's")
            text = (f"**Eval mode:** all 20 batches give the same value (spread 0): the batch no longer "
                    f"matters. Here {warm}.")
        else:
            text = (f"**Training mode, batch of {v.batch}:** the example's value moves by about "
                    f"**±{fmt(v.spread)}** from batch to batch (standard deviation over the 20 batches, "
                    f"averaged over the 6 features).")
            if v.batch == 2:
                text += (" With two examples every feature is exactly −1 or +1 (or close to 0 when the two "
                         "values nearly match): the other example decides which.")
            elif v.batch >= 256:
                text += " The dots hug the black dashes: a big batch's statistics are nearly the data's."
        self.one_text.object = text

    def _update_modes(self) -> None:
        s = self.state
        v = self._modes(self._values())
        self.modes.update({MODE_SERIES[0]: v.std_train, MODE_SERIES[1]: v.std_eval})
        fit_log_ticks(self.modes.figure)
        left = (1 - MOMENTUM) ** s.warmup
        worst = float(np.max(np.abs(np.log10(np.maximum(v.std_eval, 1e-300)))))
        if s.warmup == 0:
            text = ("**No updates yet:** the running averages are still mean 0 and variance 1, so eval mode "
                    "does not normalize at all and its line is the plain net's drift.")
        else:
            verdict = ("Eval mode now matches training mode at every layer (within 10%)."
                       if worst < np.log10(1.1) else
                       "Eval mode is still off: the running averages have not caught up yet.")
            text = (f"After **{s.warmup}** updates the running averages still hold **{100 * left:.2g}%** of "
                    f"their starting values (0.9 to the power {s.warmup}). {verdict}")
        self.modes_text.object = text
        rows = "".join(
            f"<tr><td>{int(f) + 1}</td><td>{fmt(bm)}</td><td>{fmt(rm)}</td><td>{fmt(bv)}</td><td>{fmt(rv)}</td></tr>"
            for f, bm, rm, bv, rv in zip(v.features, v.batch_mean, v.running_mean, v.batch_var, v.running_var))
        self.running_table.object = (
            f'<table class="bn-stats"><caption>Layer {v.layer}, a few features: the batch\'s statistics '
            f"vs the running averages</caption><thead><tr><th>feature</th><th>batch mean</th>"
            f"<th>running mean</th><th>batch variance</th><th>running variance</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")

    # -- layout -------------------------------------------------------------------
    def controls_by_name(self) -> dict:
        s = self.state
        w = pn.widgets
        return {
            "depth": w.IntSlider.from_param(s.param.depth, sizing_mode="stretch_width"),
            # alone, a control may get a box 150 px wide: the long title would overflow it
            "gain": w.FloatSlider.from_param(s.param.gain, sizing_mode="stretch_width",
                                             **({"name": "Weight scale"} if self.alone else {})),
            "activation": pn.Column(
                control_label("Activation"),
                RadioButtonGroup.from_param(s.param.activation, options=ACT_OPTIONS, sizing_mode="stretch_width",
                                            color="primary", variant="outline"),
                sizing_mode="stretch_width", margin=0),
            "bn": w.Checkbox.from_param(s.param.bn),
            "_nets": pn.pane.Markdown(
                "Both nets: 256 units per layer, the same weights, the same 512 inputs (features with "
                "their own means and scales, as real data has).",
                styles={"color": theme.MUTED, "font-size": "13px"}, margin=(6, 10)),
        }

    def prepare_view(self, name: str) -> None:
        if name == "compare":               # both columns and the controls within 650 px
            for grid in (self.left, self.right):
                grid.n_panels, grid.row_height = VIEW_ROWS, VIEW_ROW_HEIGHT
            self._update(COMPARE)
        elif name == "batch-noise":         # no eval-mode switch below to point to
            self._batch_of_one = BATCH_OF_ONE_ALONE
            self.curve_fig.title.text = "Spread by batch size"      # the page's title is cut off here
            self.curve_fig.xaxis.ticker.ticks = [2, 8, 32, 128, 512]  # nine labels run together at 700 px
            legend = self.one_fig.select_one({"name": "bn-one-legend"})
            legend.update(orientation="vertical", spacing=0)         # its two entries fit 320 px
            self._update(ONE)
        elif name == "running-stats":
            self.modes.figure.title.text = "Std of BatchNorm's output"   # fits 320 px
            self.modes.figure.height = 230
            self.running_table.stylesheets = [_TABLE_CSS, _TABLE_CSS_NARROW]

    def section(self, name: str) -> list:
        s = self.state
        w = pn.widgets
        if name == "compare":
            axis = self.beside("x_axis", pn.Column(
                control_label("Histogram x axis"),
                RadioButtonGroup.from_param(s.param.x_axis, options=AXIS_OPTIONS, color="primary",
                                            variant="outline", sizing_mode="stretch_width", max_width=380),
                sizing_mode="stretch_width", margin=(0, 0, 4, 0)))
            return [
                PageOnly(caption(
                    "Each row is one layer: every value its weights receive over the whole batch, and "
                    "their standard deviation. **Try:** raise the depth to 30: on the left the values grow "
                    "layer after layer, on the right each layer stays near mean 0, std 1. Choose **sigmoid** "
                    "and depth 60: the left *collapses*, every example ending up with the same values. "
                    "Untick BatchNorm and the right side drifts like the left.")),
                axis,
                self.compare,
                PageOnly(caption(
                    "On the log scale 0, 1, 10 and 100 are evenly spaced, so any size fits; on ±5, *off* "
                    "is the share of values beyond the axis. Exact zeros (ReLU makes about half) are counted "
                    "in the row's label, not drawn; on the right they are the spike, moved by BatchNorm.")),
                PageOnly(self.spread),
                PageOnly(self.spread_text),
                PageOnly(caption(
                    "Per feature, how much the 512 examples differ (the standard deviation across the "
                    "batch, averaged over features), on a log scale. BatchNorm sets exactly this to 1 "
                    "(dashed line); without it the signal explodes or fades away.")),
            ]
        if name == "batch-noise":
            return [
                PageOnly(caption(
                    "BatchNorm's mean and standard deviation come from the batch, so an example's output "
                    "depends on which other examples share its batch. One example goes through the first "
                    "BatchNorm layer in 20 random batches; each dot is its normalized value in one of "
                    "them, each black dash the value with the whole data set's statistics. **Try:** "
                    "shrink the batch to 2, then to 1.")),
                self.beside("batch", w.IntSlider.from_param(s.param.batch, sizing_mode="stretch_width",
                                                            max_width=520)),
                self.batch_note,
                pn.FlexBox(pn.Column(self.one_fig, sizing_mode="stretch_width", styles={"flex": "3 1 320px"}),
                           pn.Column(self.curve_fig, sizing_mode="stretch_width", styles={"flex": "2 1 240px"}),
                           sizing_mode="stretch_width", gap="0 16px"),
                self.one_text,
                PageOnly(caption(
                    "That batch-to-batch jitter is noise added to every training step. It acts as a mild "
                    "regularizer with batches of a few dozen, but with tiny batches it swamps the signal.")),
            ]
        if name == "running-stats":
            warmup = self.beside("warmup", w.IntSlider.from_param(s.param.warmup, sizing_mode="stretch_width",
                                                                  min_width=220))
            if self.alone == name:
                # alone, the mode switch would move nothing: it acts on sections 1 and 2
                settings = pn.Column(warmup, sizing_mode="stretch_width", margin=0, max_width=520)
            else:
                mode = self.beside("mode", pn.Column(
                    control_label("BatchNorm mode"),
                    RadioButtonGroup.from_param(s.param.mode, options=MODE_OPTIONS, color="primary",
                                                variant="outline"),
                    margin=0))
                settings = pn.FlexBox(mode, pn.Column(warmup, sizing_mode="stretch_width",
                                                      styles={"flex": "1 1 260px"}),
                                      sizing_mode="stretch_width", gap="0 16px", align_items="flex-end")
            return [
                PageOnly(caption(
                    "While training, BatchNorm also keeps running averages of each feature's mean and "
                    f"variance: every batch moves them {MOMENTUM:.0%} of the way (momentum {MOMENTUM}). In "
                    "eval mode it normalizes with those averages instead, so an example's output no longer "
                    "depends on its batch. Here the averages start at mean 0, variance 1 and are updated "
                    "from training-mode passes over the same batch, weights fixed. **Try:** with 0 updates "
                    "eval mode does not normalize and the drift is back; by about 50 it agrees with training "
                    "mode. The mode also applies to the right-hand histograms and to the one-example view.")),
                settings,
                self.modes,
                self.modes_text,
                self.running_table,
            ]
        raise KeyError(name)


VIEW_ROWS, VIEW_ROW_HEIGHT = 6, 34
"""The comparison's rows in the compare view alone (the page shows up to 12 of 46 px)."""

_TABLE_CSS = """
table.bn-stats { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px 0; }
table.bn-stats caption { text-align: left; color: #57606a; padding-bottom: 4px; }
table.bn-stats th, table.bn-stats td { padding: 2px 10px; text-align: right; border-bottom: 1px solid #e6e8eb; }
table.bn-stats th { font-weight: 600; }
"""


_TABLE_CSS_NARROW = """
:host { overflow-x: auto; }
table.bn-stats { font-size: 12px; }
table.bn-stats th, table.bn-stats td { padding: 2px 5px; }
"""
"""The table in the running-stats view alone: its five columns fit 320 px."""


def page(state: BatchNormState | None = None):
    """The servable batch-norm page."""
    return BatchNormPage(state).layout()


def view(name: str, state: BatchNormState | None = None, **kwargs):
    """One view of the batch-norm page, alone (see :data:`BatchNormPage.VIEWS`)."""
    return BatchNormPage(state).view(name, **kwargs)
