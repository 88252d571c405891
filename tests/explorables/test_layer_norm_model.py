"""The layer-norm explorable's claims, checked on the data its plots show."""

import dataclasses

import numpy as np
import pytest

from deeptricks.core import build_net
from deeptricks.explorables.layer_norm_model import (
    N_EXAMPLES, N_FEATURES, POOL, LayerNormModel, make_table,
)


@pytest.fixture(scope="module")
def model():
    return LayerNormModel()


def test_table_has_one_decimal_and_no_negative_zero():
    t = make_table()
    np.testing.assert_allclose(t * 10, np.round(t * 10), atol=1e-9)
    assert not np.any(np.signbit(t) & (t == 0))


def test_batch_norm_averages_down_a_column(model):
    v = model.table_view("batch", 3)
    assert v.highlight[:, 2].all() and v.highlight.sum() == N_EXAMPLES
    np.testing.assert_array_equal(v.group, model.table[:, 2])
    assert v.mean == pytest.approx(model.table[:, 2].mean())
    assert v.std == pytest.approx(model.table[:, 2].std())
    np.testing.assert_allclose(v.group_normalized, (v.group - v.mean) / np.sqrt(v.std ** 2 + 1e-5))
    np.testing.assert_allclose(v.normalized.mean(axis=0), 0, atol=1e-12)    # every column
    np.testing.assert_allclose(v.normalized.std(axis=0), 1, atol=1e-3)


def test_layer_norm_averages_across_a_row(model):
    v = model.table_view("layer", 2)
    assert v.highlight[1].all() and v.highlight.sum() == N_FEATURES
    np.testing.assert_array_equal(v.group, model.table[1])
    np.testing.assert_allclose(v.group_normalized, (v.group - v.mean) / np.sqrt(v.std ** 2 + 1e-5))
    np.testing.assert_allclose(v.normalized.mean(axis=1), 0, atol=1e-12)    # every row
    np.testing.assert_allclose(v.normalized.std(axis=1), 1, atol=1e-3)


def test_out_of_range_group_is_clamped(model):
    assert model.table_view("layer", 12).index == N_EXAMPLES
    assert model.table_view("batch", 0).index == 1
    with pytest.raises(ValueError):
        model.table_view("instance", 1)


def test_layer_norm_output_ignores_the_batch_and_batch_norm_does_not(model):
    ln = [model.shrink(b).layer for b in range(1, POOL + 1)]
    for out in ln[1:]:
        np.testing.assert_array_equal(out, ln[0])
    bn = {b: model.shrink(b).batch_norm for b in (2, 4, 16, POOL)}
    assert not np.allclose(bn[2], bn[4]) and not np.allclose(bn[4], bn[16])
    np.testing.assert_allclose(bn[POOL], model.shrink(POOL).batch_norm_full)
    assert model.shrink(POOL).moved == 0.0 < model.shrink(4).moved


def test_batch_norm_with_a_batch_of_one_is_explained_not_raised(model):
    v = model.shrink(1)
    assert v.undefined and "at least 2 examples" in v.reason
    assert v.batch_norm.size == 0
    assert v.layer.shape == (N_FEATURES,) and np.isfinite(v.layer).all()


def test_deep_stack_layer_norm_keeps_layers_standard(model):
    model.set_net(1.5, "relu")
    plain = model.column("plain", 50)
    layer = model.column("layer", 50)
    np.testing.assert_allclose(layer.std, 1.0, atol=0.01)
    assert plain.std[-1] > 1e6 * plain.std[0]


def test_deep_stack_uses_the_engine_nets_weights(model):
    model.set_net(0.8, "relu")
    model.column("layer", 4)
    net = build_net(depth=4, norm="layer", gain=0.8, seed=0, dtype=np.float32)
    net.forward(model.x)
    for k in range(4):
        np.testing.assert_allclose(model.layer.shown[k], net.norms[k].xhat, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("gain,depth", [(3.0, 60), (0.25, 60), (1.5, 1)])
def test_no_nonfinite_view_data(model, gain, depth):
    model.set_net(gain, "relu")
    for kind in ("plain", "layer"):
        c = model.column(kind, depth, layers=[0, depth // 2, depth - 1])
        for f in dataclasses.fields(c):
            v = getattr(c, f.name)
            if isinstance(v, np.ndarray):
                assert np.isfinite(v).all(), f.name
        for h in c.hists:
            if h is not None:
                assert np.isfinite(h[1]).all()
    for b in (1, 2, POOL):
        s = model.shrink(b)
        for f in ("raw", "layer", "batch_norm", "batch_norm_full"):
            assert np.isfinite(getattr(s, f)).all()
