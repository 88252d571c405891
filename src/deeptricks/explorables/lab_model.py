"""The lab: train a network live, one configuration or two side by side (no Panel here).

A :class:`RunConfig` fixes everything about one training run: the data, the
network and the optimizer. A :class:`Run` holds that run's net and
:class:`~deeptricks.core.Trainer` plus the probes the page draws (the
decision boundary on a grid, pre-activations now, accuracy with one block
deleted). A :class:`LabSession` is the state machine behind the page's
buttons::

    ready ──start──▶ running ──pause──▶ paused ──start──▶ running
      │                 │                  │
      └──── step ───────┴──── step ────────┴──▶ paused   (one step each time)
    any state ──reset / new configuration──▶ ready        (running stays running)
    running ──every run NaN, or MAX_STEPS──▶ stopped      (reset to leave it)
    running ──step_count reaches pause_at──▶ paused       (a guided step's run; reset or pause clears it)

In compare mode the session holds two runs on the same data and seed; they
advance in lockstep, and one that diverges stops while the other goes on.

Nothing here depends on wall-clock time except :meth:`LabSession.advance`,
which decides how many steps fit in a time budget: the runs themselves depend
only on the step count, so a headless ``session.run(n)`` reproduces exactly
what the page shows after ``n`` steps.

The presets (:data:`PRESETS`) each load a configuration that shows one claim
of the course; ``tests/explorables/test_lab_presets.py`` trains each one and
checks the effect.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache

import numpy as np

from deeptricks.core import (ACTIVATIONS, DATASETS, DROPOUT_AT, NORMS, OPTIMIZERS, Dataset, Trainer,
                             build_net, corrupt_labels, make_dataset, make_optimizer, softmax,
                             variance_shift)

ACTIVATION_NAMES = tuple(ACTIVATIONS)
# a log scale in steps of 1, 2, 3, 5 per decade
LEARNING_RATES = tuple(float(f"{m}e{e}") for e in range(-4, 1) for m in (1, 2, 3, 5))
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
MAX_DEPTH, MAX_WIDTH = 50, 256
GRID = 60                 # the decision boundary is drawn on a GRID x GRID image...
MIN_GRID = 20             # ...or a coarser one, down to this, for nets too big to draw it often
BOUNDARY_FLOPS = 2e8      # the multiply-adds one boundary may cost before the grid gets coarser
EVAL_EVERY = 10           # full train/test evaluation every 10 steps (~15% of the time)
STAT_EVERY = 10           # per-layer statistics are averaged over windows of 10 steps
MAX_STEPS = 5000          # a run stops here; reset to train again
TRICKS = ("depth", "norm", "residual", "dropout", "dropout_at")   # what configuration B may change
_BLAS_ONE_THREAD = 65536 * 4   # OpenBLAS runs a product m·n·k below this on one thread


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run; equal configs train identically."""

    dataset: str = "moons"
    noise: float = 0.1
    n_train: int = 200
    shuffle_labels: bool = False
    corrupt: float = 0.0          # fraction of training labels replaced by random ones
    depth: int = 6
    width: int = 32
    activation: str = "relu"
    norm: str = "batch"
    residual: bool = False
    dropout: float = 0.1
    dropout_at: str = "every"     # or "last": only after the last batch norm (see core/variance_shift.py)
    gain: float = 1.0
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}; got {self.dataset!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}")
        if not 1 <= int(self.depth) <= MAX_DEPTH:
            raise ValueError(f"depth must be in 1..{MAX_DEPTH}; got {self.depth}")
        if not 1 <= int(self.width) <= MAX_WIDTH:
            raise ValueError(f"width must be in 1..{MAX_WIDTH}; got {self.width}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}; got {self.norm!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATION_NAMES}; got {self.activation!r}")
        if not 0.0 <= float(self.corrupt) <= 1.0:
            raise ValueError(f"corrupt must be a fraction in [0, 1]; got {self.corrupt}")
        if self.dropout_at not in DROPOUT_AT:
            raise ValueError(f"dropout_at must be one of {DROPOUT_AT}; got {self.dropout_at!r}")

    def replace(self, **changes) -> "RunConfig":
        return RunConfig(**{**asdict(self), **changes})

    @property
    def data_key(self) -> tuple:
        return (self.dataset, float(self.noise), int(self.n_train), bool(self.shuffle_labels),
                float(self.corrupt), int(self.seed))

    def differences(self, other: "RunConfig") -> dict:
        """``{field: (mine, theirs)}`` for every field that differs."""
        return {f.name: (getattr(self, f.name), getattr(other, f.name)) for f in fields(self)
                if getattr(self, f.name) != getattr(other, f.name)}

    def describe(self) -> str:
        """A short human label: ``6×32 relu, batch norm, dropout 0.1``."""
        parts = [f"{self.depth}×{self.width} {self.activation}"]
        parts.append({"none": "no norm", "batch": "batch norm", "layer": "layer norm"}[self.norm])
        if self.residual:
            parts.append("residual")
        if self.dropout:
            parts.append(f"dropout {self.dropout:g}" + (" (last block)" if self.dropout_at == "last" else ""))
        return ", ".join(parts)


# --------------------------------------------------------------------------- data


@lru_cache(maxsize=16)
def _data(key: tuple) -> Dataset:
    name, noise, n_train, shuffle, corrupt, seed = key
    data = make_dataset(name, n_train=n_train, noise=noise, seed=seed)
    if corrupt:
        data = corrupt_labels(data, corrupt, seed=seed)
    if shuffle:
        y = np.random.default_rng([seed, 99]).permutation(data.y_train)
        data = Dataset(data.name, data.X_train, y, data.X_test, data.y_test, data.n_classes)
    return data


def make_data(cfg: RunConfig) -> Dataset:
    """The run's dataset (cached: A and B, and a reset, share the same arrays).

    With ``shuffle_labels`` the training labels are a random permutation of the
    true ones (same class balance, no relation to the inputs left); with
    ``corrupt`` a fraction of them is replaced by random labels first
    (``core.corrupt_labels``). The test labels stay true.
    """
    return _data(cfg.data_key)


def plane_extent(data: Dataset) -> float:
    """Half-width R of the square [-R, R]² that the decision boundary covers."""
    X = np.concatenate([data.X_train, data.X_test])
    return float(max(1.2, np.ceil(np.abs(X).max() * 1.08 * 10) / 10))


def grid_size(cfg: RunConfig) -> int:
    """Side of the boundary grid: GRID, unless the net is so big that GRID² points would cost
    more than BOUNDARY_FLOPS (a 50 × 256 net gets MIN_GRID)."""
    per_point = cfg.depth * cfg.width ** 2 + 4 * cfg.width
    return int(np.clip(np.sqrt(BOUNDARY_FLOPS / per_point), MIN_GRID, GRID))


def grid_points(extent: float, n: int = GRID) -> np.ndarray:
    """Cell centres of an ``n × n`` grid over [-R, R]², row 0 at the bottom, as (n², 2)."""
    c = (np.arange(n) + 0.5) / n * 2 * extent - extent
    xx, yy = np.meshgrid(c, c)
    return np.c_[xx.ravel(), yy.ravel()]


# --------------------------------------------------------------------------- one run


@dataclass
class EvalPoint:
    step: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float


@dataclass
class StatPoint:
    step: int                 # the window's last step (a multiple of STAT_EVERY)
    grad_norms: np.ndarray    # (depth,) mean ‖dL/dW‖ per block over the window
    percentiles: np.ndarray   # (depth, 3) mean 15th/50th/85th percentile of the pre-activations


class Run:
    """One network learning one dataset, one step at a time."""

    def __init__(self, config: RunConfig):
        self.config = c = config
        self.data = make_data(c)
        self.extent = plane_extent(self.data)
        self.grid_n = grid_size(c)
        self.grid = grid_points(self.extent, self.grid_n)
        self.net = build_net(c.depth, c.width, in_features=2, out_features=2, norm=c.norm,
                             residual=c.residual, dropout=c.dropout, dropout_at=c.dropout_at,
                             activation=c.activation,
                             gain=c.gain, seed=c.seed)
        self.trainer = Trainer(self.net, self.data, make_optimizer(c.optimizer, self.net, c.lr),
                               batch_size=c.batch_size, seed=c.seed, eval_every=EVAL_EVERY)
        with np.errstate(all="ignore"):
            tr = self.trainer.evaluate(self.trainer.X_train, self.data.y_train)
            te = self.trainer.evaluate(self.trainer.X_test, self.data.y_test)
        self.initial = EvalPoint(0, float(tr[0]), float(tr[1]), float(te[0]), float(te[1]))

    # -- state --------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    @property
    def stopped(self) -> bool:
        return self.trainer.stopped

    @property
    def message(self) -> str:
        return self.trainer.message

    def step(self) -> bool:
        """One training step; ``False`` once the run has stopped."""
        with np.errstate(all="ignore"):      # a diverging run overflows before its loss is NaN
            return self.trainer.step() is not None

    # -- what the page draws --------------------------------------------------
    def eval_points(self, start: int = 0) -> list[EvalPoint]:
        """Evaluations from index ``start`` on; index 0 is the untrained net (step 0)."""
        h = self.trainer.history
        pts = [self.initial] + [
            EvalPoint(s, float(a), float(b), float(c), float(d)) for s, a, b, c, d in zip(
                h["eval_step"], h["train_loss"], h["train_acc"], h["test_loss"], h["test_acc"])]
        return pts[start:]

    def n_eval_points(self) -> int:
        return 1 + len(self.trainer.history["eval_step"])

    def latest(self) -> EvalPoint:
        return self.eval_points(self.n_eval_points() - 1)[0]

    def stat_points(self, after_step: int = 0) -> list[StatPoint]:
        """Per-layer statistics averaged over each full window of STAT_EVERY steps after ``after_step``."""
        h = self.trainer.history
        n = len(h["grad_norms"])
        first = (after_step // STAT_EVERY + 1) * STAT_EVERY
        out = []
        with np.errstate(all="ignore"):
            for end in range(first, n + 1, STAT_EVERY):
                g = np.asarray(h["grad_norms"][end - STAT_EVERY:end], float)
                p = np.asarray(h["pre_act_percentiles"][end - STAT_EVERY:end], float)
                out.append(StatPoint(end, g.mean(axis=0), p.mean(axis=0)))
        return out

    def recent_grad_norms(self) -> np.ndarray:
        """Per block ‖dL/dW‖ averaged over the last (up to) STAT_EVERY steps; NaN before the first step."""
        g = self.trainer.history["grad_norms"][-STAT_EVERY:]
        if not g:
            return np.full(self.config.depth, np.nan)
        with np.errstate(all="ignore"):
            return np.asarray(g, float).mean(axis=0)

    def _eval_forward(self, X: np.ndarray) -> np.ndarray:
        self.net.eval()
        try:
            with np.errstate(all="ignore"):
                return self.net.forward(X.astype(self.trainer.dtype, copy=False))
        finally:
            self.net.train()

    def _forget(self) -> None:
        """Drop the arrays a probe's eval pass left in the net: looking keeps no memory
        (a lab session would otherwise hold a test set's activations for every layer)."""
        self.net.clear_cache()

    def _chunk_rows(self) -> int:
        w = self.config.width
        return 10**9 if w >= 128 else max(32, _BLAS_ONE_THREAD // (w * w) - 1)

    def boundary(self) -> np.ndarray:
        """P(class 1) on the ``grid_n × grid_n`` plane (row 0 at the bottom); NaN (a dead run) shows as 0.5.

        The grid goes through in chunks small enough that OpenBLAS keeps each
        matrix product on one thread: on a machine shared with the browser,
        a two-thread product waits for a busy core and takes three times as long.
        """
        rows = self._chunk_rows()
        with np.errstate(all="ignore"):
            logits = np.concatenate([self._eval_forward(self.grid[i:i + rows])
                                     for i in range(0, len(self.grid), rows)])
            p = softmax(logits)[:, 1]
        self._forget()
        return np.where(np.isfinite(p), p, 0.5).reshape(self.grid_n, self.grid_n)

    def pre_activations_now(self) -> list[np.ndarray]:
        """Each block's pre-activations for the whole training set, the net in eval mode.

        Eval mode draws no dropout mask and leaves batch norm's running
        statistics alone, so looking never changes the training run.
        """
        self._eval_forward(self.trainer.X_train)
        out = [a.copy() for a in self.net.pre_activations()]
        self._forget()
        return out

    def lesion(self) -> tuple[float, np.ndarray]:
        """Test accuracy of the whole net, and with each block deleted in turn.

        Deleting block k means its output is its input: a residual block
        ``x + F(x)`` becomes ``x``, a plain block is skipped (possible because
        every block keeps the width).
        """
        net, X, y = self.net, self.trainer.X_test, self.data.y_test
        depth = len(net.blocks)
        correct = np.zeros(depth + 1)           # [whole net, block 1 deleted, ...]
        net.eval()
        try:
            with np.errstate(all="ignore"):
                for lo in range(0, len(X), self._chunk_rows()):
                    x, t = X[lo:lo + self._chunk_rows()], y[lo:lo + self._chunk_rows()]
                    inputs = [net.stem.forward(x) if net.stem is not None else x]   # x_0 ... x_depth
                    for block in net.blocks:
                        inputs.append(block.forward(inputs[-1]))
                    outs = [inputs[-1]]
                    for k in range(depth):
                        h = inputs[k]
                        for block in net.blocks[k + 1:]:
                            h = block.forward(h)
                        outs.append(h)
                    for j, h in enumerate(outs):
                        logits = net.head.forward(h) if net.head is not None else h
                        correct[j] += np.count_nonzero(np.argmax(logits, axis=1) == t)
        finally:
            net.train()
            self._forget()
        acc = correct / max(len(X), 1)
        full, accs = acc[0], acc[1:]
        return float(full), np.array(accs, float)

    def variance_shift(self) -> list[tuple[int, float]]:
        """Per batch-norm block, how far its running variance is from the variance it sees in
        test mode on the training inputs (``core.variance_shift``; empty without batch norm)."""
        return variance_shift(self.net, self.trainer.X_train)


# --------------------------------------------------------------------------- the session


class SpeedMeter:
    """Steps per second over the last ``window`` seconds of wall time."""

    def __init__(self, window: float = 1.5):
        self.window = window
        self.samples: deque = deque()

    def reset(self) -> None:
        self.samples.clear()

    def add(self, t: float, steps: int) -> None:
        self.samples.append((t, steps))
        while len(self.samples) > 2 and t - self.samples[0][0] > self.window:
            self.samples.popleft()

    def rate(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self.samples[0], self.samples[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0


STATUSES = ("ready", "running", "paused", "stopped")


@dataclass
class LabSession:
    """Start / pause / step / reset for one run (or two in lockstep)."""

    config_a: RunConfig = field(default_factory=RunConfig)
    config_b: RunConfig | None = None
    max_steps: int = MAX_STEPS
    pause_at: int | None = None   # a running session pauses by itself at this step (e.g. a preset's length)

    def __post_init__(self):
        self.status = "ready"
        self.generation = 0           # +1 at every rebuild, so views know to start over
        self._limit_message = ""
        self._build()

    def _build(self) -> None:
        self.runs = [Run(self.config_a)] + ([Run(self.config_b)] if self.config_b is not None else [])
        self.generation += 1
        self._limit_message = ""

    # -- what the page reads ---------------------------------------------------
    @property
    def compare(self) -> bool:
        return len(self.runs) == 2

    @property
    def step_count(self) -> int:
        return max(r.step_count for r in self.runs)

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def messages(self) -> list[str]:
        """Why training stopped, one line per stopped run (prefixed A/B in compare mode)."""
        out = []
        for label, r in zip("AB", self.runs):
            if r.stopped:
                out.append(f"{label}: {r.message}" if self.compare else r.message)
        if self._limit_message:
            out.append(self._limit_message)
        return out

    def _all_done(self) -> bool:
        return all(r.stopped for r in self.runs) or self.step_count >= self.max_steps

    def _settle(self) -> None:
        if self.step_count >= self.max_steps and not self._limit_message:
            self._limit_message = (f"Reached {self.max_steps:,} steps, the lab's limit for one run. "
                                   "Press Reset to train again.")
        if self._all_done():
            self.status = "stopped"

    # -- transitions ---------------------------------------------------------------
    def configure(self, config_a: RunConfig, config_b: RunConfig | None = None) -> bool:
        """Switch to new configurations; rebuild (and return ``True``) if anything changed.

        A running session keeps running with the fresh nets; otherwise it is ready.
        """
        if config_a == self.config_a and config_b == self.config_b:
            return False
        self.config_a, self.config_b = config_a, config_b
        self._build()
        self.status = "running" if self.status == "running" else "ready"
        return True

    def reset(self) -> None:
        """Fresh nets from the same configurations (same seed: the same run again); ready."""
        self._build()
        self.status = "ready"
        self.pause_at = None

    def start(self) -> bool:
        if self.status in ("ready", "paused"):
            self.status = "running"
            return True
        return False

    def pause(self) -> bool:
        self.pause_at = None
        if self.status == "running":
            self.status = "paused"
            return True
        return False

    def _at_pause(self) -> bool:
        return self.pause_at is not None and self.step_count >= self.pause_at

    def _step_all(self) -> bool:
        advanced = False
        for r in self.runs:
            if not r.stopped:
                advanced = r.step() or advanced
        return advanced

    def step_once(self) -> int:
        """One step of every live run (pausing a running session); returns steps taken (0 or 1)."""
        if self.status == "stopped":
            return 0
        self.status = "paused"
        n = int(self._step_all())
        self._settle()
        return n

    def advance(self, budget: float = 0.06, clock=time.perf_counter) -> int:
        """While running, step until ``budget`` seconds have passed (at least one step).

        Returns the number of lockstep steps taken.
        """
        if self.status != "running":
            return 0
        t0 = clock()
        n = 0
        while not self._at_pause():
            if not self._step_all():
                break
            n += 1
            if self._all_done() or clock() - t0 >= budget:
                break
        self._settle()
        if self.status == "running" and self._at_pause():
            self.pause()
        return n

    def run(self, steps: int) -> int:
        """Headless: take up to ``steps`` steps whatever the status (for tests and presets)."""
        n = 0
        for _ in range(int(steps)):
            if self._all_done() or not self._step_all():
                break
            n += 1
        self._settle()
        if self.status != "stopped" and n:
            self.status = "paused"
        return n


# --------------------------------------------------------------------------- presets


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    caption: str          # markdown: what to look for
    a: dict               # RunConfig fields (the rest default)
    b: dict | None = None # configuration B's tricks (TRICKS) when the preset compares two nets
    steps: int = 600      # about how long the effect takes to show
    layer: int = 1        # the layer the percentile chart starts on

    def __post_init__(self):
        a, _ = self.configs()
        if a.lr not in LEARNING_RATES or a.batch_size not in BATCH_SIZES:
            raise ValueError(f"preset {self.key}: learning rate and batch size must be choices of the page")

    def configs(self) -> tuple[RunConfig, RunConfig | None]:
        a = RunConfig().replace(**self.a)
        b = a.replace(**self.b) if self.b is not None else None
        return a, b

    def session(self) -> LabSession:
        a, b = self.configs()
        return LabSession(a, b)


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset(
        "dropout", "Dropout closes the gap",
        "Sixty noisy points, 15% of them with the wrong label, and a wide net with 128 units per "
        "layer: far more capacity than the data deserves. Without dropout (**A**) the training loss "
        "falls to almost zero while the test loss turns round and climbs: the net memorises the noise, "
        "and its boundary grows islands around single points. With dropout 0.5 (**B**) the training "
        "loss stays higher, the boundary stays smoother and the test loss ends far lower. Look at the "
        "gap between each net's solid (train) and dashed (test) line.",
        a=dict(dataset="noisy", n_train=60, noise=0.1, depth=2, width=128, activation="relu",
               norm="none", residual=False, dropout=0.0, optimizer="adam", lr=0.002, batch_size=64,
               seed=1),
        b=dict(dropout=0.5), steps=800),
    Preset(
        "batchnorm", "Batch norm tolerates a higher learning rate",
        "Plain SGD at a learning rate of 1.0, which is far too high for this 8-layer net without "
        "normalization (**A**): it never gets going. Its loss hovers around 0.69, the loss of a coin "
        "toss, most of its ReLUs are switched off, and it predicts close to 50:50 everywhere (a nearly "
        "white plane). With other seeds it blows up instead and stops with a message. The same net "
        "with batch norm (**B**) trains at that rate. Then set the "
        "learning rate to 0.05, where both train: batch norm still gets to a low loss in a fraction of "
        "the steps.",
        a=dict(dataset="spirals", n_train=200, noise=0.1, depth=8, width=32, activation="relu",
               norm="none", residual=False, dropout=0.0, optimizer="sgd", lr=1.0, batch_size=64, seed=0),
        b=dict(norm="batch"), steps=600),
    Preset(
        "degradation", "The degradation problem",
        "Both nets are plain tanh stacks. The shallow one (**A**, 2 layers) learns the spirals; the deep "
        "one (**B**, 30 layers) can represent everything the shallow one can, and more, yet its "
        "*training* loss barely moves from 0.69, the loss of a coin toss. Its test loss sits right beside "
        "it, so this is not overfitting: the deep plain stack is hard to *optimize*. Now tick **B: "
        "residual connections**: the same 30 layers train at least as well as the 2.",
        a=dict(dataset="spirals", n_train=200, noise=0.1, depth=2, width=32, activation="tanh",
               norm="none", residual=False, dropout=0.0, optimizer="adam", lr=0.003, batch_size=64,
               seed=0),
        b=dict(depth=30), steps=800),
    Preset(
        "ensemble", "Residual nets behave like ensembles",
        "Two 16-layer nets with batch norm, plain (**A**) and residual (**B**), both learn the moons. "
        "Pause when both are near 100% and look at *Delete one block*: each point is the test accuracy "
        "after one block is removed at test time. Removing almost any block from the residual net "
        "costs almost nothing: through its shortcuts the signal reaches the output along many paths of "
        "different lengths, which behave like an ensemble of shallower nets voting together, and "
        "losing one block only removes some of the voters. The same surgery on the plain net drops it "
        "to around chance or below: each of its layers feeds the next and nothing can be skipped. "
        "(The first residual block, which turns the raw input into the features the rest build on, "
        "does matter.)",
        a=dict(dataset="moons", n_train=200, noise=0.1, depth=16, width=32, activation="relu",
               norm="batch", residual=False, dropout=0.0, optimizer="adam", lr=0.003, batch_size=64,
               seed=0),
        b=dict(residual=True), steps=400, layer=8),
    Preset(
        "tiny-batch", "When a trick hurts: batch norm with a tiny batch",
        "A batch of 2. Batch norm (**A**) normalizes each feature over just two examples, so before "
        "its learned scale and shift every value becomes −1 or +1, whatever the input, and the running "
        "averages it uses at test time "
        "describe none of the batches it trained on: its test loss stays high. Layer norm (**B**) "
        "normalizes each example on its own and does not care about the batch size. Set **B: "
        "normalization** to none: no normalization also beats batch norm here.",
        a=dict(dataset="moons", n_train=200, noise=0.1, depth=4, width=32, activation="relu",
               norm="batch", residual=False, dropout=0.0, optimizer="adam", lr=0.003, batch_size=2,
               seed=0),
        b=dict(norm="layer"), steps=600),
    Preset(
        "shuffled-labels", "What the tricks don't fix",
        "The training labels are shuffled: a random half of the points are called class 1, with no "
        "relation to where they are. A residual net with batch norm and 128 units per layer still "
        "drives its training accuracy to 100%, carving a little island around each point. The test "
        "labels are the true ones, and test accuracy stays near 50%, a coin toss. The tricks made the "
        "net trainable; they cannot make it learn something that is not in the data.",
        a=dict(dataset="moons", n_train=100, noise=0.1, shuffle_labels=True, depth=4, width=128,
               activation="relu", norm="batch", residual=True, dropout=0.0, optimizer="adam", lr=0.01,
               batch_size=128, seed=2),
        steps=1000),
    Preset(
        "variance-shift", "Dropout before batch norm: the variance shift",
        "Two 6-layer nets with batch norm and dropout 0.5 learn the circles. In **A** every block drops "
        "half its output, so each later batch norm averages, in training, the variance of dropped-out "
        "values, which is at least twice what reaches it at test time, when nothing is dropped; the "
        "mismatch compounds from block to block. In **B** only the last block drops, after the last batch "
        "norm (Li et al., 2019). Pause and look at *Dropout before batch norm*: A's shift per block "
        "against B's, near 1, and the test accuracies.",
        a=dict(dataset="circles", n_train=200, noise=0.1, depth=6, width=32, activation="relu",
               norm="batch", residual=False, dropout=0.5, dropout_at="every", optimizer="adam", lr=0.003,
               batch_size=64, seed=0),
        b=dict(dropout_at="last"), steps=600),
    Preset(
        "label-corruption", "Random labels, memorised",
        "Sixty points with half of their training labels replaced by random ones, and a wide net: it "
        "still gets every training label right, fitting the random ones point by point, while its test "
        "accuracy is far below what the true labels give. Then press *Sweep the fraction*: the same net "
        "trained afresh with 0 to 100% random labels. Training accuracy reaches 100% at every fraction, "
        "test accuracy falls towards a coin toss, and fitting random labels takes about ten times the "
        "steps true ones take (Zhang et al., 2017, Fig. 1, on points in the plane; on 60 points the "
        "steps wobble from one fraction to the next).",
        a=dict(dataset="moons", n_train=60, noise=0.1, corrupt=0.5, depth=2, width=128, activation="relu",
               norm="none", residual=False, dropout=0.0, optimizer="adam", lr=0.01, batch_size=64, seed=0),
        steps=1500),
)}
OFF_PATH = ("variance-shift", "label-corruption")
"""Presets the lab's guided path leaves out (it keeps to seven steps, on the course's claims);
the page's preset menu and views offer them like the rest."""


def steps_to_fit(run: Run, accuracy: float = 1.0) -> int | None:
    """First evaluated step at which the training accuracy reaches ``accuracy`` (None if never)."""
    for p in run.eval_points():
        if p.train_acc >= accuracy - 1e-9:
            return p.step
    return None


@dataclass
class SweepPoint:
    fraction: float
    train_acc: float
    test_acc: float
    steps_to_fit: int | None      # None: never fitted every training label within the steps


SWEEP_FRACTIONS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SWEEP_STEPS = 1500


class CorruptionSweep:
    """Zhang et al. (2017), Fig. 1b/1c on 2-D data: train ``config`` afresh at each fraction of
    corrupted labels for ``steps`` steps, one after the other; each finished fraction gives a
    :class:`SweepPoint` (the final accuracies and the steps to fit every training label)."""

    def __init__(self, config: RunConfig, fractions=SWEEP_FRACTIONS, steps: int = SWEEP_STEPS):
        self.config = config.replace(shuffle_labels=False)
        self.fractions = tuple(float(f) for f in fractions)
        self.steps = int(steps)
        self.points: list[SweepPoint] = []
        self.run: Run | None = None

    @property
    def done(self) -> bool:
        return len(self.points) == len(self.fractions)

    @property
    def current(self) -> tuple[float, int] | None:
        """The fraction being trained and its step count (None when done)."""
        if self.done:
            return None
        return self.fractions[len(self.points)], self.run.step_count if self.run is not None else 0

    def finish(self) -> list[SweepPoint]:
        """Train every fraction still to go, at once; the points."""
        while not self.done:
            self.advance()
        return self.points

    def advance(self, budget: float = float("inf"), clock=time.perf_counter) -> bool:
        """Train until ``budget`` seconds have passed or a fraction finishes; ``True`` if one did."""
        t0 = clock()
        while not self.done:
            if self.run is None:
                self.run = Run(self.config.replace(corrupt=self.fractions[len(self.points)]))
            run = self.run
            if run.step_count >= self.steps or not run.step():
                e = run.latest()
                self.points.append(SweepPoint(self.fractions[len(self.points)], e.train_acc, e.test_acc,
                                              steps_to_fit(run)))
                self.run = None
                return True
            if clock() - t0 >= budget:
                return False
        return False


def corruption_sweep(config: RunConfig, fractions=SWEEP_FRACTIONS, steps: int = SWEEP_STEPS) -> list[SweepPoint]:
    """The whole :class:`CorruptionSweep` at once (headless)."""
    return CorruptionSweep(config, fractions, steps).finish()


def steps_to_loss(run: Run, threshold: float) -> int | None:
    """First evaluated step at which the training loss is below ``threshold`` (None if never)."""
    for p in run.eval_points():
        if np.isfinite(p.train_loss) and p.train_loss < threshold:
            return p.step
    return None
