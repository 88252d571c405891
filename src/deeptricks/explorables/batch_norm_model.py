"""What the batch-norm explorable shows, computed from the engine (no Panel here).

One deep stack of ``depth`` blocks (256 units, a batch of 512 inputs, float32)
whose weights come from one seed, run three ways on the same input:

* **plain**: ``x_{k+1} = act(W_k x_k)``; what layer k's weights receive is ``x_k``;
* **BatchNorm, training mode**: ``x_{k+1} = act(W_k BN(x_k))`` with the batch's
  own statistics; what the weights receive is ``BN(x_k)``;
* **BatchNorm, eval mode**: the same, but each BN layer uses its *running*
  statistics, which start at mean 0 and variance 1 and have been updated
  ``warmup`` times (momentum ``m`` = 0.1) from training-mode passes over the
  same batch, with the weights held fixed.

The running statistics after ``n`` updates need no ``n`` forward passes: with
the weights fixed every update sees the same batch statistics ``μ, σ²`` (those
of the training-mode pass), so, as ``BatchNorm._update_running`` would give
after ``n`` calls (checked by the tests)::

    running_mean_n = (1 - (1 - m)^n) · μ
    running_var_n  = (1 - m)^n · 1 + (1 - (1 - m)^n) · σ² · N / (N - 1)

Everything that does not depend on a control is cached: the weights at the
current gain, each pass's layers (a deeper setting only computes the new
layers), each layer's summary and histograms (made by :mod:`.layer_stats`,
which the layer-norm page uses too). The inputs are not standardized (each
feature has its own mean and scale), as real data rarely is.

A last view follows one example through the *first* BatchNorm layer for
``N_DRAWS`` random batches that contain it: with small batches its normalized
value depends on which other examples came along.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from deeptricks.core import BatchNorm, activation, build_net

from .layer_stats import X_AXES, ColumnViews, column_views, make_inputs, shared_log_range, summarize

MAX_DEPTH, WIDTH, BATCH = 60, 256, 512
POOL = 4096                    # examples the batches of the one-example view are drawn from
MOMENTUM, EPS = 0.1, 1e-5
N_DRAWS, N_FEATURES = 20, 6
ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")


def running_stats(mean: np.ndarray, var: np.ndarray, n_batch: int, updates: int,
                  momentum: float = MOMENTUM) -> tuple[np.ndarray, np.ndarray]:
    """Running mean and variance after ``updates`` updates from the same batch statistics
    (biased ``var`` over ``n_batch`` examples), starting from mean 0 and variance 1."""
    keep = (1.0 - momentum) ** int(updates)
    unbiased = np.asarray(var, np.float64) * (n_batch / (n_batch - 1))
    return (1.0 - keep) * np.asarray(mean, np.float64), keep * 1.0 + (1.0 - keep) * unbiased


@dataclass
class _Pass:
    """One forward pass through the stack, extended a layer at a time on demand."""

    front: np.ndarray                                   # input of the next block
    shown: list = field(default_factory=list)           # per layer: the array histogrammed
    summary: list = field(default_factory=list)         # per layer: LayerSummary
    hists: dict = field(default_factory=dict)           # (layer, x_axis) -> histogram tuple
    stats: list = field(default_factory=list)           # per layer: (mean, var) arrays (BN passes)

    @property
    def depth(self) -> int:
        return len(self.summary)


@dataclass
class ModeViews:
    std_train: np.ndarray     # per layer: std of BatchNorm's output, training mode (batch statistics)
    std_eval: np.ndarray      # per layer: the same in eval mode (running statistics)
    layer: int                # 1-based layer of the feature statistics below
    features: np.ndarray      # which features
    batch_mean: np.ndarray    # that layer's batch statistics (training pass over the shown batch)
    batch_var: np.ndarray
    running_mean: np.ndarray  # its running statistics after the warm-up
    running_var: np.ndarray


@dataclass
class OneExampleViews:
    batch: int
    mode: str
    features: np.ndarray      # feature indices shown
    values: np.ndarray        # (N_DRAWS, N_FEATURES) example 0's normalized value per batch; empty if undefined
    reference: np.ndarray     # (N_FEATURES,) normalized with the statistics of all POOL examples
    raw: np.ndarray           # (N_FEATURES,) the example's raw values
    spread: float             # RMS over features of the std across draws (0 when undefined)
    undefined: bool           # training mode with a batch of one
    reason: str               # the engine's explanation when undefined


@dataclass
class BatchNormViews:
    left: ColumnViews
    right: ColumnViews
    modes: ModeViews
    one: OneExampleViews


class BatchNormModel:
    """Holds the inputs, the weights and every computed layer; the methods return view data."""

    def __init__(self, seed: int = 0, width: int = WIDTH, batch: int = BATCH, max_depth: int = MAX_DEPTH):
        self.width, self.batch, self.max_depth = width, batch, max_depth
        # gain 1: the weights at gain g are these times g (build_net draws N(0,1) · gain · √(2/fan_in))
        self.net = build_net(depth=max_depth, width=width, norm="batch", seed=seed, dtype=np.float32)
        self.base_weights = [lin.params["W"].copy() for lin in self.net.linears]
        rng = np.random.default_rng([seed, 11])
        self.pool = make_inputs(rng, POOL, width)
        self.x = self.pool[:batch]
        # the one-example view: example 0 in N_DRAWS random batches; growing the batch adds examples
        self.perms = np.stack([rng.permutation(np.arange(1, POOL)) for _ in range(N_DRAWS)])
        pop_mean = self.pool.mean(axis=0, dtype=np.float64)
        pop_var = self.pool.var(axis=0, dtype=np.float64)
        ref_all = (self.pool[0] - pop_mean) / np.sqrt(pop_var + EPS)
        order = np.argsort(ref_all)
        picks = order[np.round(np.linspace(0.04, 0.96, N_FEATURES) * (width - 1)).astype(int)]
        self.features = np.sort(picks)
        self.reference = ref_all[self.features]
        self.pool_f = np.ascontiguousarray(self.pool[:, self.features])
        self._small_bn = BatchNorm(N_FEATURES, momentum=MOMENTUM, dtype=np.float32)
        self._small_bn.forward(self.x[:, self.features])     # the first BN layer's statistics of the shown batch
        self._first_stats = (self._small_bn.batch_mean.astype(np.float64),
                             self._small_bn.batch_var.astype(np.float64))
        self._one_cache: dict = {}
        self.gain, self.activation = None, None
        self.set_net(1.5, "relu")

    # -- the net --------------------------------------------------------------
    def set_net(self, gain: float, act: str) -> None:
        """Choose the weights' gain and the nonlinearity; drops every cached layer if they change."""
        gain = float(gain)
        if act not in ACTIVATION_NAMES:
            raise ValueError(f"activation must be one of {ACTIVATION_NAMES}; got {act!r}")
        if (gain, act) == (self.gain, self.activation):
            return
        self.gain, self.activation = gain, act
        self.act = activation(act)
        self.weights: list[np.ndarray] = []
        self.plain = _Pass(self.x)
        self.train = _Pass(self.x)
        self.eval_warmup = None
        self.eval = None

    @contextmanager
    def preserved(self):
        """Compute for another setting inside this block and find the model as it was after:
        its gain, nonlinearity and every computed layer (held, not copied, meanwhile)."""
        saved = (self.gain, self.activation, self.act, self.weights, self.plain, self.train,
                 self.eval, self.eval_warmup)
        try:
            yield self
        finally:
            (self.gain, self.activation, self.act, self.weights, self.plain, self.train,
             self.eval, self.eval_warmup) = saved

    def _weight(self, k: int) -> np.ndarray:
        while len(self.weights) <= k:
            j = len(self.weights)
            self.weights.append(self.base_weights[j] * np.float32(self.gain))
        return self.weights[k]

    def _linear(self, k: int, h: np.ndarray) -> np.ndarray:
        lin = self.net.linears[k]
        lin.params["W"] = self._weight(k)
        return self.act.forward(lin.forward(h))

    def _extend(self, depth: int, warmup: int) -> None:
        """Run the plain, training-mode and eval-mode passes up to ``depth`` layers.

        The passes go through the layers in step, so each layer's weights
        multiply all the passes' inputs in one matrix product.
        """
        if self.eval is None or self.eval_warmup != warmup:
            self.eval, self.eval_warmup = _Pass(self.x), warmup
        passes = (self.plain, self.train, self.eval)
        while True:
            k = min(p.depth for p in passes)
            if k >= depth:
                return
            todo = [p for p in passes if p.depth == k]
            inputs = [self._normalize(p, k, warmup) for p in todo]
            lin = self.net.linears[k]
            lin.params["W"] = self._weight(k)
            with np.errstate(over="ignore", invalid="ignore"):
                out = self.act.forward(lin.forward(np.concatenate(inputs) if len(inputs) > 1 else inputs[0]))
            for p, part in zip(todo, np.split(out, len(todo))):
                p.front = part

    def _normalize(self, p: _Pass, k: int, warmup: int) -> np.ndarray:
        """Layer ``k``'s input for pass ``p`` as its weights receive it; records it and its summary."""
        h = p.front
        if p is not self.plain:
            bn = self.net.norms[k]
            with np.errstate(over="ignore", invalid="ignore"):
                if p is self.train:
                    bn.train()
                    h = bn.forward(h)
                    p.stats.append((bn.batch_mean.astype(np.float64), bn.batch_var.astype(np.float64)))
                else:
                    mean, var = self.train.stats[k]      # the training pass runs first
                    bn.running_mean, bn.running_var = running_stats(mean, var, self.batch, warmup)
                    bn.eval()
                    h = bn.forward(h)
                    bn.train()
                    p.stats.append((bn.running_mean, bn.running_var))
        p.shown.append(h)
        p.summary.append(summarize(h, zeros=p is self.plain))
        return h

    def running(self, k: int, warmup: int) -> tuple[np.ndarray, np.ndarray]:
        """Layer ``k``'s (0-based) running mean and variance after ``warmup`` updates."""
        while self.train.depth <= k:
            self._extend(self.train.depth + 1, self.eval_warmup if self.eval_warmup is not None else warmup)
        return running_stats(*self.train.stats[k], self.batch, warmup)

    def _pass(self, kind: str, depth: int, warmup: int = 0) -> _Pass:
        self._extend(depth, warmup)
        try:
            return {"plain": self.plain, "train": self.train, "eval": self.eval}[kind]
        except KeyError:
            raise ValueError(f"unknown pass {kind!r}") from None

    # -- views ------------------------------------------------------------------
    def column(self, kind: str, depth: int, *, warmup: int = 0, x_axis: str = "shared",
               layers=None) -> ColumnViews:
        """Histograms (of ``layers``, default all) and per-layer numbers of one pass:
        ``kind`` is "plain", "train" or "eval"; ``x_axis`` "shared" (±SHARED_LIM), "fit" or "log"."""
        return self.columns((kind,), depth, warmup=warmup, x_axis=x_axis, layers=layers)[0]

    def columns(self, kinds, depth: int, *, warmup: int = 0, x_axis: str = "shared",
                layers=None) -> list[ColumnViews]:
        """Several passes' columns; on the "log" axis they share one range, so they compare."""
        if x_axis not in X_AXES:
            raise ValueError(f"x_axis must be one of {X_AXES}; got {x_axis!r}")
        depth = int(np.clip(depth, 1, self.max_depth))
        self._extend(depth, warmup)
        passes = [self._pass(kind, depth, warmup) for kind in kinds]
        shown = list(range(depth)) if layers is None else [i for i in layers if 0 <= i < depth]
        log_range = shared_log_range(passes, shown) if x_axis == "log" else None
        return [column_views(kind, p, depth, x_axis, shown, log_range) for kind, p in zip(kinds, passes)]

    def modes(self, depth: int, warmup: int, layer: int | None = None) -> ModeViews:
        """BatchNorm's output in training vs eval mode, layer by layer, and one layer's statistics."""
        depth = int(np.clip(depth, 1, self.max_depth))
        tr = self._pass("train", depth, warmup)
        ev = self._pass("eval", depth, warmup)
        layer = depth if layer is None else int(np.clip(layer, 1, depth))
        f = self.features
        bm, bv = tr.stats[layer - 1]
        rm, rv = ev.stats[layer - 1]
        return ModeViews(
            std_train=np.array([s.std for s in tr.summary[:depth]]),
            std_eval=np.array([s.std for s in ev.summary[:depth]]),
            layer=layer, features=f.copy(),
            batch_mean=bm[f].copy(), batch_var=bv[f].copy(),
            running_mean=np.asarray(rm, np.float64)[f].copy(),
            running_var=np.asarray(rv, np.float64)[f].copy(),
        )

    def one_example(self, batch: int, mode: str = "train", warmup: int = 0) -> OneExampleViews:
        """Example 0's normalized value at the first BatchNorm layer, in ``N_DRAWS`` random batches.

        Training mode: each batch is example 0 plus the first ``batch - 1`` examples of a fixed
        random ordering of the pool, so a bigger batch only adds examples. Eval mode: the
        running statistics (from the shown batch, after ``warmup`` updates) replace the
        batch's, and every batch gives the same value.
        """
        batch = int(np.clip(batch, 1, POOL))
        key = (batch, mode, int(warmup) if mode == "eval" else 0)
        if key not in self._one_cache:
            if len(self._one_cache) > 64:
                self._one_cache.clear()
            self._one_cache[key] = self._one_example(*key)
        return self._one_cache[key]

    def _one_example(self, batch: int, mode: str, warmup: int) -> OneExampleViews:
        raw = self.pool_f[0].astype(np.float64)
        bn = self._small_bn
        if mode == "eval":
            bn.running_mean, bn.running_var = running_stats(*self._first_stats, self.batch, warmup)
            bn.eval()
            out = bn.forward(self.pool_f[:1])[0].astype(np.float64)
            bn.train()
            values = np.tile(out, (N_DRAWS, 1))
            return OneExampleViews(batch, mode, self.features, values, self.reference, raw, 0.0, False, "")
        values = np.empty((N_DRAWS, N_FEATURES))
        try:
            for j in range(N_DRAWS):
                rows = np.concatenate(([0], self.perms[j, :batch - 1]))
                values[j] = bn.forward(self.pool_f[rows])[0]
        except ValueError as exc:  # a batch of one in training mode: the engine explains why
            return OneExampleViews(batch, mode, self.features, np.zeros((0, N_FEATURES)), self.reference,
                                   raw, 0.0, True, str(exc))
        spread = float(np.sqrt(np.mean(values.var(axis=0))))
        return OneExampleViews(batch, mode, self.features, values, self.reference, raw, spread, False, "")

    def spread_curve(self, sizes=(2, 4, 8, 16, 32, 64, 128, 256, 512)) -> tuple[np.ndarray, np.ndarray]:
        """The one-example spread (training mode) for several batch sizes."""
        if getattr(self, "_curve", None) is None or tuple(self._curve[0]) != tuple(sizes):
            self._curve = (np.array(sizes), np.array([self.one_example(b).spread for b in sizes]))
        return self._curve

    def compute(self, depth: int = 10, *, gain: float = 1.5, act: str = "relu", bn: bool = True,
                mode: str = "train", warmup: int = 0, batch: int = BATCH, x_axis: str = "shared",
                layers=None) -> BatchNormViews:
        """Everything the page shows, for one setting of the controls."""
        self.set_net(gain, act)
        right_kind = ("eval" if mode == "eval" else "train") if bn else "plain"
        left, right = self.columns(("plain", right_kind), depth, warmup=warmup, x_axis=x_axis, layers=layers)
        return BatchNormViews(left, right, self.modes(depth, warmup), self.one_example(batch, mode, warmup))
