"""The dropout explorable's claims, checked on the data its plots show."""

import numpy as np
import pytest

from deeptricks.explorables.dropout_model import ENS_MAX, DropoutModel


@pytest.fixture(scope="module")
def model():
    return DropoutModel()


def test_p_09_darkens_about_90_percent_and_survivors_glow(model):
    v0 = model.compute(0.0, layer=3)
    v = model.compute(0.9, layer=3)
    assert 0.88 < v.frac_dropped < 0.92
    assert 0.75 < v.grid_dropped.mean() < 1.0
    assert (v.grid[v.grid_dropped] == 0).all()
    # survivors of the chosen layer = its pre-dropout value / 0.1
    kept = ~v.grid_dropped & (v.grid > 0)
    layer_in = model.net.paths[2].outputs[1][0]            # ReLU output of layer 3, example 0
    np.testing.assert_allclose(v.grid[kept], layer_in[kept] / np.float32(0.1), rtol=1e-5)
    assert v.grid.max() > 5 * v0.grid.max()


def test_test_mode_shows_every_unit_and_ignores_p(model):
    a = model.compute(0.2, mode="test", layer=2)
    b = model.compute(0.8, mode="test", layer=2)
    assert not a.grid_dropped.any()
    np.testing.assert_array_equal(a.grid, b.grid)
    np.testing.assert_array_equal(a.layer_means["test"], b.layer_means["test"])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.7])
def test_scaled_training_average_matches_test_output(model, p):
    v = model.compute(p, scale=True, k=ENS_MAX)
    assert v.ratio == pytest.approx(1.0, abs=0.05)
    unscaled = model.compute(p, scale=False, k=ENS_MAX)
    assert unscaled.ratio == pytest.approx(1 - p, abs=0.05)
    assert unscaled.rel_error > v.rel_error


def test_ensemble_average_approaches_the_full_network(model):
    v = model.compute(0.5, scale=True)
    err = v.ensemble_err
    assert err[-1] < 0.25 * err[0]
    # roughly 1/sqrt(K): the error at K = 64 is near an eighth of K = 1
    assert err[-1] == pytest.approx(err[0] / 8, rel=0.5)


def test_raising_p_only_switches_more_units_off(model):
    model.resample(5)
    previous = None
    for p in np.linspace(0, 0.9, 10):
        dropped = model.compute(float(p), layer=1).grid_dropped
        if previous is not None:
            assert not (previous & ~dropped).any()
        previous = dropped


def test_resample_draws_a_new_mask(model):
    model.resample(1)
    a = model.compute(0.5).grid_dropped
    model.resample(2)
    b = model.compute(0.5).grid_dropped
    assert (a != b).any()


def test_histograms_keep_every_value(model):
    v = model.compute(0.9)
    for counts, edges, over, zeros in v.hist_train:
        assert counts.sum() + over + zeros == 512 * 256
        assert (counts >= 0).all()
        assert np.isfinite(counts).all()
