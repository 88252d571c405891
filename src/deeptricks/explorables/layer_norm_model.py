"""What the layer-norm explorable shows, computed from the engine (no Panel here).

Three views:

* **the table**: a small batch (8 examples x 12 features, one decimal, so a
  reader can check the arithmetic) normalized by batch norm (each feature
  column over the examples) or by layer norm (each example row over its
  features), with one group highlighted: its values, mean and standard
  deviation, and what normalizing turns them into;
* **shrinking the batch**: example 1's normalized features under both methods
  for a batch of the first ``B`` examples of a pool of 64. Layer norm looks at
  one example at a time, so its output never changes; batch norm's does, and
  for ``B = 1`` it is undefined in training mode;
* **a deep stack**: per-layer histograms of what each layer's weights receive,
  without normalization (``x_k``) and with layer norm (``LN(x_k)``), on the
  same weights and input (see :mod:`.batch_norm_model`).

The examples' features have their own means and scales, and the examples
their own overall size ("loudness"), so both methods have work to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeptricks.core import BatchNorm, LayerNorm, activation, build_net

from .layer_stats import (X_AXES, ColumnViews, LayerSummary, column_views, make_inputs, shared_log_range,
                          summarize)

N_EXAMPLES, N_FEATURES = 8, 12          # the table
POOL = 64                               # the shrinking-batch view draws its batches from these
MAX_DEPTH, WIDTH, BATCH = 60, 256, 512
METHODS = ("batch", "layer")


@dataclass
class TableViews:
    method: str
    index: int                 # 1-based column (batch norm) or row (layer norm)
    x: np.ndarray              # (N_EXAMPLES, N_FEATURES) the batch
    normalized: np.ndarray     # the whole batch normalized by the method
    highlight: np.ndarray      # bool mask of the group the method averages over
    group: np.ndarray          # the highlighted values
    group_normalized: np.ndarray
    mean: float                # the group's mean and (biased) standard deviation
    std: float


@dataclass
class ShrinkViews:
    batch: int
    features: np.ndarray       # 1 … N_FEATURES
    raw: np.ndarray            # example 1's features
    layer: np.ndarray          # its layer-norm output (the same for every batch)
    batch_norm: np.ndarray     # its batch-norm output in this batch; empty when undefined
    batch_norm_full: np.ndarray  # its batch-norm output in the full batch of POOL examples
    undefined: bool            # batch norm with a batch of one (training mode)
    reason: str                # the engine's explanation when undefined
    moved: float               # RMS distance of batch norm's output from its full-batch value (0 if undefined)


def make_table(seed: int = 0) -> np.ndarray:
    """POOL examples x N_FEATURES features, rounded to one decimal; the first N_EXAMPLES form the table."""
    rng = np.random.default_rng([seed, 21])
    centre = rng.uniform(-2.0, 4.0, N_FEATURES)
    scale = rng.uniform(0.5, 2.5, N_FEATURES)
    loud = np.exp(0.45 * rng.standard_normal((POOL, 1)))
    x = loud * (centre + scale * rng.standard_normal((POOL, N_FEATURES)))
    return np.round(x, 1) + 0.0          # + 0.0: no "-0.0"


class LayerNormModel:
    """The table, the shrinking batch and the deep stack; methods return view data."""

    def __init__(self, seed: int = 0, width: int = WIDTH, batch: int = BATCH, max_depth: int = MAX_DEPTH):
        self.pool = make_table(seed)
        self.table = self.pool[:N_EXAMPLES]
        self._normalized = {
            "batch": BatchNorm(N_FEATURES).forward(self.table),
            "layer": LayerNorm(N_FEATURES).forward(self.table),
        }
        self._ln_one = LayerNorm(N_FEATURES)
        self._bn_one = BatchNorm(N_FEATURES)
        self.bn_full = self._bn_one.forward(self.pool)[0].copy()
        # the deep stack
        self.width, self.batch, self.max_depth = width, batch, max_depth
        self.net = build_net(depth=max_depth, width=width, norm="layer", seed=seed, dtype=np.float32)
        self.base_weights = [lin.params["W"].copy() for lin in self.net.linears]
        self.x = make_inputs(np.random.default_rng([seed, 11]), batch, width)
        self.gain, self.activation = None, None
        self.set_net(1.5, "relu")

    # -- the table --------------------------------------------------------------
    def table_view(self, method: str, index: int) -> TableViews:
        """The batch, the group ``method`` averages over at ``index`` (1-based), and the result."""
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {method!r}")
        limit = N_FEATURES if method == "batch" else N_EXAMPLES
        index = int(np.clip(index, 1, limit))
        mask = np.zeros(self.table.shape, bool)
        if method == "batch":
            mask[:, index - 1] = True
        else:
            mask[index - 1, :] = True
        group = self.table[mask]
        out = self._normalized[method]
        return TableViews(method, index, self.table.copy(), out.copy(), mask, group.copy(),
                          out[mask].copy(), float(group.mean()), float(group.std()))

    # -- shrinking the batch ------------------------------------------------------
    def shrink(self, batch: int) -> ShrinkViews:
        """Example 1's normalized features when the batch is the first ``batch`` examples."""
        batch = int(np.clip(batch, 1, POOL))
        xb = self.pool[:batch]
        layer = self._ln_one.forward(xb)[0].copy()
        feats = np.arange(1, N_FEATURES + 1)
        try:
            bn = self._bn_one.forward(xb)[0].copy()
        except ValueError as exc:   # a batch of one in training mode: the engine explains why
            return ShrinkViews(batch, feats, self.pool[0].copy(), layer, np.zeros(0), self.bn_full.copy(),
                               True, str(exc), 0.0)
        moved = float(np.sqrt(np.mean((bn - self.bn_full) ** 2)))
        return ShrinkViews(batch, feats, self.pool[0].copy(), layer, bn, self.bn_full.copy(), False, "", moved)

    # -- the deep stack -------------------------------------------------------------
    def set_net(self, gain: float, act: str = "relu") -> None:
        """Choose the weights' gain and the nonlinearity; drops every cached layer if they change."""
        gain = float(gain)
        if (gain, act) == (self.gain, self.activation):
            return
        self.act = activation(act)
        self.gain, self.activation = gain, act
        self.weights: list[np.ndarray] = []
        self.plain = _Pass(self.x)
        self.layer = _Pass(self.x)

    def _extend(self, depth: int) -> None:
        while self.plain.depth < depth:
            k = self.plain.depth
            ln = self.net.norms[k]
            inputs = []
            for p, h in ((self.plain, self.plain.front), (self.layer, None)):
                if h is None:
                    with np.errstate(over="ignore", invalid="ignore"):
                        h = ln.forward(p.front)
                p.shown.append(h)
                p.summary.append(summarize(h, zeros=p is self.plain))
                inputs.append(h)
            while len(self.weights) <= k:
                self.weights.append(self.base_weights[len(self.weights)] * np.float32(self.gain))
            lin = self.net.linears[k]
            lin.params["W"] = self.weights[k]
            with np.errstate(over="ignore", invalid="ignore"):
                out = self.act.forward(lin.forward(np.concatenate(inputs)))
            self.plain.front, self.layer.front = np.split(out, 2)

    def column(self, kind: str, depth: int, *, layers=None, x_axis: str = "log") -> ColumnViews:
        """One column: ``kind`` "plain" or "layer"; see :meth:`columns`."""
        return self.columns((kind,), depth, layers=layers, x_axis=x_axis)[0]

    def columns(self, kinds=("plain", "layer"), depth: int = 10, *, layers=None,
                x_axis: str = "log") -> list[ColumnViews]:
        """Histograms (of ``layers``, default all) and per-layer numbers of each pass in ``kinds``;
        ``x_axis`` as in :meth:`BatchNormModel.columns` ("log" columns share one range)."""
        if x_axis not in X_AXES:
            raise ValueError(f"x_axis must be one of {X_AXES}; got {x_axis!r}")
        depth = int(np.clip(depth, 1, self.max_depth))
        self._extend(depth)
        passes = [{"plain": self.plain, "layer": self.layer}[k] for k in kinds]
        shown = list(range(depth)) if layers is None else [i for i in layers if 0 <= i < depth]
        log_range = shared_log_range(passes, shown) if x_axis == "log" else None
        return [column_views(k, p, depth, x_axis, shown, log_range) for k, p in zip(kinds, passes)]


class _Pass:
    """One forward pass through the stack, extended a layer at a time."""

    def __init__(self, front: np.ndarray):
        self.front = front
        self.shown: list[np.ndarray] = []
        self.summary: list[LayerSummary] = []
        self.hists: dict = {}
        self.stats: list = []

    @property
    def depth(self) -> int:
        return len(self.summary)
