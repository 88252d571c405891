"""The layer protocol every piece of the engine follows.

A layer maps a ``(batch, features)`` array ``x`` to ``y = f(x)``.

* ``forward(x)`` computes ``y`` and caches what the backward pass needs.
* ``backward(dy)`` takes ``dL/dy`` and returns ``dL/dx``, filling ``grads``
  with ``dL/dθ`` for every parameter ``θ`` in ``params``.
* ``train()`` / ``eval()`` switch the mode; ``training`` is ``True`` after
  construction, as in PyTorch.

The input's floating dtype is kept: float32 in, float32 out.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["CallOrderError", "Layer", "as_batch", "as_grad", "as_numbers", "check_bool", "check_features",
           "check_float_dtype", "check_int", "check_layer_arg", "check_number", "make_rng"]


class CallOrderError(RuntimeError, ValueError):
    """A method called out of order, e.g. ``backward`` before any ``forward``.

    Both a ``RuntimeError`` (it is about the call order) and a ``ValueError``
    (the argument cannot be used yet), so either ``except`` catches it.
    """


class Layer:
    """Base class: no parameters, identity in both modes.

    ``_cache`` names the attributes in which ``forward`` keeps arrays for
    ``backward`` (and the per-layer plots); :meth:`clear_cache` empties them.
    """

    _cache: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    # -- mode -----------------------------------------------------------
    def train(self, mode: bool = True) -> "Layer":
        """Switch to training mode (or to eval mode with ``mode=False``)."""
        self.training = mode = check_bool(mode, "mode")
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Layer":
        """Switch to evaluation (inference) mode."""
        return self.train(False)

    # -- structure ------------------------------------------------------
    def children(self) -> list["Layer"]:
        """Direct sub-layers (none for a leaf layer)."""
        return []

    def modules(self):
        """This layer and every layer below it, depth first."""
        yield self
        for child in self.children():
            yield from child.modules()

    def zero_grad(self) -> None:
        for layer in self.modules():
            layer.grads = {}

    def clear_cache(self) -> "Layer":
        """Forget every array the last forward and backward kept, in this layer and below.

        Frees their memory (a pass over a large batch keeps several arrays of
        that batch's size per layer); ``backward`` then needs a new ``forward``.
        """
        for layer in self.modules():
            for name in layer._cache:
                setattr(layer, name, [] if isinstance(getattr(layer, name, None), list) else None)
        return self

    def num_parameters(self) -> int:
        return sum(p.size for layer in self.modules() for p in layer.params.values())

    # -- computation ----------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        return as_batch(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# -- argument checking shared by every layer -------------------------------

def as_batch(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a 2-D floating array, or raise ``ValueError``.

    Integer or boolean input is converted to float64; float16/32/64 are kept.
    """
    arr = _asarray(x, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (batch, features); got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.dtype.kind != "f":
        if arr.dtype.kind not in "iub":
            raise ValueError(f"{name} must hold numbers; got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    return arr


def _asarray(x, name: str) -> np.ndarray:
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as err:   # ragged nested lists and the like
        raise ValueError(f"{name} must be an array of numbers; could not read it as one ({err})") from None


def as_numbers(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating array of any shape, or raise ``ValueError`` naming ``name``.

    Integer or boolean input is converted to float64; strings, objects (``None``
    included) and complex numbers are refused.
    """
    arr = _asarray(x, name)
    if arr.dtype.kind != "f":
        if arr.dtype.kind not in "iub":
            raise ValueError(f"{name} must hold real numbers; got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    return arr


def as_grad(dy, shape, layer: str) -> np.ndarray:
    """Check ``dy`` for ``layer.backward`` against the shape of the layer's last output.

    ``shape`` is ``None`` when there was no forward pass yet: that raises
    :class:`CallOrderError`.
    """
    if shape is None:
        raise CallOrderError(f"{layer}.backward called before forward: there is no forward pass to differentiate")
    dy = as_batch(dy, "dy")
    if dy.shape != tuple(shape):
        raise ValueError(f"dy must have the shape of {layer}'s last output {tuple(shape)}; got {dy.shape}")
    return dy


def check_bool(value, name: str) -> bool:
    """Validate a flag: ``True`` or ``False`` (numpy booleans too), nothing else."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False; got {value!r}")


def check_layer_arg(value, name: str) -> "Layer":
    """Validate that ``value`` is a :class:`Layer` instance."""
    if not isinstance(value, Layer):
        raise ValueError(f"{name} must be a Layer (e.g. Linear, Sequential, a built net); got {type(value).__name__}")
    return value


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Validate a floating numpy dtype (float16, float32 or float64)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise ValueError(f"{name} must be a floating dtype (np.float32 or np.float64); got {dtype!r}")
    return dt


def check_features(x: np.ndarray, expected: int, layer: str) -> None:
    if x.shape[1] != expected:
        raise ValueError(
            f"{layer} expects {expected} features per example; got input of shape {x.shape}"
        )


def check_number(value, name: str, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Validate a real number against an interval and return it as ``float``.

    Raises ``ValueError`` naming ``name`` and the allowed range for anything
    else: NaN, infinities, strings, booleans, out-of-range numbers.
    """
    lo_b = "(" if low_open else "["
    hi_b = ")" if high_open else "]"
    if low is None and high is None:
        what = "a finite number"
    else:
        what = f"a number in {lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {what}; got {value!r}")
    v = float(value)
    ok = np.isfinite(v)
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        raise ValueError(f"{name} must be {what}; got {value!r}")
    return v


def check_int(value, name: str, *, low: int = 1, high: int | None = None) -> int:
    """Validate an integer ``low <= value <= high``; raise ``ValueError`` otherwise."""
    rng = f"[{low}, {'inf' if high is None else high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in {rng}; got {value!r}")
    v = int(value)
    if v < low or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer in {rng}; got {value!r}")
    return v


def make_rng(rng) -> np.random.Generator:
    """Accept ``None``, an int seed or a ``Generator``."""
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be None, an integer seed >= 0 or a numpy Generator; got {rng!r}")
