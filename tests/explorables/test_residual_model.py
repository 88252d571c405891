"""The residual explorable's claims, checked on the data its plots show."""

import math

import numpy as np
import pytest

from deeptricks.core import build_net
from deeptricks.explorables.residual_model import (
    RUN_NAMES, TRAIN_DEPTH_CAP, TRAIN_STEPS, ResidualModel, TrainingComparison, safe_norm, safe_norms,
    train_depth,
)


@pytest.fixture(scope="module")
def model():
    return ResidualModel()


def _all_finite(views):
    for net in (views.plain, views.residual):
        for a in (net.grad, net.identity_path, net.block_path, net.rel_change):
            assert np.isfinite(a).all()
        assert math.isfinite(net.total_change) and math.isfinite(net.out_rms)


def test_default_gradient_vanishes_in_plain_net_but_flows_in_residual_one(model):
    v = model.compute(50, "none", "sigmoid", 1.0)
    assert v.plain.grad.size == v.residual.grad.size == 50
    assert v.plain.first_over_last < 1e-3           # orders of magnitude lost (about 1e-25)
    assert 0.1 < v.residual.first_over_last < 10     # within a factor 10 of the last block's
    # the plain gradient shrinks block after block on the way down
    assert (np.diff(np.log10(v.plain.grad)) > 0).mean() > 0.9


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_residual_gradient_reaches_block_one_for_every_setting(model, norm, activation):
    v = model.compute(50, norm, activation, 1.0)
    r = v.residual.first_over_last
    # never vanishes: the shortcut carries the gradient down (it may grow when the
    # sum's scale grows, as with ReLU and no normalization)
    assert r > 0.5, r


def test_shortcut_and_block_paths_add_up_to_the_block_input_gradient(model):
    net = build_net(20, 64, activation="sigmoid", residual=True, seed=0)
    x = model.x
    y = net.forward(x)
    net.backward(np.ones_like(y))
    grads = net.block_input_grads()
    for k, block in enumerate(net.blocks):
        np.testing.assert_allclose(block.identity_grad + block.block_grad, grads[k], rtol=1e-12)
    # the views hold the norms of exactly these terms
    v = model.compute(20, "none", "sigmoid", 1.0).residual
    np.testing.assert_allclose(v.identity_path[:-1], v.grad[1:], rtol=1e-12)   # shortcut = dL/dx_{k+1}
    assert v.identity_path[-1] == pytest.approx(1.0)                          # the loss's unit gradient
    assert (v.block_path < v.identity_path).all()   # sigmoid's slope ≤ 1/4: the block path is smaller


def test_plain_net_has_no_shortcut_path(model):
    v = model.compute(10, "none", "sigmoid", 1.0).plain
    assert (v.identity_path == 0).all()
    np.testing.assert_array_equal(v.block_path, v.grad)
    assert math.isnan(v.path_ratio())


def test_same_weights_for_plain_and_residual():
    a = build_net(5, 64, residual=False, seed=0)
    b = build_net(5, 64, residual=True, seed=0)
    for la, lb in zip(a.linears, b.linears):
        np.testing.assert_array_equal(la.params["W"], lb.params["W"])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("norm", ["none", "layer", "batch"])
def test_small_block_weights_make_residual_blocks_identities(model, activation, norm):
    v = model.compute(50, norm, activation, 0.01).residual
    assert v.rel_change.max() < 0.02
    big = model.compute(50, norm, activation, 1.0).residual
    assert big.rel_change.mean() > 10 * v.rel_change.mean()
    # a plain block with small weights does not pass its input on: it replaces it
    plain = model.compute(50, norm, activation, 0.01).plain
    assert plain.rel_change.min() > 0.5


def test_sigmoid_blocks_cannot_fade_to_identities(model):
    # σ(0) = 1/2: with tiny weights each residual block still adds 1/2 to every unit
    v = model.compute(50, "none", "sigmoid", 0.01).residual
    assert v.rel_change[0] > 0.3


@pytest.mark.parametrize("depth,norm,activation,gain", [
    (100, "none", "sigmoid", 1.0), (100, "none", "sigmoid", 0.01), (100, "batch", "sigmoid", 0.01),
    (100, "none", "relu", 2.0), (100, "none", "tanh", 0.01), (100, "layer", "relu", 2.0), (1, "none", "relu", 1.0),
])
def test_extremes_give_finite_view_data(model, depth, norm, activation, gain):
    v = model.compute(depth, norm, activation, gain)
    _all_finite(v)
    assert v.plain.grad.size == depth


def test_extremes_keep_the_true_sizes(model):
    deep_sigmoid = model.compute(100, "none", "sigmoid", 1.0).plain
    assert 0 < deep_sigmoid.grad[0] < 1e-40          # tiny, but not lost to underflow
    exploding = model.compute(100, "none", "relu", 2.0).residual
    assert exploding.growth > 1e30                    # the residual ReLU sum blows up without a norm
    assert not exploding.overflowed                   # … yet float64 and rescaled norms hold it


def test_safe_norm_handles_the_float_limits():
    assert safe_norm(np.full(100, 1e-200)) == pytest.approx(1e-199)
    assert safe_norm(np.full(100, 1e200)) == pytest.approx(1e201)
    assert safe_norm(np.zeros(5)) == 0.0
    assert safe_norm(np.array([1.0, np.inf])) == math.inf
    assert math.isnan(safe_norm(np.array([1.0, np.nan])))


def test_cache_returns_the_same_views(model):
    assert model.compute(30, "none", "tanh", 0.5) is model.compute(30, "none", "tanh", 0.5)


def test_deeper_nets_share_the_first_blocks_weights():
    a, b = build_net(10, 64, seed=0), build_net(40, 64, seed=0)
    np.testing.assert_array_equal(a.linears[9].params["W"], b.linears[9].params["W"])


def test_training_depth_is_capped():
    assert train_depth(100) == TRAIN_DEPTH_CAP
    assert train_depth(7) == 7


def test_training_chunks_do_not_change_the_result():
    a = TrainingComparison(6, steps=20)
    while not a.advance(3):
        pass
    b = TrainingComparison(6, steps=20).run()
    for name in RUN_NAMES:
        assert a.curves[name] == b.curves[name]


@pytest.mark.slow
def test_deep_plain_net_is_stuck_and_residual_net_trains():
    t = TrainingComparison(50, "none", "sigmoid", 1.0).run()
    assert t.done and t.step == TRAIN_STEPS
    shallow, plain, res = (t.final_loss(n) for n in RUN_NAMES)
    assert plain > shallow + 0.3        # the deep plain net stays near chance (ln 2 ≈ 0.69)
    assert plain > 0.6
    assert res <= shallow + 0.02        # the residual net trains as well as the shallow one
    assert t.final_acc("deep residual") > 0.97
    for name in RUN_NAMES:
        xs, ys = t.curves[name]
        assert xs[0] == 0 and xs[-1] == TRAIN_STEPS
        assert np.isfinite(ys).all()


def test_safe_norms_match_safe_norm():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((4, 3)) * 10.0 ** e for e in (-250, -3, 0, 200)]
    arrays += [np.zeros((4, 3)), np.full((4, 3), np.inf), np.where(np.eye(4, 3) > 0, np.nan, 1.0)]
    got = safe_norms(arrays)
    for a, g in zip(arrays, got):
        want = safe_norm(a)
        assert (math.isnan(want) and math.isnan(g)) or g == pytest.approx(want, rel=1e-12)
