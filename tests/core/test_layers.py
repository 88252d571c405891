"""Forward semantics, modes, dtypes and PyTorch conventions of each layer."""

import numpy as np
import pytest

from deeptricks.core import (BatchNorm, Dropout, LayerNorm, Linear, ReLU, Residual, Sequential,
                             Sigmoid, Tanh, build_net)


def test_linear_shapes_and_init_scales():
    rng = np.random.default_rng(0)
    for init, expected in [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 600)), ("normal", 0.01)]:
        lin = Linear(400, 200, init=init, gain=1.5, rng=rng)
        assert lin.params["W"].shape == (400, 200) and lin.params["b"].shape == (200,)
        assert lin.params["W"].std() == pytest.approx(1.5 * expected, rel=0.02)
    x = rng.standard_normal((3, 400))
    np.testing.assert_allclose(lin.forward(x), x @ lin.params["W"] + lin.params["b"])


@pytest.mark.parametrize("layer", [Linear(8, 8, rng=0), ReLU(), Tanh(), Sigmoid(), Dropout(0.3),
                                   BatchNorm(8), LayerNorm(8), Residual(Sequential(Linear(8, 8, rng=0))),
                                   build_net(depth=3, width=8, norm="batch", dropout=0.2)])
def test_float32_in_float32_out(layer):
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    y = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_modes_start_in_training_and_propagate():
    net = build_net(depth=3, width=4, norm="batch", residual=True, dropout=0.5)
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_sigmoid_is_stable_at_extremes():
    y = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(y, [[0.0, 0.5, 1.0]])


def test_batchnorm_matches_torch_conventions():
    """Hand-computed BatchNorm1d semantics: biased var to normalize, unbiased var for running_var."""
    rng = np.random.default_rng(0)
    bn = BatchNorm(3, momentum=0.1)
    x = rng.standard_normal((10, 3)) * [1.0, 2.0, 5.0] + [0.0, 3.0, -1.0]
    y = bn.forward(x)
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(0))
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0, ddof=1))
    bn.eval()
    x2 = rng.standard_normal((4, 3))
    np.testing.assert_allclose(bn.forward(x2), (x2 - bn.running_mean) / np.sqrt(bn.running_var + 1e-5))


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = BatchNorm(2, momentum=None)
    batches = [np.random.default_rng(s).standard_normal((6, 2)) + s for s in range(4)]
    for b in batches:
        bn.forward(b)
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(0) for b in batches], axis=0))


def test_batchnorm_batch_of_one_explains_itself():
    bn = BatchNorm(4)
    with pytest.raises(ValueError, match="at least 2 examples"):
        bn.forward(np.ones((1, 4)))
    bn.eval()
    assert bn.forward(np.ones((1, 4))).shape == (1, 4)


def test_layernorm_batch_of_one_and_mode_independence():
    ln = LayerNorm(6)
    x = np.random.default_rng(0).standard_normal((1, 6)) * 4 + 2
    y_train = ln.forward(x)
    ln.eval()
    np.testing.assert_array_equal(ln.forward(x), y_train)
    assert y_train.mean() == pytest.approx(0, abs=1e-12)


def test_residual_rejects_shape_changing_block():
    with pytest.raises(ValueError, match="shape of its input"):
        Residual(Linear(4, 3, rng=0)).forward(np.ones((2, 4)))


def test_residual_keeps_both_gradient_paths():
    block = Sequential(Linear(4, 4, rng=0), Tanh())
    res = Residual(block)
    x = np.random.default_rng(1).standard_normal((3, 4))
    res.forward(x)
    dy = np.random.default_rng(2).standard_normal((3, 4))
    dx = res.backward(dy)
    np.testing.assert_array_equal(res.identity_grad, dy)
    np.testing.assert_allclose(dx, dy + res.block_grad)


def test_sequential_keeps_every_output_and_arriving_gradient():
    net = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    x = np.random.default_rng(0).standard_normal((5, 3))
    y = net.forward(x)
    assert len(net.outputs) == 3 and net.outputs[-1] is y
    np.testing.assert_allclose(net.outputs[1], np.maximum(net.outputs[0], 0))
    dy = np.ones_like(y)
    net.backward(dy)
    assert net.grad_outputs[2] is dy
    np.testing.assert_allclose(net.grad_outputs[1], dy @ net[2].params["W"].T)
    np.testing.assert_allclose(net.grad_input, (net.grad_outputs[0]) @ net[0].params["W"].T)


def test_same_seed_same_weights_whatever_the_tricks():
    a = build_net(depth=5, width=16, seed=4)
    b = build_net(depth=5, width=16, seed=4, norm="batch", residual=True, dropout=0.5)
    for la, lb in zip(a.linears, b.linears):
        np.testing.assert_array_equal(la.params["W"], lb.params["W"])
    c = build_net(depth=5, width=16, seed=5)
    assert not np.array_equal(a.linears[0].params["W"], c.linears[0].params["W"])


def test_pre_norm_residual_block_structure():
    net = build_net(depth=2, width=4, norm="layer", residual=True, dropout=0.1, activation="tanh")
    kinds = [type(layer).__name__ for layer in net.paths[0]]
    assert kinds == ["LayerNorm", "Linear", "Tanh", "Dropout"]
    assert isinstance(net.blocks[0], Residual)
    x = np.random.default_rng(0).standard_normal((3, 4))
    net.eval()
    y = net.forward(x)
    h = x + net.paths[0].forward(x)
    np.testing.assert_allclose(y, h + net.paths[1].forward(h))


def test_deepnet_views_line_up_with_the_layers():
    net = build_net(depth=3, width=4, in_features=2, out_features=2, norm="batch")
    x = np.random.default_rng(0).standard_normal((6, 2))
    net.forward(x)
    outs = net.block_outputs()
    assert len(outs) == 3 and outs[0] is net.outputs[1]
    ins = net.block_inputs()
    assert ins[0] is net.outputs[0] and ins[2] is outs[1]
    pre = net.pre_activations()
    np.testing.assert_allclose(pre[0], net.linears[0].forward(net.norms[0].forward(ins[0])))
    net.backward(np.ones((6, 2)))
    g = net.block_input_grads()
    assert len(g) == 3 and g[1] is net.grad_outputs[1]
