"""Turning raw numpy results into values that are safe to put in a Bokeh data source.

Bokeh data sources must never receive NaN or inf from this package: they break
range computation and hover text in the browser. The helpers here replace such
values, count what they replaced, and produce short notes the apps can show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeptricks.core import histogram

from .theme import fmt_num

LIMIT = 1e300
"""Largest magnitude drawn; finite values beyond it are clipped (and reported)."""


def as_float_array(values) -> np.ndarray:
    """``values`` as a flat float64 array (an empty array for ``None``)."""
    if values is None:
        return np.zeros(0)
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.array([_to_float(v) for v in arr.ravel()])
    return np.asarray(arr, dtype=np.float64).ravel()


def _to_float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def clean(values, fill: float = 0.0) -> tuple[np.ndarray, int]:
    """Copy of ``values`` with non-finite entries set to ``fill`` and magnitudes clipped to ``LIMIT``.

    Returns the cleaned array and how many entries were non-finite.
    """
    arr = as_float_array(values)
    bad = ~np.isfinite(arr)
    n_bad = int(bad.sum())
    out = np.clip(arr, -LIMIT, LIMIT)
    if n_bad:
        out[bad] = fill
    return out, n_bad


def value_range(values) -> tuple[float, float]:
    """Finite ``(lo, hi)`` covering the finite part of ``values``, never of zero width."""
    arr = as_float_array(values)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return -1.0, 1.0
    lo = float(max(arr.min(), -LIMIT))
    hi = float(min(arr.max(), LIMIT))
    return widen(lo, hi)


def widen(lo: float, hi: float) -> tuple[float, float]:
    """Make ``[lo, hi]`` finite and of positive width (a constant becomes a small interval)."""
    lo = float(np.clip(lo if np.isfinite(lo) else -1.0, -LIMIT, LIMIT))
    hi = float(np.clip(hi if np.isfinite(hi) else 1.0, -LIMIT, LIMIT))
    if lo > hi:
        lo, hi = hi, lo
    if hi - lo <= 1e-12 * max(abs(lo), abs(hi)) or hi == lo:
        mid = 0.5 * (lo + hi)
        half = 0.5 if abs(mid) < 50 else abs(mid) * 0.01
        lo, hi = mid - half, mid + half
    return lo, hi


@dataclass
class Hist:
    """Result of :func:`fast_histogram`."""

    counts: np.ndarray  # (bins,) int64
    edges: np.ndarray  # (bins + 1,) float64
    nonfinite: int = 0  # NaN or inf values, not counted
    outside: int = 0  # finite values outside [lo, hi], not counted


def fast_histogram(values, bins: int = 40, lo: float | None = None, hi: float | None = None) -> Hist:
    """Equal-width histogram of any values, binned by :func:`deeptricks.core.histogram` (one ``np.bincount``).

    Without ``lo``/``hi`` the range is the finite data range (widened if constant);
    a range that is not finite or has no width is widened too, so this never raises.
    Bins are half-open except the last, which includes ``hi``, as in ``np.histogram``.
    NaN and inf are counted in ``nonfinite``, finite values beyond the range in ``outside``.
    """
    bins = max(int(bins), 1)
    x = as_float_array(values)
    if lo is None or hi is None:
        dlo, dhi = _finite_min_max(x)
        lo = dlo if lo is None else lo
        hi = dhi if hi is None else hi
    lo, hi = widen(lo, hi)
    h = histogram(x, lo, hi, bins)
    counts, under, over, n_inf = h.counts.astype(np.int64), h.under, h.over, 0
    if under or over:  # rare: split off inf, and count back values that rounding put just outside
        n_inf = int(np.count_nonzero(np.isinf(x)))
        true_under, true_over = int(np.count_nonzero(x < lo)), int(np.count_nonzero(x > hi))
        counts[0] += under - true_under
        counts[-1] += over - true_over
        under, over = true_under, true_over
    return Hist(counts, h.edges, h.nan + n_inf, under + over - n_inf)


def _finite_min_max(x: np.ndarray) -> tuple[float, float]:
    if x.size == 0:
        return -1.0, 1.0
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        f = x[np.isfinite(x)]
        if f.size == 0:
            return -1.0, 1.0
        lo, hi = float(f.min()), float(f.max())
    return lo, hi


def safe_std(x: np.ndarray) -> float:
    """Standard deviation of finite ``x`` without overflow for huge values."""
    if x.size == 0:
        return 0.0
    m = float(np.max(np.abs(x)))
    if m == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.std(x / m) * m)


def describe(values, label: str = "std") -> tuple[str, bool]:
    """One short annotation for a layer's values and whether it is a warning.

    Examples: ``("std 0.98", False)``, ``("collapsed: all values equal (0)", True)``,
    ``("overflow: 12/256 inf or nan", True)``.
    """
    x = as_float_array(values)
    if x.size == 0:
        return "no values", True
    finite = np.isfinite(x)
    n_bad = int(x.size - np.count_nonzero(finite))
    if n_bad:
        return f"overflow: {n_bad}/{x.size} inf or nan", True
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return f"collapsed: all values equal ({fmt_num(lo)})", True
    return f"{label} {fmt_num(safe_std(x))}", False


def symlog(values) -> np.ndarray:
    """Signed log transform ``sign(x) * log10(1 + |x|)``: keeps zero, compresses huge values.

    Histogram ``symlog(activations)`` on a shared axis to show drift across
    many orders of magnitude; label the axis accordingly.
    """
    x = as_float_array(values)
    with np.errstate(invalid="ignore"):
        return np.sign(x) * np.log10(1.0 + np.abs(x))
