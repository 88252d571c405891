"""The batch-norm page without a browser: state changes reach the plots' data sources."""

import numbers

import numpy as np
import pytest

from deeptricks.explorables.batch_norm import URL_PARAMS, BatchNormPage, BatchNormState
from deeptricks.ui import coerce_query


@pytest.fixture(scope="module")
def built():
    pg = BatchNormPage()
    pg.layout()
    return pg


@pytest.fixture(autouse=True)
def reset(built):
    defaults = {k: p.default for k, p in built.state.param.objects().items() if k in URL_PARAMS}
    built.state.param.update(**defaults)
    yield


def tops(grid, k):
    """Bar heights of the k-th shown row."""
    return np.asarray(grid.row(grid.shown_layers[k])["top"], float)


def note(grid, k):
    """The note drawn at the right of the k-th shown row."""
    return grid.row_text[grid.shown_layers[k]][1]


def all_sources(pg):
    srcs = [s for g in (pg.left, pg.right) for s in (*g.sources.values(), g.label_source)]
    srcs += list(pg.spread.sources.values()) + list(pg.modes.sources.values())
    srcs += [pg.one_source, pg.ref_source, pg.curve_source, pg.now_source]
    return srcs


def figures(pg):
    return [pg.left.figure, pg.right.figure, pg.spread.figure, pg.modes.figure, pg.one_fig, pg.curve_fig]


def test_switch_changes_the_right_column_in_place(built):
    figs, srcs = figures(built), all_sources(built)
    with_bn = [tops(built.right, k) for k in range(10)]
    assert "With BatchNorm" in built.right_title.object
    built.state.bn = False
    without = [tops(built.right, k) for k in range(10)]
    assert any(a.shape != b.shape or not np.allclose(a, b) for a, b in zip(with_bn, without))
    for k in range(10):                                   # now the right net is the left net
        np.testing.assert_array_equal(without[k], tops(built.left, k))
    assert "BatchNorm off" in built.right_title.object
    assert len(built.spread.sources["with BatchNorm"].data["y"]) == 0
    assert figures(built) == figs and all(a is b for a, b in zip(all_sources(built), srcs))
    built.state.bn = True
    np.testing.assert_array_equal(tops(built.right, 9), with_bn[9])


def test_deep_net_shows_a_named_subset_of_layers(built):
    built.state.depth = 30
    assert len(built.left.shown_layers) == 12
    assert built.left.shown_layers[0] == 0 and built.left.shown_layers[-1] == 29
    assert "Showing 12 of 30 layers" in built.left._caption.object
    assert built.right.shown_layers == built.left.shown_layers
    assert len(built.spread.sources["without BatchNorm"].data["y"]) == 30


def test_drift_and_collapse_are_labelled(built):
    built.state.param.update(depth=30, gain=2.0, x_axis="shared")
    last = note(built.left, 11)
    assert last.startswith("\u26a0") and last.endswith("% off")
    assert note(built.right, 11) == "std 1"
    built.state.param.update(activation="sigmoid", depth=60)
    assert "collapsed" in note(built.left, 11)
    assert "every example gives the same values" in built.spread_text.object


def test_batch_of_one_shows_the_explanation(built):
    built.state.batch = 1
    assert built.batch_note.visible and "batch of one" in built.batch_note.object.lower()
    assert len(built.one_source.data["y"]) == 0
    assert len(built.ref_source.data["y"]) == 6            # the plot is not blank
    built.state.mode = "eval"
    assert not built.batch_note.visible
    ys = np.asarray(built.one_source.data["y"]).reshape(20, 6)
    assert (ys == ys[0]).all()                              # eval mode: the batch does not matter
    assert len(built.now_source.data["batch"]) == 0


def test_spread_readout_follows_the_batch_size(built):
    built.state.batch = 4
    small = np.asarray(built.one_source.data["y"]).reshape(20, 6).std(axis=0).mean()
    built.state.batch = 256
    big = np.asarray(built.one_source.data["y"]).reshape(20, 6).std(axis=0).mean()
    assert big < 0.3 * small
    assert "batch of 256" in built.one_text.object
    assert list(built.now_source.data["batch"]) == [256]


def test_eval_mode_needs_warm_up(built):
    built.state.mode = "eval"
    assert "eval mode" in built.right_title.object
    cold = np.asarray(built.modes.sources["eval mode"].data["y"])
    train = np.asarray(built.modes.sources["training mode"].data["y"])
    assert cold[-1] > 10 * train[-1]
    assert not note(built.right, 9).startswith("std 1")
    built.state.warmup = 200
    warm = np.asarray(built.modes.sources["eval mode"].data["y"])
    np.testing.assert_allclose(warm, train, rtol=0.02)
    assert float(note(built.right, 9).removeprefix("std ")) == pytest.approx(1.0, abs=0.02)
    assert "matches training mode" in built.modes_text.object


@pytest.mark.parametrize("settings", [
    dict(depth=60, gain=3.0, activation="relu", x_axis="fit"),
    dict(depth=60, gain=3.0, activation="relu", x_axis="log", mode="eval", warmup=0),
    dict(depth=60, gain=1.5, activation="sigmoid", x_axis="shared", bn=False),
    dict(depth=60, gain=0.25, activation="tanh", x_axis="fit", batch=1),
    dict(depth=1, gain=0.25, activation="relu", batch=2),
])
def test_no_nonfinite_values_reach_a_source(built, settings):
    built.state.param.update(**settings)
    for src in all_sources(built):
        lengths = {len(v) for v in src.data.values()}
        assert len(lengths) <= 1, src.name
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind in "fiu":
                assert np.isfinite(arr).all(), (src.name, key)
            elif arr.dtype == object:
                assert all(np.isfinite(v) for v in col if isinstance(v, numbers.Number)), (src.name, key)
    for fig in figures(built):
        for r in (fig.x_range, fig.y_range):
            assert np.isfinite([r.start, r.end]).all() and r.end > r.start, fig.name


@pytest.mark.parametrize("query,expected,noted", [
    ({"depth": ["30"], "bn": ["false"], "batch": ["1"]}, {"depth": 30, "bn": False, "batch": 1}, False),
    ({"depth": ["500"]}, {"depth": 60}, True),
    ({"gain": ["-1"], "act": ["softmax"]}, {"gain": 0.25}, True),
    ({"x": ["fit"], "mode": ["eval"], "warmup": ["1e9"]}, {"x_axis": "fit", "mode": "eval", "warmup": 200}, True),
    ({"batch": ["0"], "depth": ["2.5"]}, {"batch": 1, "depth": 2}, True),
    ({"gain": ["nan"], "bn": ["maybe"]}, {}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(BatchNormState(), query, URL_PARAMS)
    assert values == pytest.approx(expected) if expected else values == {}
    assert bool(notes) == noted
