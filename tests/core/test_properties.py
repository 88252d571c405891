"""Property tests of what the explainers tell learners about each trick."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deeptricks.core import BatchNorm, Dropout, LayerNorm, Linear, Residual, Sequential, Tanh

ps = st.floats(min_value=0.0, max_value=0.95, exclude_max=False)
seeds = st.integers(0, 2**16)


@given(p=ps, seed=seeds)
@settings(max_examples=40, deadline=None)
def test_dropout_keeps_the_expected_activation(p, seed):
    """E[y] = x: averaged over many masks, inverted dropout delivers the full signal."""
    x = np.full((200, 500), 2.0)
    y = Dropout(p, rng=seed).forward(x)
    # the mean of 100 000 scaled Bernoulli draws: standard error 2·sqrt(p/(1-p)/1e5)
    se = 2.0 * np.sqrt(p / (1 - p) / x.size)
    assert abs(y.mean() - 2.0) < 6 * se + 1e-12


@given(p=ps, seed=seeds)
@settings(max_examples=30, deadline=None)
def test_dropout_drops_about_p_and_scales_survivors(p, seed):
    d = Dropout(p, rng=seed)
    x = np.random.default_rng(seed).uniform(0.5, 1.5, (64, 256))
    y = d.forward(x)
    frac_dropped = 1 - d.mask.mean() if d.mask is not None else 0.0
    assert abs(frac_dropped - p) < 6 * np.sqrt(p * (1 - p) / x.size) + 1e-12
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p))


@given(p=ps, seed=seeds)
@settings(max_examples=20, deadline=None)
def test_unscaled_dropout_shrinks_the_signal(p, seed):
    x = np.ones((100, 400))
    y = Dropout(p, scale=False, rng=seed).forward(x)
    assert abs(y.mean() - (1 - p)) < 6 * np.sqrt(p * (1 - p) / x.size) + 1e-12


@given(p=ps, seed=seeds)
@settings(max_examples=20, deadline=None)
def test_dropout_is_identity_at_zero_and_in_eval(p, seed):
    x = np.random.default_rng(seed).standard_normal((4, 7))
    np.testing.assert_array_equal(Dropout(0.0, rng=seed).forward(x), x)
    d = Dropout(p, rng=seed).eval()
    np.testing.assert_array_equal(d.forward(x), x)
    np.testing.assert_array_equal(d.backward(x), x)


def test_frozen_noise_only_ever_drops_more_units_as_p_rises():
    d = Dropout(0.0)
    d.freeze(d.draw_noise((8, 32)))
    x = np.ones((8, 32))
    kept = []
    for p in np.linspace(0, 0.9, 10):
        d.set_p(p)
        d.forward(x)
        kept.append(d.mask.copy() if d.mask is not None else np.ones_like(x, bool))
    for before, after in zip(kept, kept[1:]):
        assert not (after & ~before).any()


batch_arrays = st.tuples(st.integers(2, 40), st.integers(1, 12), seeds,
                         st.floats(0.01, 100.0), st.floats(-50, 50))


@given(batch_arrays)
@settings(max_examples=60, deadline=None)
def test_batchnorm_standardizes_each_feature_in_training(args):
    n, d, seed, scale, shift = args
    x = np.random.default_rng(seed).standard_normal((n, d)) * scale + shift
    bn = BatchNorm(d)
    bn.forward(x)
    np.testing.assert_allclose(bn.xhat.mean(0), 0, atol=1e-9)
    var = bn.xhat.var(0)
    expected = x.var(0) / (x.var(0) + bn.eps)  # exactly 1 but for ε
    np.testing.assert_allclose(var, expected, rtol=1e-9)


def test_running_statistics_converge_to_the_population():
    rng = np.random.default_rng(0)
    mu, sigma = np.array([3.0, -2.0, 0.5]), np.array([2.0, 0.5, 4.0])
    bn = BatchNorm(3, momentum=0.05)
    for _ in range(600):
        bn.forward(rng.standard_normal((32, 3)) * sigma + mu)
    assert (np.abs(bn.running_mean - mu) < 0.15 * sigma).all()
    np.testing.assert_allclose(bn.running_var, sigma ** 2, rtol=0.15)


@given(batch_arrays)
@settings(max_examples=60, deadline=None)
def test_layernorm_standardizes_each_example(args):
    n, d, seed, scale, shift = args
    if d < 2:
        d = 2
    x = np.random.default_rng(seed).standard_normal((n, d)) * scale + shift
    ln = LayerNorm(d)
    y = ln.forward(x)
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-9)
    np.testing.assert_allclose(y.var(1), x.var(1) / (x.var(1) + ln.eps), rtol=1e-9)


@given(st.integers(1, 10), st.integers(1, 10), seeds)
@settings(max_examples=30, deadline=None)
def test_layernorm_output_ignores_the_rest_of_the_batch(n, extra, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8))
    others = rng.standard_normal((extra, 8)) * 10
    ln = LayerNorm(8)
    np.testing.assert_allclose(ln.forward(x), ln.forward(np.vstack([x, others]))[:n])


def test_batchnorm_output_depends_on_the_rest_of_the_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8))
    bn = BatchNorm(8)
    alone = bn.forward(x)[0]
    with_others = bn.forward(np.vstack([x, rng.standard_normal((4, 8)) * 10]))[0]
    assert np.abs(alone - with_others).max() > 0.1


class Zero(Sequential):
    def forward(self, x):
        return np.zeros_like(x)

    def backward(self, dy):
        return np.zeros_like(dy)


@given(seeds, st.integers(1, 6), st.integers(1, 9))
@settings(max_examples=30, deadline=None)
def test_residual_with_zero_block_is_identity(seed, n, d):
    x = np.random.default_rng(seed).standard_normal((n, d))
    res = Residual(Zero())
    np.testing.assert_array_equal(res.forward(x), x)
    dy = np.random.default_rng(seed + 1).standard_normal((n, d))
    np.testing.assert_array_equal(res.backward(dy), dy)


def test_residual_with_tiny_block_weights_is_nearly_identity():
    x = np.random.default_rng(0).standard_normal((5, 16))
    for gain, tol in [(1e-2, 1e-1), (1e-4, 1e-3)]:
        res = Residual(Sequential(Linear(16, 16, gain=gain, rng=1), Tanh()))
        rel = np.linalg.norm(res.forward(x) - x) / np.linalg.norm(x)
        assert rel < tol
