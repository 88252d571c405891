"""Bad arguments raise ValueError naming the parameter and the allowed range."""

import math

import numpy as np
import pytest

from deeptricks.core import (Adam, BatchNorm, Dropout, LayerNorm, Linear, Residual, SGD, Sequential,
                             build_net, make_dataset, make_optimizer)
from deeptricks.core.losses import SoftmaxCrossEntropy


@pytest.mark.parametrize("p", [-0.1, 1, 1.0, 1.5, math.nan, math.inf, "0.5", None, True, [0.2]])
def test_dropout_rate_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\)"):
        Dropout(p)


@pytest.mark.parametrize("call,match", [
    (lambda: Linear(0, 3), "in_features"),
    (lambda: Linear(3, 2.5), "out_features"),
    (lambda: Linear(3, 2, init="kaiming"), "init must be one of"),
    (lambda: Linear(3, 2, gain=-1), "gain"),
    (lambda: Linear(3, 2, gain=math.nan), "gain"),
    (lambda: Linear(3, 2, rng="seed"), "rng"),
    (lambda: BatchNorm(0), "num_features"),
    (lambda: BatchNorm(3, eps=0), "eps"),
    (lambda: BatchNorm(3, momentum=2), "momentum"),
    (lambda: LayerNorm(-2), "num_features"),
    (lambda: Residual("not a layer"), "Layer"),
    (lambda: Sequential(Linear(2, 2, rng=0), np.ones(3)), "item 1"),
    (lambda: build_net(depth=-1), "depth"),
    (lambda: build_net(norm="group"), "norm must be one of"),
    (lambda: build_net(activation="gelu"), "activation must be one of"),
    (lambda: build_net(dropout=1.0), "dropout"),
    (lambda: build_net(seed=-3), "seed"),
    (lambda: make_dataset("mnist"), "dataset must be one of"),
    (lambda: make_dataset("moons", noise=-1), "noise"),
    (lambda: make_dataset("moons", n_train=1), "n_train"),
    (lambda: make_optimizer("rmsprop", Linear(2, 2, rng=0), 0.1), "optimizer must be one of"),
    (lambda: SGD(Linear(2, 2, rng=0), lr=0), "lr"),
    (lambda: SGD(Linear(2, 2, rng=0), lr=0.1, momentum=1.0), "momentum"),
    (lambda: Adam(Linear(2, 2, rng=0), lr=math.inf), "lr"),
])
def test_constructor_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("layer", [Linear(4, 3, rng=0), BatchNorm(4), LayerNorm(4), Dropout(0.2)])
@pytest.mark.parametrize("x,match", [
    (np.ones(4), "2-D"),
    (np.ones((2, 4, 1)), "2-D"),
    (np.array([["a", "b", "c", "d"]]), "numbers"),
])
def test_inputs_must_be_2d_numbers(layer, x, match):
    with pytest.raises(ValueError, match=match):
        layer.forward(x)


@pytest.mark.parametrize("layer", [Linear(4, 3, rng=0), BatchNorm(4), LayerNorm(4)])
def test_wrong_feature_count_names_the_expected_size(layer):
    with pytest.raises(ValueError, match="expects 4 features"):
        layer.forward(np.ones((3, 5)))


def test_labels_are_checked():
    with pytest.raises(ValueError, match="labels"):
        SoftmaxCrossEntropy().forward(np.zeros((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="labels"):
        SoftmaxCrossEntropy().forward(np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]))


def test_integer_input_is_promoted_to_float():
    assert Linear(2, 2, rng=0).forward(np.array([[1, 2]])).dtype == np.float64
