"""Batch normalization (Ioffe & Szegedy, 2015), with ``torch.nn.BatchNorm1d``'s conventions.

Training, over a batch of ``N`` examples, for every feature ``j``::

    μ_j  = (1/N) Σ_i x_ij                    batch mean
    σ²_j = (1/N) Σ_i (x_ij - μ_j)²           biased batch variance
    x̂_ij = (x_ij - μ_j) / √(σ²_j + ε)        per feature: mean 0, variance ≈ 1
    y_ij = γ_j x̂_ij + β_j                    learned rescale and shift

and the running statistics move towards the batch's::

    running_mean ← (1 - momentum) · running_mean + momentum · μ
    running_var  ← (1 - momentum) · running_var  + momentum · σ² · N/(N-1)   (unbiased)

(``momentum=None`` keeps a plain cumulative average instead.) Eval mode
normalizes with ``running_mean`` and ``running_var``, so an example's output
no longer depends on the rest of its batch.

Backward in training: every ``x_ij`` also moves ``μ_j`` and ``σ²_j``, which gives::

    dx̂ = dy · γ
    dx  = (1/N) / √(σ² + ε) · (N dx̂ - Σ_i dx̂ - x̂ Σ_i (dx̂ · x̂))
    dγ  = Σ_i dy · x̂,   dβ = Σ_i dy
"""

from __future__ import annotations

import numpy as np

from .module import (Layer, as_batch, as_grad, check_bool, check_features, check_float_dtype, check_int,
                     check_number)

ONE_EXAMPLE = (
    "BatchNorm needs at least 2 examples per batch in training mode: with a single example "
    "the batch mean is the example itself and the batch variance is 0, so there are no batch "
    "statistics to normalize with (every output would be β). Use a larger batch, switch the "
    "layer to eval() to use its running statistics, or use LayerNorm, which normalizes each "
    "example on its own."
)


class BatchNorm(Layer):
    """Normalize each feature over the batch; learn ``gamma`` (scale) and ``beta`` (shift)."""

    _cache = ("xhat", "_inv_std")

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, dtype=np.float64):
        super().__init__()
        self.num_features = check_int(num_features, "num_features")
        self.eps = check_number(eps, "eps", low=0.0, low_open=True)
        self.momentum = None if momentum is None else check_number(momentum, "momentum", low=0.0, high=1.0)
        self.affine = check_bool(affine, "affine")
        dtype = check_float_dtype(dtype)
        if self.affine:
            self.params["gamma"] = np.ones(self.num_features, dtype=dtype)
            self.params["beta"] = np.zeros(self.num_features, dtype=dtype)
        self.reset_running_stats()
        self.batch_mean = self.batch_var = None
        self.xhat = self._inv_std = None

    def reset_running_stats(self) -> None:
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0

    def forward(self, x):
        x = as_batch(x)
        check_features(x, self.num_features, "BatchNorm")
        dt = x.dtype.type
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(ONE_EXAMPLE)
            mean = x.mean(axis=0)
            xc = x - mean
            var = np.einsum("ij,ij->j", xc, xc) / dt(n)
            self._update_running(mean, var, n)
            self.batch_mean, self.batch_var = mean, var
        else:
            mean = self.running_mean.astype(x.dtype)
            var = self.running_var.astype(x.dtype)
            xc = x - mean
        inv_std = 1.0 / np.sqrt(var + dt(self.eps))
        self._inv_std = inv_std
        self.xhat = xc * inv_std
        if not self.affine:
            return self.xhat
        g = self.params["gamma"].astype(x.dtype, copy=False)
        b = self.params["beta"].astype(x.dtype, copy=False)
        return self.xhat * g + b

    def _update_running(self, mean, var, n):
        self.num_batches_tracked += 1
        m = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked
        unbiased = var.astype(np.float64) * (n / (n - 1))
        self.running_mean = (1 - m) * self.running_mean + m * mean.astype(np.float64)
        self.running_var = (1 - m) * self.running_var + m * unbiased

    def backward(self, dy):
        xhat, inv_std = self.xhat, self._inv_std
        dy = as_grad(dy, None if xhat is None else xhat.shape, "BatchNorm")
        dgamma = np.einsum("ij,ij->j", dy, xhat)       # Σ_i dy · x̂
        dbeta = dy.sum(axis=0)                          # Σ_i dy
        scale = inv_std
        if self.affine:
            gamma = self.params["gamma"]
            self.grads["gamma"] = dgamma.astype(gamma.dtype, copy=False)
            self.grads["beta"] = dbeta.astype(gamma.dtype, copy=False)
            scale = inv_std * gamma.astype(dy.dtype, copy=False)
        if not self.training:
            return dy * scale
        # With dx̂ = γ dy: Σ_i dx̂ = γ dβ and Σ_i dx̂ x̂ = γ dγ, so
        # dx = γ / (N √(σ² + ε)) · (N dy - dβ - x̂ dγ)
        n = dy.shape[0]
        dx = dy * dy.dtype.type(n)
        dx -= dbeta
        dx -= xhat * dgamma
        dx *= scale / dy.dtype.type(n)
        return dx

    def __repr__(self):
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, affine={self.affine})"
