"""The dropout explorable: state (a ``param.Parameterized``) and page."""

from __future__ import annotations

from functools import partial

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, Range1d, Slope
from bokeh.plotting import figure

from deeptricks.ui import CurveChart, HistogramGrid, LayerLineChart, UnitGrid, control_label, LiveText, strong, theme

from deeptricks.ui.a11y import RadioButtonGroup
from deeptricks.ui.charts import fit_log_ticks, nice_step
from deeptricks.ui.sources import set_data

from deeptricks.ui.views import PageOnly, View

from . import paths
from .base import Coalesced, Prefetcher, caption
from .sections import Sectioned
from .shared import ViewCache, shared
from .state import ExplorableState
from .dropout_model import DEPTH, ENS_MAX, DropoutModel

TITLE = "Dropout"
SUMMARY = "Silence random units while training; see why the survivors are scaled up."

INTRO = (
    "While a network trains, dropout switches each unit off at random with probability **p** and "
    "multiplies the survivors by **1/(1−p)**; at test time nothing is dropped."
)
MORE = (
    "The net has 10 ReLU layers of 256 units and sees 512 random inputs. Its weights never change: "
    "only dropout does. Drag the rate, flip between training and test mode, and watch one layer's "
    "units, a read-out of that layer, and every layer's activations."
)


class DropoutState(ExplorableState):
    """The controls of the dropout explorable, with their bounds."""

    p = param.Number(0.5, bounds=(0.0, 0.9), step=0.05, label="Dropout rate p",
                     doc="Probability that each unit is switched off in a training forward pass.")
    mode = param.Selector(default="train", objects=["train", "test"], label="Mode",
                          doc="Training: units are dropped. Test: every unit is on.")
    scale = param.Boolean(True, label="Scale the survivors by 1/(1−p)",
                          doc="Inverted dropout. Turn it off to see the deployment bug.")
    layer = param.Integer(1, bounds=(1, DEPTH), label="Layer in the unit grid",
                          doc="Which of the 10 layers the unit grid and the read-out show.")
    k = param.Integer(ENS_MAX, bounds=(1, ENS_MAX), label="Thinned networks averaged (K)",
                      doc="How many random masks the training-time average uses.")
    mask_seed = param.Integer(0, bounds=(0, 10**9), label="Mask seed",
                              doc="Which random masks are drawn; Resample moves to the next.")
    playing = param.Boolean(False, label="Play: a new mask every 250 ms")
    resample = param.Action(lambda self: self.param.update(mask_seed=self.mask_seed + 1),
                            label="Resample the masks")

    def __init__(self, **params):
        super().__init__(**params)
        self.model, self.model_lock = shared(DropoutModel)

    def view_key(self) -> tuple:
        """The current setting of the controls the views depend on (the views' cache key)."""
        return tuple(getattr(self, name) for name in VIEW_CONTROLS)

    def views(self, **values):
        """The data every plot shows, for the current controls (or for ``values`` of them
        where given: the prefetcher asks for a neighbouring setting)."""
        v = {name: values.get(name, getattr(self, name)) for name in VIEW_CONTROLS}
        with self.model_lock:                      # the model is shared by the process's sessions
            return VIEWS.get(tuple(v.values()), partial(self._compute, **v))

    def _compute(self, p, scale, mode, layer, k, mask_seed):
        if self.model.mask_seed != mask_seed:
            self.model.resample(mask_seed)
        return self.model.compute(p, scale=scale, mode=mode, layer=layer, k=k)


VIEW_CONTROLS = ("p", "scale", "mode", "layer", "k", "mask_seed")
"""The controls the views depend on (``playing`` and ``resample`` only change ``mask_seed``)."""


VIEWS = ViewCache(512)
"""Computed views, shared by the process's sessions (see ViewCache)."""

URL_PARAMS = {"p": "p", "mode": "mode", "scale": "scale", "layer": "layer", "k": "k", "mask_seed": "seed"}


class DropoutPage(Sectioned):
    """Builds the figures once and refreshes their data when the state changes."""

    SLUG, TITLE, INTRO, MORE = "dropout", TITLE, INTRO, MORE
    URL_PARAMS = URL_PARAMS
    PATH = paths.DROPOUT
    VIEWS = (
        View("units", "One layer's units, one example",
             "the unit grid: drag p and watch units drop out and the survivors glow",
             "Each square is a unit of one layer; × marks a dropped unit, and the survivors are "
             "scaled by 1/(1−p), so they glow hotter as p rises.",
             controls=("p", "mode", "layer", "playing"), first_screen=True),
        View("readout", "Training vs test: why the survivors are scaled",
             "training-time average against test-time output, with the scaling switch and K",
             "Each dot is one output: across its test-time value, up its training-time value averaged "
             "over K masks; with scaling the cloud sits on the diagonal, without it the slope drops to 1−p.",
             controls=("p", "scale", "k"), color=theme.TRAIN),
        View("layers", "Every layer, training vs test",
             "every layer's activation histogram in training and test mode",
             "Each row is one layer's non-zero activations in training and test mode; as p grows, "
             "training adds zeros and spreads out the rest.",
             controls=("p", "mode", "scale")),
    )

    def __init__(self, state: DropoutState | None = None):
        self.state = state or DropoutState()
        m = self.state.model
        # steady layouts: a flag or a wider tick label appearing mid-drag would move the page
        self.units = UnitGrid(m.width, name="dropout-units", low=0.0, high=m.grid_high,
                              value_label="activation", height=300).steady_layout()
        self.dropped_source = ColumnDataSource({"col": [], "row": []}, name="dropout-dropped")
        self.units.figure.scatter("col", "row", source=self.dropped_source, marker="x", size=7,
                                  line_color="#8c959f", line_width=1.5, name="dropout-dropped-marks")
        self.unit_text = LiveText("dropout-unit-text")

        self.readout_source = ColumnDataSource({"test": [], "train": []}, name="dropout-readout")
        self.readout = figure(name="dropout-readout-figure", height=300, min_width=200,
                              sizing_mode="stretch_width", tools="", x_range=Range1d(-1, 1),
                              y_range=Range1d(-1, 1), title="Read-out: training average vs test")
        self.readout.add_layout(Slope(gradient=1, y_intercept=0, line_color=theme.MUTED,
                                      line_dash="dashed", line_width=1.5, name="dropout-diagonal"))
        self.readout.scatter("test", "train", source=self.readout_source, size=6, alpha=0.7,
                             color=theme.TRAIN, name="dropout-readout-points")
        self.readout.xaxis.axis_label = "test-time output"
        self.readout.yaxis.axis_label = "training-time output, averaged over K masks"
        theme.style_figure(self.readout)
        self.readout.min_border_left = 64
        self.readout_text = LiveText("dropout-readout-text")
        self.ensemble = CurveChart(("average of K thinned networks",), name="dropout-ensemble",
                                   title="Gap to the full network, by K",
                                   x_label="K, the number of thinned networks averaged",
                                   y_label="relative error", log_y=True, height=300,
                                   colors=[theme.TRAIN]).steady_layout()

        self.hists = HistogramGrid(("train", "test"), name="dropout-hist", n_panels=DEPTH,
                                   x_label="activation (non-zero values)", row_height=52)
        self.means = LayerLineChart(("train", "test"), name="dropout-means", log_y=True,
                                    title="Mean activation per layer", y_label="mean activation",
                                    height=260).steady_layout()

        self.update = Coalesced(self._update)
        self.state.param.watch(self.update, list(VIEW_CONTROLS))
        self.state.param.watch(self._play, ["playing"])
        self._periodic = None
        # the sliders' neighbours (not other masks: a prefetch must not redraw the shared model's)
        self.prefetch = Prefetcher(self.state, lambda values: self.state.views(**values), ["p", "layer", "k"],
                                   ranges=["p"])
        self._update()

    # -- updates ------------------------------------------------------------
    def _update(self) -> None:
        s, v = self.state, self.state.views()
        m = self.state.model
        with pn.io.hold():
            if self.shows("units"):
                self._update_units(s, v, m)
            if self.shows("readout"):
                self._update_readout(s, v)
            if self.shows("layers"):
                self._update_layers(s, v)
        self.prefetch.schedule()

    def _update_units(self, s, v, m) -> None:
        self.units.update(v.grid)
        n_cols = int(np.ceil(np.sqrt(m.width)))
        idx = np.flatnonzero(v.grid_dropped)
        set_data(self.dropped_source, {"col": idx % n_cols, "row": idx // n_cols})
        if s.mode == "test":
            self.unit_text.object = (f"<p>{strong('Test mode:')} every unit of layer {s.layer} is on and "
                                     "nothing is scaled; p has no effect here.</p>")
        else:
            mult = 1 / (1 - s.p) if s.scale else 1.0
            self.unit_text.object = (
                f"<p>{strong(f'Training, p = {s.p:.2f}:')} {int(v.grid_dropped.sum())} of {m.width} units "
                f"dropped (×) for this example, {100 * v.frac_dropped:.1f}% over the whole batch; "
                f"survivors × {mult:.2f}.</p>")

    def _update_readout(self, s, v) -> None:
        lim = float(max(np.abs(v.test_out).max(), np.abs(v.avg_out).max(), 1e-6)) * 1.08
        step = nice_step(2 * lim)                 # a round limit: the axes stay put while p moves
        lim = float(np.ceil(lim / step) * step)
        set_data(self.readout_source, {"test": v.test_out, "train": v.avg_out})
        self.readout.x_range.update(start=-lim, end=lim)
        self.readout.y_range.update(start=-lim, end=lim)
        verdict = ("close to 1: on average, training matches test" if abs(v.ratio - 1) < 0.1
                   else f"far from 1: training delivers about {v.ratio:.2f}× the test signal")
        self.readout_text.object = (
            f"<p>Slope of the cloud (average training ÷ test output): {strong(f'{v.ratio:.2f}')}, "
            f"{verdict}. Relative error with K = {s.k}: {strong(f'{v.rel_error:.3f}')}.</p>")
        self.ensemble.replace({"average of K thinned networks": (np.arange(1, ENS_MAX + 1), v.ensemble_err)})
        fit_log_ticks(self.ensemble.figure)     # 0.2 and 0.1 too: Bokeh's own ticks stop at 0.5

    def _update_layers(self, s, v) -> None:
        labels = [self._hist_label(i, h) for i, h in enumerate(v.hist_train)]
        notes = [f"mean {mt:.2g} train, {mte:.2g} test" for mt, mte in zip(
            v.layer_means["train"], v.layer_means["test"])]
        # the same setting, the same bars: laid out once per process (see HistogramGrid.update)
        key = s.view_key() if VIEWS.enabled else None
        self.hists.update({"train": [h[:2] for h in v.hist_train], "test": [h[:2] for h in v.hist_test]},
                          notes=notes, layer_labels=labels, key=key)
        self.means.update({"train": v.layer_means["train"], "test": v.layer_means["test"]})

    @staticmethod
    def _hist_label(i, hist_train) -> str:
        counts, _, over, zeros = hist_train
        total = counts.sum() + over + zeros
        text = f"layer {i + 1} · {100 * zeros / total:.0f}% zeros"
        if over and 100 * over / total >= 0.5:
            text += f" · {100 * over / total:.0f}% →"
        return text

    def _play(self, event) -> None:
        if event.new and self._periodic is None:
            self._periodic = pn.state.add_periodic_callback(self._tick, period=250)
        elif not event.new and self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def _tick(self) -> None:
        self.state.mask_seed += 1

    # -- layout -------------------------------------------------------------
    def controls_by_name(self) -> dict:
        s = self.state
        w = pn.widgets
        return {
            "p": w.FloatSlider.from_param(s.param.p, sizing_mode="stretch_width", name="Dropout rate p"),
            "mode": pn.Column(control_label("Mode"),
                              RadioButtonGroup.from_param(s.param.mode, sizing_mode="stretch_width"),
                              sizing_mode="stretch_width", margin=0),
            "scale": w.Checkbox.from_param(s.param.scale),
            "layer": w.IntSlider.from_param(s.param.layer, sizing_mode="stretch_width"),
            "k": w.IntSlider.from_param(s.param.k, sizing_mode="stretch_width"),
            "playing": pn.FlexBox(w.Button.from_param(s.param.resample),
                                  w.Toggle.from_param(s.param.playing, name="▶ Play"), flex_wrap="wrap",
                                  sizing_mode="stretch_width"),
        }

    def facts(self) -> dict:
        """The numbers the guided path quotes (see :mod:`.paths`)."""
        s, v = self.state, self.state.views()
        width = self.state.model.width
        dropped = int(v.grid_dropped.sum())
        zeros = [h[3] / max(h[0].sum() + h[2] + h[3], 1) for h in v.hist_train]
        return {"p": s.p, "keep": 1 - s.p, "mult": 1 / (1 - s.p) if s.scale else 1.0, "width": width,
                "dropped": dropped, "survivors": width - dropped, "share": 100 * v.frac_dropped,
                "slope": v.ratio, "jump": 1 / v.ratio if v.ratio else float("inf"), "k": s.k,
                "layer": s.layer, "rel_error": v.rel_error, "mode": s.mode, "scale": s.scale,
                "zeros_last": 100 * zeros[-1], "mean_last_train": float(v.layer_means["train"][-1]),
                "mean_last_test": float(v.layer_means["test"][-1])}

    def prepare_view(self, name: str) -> None:
        if name == "layers":                  # ten rows fit a course page's column
            self.hists.row_height = 42
            self._update()

    def section(self, name: str) -> list:
        if name == "units":
            return [pn.FlexBox(
                pn.Column(self.units, sizing_mode="stretch_width", styles={"flex": "1 1 300px", "max-width": "480px"}),
                pn.Column(self.unit_text,
                          PageOnly(caption(
                              "Each square is a unit of the chosen layer, coloured on a fixed scale (dark = 0). "
                              "Units marked × were dropped; the rest are multiplied by 1/(1−p), so as p rises "
                              "the few survivors glow hotter. Some units are dark without a ×: the ReLU already "
                              "gave them 0. Press Play to draw a fresh mask four times a second.")),
                          sizing_mode="stretch_width", styles={"flex": "1 1 260px"}),
                sizing_mode="stretch_width", gap="0 16px")]
        if name == "readout":
            return [
                pn.FlexBox(pn.Column(self.readout, self.readout_text, sizing_mode="stretch_width",
                                     styles={"flex": "1 1 300px"}),
                           pn.Column(self.ensemble, sizing_mode="stretch_width", styles={"flex": "1 1 300px"}),
                           sizing_mode="stretch_width", gap="0 16px"),
                PageOnly(caption(
                    "A linear read-out of the chosen layer, for 16 examples. Each dot is one output: across "
                    "is its test-time value, up is its training-time value averaged over K random masks. With "
                    "scaling the dots sit on the dashed diagonal: each unit delivers, on average, exactly what "
                    "it delivers at test time, so averaging K thinned networks approaches the full one "
                    "(the distance chart). "
                    "Untick *Scale the survivors* and the cloud tilts to slope 1−p: a model trained that way "
                    "would see its signal jump by 1/(1−p) the moment it is deployed."))]
        if name == "layers":
            return [
                self.hists,
                PageOnly(self.means),
                PageOnly(caption(
                    "Histograms of each layer's non-zero outputs over the whole batch, on one fixed axis; "
                    "each row's label gives the share of exact zeros in training (ReLU's and dropout's) and, "
                    "after →, the share beyond the right edge. In training mode the zeros grow with p and the "
                    "rest spreads out. Scaling matches each unit's "
                    "mean at its own layer, but after a ReLU the extra noise also nudges the next layer's mean "
                    "up, and through ten untrained layers that compounds: one reason dropout is used sparingly "
                    "in deep stacks and usually only on some layers."))]
        raise KeyError(name)


def page(state: DropoutState | None = None):
    """The servable dropout page."""
    return DropoutPage(state).layout()


def view(name: str, state: DropoutState | None = None, **kwargs):
    """One view of the dropout page, alone (see :data:`DropoutPage.VIEWS`)."""
    return DropoutPage(state).view(name, **kwargs)
