"""Deep nets built from the tricks, so that only the toggled trick differs.

Block ``k`` maps the width-``D`` signal ``x_k`` to ``x_{k+1}``::

    plain block      x_{k+1} =       Dropout(Act(Linear(Norm(x_k))))
    residual block   x_{k+1} = x_k + Dropout(Act(Linear(Norm(x_k))))      (pre-norm)

``Norm`` is BatchNorm, LayerNorm or nothing. ``dropout_at`` says which blocks drop:
``"every"`` block (so with BatchNorm, each later block normalizes what the one
before it dropped: dropout *before* BatchNorm), or only the ``"last"`` one, after
the last BatchNorm (Li et al., 2019; see ``variance_shift.py``). A net is::

    stem:  Linear(in_features → width)          only when in_features ≠ width (or stem=True)
    depth blocks as above
    head:  Linear(width → out_features)         only when out_features is given

One seed fixes every weight, drawn in the same order whatever the tricks, so
two nets that differ only in normalization, residual connections or dropout
start from identical weights. Dropout masks come from a separate stream.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .activations import ACTIVATIONS, activation
from .batchnorm import BatchNorm
from .dropout import Dropout, check_p
from .layernorm import LayerNorm
from .linear import INITS, Linear
from .module import Layer, check_bool, check_int, check_number
from .residual import Residual
from .sequential import Sequential

NORMS = ("none", "batch", "layer")
DROPOUT_AT = ("every", "last")


@dataclass(frozen=True)
class NetConfig:
    """Everything that defines a deep net; equal configs give equal nets."""

    depth: int = 10
    width: int = 256
    in_features: int | None = None      # None: same as width, no stem
    out_features: int | None = None     # None: no head
    norm: str = "none"
    residual: bool = False
    dropout: float = 0.0
    dropout_at: str = "every"
    activation: str = "relu"
    init: str = "he"
    gain: float = 1.0
    seed: int = 0
    stem: bool | None = None            # None: only when in_features differs from width

    def __post_init__(self):
        check_int(self.depth, "depth", low=0)
        check_int(self.width, "width")
        if self.in_features is not None:
            check_int(self.in_features, "in_features")
        if self.out_features is not None:
            check_int(self.out_features, "out_features")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}; got {self.norm!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)}; got {self.activation!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {self.init!r}")
        if self.dropout_at not in DROPOUT_AT:
            raise ValueError(f"dropout_at must be one of {DROPOUT_AT}; got {self.dropout_at!r}")
        check_bool(self.residual, "residual")
        if self.stem is not None:
            check_bool(self.stem, "stem")
        check_p(self.dropout)
        check_number(self.gain, "gain", low=0.0)
        check_int(self.seed, "seed", low=0)

    def replace(self, **changes) -> "NetConfig":
        return NetConfig(**{**asdict(self), **changes})


def make_norm(norm: str, width: int, dtype) -> Layer | None:
    if norm == "batch":
        return BatchNorm(width, dtype=dtype)
    if norm == "layer":
        return LayerNorm(width, dtype=dtype)
    if norm == "none":
        return None
    raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")


class DeepNet(Sequential):
    """A :class:`Sequential` that also knows where its blocks are.

    Attributes: ``config``, ``stem`` / ``head`` (``Linear`` or ``None``),
    ``blocks`` (the block-level layers: ``Residual`` or the plain block),
    ``paths`` (each block's own path, a ``Sequential``), and per block its
    ``linears``, ``norms`` (or ``None``) and ``dropouts``.
    """

    _cache = (*Sequential._cache, "_input")

    def __init__(self, config: NetConfig, dtype=np.float64):
        c = self.config = config
        weights_rng, dropout_seq = np.random.SeedSequence(c.seed).spawn(2)
        wrng = np.random.default_rng(weights_rng)
        drngs = [np.random.default_rng(s) for s in dropout_seq.spawn(max(c.depth, 1))]
        in_features = c.width if c.in_features is None else c.in_features
        use_stem = c.stem if c.stem is not None else in_features != c.width

        layers: list[Layer] = []
        self.stem = None
        if use_stem:
            self.stem = Linear(in_features, c.width, init=c.init, gain=c.gain, rng=wrng, dtype=dtype)
            layers.append(self.stem)
        elif in_features != c.width:
            raise ValueError(f"in_features ({in_features}) differs from width ({c.width}): a stem is needed")
        self.paths, self.blocks, self.linears, self.norms, self.dropouts = [], [], [], [], []
        for k in range(c.depth):
            norm = make_norm(c.norm, c.width, dtype)
            lin = Linear(c.width, c.width, init=c.init, gain=c.gain, rng=wrng, dtype=dtype)
            drop = Dropout(c.dropout if self._drops(k) else 0.0, rng=drngs[k])
            path = Sequential(*([norm] if norm else []), lin, activation(c.activation), drop)
            block = Residual(path) if c.residual else path
            self.paths.append(path)
            self.blocks.append(block)
            self.linears.append(lin)
            self.norms.append(norm)
            self.dropouts.append(drop)
            layers.append(block)
        self.head = None
        if c.out_features is not None:
            self.head = Linear(c.width, c.out_features, init="xavier", rng=wrng, dtype=dtype)
            layers.append(self.head)
        super().__init__(*layers)
        self._first_block = 1 if self.stem is not None else 0

    # -- views on the last forward / backward pass ------------------------
    def block_outputs(self) -> list[np.ndarray]:
        """``x_1 … x_depth``: each block's output in the last forward pass."""
        i = self._first_block
        return self.outputs[i:i + len(self.blocks)]

    def block_inputs(self) -> list[np.ndarray]:
        """``x_0 … x_{depth-1}``: what each block received."""
        i = self._first_block
        start = self.outputs[i - 1] if i > 0 else self._input
        return [start] + self.outputs[i:i + len(self.blocks) - 1]

    def pre_activations(self) -> list[np.ndarray]:
        """Each block's ``Linear`` output, before the nonlinearity."""
        return [path.outputs[path.layers.index(lin)] for path, lin in zip(self.paths, self.linears)]

    def block_input_grads(self) -> list[np.ndarray]:
        """``dL/dx_k`` for k = 0 … depth-1: the gradient reaching each block's input."""
        i = self._first_block
        return self.grad_outputs[i - 1:i - 1 + len(self.blocks)] if i > 0 else (
            [self.grad_input] + self.grad_outputs[:len(self.blocks) - 1])

    def _drops(self, k: int) -> bool:
        """Whether block ``k`` has dropout (every block, or only the last)."""
        return self.config.dropout_at == "every" or k == self.config.depth - 1

    def set_dropout(self, p: float) -> None:
        """Set the rate of every block that drops (see ``dropout_at``)."""
        for k, d in enumerate(self.dropouts):
            d.set_p(p if self._drops(k) else 0.0)

    def forward(self, x):
        self._input = x
        return super().forward(x)

    def __repr__(self):
        return f"DeepNet({self.config})"


def build_net(depth: int = 10, width: int = 256, *, in_features: int | None = None,
              out_features: int | None = None, norm: str = "none", residual: bool = False,
              dropout: float = 0.0, dropout_at: str = "every", activation: str = "relu",
              init: str = "he", gain: float = 1.0, seed: int = 0, stem: bool | None = None,
              dtype=np.float64) -> DeepNet:
    """Build a :class:`DeepNet`; see :class:`NetConfig` for the arguments."""
    cfg = NetConfig(depth=depth, width=width, in_features=in_features, out_features=out_features,
                    norm=norm, residual=residual, dropout=dropout, dropout_at=dropout_at,
                    activation=activation, init=init,
                    gain=gain, seed=seed, stem=stem)
    return DeepNet(cfg, dtype=dtype)
