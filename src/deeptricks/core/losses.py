"""Losses: a scalar from predictions and targets, and its gradient.

Softmax cross-entropy over ``C`` classes for logits ``z`` (batch ``N``)::

    p_ic = exp(z_ic - max_c z_ic) / Σ_c exp(z_ic - max_c z_ic)     (stable softmax)
    L    = -(1/N) Σ_i log p_{i, y_i}
    dL/dz = (p - onehot(y)) / N

Mean squared error, as ``torch.nn.MSELoss``::

    L = (1/(N·K)) Σ (ŷ - y)²,      dL/dŷ = 2 (ŷ - y) / (N·K)
"""

from __future__ import annotations

import numpy as np

from .module import CallOrderError, as_batch, as_numbers


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a ``(batch, classes)`` array of logits."""
    z = as_batch(z, "z")
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _labels(y, n: int, classes: int) -> np.ndarray:
    try:
        y = np.asarray(y)
    except (ValueError, TypeError):
        y = np.asarray(None)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be an integer array of shape ({n},); got {y.dtype} {y.shape}")
    if n and (y.min() < 0 or y.max() >= classes):
        raise ValueError(f"labels must lie in [0, {classes - 1}]; got values from {y.min()} to {y.max()}")
    return y


class SoftmaxCrossEntropy:
    """Mean cross-entropy of integer labels under the softmax of the logits."""

    _p = None

    def forward(self, logits, labels) -> float:
        z = as_batch(logits, "logits")
        y = _labels(labels, z.shape[0], z.shape[1])
        shifted = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        log_p = shifted[np.arange(len(y)), y] - log_norm
        self._p = np.exp(shifted - log_norm[:, None])
        self._y = y
        return float(-log_p.mean())

    def backward(self) -> np.ndarray:
        if self._p is None:
            raise CallOrderError("SoftmaxCrossEntropy.backward called before forward")
        g = self._p.copy()
        g[np.arange(len(self._y)), self._y] -= 1
        return g / len(self._y)

    __call__ = forward


class MSELoss:
    """Mean of the squared differences over every element."""

    _diff = None

    def forward(self, pred, target) -> float:
        p = as_batch(pred, "pred")
        t = as_numbers(target, "target").astype(p.dtype, copy=False)
        if t.ndim == 1 and p.shape[1] == 1:
            t = t[:, None]
        if t.shape != p.shape:
            raise ValueError(f"target must have the prediction's shape {p.shape}; got {t.shape}")
        self._diff = p - t
        return float(np.mean(self._diff ** 2))

    def backward(self) -> np.ndarray:
        if self._diff is None:
            raise CallOrderError("MSELoss.backward called before forward")
        return 2 * self._diff / self._diff.size

    __call__ = forward


def accuracy(logits, labels) -> float:
    """Fraction of examples whose largest logit is the true class."""
    z = as_batch(logits, "logits")
    y = _labels(labels, z.shape[0], z.shape[1])
    return float(np.mean(np.argmax(z, axis=1) == y))
