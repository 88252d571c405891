"""Seeded two-class toy datasets in the plane, split into train and test.

=========  ===============================================================
moons      two interleaved half circles
circles    a small circle inside a larger one
spirals    two arms winding around each other
xor        four quadrants; a point's class is the sign of x₁·x₂
blobs      two Gaussian clouds
noisy      a few, heavily overlapping points with 15% of labels flipped:
           a wide net memorises them, so dropout's effect on the
           train/test gap shows
=========  ===============================================================

``noise`` is the standard deviation of Gaussian jitter added to the points
(for ``noisy`` it is added to a base jitter). Train and test sets are drawn
independently from the same distribution; inputs are scaled to roughly
``[-1, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .module import check_float_dtype, check_int, check_number

DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "noisy")


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int = 2


def _halves(n):
    a = n // 2
    return a, n - a


def _moons(n, rng):
    a, b = _halves(n)
    t0, t1 = rng.uniform(0, np.pi, a), rng.uniform(0, np.pi, b)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    X = (X - [0.5, 0.25]) / 1.2
    return X, np.r_[np.zeros(a, int), np.ones(b, int)]


def _circles(n, rng):
    a, b = _halves(n)
    t0, t1 = rng.uniform(0, 2 * np.pi, a), rng.uniform(0, 2 * np.pi, b)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], 0.5 * np.c_[np.cos(t1), np.sin(t1)]])
    return X, np.r_[np.zeros(a, int), np.ones(b, int)]


def _spirals(n, rng):
    a, b = _halves(n)
    out = []
    for m, phase in ((a, 0.0), (b, np.pi)):
        r = np.sqrt(rng.uniform(0.02, 1, m))
        t = 3 * np.pi * r + phase
        out.append(np.c_[r * np.cos(t), r * np.sin(t)])
    return np.concatenate(out), np.r_[np.zeros(a, int), np.ones(b, int)]


def _xor(n, rng):
    X = rng.uniform(-1, 1, (n, 2))
    X += np.sign(X) * 0.05          # a small margin around the axes
    return X / 1.05, (X[:, 0] * X[:, 1] > 0).astype(int)


def _blobs(n, rng):
    a, b = _halves(n)
    X = np.concatenate([rng.normal([-0.5, -0.3], 0.25, (a, 2)), rng.normal([0.5, 0.3], 0.25, (b, 2))])
    return X, np.r_[np.zeros(a, int), np.ones(b, int)]


def _noisy(n, rng):
    X, y = _moons(n, rng)
    X = X + rng.normal(0, 0.25, X.shape)
    flip = rng.random(n) < 0.15
    return X, np.where(flip, 1 - y, y)


_MAKERS = {"moons": _moons, "circles": _circles, "spirals": _spirals, "xor": _xor,
           "blobs": _blobs, "noisy": _noisy}
DEFAULT_SIZES = {"noisy": (60, 500)}
MAX_POINTS = 1_000_000


def make_dataset(name: str = "moons", *, n_train: int | None = None, n_test: int | None = None,
                 noise: float = 0.1, seed: int = 0, dtype=np.float64) -> Dataset:
    """Draw a train and a test set of a toy problem. Same arguments, same data."""
    if not isinstance(name, str) or name not in _MAKERS:
        raise ValueError(f"dataset must be one of {DATASETS}; got {name!r}")
    dn_train, dn_test = DEFAULT_SIZES.get(name, (400, 400))
    n_train = check_int(dn_train if n_train is None else n_train, "n_train", low=2, high=MAX_POINTS)
    n_test = check_int(dn_test if n_test is None else n_test, "n_test", low=2, high=MAX_POINTS)
    noise = check_number(noise, "noise", low=0.0, high=2.0)
    check_int(seed, "seed", low=0)
    dtype = check_float_dtype(dtype)
    rng = np.random.default_rng([seed, DATASETS.index(name)])

    def draw(n):
        X, y = _MAKERS[name](n, rng)
        X = X + rng.normal(0, noise, X.shape)
        order = rng.permutation(n)
        return X[order].astype(dtype), y[order]

    Xtr, ytr = draw(n_train)
    Xte, yte = draw(n_test)
    return Dataset(name, Xtr, ytr, Xte, yte)


def corrupt_labels(data: Dataset, fraction: float, *, seed: int = 0) -> Dataset:
    """Replace a ``fraction`` of the training labels by random ones (Zhang et al., 2017).

    ``round(fraction · n_train)`` training points, chosen at random, get a label
    drawn uniformly from the classes (so about ``1/n_classes`` of them keep
    their true label by chance); at ``fraction = 1`` no training label says
    anything about its point. The test labels stay true. Seeded: the same
    fraction and seed corrupt the same points, and a larger fraction corrupts
    those points and more.
    """
    fraction = check_number(fraction, "fraction", low=0.0, high=1.0)
    check_int(seed, "seed", low=0)
    n = len(data.y_train)
    rng = np.random.default_rng([seed, 97])
    order = rng.permutation(n)                         # the first k of this order are corrupted
    random_labels = rng.integers(0, data.n_classes, n)
    k = int(round(fraction * n))
    y = data.y_train.copy()
    y[order[:k]] = random_labels[order[:k]]
    return Dataset(data.name, data.X_train, y, data.X_test, data.y_test, data.n_classes)
