"""Layer.clear_cache: a layer forgets every batch-sized array its forward and backward kept."""

import numpy as np
import pytest

from deeptricks.core import (BatchNorm, Dropout, LayerNorm, Linear, ReLU, Residual, Sequential, Sigmoid,
                             Tanh, Trainer, build_net, make_dataset, make_optimizer)
from deeptricks.core.module import CallOrderError

BATCH = 7          # no layer here has 7 of anything but examples


def _arrays(m):
    for v in vars(m).values():
        for a in (v if isinstance(v, list) else [v]):
            if isinstance(a, np.ndarray):
                yield a


def batch_arrays(layer):
    """(layer, attribute) of every array with a batch dimension kept anywhere in ``layer``."""
    found = []
    for m in layer.modules():
        for name, v in vars(m).items():
            items = v if isinstance(v, list) else [v]
            if any(isinstance(a, np.ndarray) and a.ndim and a.shape[0] == BATCH for a in items):
                found.append((type(m).__name__, name))
    return found


LAYERS = {
    "linear": lambda: Linear(5, 5, rng=0),
    "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid,
    "batchnorm": lambda: BatchNorm(5),
    "layernorm": lambda: LayerNorm(5),
    "dropout": lambda: Dropout(0.5, rng=0),
    "residual": lambda: Residual(Sequential(Linear(5, 5, rng=1), ReLU())),
    "sequential": lambda: Sequential(Linear(5, 5, rng=2), BatchNorm(5), Tanh(), Dropout(0.3, rng=3)),
    "net plain": lambda: build_net(3, 5, in_features=5, out_features=5, dropout=0.2, seed=0),
    "net batch norm, residual": lambda: build_net(3, 5, in_features=5, out_features=5, norm="batch",
                                                  residual=True, dropout=0.2, seed=0),
    "net layer norm, sigmoid": lambda: build_net(3, 5, in_features=5, out_features=5, norm="layer",
                                                 activation="sigmoid", seed=0),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_clear_cache_leaves_no_batch_array_and_backward_asks_for_a_forward(make):
    layer = make()
    x = np.random.default_rng(0).standard_normal((BATCH, 5))
    y = layer.forward(x)
    layer.backward(np.ones_like(y))
    assert batch_arrays(layer), "the test must see what forward/backward keep"
    assert layer.clear_cache() is layer
    assert batch_arrays(layer) == []
    with pytest.raises(CallOrderError):
        layer.backward(np.ones_like(y))
    y2 = layer.forward(x)                  # usable again
    assert y2.shape == y.shape and layer.backward(np.ones_like(y2)).shape == x.shape


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
def test_clearing_between_passes_changes_no_result(norm):
    """Parameters, running statistics and gradients are not caches: a cleared net trains on identically."""
    x = np.random.default_rng(1).standard_normal((BATCH, 4))
    nets = [build_net(3, 6, in_features=4, out_features=2, norm=norm, residual=True, seed=3) for _ in range(2)]
    for i, net in enumerate(nets):
        net.forward(x)
        if i:
            net.clear_cache()
        y = net.forward(x)
        net.backward(np.ones_like(y))
    for a, b in zip(nets[0].modules(), nets[1].modules()):
        for k in a.params:
            np.testing.assert_array_equal(a.grads[k], b.grads[k])
        if isinstance(a, BatchNorm):
            np.testing.assert_array_equal(a.running_mean, b.running_mean)


def test_evaluate_keeps_no_activations_of_the_evaluated_set():
    data = make_dataset("moons", n_train=64, n_test=BATCH * 11, seed=0)
    net = build_net(3, 8, in_features=2, out_features=2, norm="batch", seed=0)
    trainer = Trainer(net, data, make_optimizer("sgd", net, 0.1), batch_size=BATCH, eval_every=1000)
    trainer.step()
    kept = sum(a.nbytes for m in net.modules() for a in _arrays(m))
    trainer.evaluate(trainer.X_test, data.y_test)
    after = sum(a.nbytes for m in net.modules() for a in _arrays(m))
    assert after < kept                     # the step's batch caches are gone too, nothing of the test set
    assert not any(a.ndim and a.shape[0] == BATCH * 11 for m in net.modules() for a in _arrays(m))
    assert trainer.step() is not None      # training goes on
