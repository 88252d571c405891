"""What the dropout explorable shows, computed from the engine (no Panel here).

A fixed 10-layer ReLU net (256 units, a batch of 512 inputs, float32) with
dropout after every layer. The random bits of every mask are frozen until the
learner resamples, so dragging ``p`` up only ever switches more units off:
the grid darkens smoothly instead of flickering.

Two views of "training output vs test output":

* the read-out: a linear layer ``y = V · dropout(h)`` on the chosen layer's
  units ``h``. Inverted dropout makes ``E[y_train] = y_test`` exactly, so the
  average over K masks (an ensemble of K thinned networks) converges to the
  test-time output; without the scaling it converges to ``(1 - p) · y_test``.
* the whole stack: with dropout in every ReLU layer the match is only
  approximate, because each layer's extra noise is partly rectified into a
  larger mean; the per-layer means show how far it drifts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeptricks.core import build_net, histogram

DEPTH, WIDTH, BATCH = 10, 256, 512
ENS_EXAMPLES, ENS_MAX, READOUT = 16, 64, 8
HIST_BINS = 40


@dataclass
class DropoutViews:
    grid: np.ndarray          # (WIDTH,) the chosen layer's output for example 0, as the mode shows it
    grid_dropped: np.ndarray  # (WIDTH,) True where dropout zeroed the unit (train mode only)
    frac_dropped: float       # fraction of the chosen layer's units dropped, whole batch
    hist_train: list          # per layer: (counts, edges, n_over, n_zero); exact zeros left out of counts
    hist_test: list
    layer_means: dict         # "train" / "test" -> per-layer mean activation
    test_out: np.ndarray      # read-out at test time, (ENS_EXAMPLES * READOUT,)
    avg_out: np.ndarray       # average training read-out over the first K masks
    ensemble_err: np.ndarray  # ‖avg_K − test‖ / ‖test‖ for K = 1 … ENS_MAX
    ratio: float              # mean(avg_K) / mean(test): 1 with scaling, ≈ 1 − p without
    rel_error: float          # ensemble_err at the chosen K


class DropoutModel:
    """Holds what does not depend on ``p``; :meth:`compute` does the rest."""

    def __init__(self, seed: int = 0, depth: int = DEPTH, width: int = WIDTH, batch: int = BATCH):
        self.depth, self.width = depth, width
        self.net = build_net(depth=depth, width=width, dropout=0.0, seed=seed, dtype=np.float32)
        rng = np.random.default_rng([seed, 1])
        self.x = rng.standard_normal((batch, width)).astype(np.float32)
        self.readout = (rng.standard_normal((width, READOUT)) / np.sqrt(width)).astype(np.float32)
        # test mode does not depend on p: run it once
        self.net.eval()
        self.net.forward(self.x)
        self.test_outputs = [o.copy() for o in self.net.block_outputs()]
        self.net.train()
        self.test_readout = [o[:ENS_EXAMPLES] @ self.readout for o in self.test_outputs]
        # fixed axes, so that moving p compares like with like
        top = max(float(np.percentile(o, 99.5)) for o in self.test_outputs)
        self.hist_range = (0.0, 1.5 * top)
        self.grid_high = 3.0 * float(np.percentile(self.test_outputs[0][0], 95))
        self.hist_test = [_hist(o, *self.hist_range) for o in self.test_outputs]
        self.test_means = np.array([o.mean() for o in self.test_outputs], float)
        self.resample(0)

    def resample(self, mask_seed: int) -> None:
        """Draw new random bits for every mask (the resample button, or a tick of play)."""
        self.mask_seed = int(mask_seed)
        rng = np.random.default_rng([self.mask_seed, 2])
        for d in self.net.dropouts:
            d.rng = rng
            d.freeze(d.draw_noise(self.x.shape))
        self.noise_ens = self.net.dropouts[0].draw_noise((ENS_MAX, ENS_EXAMPLES, self.width))

    def compute(self, p: float, *, scale: bool = True, mode: str = "train", layer: int = 1,
                k: int = ENS_MAX) -> DropoutViews:
        layer = int(np.clip(layer, 1, self.depth))
        k = int(np.clip(k, 1, ENS_MAX))
        for d in self.net.dropouts:
            d.set_p(p)
            d.scale = scale
        self.net.train()
        self.net.forward(self.x)
        train_outputs = self.net.block_outputs()
        mask = self.net.dropouts[layer - 1].mask
        dropped_all = np.zeros((self.x.shape[0], self.width), bool) if mask is None else ~mask
        if mode == "test":
            grid, dropped = self.test_outputs[layer - 1][0], np.zeros(self.width, bool)
        else:
            grid, dropped = train_outputs[layer - 1][0], dropped_all[0]
        hist_train = [_hist(o, *self.hist_range) for o in train_outputs]
        means = {"train": np.array([o.mean() for o in train_outputs], float), "test": self.test_means}

        # the ensemble: K thinned copies of the chosen layer, each read out linearly
        h = self.test_outputs[layer - 1][:ENS_EXAMPLES]
        keep = self.noise_ens >= np.uint32(min(round(p * 2**32), 2**32 - 1))
        mult = np.float32(1 / (1 - p) if scale else 1.0)
        outs = ((h[None] * keep) @ self.readout).astype(np.float64) * float(mult)   # (ENS_MAX, n, R)
        cum = np.cumsum(outs, axis=0) / np.arange(1, ENS_MAX + 1)[:, None, None]
        test = self.test_readout[layer - 1].astype(np.float64)
        errs = np.linalg.norm(cum - test[None], axis=(1, 2)) / (np.linalg.norm(test) or 1.0)
        avg = cum[k - 1]
        ratio = float(np.sum(avg * test) / np.sum(test * test)) if np.any(test) else float("nan")
        return DropoutViews(grid=grid.copy(), grid_dropped=dropped, frac_dropped=float(dropped_all.mean()),
                            hist_train=hist_train, hist_test=self.hist_test, layer_means=means,
                            test_out=test.ravel(), avg_out=avg.ravel(), ensemble_err=errs, ratio=ratio,
                            rel_error=float(errs[k - 1]))


def _hist(x, lo, hi):
    """Histogram of the non-zero values (ReLU and dropout zeros would dwarf the rest)."""
    h = histogram(x, lo, hi, HIST_BINS)
    zeros = int(np.count_nonzero(x == 0))
    counts = h.counts.copy()
    counts[0] -= zeros
    return counts, h.edges, h.over, zeros
