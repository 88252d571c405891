import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deeptricks.core import histogram, layer_stats


@given(st.integers(0, 2**16), st.integers(1, 80), st.floats(-5, 0), st.floats(0.1, 5))
@settings(max_examples=50, deadline=None)
def test_histogram_matches_numpy_inside_the_range(seed, bins, lo, width):
    hi = lo + width
    x = np.random.default_rng(seed).uniform(lo - 1, hi + 1, 2000)
    h = histogram(x, lo, hi, bins)
    ref, edges = np.histogram(x, bins=bins, range=(lo, hi))
    # the same values may sit on the other side of an edge by one rounding step
    assert np.abs(h.counts - ref).sum() <= 2
    np.testing.assert_allclose(h.edges, edges)
    assert h.under == (x < lo).sum() and h.over + h.counts.sum() + h.under == x.size


def test_histogram_counts_edges_nan_and_infinity():
    x = np.array([0.0, 1.0, 0.5, np.nan, np.inf, -np.inf, 2.0], dtype=np.float32)
    h = histogram(x, 0.0, 1.0, 4)
    assert h.counts.tolist() == [1, 0, 1, 1]
    assert (h.under, h.over, h.nan) == (1, 2, 1)


def test_layer_stats_reports_collapse_and_overflow():
    s = layer_stats(np.zeros((4, 4)))
    assert s.std == 0 and s.frac_zero == 1 and s.finite
    assert not layer_stats(np.array([[np.inf, 1.0]])).finite


def test_a_range_of_a_few_subnormals_still_bins():
    # found by hypothesis: [0, 5e-324] is a valid range whose half-width underflows to 0
    for dtype, tiny in ((np.float64, 5e-324), (np.float32, 1e-45)):
        x = np.array([tiny, 0.0, tiny], dtype)
        h = histogram(x, 0.0, float(dtype(tiny)), 10)
        assert h.counts[0] == 1 and h.counts[-1] == 2 and h.under == h.over == h.nan == 0
