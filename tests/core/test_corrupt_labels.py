"""Label corruption (Zhang et al., 2017): a fraction of the training labels replaced by random ones."""

import numpy as np
import pytest

from deeptricks.core import corrupt_labels, make_dataset


@pytest.fixture(scope="module")
def data():
    return make_dataset("moons", n_train=400, seed=3)


def changed(a, b):
    return np.flatnonzero(a.y_train != b.y_train)


def test_none_and_all(data):
    assert np.array_equal(corrupt_labels(data, 0.0).y_train, data.y_train)
    full = corrupt_labels(data, 1.0, seed=1)
    # every label is redrawn at random: about half keep their true class by chance
    assert 0.4 < np.mean(full.y_train == data.y_train) < 0.6
    assert set(np.unique(full.y_train)) == {0, 1}


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_a_fraction_redraws_that_many_labels_and_keeps_the_rest(data, fraction):
    out = corrupt_labels(data, fraction, seed=2)
    n_redrawn = round(fraction * 400)
    # a redrawn label differs from the true one half the time
    assert abs(len(changed(data, out)) - n_redrawn / 2) < 4 * np.sqrt(n_redrawn / 4) + 1
    assert out.X_train is data.X_train and out.X_test is data.X_test
    assert np.array_equal(out.y_test, data.y_test)                 # the test labels stay true


def test_a_larger_fraction_corrupts_the_same_points_and_more(data):
    small, large = corrupt_labels(data, 0.2, seed=5), corrupt_labels(data, 0.6, seed=5)
    assert set(changed(data, small)) <= set(changed(data, large))
    assert np.array_equal(corrupt_labels(data, 0.2, seed=5).y_train, small.y_train)     # seeded
    assert not np.array_equal(corrupt_labels(data, 0.6, seed=6).y_train, large.y_train)
