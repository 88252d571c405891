"""The lab: train a network live and see why each trick matters. State and page.

:class:`LabState` holds the controls (every one is in the page's address);
the nets are trained by :mod:`.lab_model` (a :class:`LabSession` of one or two
runs) and drawn by the views of :mod:`.lab_views`; :class:`LabPage` builds
those views once, lays them out, and decides what each training tick updates.

Training never blocks the page for long: while it runs, a periodic callback
(every ``TICK_MS``) trains as many steps as fit in a time budget, then pushes
one batched update (new curve points streamed, the decision boundary redrawn,
the slower per-layer views every few ticks), unless the browser has not drawn
the last one yet (:mod:`deeptricks.ui.pacing`): then the tick only trains.
Pause stops the callback, Step trains one step, Reset rebuilds the nets. Changing any data, network or
training control rebuilds the nets from the new settings; if training was
running it goes on running with the fresh nets, so a learner can sweep a
slider and watch each setting train from scratch.
"""

from __future__ import annotations

import math
import time
import urllib.parse

import numpy as np
import panel as pn
import param
from bokeh.core.properties import value
from bokeh.models import ColorBar, FixedTicker, Span

from deeptricks.core import DATASETS, DROPOUT_AT, NORMS, OPTIMIZERS
from deeptricks.ui import (HistogramGrid, LayerLineChart, LiveMarkdown, choice_slider, control_label, note_alert,
                           page as page_template, section_title, set_note, theme, url_sync)
from deeptricks.ui.a11y import RadioButtonGroup
from deeptricks.ui.pacing import Pacer

from deeptricks.ui.views import PageOnly, View, on_page

from . import paths
from .base import Coalesced, caption
from .sections import FOCUS_CSS, Sectioned
from .state import ExplorableState
from .lab_model import (ACTIVATION_NAMES, BATCH_SIZES, LEARNING_RATES, MAX_DEPTH, MAX_WIDTH, PRESETS,
                        OFF_PATH, SWEEP_FRACTIONS, SWEEP_STEPS, CorruptionSweep, LabSession, RunConfig, SpeedMeter)
from .lab_views import (A_COLOR, B_COLOR, CURVE_NOTE, SHIFT_NOTE, SWEEP_NOTE, WINDOW_NOTE, BatchCurveChart, BoundaryView, grad_chart,
                        half, pair, percentile_chart, title_html)

TITLE = "The lab: train a network"
SUMMARY = "Train a net live, or two side by side, and watch each trick change the curves and the boundary."

INTRO = (
    "The tricks are claims about *training*: here you train a small net live on points in the "
    "plane, alone or beside a second one that differs in one trick."
)
MORE = (
    "Pick the data, build the network, press **Start**, and watch the decision boundary form and the "
    "loss fall. **Compare** trains two networks on the same data from the same starting weights, "
    "differing only in the tricks you choose. Each **preset** sets up one claim from the papers and "
    "says what to look for; the guided path walks through them in turn."
)

TICK_MS = 100             # the page updates about 10 times a second while training
TICK_BUDGET = 0.082       # seconds of work per tick (training + drawing), leaving time to send
TRAIN_BUDGET = 0.066       # at most this much of it training
FIRST_BUDGET = 0.03       # seconds of training before the first update after Start
SLOW_EVERY = 5            # per-layer histograms and gradient profile: every 5th tick
LESION_EVERY = 20         # "delete one block": every 20th tick while training, if cheap
BOUNDARY_COST = 0.015     # redraw the boundary every other tick (or less) when it costs more
N_HIST = 6                # histogram panels per net
SWEEP_LABEL = f"Sweep the fraction: {len(SWEEP_FRACTIONS)} runs of {SWEEP_STEPS:,} steps"

PRESET_OPTIONS = {"(none: your own settings)": "none",
                  **{f"{i}. {p.title}": k for i, (k, p) in enumerate(PRESETS.items(), 1)}}
_CONFIG_PARAMS = ("dataset", "noise", "n_train", "shuffle_labels", "corrupt", "depth", "width", "activation",
                  "norm", "residual", "dropout", "dropout_at", "gain", "optimizer", "lr", "batch_size", "seed")
_B_PARAMS = ("b_depth", "b_norm", "b_residual", "b_dropout", "b_dropout_at")
_DROPOUT_AT_DOC = ("every: each block drops part of its output, so the next block's batch norm "
                   "normalizes dropped-out values (dropout before batch norm). last: only the last "
                   "block drops, after the last batch norm.")


class LabState(ExplorableState):
    """The lab's controls, with their bounds (every one is in the page's address)."""

    preset = param.Selector(default="none", objects=["none", *PRESETS], label="Preset",
                            doc="Load a configuration that shows one claim, with a note on what to look for.")
    dataset = param.Selector(default="moons", objects=list(DATASETS), label="Dataset")
    noise = param.Number(0.1, bounds=(0.0, 0.5), step=0.01, label="Noise",
                         doc="Standard deviation of the jitter added to every point.")
    n_train = param.Integer(200, bounds=(10, 1000), step=10, label="Training points",
                            doc="Size of the training set (the test set has 400 points; 500 for noisy).")
    shuffle_labels = param.Boolean(False, label="Shuffle the training labels",
                                   doc="Give the training points random labels (test labels stay true).")
    corrupt = param.Number(0.0, bounds=(0.0, 1.0), step=0.05, label="Corrupted labels",
                           doc="The fraction of training labels replaced by random ones (test labels stay true).")
    depth = param.Integer(6, bounds=(1, MAX_DEPTH), label="Depth (blocks)")
    width = param.Integer(32, bounds=(4, MAX_WIDTH), label="Width (units per block)")
    activation = param.Selector(default="relu", objects=list(ACTIVATION_NAMES), label="Activation")
    norm = param.Selector(default="batch", objects=list(NORMS), label="Normalization")
    residual = param.Boolean(False, label="Residual connections")
    dropout = param.Number(0.1, bounds=(0.0, 0.9), step=0.05, label="Dropout rate")
    dropout_at = param.Selector(default="every", objects=list(DROPOUT_AT), label="Dropout in blocks",
                                doc=_DROPOUT_AT_DOC)
    gain = param.Number(1.0, bounds=(0.1, 3.0), step=0.05, label="Init gain (× He)",
                        doc="Multiplies every block's initial weights; 1 is He initialisation.")
    optimizer = param.Selector(default="adam", objects=list(OPTIMIZERS), label="Optimizer")
    lr = param.Selector(default=0.01, objects=list(LEARNING_RATES), label="Learning rate")
    batch_size = param.Selector(default=64, objects=list(BATCH_SIZES), label="Batch size")
    seed = param.Integer(0, bounds=(0, 9999), label="Seed",
                         doc="Draws the data, the initial weights, the batches and the dropout masks.")
    compare = param.Boolean(False, label="Compare two networks (A and B)")
    b_depth = param.Integer(6, bounds=(1, MAX_DEPTH), label="B: depth")
    b_norm = param.Selector(default="none", objects=list(NORMS), label="B: normalization")
    b_residual = param.Boolean(False, label="B: residual connections")
    b_dropout = param.Number(0.1, bounds=(0.0, 0.9), step=0.05, label="B: dropout rate")
    b_dropout_at = param.Selector(default="every", objects=list(DROPOUT_AT), label="B: dropout in blocks",
                                  doc=_DROPOUT_AT_DOC)
    layer = param.Integer(1, bounds=(1, MAX_DEPTH), label="Layer to follow",
                          doc="The block whose pre-activations the percentile chart follows.")

    def __init__(self, **params):
        super().__init__(**params)
        self.param.watch(self._on_preset, ["preset"])

    def config_a(self) -> RunConfig:
        return RunConfig(**{k: getattr(self, k) for k in _CONFIG_PARAMS})

    def config_b(self) -> RunConfig | None:
        if not self.compare:
            return None
        return self.config_a().replace(depth=self.b_depth, norm=self.b_norm, residual=self.b_residual,
                                       dropout=self.b_dropout, dropout_at=self.b_dropout_at)

    def preset_values(self, key: str) -> dict:
        """The parameter values preset ``key`` sets."""
        p = PRESETS[key]
        a, b = p.configs()
        values = {k: getattr(a, k) for k in _CONFIG_PARAMS}
        values["compare"] = b is not None
        if b is not None:
            values.update(b_depth=b.depth, b_norm=b.norm, b_residual=b.residual, b_dropout=b.dropout,
                          b_dropout_at=b.dropout_at)
        values["layer"] = p.layer
        return values

    def apply_preset(self, key: str) -> None:
        if key in PRESETS:
            self.param.update(preset=key, **self.preset_values(key))

    def _on_preset(self, event) -> None:
        if event.new in PRESETS:
            self.param.update(**self.preset_values(event.new))

    def preset_changed(self) -> list[str]:
        """The settings the learner changed since loading the preset (labels)."""
        if self.preset not in PRESETS:
            return []
        values = self.preset_values(self.preset)
        skip = set() if values["compare"] else set(_B_PARAMS)
        return [self.param[k].label for k, v in values.items()
                if k not in skip and k != "layer" and getattr(self, k) != v]


URL_PARAMS = {"preset": "preset", "dataset": "data", "noise": "noise", "n_train": "n",
              "shuffle_labels": "shuffle", "corrupt": "corrupt", "depth": "depth", "width": "width", "activation": "act",
              "norm": "norm", "residual": "res", "dropout": "drop", "dropout_at": "drop_at", "gain": "gain", "optimizer": "opt",
              "lr": "lr", "batch_size": "batch", "seed": "seed", "compare": "compare",
              "b_depth": "b_depth", "b_norm": "b_norm", "b_residual": "b_res", "b_dropout": "b_drop",
              "b_dropout_at": "b_drop_at", "layer": "layer"}


# --------------------------------------------------------------------------- the page


PRESET_VIEW_CAPTION = ("Background: each net's prediction, blue class 0, orange class 1. Curves: A blue, "
                       "B orange; solid training, dashed test.")
_COMPACT_ALERT_CSS = ":host(.alert) { padding: 6px 12px; } p { margin: 4px 0; }"


class LabPage(Sectioned):
    """Builds the figures once; training ticks and control changes only update their data.

    Its views: ``train`` (the run bar, the data plane and the curves, with the main
    controls), and one per preset (the same panel set up for the preset's claim)."""

    SLUG, TITLE, INTRO, MORE, URL_PARAMS = "lab", TITLE, INTRO, MORE, URL_PARAMS
    PATH = paths.LAB
    LEADING = ("preset",)          # a preset resets every other control: it goes first
    VIEWS = (
        View("train", "Train a network", "train a net live: the data plane, its decision boundary and the curves",
             "Press Start: the background is the net's prediction at every point, the curves its "
             "loss and accuracy on the training and test points.",
             controls=("dataset", "depth", "norm", "residual", "dropout"), first_screen=True),
        *(View(key, p.title, f"preset: {p.title[0].lower() + p.title[1:]}",
               PRESET_VIEW_CAPTION if p.b is not None else
               "Press Start and follow the note above: it says what to look for and when.",
               query={"preset": key}) for key, p in PRESETS.items()),
    )

    def __init__(self, state: LabState | None = None):
        self.state = s = state or LabState()
        self.session = LabSession(s.config_a(), s.config_b())
        self.meter = SpeedMeter()
        self._periodic = None
        self._compact = False       # a preset's view: the curves' legend on one line
        self._tick_count = 0
        self._boundary_cost = 0.0
        self._lesion_cost = 0.0
        self._lesion_cache = (None, [])
        self._update_cost = 0.0
        self.guide = None
        # the guided path marks the heading of the figure a step is about (see Sectioned.highlight)
        self._sections = {"ensemble": section_title("Delete one block", name="lab-lesion-title",
                                                    stylesheets=(FOCUS_CSS,)),
                          "variance-shift": section_title("Dropout before batch norm: the variance shift",
                                                          name="lab-shift-title", stylesheets=(FOCUS_CSS,)),
                          "label-corruption": section_title("Random labels, memorised",
                                                            name="lab-sweep-title", stylesheets=(FOCUS_CSS,))}
        self._generation = None
        self.first_boundary_at: float | None = None   # perf_counter of the first redraw after Start
        self._started_at: float | None = None
        self.pacer = Pacer(name="lab-pacer")      # live updates no faster than the browser draws them

        # status, notes and buttons
        # rewritten at every training tick: set on Panel's HTML model, not rendered from Markdown each time
        self.status = LiveMarkdown("lab-status", margin=(4, 8))
        self.stop_note = note_alert("lab-stop-note", alert_type="danger")
        self.preset_box = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width",
                                        name="lab-preset-caption", margin=(4, 5))
        w = pn.widgets
        self.start_button = w.Button(label="▶ Start", color="primary", width=100)
        self.pause_button = w.Button(label="Pause", width=100)
        self.step_button = w.Button(label="Step once", width=100)
        self.reset_button = w.Button(label="↺ Reset", width=100)
        self.start_button.on_click(lambda e: self.start())
        self.pause_button.on_click(lambda e: self.pause())
        self.step_button.on_click(lambda e: self.step())
        self.reset_button.on_click(lambda e: self.reset())

        # decision boundaries (B's views, here and below, are built the first time compare mode is on:
        # most learners never turn it on, and they are a third of the page's models; see _build_b)
        self.boundaries = [BoundaryView("a", "A")]
        self.boundary_titles = [section_title("", A_COLOR)]

        # curves: A solid, B dashed in compare mode (see _style_curves)
        series = ("train", "test", "B train", "B test")
        self.loss = BatchCurveChart(series, name="lab-loss", title="Loss (cross-entropy)",
                                    y_label="loss", log_y=True, log_floor=1e-4, height=250,
                                    empty_text=CURVE_NOTE)
        self.acc = BatchCurveChart(series, name="lab-acc", title="Accuracy", y_label="accuracy",
                                   y_range=(0.0, 1.02), height=230, empty_text=CURVE_NOTE)

        # inside the network, per net
        self.pct = [percentile_chart("a")]
        self.grad = [grad_chart("a")]
        self.pct_titles = [section_title("", A_COLOR)]
        self.grad_now = LayerLineChart(("A", "B"), name="lab-grad-now", log_y=True,
                                       title="Gradient norm per block, last 10 steps",
                                       x_label="block", y_label="‖dL/dW‖", height=260,
                                       colors=(A_COLOR, B_COLOR), empty_text=WINDOW_NOTE)
        self.hists = [HistogramGrid(("pre-activations",), name="lab-hist", n_panels=N_HIST,
                                    x_label="pre-activation", row_height=48,
                                    colors=(A_COLOR,))]
        self.lesion = LayerLineChart(("A", "B"), name="lab-lesion", title="Test accuracy with one block deleted",
                                     x_label="deleted block", y_label="test accuracy", y_range=(0.0, 1.04),
                                     height=260, colors=(A_COLOR, B_COLOR))
        self.lesion_full = [Span(dimension="width", location=0.0, line_color=c, line_dash="dashed",
                                 line_width=1.5, line_alpha=0.7, visible=False, name=f"lab-lesion-full-{t}")
                            for t, c in (("a", A_COLOR), ("b", B_COLOR))]
        for span in self.lesion_full:
            self.lesion.figure.add_layout(span)
        self.lesion_text = LiveMarkdown("lab-lesion-text", margin=(0, 8))
        self.shift = LayerLineChart(("A", "B"), name="lab-shift", title="Running ÷ test-time variance per batch norm",
                                    x_label="block", y_label="variance shift (×)", log_y=True, log_floor=0.8,
                                    height=240, colors=(A_COLOR, B_COLOR), empty_text=SHIFT_NOTE)
        # round ratios: on a log axis spanning less than two decades Bokeh labels every mantissa
        self.shift.figure.yaxis.ticker = FixedTicker(ticks=[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
        self.shift_text = LiveMarkdown("lab-shift-text", margin=(0, 8))

        # the label-corruption sweep: net A's settings trained afresh at each fraction of random labels
        self.sweep = None
        self._sweep_periodic = None
        self._sweep_ticks = 0
        self.sweep_button = w.Button(label=SWEEP_LABEL, width=330)
        self.sweep_button.on_click(lambda e: self.toggle_sweep())
        self.sweep_acc = LayerLineChart(("train", "test"), name="lab-sweep-acc",
                                        title="Accuracy after training, against the fraction of random labels",
                                        x_label="fraction of training labels made random", y_label="accuracy",
                                        y_range=(0.0, 1.04), height=240, colors=(theme.TRAIN, theme.TEST),
                                        empty_text=SWEEP_NOTE)
        self.sweep_steps = LayerLineChart(("steps to fit",), name="lab-sweep-steps",
                                          title="Steps until every training label is fitted",
                                          x_label="fraction of training labels made random", y_label="steps",
                                          height=220, colors=(theme.TRAIN,), empty_text=SWEEP_NOTE)
        for chart in (self.sweep_acc, self.sweep_steps):
            chart.figure.xaxis.ticker.min_interval = 0.1
            chart.x_pad = 0.05
        self.sweep_text = LiveMarkdown("lab-sweep-text", margin=(0, 8))

        # A's halves; _build_b adds B's (to these lists and to the pairs that show them)
        self.boundary_halves = [half(self.boundaries[0].pane, title_pane=self.boundary_titles[0])]
        self.pct_halves = [half(self.pct[0], title_pane=self.pct_titles[0])]
        self.grad_halves = [half(self.grad[0])]
        self.pct_pair = pair(self.pct_halves[0], name="lab-percentiles")
        self.grad_pair = pair(self.grad_halves[0], name="lab-gradients")
        # one histogram grid per mode: A's alone, and (from _build_b) A and B overlaid
        self.hist_area = pn.Column(self.hists[0], sizing_mode="stretch_width", margin=0, name="lab-hists")
        self.curves_box = pn.Column(self.loss, self.acc, css_classes=["dt-half"], sizing_mode="stretch_width",
                                    stylesheets=[theme.stylesheet()], name="lab-curves")
        self.top = pn.FlexBox(self.boundary_halves[0], self.curves_box, gap="8px 20px", flex_wrap="wrap",
                              sizing_mode="stretch_width", stylesheets=[theme.stylesheet()], name="lab-top")
        self.curves_slot = pn.Column(sizing_mode="stretch_width", margin=0)
        self._compare_layout = False
        self._first_after_start = False
        self.layer_slider = None
        self.restore_button = w.Button(label="Restore the preset's settings", visible=False,
                                       sizing_mode="stretch_width")
        self.restore_button.on_click(lambda e: self.state.apply_preset(self.state.preset))

        self.update = Coalesced(self._reconfigure)
        s.param.watch(self.update, [*_CONFIG_PARAMS, "compare", *_B_PARAMS])
        s.param.watch(self._on_layer, ["layer"])
        s.param.watch(lambda *e: self._show_preset(), ["preset", *_CONFIG_PARAMS, "compare", *_B_PARAMS])
        self._rebuild_views()
        self._show_preset()

    # -- training control ----------------------------------------------------------
    def _in_server(self) -> bool:
        doc = pn.state.curdoc
        return doc is not None and doc.session_context is not None

    def start(self) -> None:
        if not self.session.start():
            return
        self._started_at = time.perf_counter()
        self.first_boundary_at = None
        self._first_after_start = True          # the learner sees the boundary move at once
        self.meter.reset()
        self.meter.add(time.perf_counter(), self.session.step_count)
        self._tick(budget=FIRST_BUDGET)
        if self.session.running and self._in_server():
            if self._periodic is None:
                self._periodic = pn.state.add_periodic_callback(self._tick, period=TICK_MS, start=False)
            if not self._periodic.running:
                self._periodic.start()

    def _stop_periodic(self) -> None:
        if self._periodic is not None and self._periodic.running:
            self._periodic.stop()

    def pause(self) -> None:
        self.session.pause()
        self._stop_periodic()
        self._push(slow=True, lesion=True)

    def step(self) -> None:
        self._stop_periodic()
        self.session.step_once()
        self.meter.reset()
        self._push(slow=True, lesion=True)

    def reset(self) -> None:
        self._stop_periodic()
        self.session.reset()
        self.meter.reset()
        self._rebuild_views()

    def run_preset(self) -> None:
        """The guided path's "Show me": train the loaded preset afresh for its length, then pause
        (synchronous outside a server, like the tests' headless runs)."""
        p = PRESETS.get(self.state.preset)
        if p is None:
            return
        self._reconfigure()                 # the preset's settings, now rather than at the next tick
        self.reset()
        self.session.pause_at = p.steps
        if not self._in_server():
            self.session.run(p.steps)
            self._push(slow=True, lesion=True)
            return
        self.start()

    def _viewer_gone(self) -> bool:
        """True when the learner's browser tab has closed (no one to train for)."""
        doc = pn.state.curdoc
        ctx = getattr(doc, "session_context", None) if doc is not None else None
        server_session = getattr(ctx, "_session", None)     # Bokeh's ServerSession, when served
        return server_session is not None and getattr(server_session, "connection_count", 1) == 0

    def _tick(self, budget: float | None = None) -> None:
        if not self.session.running or self._viewer_gone():
            self.session.pause()
            self._stop_periodic()
            return
        if budget is None:   # leave room in the period for drawing
            budget = min(TRAIN_BUDGET, max(0.02, TICK_BUDGET - self._update_cost))
        self.session.advance(budget)
        self.meter.add(time.perf_counter(), self.session.step_count)
        done = not self.session.running
        if done:
            self._stop_periodic()
        elif not self.pacer.ready():      # the browser is still drawing: train on, send it all next time
            return
        self._tick_count += 1
        t0 = time.perf_counter()
        self._push(slow=done or self._tick_count % SLOW_EVERY == 0,
                   lesion=done or (self._tick_count % LESION_EVERY == 0 and self._lesion_cost < 0.03))
        self._update_cost = time.perf_counter() - t0

    # -- the label-corruption sweep ------------------------------------------------------
    def toggle_sweep(self) -> None:
        """Start a sweep of net A's current settings over SWEEP_FRACTIONS, or stop the one running.
        Outside a server it runs to the end at once (like the tests' headless runs)."""
        if self._sweep_running():
            self._stop_sweep()
            self._push_sweep(stopped=True)
            return
        self.sweep = CorruptionSweep(self.state.config_a())
        self._sweep_ticks = 0
        if not self._in_server():
            self.sweep.finish()
            self._push_sweep()
            return
        if self._sweep_periodic is None:
            self._sweep_periodic = pn.state.add_periodic_callback(self._sweep_tick, period=TICK_MS, start=False)
        self._sweep_periodic.start()
        self.sweep_button.label = "Stop the sweep"
        self._push_sweep()

    def _sweep_running(self) -> bool:
        return self._sweep_periodic is not None and self._sweep_periodic.running

    def _stop_sweep(self) -> None:
        self._sweep_periodic.stop()
        self.sweep_button.label = SWEEP_LABEL

    def _sweep_tick(self) -> None:
        if self.sweep is None or self.sweep.done or self._viewer_gone():
            self._stop_sweep()
            return
        finished = self.sweep.advance(TRAIN_BUDGET / (2 if self.session.running else 1))
        if self.sweep.done:
            self._stop_sweep()
        self._sweep_ticks += 1
        if finished or self._sweep_ticks % 5 == 0:
            self._push_sweep()

    def _push_sweep(self, stopped: bool = False) -> None:
        sw = self.sweep
        if sw is None:
            return
        pts = sw.points
        x = [p.fraction for p in pts]
        with pn.io.hold():
            self.sweep_acc.update({"train": [p.train_acc for p in pts], "test": [p.test_acc for p in pts]}, x=x)
            self.sweep_steps.update({"steps to fit": [np.nan if p.steps_to_fit is None else p.steps_to_fit
                                                      for p in pts]}, x=x)
            c = sw.config
            net = f"{c.describe()}, {c.n_train} {c.dataset} points, {sw.steps:,} steps each"
            done = ""
            if pts:
                first, last = pts[0], pts[-1]

                def fit(p):
                    return f"step {p.steps_to_fit:,}" if p.steps_to_fit is not None else "never"

                train = sorted(100 * p.train_acc for p in pts)
                spread = (f"{train[0]:.0f}% at every fraction" if round(train[0]) == round(train[-1])
                          else f"{train[0]:.0f}–{train[-1]:.0f}%")
                done = (f" Training accuracy at the end: {spread}. Test accuracy: "
                        f"{100 * first.test_acc:.0f}% at fraction {first.fraction:g}"
                        + (f", {100 * last.test_acc:.0f}% at {last.fraction:g}" if len(pts) > 1 else "")
                        + f". Every training label right: {fit(first)} at {first.fraction:g}"
                        + (f", {fit(last)} at {last.fraction:g}" if len(pts) > 1 else "") + ".")
            if sw.done:
                head = "**The sweep is done.**"
            elif stopped:
                head = "**Stopped.**"
            else:
                f, step = sw.current
                head = f"**Training at fraction {f:g}: step {step:,} of {sw.steps:,}.**"
            self.sweep_text.object = f"{head} Net: {net}.{done}"

    # -- updates ---------------------------------------------------------------------
    def _reconfigure(self) -> None:
        s = self.state
        if s.layer > max(s.depth, s.b_depth if s.compare else 0):
            s.layer = max(s.depth, s.b_depth if s.compare else 0)   # re-enters via _on_layer
        if self.session.configure(s.config_a(), s.config_b()):
            self.meter.reset()
            self._rebuild_views()
            if self.session.running:
                self.meter.add(time.perf_counter(), self.session.step_count)

    def _rebuild_views(self) -> None:
        """Everything from scratch: new nets (new data, architecture or a reset)."""
        ses = self.session
        compare = ses.compare
        self._generation = ses.generation
        self._sent_eval = [0, 0]
        self._sent_stat = [0, 0]
        self._tick_count = 0
        with pn.io.hold():
            if compare:
                self._build_b()
            self._style_curves(compare)
            for i, r in enumerate(ses.runs):
                self.boundaries[i].set_data(r.data, r.extent)
            # Fill the curves with what exists (the untrained nets at step 0) by replacing, never by
            # streaming: a stream in the same batch as a replace would reach the browser twice
            # (the replaced data is serialized when the batch is sent, streamed points included).
            loss, acc = {}, {}
            for i, r in enumerate(ses.runs):
                ev = r.eval_points()
                prefix = "B " if i == 1 else ""
                steps = [p.step for p in ev]
                loss.update({f"{prefix}train": (steps, [p.train_loss for p in ev]),
                             f"{prefix}test": (steps, [p.test_loss for p in ev])})
                acc.update({f"{prefix}train": (steps, [p.train_acc for p in ev]),
                            f"{prefix}test": (steps, [p.test_acc for p in ev])})
                self._sent_eval[i] = len(ev)
            self.loss.replace(loss)
            self.acc.replace(acc)
            for c in self.pct + self.grad:
                c.clear()
            for i, (title, bt) in enumerate(zip(self.pct_titles, self.boundary_titles)):
                label = self._label(i)
                title.object = bt.object = title_html(label, (A_COLOR, B_COLOR)[i])
            for halves in (self.boundary_halves, self.pct_halves, self.grad_halves):
                if len(halves) > 1:
                    halves[1].visible = compare
            if self.layer_slider is not None:     # only the blocks that exist (noUiSlider needs a range)
                self.layer_slider.end = max(2, self.state.depth, self.state.b_depth if compare else 0)
            for i, grid in enumerate(self.hists):
                grid.__panel__().visible = compare == (i == 1)
            if compare != self._compare_layout:
                self._compare_layout = compare
                self.top.objects = ([self.boundary_halves[0], self.boundary_halves[1]] if compare else
                                    [self.boundary_halves[0], self.curves_box])
                self.curves_slot.objects = [self.curves_box] if compare else []
            for ch in (self.grad_now, self.lesion):
                if ch.legend is not None:
                    ch.legend.visible = compare
            self._push(slow=True, lesion=True, boundary=True)

    def _build_b(self) -> None:
        """Net B's views, the first time they are needed (they then stay, hidden in single mode)."""
        if len(self.boundaries) > 1:
            return
        self.boundaries.append(BoundaryView("b", "B"))
        self.pct.append(percentile_chart("b"))
        self.grad.append(grad_chart("b"))
        self.hists.append(HistogramGrid(("A", "B"), name="lab-hist2", n_panels=N_HIST,
                                        x_label="pre-activation", row_height=48, colors=(A_COLOR, B_COLOR)))
        self.boundary_titles.append(section_title("", B_COLOR))
        self.pct_titles.append(section_title("", B_COLOR))
        self.boundary_halves.append(half(self.boundaries[1].pane, title_pane=self.boundary_titles[1]))
        self.pct_halves.append(half(self.pct[1], title_pane=self.pct_titles[1]))
        self.grad_halves.append(half(self.grad[1]))
        self.pct_pair.append(self.pct_halves[1])
        self.grad_pair.append(self.grad_halves[1])
        self.hist_area.append(self.hists[1])

    def _label(self, i: int) -> str:
        ses = self.session
        if i >= len(ses.runs):
            return "B"
        cfg = ses.runs[i].config
        if not ses.compare:
            return f"The network: {cfg.describe()}"
        return f"{'AB'[i]}: {cfg.describe()}"

    def _style_curves(self, compare: bool) -> None:
        styles = {  # series: (colour, dash) in single mode, in compare mode
            "train": ((theme.TRAIN, "solid"), (A_COLOR, "solid")),
            "test": ((theme.TEST, "solid"), (A_COLOR, "dashed")),
            "B train": ((B_COLOR, "solid"), (B_COLOR, "solid")),
            "B test": ((B_COLOR, "dashed"), (B_COLOR, "dashed")),
        }
        labels = {"train": ("train", "A train"), "test": ("test", "A test"),
                  "B train": ("B train", "B train"), "B test": ("B test", "B test")}
        for chart in (self.loss, self.acc):
            # four entries in two rows (A, then B): one row does not fit above a phone-wide chart
            chart.legend.ncols = 2 if compare and not self._compact else "auto"
            for item, s in zip(chart.legend.items, chart.series):
                (color, dash) = styles[s][compare]
                line = chart.lines[s]
                line.glyph.update(line_color=color, line_dash=dash)
                show = compare or not s.startswith("B")
                line.visible = show
                chart.list_in_legend(s, show)
                item.label = value(labels[s][compare])

    def _push(self, *, slow: bool = False, lesion: bool = False, boundary: bool | None = None) -> None:
        """One batched update of every view that changed since the last push."""
        ses = self.session
        if self._generation != ses.generation:
            self._rebuild_views()
            return
        with pn.io.hold():
            if boundary is None:
                every = max(1, math.ceil(self._boundary_cost / BOUNDARY_COST))
                boundary = slow or self._first_after_start or self._tick_count % every == 0
            if boundary:
                t0 = time.perf_counter()
                for i, r in enumerate(ses.runs):
                    e = r.latest()
                    title = f"{'AB'[i] + ' · ' if ses.compare else ''}step {r.step_count:,}"
                    if np.isfinite(e.test_acc):
                        title += f" · test accuracy {100 * e.test_acc:.0f}%"
                    self.boundaries[i].set_image(r.boundary(), title)
                self._boundary_cost = time.perf_counter() - t0      # for every net together
                self._first_after_start = False
                if self._started_at is not None and self.first_boundary_at is None and ses.step_count > 0:
                    self.first_boundary_at = time.perf_counter()
            self._stream_curves()
            if slow:
                self._push_slow()
                if self.guide is not None:      # the step's numbers follow the training
                    self.guide.refresh()
            if lesion:
                t0 = time.perf_counter()
                self._push_lesion()
                if self.shows("variance-shift"):      # the full page, or that preset's view
                    self._push_shift()
                self._lesion_cost = time.perf_counter() - t0
            self._push_status()
            self.pacer.sent()

    def _stream_curves(self) -> None:
        ses = self.session
        layer = self._layer_index()
        for i, r in enumerate(ses.runs):
            prefix = "B " if i == 1 else ""
            ev = r.eval_points(self._sent_eval[i])
            if ev:
                steps = [p.step for p in ev]
                self.loss.stream_many(steps, {f"{prefix}train": [p.train_loss for p in ev],
                                              f"{prefix}test": [p.test_loss for p in ev]})
                self.acc.stream_many(steps, {f"{prefix}train": [p.train_acc for p in ev],
                                             f"{prefix}test": [p.test_acc for p in ev]})
            self._sent_eval[i] = r.n_eval_points()
            pts = r.stat_points(self._sent_stat[i])
            d = r.config.depth
            blocks = (0, d // 2, d - 1)
            if pts:
                steps = [p.step for p in pts]
                if layer < d:
                    q = np.array([p.percentiles[layer] for p in pts])
                    self.pct[i].stream_many(steps, {"15th": q[:, 0], "50th": q[:, 1], "85th": q[:, 2]})
                g = np.array([p.grad_norms for p in pts])
                self.grad[i].stream_many(steps, {"first block": g[:, blocks[0]], "middle block": g[:, blocks[1]],
                                                 "last block": g[:, blocks[2]]})
            if pts:
                self._sent_stat[i] = pts[-1].step
            shown = sorted({b + 1 for b in blocks})     # short: the title must fit a phone-wide chart
            title = f"‖dL/dW‖ of block{'s' if len(shown) > 1 else ''} {', '.join(map(str, shown))}"
            if self.grad[i].figure.title.text != title:
                self.grad[i].figure.title.text = title
            self.pct[i].figure.title.text = (
                f"Block {layer + 1}: pre-activation percentiles" if layer < d
                else f"(this net has only {d} blocks)")

    def _layer_index(self) -> int:
        return int(self.state.layer) - 1

    def _on_layer(self, event=None) -> None:
        """A new layer to follow: redraw the percentile charts from the whole history."""
        s = self.state
        deepest = max(s.depth, s.b_depth if s.compare else 0)    # the settings, not the (maybe stale) nets
        if s.layer > deepest:
            self.state.layer = deepest          # re-enters with a layer that exists
            return
        layer = self._layer_index()
        with pn.io.hold():
            for i, r in enumerate(self.session.runs):
                pts = r.stat_points(0)
                if layer < r.config.depth and pts:
                    q = np.array([p.percentiles[layer] for p in pts])
                    steps = [p.step for p in pts]
                    self.pct[i].replace({"15th": (steps, q[:, 0]), "50th": (steps, q[:, 1]),
                                         "85th": (steps, q[:, 2])})
                else:
                    self.pct[i].clear()
                d = r.config.depth
                self.pct[i].figure.title.text = (
                    f"Block {layer + 1}: pre-activation percentiles" if layer < d
                    else f"(this net has only {d} blocks)")

    def _push_slow(self) -> None:
        ses = self.session
        grads = {"AB"[i]: r.recent_grad_norms() if r.step_count else [] for i, r in enumerate(ses.runs)}
        self.grad_now.update(grads)
        pre = [r.pre_activations_now() for r in ses.runs]
        # remember=False: the grids have no settings to re-bin for, and the values are a copy of
        # every block's pre-activations over the training set (0.3 MB a session, kept for nothing)
        if ses.compare:
            self.hists[1].update_from_values({"A": pre[0], "B": pre[1]}, bins=40, remember=False)
        else:
            self.hists[0].update_from_values({"pre-activations": pre[0]}, bins=40, remember=False)

    def _lesions(self) -> list[tuple[float, np.ndarray]]:
        """Every net's :meth:`~.lab_model.Run.lesion`, computed once per step."""
        ses = self.session
        key = (ses.generation, tuple(r.step_count for r in ses.runs))
        if self._lesion_cache[0] != key:
            self._lesion_cache = (key, [r.lesion() for r in ses.runs])
        return self._lesion_cache[1]

    def _push_lesion(self) -> None:
        ses = self.session
        values, lines = {}, []
        for i, (r, (full, accs)) in enumerate(zip(ses.runs, self._lesions())):
            values["AB"[i]] = accs
            self.lesion_full[i].update(location=float(full) if np.isfinite(full) else 0.0, visible=True)
            worst = int(np.argmin(accs)) if accs.size else 0
            name = f"**{'AB'[i]}**" if ses.compare else "The net"
            lines.append(f"{name}: {100 * full:.0f}% with every block (dashed line); with one block deleted, "
                         f"median {100 * np.median(accs):.0f}%, worst {100 * accs[worst]:.0f}% "
                         f"(block {worst + 1}).")
        if not ses.compare:
            self.lesion_full[1].visible = False
        self.lesion.update(values)
        self.lesion_text.object = f"At step {ses.step_count:,}. " + " ".join(lines)

    def _push_shift(self) -> None:
        """Each net's variance shift per batch-norm block (core.variance_shift), with its test accuracy."""
        ses = self.session
        if ses.step_count == 0:           # the running averages still hold their initial 1s
            self.shift.update({})
            self.shift_text.object = ("Measured once the nets have trained: before the first step a batch "
                                      "norm's running variance is its initial 1, not an average of anything.")
            return
        values, lines = {}, []
        for i, r in enumerate(ses.runs):
            shifts = r.variance_shift()
            values["AB"[i]] = [v for _, v in shifts]
            name = f"**{'AB'[i]}**" if ses.compare else "The net"
            c = r.config
            if not shifts:
                lines.append(f"{name} has no batch norm: nothing to measure.")
                continue
            worst = max(shifts, key=lambda kv: kv[1])
            e = r.latest()
            drops = (f"dropout {c.dropout:g} in every block, so from block 2 on each batch norm sees "
                     f"dropped-out inputs in training (at least 1/(1−p) = {1 / (1 - c.dropout):.2f}× "
                     f"the variance)" if c.dropout and c.dropout_at == "every" and c.depth > 1 else
                     f"dropout {c.dropout:g} only after the last batch norm" if c.dropout else "no dropout")
            lines.append(f"{name} ({drops}): largest shift {worst[1]:.2f}× (block {worst[0]}), "
                         f"test accuracy {100 * e.test_acc:.0f}%.")
        self.shift.update(values)
        self.shift_text.object = f"At step {ses.step_count:,}. " + " ".join(lines)

    def _push_status(self) -> None:
        ses = self.session
        rate = self.meter.rate() if ses.running else 0.0
        words = {"ready": "ready: press **Start**", "running": "training",
                 "paused": "paused", "stopped": "stopped"}[ses.status]
        speed = f" · {rate:,.0f} steps/s" if ses.running and rate > 0 else ""
        text = f"**Step {ses.step_count:,}**{speed} · {words}"
        if self.status.object != text:
            self.status.object = text
        set_note(self.stop_note, "\n\n".join(ses.messages))
        self.start_button.disabled = ses.status in ("running", "stopped")
        self.pause_button.disabled = ses.status != "running"
        self.step_button.disabled = ses.status == "stopped"

    def _show_preset(self) -> None:
        s = self.state
        if s.preset not in PRESETS:
            set_note(self.preset_box, "")
            self.restore_button.visible = False
            return
        p = PRESETS[s.preset]
        text = f"**{p.title}.** {p.caption} *Train for about {p.steps:,} steps.*"
        changed = s.preset_changed()
        if changed:
            text += (f"\n\n*You have changed the preset's settings: {', '.join(changed[:4])}"
                     f"{', …' if len(changed) > 4 else ''}.*")
        set_note(self.preset_box, text)
        self.restore_button.visible = bool(changed)

    # -- the guided path ---------------------------------------------------------------
    def facts(self) -> dict:
        """The numbers the guided path quotes (see :mod:`.paths`): the loaded preset, how far its
        run is, and each net's latest losses and accuracies (``a_…``, ``b_…``; accuracies in %)."""
        ses, key = self.session, self.state.preset
        p = PRESETS.get(key)
        f = {"preset": key, "steps": ses.step_count, "target": p.steps if p else 0,
             "done": p is not None and ses.step_count >= p.steps and not ses.running,
             "running": ses.running, "title": p.title if p else ""}
        for label, r in zip("ab", [*ses.runs, None][:2]):
            points = r.eval_points() if r is not None else []
            tests = [e.test_loss for e in points if np.isfinite(e.test_loss)]
            e = points[-1] if points else None
            nan = float("nan")
            f.update({f"{label}_train": e.train_loss if e else nan, f"{label}_test": e.test_loss if e else nan,
                      f"{label}_train_acc": 100 * e.train_acc if e else nan,
                      f"{label}_test_acc": 100 * e.test_acc if e else nan,
                      f"{label}_test_min": min(tests) if tests else nan,
                      f"{label}_stopped": bool(r is not None and r.stopped)})
        f.update({f"{x}_{k}": float("nan") for x in "ab" for k in ("full", "deleted", "worst")})
        if key == "ensemble" and f["done"]:
            for label, (full, accs) in zip("ab", self._lesions()):
                f.update({f"{label}_full": 100 * full, f"{label}_deleted": 100 * float(np.median(accs)),
                          f"{label}_worst": 100 * float(accs.min())})
        return f

    def first_step(self) -> int:
        """A link to a preset opens at the preset's step; to a preset the path leaves out
        (``OFF_PATH``), with the path closed, so its card does not speak of another claim."""
        for n, step in enumerate(self.PATH, 1):
            if step.show.get("preset") == self.state.preset:
                return n
        return 0 if self.state.preset in OFF_PATH else 1

    # -- layout ------------------------------------------------------------------------
    def controls_by_name(self) -> dict:
        """The sidebar, keyed by the state parameter each control sets (``_`` keys: headings)."""
        s, w = self.state, pn.widgets
        preset = w.Select(label="Preset", options=PRESET_OPTIONS, value=s.preset, sizing_mode="stretch_width")

        preset.param.watch(lambda e: setattr(s, "preset", e.new), ["value"])
        s.param.watch(lambda e: setattr(preset, "value", e.new), ["preset"])
        self.preset_select = preset

        def slider(p, **kw):
            return w.IntSlider.from_param(p, sizing_mode="stretch_width", **kw) if isinstance(
                p, param.Integer) else w.FloatSlider.from_param(p, sizing_mode="stretch_width", **kw)

        def buttons(label, p):
            return pn.Column(control_label(label), RadioButtonGroup.from_param(p, sizing_mode="stretch_width"),
                             sizing_mode="stretch_width", margin=0)

        self.layer_slider = slider(s.param.layer)
        self.layer_slider.end = max(2, *(r.config.depth for r in self.session.runs))
        heading = lambda text: pn.pane.HTML(f'<div class="dt-section-title">{text}</div>',
                                            stylesheets=[theme.stylesheet()], margin=(10, 5, 0, 5),
                                            sizing_mode="stretch_width")
        # net B's controls are made when compare mode is first switched on (most learners never do)
        b_widgets = pn.Column(sizing_mode="stretch_width", margin=0, visible=False, name="lab-b-controls")

        def show_b(*_):
            if s.compare and not len(b_widgets):
                b_widgets.objects = [
                    slider(s.param.b_depth), w.Select.from_param(s.param.b_norm, sizing_mode="stretch_width"),
                    w.Checkbox.from_param(s.param.b_residual), slider(s.param.b_dropout),
                    buttons("B: dropout in blocks", s.param.b_dropout_at)]
            b_widgets.visible = s.compare

        s.param.watch(show_b, ["compare"])
        show_b()
        return {
            "preset": preset,
            "_data": heading("Data"),
            "dataset": w.Select.from_param(s.param.dataset, sizing_mode="stretch_width"),
            "noise": slider(s.param.noise), "n_train": slider(s.param.n_train),
            "shuffle_labels": w.Checkbox.from_param(s.param.shuffle_labels),
            "corrupt": slider(s.param.corrupt),
            "_network": heading("Network"),
            "depth": slider(s.param.depth), "width": slider(s.param.width),
            "activation": buttons("Activation", s.param.activation),
            "norm": buttons("Normalization", s.param.norm),
            "residual": w.Checkbox.from_param(s.param.residual),
            "dropout": slider(s.param.dropout),
            "dropout_at": buttons("Dropout in blocks", s.param.dropout_at),
            "gain": slider(s.param.gain),
            "_training": heading("Training"),
            "optimizer": buttons("Optimizer", s.param.optimizer),
            "lr": choice_slider(s.param.lr, sizing_mode="stretch_width"),
            "batch_size": choice_slider(s.param.batch_size, sizing_mode="stretch_width"),
            "seed": w.IntInput.from_param(s.param.seed, sizing_mode="stretch_width"),
            "_compare": heading("Compare"),
            "compare": w.Checkbox.from_param(s.param.compare),
            "_b": b_widgets,
            "_view": heading("View"),
            "layer": self.layer_slider,
        }

    def section(self, name: str) -> list:
        """The run bar, data plane and curves (``train``, and each preset's view); a preset's
        view adds what its claim is about."""
        buttons = (self.start_button, self.pause_button, self.step_button, self.reset_button)
        if self._compact:                  # the status beside the buttons, where it fits
            for b in buttons:
                b.width = 88
            status = pn.Column(self.status, width=190, margin=0)
            run_bar = pn.FlexBox(*buttons, status, gap="6px", align_items="center",
                                 sizing_mode="stretch_width", name="lab-run-bar")
        else:
            run_bar = pn.FlexBox(*buttons, gap="6px", sizing_mode="stretch_width", name="lab-run-bar")
        objects = [
            self.preset_box,
            self.restore_button,
            run_bar,
            *([] if self._compact else [self.status]),
            self.stop_note,
            self.top,
            PageOnly(caption(
                "Filled dots are the training points, hollow rings the test points, coloured by their "
                "true class (blue 0, orange 1). The background is the net's prediction at every point of "
                "the plane: the white band between blue and orange is its decision boundary, and the "
                "paler the colour, the less sure the net is.")),
            self.curves_slot,
            PageOnly(caption(
                "Loss and accuracy are measured every 10 steps on *all* training and test points with the "
                "net in test mode "
                "(dropout off, batch norm on its running averages). Training loss falling while test "
                "loss climbs is overfitting. In compare mode A is blue, B orange; solid lines are "
                "training, dashed lines test.")),
        ]
        if name == "ensemble":         # its claim is the lesion chart; the planes' titles give the accuracy
            objects = [o for o in objects if o is not self.curves_slot] + [self.lesion, self.lesion_text]
        elif name == "variance-shift":     # its claim is the shift chart, beside the curves
            objects += [self.shift, self.shift_text]
        elif name == "label-corruption":   # one run at the preset's fraction, and the sweep over all
            objects += [self.sweep_button, self.sweep_text, self.sweep_acc, self.sweep_steps]
        return [*objects, self.pacer]

    def _inside(self) -> list:
        """The sections below the first screen (the full page only)."""
        return [
            section_title("Inside the network"),
            self.pct_pair,
            caption("The plot of the batch-norm paper: how the distribution of one block's inputs to its "
                    "nonlinearity moves while the layers below it learn (averaged over 10-step windows; "
                    "choose the block under *View*). With batch norm it stays put; without, it can drift, "
                    "and every layer above has to keep chasing it."),
            self.grad_pair,
            self.grad_now,
            caption("How hard each block's weights are being pushed: the norm of the gradient of the loss "
                    "with respect to its weight matrix. Many powers of ten between the first and the last "
                    "block is the vanishing gradient: the first layers barely learn."),
            self.hist_area,
            caption("Each block's pre-activations over the whole training set, now, the net in test mode. "
                    "Updated twice a second while training."),
            self._sections["ensemble"],
            self.lesion,
            self.lesion_text,
            caption("After training, remove one block at test time and measure the test accuracy again, "
                    "each block in turn. A residual block x + F(x) becomes x; a plain block is skipped. "
                    "Updated when you pause (and every two seconds while a small net trains)."),
            self._sections["variance-shift"],
            self.shift,
            self.shift_text,
            caption("Each batch norm divides by the variance it averaged in training. With dropout before "
                    "it, that variance is larger than what reaches it at test time, where nothing is "
                    "dropped: 1 means no shift. Set *Dropout in blocks* to *last* to drop only after the "
                    "last batch norm (Li et al., 2019). Updated with the chart above."),
            self._sections["label-corruption"],
            self.sweep_button,
            self.sweep_text,
            self.sweep_acc,
            self.sweep_steps,
            caption("The sweep trains net A's settings afresh with 0, 20, … 100% of the training labels "
                    "replaced by random ones. A big enough net fits every training label whatever the "
                    "fraction, so training accuracy alone says nothing about what it learned: the test "
                    "accuracy falls towards a coin toss, and random labels take far more steps to fit than "
                    "true ones (Zhang et al., 2017)."),
        ]

    def _sync(self, location=None):
        """The link binding; a linked preset is applied before the rest of the link."""
        location = location if location is not None else pn.state.location
        self._apply_preset_from_query(location)
        self.url = url_sync(self.state, URL_PARAMS, location=location)
        self._show_preset()
        return self.url

    def prepare_view(self, name: str) -> None:
        """A view is a column of a course page: the two curves side by side where they fit, and
        for a preset comparing two nets, both data planes and both curves in about 650 px."""
        self.loss.figure.height, self.acc.figure.height = 195, 195
        preset = PRESETS.get(name)
        if preset is not None and preset.b is not None:
            self._build_b()
            self._compact = True
            for view in self.boundaries:               # a flatter plane, its colours told in the caption
                view.figure.height = 340
                for bar in view.figure.select(type=ColorBar):
                    bar.visible = False
            self.loss.figure.height, self.acc.figure.height = 165, 165
            self.preset_box.styles = {**(self.preset_box.styles or {}), "font-size": "13px"}
            self.preset_box.stylesheets = [*self.preset_box.stylesheets, _COMPACT_ALERT_CSS]
            self.lesion.figure.height = 200
            for chart in (self.loss, self.acc):
                if chart.legend is not None:
                    chart.legend.spacing, chart.legend.glyph_width = 6, 18
            self._style_curves(self.state.compare)
        self.curves_box.objects = [pn.FlexBox(
            *(pn.Column(chart, sizing_mode="stretch_width", margin=0, styles={"flex": "1 1 300px"})
              for chart in (self.loss, self.acc)),
            gap="0 16px", flex_wrap="wrap", sizing_mode="stretch_width")]

    def layout(self, location=None, *, guide: bool = True):
        """The page; ``location`` (default ``pn.state.location``) is the address bar to sync with;
        with ``guide``, the guided path through the presets above it."""
        main = on_page(self.section("page"))
        sync = self._sync(location)
        by_name = self.controls_by_name()
        controls = list(by_name.values())
        notes, card = [sync, self.teacher_note(by_name)], None
        if guide:
            from .guide import GuidedPath

            self.guide = GuidedPath(self, self.PATH, location=location)
            card, notes = self.guide.card, [*notes, self.guide.sync]
        return page_template(TITLE, INTRO, controls, main, later=self._inside(), notes=notes, name="lab",
                             guide=card, more=self.MORE)

    def _apply_preset_from_query(self, loc) -> None:
        """A linked preset is applied before the rest of the link, so that explicit values win."""
        if loc is None:
            return
        try:
            raw = urllib.parse.parse_qs((loc.search or "").lstrip("?"))
        except Exception:
            return
        key = (raw.get("preset") or [""])[-1]
        if key in PRESETS and key != self.state.preset:
            self.state.apply_preset(key)


def page(state: LabState | None = None):
    """The servable lab page."""
    return LabPage(state).layout()
