"""The batch-norm explorable's claims, checked on the data its plots show."""

import dataclasses

import numpy as np
import pytest

from deeptricks.core import BatchNorm, build_net
from deeptricks.explorables.batch_norm_model import BATCH, N_DRAWS, N_FEATURES, BatchNormModel, running_stats
from deeptricks.explorables.layer_stats import ZERO_SHARE, summarize


@pytest.fixture(scope="module")
def model():
    return BatchNormModel()


def test_batchnorm_keeps_every_layer_standard_while_the_plain_net_drifts(model):
    v = model.compute(50, gain=1.5, act="relu", bn=True)
    assert v.right.kind == "train"
    np.testing.assert_allclose(v.right.std, 1.0, atol=0.01)
    np.testing.assert_allclose(v.right.spread, 1.0, atol=0.01)
    assert v.left.std[-1] > 1e6 * v.left.std[0]           # orders of magnitude of drift
    assert np.all(np.diff(np.log(v.left.std[5:])) > 0)     # and it grows layer after layer
    assert not any(v.right.alerts)
    assert v.left.alerts[-1] and v.left.notes[-1].endswith("% off")


def test_sigmoid_stack_collapses_without_batchnorm(model):
    v = model.compute(60, gain=1.5, act="sigmoid", bn=True)
    last = model.plain.summary[59]
    assert last.collapsed
    assert last.spread < 1e-5 * last.size
    assert v.left.notes[-1].startswith("collapsed")
    assert v.left.spread[-1] < 1e-5 < v.left.spread[0]
    np.testing.assert_allclose(v.right.spread, 1.0, atol=0.01)


def test_switch_off_makes_the_right_column_the_plain_net(model):
    on = model.compute(12, gain=1.5, act="relu", bn=True)
    off = model.compute(12, gain=1.5, act="relu", bn=False)
    assert off.right.kind == "plain"
    np.testing.assert_array_equal(off.right.std, off.left.std)
    assert not np.allclose(on.right.std, off.right.std)


def test_same_weights_and_input_as_the_engine_nets(model):
    depth = 5
    model.compute(depth, gain=1.5, act="tanh")
    for norm, p in (("none", model.plain), ("batch", model.train)):
        net = build_net(depth=depth, norm=norm, gain=1.5, activation="tanh", seed=0, dtype=np.float32)
        net.forward(model.x)
        ref = net.block_inputs() if norm == "none" else [n.xhat for n in net.norms]
        for k in range(depth):
            np.testing.assert_allclose(p.shown[k], ref[k], rtol=2e-4, atol=2e-5)


def test_extending_the_depth_matches_a_fresh_computation():
    a = BatchNormModel()
    a.compute(4, gain=2.0, act="relu")
    grown = a.compute(9, gain=2.0, act="relu", mode="eval", warmup=7)
    fresh = BatchNormModel().compute(9, gain=2.0, act="relu", mode="eval", warmup=7)
    # equal up to float32 rounding: numpy's vectorised sums may group terms differently for
    # arrays at different addresses (seen on one CPU, not another); a caching bug is far larger
    for got, want in ((grown.left.std, fresh.left.std), (grown.right.std, fresh.right.std),
                      (grown.modes.std_train, fresh.modes.std_train)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


def test_histograms_count_every_value(model):
    for x_axis in ("shared", "fit"):
        v = model.compute(10, gain=1.5, act="relu", x_axis=x_axis)
        for col, p in ((v.left, model.plain), (v.right, model.train)):
            for i, (counts, edges) in enumerate(col.hists):
                assert edges.size == counts.size + 1 and (counts >= 0).all()
                outside = round(col.off_chart[i] * BATCH * model.width)
                s = p.summary[i]
                dropped = s.zeros if s.zeros >= ZERO_SHARE * s.n else 0
                assert counts.sum() + outside + dropped == BATCH * model.width
        if x_axis == "fit":
            assert not v.left.off_chart.any()
    # ReLU outputs are about half exact zeros: left out of the bars and named in the row's label
    assert v.left.labels[0] == "layer 1"
    assert v.left.labels[3].startswith("layer 4 · ") and v.left.labels[3].endswith("% zeros")
    assert 40 <= int(v.left.labels[3].split("· ")[1].split("%")[0]) <= 60


def test_log_axis_covers_every_value_of_both_columns(model):
    v = model.compute(30, gain=2.0, act="relu", x_axis="log", layers=[0, 14, 29])
    edges = {tuple(h[1][[0, -1]]) for col in (v.left, v.right) for h in col.hists if h is not None}
    assert len(edges) == 1                                  # one range for both columns
    lo, hi = edges.pop()
    assert lo < 0 < 2 < hi                                  # BN's negatives and the plain net's 1e2+ values
    assert not v.left.off_chart.any() and not v.right.off_chart.any()
    with pytest.raises(ValueError):
        model.column("plain", 3, x_axis="sideways")


# -- a batch of one, and small batches ---------------------------------------------------

def test_batch_of_one_in_training_mode_is_explained_not_raised(model):
    one = model.one_example(1, "train")
    assert one.undefined
    assert "at least 2 examples" in one.reason
    assert one.values.shape == (0, N_FEATURES)
    ev = model.one_example(1, "eval", warmup=100)
    assert not ev.undefined and ev.values.shape == (N_DRAWS, N_FEATURES)


def test_one_examples_spread_shrinks_as_the_batch_grows(model):
    sizes, spreads = model.spread_curve((2, 8, 32, 128, 512))
    assert np.all(np.diff(spreads) < 0), spreads
    assert spreads[-1] < 0.25 * model.one_example(4).spread
    # a batch of two normalizes every feature to -1 or +1 (a little less when the two are close: ε)
    two = np.abs(model.one_example(2).values)
    assert two.max() <= 1.0 + 1e-6 and np.median(two) > 0.999
    # the big-batch values sit near the value with the whole pool's statistics
    big = model.one_example(512)
    assert np.abs(big.values.mean(axis=0) - big.reference).max() < 0.1


def test_eval_mode_output_does_not_depend_on_the_batch(model):
    a = model.one_example(3, "eval", warmup=200)
    b = model.one_example(500, "eval", warmup=200)
    assert a.spread == 0.0
    np.testing.assert_array_equal(a.values, b.values)


# -- training vs eval mode --------------------------------------------------------------

def test_eval_without_warmup_does_not_normalize_and_with_200_batches_agrees(model):
    cold = model.modes(10, warmup=0)
    np.testing.assert_allclose(cold.std_train, 1.0, atol=0.01)
    assert cold.std_eval[-1] > 10 * cold.std_train[-1]
    # with no updates the running statistics are still mean 0, variance 1
    np.testing.assert_allclose(cold.running_mean, 0.0)
    np.testing.assert_allclose(cold.running_var, 1.0)
    warm = model.modes(10, warmup=200)
    np.testing.assert_allclose(warm.std_eval, warm.std_train, atol=0.02)
    np.testing.assert_allclose(warm.running_mean, warm.batch_mean, rtol=1e-6, atol=1e-9)
    some = model.modes(10, warmup=5)
    assert 1.5 < some.std_eval[-1] < cold.std_eval[-1]


def test_closed_form_running_statistics_match_the_engine():
    rng = np.random.default_rng(3)
    x = (2.0 + 3.0 * rng.standard_normal((64, 5))).astype(np.float64)
    for n in (0, 1, 7, 60):
        bn = BatchNorm(5, momentum=0.1)
        for _ in range(n):
            bn.forward(x)
        mean, var = x.mean(axis=0), x.var(axis=0)
        rm, rv = running_stats(mean, var, 64, n)
        np.testing.assert_allclose(rm, bn.running_mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(rv, bn.running_var, rtol=1e-12)


# -- extremes: nothing non-finite reaches the views --------------------------------------

def _all_finite(obj, where="views"):
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            _all_finite(getattr(obj, f.name), f"{where}.{f.name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _all_finite(item, f"{where}[{i}]")
    elif isinstance(obj, np.ndarray) and obj.dtype.kind == "f":
        assert np.isfinite(obj).all(), where
    elif isinstance(obj, float):
        assert np.isfinite(obj), where


@pytest.mark.parametrize("kwargs", [
    dict(depth=60, gain=3.0, act="relu"),
    dict(depth=60, gain=3.0, act="relu", x_axis="log"),
    dict(depth=60, gain=0.25, act="sigmoid", x_axis="log", bn=False),
    dict(depth=60, gain=3.0, act="relu", mode="eval", warmup=0, x_axis="fit"),
    dict(depth=60, gain=1.5, act="sigmoid", x_axis="fit"),
    dict(depth=60, gain=0.25, act="relu", x_axis="fit"),
    dict(depth=60, gain=0.25, act="tanh", mode="eval", warmup=3),
    dict(depth=1, gain=1.5, act="relu", batch=1),
    dict(depth=30, gain=3.0, act="sigmoid", batch=1, mode="eval", bn=False),
])
def test_no_nonfinite_view_data_at_extremes(model, kwargs):
    _all_finite(model.compute(**kwargs))


def test_summaries_survive_overflow_and_collapse():
    a = np.ones((8, 4), np.float32)
    s = summarize(a)
    assert s.collapsed and s.spread == 0.0
    b = np.arange(32, dtype=np.float32).reshape(8, 4) * np.float32(1e30)
    b[0, 0] = np.inf
    b[1, 1] = np.nan
    s = summarize(b)
    assert s.n_bad == 2 and np.isfinite([s.mean, s.std, s.spread, s.size, s.lo, s.hi]).all()
    assert s.note("shared")[0].startswith("overflow")
    s = summarize(np.full((4, 4), np.nan, np.float32))
    assert s.n_bad == 16 and s.note("fit")[1]


def test_symlog_matches_the_exact_formula_to_float32_rounding():
    from deeptricks.explorables.layer_stats import symlog

    x = np.concatenate([[0.0, 9.0, -99.0, 1e-9, -1e-30, 3e38], np.geomspace(1e-6, 1e6, 200)]).astype(np.float32)
    x = np.concatenate([x, -x])
    got = symlog(x.copy())
    want = np.sign(x.astype(np.float64)) * np.log1p(np.abs(x.astype(np.float64))) / np.log(10.0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert got[0] == 0 and got.dtype == np.float32
    assert abs(got[1] - 1.0) < 1e-6 and abs(got[2] + 2.0) < 1e-6
