"""The dropout page without a browser: state changes reach the plots' data sources."""

import numpy as np
import pytest

from deeptricks.explorables.dropout import URL_PARAMS, DropoutPage, DropoutState
from deeptricks.ui import coerce_query


@pytest.fixture
def built():
    pg = DropoutPage()
    pg.layout()
    return pg


def test_p_change_updates_sources_in_place(built):
    fig, src = built.units.figure, built.units.source
    before = np.array(src.data["value"])
    built.state.p = 0.9
    after = np.array(src.data["value"])
    assert built.units.figure is fig and built.units.source is src
    assert (after == 0).mean() > (before == 0).mean() + 0.15
    assert len(built.dropped_source.data["col"]) > 0.8 * 256


def test_test_mode_shows_no_dropped_units(built):
    built.state.p = 0.7
    built.state.mode = "test"
    assert len(built.dropped_source.data["col"]) == 0
    assert "Test mode" in built.unit_text.object


def test_scale_switch_tilts_the_readout(built):
    built.state.p = 0.5
    test = np.array(built.readout_source.data["test"])
    scaled = np.array(built.readout_source.data["train"])
    built.state.scale = False
    unscaled = np.array(built.readout_source.data["train"])
    slope = lambda y: float(np.sum(y * test) / np.sum(test * test))
    assert slope(scaled) == pytest.approx(1.0, abs=0.05)
    assert slope(unscaled) == pytest.approx(0.5, abs=0.05)
    assert "0.50" in built.readout_text.object


def test_resample_button_draws_a_new_mask(built):
    built.state.p = 0.5
    before = list(built.dropped_source.data["col"])
    built.state.resample(built.state)
    assert built.state.mask_seed == 1
    assert list(built.dropped_source.data["col"]) != before


def test_no_nonfinite_values_reach_a_source(built):
    built.state.param.update(p=0.9, layer=10, k=1)
    sources = [built.units.source, built.readout_source, built.dropped_source]
    sources += [*built.hists.sources.values(), built.hists.label_source]
    for src in sources:
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind == "f":
                assert np.isfinite(arr).all(), key


@pytest.mark.parametrize("query,expected,noted", [
    ({"p": ["0.3"], "mode": ["test"]}, {"p": 0.3, "mode": "test"}, False),
    ({"p": ["5"]}, {"p": 0.9}, True),
    ({"p": ["nan"]}, {}, True),
    ({"p": ["abc"], "layer": ["99"], "scale": ["off"]}, {"layer": 10, "scale": False}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(DropoutState(), query, URL_PARAMS)
    for k, v in expected.items():
        assert values[k] == pytest.approx(v) if isinstance(v, float) else values[k] == v
    assert bool(notes) == noted


def test_the_ensemble_axis_has_ticks_down_to_where_the_curve_goes():
    built = DropoutPage(DropoutState(p=0.5))
    fig = built.ensemble.figure
    ticks = list(fig.yaxis[0].ticker.ticks)
    lo, hi = fig.y_range.start, fig.y_range.end
    assert all(lo <= t <= hi for t in ticks) and len(ticks) >= 3
    low_point = float(np.min(built.ensemble.sources["average of K thinned networks"].data["y"]))
    assert min(ticks) <= 2 * low_point              # a labelled tick near the bottom of the curve
