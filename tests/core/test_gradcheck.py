"""Finite-difference checks: every backward pass matches the calculus to 1e-6."""

import numpy as np
import pytest

from deeptricks.core import (BatchNorm, Dropout, LayerNorm, Linear, ReLU, Residual, Sequential,
                             Sigmoid, Tanh, build_net, check_layer)
from deeptricks.core.losses import MSELoss, SoftmaxCrossEntropy
from deeptricks.core.gradcheck import numerical_gradient, rel_error

TOL = 1e-6


def x_of(shape, seed=1, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def assert_all_small(errors):
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOL, f"{worst}: relative error {errors[worst]:.2e}"


def reset_dropout(*layers, seed=3):
    def prep():
        for d in layers:
            d.rng = np.random.default_rng(seed)
    return prep


@pytest.mark.parametrize("make", [
    lambda: Linear(5, 4, rng=0),
    lambda: Linear(5, 4, init="xavier", gain=2.0, rng=0),
    ReLU, Tanh, Sigmoid,
    lambda: BatchNorm(5),
    lambda: BatchNorm(5, affine=False),
    lambda: LayerNorm(5),
    lambda: LayerNorm(5, affine=False),
], ids=["linear", "linear-xavier", "relu", "tanh", "sigmoid", "batchnorm", "batchnorm-noaffine",
        "layernorm", "layernorm-noaffine"])
def test_each_layer(make):
    layer = make()
    for name, p in layer.params.items():   # non-trivial gamma/beta
        p += np.random.default_rng(9).standard_normal(p.shape) * 0.3
    assert_all_small(check_layer(layer, x_of((6, 5))))


def test_batchnorm_eval_mode_uses_running_stats():
    bn = BatchNorm(4)
    for s in range(5):
        bn.forward(x_of((8, 4), seed=s, scale=3.0) + 2.0)
    bn.eval()
    assert_all_small(check_layer(bn, x_of((6, 4))))


@pytest.mark.parametrize("scale", [True, False])
def test_dropout_with_fixed_mask(scale):
    d = Dropout(0.4, scale=scale)
    errs = check_layer(d, x_of((6, 5)), before_forward=reset_dropout(d))
    assert_all_small(errs)
    assert d.mask is not None and not d.mask.all()


def test_residual_block():
    block = Sequential(LayerNorm(5), Linear(5, 5, rng=0), Tanh())
    assert_all_small(check_layer(Residual(block), x_of((4, 5))))


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("residual", [False, True])
def test_whole_deep_net(norm, residual):
    net = build_net(depth=4, width=6, in_features=3, out_features=2, norm=norm, residual=residual,
                    activation="tanh", dropout=0.2, seed=0)
    errs = check_layer(net, x_of((5, 3)), before_forward=reset_dropout(*net.dropouts))
    assert_all_small(errs)
    assert len(errs) > 8          # the input and every weight, bias, gamma, beta


@pytest.mark.parametrize("loss_cls,target", [
    (SoftmaxCrossEntropy, np.array([0, 2, 1, 2])),
    (MSELoss, x_of((4, 3), seed=5)),
])
def test_losses(loss_cls, target):
    z = x_of((4, 3))
    loss = loss_cls()
    loss.forward(z, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: loss_cls().forward(z, target), z)
    assert rel_error(analytic, numeric) < TOL


def test_check_catches_a_wrong_backward():
    """The checker itself must fail on a wrong gradient."""

    class BrokenTanh(Tanh):
        def backward(self, dy):
            return dy * (1 - self._y)          # forgot the square

    assert check_layer(BrokenTanh(), x_of((4, 3)))["x"] > 1e-2
