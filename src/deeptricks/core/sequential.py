"""A chain of layers: ``y = f_L(… f_2(f_1(x)))``.

Backward runs the chain in reverse, each layer turning ``dL/d(its output)``
into ``dL/d(its input)`` for the layer below (the chain rule).

Every forward keeps each layer's output in ``outputs`` and every backward
keeps the gradient arriving at each layer's output in ``grad_outputs``, so a
plot of per-layer activations or gradient norms needs no second pass.
"""

from __future__ import annotations

import numpy as np

from .module import CallOrderError, Layer, as_batch


class Sequential(Layer):
    _cache = ("outputs", "grad_outputs", "grad_input")

    def __init__(self, *layers: Layer):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"Sequential takes Layer objects; item {i} is {type(layer).__name__}")
        self.layers = list(layers)
        self.outputs: list[np.ndarray] = []
        self.grad_outputs: list[np.ndarray] = []
        self.grad_input: np.ndarray | None = None

    def children(self):
        return self.layers

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x):
        h = as_batch(x)
        outputs = []
        for layer in self.layers:
            h = layer.forward(h)
            outputs.append(h)
        self.outputs = outputs
        return h

    def backward(self, dy):
        if self.layers and not self.outputs:
            raise CallOrderError(f"{type(self).__name__}.backward called before forward: "
                                 "there is no forward pass to differentiate")
        grads = [None] * len(self.layers)
        g = dy
        for i in range(len(self.layers) - 1, -1, -1):
            grads[i] = g
            g = self.layers[i].backward(g)
        self.grad_outputs = grads
        self.grad_input = g
        return g

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"
