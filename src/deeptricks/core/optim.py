"""Optimizers: update every parameter in place from the gradients of the last backward.

For a parameter ``θ`` with gradient ``g``::

    SGD        θ ← θ - lr · g
    momentum   v ← μ v + g;      θ ← θ - lr · v                 (PyTorch's form)
    Adam       m ← β₁ m + (1-β₁) g;   s ← β₂ s + (1-β₂) g²
               θ ← θ - lr · m̂ / (√ŝ + ε),  m̂ = m/(1-β₁ᵗ), ŝ = s/(1-β₂ᵗ)
"""

from __future__ import annotations

import numpy as np

from .module import Layer, check_layer_arg, check_number

OPTIMIZERS = ("sgd", "momentum", "adam")


class Optimizer:
    def __init__(self, model: Layer, lr: float):
        self.model = check_layer_arg(model, "model")
        self.lr = check_number(lr, "lr (learning rate)", low=0.0, low_open=True)
        self.state: dict = {}
        self.t = 0

    def parameters(self):
        """``(key, param, grad)`` for every parameter that has a gradient."""
        for layer in self.model.modules():
            for name, p in layer.params.items():
                g = layer.grads.get(name)
                if g is not None:
                    yield (id(layer), name), p, g

    def step(self) -> None:
        self.t += 1
        for key, p, g in self.parameters():
            self.update(key, p, g)

    def update(self, key, p, g) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain or momentum SGD."""

    def __init__(self, model: Layer, lr: float = 0.1, momentum: float = 0.0):
        super().__init__(model, lr)
        self.momentum = check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)

    def update(self, key, p, g):
        if self.momentum:
            v = self.state.get(key)
            v = g.copy() if v is None else self.momentum * v + g
            self.state[key] = v
            g = v
        p -= self.lr * g


class Adam(Optimizer):
    def __init__(self, model: Layer, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(model, lr)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (beta1, beta2) of numbers in [0.0, 1.0); got {betas!r}") from None
        self.b1 = check_number(b1, "beta1", low=0.0, high=1.0, high_open=True)
        self.b2 = check_number(b2, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = check_number(eps, "eps", low=0.0, low_open=True)

    def update(self, key, p, g):
        m, s = self.state.get(key) or (np.zeros_like(p), np.zeros_like(p))
        m *= self.b1
        m += (1 - self.b1) * g
        s *= self.b2
        s += (1 - self.b2) * g * g
        self.state[key] = (m, s)
        m_hat = m / (1 - self.b1 ** self.t)
        s_hat = s / (1 - self.b2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)


def make_optimizer(name: str, model: Layer, lr: float) -> Optimizer:
    """``"sgd"``, ``"momentum"`` (μ = 0.9) or ``"adam"``."""
    if name == "sgd":
        return SGD(model, lr)
    if name == "momentum":
        return SGD(model, lr, momentum=0.9)
    if name == "adam":
        return Adam(model, lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}")
