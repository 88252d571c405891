import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from deeptricks.ui import theme
from deeptricks.ui.sanitize import clean, describe, fast_histogram, symlog, value_range, widen


def test_fast_histogram_matches_numpy(rng):
    x = rng.normal(size=10_000)
    h = fast_histogram(x, 50, -3.0, 3.0)
    ref, edges = np.histogram(x, 50, (-3.0, 3.0))
    np.testing.assert_allclose(h.edges, edges)
    assert np.abs(h.counts - ref).max() <= 1  # float rounding at bin edges only
    assert h.counts.sum() == ref.sum()
    assert h.outside == np.count_nonzero((x < -3) | (x > 3))


def test_fast_histogram_default_range_counts_everything(rng):
    x = rng.exponential(size=999)
    h = fast_histogram(x, 30)
    assert h.counts.sum() == 999
    assert h.edges[0] == x.min() and h.edges[-1] == x.max()


@pytest.mark.parametrize("values", [
    [], [0.0] * 7, [np.nan, np.inf, -np.inf], [1e30, -1e30, 3.0], [1e308, -1e308], [5.0],
])
def test_fast_histogram_edge_cases(values):
    h = fast_histogram(values, 10)
    assert h.counts.shape == (10,) and h.edges.shape == (11,)
    assert np.isfinite(h.edges).all() and h.edges[-1] > h.edges[0]
    finite = np.isfinite(np.asarray(values, dtype=float)).sum() if len(values) else 0
    assert h.counts.sum() + h.outside == finite
    assert h.nonfinite == len(values) - finite


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 50),
                  elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_fast_histogram_never_breaks(x):
    h = fast_histogram(x, 8)
    assert np.isfinite(h.edges).all()
    assert h.counts.sum() + h.outside + h.nonfinite == x.size


def test_clean_and_ranges():
    out, n = clean([1.0, np.nan, np.inf, -2e305], fill=0.0)
    assert n == 2 and np.isfinite(out).all() and out[3] == -1e300
    assert value_range([np.nan]) == (-1.0, 1.0)
    lo, hi = value_range([3.0, 3.0])
    assert lo < 3.0 < hi
    lo, hi = widen(1e30, 1e30)
    assert lo < hi and np.isfinite([lo, hi]).all()


def test_describe():
    assert describe(np.zeros(5)) == ("collapsed: all values equal (0)", True)
    note, alert = describe([1.0, np.nan, 2.0])
    assert alert and note.startswith("overflow: 1/3")
    note, alert = describe(np.array([-3e7, 3e7]))
    assert note == "std 3e+07" and not alert
    assert describe([1e300, -1e300])[0] == "std 1e+300"
    assert describe([])[1]


def test_symlog_keeps_sign_and_zero():
    y = symlog([-999.0, 0.0, 9.0])
    np.testing.assert_allclose(y, [-3.0, 0.0, 1.0])


def test_theme_colours():
    assert theme.series_color("train") == theme.TRAIN != theme.series_color("test")
    assert theme.series_color("no BatchNorm") == theme.WITHOUT_TRICK
    cols = theme.series_colors(["a", "b", "c"])
    assert len(set(cols)) == 3 and all(c in theme.OKABE_ITO for c in cols)
    assert len(set(theme.series_colors(["train", "training"]))) == 2
    assert theme.fmt_num(3e7) == "3e+07" and theme.fmt_num(float("nan")) == "nan"
    assert ".dt-flag" in theme.stylesheet()
