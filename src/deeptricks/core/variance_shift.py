"""The variance shift: dropout before BatchNorm (Li, Chen, Hu & Yang, 2019).

Inverted dropout keeps a unit with probability ``1 - p`` and scales it by
``1/(1 - p)``: ``y = m·x/(1 - p)`` with ``m ~ Bernoulli(1 - p)``. For a unit
whose input has mean ``μ`` and variance ``s²`` over the examples::

    training:  E[y] = μ,   Var[y] = (s² + μ²)/(1 - p) - μ²
    test:      y = x,      Var[y] = s²

so a BatchNorm right after it learns, in its running variance, the training
variance, and at test time divides by it while the inputs it sees have the
smaller test variance. The ratio is::

    Var_train / Var_test = 1/(1 - p) + (μ²/s²) · p/(1 - p)   ≥ 1/(1 - p)

(exactly ``1/(1 - p)`` for centred inputs, more after a ReLU). Placing dropout
only after the last BatchNorm leaves every BatchNorm's inputs the same in
training and at test: the ratio is about 1.

:func:`variance_shift` measures it on a trained :class:`~deeptricks.core.DeepNet`:
for each BatchNorm, its running variances summed over the features, ``R = Σ_j r_j``
(each with the layer's ``ε``), against the variances of its inputs in eval mode
over a set of examples, ``V = Σ_j v_j``, as ``max(R/V, V/R)``. Summing first
weighs each feature by its variance, so a unit that is almost never on (a ReLU
that died, whose ``r_j/v_j`` is a ratio of two tiny numbers) cannot swamp the
layer's figure.
"""

from __future__ import annotations

import numpy as np

from .batchnorm import BatchNorm
from .module import check_number


def expected_shift(p: float, mean: float = 0.0, var: float = 1.0) -> float:
    """``Var_train / Var_test`` for one unit after dropout ``p`` (the formula above)."""
    p = check_number(p, "p (dropout rate)", low=0.0, high=1.0, high_open=True)
    mean = check_number(mean, "mean")
    var = check_number(var, "var", low=0.0, low_open=True)
    return 1.0 / (1.0 - p) + (mean * mean / var) * p / (1.0 - p)


def variance_shift(net, X: np.ndarray) -> list[tuple[int, float]]:
    """``[(block, shift), ...]`` for every block whose norm is a BatchNorm (blocks from 1).

    ``shift`` is ``max(R/V, V/R)``, with ``R`` the layer's running variances and ``V``
    the variances of its inputs over ``X`` with the net in eval mode, each summed over
    the features (both plus the layer's ``ε``). The net is put
    back in the mode it was in and keeps no activations of ``X``.
    """
    if not (hasattr(net, "norms") and hasattr(net, "block_inputs")):
        raise TypeError(f"net must be a DeepNet (from build_net); got {type(net).__name__}")
    if not any(isinstance(norm, BatchNorm) for norm in net.norms):
        return []                                    # nothing to measure: no forward pass
    was_training = net.training
    net.eval()
    try:
        with np.errstate(all="ignore"):
            net.forward(np.asarray(X, dtype=net.linears[0].params["W"].dtype))
            inputs = net.block_inputs()
            out = []
            for k, (norm, x) in enumerate(zip(net.norms, inputs)):
                if not isinstance(norm, BatchNorm):
                    continue
                v = float(np.sum(x.astype(np.float64).var(axis=0) + norm.eps))
                r = float(np.sum(norm.running_var + norm.eps))
                out.append((k + 1, max(r / v, v / r)))
    finally:
        net.train(was_training)
        net.clear_cache()
    return out
