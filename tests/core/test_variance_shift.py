"""The variance shift (Li et al., 2019): dropout before BatchNorm leaves its running variance
larger than what it sees at test time, by about 1/(1-p); dropout after the last BatchNorm does not."""

import numpy as np
import pytest

from deeptricks.core import build_net, expected_shift, variance_shift


def shifted_net(p, *, activation="tanh", dropout_at="every", batches=300, seed=0):
    """A 2-block BatchNorm net whose running statistics saw ``batches`` training-mode batches
    of Gaussian inputs (no learning: only the running averages move)."""
    net = build_net(2, 64, norm="batch", dropout=p, dropout_at=dropout_at, activation=activation,
                    seed=seed)
    rng = np.random.default_rng(seed)
    for norm in net.norms:
        norm.momentum = 0.02          # a long average: the running variance's own noise is ~3%
    for _ in range(batches):
        net.forward(rng.standard_normal((256, 64)))
    return net, rng.standard_normal((4000, 64))


def test_the_formula():
    assert expected_shift(0.0) == 1.0
    assert expected_shift(0.5) == pytest.approx(2.0)
    # a unit with mean 1 and variance 1 under dropout 0.5: Var_train = (1+1)/0.5 - 1 = 3
    assert expected_shift(0.5, mean=1.0, var=1.0) == pytest.approx(3.0)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_centred_inputs_shift_by_one_over_one_minus_p(p):
    """tanh of a symmetric input is centred, so block 2's BatchNorm, fed block 1's dropout,
    learns a variance 1/(1-p) times the test-time one (within 5%: the running average of
    300 batches of 256)."""
    net, X = shifted_net(p)
    shifts = dict(variance_shift(net, X))
    assert shifts[1] == pytest.approx(1.0, abs=0.05)            # nothing dropped before block 1
    assert shifts[2] == pytest.approx(1 / (1 - p), rel=0.05)


def test_after_a_relu_the_shift_follows_the_formula_with_the_mean():
    """ReLU outputs are not centred: the layer's shift is Σ_j Var_train,j / Σ_j s_j², with each
    Var_train,j = (s_j² + μ_j²)/(1-p) - μ_j² from the unit's test-time mean and variance."""
    p = 0.4
    net, X = shifted_net(p, activation="relu")
    shift = dict(variance_shift(net, X))[2]
    net.eval()
    net.forward(X)
    x = net.block_inputs()[1]          # block 2's input at test time: block 1's output
    mu, s2 = x.mean(axis=0), x.var(axis=0)
    predicted = np.sum((s2 + mu ** 2) / (1 - p) - mu ** 2) / np.sum(s2)
    # for a ReLU of a Gaussian μ²/s² = (1/2π)/(1/2 - 1/2π) ≈ 0.47, which adds 0.47·p/(1-p) ≈ 0.31
    assert predicted > 1 / (1 - p) + 0.2
    assert shift == pytest.approx(predicted, rel=0.05)


def test_dropout_after_the_last_batch_norm_removes_the_shift():
    net, X = shifted_net(0.5, dropout_at="last")
    assert [d.p for d in net.dropouts] == [0.0, 0.5]
    for _, shift in variance_shift(net, X):
        assert shift == pytest.approx(1.0, abs=0.05)


def test_the_shift_grows_with_the_rate():
    shifts = [dict(variance_shift(*shifted_net(p)))[2] for p in (0.0, 0.2, 0.4, 0.6)]
    assert all(a < b for a, b in zip(shifts, shifts[1:])), shifts


def test_measuring_leaves_the_net_as_it_was():
    net, X = shifted_net(0.3, batches=20)
    running = [n.running_var.copy() for n in net.norms]
    variance_shift(net, X[:100])
    assert net.training and all(np.array_equal(r, n.running_var) for r, n in zip(running, net.norms))
    assert all(o is None for o in net.outputs) or not net.outputs


def test_set_dropout_keeps_the_placement():
    net = build_net(3, 8, norm="batch", dropout=0.2, dropout_at="last")
    net.set_dropout(0.6)
    assert [d.p for d in net.dropouts] == [0.0, 0.0, 0.6]
    assert variance_shift(build_net(2, 8), np.ones((4, 8))) == []   # no BatchNorm, nothing to measure
