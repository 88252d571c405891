import numpy as np
import panel as pn
import pytest

from deeptricks.ui import HistogramGrid
from deeptricks.ui.histograms import _inv_symlog, _symlog_ticks

from ui_checks import assert_source_finite


def layers(rng, n, growth=1.0, size=256):
    return [rng.normal(scale=growth ** i, size=size) for i in range(n)]


def rows(grid, series=None):
    """Layer numbers (1-based) that have bars drawn, in drawing order of the source."""
    d = grid.sources[series or grid.series[0]].data
    return sorted(set(int(x) for x in d["layer"]))


def all_sources(grid):
    return list(grid.sources.values()) + [grid.label_source, grid.baseline_source]


def test_two_series_ten_layers(rng):
    g = HistogramGrid(("train", "test"), n_panels=12, name="h")
    g.update_from_values({"train": layers(rng, 10), "test": layers(rng, 10)}, bins=30)
    assert g.shown_layers == list(range(10))
    assert rows(g) == list(range(1, 11)) and rows(g, "test") == list(range(1, 11))
    for k in range(10):
        for s in ("train", "test"):
            r = g.row(k, s)
            assert len(r["left"]) == 30
            assert np.isclose(np.sum(r["share"]), 1.0)  # normalised shares
            # each row's bars stay inside its own band, the first layer on top
            base = 9 - k
            assert np.all(r["bottom"] == base) and np.all(r["top"] <= base + 1) and np.all(r["top"] >= base)
    # within a row the tallest bar of either series fills the bar height
    tops = np.concatenate([g.row(3, s)["top"] for s in ("train", "test")])
    assert np.isclose(tops.max() - 6, 0.68)
    for src in all_sources(g):
        assert_source_finite(src)
    assert "train" in g._caption.object and "test" in g._caption.object
    assert g.row_text[0][0] == "layer 1"
    assert g.row_text[0][1].startswith("std ")
    assert "layer 1" in g.label_source.data["text"]
    assert g.figure.height == 4 + 10 * g.row_height + 44


def test_models_are_named_and_unique():
    g = HistogramGrid(("without BatchNorm", "with BatchNorm"), n_panels=4, name="bn")
    names = [g.figure.name] + [r.name for r in g.figure.renderers]
    names += [s.name for s in all_sources(g)]
    assert len(names) == len(set(names))
    assert "bn-figure" in names and "bn-with-batchnorm" in names
    assert g.sources["with BatchNorm"].name == "bn-with-batchnorm-source"
    assert g.label_source.name == "bn-labels"


def test_one_figure_for_every_layer(rng):
    """All rows share one canvas: a page with many layers repaints one figure."""
    g = HistogramGrid(("train", "test"), n_panels=12)
    g.update_from_values({"train": layers(rng, 10), "test": layers(rng, 10)})
    layout = pn.panel(g)
    assert len(layout.select(pn.pane.Bokeh)) == 1


def test_updates_keep_models(rng):
    g = HistogramGrid(("train", "test"), n_panels=6)
    fig, srcs, rng_x = g.figure, dict(g.sources), g.figure.x_range
    layout = g.__panel__()
    for growth in (1.0, 3.0, 0.5):
        g.update_from_values({"train": layers(rng, 5, growth), "test": layers(rng, 5)})
    assert g.figure is fig and g.figure.x_range is rng_x
    assert all(g.sources[s] is srcs[s] for s in srcs)
    assert g.__panel__() is layout


def test_unchanged_columns_are_not_resent(rng):
    """On a fixed axis only the bar heights change: the edges are not sent again."""
    from bokeh.document import Document
    from bokeh.document.events import ColumnDataChangedEvent

    g = HistogramGrid("train", n_panels=3)
    doc = Document()
    doc.add_root(g.figure)
    edges = np.linspace(-3, 3, 21)
    g.update({"train": [(rng.integers(0, 9, 20), edges) for _ in range(3)]})
    events = []
    doc.on_change(lambda e: events.append(e))
    g.update({"train": [(rng.integers(0, 9, 20), edges) for _ in range(3)]})
    sent = {c for e in events if isinstance(e, ColumnDataChangedEvent) and e.model is g.sources["train"]
            for c in e.cols}
    assert sent and "left" not in sent and "right" not in sent and "bottom" not in sent
    assert {"top", "count", "share"} >= sent


def test_many_layers_shows_subset(rng):
    g = HistogramGrid(("train",), n_panels=12)
    g.update_from_values({"train": layers(rng, 100, size=64)})
    assert len(g.shown_layers) == 12
    assert g.shown_layers[0] == 0 and g.shown_layers[-1] == 99
    assert "Showing 12 of 100 layers" in g._caption.object
    g.layers = [0, 49, 99, 500]
    assert g.shown_layers == [0, 49, 99]
    assert rows(g) == [1, 50, 100]
    assert [g.row_text[i][0] for i in g.shown_layers] == ["layer 1", "layer 50", "layer 100"]
    assert g.figure.y_range.end == 3


def test_fewer_layers_clears_rows_and_shrinks(rng):
    g = HistogramGrid("train", n_panels=6)
    g.update_from_values({"train": layers(rng, 6)})
    tall = g.figure.height
    g.update_from_values({"train": layers(rng, 2)})
    assert rows(g) == [1, 2] and g.figure.height < tall
    texts = g.label_source.data["text"]
    assert [t for t in texts if t][::2] == ["layer 1", "layer 2"]     # a label and a note per row
    assert len(texts) == 12 and texts[4:] == [""] * 8                 # the rest blank: one length always
    assert all(y < 0 for y in g.label_source.data["y"][4:])


def test_a_grid_told_not_to_remember_keeps_no_values_and_draws_the_same(rng):
    vals = {"train": layers(rng, 3)}
    kept, not_kept = (HistogramGrid("train", n_panels=3) for _ in range(2))
    kept.update_from_values(vals)
    not_kept.update_from_values(vals, remember=False)
    assert kept._last is not None and not_kept._last is None
    for i in range(3):
        assert {k: list(v) for k, v in kept.row(i).items()} == {k: list(v) for k, v in not_kept.row(i).items()}
    before = {k: list(v) for k, v in not_kept.row(0).items()}
    not_kept.x_mode = "per_layer"          # nothing to re-bin: the rows stay until the next update
    assert {k: list(v) for k, v in not_kept.row(0).items()} == before


def test_shared_and_per_layer_ranges(rng):
    vals = {"train": layers(rng, 4, growth=10.0)}
    g = HistogramGrid("train", n_panels=4, x_mode="shared")
    g.update_from_values(vals)
    # shared: each row's bars cover its own values on the common axis
    widths = [g.row(i)["right"].max() - g.row(i)["left"].min() for i in range(4)]
    assert len(set(np.round(widths, 6))) == 1 and g.figure.xaxis[0].visible
    g.x_mode = "per_layer"  # re-renders from the last values
    for i in range(4):
        r = g.row(i)
        assert r["left"].min() >= -1e-9 and r["right"].max() <= 1 + 1e-9  # each row fills the frame
    real = [g.row(i)["hi"].max() - g.row(i)["lo"].min() for i in range(4)]
    assert real[3] > 100 * real[0]          # the hover keeps each row's true values
    assert "x from" in g.row_text[3][1]     # and the row's note gives its range
    assert not g.figure.xaxis[0].visible
    assert g.figure.x_range.reset_start == g.figure.x_range.start


def test_symlog_mode(rng):
    g = HistogramGrid("train", n_panels=3, x_mode="symlog")
    g.update_from_values({"train": [rng.normal(size=200), rng.normal(scale=1e6, size=200), np.zeros(10)]})
    f = g.figure
    assert f.xaxis[0].ticker is g._sym_ticker
    ticks = list(g._sym_ticker.ticks)
    assert 0.0 in ticks and len(ticks) >= 3
    assert f.x_range.end < 10  # in symlog units, not raw values
    # hover ranges are in real units
    assert np.max(g.row(1)["hi"]) > 1e5
    assert g.row_text[2][1].startswith("\u26a0 collapsed")
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
    for r in (g.figure.x_range, g.figure.y_range):
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
    d0 = g.row(0)
    assert list(d0["count"]) == [1, 0, 0, 0]
    assert any("invalid counts" in f for f in g.flags)
    assert any("invalid bin edges" in f for f in g.flags)
    assert "dt-flag" in g._caption.object
    assert list(g.row(2)["count"]) == [1, 2, 3]
    top = g.row(2)["top"] - g.row(2)["bottom"]            # raw counts, scaled to the row
    np.testing.assert_allclose(top / top.max(), [1 / 3, 2 / 3, 1])
    assert g.row_text[1][1] == "\u26a0 bad" and g.row_text[2][0] == "out"
    for src in all_sources(g):
        assert_source_finite(src)


def test_plain_list_is_first_series(rng):
    g = HistogramGrid("values", n_panels=2)
    g.update_from_values(layers(rng, 2))
    assert len(g.row(1, "values")["left"]) == 40


def _hists(rng, n=5):
    return {"train": [np.histogram(rng.normal(size=300) * (i + 1), bins=20) for i in range(n)],
            "test": [np.histogram(rng.normal(size=300), bins=20) for i in range(n)]}


def _drawn(grid):
    out = {s: {k: np.asarray(v).tolist() for k, v in src.data.items()} for s, src in grid.sources.items()}
    out["labels"] = dict(grid.label_source.data)
    out["x"] = (grid.figure.x_range.start, grid.figure.x_range.end)
    out["height"] = grid.figure.height
    return out


def test_a_keyed_update_draws_exactly_what_an_unkeyed_one_draws_and_is_laid_out_once(rng):
    from deeptricks.ui import histograms

    h = _hists(rng)
    notes = [f"note {i}" for i in range(5)]
    plain = HistogramGrid(("train", "test"), name="plan-test", n_panels=4)
    plain.update(h, notes=notes)
    a = HistogramGrid(("train", "test"), name="plan-test", n_panels=4)
    b = HistogramGrid(("train", "test"), name="plan-test", n_panels=4)
    before = len(histograms._PLANS)
    a.update(h, notes=notes, key=("setting", 1))
    assert len(histograms._PLANS) == before + 1
    b.update({"train": [], "test": []}, key=("setting", 1))      # the key alone decides: same bars
    assert len(histograms._PLANS) == before + 1
    assert _drawn(a) == _drawn(plain) == _drawn(b)
    assert a.sources["train"].data["top"] is b.sources["train"].data["top"]   # one layout, shared
    assert a.row_text == plain.row_text and a.shown_layers == plain.shown_layers


def test_the_grid_settings_are_part_of_the_key(rng):
    h = _hists(rng)
    a = HistogramGrid(("train", "test"), name="plan-test2", n_panels=4)
    b = HistogramGrid(("train", "test"), name="plan-test2", n_panels=4, x_mode="per_layer")
    a.update(h, key="k")
    b.update(h, key="k")
    ref = HistogramGrid(("train", "test"), name="plan-test2", n_panels=4, x_mode="per_layer")
    ref.update(h)
    assert _drawn(b) == _drawn(ref) and _drawn(a) != _drawn(b)
    a.x_mode = "per_layer"                                           # a redraw keeps the key
    assert _drawn(a) == _drawn(ref)
