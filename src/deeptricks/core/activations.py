"""Elementwise nonlinearities and their derivatives.

=========  ======================  ==========================
name       f(x)                    f'(x)
=========  ======================  ==========================
ReLU       max(x, 0)               1 if x > 0 else 0
Tanh       tanh(x)                 1 - tanh(x)²
Sigmoid    1 / (1 + e^(-x))        σ(x) (1 - σ(x))   (at most 1/4)
=========  ======================  ==========================

The sigmoid's derivative never exceeds 1/4, so a deep sigmoid stack
multiplies the gradient by at most 1/4 per layer: the vanishing gradient.
"""

from __future__ import annotations

import numpy as np

from .module import Layer, as_batch, as_grad


class ReLU(Layer):
    _y = None
    _cache = ("_y",)

    def forward(self, x):
        self._y = np.maximum(as_batch(x), 0)
        return self._y

    def backward(self, dy):
        dy = as_grad(dy, None if self._y is None else self._y.shape, "ReLU")
        return dy * (self._y > 0)


class Tanh(Layer):
    _y = None
    _cache = ("_y",)

    def forward(self, x):
        self._y = np.tanh(as_batch(x))
        return self._y

    def backward(self, dy):
        dy = as_grad(dy, None if self._y is None else self._y.shape, "Tanh")
        return dy * (1 - self._y * self._y)


class Sigmoid(Layer):
    _y = None
    _cache = ("_y",)

    def forward(self, x):
        x = as_batch(x)
        # σ(x) = ½(1 + tanh(x/2)): stable for large |x| and exact in float32.
        self._y = 0.5 * (1 + np.tanh(0.5 * x))
        return self._y

    def backward(self, dy):
        dy = as_grad(dy, None if self._y is None else self._y.shape, "Sigmoid")
        return dy * self._y * (1 - self._y)


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def activation(name: str) -> Layer:
    """Build an activation layer by name: ``"relu"``, ``"tanh"`` or ``"sigmoid"``."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}; got {name!r}") from None
