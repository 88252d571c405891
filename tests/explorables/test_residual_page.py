"""The residual page without a browser: state changes reach the plots' data sources."""

import math

import numpy as np
import pytest
from bokeh.models import ColumnDataSource
from panel.io.location import Location

from deeptricks.explorables.residual import URL_PARAMS, ResidualPage, ResidualState, _log_ticks, page
from deeptricks.explorables.residual_model import RUN_NAMES, TRAIN_STEPS
from deeptricks.ui import URLSync, coerce_query


@pytest.fixture
def built():
    pg = ResidualPage()
    pg.layout()
    return pg


def _y(chart, series):
    return np.asarray(chart.sources[series].data["y"], float)


def _all_sources(pg):
    charts = (pg.grad_chart, pg.paths_chart, pg.change_chart, pg.train_chart)
    return [s for c in charts for s in c.sources.values()] + [pg.grad_yours, pg.change_yours]


def test_page_builds_with_named_sources():
    layout = page(ResidualState())
    names = {m.name for m in layout.get_root().select({"type": ColumnDataSource})}
    for name in ("residual-grad-plain-source", "residual-grad-residual-source", "residual-grad-yours-source",
                 "residual-paths-shortcut-source", "residual-paths-block-source",
                 "residual-change-plain-source", "residual-change-residual-source",
                 "residual-change-yours-source", "residual-train-deep-plain-source"):
        assert name in names


def test_default_view_shows_vanishing_plain_gradient(built):
    plain, res = _y(built.grad_chart, "plain"), _y(built.grad_chart, "residual")
    assert plain.size == res.size == 50
    assert plain[0] < 1e-3 * plain[-1]
    assert res[-1] / 10 < res[0] < 10 * res[-1]
    np.testing.assert_allclose(built.grad_yours.data["y"], res)     # the band follows the residual net
    assert "plain" in built.grad_text.object and "1.6e-25" in built.grad_text.object


def test_depth_change_updates_sources_in_place(built):
    figs = [c.figure for c in (built.grad_chart, built.paths_chart, built.change_chart, built.train_chart)]
    sources = _all_sources(built)
    built.state.depth = 80
    assert [c.figure for c in (built.grad_chart, built.paths_chart, built.change_chart,
                               built.train_chart)] == figs
    assert _all_sources(built) == sources
    assert len(built.grad_chart.sources["plain"].data["y"]) == 80
    assert built.grad_chart.figure.x_range.end == pytest.approx(80.5)


def test_residual_switch_moves_your_net_without_recomputing(built):
    views = built.state.views()
    built.state.residual = False
    assert built.state.views() is views                               # cached: nothing recomputed
    np.testing.assert_allclose(built.grad_yours.data["y"], _y(built.grad_chart, "plain"))
    assert len(built.paths_chart.sources["shortcut"].data["y"]) == 0  # a plain block has no shortcut
    np.testing.assert_allclose(_y(built.paths_chart, "block"), _y(built.grad_chart, "plain"))
    assert "Your net is plain" in built.paths_text.object
    built.state.residual = True
    assert len(built.paths_chart.sources["shortcut"].data["y"]) == 50
    assert (_y(built.paths_chart, "block") < _y(built.paths_chart, "shortcut")).all()


def test_small_block_weights_make_blocks_identities(built):
    built.state.param.update(activation="tanh", gain=0.01)
    assert _y(built.change_chart, "residual").max() < 0.02
    assert _y(built.change_chart, "plain").min() > 0.5
    assert not built.sigmoid_note.visible
    built.state.activation = "sigmoid"
    assert built.sigmoid_note.visible


def test_gain_slider_is_logarithmic_and_linked(built):
    built.gain_slider.value = -1.0
    assert built.state.gain == pytest.approx(0.1)
    built.gain_slider.value = math.log10(2.0)
    assert built.state.gain == pytest.approx(2.0)
    built.state.gain = 0.3
    assert built.gain_slider.value == pytest.approx(math.log10(0.3))
    assert built.state.gain == 0.3                                   # not rounded away


@pytest.mark.parametrize("settings", [
    dict(depth=100, activation="sigmoid", gain=0.01),
    dict(depth=100, activation="relu", norm="none", gain=2.0),
    dict(depth=100, activation="relu", norm="batch", gain=2.0),
    dict(depth=1),
])
def test_no_nonfinite_values_reach_a_source(built, settings):
    built.state.param.update(**settings)
    for src in _all_sources(built):
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind == "f":
                assert np.isfinite(arr).all(), (src.name, key)
    ys = _y(built.grad_chart, "plain")
    assert (ys > 0).all()                                             # drawable on the log axis


def test_exploding_residual_sum_is_labelled(built):
    built.state.param.update(depth=100, activation="relu", norm="none", gain=2.0)
    assert built.growth_note.visible and "grew" in built.growth_note.object
    built.state.norm = "layer"
    assert "residual net's signal" not in built.growth_note.object


def test_log_ticks_label_short_ranges():
    assert _log_ticks(0.02, 1.3) == [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    many = _log_ticks(1e-250, 10)
    assert 3 <= len(many) <= 9 and all(t > 0 for t in many)


def test_training_runs_to_completion_and_is_kept_per_setting(built):
    built.state.depth = 6          # a quick comparison: 3, 6 and 6 blocks
    assert all(len(s.data["x"]) == 0 for s in built.train_chart.sources.values())
    built.run_training()
    for name in RUN_NAMES:
        xs = built.train_chart.sources[name].data["x"]
        assert xs[0] == 0 and xs[-1] == TRAIN_STEPS
    assert f"After {TRAIN_STEPS} steps" in built.train_status.object
    assert built.train_button.disabled                               # nothing more to run here
    fig = built.train_chart.figure
    built.state.activation = "tanh"                                   # another setting: empty again
    assert all(len(s.data["x"]) == 0 for s in built.train_chart.sources.values())
    assert "Not run yet" in built.train_status.object and not built.train_button.disabled
    built.state.activation = "sigmoid"                                # back: the kept run reappears
    assert built.train_chart.sources["deep residual"].data["x"][-1] == TRAIN_STEPS
    assert built.train_chart.figure is fig


def test_training_ticks_stream_the_curves(built):
    built.state.depth = 4
    built.active_run = None
    from deeptricks.explorables.residual_model import TrainingComparison
    run = TrainingComparison(*built.state.training_key())
    built.runs[built.state.training_key()] = run
    built.active_run = run
    built._train_tick(budget=0.0)                                      # one chunk
    n1 = len(built.train_chart.sources["deep plain"].data["x"])
    assert 1 < n1 < TRAIN_STEPS // 5 + 1 and "Training" in built.train_status.object
    while built.active_run is not None:
        built._train_tick(budget=0.0)
    assert run.done and f"After {TRAIN_STEPS} steps" in built.train_status.object


def test_url_sets_the_state_and_follows_it():
    state = ResidualState()
    loc = Location(search="?depth=80&residual=false&norm=layer&activation=tanh&scale=0.05")
    sync = URLSync(state, URL_PARAMS, location=loc)
    assert (state.depth, state.residual, state.norm, state.activation, state.gain) == (80, False, "layer",
                                                                                       "tanh", 0.05)
    assert not sync.notes
    state.depth = 30
    assert "depth=30" in loc.search and "scale=0.05" in loc.search


@pytest.mark.parametrize("query,expected,noted", [
    ({"depth": ["80"], "residual": ["false"]}, {"depth": 80, "residual": False}, False),
    ({"depth": ["500"]}, {"depth": 100}, True),
    ({"scale": ["0"]}, {"gain": 0.01}, True),
    ({"norm": ["group"], "activation": ["gelu"], "depth": ["2.5"]}, {"depth": 2}, True),
    ({"residual": ["maybe"]}, {}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(ResidualState(), query, URL_PARAMS)
    assert values == pytest.approx(expected) if expected else values == {}
    assert bool(notes) == noted
