"""Layer normalization (Ba, Kiros & Hinton, 2016).

Each example is normalized over its own ``D`` features, never over the batch::

    μ_i  = (1/D) Σ_j x_ij
    σ²_i = (1/D) Σ_j (x_ij - μ_i)²
    x̂_ij = (x_ij - μ_i) / √(σ²_i + ε)
    y_ij = γ_j x̂_ij + β_j

Because nothing is averaged across examples, training and eval mode are the
same computation and a batch of one works. Backward is batch norm's formula
with the roles of the axes swapped::

    dx̂ = dy · γ
    dx  = (1/D) / √(σ² + ε) · (D dx̂ - Σ_j dx̂ - x̂ Σ_j (dx̂ · x̂))
"""

from __future__ import annotations

import numpy as np

from .module import (Layer, as_batch, as_grad, check_bool, check_features, check_float_dtype, check_int,
                     check_number)


class LayerNorm(Layer):
    """Normalize each example over its features; learn ``gamma`` and ``beta`` per feature."""

    _cache = ("xhat", "_inv_std")

    def __init__(self, num_features: int, *, eps: float = 1e-5, affine: bool = True, dtype=np.float64):
        super().__init__()
        self.num_features = check_int(num_features, "num_features")
        self.eps = check_number(eps, "eps", low=0.0, low_open=True)
        self.affine = check_bool(affine, "affine")
        dtype = check_float_dtype(dtype)
        if self.affine:
            self.params["gamma"] = np.ones(self.num_features, dtype=dtype)
            self.params["beta"] = np.zeros(self.num_features, dtype=dtype)
        self.xhat = self._inv_std = None

    def forward(self, x):
        x = as_batch(x)
        check_features(x, self.num_features, "LayerNorm")
        dt = x.dtype.type
        d = x.shape[1]
        mean = x.mean(axis=1, keepdims=True)
        xc = x - mean
        var = np.einsum("ij,ij->i", xc, xc)[:, None] / dt(d)
        self._inv_std = 1.0 / np.sqrt(var + dt(self.eps))
        self.xhat = xc * self._inv_std
        if not self.affine:
            return self.xhat
        g = self.params["gamma"].astype(x.dtype, copy=False)
        b = self.params["beta"].astype(x.dtype, copy=False)
        return self.xhat * g + b

    def backward(self, dy):
        xhat, inv_std = self.xhat, self._inv_std
        dy = as_grad(dy, None if xhat is None else xhat.shape, "LayerNorm")
        if self.affine:
            gamma = self.params["gamma"]
            self.grads["gamma"] = np.einsum("ij,ij->j", dy, xhat).astype(gamma.dtype, copy=False)
            self.grads["beta"] = dy.sum(axis=0).astype(gamma.dtype, copy=False)
            dxhat = dy * gamma.astype(dy.dtype, copy=False)
        else:
            dxhat = dy
        d = dy.shape[1]
        sum_dxhat = dxhat.sum(axis=1, keepdims=True)
        sum_dxhat_xhat = np.einsum("ij,ij->i", dxhat, xhat)[:, None]
        dx = dxhat * dy.dtype.type(d)
        dx -= sum_dxhat
        dx -= xhat * sum_dxhat_xhat
        dx *= inv_std / dy.dtype.type(d)
        return dx

    def __repr__(self):
        return f"LayerNorm({self.num_features}, affine={self.affine})"
