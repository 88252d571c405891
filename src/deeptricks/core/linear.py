"""Fully connected layer: ``y = x @ W + b``.

Backward, with ``dy = dL/dy`` of shape ``(batch, out)``::

    dL/dW = xᵀ · dy          (in, out)
    dL/db = Σ_batch dy       (out,)
    dL/dx = dy · Wᵀ          (batch, in)

Initialisation draws ``W ~ N(0, σ²)`` with

* ``"he"``      σ = gain · √(2 / fan_in)            (keeps ReLU activations' scale)
* ``"xavier"``  σ = gain · √(2 / (fan_in + fan_out)) (keeps tanh activations' scale)
* ``"normal"``  σ = gain · 0.01                      (the small fixed scale of early nets)

and ``b = 0``. The gain multiplier lets the explainers push a deep stack
towards exploding (gain > 1) or vanishing (gain < 1) activations.
"""

from __future__ import annotations

import numpy as np

from .module import (Layer, as_batch, as_grad, check_bool, check_features, check_float_dtype, check_int,
                     check_number, make_rng)

INITS = ("he", "xavier", "normal")


def init_std(init: str, fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Standard deviation of the weights for an initialisation scheme."""
    if init == "he":
        return gain * np.sqrt(2.0 / fan_in)
    if init == "xavier":
        return gain * np.sqrt(2.0 / (fan_in + fan_out))
    if init == "normal":
        return gain * 0.01
    raise ValueError(f"init must be one of {INITS}; got {init!r}")


class Linear(Layer):
    """Affine map ``y = x @ W + b`` with ``W`` of shape ``(in_features, out_features)``."""

    _cache = ("_x",)

    def __init__(self, in_features: int, out_features: int, *, init: str = "he",
                 gain: float = 1.0, rng=None, bias: bool = True, dtype=np.float64):
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        self.gain = check_number(gain, "gain", low=0.0)
        self.init = init
        bias = check_bool(bias, "bias")
        dtype = check_float_dtype(dtype)
        std = init_std(init, self.in_features, self.out_features, self.gain)
        rng = make_rng(rng)
        self.params["W"] = (rng.standard_normal((self.in_features, self.out_features)) * std).astype(dtype)
        if bias:
            self.params["b"] = np.zeros(self.out_features, dtype=dtype)
        self._x = None

    def forward(self, x):
        x = as_batch(x)
        check_features(x, self.in_features, "Linear")
        self._x = x
        y = x @ self.params["W"].astype(x.dtype, copy=False)
        if "b" in self.params:
            y += self.params["b"].astype(x.dtype, copy=False)
        return y

    def backward(self, dy):
        x = self._x
        dy = as_grad(dy, None if x is None else (x.shape[0], self.out_features), "Linear")
        W = self.params["W"]
        self.grads["W"] = (x.T @ dy).astype(W.dtype, copy=False)
        if "b" in self.params:
            self.grads["b"] = dy.sum(axis=0).astype(W.dtype, copy=False)
        return dy @ W.T.astype(dy.dtype, copy=False)

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, init={self.init!r}, gain={self.gain:g})"
