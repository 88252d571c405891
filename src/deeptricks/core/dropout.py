"""Inverted dropout (Srivastava et al., 2014).

Training, with drop probability ``p``::

    m ~ Bernoulli(1 - p)          one keep/drop draw per unit, fresh every forward
    y = x · m / (1 - p)           survivors are scaled up by 1 / (1 - p)

so that ``E[y] = x``: on average a unit delivers the same signal it does at
test time, when dropout is the identity (``y = x``). Backward uses the same
mask: ``dL/dx = dL/dy · m / (1 - p)``.

With ``scale=False`` the survivors are not scaled, so ``E[y] = (1 - p) x`` in
training while test time still gives ``x``: the deployment bug of forgetting
the scaling.
"""

from __future__ import annotations

import numpy as np

from .module import Layer, as_batch, as_grad, check_bool, check_number, make_rng


def check_p(p) -> float:
    """A drop probability must be a real number with ``0 <= p < 1``."""
    return check_number(p, "p (dropout rate)", low=0.0, high=1.0, high_open=True)


class Dropout(Layer):
    """Zero each unit with probability ``p`` in training; identity in eval mode.

    ``mask`` holds the boolean keep-mask of the last training forward pass
    (``True`` = kept). The draw: 32 random bits ``u`` per unit, kept when
    ``u >= round(p · 2³²)``, which is Bernoulli(1 - p) to within 2⁻³² and twice
    as fast as drawing floats. Call :meth:`freeze` with noise from
    :meth:`draw_noise` to reuse the same bits on every forward: raising ``p``
    then only ever switches more units off.
    """

    _cache = ("mask", "_shape")

    def __init__(self, p: float = 0.5, *, scale: bool = True, rng=None):
        super().__init__()
        self.p = check_p(p)
        self.scale = check_bool(scale, "scale")
        self.rng = make_rng(rng)
        self.mask: np.ndarray | None = None
        self._shape = None
        self.noise: np.ndarray | None = None

    def set_p(self, p: float) -> None:
        self.p = check_p(p)

    def draw_noise(self, shape) -> np.ndarray:
        """Uniform random ``uint32`` values of the given shape."""
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ValueError(f"shape must be a tuple of integers >= 0; got {shape!r}")
        n = int(np.prod(shape))
        raw = self.rng.bit_generator.random_raw((n + 1) // 2)
        return raw.view(np.uint32)[:n].reshape(shape)

    def freeze(self, noise: np.ndarray | None) -> None:
        """Reuse ``noise`` (``uint32``, from :meth:`draw_noise`) on every forward; ``None`` draws afresh."""
        if noise is not None:
            noise = np.asarray(noise)
            if noise.dtype != np.uint32:
                raise ValueError(f"frozen noise must be uint32 (see draw_noise); got {noise.dtype}")
        self.noise = noise

    def draw_mask(self, shape) -> np.ndarray:
        """Keep-mask: ``True`` with probability ``1 - p``."""
        if self.noise is not None:
            if self.noise.shape != tuple(shape):
                raise ValueError(f"frozen noise has shape {self.noise.shape}; input has shape {tuple(shape)}")
            u = self.noise
        else:
            u = self.draw_noise(shape)
        return u >= np.uint32(min(round(self.p * 2**32), 2**32 - 1))

    @property
    def multiplier(self) -> float:
        """What a surviving unit is multiplied by in training."""
        return 1.0 / (1.0 - self.p) if self.scale else 1.0

    def forward(self, x):
        x = as_batch(x)
        self._shape = x.shape
        if not self.training or self.p == 0.0:
            self.mask = None
            return x
        self.mask = self.draw_mask(x.shape)
        y = x * self.mask
        if self.scale:
            y *= x.dtype.type(self.multiplier)
        return y

    def backward(self, dy):
        dy = as_grad(dy, self._shape, "Dropout")
        if self.mask is None:
            return dy
        dx = dy * self.mask
        if self.scale:
            dx *= dx.dtype.type(self.multiplier)
        return dx

    def __repr__(self):
        return f"Dropout(p={self.p:g}, scale={self.scale})"
