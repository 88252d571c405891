"""Fast summaries of activations for plotting: histograms and per-layer statistics.

``histogram`` bins values on a fixed grid of ``bins`` equal-width bins on
``[lo, hi]`` with one ``np.bincount``: bin ``k`` holds ``e_k <= x < e_{k+1}``
(the last bin also holds ``x = hi``), exactly as ``np.histogram`` does, but
several times faster. Values outside the range are counted in ``under`` and
``over`` instead of being dropped silently; NaN is counted in ``nan``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .module import as_numbers, check_int, check_number


@dataclass
class Histogram:
    counts: np.ndarray     # (bins,)
    edges: np.ndarray      # (bins + 1,)
    under: int = 0
    over: int = 0
    nan: int = 0


def histogram(x: np.ndarray, lo: float, hi: float, bins: int = 50) -> Histogram:
    """Equal-width histogram of ``x`` on ``[lo, hi]`` (see the module docstring)."""
    lo, hi = check_number(lo, "lo"), check_number(hi, "hi")
    if not hi > lo:
        raise ValueError(f"histogram range [lo, hi] must have hi > lo; got [{lo}, {hi}]")
    bins = check_int(bins, "bins", low=1)
    x = as_numbers(x, "x").ravel()
    dt = x.dtype.type
    top = x.max() if x.size else dt(lo)
    n_nan = int(np.isnan(x).sum()) if np.isnan(top) else 0
    # t = 1 + (x - lo) · bins / (hi - lo): under-range values fall below 1 and
    # truncate to slot 0, over-range ones clip to slot bins + 1.
    half = 0.5 * hi - 0.5 * lo                   # halved: hi - lo may overflow near the float limit
    s = (0.5 * bins) / half if half > 0 else np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(dt(s)):
            t = x * dt(s)
            t += dt(1 - lo * s)
        else:   # a range so narrow (a few subnormals) that bins / width overflows: divide instead
            t = (x.astype(np.float64) - lo) / (hi - lo) * bins + 1
    np.fmax(t, 0, out=t)          # fmax also turns NaN into 0 (counted apart below)
    np.fmin(t, bins + 1, out=t)
    idx = t.astype(np.intp)
    counts = np.bincount(idx, minlength=bins + 2)
    # Rounding can put a value equal to lo or hi on the wrong side of the range's end: move
    # those into the first and last bin. Each check is a pass only when something is outside.
    if not top < hi:
        _move(counts, idx, x == dt(hi), bins + 1, bins)
    if counts[0] > n_nan:
        _move(counts, idx, x == dt(lo), 0, 1)
    return Histogram(counts[1:bins + 1], np.linspace(lo, hi, bins + 1),
                     int(counts[0]) - n_nan, int(counts[bins + 1]), n_nan)


def _move(counts: np.ndarray, idx: np.ndarray, at_end: np.ndarray, src: int, dst: int) -> None:
    """Move the values flagged by ``at_end`` that were binned into slot ``src`` to slot ``dst``."""
    where = np.flatnonzero(at_end)
    if where.size:
        n = int(np.count_nonzero(idx[where] == src))
        counts[src] -= n
        counts[dst] += n


@dataclass
class LayerStats:
    mean: float
    std: float
    min: float
    max: float
    frac_zero: float
    finite: bool


def layer_stats(x: np.ndarray) -> LayerStats:
    """Mean, standard deviation, extremes and the fraction of exact zeros of one layer."""
    x = as_numbers(x, "x")
    if x.size == 0:
        raise ValueError("x must hold at least one value; got an empty array")
    with np.errstate(over="ignore", invalid="ignore"):
        x64 = x.astype(np.float64, copy=False)
        finite = bool(np.isfinite(x64).all())
        mean = float(x64.mean())
        std = float(x64.std())
    return LayerStats(mean, std, float(x64.min()), float(x64.max()),
                      float(np.count_nonzero(x == 0) / max(x.size, 1)), finite)
