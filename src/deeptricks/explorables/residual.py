"""The residual-connections explorable: state (a ``param.Parameterized``) and page."""

from __future__ import annotations

import math
import time
from collections import OrderedDict

import numpy as np
import panel as pn
import param
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, CustomJSTickFormatter, FixedTicker, LegendItem

from deeptricks.ui import CurveChart, LayerLineChart, control_label, note_alert, readout, set_note, theme
from deeptricks.ui.a11y import RadioButtonGroup
from deeptricks.ui.sources import set_data
from deeptricks.ui.views import PageOnly, View

from . import paths
from .base import Coalesced, Prefetcher, caption
from .sections import Sectioned
from .state import ExplorableState
from .residual_model import (
    BATCH, EVAL_EVERY, MAX_DEPTH, RUN_NAMES, SHALLOW_DEPTH, TRAIN_DEPTH_CAP, TRAIN_LR, TRAIN_STEPS,
    TRAIN_WIDTH, WIDTH, ResidualModel, TrainingComparison, train_depth,
)

TITLE = "Residual connections"
SUMMARY = "Add the input back to the output: the gradient's “+1” keeps a hundred-block stack trainable."

INTRO = (
    "A residual connection adds a block's input back onto its output: the block computes "
    "**x + F(x)** instead of **F(x)**, and the gradient gets a way down that skips the block."
)
MORE = (
    "A *plain* net and a *residual* net of the same depth share every weight; only that shortcut "
    "differs. Follow the gradient down both stacks, look at the two routes it takes through a "
    "residual block, shrink the blocks' weights until they step aside, and train both nets on a "
    "small problem."
)

GAIN_MIN, GAIN_MAX = 0.01, 2.0
_LOG_STEP = 0.05          # the scale slider moves in steps of 10^0.05 ≈ ×1.12

# A view's controls share rows of cells 130 to 165 px wide: the button groups pad their
# buttons less, and the two radio boxes may wrap onto two lines.
_VIEW_BUTTONS_CSS = ".bk-btn { padding-left: 6px; padding-right: 6px; }"
_VIEW_RADIO_CSS = (".bk-input-group.bk-inline { flex-wrap: wrap; gap: 2px 10px; } "
                   ".bk-input-group.bk-inline > *:not(:first-child) { margin-left: 0; }")
# In a view the figures' titles and legends must fit 320 px.
_VIEW_TITLES = {"gradients": "Gradient size per block", "plus-one": "The two gradient terms",
                "identity": "Change made by each block"}
_VIEW_PATH_LABELS = ("shortcut term", "block term")


class ResidualState(ExplorableState):
    """The controls of the residual explorable, with their bounds."""

    depth = param.Integer(50, bounds=(1, MAX_DEPTH), label="Depth (blocks)",
                          doc="Number of blocks in both nets.")
    residual = param.Boolean(True, label="Your net",
                             doc="Which net is yours: the residual one (True) or the plain one. Both are "
                                 "always computed; yours is marked with a band and is the one section 2 shows.")
    norm = param.Selector(default="none", objects=["none", "batch", "layer"], label="Normalization",
                          doc="What each block applies to its input first: nothing, batch norm or layer norm.")
    activation = param.Selector(default="sigmoid", objects=["sigmoid", "tanh", "relu"], label="Activation",
                                doc="The nonlinearity in every block.")
    gain = param.Number(1.0, bounds=(GAIN_MIN, GAIN_MAX), label="Block-weight scale",
                        doc="Multiplies the blocks' initial weights (1 = He initialisation).")

    def __init__(self, **params):
        super().__init__(**params)
        self.model = ResidualModel()

    def views(self):
        """The gradient and identity data for the current controls (cached per setting)."""
        return self.model.compute(self.depth, self.norm, self.activation, self.gain)

    def training_key(self) -> tuple:
        """What the training comparison depends on (not the residual switch: it trains both)."""
        return (train_depth(self.depth), self.norm, self.activation, float(self.gain))


URL_PARAMS = {"depth": "depth", "residual": "residual", "norm": "norm", "activation": "activation",
              "gain": "scale"}
NET_PARAMS = ["depth", "norm", "activation", "gain"]
RESIDUAL_OPTIONS = {"plain": False, "residual, x + F(x)": True}


def _fmt(v: float) -> str:
    """A ratio or size for the readouts: 0.37, 1.6e-25, 2.0e+39."""
    if not math.isfinite(v):
        return "overflow (inf)" if v > 0 else "undefined"
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.3g}"
    return f"{v:.1e}".replace("e-0", "e-").replace("e+0", "e+")


def _round_gain(log_value: float) -> float:
    return float(np.clip(float(f"{10 ** float(log_value):.2g}"), GAIN_MIN, GAIN_MAX))


class ResidualPage(Sectioned):
    """Builds the figures once and refreshes their data when the state changes."""

    SLUG, TITLE, INTRO, MORE = "residual", TITLE, INTRO, MORE
    URL_PARAMS = URL_PARAMS
    PATH = paths.RESIDUAL
    VIEWS = (
        View("gradients", "1 · The gradient on its way down",
             "the gradient's size at every block, plain net against residual net, as the depth grows",
             "Read each line from the top block on the right down to block 1 on the left: with sigmoid "
             "and no normalization the plain net's gradient shrinks at every block, while the residual "
             "net's, with the same weights, stays near 1.",
             controls=("depth", "norm", "activation", "gain"), first_screen=True),
        View("plus-one", "2 · The +1: two ways back through a residual block",
             "the gradient's two terms in each residual block: the +1 shortcut and the block's own layers",
             "Back through y = x + F(x) the gradient is the sum of two terms: wherever the purple block term "
             "lies below the green shortcut term, the +1 is what carries the gradient down.",
             controls=("residual", "depth", "norm", "activation", "gain"), color=theme.GREEN),
        View("identity", "3 · A block can step aside",
             "how much each block changes its input as its weights shrink towards zero",
             "Slide the block-weight scale towards 0.01: the residual net's change drops towards 0, so its "
             "blocks become identities, while each plain block keeps replacing its input.",
             controls=("gain", "activation", "depth", "norm"), color=theme.VERMILLION,
             query={"activation": "tanh"}),
        View("training", "4 · Does the deep net train?",
             "train a shallow plain net, a deep plain net and a deep residual net on two half-moons",
             "Press the button: at the start settings the deep plain net's loss stays near 0.69, a coin "
             "toss's, while the residual net of the same depth falls about as low as the shallow net's.",
             controls=("depth", "norm", "activation", "gain")),
    )

    def __init__(self, state: ResidualState | None = None):
        self.state = state or ResidualState()

        # 1 · gradient per block, both nets
        self.grad_chart = LayerLineChart(
            ("plain", "residual"), name="residual-grad", log_y=True, max_decades=330,
            title="Gradient size at each block's input",
            x_label="block k (1 = next to the input)", y_label="‖dL/dxₖ‖ (log scale)", height=320)
        self.grad_yours = self._add_halo(self.grad_chart, "residual-grad-yours")
        self.grad_text = readout("residual-grad-text", top=2)

        # 2 · the two paths through your net's blocks
        self.paths_chart = LayerLineChart(
            ("shortcut", "block"), name="residual-paths", log_y=True, max_decades=330,
            title="Your net: the two gradient terms",
            x_label="block k", y_label="size (log scale)", height=300,
            colors=[theme.GREEN, theme.PURPLE])
        for item, label in zip(self.paths_chart.legend.items,
                               ("shortcut: dL/dy · 1", "block: dL/dy · dF/dx")):
            item.label = value(label)
        self.paths_text = readout("residual-paths-text", top=2)

        # 3 · how much each block changes its input
        self.change_chart = LayerLineChart(
            ("plain", "residual"), name="residual-change", log_y=True, max_decades=330,
            title="Change each block makes to its input",
            x_label="block k", y_label="‖xₖ₊₁ − xₖ‖ / ‖xₖ‖ (log)", height=300)
        self.change_yours = self._add_halo(self.change_chart, "residual-change-yours")
        self.change_text = readout("residual-change-text", top=2)
        self.sigmoid_note = note_alert("residual-sigmoid-note", alert_type="info")
        self.growth_note = note_alert("residual-growth-note", alert_type="warning")

        # 4 · training comparison
        self.train_chart = CurveChart(
            RUN_NAMES, name="residual-train", log_y=True, log_floor=1e-6,
            title="Loss on the training set", y_label="loss (log scale)",
            colors=[theme.BLACK, theme.BLUE, theme.VERMILLION], height=300,
            empty_text="No curves yet: press Run training comparison.")
        self.train_chart.lines["shallow plain"].glyph.line_dash = "dashed"
        self.train_button = pn.widgets.Button(label="Run training comparison", color="primary", width=240)
        self.train_button.on_click(self._on_train_click)
        self.train_status = readout("residual-train-status", top=2)
        self.runs: OrderedDict[tuple, TrainingComparison] = OrderedDict()
        self.active_run: TrainingComparison | None = None
        self._periodic = None
        self._shown_key = None

        # the gain slider moves on a log scale; the state keeps the plain number
        self.gain_slider = pn.widgets.FloatSlider(
            label="Block-weight scale", start=math.log10(GAIN_MIN), end=math.log10(GAIN_MAX),
            step=_LOG_STEP, value=math.log10(self.state.gain), sizing_mode="stretch_width",
            format=CustomJSTickFormatter(code="return String(Number(Math.pow(10, tick).toPrecision(2)))"))
        self.gain_slider.param.watch(self._on_gain_slider, "value")

        self.update = Coalesced(self._update, with_changes=True)
        self.state.param.watch(self.update, [*NET_PARAMS, "residual"])
        self.prefetch = Prefetcher(self.state, lambda v: self.state.model.compute(
            v["depth"], v["norm"], v["activation"], v["gain"]), ["depth"], ranges=["depth"])
        self.state.param.watch(self._sync_gain_slider, ["gain"])
        self._update({*NET_PARAMS, "residual"})

    # -- construction helpers ----------------------------------------------
    @staticmethod
    def _add_halo(chart: LayerLineChart, name: str) -> ColumnDataSource:
        """A wide pale band under "your net"'s line, with its own legend entry."""
        src = ColumnDataSource({"x": [], "y": []}, name=f"{name}-source")
        halo = chart.figure.line("x", "y", source=src, line_width=14, line_alpha=0.22,
                                 line_color=theme.RESIDUAL, line_cap="round", line_join="round",
                                 level="underlay", name=f"{name}-band")
        chart.legend.items.append(LegendItem(label=value("your net"), renderers=[halo]))
        src.tags = [halo]  # keep a handle for recolouring
        return src

    # -- state → views ------------------------------------------------------
    def _on_gain_slider(self, event) -> None:
        # follows every value while dragging: the Coalesced update skips intermediate states
        if abs(math.log10(self.state.gain) - event.new) < 1e-9:
            return  # the slider was moved to match the state (e.g. from the URL)
        self.state.gain = _round_gain(event.new)

    def _sync_gain_slider(self, event) -> None:
        target = math.log10(event.new)
        if abs(target - self.gain_slider.value) > _LOG_STEP / 2:
            self.gain_slider.value = target

    def _update(self, dirty: set[str]) -> None:
        s = self.state
        v = s.views()
        yours = v.net(s.residual)
        with pn.io.hold():
            if dirty & set(NET_PARAMS):
                if self.shows("gradients"):
                    self.grad_chart.update({"plain": _display(v.plain, "grad"),
                                            "residual": _display(v.residual, "grad")})
                    _fit_log_ticks(self.grad_chart.figure)
                if self.shows("identity"):
                    self.change_chart.update({"plain": _display(v.plain, "rel_change"),
                                              "residual": _display(v.residual, "rel_change")})
                    _fit_log_ticks(self.change_chart.figure)
                if self.shows("training"):
                    self._update_training_view()
            if dirty & {*NET_PARAMS, "residual"}:
                if self.shows("gradients"):
                    self._set_halo(self.grad_yours, self.grad_chart, s.residual)
                    self.grad_text.object = self._grad_text(v)
                if self.shows("identity"):
                    self._set_halo(self.change_yours, self.change_chart, s.residual)
                    self.change_text.object = self._change_text(v)
                    set_note(self.sigmoid_note, self._sigmoid_note(v))
                if self.shows("plus-one"):
                    if yours.residual:
                        self.paths_chart.update({"shortcut": _display(yours, "identity_path"),
                                                 "block": _display(yours, "block_path")})
                    else:
                        self.paths_chart.update({"shortcut": [], "block": _display(yours, "block_path")})
                    _fit_log_ticks(self.paths_chart.figure)
                    self.paths_text.object = self._paths_text(yours)
                set_note(self.growth_note, self._growth_note(v))
        self.prefetch.schedule()

    @staticmethod
    def _set_halo(src: ColumnDataSource, chart: LayerLineChart, residual: bool) -> None:
        series = "residual" if residual else "plain"
        data = chart.sources[series].data
        set_data(src, {"x": list(data["x"]), "y": list(data["y"])})
        halo = src.tags[0] if src.tags else None
        colour = theme.RESIDUAL if residual else theme.PLAIN
        if halo is not None and halo.glyph.line_color != colour:
            halo.glyph.line_color = colour

    # -- readouts -------------------------------------------------------------
    def _grad_text(self, v) -> str:
        d = v.depth
        if d == 1:
            return "With a single block there is nothing to compare yet: add depth."
        p, r = v.plain, v.residual
        text = (f"Block 1 receives **{_fmt(p.first_over_last)} ×** the gradient that block {d} receives "
                f"in the **plain** net, and **{_fmt(r.first_over_last)} ×** in the **residual** net.")
        if p.zero_grad_blocks:
            text += (f" In {p.zero_grad_blocks} plain blocks the gradient is exactly 0: it fell below "
                     "about 1e-308, the smallest number a float64 holds, and underflowed.")
        return text

    def _paths_text(self, yours) -> str:
        if not yours.residual:
            same = "" if self.alone else " (the same as the blue line above)"
            return ("**Your net is plain:** it has no shortcut, so the only way back is through each block's "
                    f"layers, the purple line{same}. Choose *residual* under *Your net* to add the shortcut term.")
        ratio = yours.path_ratio()
        if not math.isfinite(ratio):
            return "The block term could not be compared with the shortcut term here (overflow)."
        if ratio < 1:
            how = "most of the gradient that reaches each block's input comes through the +1"
        else:
            how = "the block term is the larger one here; the shortcut term still adds the gradient from above"
        return (f"In the median block the block term is **{_fmt(ratio)} ×** the shortcut term: {how}.")

    def _change_text(self, v) -> str:
        s = self.state
        d = v.depth
        return (f"Across all {d} blocks together, ‖x{_sub(d)} − x₀‖ / ‖x₀‖ is **{_fmt(v.residual.total_change)}** "
                f"for the residual net and **{_fmt(v.plain.total_change)}** for the plain net "
                f"(block-weight scale {s.gain:g}).")

    @staticmethod
    def _sigmoid_note(v) -> str:
        if v.activation != "sigmoid":
            return ""
        return ("With **sigmoid**, a block cannot fade into an identity by shrinking its weights: σ(0) = ½, "
                "so with tiny weights every block still adds about ½ to each unit. Pick **tanh** or **relu**, "
                "whose output at 0 is 0, to watch blocks step aside.")

    @staticmethod
    def _growth_note(v) -> str:
        parts = []
        for name, net in (("residual", v.residual), ("plain", v.plain)):
            g = net.growth
            if net.overflowed:
                parts.append(f"the {name} net overflowed: some values went beyond float64's range (drawn as ×)")
            elif math.isfinite(g) and g > 1e3:
                parts.append(f"the {name} net's signal grew {_fmt(g)} × from input to top")
        if not parts:
            return ""
        text = "Exploding signal: " + "; ".join(parts) + ". "
        if v.residual.growth > 1e3 and v.norm == "none":
            text += ("Each residual block adds its output onto the running sum and, without normalization, "
                     "nothing scales the sum back down; the gradient grows with it on the way down. Real "
                     "residual nets normalize each block's input: choose batch or layer.")
        else:
            text += "Lower the block-weight scale or add normalization."
        return text

    # -- training -----------------------------------------------------------------
    def facts(self) -> dict:
        """The numbers the guided path quotes (see :mod:`.paths`)."""
        s, v = self.state, self.state.views()
        run = self.runs.get(s.training_key())
        done = run is not None and run.done
        loss = {n: (run.final_loss(n) if done else float("nan")) for n in RUN_NAMES}
        return {"depth": s.depth, "activation": s.activation, "norm": s.norm, "gain": s.gain,
                "residual": s.residual, "plain_ratio": v.plain.first_over_last,
                "res_ratio": v.residual.first_over_last, "path_ratio": v.residual.path_ratio(),
                "plain_change": v.plain.total_change, "res_change": v.residual.total_change,
                "trained": done, "loss_shallow": loss[RUN_NAMES[0]], "loss_plain": loss[RUN_NAMES[1]],
                "loss_res": loss[RUN_NAMES[2]]}

    def _on_train_click(self, event=None) -> None:
        self.run_training()

    def run_training(self) -> None:
        """Start (or resume) the comparison for the current settings; synchronous outside a server."""
        key = self.state.training_key()
        run = self.runs.get(key)
        if run is None:
            run = TrainingComparison(*key)
            self.runs[key] = run
            while len(self.runs) > 12:
                self.runs.popitem(last=False)
        self.runs.move_to_end(key)
        self.active_run = run
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None:
            while not run.done:
                run.advance(10 * EVAL_EVERY)
            self._show_run(run)
            self.active_run = None
            return
        if self._periodic is None:
            self._periodic = pn.state.add_periodic_callback(self._train_tick, period=30)
        self._show_run(run)

    def _train_tick(self, budget: float = 0.12) -> None:
        run = self.active_run
        if run is None:
            self._stop_periodic()
            return
        t0 = time.perf_counter()
        while not run.done:                       # at least one chunk, then until the budget is used
            run.advance(EVAL_EVERY)
            if time.perf_counter() - t0 >= budget:
                break
        self._show_run(run)
        if run.done:
            self.active_run = None
            self._stop_periodic()
            self._show_run(run)

    def _stop_periodic(self) -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def _update_training_view(self) -> None:
        """Settings changed: show the run kept for them (or an empty chart); pause another run."""
        key = self.state.training_key()
        if self.active_run is not None and self._run_key(self.active_run) != key:
            self.active_run = None
            self._stop_periodic()
        if key == self._shown_key:
            return
        run = self.runs.get(key)
        if run is not None:
            self._show_run(run)
        else:
            self._shown_key = key
            self.train_chart.clear()
            _fit_log_ticks(self.train_chart.figure)
            self.train_button.disabled = False
            self.train_button.label = "Run training comparison"
            d = key[0]
            self.train_status.object = (
                f"Not run yet for these settings. The button trains a plain net of {SHALLOW_DEPTH} blocks, "
                f"a plain net of {d} blocks and a residual net of {d} blocks (a few seconds).")

    @staticmethod
    def _run_key(run: TrainingComparison) -> tuple:
        return (run.depth, run.norm, run.activation, run.gain)

    def _show_run(self, run: TrainingComparison) -> None:
        self._shown_key = self._run_key(run)
        if run.done and getattr(self, "guide", None) is not None:
            self.guide.refresh()               # the path quotes the final losses
        with pn.io.hold():
            self.train_chart.replace({n: run.curves[n] for n in RUN_NAMES})
            _fit_log_ticks(self.train_chart.figure)
            running = self.active_run is run and not run.done
            self.train_button.disabled = running or run.done
            self.train_button.label = ("Training…" if running else "Done for these settings" if run.done
                                       else "Resume training comparison")
            if run.done:
                parts = [f"{n} **{_fmt(run.final_loss(n))}** ({100 * run.final_acc(n):.0f}% right)"
                         for n in RUN_NAMES]
                text = f"After {run.total_steps} steps, loss (accuracy): " + ", ".join(parts) + "."
                stopped = [f"{n}: {run.message(n)}" for n in RUN_NAMES if run.message(n)]
                if stopped:
                    text += " " + " ".join(stopped)
            elif running:
                text = f"Training… step {run.step} of {run.total_steps}."
            else:
                text = f"Paused at step {run.step} of {run.total_steps}: press the button to continue."
            self.train_status.object = text

    # -- layout -------------------------------------------------------------------
    def controls_by_name(self) -> dict:
        s = self.state
        w = pn.widgets
        alone = self.alone is not None
        buttons = dict(stylesheets=[_VIEW_BUTTONS_CSS], margin=(5, 4, 5, 10)) if alone else {}
        radio = dict(stylesheets=[_VIEW_RADIO_CSS]) if alone else {}
        return {
            "depth": w.IntSlider.from_param(s.param.depth, sizing_mode="stretch_width"),
            "residual": pn.Column(control_label("Your net"),
                                  w.RadioBoxGroup.from_param(s.param.residual, options=RESIDUAL_OPTIONS,
                                                             inline=True, sizing_mode="stretch_width", **radio),
                                  sizing_mode="stretch_width", margin=0),
            "norm": pn.Column(control_label("Normalization"),
                              RadioButtonGroup.from_param(s.param.norm, sizing_mode="stretch_width",
                                                          color="primary", variant="outline", **buttons),
                              sizing_mode="stretch_width", margin=0),
            "activation": pn.Column(control_label("Activation"),
                                    RadioButtonGroup.from_param(s.param.activation, sizing_mode="stretch_width",
                                                                color="primary", variant="outline", **buttons),
                                    sizing_mode="stretch_width", margin=0),
            "gain": self.gain_slider,
            "_about": pn.pane.Markdown(
                f"Both nets: {WIDTH} units wide, the same weights, {BATCH} random inputs. "
                "Your net is drawn with a pale band.",
                styles={"color": theme.MUTED, "font-size": "13px"}, margin=(4, 10)),
        }

    def page_notes(self) -> list:
        return [self.growth_note]

    def prepare_view(self, name: str) -> None:
        # Alone, the gradient and change charts compare the two nets: the "your net" band
        # ties them to section 2 of the page, so a view leaves it (and its switch) out.
        for chart, band in ((self.grad_chart, self.grad_yours), (self.change_chart, self.change_yours)):
            halo = band.tags[0]
            halo.visible = False
            chart.legend.items = [item for item in chart.legend.items if halo not in item.renderers]
        # titles, legends and the empty chart's note that fit 320 px
        charts = {"gradients": self.grad_chart, "plus-one": self.paths_chart, "identity": self.change_chart}
        if name in charts:
            charts[name].figure.title.text = _VIEW_TITLES[name]
        for item, label in zip(self.paths_chart.legend.items, _VIEW_PATH_LABELS):
            item.label = value(label)
        self.train_chart.empty_note.text = "No curves yet: press the button."
        self.train_chart.legend.update(ncols=2, spacing=8)   # the three runs in one row overflow 390 px
        self.paths_text.object = self._paths_text(self.state.views().net(self.state.residual))

    def section(self, name: str) -> list:
        if name == "gradients":
            return [
                self.grad_chart,
                self.grad_text,
                PageOnly(caption(
                    "Each point is the size of the gradient arriving at a block's input after one backward "
                    "pass over the 128 inputs. The loss is a fixed random mix of the top block's outputs, "
                    "scaled so that the gradient arriving at the top has size 1. With sigmoid and no "
                    "normalization, each plain block multiplies the gradient by its weights and by sigmoid's "
                    "slope, which is never more than ¼, so it shrinks by about the same factor at every block: "
                    "on this logarithmic axis, a straight line down to almost nothing at block 1. The residual "
                    "net, with the same weights, keeps it near 1. **Try:** drag the depth; pick batch or layer "
                    "normalization (the plain net's gradient stops fading, and may even grow); try tanh or "
                    "relu.")),
            ]
        if name == "plus-one":
            return [
                self.paths_chart,
                self.paths_text,
                PageOnly(caption(
                    "Backward through a block y = x + F(x), the chain rule gives dL/dx = dL/dy · (1 + dF/dx): "
                    "two terms that are added. The **shortcut term** dL/dy · 1 (green) hands the gradient from "
                    "above to the block below unchanged. The **block term** dL/dy · dF/dx (purple) goes through "
                    "the block's layers and is scaled by their weights and slopes. Where the block term is small "
                    "(sigmoid, or a small block-weight scale) the shortcut alone carries the gradient down, "
                    "so it cannot fade the way it does in the plain net.")),
            ]
        if name == "identity":
            return [
                self.change_chart,
                self.change_text,
                self.sigmoid_note,
                PageOnly(caption(
                    "Slide the **block-weight scale** toward 0.01 (with tanh or relu). A residual block's own "
                    "output F(x) shrinks with its weights, so x + F(x) approaches x: the block becomes an "
                    "identity, and the net behaves as if it had fewer blocks. That is the easy way out for a "
                    "block with nothing useful to add. A plain block cannot do this: its output is F(x) alone, "
                    "so with small weights it throws its input away and the change stays near 1.")),
            ]
        if name == "training":
            return [
                pn.Row(self.train_button, sizing_mode="stretch_width"),
                self.train_status,
                self.train_chart,
                PageOnly(caption(
                    f"Three nets learn to separate two interleaved half-moons (400 points): a plain net of "
                    f"{SHALLOW_DEPTH} blocks (dashed), a plain net of the chosen depth (at most "
                    f"{TRAIN_DEPTH_CAP} blocks, to keep it quick) and a residual net of that depth. All are "
                    f"{TRAIN_WIDTH} units wide and use your normalization, activation and block-weight scale, "
                    f"the same data and seed, and Adam with learning rate {TRAIN_LR:g} for {TRAIN_STEPS} steps "
                    f"of 64 examples. The curves show the loss on the whole training set every {EVAL_EVERY} "
                    "steps. At the start settings the deep plain net stays near 0.69 (ln 2, the loss of a coin "
                    "toss) while the residual net of the same depth ends about as low as the shallow one. Each "
                    "setting's run is kept, so you can switch back without training again.")),
            ]
        raise KeyError(name)


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Labelled ticks for a log axis from ``lo`` to ``hi``.

    Bokeh's LogTicker switches to linear ticks when the range spans less than two
    decades, which leaves the lower part of such an axis without labels.
    """
    if not (lo > 0 and hi > lo and math.isfinite(hi)):
        return []
    llo, lhi = math.log10(lo), math.log10(hi)
    span = lhi - llo
    if span < 2.5:
        mantissas = (1, 2, 5) if span > 1.8 else (1, 2, 3, 5) if span > 0.8 else (1, 1.5, 2, 3, 5, 7)
        ticks = [m * 10.0 ** k for k in range(math.floor(llo) - 1, math.ceil(lhi) + 1) for m in mantissas]
    else:
        step = max(1, math.ceil(span / 8))
        ticks = [10.0 ** k for k in range(max(math.ceil(llo), -307), math.floor(lhi) + 1) if k % step == 0]
    return [float(f"{t:.3g}") for t in ticks if lo <= t <= hi]


def _fit_log_ticks(fig) -> None:
    """Give a log-axis figure labelled ticks that fit its current y range."""
    ticker = fig.yaxis[0].ticker
    if not isinstance(ticker, FixedTicker):
        ticker = FixedTicker(ticks=[], minor_ticks=[])
        fig.yaxis[0].ticker = ticker
    ticks = _log_ticks(fig.y_range.start, fig.y_range.end)
    if list(ticker.ticks) != ticks:
        ticker.ticks = ticks


def _display(net, key: str) -> np.ndarray:
    """A view array for a chart: entries that overflowed become inf, which the chart marks ×."""
    a = getattr(net, key)
    bad = net.nonfinite.get(key)
    if bad is not None and bad.any():
        a = np.where(bad, np.inf, a)
    return a


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(n: int) -> str:
    return str(n).translate(_SUB)


def page(state: ResidualState | None = None):
    """The servable residual-connections page."""
    return ResidualPage(state).layout()


def view(name: str, state: ResidualState | None = None, **kwargs):
    """One view of the residual-connections page, alone (see :data:`ResidualPage.VIEWS`)."""
    return ResidualPage(state).view(name, **kwargs)
