import numpy as np
import pytest

from deeptricks.ui import HistogramGrid
from deeptricks.ui.histograms import _inv_symlog, _symlog_ticks

from conftest import assert_source_finite


def layers(rng, n, growth=1.0, size=256):
    return [rng.normal(scale=growth ** i, size=size) for i in range(n)]


def visible(grid):
    return [f for f in grid.figures if f.visible]


def all_sources(grid):
    return [s for d in grid.sources for s in d.values()]


def test_two_series_ten_layers(rng):
    g = HistogramGrid(("train", "test"), n_panels=12, name="h")
    g.update_from_values({"train": layers(rng, 10), "test": layers(rng, 10)}, bins=30)
    assert g.shown_layers == list(range(10))
    assert len(visible(g)) == 10
    for k in range(10):
        for s in ("train", "test"):
            d = g.sources[k][s].data
            assert len(d["left"]) == 30
            assert np.isclose(np.sum(d["top"]), 1.0)  # normalised shares
    for src in all_sources(g):
        assert_source_finite(src)
    assert "train" in g._caption.object and "test" in g._caption.object
    assert g.figures[0].title.text == "layer 1"
    assert g.notes[0].text.startswith("std ")


def test_models_are_named_and_unique():
    g = HistogramGrid(("without BatchNorm", "with BatchNorm"), n_panels=4, name="bn")
    names = [f.name for f in g.figures]
    names += [r.name for f in g.figures for r in f.renderers]
    assert len(names) == len(set(names))
    assert "bn-panel0" in names and "bn-panel3-with-batchnorm" in names
    assert g.notes[2].name == "bn-panel2-note"


def test_updates_keep_models(rng):
    g = HistogramGrid(("train", "test"), n_panels=6)
    figs, srcs, ranges = list(g.figures), [dict(d) for d in g.sources], [f.x_range for f in g.figures]
    layout = g.__panel__()
    for growth in (1.0, 3.0, 0.5):
        g.update_from_values({"train": layers(rng, 5, growth), "test": layers(rng, 5)})
    assert g.figures == figs and [f.x_range for f in g.figures] == ranges
    assert all(a[s] is b[s] for a, b in zip(srcs, g.sources) for s in a)
    assert g.__panel__() is layout


def test_many_layers_shows_subset(rng):
    g = HistogramGrid(("train",), n_panels=12)
    g.update_from_values({"train": layers(rng, 100, size=64)})
    assert len(g.shown_layers) == 12
    assert g.shown_layers[0] == 0 and g.shown_layers[-1] == 99
    assert "Showing 12 of 100 layers" in g._caption.object
    g.layers = [0, 49, 99, 500]
    assert g.shown_layers == [0, 49, 99]
    assert len(visible(g)) == 3
    assert [f.title.text for f in visible(g)] == ["layer 1", "layer 50", "layer 100"]


def test_fewer_layers_hides_and_clears_panels(rng):
    g = HistogramGrid("train", n_panels=6)
    g.update_from_values({"train": layers(rng, 6)})
    g.update_from_values({"train": layers(rng, 2)})
    assert len(visible(g)) == 2
    assert len(g.sources[5]["train"].data["left"]) == 0


def test_shared_and_per_layer_ranges(rng):
    vals = {"train": layers(rng, 4, growth=10.0)}
    g = HistogramGrid("train", n_panels=4, x_mode="shared")
    g.update_from_values(vals)
    spans = {(f.x_range.start, f.x_range.end) for f in g.figures}
    assert len(spans) == 1
    g.x_mode = "per_layer"  # re-renders from the last values
    widths = [f.x_range.end - f.x_range.start for f in g.figures]
    assert len(set(np.round(widths, 6))) == 4
    assert widths[3] > 100 * widths[0]
    for f in g.figures:
        assert f.x_range.reset_start == f.x_range.start


def test_symlog_mode(rng):
    g = HistogramGrid("train", n_panels=3, x_mode="symlog")
    g.update_from_values({"train": [rng.normal(size=200), rng.normal(scale=1e6, size=200), np.zeros(10)]})
    f = g.figures[0]
    assert f.xaxis[0].ticker is g._sym_ticker
    ticks = list(g._sym_ticker.ticks)
    assert 0.0 in ticks and len(ticks) >= 3
    assert f.x_range.end < 10  # in symlog units, not raw values
    # hover ranges are in real units
    assert np.max(g.sources[1]["train"].data["hi"]) > 1e5
    assert g.notes[2].text.startswith("\u26a0 collapsed")
    g.x_mode = "shared"
    assert f.xaxis[0].ticker is not g._sym_ticker and f.x_range.end > 1e5


def test_symlog_ticks_are_spaced():
    for lo, hi in [(-1, 3.1), (-0.3, 0.3), (2, 3), (-300, 300)]:
        t = _symlog_ticks(lo, hi)
        assert t == sorted(t) and all(lo <= x <= hi for x in t)
        assert np.all(np.diff(t) >= (hi - lo) / 5 - 1e-12) and len(t) <= 4
    np.testing.assert_allclose(_inv_symlog(np.array(_symlog_ticks(-1, 3.1))), [0, 10, 100, 1000])


@pytest.mark.parametrize("bad", [
    [np.nan] * 5,
    [np.inf, -np.inf, 1.0],
    [1e30, -1e30, 0.0],
    [3.0] * 100,
    [],
    [1e308, -1e308],
])
def test_extreme_values_render(bad, rng):
    g = HistogramGrid(("train", "test"), n_panels=2)
    g.update_from_values({"train": [np.array(bad, dtype=float), rng.normal(size=10)],
                          "test": [rng.normal(size=10), np.array(bad, dtype=float)]})
    for f in g.figures:
        for r in (f.x_range, f.y_range):
            assert np.isfinite([r.start, r.end]).all() and r.end > r.start
    for src in all_sources(g):
        assert_source_finite(src)


def test_update_sanitises_counts_and_edges():
    class CoreHist:  # duck-typed like deeptricks.core.stats.Histogram
        counts = np.array([1, 2, 3])
        edges = np.array([0.0, 1.0, 2.0, 3.0])

    g = HistogramGrid("train", n_panels=3, normalize=False)
    g.update({"train": [
        (np.array([1.0, np.nan, np.inf, -2.0]), np.linspace(0, 1, 5)),
        (np.array([1.0, 2.0]), np.array([0.0, np.nan, 1.0])),
        CoreHist(),
    ]}, notes=["ok", "bad", None], alerts=[False, True, False], layer_labels=["in", "hidden", "out"])
    d0 = g.sources[0]["train"].data
    assert list(d0["top"]) == [1.0, 0.0, 0.0, 0.0]
    assert any("invalid counts" in f for f in g.flags)
    assert any("invalid bin edges" in f for f in g.flags)
    assert "dt-flag" in g._caption.object
    assert list(g.sources[2]["train"].data["top"]) == [1, 2, 3]
    assert g.notes[1].text == "\u26a0 bad" and g.figures[2].title.text == "out"
    for src in all_sources(g):
        assert_source_finite(src)


def test_plain_list_is_first_series(rng):
    g = HistogramGrid("values", n_panels=2)
    g.update_from_values(layers(rng, 2))
    assert len(g.sources[1]["values"].data["left"]) == 40
