"""Bad arguments raise ValueError naming the parameter and the allowed range.

One table row per (public callable, kind of bad argument): every constructor and
method that ``deeptricks.core`` exports is called with wrong types, wrong shapes,
wrong dtypes, booleans where integers belong, negative sizes, NaN and infinities,
unknown names, and out of order (``backward`` before ``forward``). Each row gives
the regular expression the message must match: the parameter's name and, for
numbers, the allowed range.
"""

import math

import numpy as np
import pytest

import deeptricks.core as core
from deeptricks.core import (ACTIVATIONS, DATASETS, INITS, NORMS, OPTIMIZERS, SGD, Adam, BatchNorm, Dropout,
                             LayerNorm, Linear, MSELoss, NetConfig, ReLU, Residual, Sequential, Sigmoid,
                             SoftmaxCrossEntropy, Tanh, Trainer, accuracy, activation, build_net, check_layer,
                             histogram, layer_stats, make_dataset, make_optimizer, numerical_gradient, rel_error,
                             softmax, corrupt_labels, expected_shift, variance_shift)
from deeptricks.core.module import CallOrderError

BAD_NUMBERS = [math.nan, math.inf, -math.inf, "0.5", None, True, [0.2], np.array([0.2, 0.3])]
BAD_COUNTS = [0, -1, 2.5, 3.0, "3", None, True, math.nan]


def lin():
    return Linear(4, 3, rng=0)


def net(**kw):
    args = dict(depth=2, width=4, in_features=2, out_features=2, seed=0)
    return build_net(**{**args, **kw})


def trainer(**kw):
    n = kw.pop("net", None) or net()
    data = kw.pop("data", None) or make_dataset("moons", n_train=20, n_test=20)
    opt = kw.pop("optimizer", None) or make_optimizer("sgd", n, 0.1)
    return Trainer(n, data, opt, **kw)


def after_forward(layer, x):
    layer.forward(x)
    return layer


X4 = np.random.default_rng(0).standard_normal((5, 4))

# (id, call, expected message) — every call must raise ValueError (or TypeError) matching it.
CASES = [
    # -- dropout rate p -------------------------------------------------------
    *[(f"Dropout(p={p!r})", (lambda p=p: Dropout(p)), r"p \(dropout rate\) must be a number in \[0\.0, 1\.0\)")
      for p in [-0.1, 1, 1.0, 1.5, *BAD_NUMBERS]],
    ("Dropout.set_p(1)", lambda: Dropout(0.5).set_p(1), r"p \(dropout rate\).*\[0\.0, 1\.0\)"),
    ("Dropout.set_p(nan)", lambda: Dropout(0.5).set_p(math.nan), r"p \(dropout rate\).*\[0\.0, 1\.0\)"),
    ("Dropout(scale='no')", lambda: Dropout(0.5, scale="no"), r"scale must be True or False"),
    ("Dropout(scale=1)", lambda: Dropout(0.5, scale=1), r"scale must be True or False"),
    ("Dropout(rng='x')", lambda: Dropout(0.5, rng="x"), r"rng must be None, an integer seed >= 0"),
    ("Dropout(rng=-1)", lambda: Dropout(0.5, rng=-1), r"rng must be None, an integer seed >= 0"),
    ("Dropout.freeze(float noise)", lambda: Dropout(0.5).freeze(np.ones(3)), r"frozen noise must be uint32"),
    ("Dropout frozen noise of another shape", lambda: (lambda d: (d.freeze(d.draw_noise((2, 3))),
                                                                  d.forward(np.ones((2, 4)))))(Dropout(0.5, rng=0)),
     r"frozen noise has shape \(2, 3\); input has shape \(2, 4\)"),
    ("Dropout.draw_noise(negative)", lambda: Dropout(0.5).draw_noise((-1, 3)), r"shape must be a tuple of integers >= 0"),
    ("Dropout.draw_noise(float)", lambda: Dropout(0.5).draw_noise((2.5, 3)), r"shape must be a tuple of integers >= 0"),
    # -- Linear -----------------------------------------------------------------
    *[(f"Linear(in_features={v!r})", (lambda v=v: Linear(v, 3)), r"in_features must be an integer in \[1, inf\]")
      for v in BAD_COUNTS],
    *[(f"Linear(out_features={v!r})", (lambda v=v: Linear(3, v)), r"out_features must be an integer in \[1, inf\]")
      for v in BAD_COUNTS],
    *[(f"Linear(init={v!r})", (lambda v=v: Linear(3, 2, init=v)), r"init must be one of \('he', 'xavier', 'normal'\)")
      for v in ["kaiming", "HE", None, ["he"], 1]],
    *[(f"Linear(gain={v!r})", (lambda v=v: Linear(3, 2, gain=v)), r"gain must be a number in \[0\.0, inf\]")
      for v in [-1, -1e-9, *BAD_NUMBERS]],
    *[(f"Linear(rng={v!r})", (lambda v=v: Linear(3, 2, rng=v)), r"rng must be None, an integer seed >= 0")
      for v in ["seed", True, -1, 1.5]],
    ("Linear(bias='yes')", lambda: Linear(3, 2, bias="yes"), r"bias must be True or False"),
    *[(f"Linear(dtype={v!r})", (lambda v=v: Linear(3, 2, dtype=v)), r"dtype must be a floating dtype")
      for v in [np.int32, "banana", object, bool]],
    # -- layer inputs: shape, ndim, dtype ----------------------------------------
    *[(f"{name}.forward({what})", (lambda mk=mk, x=x: mk().forward(x)), match)
      for name, mk in [("Linear", lin), ("BatchNorm", lambda: BatchNorm(4)), ("LayerNorm", lambda: LayerNorm(4)),
                       ("Dropout", lambda: Dropout(0.2, rng=0)), ("ReLU", ReLU), ("Tanh", Tanh),
                       ("Sigmoid", Sigmoid), ("Residual", lambda: Residual(Linear(4, 4, rng=0))),
                       ("Sequential", lambda: Sequential(lin())), ("DeepNet", lambda: build_net(2, 4, seed=0))]
      for what, x, match in [
          ("1-D", np.ones(4), r"x must be a 2-D array of shape \(batch, features\); got 1-D"),
          ("3-D", np.ones((2, 4, 1)), r"x must be a 2-D array .*got 3-D"),
          ("scalar", 3.0, r"x must be a 2-D array .*got 0-D"),
          ("None", None, r"x must be a 2-D array"),
          ("strings", np.array([["a", "b", "c", "d"]]), r"x must hold numbers; got dtype <U1"),
          ("objects", np.array([[1, None, 2, 3]], dtype=object), r"x must hold numbers; got dtype object"),
          ("complex", np.ones((2, 4), complex), r"x must hold numbers; got dtype complex128"),
          ("ragged list", [[1, 2, 3, 4], [1, 2]], r"x must be an array of numbers"),
      ]],
    *[(f"{name}.forward(5 features)", (lambda mk=mk: mk().forward(np.ones((3, 5)))), r"expects 4 features")
      for name, mk in [("Linear", lin), ("BatchNorm", lambda: BatchNorm(4)), ("LayerNorm", lambda: LayerNorm(4)),
                       ("DeepNet", lambda: build_net(2, 4, seed=0))]],
    ("Residual block changes the shape", lambda: Residual(Linear(3, 4, rng=0)).forward(np.ones((2, 3))),
     r"Residual block must return the shape of its input"),
    ("BatchNorm.forward(one example)", lambda: BatchNorm(4).forward(np.ones((1, 4))),
     r"BatchNorm needs at least 2 examples per batch in training mode"),
    ("BatchNorm.forward(no examples)", lambda: BatchNorm(4).forward(np.ones((0, 4))),
     r"BatchNorm needs at least 2 examples"),
    # -- backward: before forward, wrong shape, wrong dtype ----------------------
    *[(f"{name}.backward before forward", (lambda mk=mk: mk().backward(np.ones((5, 4)))),
       rf"{cls}\.backward called before forward")
      for name, cls, mk in [("Linear", "Linear", lambda: Linear(4, 4, rng=0)), ("ReLU", "ReLU", ReLU),
                            ("Tanh", "Tanh", Tanh), ("Sigmoid", "Sigmoid", Sigmoid),
                            ("Dropout", "Dropout", lambda: Dropout(0.5)), ("BatchNorm", "BatchNorm", lambda: BatchNorm(4)),
                            ("LayerNorm", "LayerNorm", lambda: LayerNorm(4)),
                            ("Residual", "Residual", lambda: Residual(Linear(4, 4, rng=0))),
                            ("Sequential", "Sequential", lambda: Sequential(ReLU())),
                            ("DeepNet", "DeepNet", lambda: build_net(2, 4, seed=0))]],
    *[(f"{name}.backward({what})", (lambda mk=mk, dy=dy: after_forward(mk(), X4).backward(dy)), match)
      for name, mk in [("Linear", lambda: Linear(4, 4, rng=0)), ("ReLU", ReLU), ("Tanh", Tanh), ("Sigmoid", Sigmoid),
                       ("Dropout", lambda: Dropout(0.5, rng=0)), ("BatchNorm", lambda: BatchNorm(4)),
                       ("LayerNorm", lambda: LayerNorm(4)), ("Residual", lambda: Residual(Linear(4, 4, rng=0)))]
      for what, dy, match in [
          ("wrong width", np.ones((5, 3)), r"dy must have the shape of \w+'s last output \(5, 4\); got \(5, 3\)"),
          ("wrong batch", np.ones((6, 4)), r"dy must have the shape of \w+'s last output \(5, 4\); got \(6, 4\)"),
          ("1-D", np.ones(4), r"dy must be a 2-D array"),
          ("strings", np.full((5, 4), "a"), r"dy must hold numbers"),
      ]],
    ("Dropout.backward(wrong shape) in eval mode", lambda: after_forward(Dropout(0.5).eval(), X4).backward(np.ones((5, 3))),
     r"dy must have the shape of Dropout's last output"),
    # -- activations by name, normalization layers ------------------------------
    *[(f"activation({v!r})", (lambda v=v: activation(v)), r"activation must be one of \('relu', 'tanh', 'sigmoid'\)")
      for v in ["gelu", "ReLU", None, ["relu"], 0]],
    *[(f"{cls.__name__}(num_features={v!r})", (lambda cls=cls, v=v: cls(v)), r"num_features must be an integer in \[1, inf\]")
      for cls in (BatchNorm, LayerNorm) for v in BAD_COUNTS],
    *[(f"{cls.__name__}(eps={v!r})", (lambda cls=cls, v=v: cls(3, eps=v)), r"eps must be a number in \(0\.0, inf\]")
      for cls in (BatchNorm, LayerNorm) for v in [0, -1e-5, *BAD_NUMBERS]],
    *[(f"BatchNorm(momentum={v!r})", (lambda v=v: BatchNorm(3, momentum=v)), r"momentum must be a number in \[0\.0, 1\.0\]")
      for v in [-0.1, 1.5, math.nan, "0.1", True]],
    *[(f"{cls.__name__}(affine={v!r})", (lambda cls=cls, v=v: cls(3, affine=v)), r"affine must be True or False")
      for cls in (BatchNorm, LayerNorm) for v in ["yes", 1, None]],
    *[(f"{cls.__name__}(dtype=int)", (lambda cls=cls: cls(3, dtype=np.int64)), r"dtype must be a floating dtype")
      for cls in (BatchNorm, LayerNorm)],
    # -- containers and modes -----------------------------------------------------
    *[(f"Residual({v!r})", (lambda v=v: Residual(v)), r"Residual needs a Layer to wrap \(block\)")
      for v in ["not a layer", None, Linear, np.ones(3)]],
    ("Sequential(layer, array)", lambda: Sequential(Linear(2, 2, rng=0), np.ones(3)), r"Sequential takes Layer objects; item 1"),
    ("Sequential(class)", lambda: Sequential(ReLU), r"Sequential takes Layer objects; item 0 is type"),
    ("Sequential([layer])", lambda: Sequential([ReLU()]), r"Sequential takes Layer objects; item 0 is list"),
    ("Sequential mismatched layers", lambda: Sequential(Linear(3, 4, rng=0), Linear(5, 2, rng=0)).forward(np.ones((2, 3))),
     r"Linear expects 5 features"),
    *[(f"Layer.train({v!r})", (lambda v=v: lin().train(v)), r"mode must be True or False") for v in ["no", 1, None]],
    # -- build_net / NetConfig ---------------------------------------------------------
    *[(f"build_net(depth={v!r})", (lambda v=v: build_net(depth=v)), r"depth must be an integer in \[0, inf\]")
      for v in [-1, 2.0, "3", None, True]],
    *[(f"build_net(width={v!r})", (lambda v=v: build_net(width=v)), r"width must be an integer in \[1, inf\]")
      for v in BAD_COUNTS],
    *[(f"build_net({k}={v!r})", (lambda k=k, v=v: build_net(**{k: v})), rf"{k} must be an integer in \[1, inf\]")
      for k in ("in_features", "out_features") for v in [0, -2, 2.5, "2", True]],
    *[(f"build_net(norm={v!r})", (lambda v=v: build_net(norm=v)), r"norm must be one of \('none', 'batch', 'layer'\)")
      for v in ["group", None, ["batch"], "Batch"]],
    *[(f"build_net(activation={v!r})", (lambda v=v: build_net(activation=v)), r"activation must be one of")
      for v in ["gelu", None]],
    ("build_net(init='x')", lambda: build_net(init="x"), r"init must be one of \('he', 'xavier', 'normal'\)"),
    *[(f"build_net(dropout={v!r})", (lambda v=v: build_net(dropout=v)), r"p \(dropout rate\) must be a number in \[0\.0, 1\.0\)")
      for v in [1.0, -0.1, math.nan, "0.2", True]],
    *[(f"build_net(gain={v!r})", (lambda v=v: build_net(gain=v)), r"gain must be a number in \[0\.0, inf\]")
      for v in [-3, math.nan, math.inf, "1"]],
    *[(f"build_net(seed={v!r})", (lambda v=v: build_net(seed=v)), r"seed must be an integer in \[0, inf\]")
      for v in [-3, 1.5, None, "0", True]],
    *[(f"build_net(residual={v!r})", (lambda v=v: build_net(residual=v)), r"residual must be True or False")
      for v in ["yes", 1, None]],
    *[(f"build_net(dropout_at={v!r})", (lambda v=v: build_net(dropout_at=v)), r"dropout_at must be one of \('every', 'last'\)")
      for v in ["first", None, 1]],
    *[(f"expected_shift(p={v!r})", (lambda v=v: expected_shift(v)), r"p \(dropout rate\) must be a number in \[0\.0, 1\.0\)")
      for v in [1.0, -0.1, math.nan, "0.5", None]],
    *[(f"expected_shift(var={v!r})", (lambda v=v: expected_shift(0.5, 0.0, v)), r"var must be a number in \(0\.0, inf\]")
      for v in [0.0, -1.0, math.nan]],
    ("expected_shift(mean=inf)", lambda: expected_shift(0.5, math.inf), r"mean must be a finite number"),
    *[(f"corrupt_labels(fraction={v!r})", (lambda v=v: corrupt_labels(make_dataset(n_train=4, n_test=4), v)),
       r"fraction must be a number in \[0\.0, 1\.0\]") for v in [-0.1, 1.5, math.nan, "0.5", None]],
    ("corrupt_labels(seed=-1)", lambda: corrupt_labels(make_dataset(n_train=4, n_test=4), 0.5, seed=-1),
     r"seed must be an integer in \[0, inf\]"),
    ("variance_shift(net=Linear)", lambda: variance_shift(lin(), np.ones((3, 4))), r"net must be a DeepNet"),
    ("variance_shift(X wrong width)", lambda: variance_shift(net(norm="batch"), np.ones((3, 5))), r"features"),
    ("build_net(stem='yes')", lambda: build_net(stem="yes"), r"stem must be True or False"),
    ("build_net needs a stem", lambda: build_net(width=4, in_features=2, stem=False),
     r"in_features \(2\) differs from width \(4\): a stem is needed"),
    ("build_net(dtype=int)", lambda: build_net(depth=1, width=4, dtype=np.int64), r"dtype must be a floating dtype"),
    ("NetConfig(depth=-1)", lambda: NetConfig(depth=-1), r"depth must be an integer in \[0, inf\]"),
    ("NetConfig.replace(width=0)", lambda: NetConfig().replace(width=0), r"width must be an integer in \[1, inf\]"),
    ("DeepNet.set_dropout(2)", lambda: build_net(depth=2, width=4).set_dropout(2), r"p \(dropout rate\).*\[0\.0, 1\.0\)"),
    # -- losses, softmax, accuracy --------------------------------------------------
    ("SoftmaxCrossEntropy 1-D logits", lambda: SoftmaxCrossEntropy().forward(np.zeros(3), np.array([0])),
     r"logits must be a 2-D array"),
    ("SoftmaxCrossEntropy string logits", lambda: SoftmaxCrossEntropy().forward(np.full((2, 3), "a"), np.array([0, 1])),
     r"logits must hold numbers"),
    *[(f"SoftmaxCrossEntropy labels {what}", (lambda y=y: SoftmaxCrossEntropy().forward(np.zeros((3, 2)), y)), match)
      for what, y, match in [
          ("out of range", np.array([0, 1, 2]), r"labels must lie in \[0, 1\]"),
          ("negative", np.array([0, -1, 1]), r"labels must lie in \[0, 1\]"),
          ("floats", np.array([0.0, 1.0, 1.0]), r"labels must be an integer array of shape \(3,\)"),
          ("booleans", np.array([True, False, True]), r"labels must be an integer array of shape \(3,\)"),
          ("strings", np.array(["a", "b", "c"]), r"labels must be an integer array of shape \(3,\)"),
          ("too many", np.array([0, 1, 1, 0]), r"labels must be an integer array of shape \(3,\)"),
          ("2-D", np.zeros((3, 1), int), r"labels must be an integer array of shape \(3,\)"),
          ("ragged", [[0], [1, 1], 0], r"labels must be an integer array of shape \(3,\)"),
      ]],
    ("SoftmaxCrossEntropy.backward before forward", lambda: SoftmaxCrossEntropy().backward(),
     r"SoftmaxCrossEntropy\.backward called before forward"),
    ("MSELoss target shape", lambda: MSELoss().forward(np.zeros((2, 3)), np.zeros((2, 4))),
     r"target must have the prediction's shape \(2, 3\); got \(2, 4\)"),
    ("MSELoss string target", lambda: MSELoss().forward(np.zeros((2, 3)), np.full((2, 3), "1")), r"target must hold real numbers"),
    ("MSELoss None target", lambda: MSELoss().forward(np.zeros((2, 3)), None), r"target must hold real numbers"),
    ("MSELoss 3-D prediction", lambda: MSELoss().forward(np.zeros((2, 3, 1)), np.zeros((2, 3, 1))), r"pred must be a 2-D array"),
    ("MSELoss.backward before forward", lambda: MSELoss().backward(), r"MSELoss\.backward called before forward"),
    ("accuracy 1-D logits", lambda: accuracy(np.zeros(3), np.array([0, 1, 1])), r"logits must be a 2-D array"),
    ("accuracy string logits", lambda: accuracy(np.full((2, 3), "a"), np.array([0, 1])), r"logits must hold numbers"),
    ("accuracy labels length", lambda: accuracy(np.zeros((2, 3)), np.array([0, 1, 1])), r"labels must be an integer array of shape \(2,\)"),
    ("accuracy float labels", lambda: accuracy(np.zeros((2, 3)), np.array([0.5, 1.0])), r"labels must be an integer array"),
    ("accuracy labels out of range", lambda: accuracy(np.zeros((2, 3)), np.array([0, 3])), r"labels must lie in \[0, 2\]"),
    ("softmax 1-D", lambda: softmax(np.zeros(3)), r"z must be a 2-D array"),
    ("softmax strings", lambda: softmax(np.full((1, 2), "a")), r"z must hold numbers"),
    # -- optimizers ------------------------------------------------------------------
    *[(f"{name}(model={v!r})", (lambda mk=mk, v=v: mk(v)), r"model must be a Layer")
      for name, mk in [("SGD", lambda m: SGD(m, 0.1)), ("Adam", lambda m: Adam(m, 0.1)),
                       ("make_optimizer", lambda m: make_optimizer("adam", m, 0.1))]
      for v in [None, "model", [Linear(2, 2, rng=0)]]],
    *[(f"{name}(lr={v!r})", (lambda mk=mk, v=v: mk(v)), r"lr \(learning rate\) must be a number in \(0\.0, inf\]")
      for name, mk in [("SGD", lambda lr: SGD(lin(), lr)), ("Adam", lambda lr: Adam(lin(), lr)),
                       ("make_optimizer", lambda lr: make_optimizer("momentum", lin(), lr))]
      for v in [0, -1, -1e-12, *BAD_NUMBERS]],
    *[(f"SGD(momentum={v!r})", (lambda v=v: SGD(lin(), 0.1, momentum=v)), r"momentum must be a number in \[0\.0, 1\.0\)")
      for v in [1.0, -0.5, math.nan, "0.9", True]],
    *[(f"Adam(betas={v!r})", (lambda v=v: Adam(lin(), 0.1, betas=v)), match)
      for v, match in [((1.0, 0.9), r"beta1 must be a number in \[0\.0, 1\.0\)"),
                       ((0.9, -0.1), r"beta2 must be a number in \[0\.0, 1\.0\)"),
                       ((0.9, math.nan), r"beta2 must be a number in \[0\.0, 1\.0\)"),
                       (0.9, r"betas must be a pair \(beta1, beta2\) of numbers in \[0\.0, 1\.0\)"),
                       ((0.9,), r"betas must be a pair"), ((0.9, 0.99, 0.5), r"betas must be a pair"),
                       (None, r"betas must be a pair")]],
    *[(f"Adam(eps={v!r})", (lambda v=v: Adam(lin(), 0.1, eps=v)), r"eps must be a number in \(0\.0, inf\]")
      for v in [0, -1e-8, math.nan, "1e-8"]],
    *[(f"make_optimizer({v!r})", (lambda v=v: make_optimizer(v, lin(), 0.1)),
       r"optimizer must be one of \('sgd', 'momentum', 'adam'\)") for v in ["rmsprop", "SGD", None, 1]],
    # -- Trainer -------------------------------------------------------------------------
    ("Trainer(net=Linear)", lambda: Trainer(lin(), make_dataset(), make_optimizer("sgd", lin(), 0.1)),
     r"net must be a DeepNet"),
    ("Trainer(data=None)", lambda: (lambda n: Trainer(n, None, make_optimizer("sgd", n, 0.1)))(net()),
     r"data must be a Dataset"),
    ("Trainer(optimizer=None)", lambda: Trainer(net(), make_dataset(), None), r"optimizer must be an Optimizer"),
    ("Trainer(optimizer of another net)", lambda: Trainer(net(), make_dataset(), make_optimizer("sgd", net(), 0.1)),
     r"optimizer must update this net"),
    ("Trainer(net with 3 inputs)", lambda: trainer(net=net(in_features=3)),
     r"net must take 2 input features and give 2 outputs .*in_features=3"),
    ("Trainer(net with 1 output)", lambda: trainer(net=net(out_features=1)),
     r"net must take 2 input features and give 2 outputs .*out_features=1"),
    *[(f"Trainer(batch_size={v!r})", (lambda v=v: trainer(batch_size=v)), r"batch_size must be an integer in \[1, inf\]")
      for v in BAD_COUNTS],
    *[(f"Trainer(eval_every={v!r})", (lambda v=v: trainer(eval_every=v)), r"eval_every must be an integer in \[1, inf\]")
      for v in [0, -5, 1.5, True]],
    *[(f"Trainer(seed={v!r})", (lambda v=v: trainer(seed=v)), r"seed must be an integer in \[0, inf\]")
      for v in [-1, "a", 0.5, None]],
    ("Trainer(record_stats='no')", lambda: trainer(record_stats="no"), r"record_stats must be True or False"),
    *[(f"Trainer.run({v!r})", (lambda v=v: trainer().run(v)), r"steps must be an integer in \[0, inf\]")
      for v in [-1, 1.5, "3", None, True]],
    ("Trainer.final('x')", lambda: trainer().final("x"), r"key must be one of \('step', 'batch_loss'"),
    # -- datasets ------------------------------------------------------------------------
    *[(f"make_dataset({v!r})", (lambda v=v: make_dataset(v)), r"dataset must be one of \('moons', 'circles'")
      for v in ["mnist", None, ["moons"], "Moons", 3]],
    *[(f"make_dataset({k}={v!r})", (lambda k=k, v=v: make_dataset("moons", **{k: v})),
       rf"{k} must be an integer in \[2, 1000000\]")
      for k in ("n_train", "n_test") for v in [1, 0, -5, 2.5, "10", True, 10**12]],
    *[(f"make_dataset(noise={v!r})", (lambda v=v: make_dataset("moons", noise=v)), r"noise must be a number in \[0\.0, 2\.0\]")
      for v in [-1, 3, math.nan, math.inf, "0.1", None]],
    *[(f"make_dataset(seed={v!r})", (lambda v=v: make_dataset("moons", seed=v)), r"seed must be an integer in \[0, inf\]")
      for v in [-1, 0.5, None]],
    ("make_dataset(dtype=int)", lambda: make_dataset("moons", dtype=np.int32), r"dtype must be a floating dtype"),
    # -- histogram, layer_stats --------------------------------------------------------------
    *[(f"histogram(lo={v!r})", (lambda v=v: histogram(np.ones(3), v, 1.0)), r"lo must be a finite number")
      for v in [math.nan, -math.inf, "a", None, True]],
    *[(f"histogram(hi={v!r})", (lambda v=v: histogram(np.ones(3), 0.0, v)), r"hi must be a finite number")
      for v in [math.nan, math.inf, "1"]],
    *[(f"histogram(lo={lo}, hi={hi})", (lambda lo=lo, hi=hi: histogram(np.ones(3), lo, hi)),
       r"histogram range \[lo, hi\] must have hi > lo") for lo, hi in [(1.0, 0.0), (1.0, 1.0)]],
    *[(f"histogram(bins={v!r})", (lambda v=v: histogram(np.ones(3), 0.0, 1.0, v)), r"bins must be an integer in \[1, inf\]")
      for v in BAD_COUNTS],
    *[(f"histogram(x={what})", (lambda x=x: histogram(x, 0.0, 1.0)), r"x must hold real numbers")
      for what, x in [("strings", np.array(["a", "b"])), ("objects", np.array([1, None], dtype=object)),
                      ("None", None), ("complex", np.ones(3, complex))]],
    *[(f"layer_stats({what})", (lambda x=x: layer_stats(x)), match)
      for what, x, match in [("empty", np.zeros(0), r"x must hold at least one value"),
                             ("strings", np.array(["a"]), r"x must hold real numbers"),
                             ("None", None, r"x must hold real numbers")]],
    # -- gradient checks ------------------------------------------------------------------
    ("check_layer(None)", lambda: check_layer(None, np.ones((2, 3))), r"layer must be a Layer"),
    ("check_layer(x 1-D)", lambda: check_layer(Linear(3, 2, rng=0), np.ones(3)), r"x must be a 2-D array"),
    ("check_layer(x strings)", lambda: check_layer(Linear(3, 2, rng=0), np.full((1, 3), "a")), r"x must hold numbers"),
    *[(f"check_layer(h={v!r})", (lambda v=v: check_layer(Linear(3, 2, rng=0), np.ones((2, 3)), h=v)),
       r"h \(finite-difference step\) must be a number in \(0\.0, inf\]") for v in [0, -1e-6, math.nan, "1e-6"]],
    ("check_layer(seed=-1)", lambda: check_layer(Linear(3, 2, rng=0), np.ones((2, 3)), seed=-1),
     r"seed must be an integer in \[0, inf\]"),
    ("numerical_gradient(h=0)", lambda: numerical_gradient(lambda: 1.0, np.ones(2), h=0), r"h \(finite-difference step\)"),
    ("rel_error(floor=0)", lambda: rel_error(np.zeros(2), np.zeros(2), floor=0), r"floor must be a number in \(0\.0, inf\]"),
    ("rel_error(shapes)", lambda: rel_error(np.zeros(2), np.zeros(3)), r"a and n must have the same shape"),
]


@pytest.mark.parametrize("call,match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_is_rejected_naming_it(call, match):
    with np.errstate(all="ignore"), pytest.raises((ValueError, TypeError), match=match):
        call()


def test_every_public_callable_has_a_row():
    """The table covers every class and function ``deeptricks.core`` exports."""
    ids = " ".join(c[0] for c in CASES)
    constants = {"ACTIVATIONS", "DATASETS", "DROPOUT_AT", "INITS", "NORMS", "OPTIMIZERS"}
    # classes used only as results or bases: Dataset/Histogram/LayerStats are returned, Layer and
    # Optimizer are bases (Layer.train is covered), DeepNet is made by build_net.
    not_called = {"Dataset", "Histogram", "LayerStats", "Layer", "Optimizer", "DeepNet"}
    missing = [n for n in core.__all__ if n not in constants | not_called and n not in ids]
    assert not missing, missing
    assert set(ACTIVATIONS) and set(DATASETS) and set(INITS) and set(NORMS) and set(OPTIMIZERS)


def test_backward_before_forward_is_both_runtime_and_value_error():
    with pytest.raises(RuntimeError):
        ReLU().backward(np.ones((1, 1)))
    assert issubclass(CallOrderError, ValueError) and issubclass(CallOrderError, RuntimeError)


@pytest.mark.parametrize("layer", [Linear(4, 3, rng=0), BatchNorm(4), LayerNorm(4), Dropout(0.2, rng=0), ReLU()])
def test_a_rejected_call_leaves_the_layer_usable(layer):
    """A bad input changes nothing: the next good call works and gives the same answer."""
    x = np.random.default_rng(1).standard_normal((6, 4))
    if isinstance(layer, Dropout):
        layer.eval()
    y = layer.forward(x)
    with pytest.raises(ValueError):
        layer.forward(np.ones((6, 4, 1)))
    with pytest.raises(ValueError):
        layer.backward(np.ones((6, 9)))
    np.testing.assert_array_equal(layer.forward(x), y)
    assert layer.backward(np.ones_like(y)).shape == x.shape


def test_valid_edge_values_are_accepted():
    """The limits themselves are allowed: p = 0, gain 0, momentum 0, depth 0, noise 0 and 2."""
    assert Dropout(0.0).p == 0.0 and Dropout(np.float32(0.5)).p == 0.5
    assert Linear(np.int64(3), 2, gain=0.0, rng=np.int64(1)).in_features == 3
    assert BatchNorm(2, momentum=0.0).momentum == 0.0 and BatchNorm(2, momentum=None).momentum is None
    assert len(build_net(depth=0, width=3).blocks) == 0
    assert make_dataset("xor", n_train=2, n_test=2, noise=2.0).X_train.shape == (2, 2)
    assert SGD(lin(), 1e-12, momentum=0.0).lr == 1e-12
    h = histogram(np.array([1, 2, 3]), 0, 4, 1)
    assert h.counts.tolist() == [3]
    assert lin().train(np.bool_(False)).training is False


def test_integer_input_is_promoted_to_float():
    assert Linear(2, 2, rng=0).forward(np.array([[1, 2]])).dtype == np.float64
    assert ReLU().forward(np.array([[True, False]])).dtype == np.float64


def test_nan_inputs_propagate_rather_than_raise():
    """NaN activations are data, not bad arguments: the explorables show what they do."""
    with np.errstate(all="ignore"):
        y = build_net(depth=3, width=4, seed=0).forward(np.full((2, 4), np.nan))
        assert np.isnan(y).all()
        assert math.isnan(SoftmaxCrossEntropy().forward(np.full((2, 2), np.nan), np.array([0, 1])))


def test_histogram_puts_the_range_ends_inside_whatever_the_rounding():
    """A value equal to lo or hi is in the first or last bin, even next to infinities and NaN."""
    rng = np.random.default_rng(1)
    for i in range(600):
        x = rng.normal(scale=10.0 ** rng.integers(-3, 3), size=30) + rng.normal() * 10
        lo, hi, bins = float(x.min()), float(x.max()), int(rng.integers(1, 60))
        for extra in ([], [np.inf], [-np.inf, np.nan]):
            h = histogram(np.r_[x, extra], lo, hi, bins)
            assert h.counts.sum() == 30 and (h.under, h.over) == (extra.count(-np.inf), extra.count(np.inf))
            assert h.nan == sum(1 for e in extra if e != e)
