"""Residual connection (He et al., 2015): ``y = x + F(x)``.

The block ``F`` learns a correction to its input rather than a whole new
signal. Backward, the gradient splits into two paths and adds up::

    dL/dx = dL/dy · (1 + dF/dx) = dL/dy + F.backward(dL/dy)
                   ^ the identity path: dL/dy arrives unchanged,
                     however small the block's own derivative is.

After a backward pass ``identity_grad`` and ``block_grad`` hold the two terms,
so the explainers can show each path's share.
"""

from __future__ import annotations

from .module import Layer, as_batch, as_grad


class Residual(Layer):
    """Wrap ``block`` with a skip connection; the block must keep the input's shape."""

    _cache = ("block_output", "identity_grad", "block_grad")

    def __init__(self, block: Layer):
        super().__init__()
        if not isinstance(block, Layer):
            raise ValueError(f"Residual needs a Layer to wrap (block); got {type(block).__name__}")
        self.block = block
        self.training = block.training
        self.identity_grad = self.block_grad = None
        self.block_output = None

    def children(self):
        return [self.block]

    def forward(self, x):
        x = as_batch(x)
        fx = self.block.forward(x)
        if fx.shape != x.shape:
            raise ValueError(
                f"Residual block must return the shape of its input to be added to it: "
                f"input {x.shape}, block output {fx.shape}"
            )
        self.block_output = fx
        return x + fx

    def backward(self, dy):
        out = self.block_output
        dy = as_grad(dy, None if out is None else out.shape, "Residual")
        self.identity_grad = dy
        self.block_grad = self.block.backward(dy)
        return dy + self.block_grad

    def __repr__(self):
        return f"Residual({self.block!r})"
