"""What the residual-connections explorable shows, computed from the engine (no Panel here).

Two nets of ``depth`` blocks, 64 units wide, built from one seed so that they
have identical weights; they differ only in the shortcut::

    plain block      x_{k+1} =       Act(Linear(Norm(x_k)))
    residual block   x_{k+1} = x_k + Act(Linear(Norm(x_k)))

Both run forward on the same 128 random inputs, then backward from a fixed
scalar loss: ``L = Σ u · x_depth`` for a random direction ``u`` of unit length,
so the gradient arriving at the top has size exactly 1 and each block's
number reads as "how much of it is left here". From that pass:

* ``grad[k]``: ‖dL/dx_k‖, the gradient reaching block k+1's input;
* per residual block, the two terms of ``dL/dx_k = dL/dx_{k+1} (1 + dF/dx_k)``:
  the shortcut's ``identity_path`` (= ‖dL/dx_{k+1}‖) and the ``block_path``
  through the block's own layers;
* ``rel_change[k]``: ‖x_{k+1} − x_k‖ / ‖x_k‖, how much block k+1 changes its
  input (0 for a block that passes its input on untouched).

Norms are computed with a rescaling, so values near the float64 limits
(1e-300, 1e+300) are exact instead of underflowing to 0 or overflowing to inf.
Whatever overflowed anyway is reported in ``nonfinite`` masks and the arrays
themselves stay finite.

:class:`TrainingComparison` trains a shallow plain net, a deep plain net and a
deep residual net side by side on two moons, a chunk of steps at a time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from deeptricks.core import Trainer, build_net, make_dataset, make_optimizer

WIDTH, BATCH, MAX_DEPTH = 64, 128, 100
SEED = 0
LIMIT = 1e300           # finite stand-in for values that overflowed (see ``nonfinite``)

# The training comparison.
TRAIN_WIDTH = 32
SHALLOW_DEPTH = 3
TRAIN_DEPTH_CAP = 50
TRAIN_STEPS = 300
TRAIN_LR = 1e-2
TRAIN_BATCH = 64
EVAL_EVERY = 5
DATASET = "moons"
RUN_NAMES = ("shallow plain", "deep plain", "deep residual")


def safe_norm(a: np.ndarray) -> float:
    """Frobenius norm without underflow or overflow of the squares (inf/nan if ``a`` has them)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        m = float(np.max(np.abs(a)))
        if m == 0.0 or not math.isfinite(m):
            if np.isnan(a).any():
                return math.nan
            return m
        return m * float(np.linalg.norm(a / m))


def safe_norms(arrays) -> np.ndarray:
    """:func:`safe_norm` of each array in a list of equally shaped arrays, in one pass."""
    if len(arrays) == 0:
        return np.zeros(0)
    a = np.stack([np.asarray(x, dtype=np.float64) for x in arrays])
    a = a.reshape(len(arrays), -1)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = np.max(np.abs(a), axis=1)
        ok = (m > 0) & np.isfinite(m)
        scale = np.where(ok, m, 1.0)
        out = np.where(ok, m * np.sqrt(np.sum((a / scale[:, None]) ** 2, axis=1)), m)
    out[np.isnan(a).any(axis=1)] = np.nan
    return out


def _finite(values) -> tuple[np.ndarray, np.ndarray]:
    """``values`` with non-finite entries replaced (inf → LIMIT, nan → 0) and the mask of them."""
    a = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        a = np.nan_to_num(a, nan=0.0, posinf=LIMIT, neginf=-LIMIT)
    return a, bad


def _ratio(num: float, den: float) -> float:
    if not (math.isfinite(num) and math.isfinite(den)):
        return math.nan
    if den == 0.0:
        return math.inf if num > 0 else math.nan
    return num / den


@dataclass(frozen=True)
class NetViews:
    """One net's numbers, one entry per block (block k+1 is index k)."""

    residual: bool
    grad: np.ndarray            # ‖dL/dx_k‖: gradient reaching each block's input
    identity_path: np.ndarray   # ‖identity_grad‖ per block (zeros for a plain net)
    block_path: np.ndarray      # ‖block_grad‖ per block (a plain block: the whole gradient)
    rel_change: np.ndarray      # ‖x_{k+1} − x_k‖ / ‖x_k‖
    total_change: float         # ‖x_depth − x_0‖ / ‖x_0‖
    in_rms: float               # RMS of the input x_0
    out_rms: float              # RMS of the last block's output
    nonfinite: dict = field(default_factory=dict)   # field name → bool mask of overflowed entries

    @property
    def depth(self) -> int:
        return int(self.grad.size)

    @property
    def first_over_last(self) -> float:
        """‖dL/dx at block 1‖ / ‖dL/dx at the last block‖ (nan if either is not finite)."""
        if self.depth == 0 or self.nonfinite.get("grad", np.zeros(0, bool)).any():
            return math.nan
        return _ratio(float(self.grad[0]), float(self.grad[-1]))

    @property
    def zero_grad_blocks(self) -> int:
        """Blocks where the gradient underflowed to exactly 0."""
        return int(np.count_nonzero((self.grad == 0) & ~self.nonfinite.get("grad", False)))

    @property
    def overflowed(self) -> bool:
        return any(m.any() for m in self.nonfinite.values()) or not (
            math.isfinite(self.out_rms) and math.isfinite(self.total_change))

    @property
    def growth(self) -> float:
        """RMS of the output over RMS of the input: how much the signal grew through the stack."""
        return _ratio(self.out_rms, self.in_rms)

    def path_ratio(self) -> float:
        """Median over blocks of ‖block path‖ / ‖shortcut path‖ (nan for a plain net)."""
        if not self.residual or self.depth == 0:
            return math.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            r = self.block_path / self.identity_path
        r = r[np.isfinite(r)]
        return float(np.median(r)) if r.size else math.nan


@dataclass(frozen=True)
class ResidualViews:
    """Everything the gradient and identity plots show, for both nets."""

    depth: int
    norm: str
    activation: str
    gain: float
    plain: NetViews
    residual: NetViews

    def net(self, residual: bool) -> NetViews:
        return self.residual if residual else self.plain


def _net_views(net, x: np.ndarray, u_seed: int) -> NetViews:
    """Forward ``x`` through ``net``, backward from ``L = Σ u·x_depth``, and measure."""
    with np.errstate(all="ignore"):
        y = net.forward(x)
        u = np.random.default_rng([u_seed, 3]).standard_normal(y.shape)
        u /= np.linalg.norm(u)
        net.backward(u)
        ins, outs = net.block_inputs(), net.block_outputs()
        grad = safe_norms(net.block_input_grads())
        if net.config.residual:
            identity = safe_norms([b.identity_grad for b in net.blocks])
            block = safe_norms([b.block_grad for b in net.blocks])
        else:
            identity = np.zeros(len(net.blocks))
            block = grad.copy()
        diffs = safe_norms([o - i for i, o in zip(ins, outs)])
        rel = [_ratio(float(d), float(n)) for d, n in zip(diffs, safe_norms(ins))]
        x_last = outs[-1] if outs else x
        total = _ratio(safe_norm(x_last - x), safe_norm(x))
        rms = math.sqrt(x.size)
        in_rms, out_rms = safe_norm(x) / rms, safe_norm(x_last) / rms
    arrays, masks = {}, {}
    for key, vals in (("grad", grad), ("identity_path", identity), ("block_path", block),
                      ("rel_change", rel)):
        arrays[key], masks[key] = _finite(vals)
    return NetViews(residual=bool(net.config.residual), total_change=total, in_rms=in_rms,
                    out_rms=out_rms, nonfinite=masks, **arrays)


class ResidualModel:
    """Computes :class:`ResidualViews` per net configuration, with a small cache.

    The inputs and the loss direction are fixed; ``build_net(seed=SEED)`` draws
    the same weights for the plain and the residual net (and, for a deeper
    net, the same weights for the blocks the shallower one has).
    """

    def __init__(self, seed: int = SEED, width: int = WIDTH, batch: int = BATCH, cache_size: int = 48):
        self.seed, self.width = seed, width
        self.x = np.random.default_rng([seed, 1]).standard_normal((batch, width))
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, ResidualViews] = OrderedDict()

    def compute(self, depth: int, norm: str = "none", activation: str = "sigmoid",
                gain: float = 1.0) -> ResidualViews:
        depth = int(np.clip(int(depth), 1, MAX_DEPTH))
        key = (depth, norm, activation, float(gain))
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        nets = [build_net(depth, self.width, norm=norm, residual=res, activation=activation,
                          gain=float(gain), seed=self.seed) for res in (False, True)]
        plain, residual = (_net_views(net, self.x, self.seed) for net in nets)
        views = ResidualViews(depth, norm, activation, float(gain), plain, residual)
        self._cache[key] = views
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return views


# --------------------------------------------------------------------------- training


def train_depth(depth: int) -> int:
    """The deep nets' depth in the training comparison: the chosen depth, capped."""
    return int(np.clip(int(depth), 1, TRAIN_DEPTH_CAP))


class TrainingComparison:
    """A shallow plain net, a deep plain net and a deep residual net, trained side by side.

    Same data, optimizer (Adam), learning rate, batches and seed for all three;
    the blocks' weight scale ``gain`` is the page's (the input layer keeps the
    standard scale). ``advance`` runs a few steps of each, so a page can show
    the curves growing; the result does not depend on how the steps are chunked.
    """

    def __init__(self, depth: int, norm: str = "none", activation: str = "sigmoid",
                 gain: float = 1.0, *, steps: int = TRAIN_STEPS, seed: int = SEED):
        self.depth = train_depth(depth)
        self.norm, self.activation, self.gain = norm, activation, float(gain)
        self.total_steps = int(steps)
        self.data = make_dataset(DATASET, noise=0.1, seed=seed)
        specs = {"shallow plain": (SHALLOW_DEPTH, False), "deep plain": (self.depth, False),
                 "deep residual": (self.depth, True)}
        self.trainers: dict[str, Trainer] = {}
        self.curves: dict[str, tuple[list, list]] = {}
        for name, (d, res) in specs.items():
            net = build_net(d, TRAIN_WIDTH, in_features=2, out_features=2, norm=norm, residual=res,
                            activation=activation, gain=self.gain, seed=seed)
            if net.stem is not None and self.gain > 0:       # the gain is for the blocks only
                net.stem.params["W"] /= self.gain
            t = Trainer(net, self.data, make_optimizer("adam", net, TRAIN_LR), batch_size=TRAIN_BATCH,
                        seed=seed, eval_every=EVAL_EVERY, record_stats=False)
            with np.errstate(all="ignore"):
                loss0, _ = t.evaluate(t.X_train, self.data.y_train)
            self.trainers[name] = t
            self.curves[name] = ([0], [float(loss0)])

    @property
    def step(self) -> int:
        return min(t.step_count for t in self.trainers.values())

    @property
    def done(self) -> bool:
        return all(t.step_count >= self.total_steps or t.stopped for t in self.trainers.values())

    def advance(self, steps: int = EVAL_EVERY) -> bool:
        """Run up to ``steps`` more steps of each net; return ``done``."""
        for name, t in self.trainers.items():
            todo = min(int(steps), self.total_steps - t.step_count)
            for _ in range(max(todo, 0)):
                rec = t.step()
                if rec is None:
                    break
                if "train_loss" in rec and math.isfinite(rec["train_loss"]):
                    xs, ys = self.curves[name]
                    xs.append(rec["step"])
                    ys.append(float(rec["train_loss"]))
        return self.done

    def run(self) -> "TrainingComparison":
        while not self.advance(10 * EVAL_EVERY):
            pass
        return self

    def final_loss(self, name: str) -> float:
        return self.curves[name][1][-1]

    def final_acc(self, name: str) -> float:
        return self.trainers[name].final("train_acc")

    def message(self, name: str) -> str:
        """Why a run stopped early ('' if it did not)."""
        return self.trainers[name].message
