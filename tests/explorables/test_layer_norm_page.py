"""The layer-norm page without a browser: state changes reach the plots' data sources."""

import numbers

import numpy as np
import pytest

from deeptricks.explorables.layer_norm import URL_PARAMS, LayerNormPage, LayerNormState
from deeptricks.ui import coerce_query


@pytest.fixture(scope="module")
def built():
    pg = LayerNormPage()
    pg.layout()
    return pg


@pytest.fixture(autouse=True)
def reset(built):
    defaults = {k: p.default for k, p in built.state.param.objects().items() if k in URL_PARAMS}
    built.state.param.update(**defaults)
    yield


def all_sources(pg):
    srcs = [pg.raw_source, pg.raw_box, pg.norm_source, pg.norm_box, pg.bn_source, pg.bn_ref, pg.ln_source]
    srcs += [s for g in (pg.left, pg.right) for s in (*g.sources.values(), g.label_source)]
    return srcs + list(pg.spread.sources.values())


def figures(pg):
    return [pg.raw_fig, pg.norm_fig, pg.bn_fig, pg.ln_fig, pg.left.figure, pg.right.figure,
            pg.spread.figure]


def test_highlight_follows_method_and_index(built):
    built.state.param.update(method="layer", example=4)
    assert list(built.raw_box.data["y"]) == [4] and list(built.raw_box.data["w"]) == [12]
    faded = np.asarray(built.raw_source.data["alpha"]).reshape(8, 12)
    assert (faded[3] == 1).all() and (np.delete(faded, 3, axis=0) < 1).all()
    assert "example 4" in built.table_text.object
    rows = np.asarray(built.norm_source.data["value"]).reshape(8, 12)
    np.testing.assert_allclose(rows.mean(axis=1), 0, atol=1e-9)
    built.state.param.update(method="batch", feature=7)
    assert list(built.raw_box.data["x"]) == [7] and list(built.raw_box.data["h"]) == [8]
    cols = np.asarray(built.norm_source.data["value"]).reshape(8, 12)
    np.testing.assert_allclose(cols.mean(axis=0), 0, atol=1e-9)
    assert "feature 7" in built.table_text.object and "After batch norm" in built.norm_fig.title.text


def test_shrinking_the_batch_moves_batch_norm_only(built):
    figs, srcs = figures(built), all_sources(built)
    bn8, ln8 = list(built.bn_source.data["y"]), list(built.ln_source.data["y"])
    built.state.batch = 3
    assert list(built.bn_source.data["y"]) != bn8
    assert list(built.ln_source.data["y"]) == ln8
    assert figures(built) == figs and all(a is b for a, b in zip(all_sources(built), srcs))


def test_batch_of_one_explains_and_keeps_layer_norm(built):
    ln = list(built.ln_source.data["y"])
    built.state.batch = 1
    assert built.shrink_note.visible and "batch of one" in built.shrink_note.object
    assert len(built.bn_source.data["y"]) == 0 and len(built.bn_ref.data["y"]) == 12
    assert list(built.ln_source.data["y"]) == ln
    built.state.batch = 2
    assert not built.shrink_note.visible


def test_deep_stack_layer_norm_column_stays_standard(built):
    built.state.param.update(depth=40, gain=2.0)
    assert len(built.left.shown_layers) == 12 and built.left.shown_layers[-1] == 39
    assert all(built.right.row_text[i][1] == "std 1" for i in built.right.shown_layers)
    y = np.asarray(built.spread.sources["layer norm"].data["y"])
    assert len(y) == 40 and np.all((y > 0.5) & (y < 1.5))    # per example, not per feature: near 1
    assert np.asarray(built.spread.sources["no normalization"].data["y"])[-1] > 1e6


@pytest.mark.parametrize("settings", [dict(depth=60, gain=3.0), dict(depth=60, gain=0.25, batch=1),
                                      dict(depth=1, batch=64, method="batch", feature=12)])
def test_no_nonfinite_values_reach_a_source(built, settings):
    built.state.param.update(**settings)
    for src in all_sources(built):
        assert len({len(v) for v in src.data.values()}) <= 1, src.name
        for key, col in src.data.items():
            arr = np.asarray(col)
            if arr.dtype.kind in "fiu":
                assert np.isfinite(arr).all(), (src.name, key)
            elif arr.dtype == object:
                assert all(np.isfinite(v) for v in col if isinstance(v, numbers.Number)), (src.name, key)


@pytest.mark.parametrize("query,expected,noted", [
    ({"method": ["batch"], "feature": ["5"], "batch": ["1"]}, {"method": "batch", "feature": 5, "batch": 1}, False),
    ({"example": ["9"], "batch": ["1000"]}, {"example": 8, "batch": 64}, True),
    ({"method": ["group"], "depth": ["-3"], "gain": ["x"]}, {"depth": 1}, True),
])
def test_url_query_is_clamped_or_ignored_with_a_note(query, expected, noted):
    values, notes = coerce_query(LayerNormState(), query, URL_PARAMS)
    assert values == expected
    assert bool(notes) == noted
