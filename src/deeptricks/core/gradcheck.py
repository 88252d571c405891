"""Finite-difference gradient checking: does ``backward`` match the calculus?

For a scalar ``f(θ)`` the central difference::

    ∂f/∂θ_k ≈ (f(θ + h e_k) - f(θ - h e_k)) / 2h        error O(h²)

is compared with the analytic gradient by the relative error
``‖a - n‖ / max(‖a‖ + ‖n‖, floor)``. In float64 with ``h = 1e-6`` a correct
backward pass typically gives ~1e-9; a wrong one gives ~1. The floor (1e-2)
keeps a gradient that is truly zero (a bias just before batch norm, whose
shift the normalization removes) from turning rounding noise of ~1e-10 into a
"100% error".

To test a layer we use the scalar ``f = Σ y ⊙ r`` for a fixed random ``r``,
whose gradient with respect to ``y`` is simply ``r``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .module import Layer, as_batch, check_int, check_layer_arg, check_number


def numerical_gradient(f: Callable[[], float], a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of ``f()`` with respect to every entry of ``a`` (changed in place, restored)."""
    h = check_number(h, "h (finite-difference step)", low=0.0, low_open=True)
    grad = np.zeros_like(a, dtype=np.float64)
    it = np.nditer(a, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = a[i]
        a[i] = old + h
        fp = f()
        a[i] = old - h
        fm = f()
        a[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def rel_error(a: np.ndarray, n: np.ndarray, floor: float = 1e-2) -> float:
    floor = check_number(floor, "floor", low=0.0, low_open=True)
    if np.shape(a) != np.shape(n):
        raise ValueError(f"a and n must have the same shape; got {np.shape(a)} and {np.shape(n)}")
    num = np.linalg.norm(np.asarray(a, np.float64) - n)
    den = max(np.linalg.norm(a) + np.linalg.norm(n), floor)
    return float(num / den)


def check_layer(layer: Layer, x: np.ndarray, *, seed: int = 0, h: float = 1e-6,
                before_forward: Callable[[], None] | None = None) -> dict[str, float]:
    """Relative errors of ``backward`` for the input (``"x"``) and every parameter of every sub-layer.

    ``before_forward`` runs before each forward pass: use it to reset random
    state (e.g. a dropout generator) so that every evaluation sees the same mask.
    """
    check_layer_arg(layer, "layer")
    x = np.array(as_batch(x, "x"), dtype=np.float64)
    check_int(seed, "seed", low=0)
    h = check_number(h, "h (finite-difference step)", low=0.0, low_open=True)
    prep = before_forward or (lambda: None)
    prep()
    y = layer.forward(x)
    r = np.random.default_rng(seed).standard_normal(y.shape)

    def f() -> float:
        prep()
        return float(np.sum(layer.forward(x) * r))

    prep()
    layer.forward(x)
    dx = layer.backward(r)
    analytic = {"x": dx}
    for k, mod in enumerate(layer.modules()):
        for name in mod.params:
            analytic[f"{k}.{type(mod).__name__}.{name}"] = mod.grads[name].copy()
    errors = {"x": rel_error(dx, numerical_gradient(f, x, h))}
    for k, mod in enumerate(layer.modules()):
        for name, p in mod.params.items():
            key = f"{k}.{type(mod).__name__}.{name}"
            errors[key] = rel_error(analytic[key], numerical_gradient(f, p, h))
    return errors
