"""Per-layer statistics of a deep stack: summaries, notes and histograms (no Panel here).

The normalization pages show what each layer of a deep stack receives as a
column of histograms, one row per layer, with a few numbers per layer. This
module turns one layer's values (a batch x features array) into those:

* :func:`summarize` gives a :class:`LayerSummary` (mean, standard deviation,
  spread across the batch, size, extremes, non-finite values and exact zeros),
  safe for huge, tiny and non-finite values; the summary's
  :meth:`~LayerSummary.note` and :meth:`~LayerSummary.label` are the row's
  annotation ("collapsed", "vanished", "std 0.98 · 12% off") and label;
* :func:`column_views` makes one column (:class:`ColumnViews`) out of a pass
  through the stack, on one of the x axes of :data:`X_AXES`: the shared
  ±``SHARED_LIM`` axis, each layer's own range ("fit"), or a signed-log axis
  (:func:`symlog`) whose range :func:`shared_log_range` makes common to
  several columns, so that they compare;
* :func:`make_inputs` draws the stack's input, each feature with its own mean
  and scale, as real data is rarely standardized.

A *pass* is any object with two per-layer lists, ``shown`` (the arrays that
are histogrammed) and ``summary`` (their summaries), and a dict ``hists`` in
which the histograms are kept once computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deeptricks.core import histogram

HIST_BINS = 40
SHARED_LIM = 5.0               # the shared histogram axis is [-SHARED_LIM, SHARED_LIM]
COLLAPSE_RATIO = 1e-5          # spread across the batch below this share of the values' size
TINY, HUGE = 1e-4, 1e3         # "vanished" / "exploded" sizes
OFF_CHART_ALERT = 0.2          # share of values beyond the shared axis that earns a warning
ZERO_SHARE = 0.01              # above this share, exact zeros are left out of the bars (and counted)
X_AXES = ("shared", "log", "fit")


@dataclass
class LayerSummary:
    """One layer's values (a batch x features array), summarized for notes and charts."""

    mean: float
    std: float          # over all values
    spread: float       # per-feature std across the batch, root-mean-square over features
    size: float         # root-mean-square of the values
    lo: float           # finite min / max (0 when nothing is finite)
    hi: float
    n_bad: int          # inf or nan values
    n: int
    zeros: int = 0      # exact zeros (a ReLU's output is 0 about half the time)

    @property
    def collapsed(self) -> bool:
        return self.n_bad == 0 and self.size > 0 and self.spread <= COLLAPSE_RATIO * self.size

    def note(self, x_axis: str, off_chart: float = 0.0) -> tuple[str, bool]:
        """A short annotation for the layer's histogram and whether it is a warning.

        ``off_chart`` is the share of values beyond the shared axis (from the histogram)."""
        if self.n_bad:
            return f"overflow · {100 * self.n_bad / self.n:.0f}% inf", True
        if self.collapsed:
            return "collapsed", True
        if self.size < TINY:
            return f"vanished · {fmt(self.size)}", True
        text = f"std {fmt(self.std)}"
        if x_axis == "shared" and off_chart >= 0.005:
            text += f" · {100 * off_chart:.0f}% off"
            return text, off_chart >= OFF_CHART_ALERT
        return text, self.std > HUGE

    def label(self, layer: int) -> str:
        """The row label: the layer, and the share of exact zeros when there are many."""
        share = self.zeros / self.n if self.n else 0.0
        return f"layer {layer} · {100 * share:.0f}% zeros" if share >= ZERO_SHARE else f"layer {layer}"


def fmt(v: float) -> str:
    """Short form of a number: 0.98, 31.6, 3.1e+07."""
    v = float(v)
    if not np.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
    if v == 0:
        return "0"
    return f"{v:.3g}"


def summarize(a: np.ndarray, zeros: bool = True) -> LayerSummary:
    """Mean, std, spread across the batch, extremes: safe for huge, tiny and non-finite values.

    ``zeros=False`` skips counting exact zeros (normalized values are practically never 0)."""
    n = a.size
    lo, hi = float(a.min()), float(a.max())
    n_bad = 0
    if not (np.isfinite(lo) and np.isfinite(hi)):
        good = np.isfinite(a)
        n_bad = int(n - np.count_nonzero(good))
        if n_bad == n:
            return LayerSummary(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, n_bad, n, 0)
        a = np.where(good, a, 0).astype(a.dtype)        # non-finite entries are left out below
        lo = float(np.min(np.where(good, a, np.inf)))
        hi = float(np.max(np.where(good, a, -np.inf)))
    # Scale by the largest magnitude so float32 squares neither overflow nor underflow.
    m = max(abs(lo), abs(hi))
    s = m if (m > 1e15 or 0 < m < 1e-15) else 1.0
    y = a * a.dtype.type(1.0 / s) if s != 1.0 else a
    rows = y.shape[0]
    counts = rows - (np.count_nonzero(~good, axis=0) if n_bad else 0)
    counts = np.maximum(counts, 1)
    ones = np.ones(rows, dtype=y.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        mu = (ones @ y) / counts                        # per-feature mean, then one correction pass
        yc = y - mu.astype(y.dtype)
        if n_bad:
            yc[~good] = 0
        corr = (ones @ yc).astype(np.float64) / counts
        var_f = np.maximum(np.einsum("ij,ij->j", yc, yc).astype(np.float64) / counts - corr * corr, 0.0)
    mu_f = mu.astype(np.float64) + corr
    mean = float(mu_f.mean())
    within = float(var_f.mean())
    between = float(np.mean((mu_f - mean) ** 2))
    return LayerSummary(mean * s, float(np.sqrt(within + between) * s), float(np.sqrt(within) * s),
                        float(np.sqrt(within + between + mean * mean) * s), lo, hi, n_bad, n,
                        int(n - np.count_nonzero(a)) if zeros and lo <= 0 <= hi else 0)


def make_inputs(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """``n`` examples of ``width`` features, each feature with its own mean and scale (float32)."""
    centre = rng.standard_normal(width)
    scale = np.exp(0.5 * rng.standard_normal(width))
    return (centre + scale * rng.standard_normal((n, width))).astype(np.float32)


@dataclass
class ColumnViews:
    """One column of the comparison: histograms of the shown layers, notes, per-layer numbers."""

    kind: str                 # "plain", "train" or "eval"
    hists: list               # per layer: (counts, edges) for shown layers, None for the rest
    notes: list               # per layer: str
    alerts: list              # per layer: bool
    std: np.ndarray           # per layer: std of all values
    spread: np.ndarray        # per layer: per-feature std across the batch
    off_chart: np.ndarray     # per layer: share of values beyond ±SHARED_LIM
    labels: list = field(default_factory=list)   # per layer: row label ("layer 3 · 48% zeros")
    summaries: list = field(default_factory=list)  # per layer: LayerSummary

def shared_log_range(passes, shown) -> tuple[float, float]:
    """One signed-log range (in signed-log units, on quarter steps) covering the shown layers of every pass."""
    ends = [symlog(np.array([p.summary[i].lo, p.summary[i].hi])) for p in passes for i in shown]
    lo = min(min(float(e[0]) for e in ends), 0.0)
    hi = max(max(float(e[1]) for e in ends), 0.0)
    lo, hi = float(np.floor(lo * 4) / 4), float(np.ceil(hi * 4) / 4)
    if hi - lo < 0.5:
        lo, hi = lo - 0.25, hi + 0.25
    return lo, hi


def column_views(kind: str, p, depth: int, x_axis: str, shown, log_range=None) -> ColumnViews:
    """Histograms of the ``shown`` layers of pass ``p`` (cached in it) and its per-layer numbers."""
    hists: list = [None] * depth
    off = np.zeros(depth)
    for i in shown:
        key = (i, x_axis, log_range)
        if key not in p.hists:
            p.hists[key] = _hist(p.shown[i], p.summary[i], x_axis, log_range)
        counts, edges, outside = p.hists[key]
        hists[i] = (counts, edges)
        off[i] = outside / p.summary[i].n
    notes, alerts = zip(*(s.note(x_axis, o) for s, o in zip(p.summary[:depth], off)))
    arr = lambda f: np.array([f(s) for s in p.summary[:depth]], dtype=np.float64)
    return ColumnViews(kind, hists, list(notes), list(alerts), arr(lambda s: s.std), arr(lambda s: s.spread),
                       off, [s.label(i + 1) for i, s in enumerate(p.summary[:depth])], list(p.summary[:depth]))


def symlog(x: np.ndarray) -> np.ndarray:
    """Signed log ``sign(x) · log10(1 + |x|)``: 0 stays 0, 9 becomes 1, 99 becomes 2.

    Computed as ``log(1 + |x|)`` rather than ``log1p(|x|)``: numpy vectorises ``log``
    and not ``log1p``, six times faster on a layer of float32 values. The rounding of
    ``1 + |x|`` costs an absolute error below 1e-7 in signed-log units, far finer
    than a histogram bin (the values are only ever binned)."""
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.abs(x)
        y += y.dtype.type(1)
        np.log(y, out=y)
        y *= y.dtype.type(1 / np.log(10.0))
        return np.copysign(y, x, out=y)


def _hist(a: np.ndarray, s: LayerSummary, x_axis: str, log_range=None):
    """(counts, edges, values outside) of one layer: on the shared ±SHARED_LIM axis, on its own
    range ("fit") or on the signed-log axis ``log_range`` ("log", edges in signed-log units).
    When many values are exactly 0 (ReLU) they are left out of the bars: ``s.label`` counts them."""
    if x_axis == "shared":
        lo, hi = -SHARED_LIM, SHARED_LIM
    elif x_axis == "log":
        lo, hi = log_range
        a = symlog(a)
    else:
        lo, hi = s.lo, s.hi
        if not hi > lo:
            half = abs(lo) * 1e-3 if lo else 0.5
            lo, hi = lo - half, hi + half
        if not 1e-30 < hi - lo < 1e30:      # float32 arithmetic would lose the bins: use float64
            a = a.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        h = histogram(a, lo, hi, HIST_BINS)
    counts = h.counts
    if s.zeros and s.zeros >= ZERO_SHARE * s.n and lo <= 0 <= hi:
        k = min(int(np.searchsorted(h.edges, 0.0, side="right")) - 1, HIST_BINS - 1)
        counts = counts.copy()
        counts[k] -= s.zeros
    return counts, h.edges, h.under + h.over + h.nan
