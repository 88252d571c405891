"""A training loop that advances one step at a time.

One step: draw a mini-batch (a fresh shuffle every epoch), run the net in
training mode, compute the loss, backpropagate, update the weights. Then, every
``eval_every`` steps, measure loss and accuracy on the whole train and test
sets in eval mode (dropout off, batch norm on its running statistics).

Each step appends to ``history``: the mini-batch loss, per block the norm of
the weight gradient ‖dL/dW‖ and of the gradient reaching the block's input,
and the 15th/50th/85th percentiles of each block's pre-activations (the plot
of the batch-norm paper). If the loss turns NaN or infinite, training stops
with a message in ``message`` instead of raising.
"""

from __future__ import annotations

import numpy as np

from .datasets import Dataset
from .losses import SoftmaxCrossEntropy, accuracy
from .module import check_bool, check_int
from .nets import DeepNet
from .optim import Optimizer

PERCENTILES = (15, 50, 85)


class Trainer:
    def __init__(self, net: DeepNet, data: Dataset, optimizer: Optimizer, *, batch_size: int = 64,
                 seed: int = 0, eval_every: int = 1, record_stats: bool = True):
        if not isinstance(net, DeepNet):
            raise ValueError(f"net must be a DeepNet (from build_net); got {type(net).__name__}")
        if not isinstance(data, Dataset):
            raise ValueError(f"data must be a Dataset (from make_dataset); got {type(data).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be an Optimizer (SGD, Adam, make_optimizer); "
                             f"got {type(optimizer).__name__}")
        if optimizer.model is not net:
            raise ValueError("optimizer must update this net: build it with make_optimizer(name, net, lr)")
        c = net.config
        n_in = c.width if c.in_features is None else c.in_features
        n_out = c.width if c.out_features is None else c.out_features
        n_features = data.X_train.shape[1]
        if n_in != n_features or n_out != data.n_classes:
            raise ValueError(f"net must take {n_features} input features and give {data.n_classes} outputs "
                             f"(one per class) for this dataset; got in_features={n_in}, out_features={n_out}")
        self.net, self.data, self.optimizer = net, data, optimizer
        self.batch_size = check_int(batch_size, "batch_size")
        self.eval_every = check_int(eval_every, "eval_every")
        self.record_stats = check_bool(record_stats, "record_stats")
        check_int(seed, "seed", low=0)
        self.loss_fn = SoftmaxCrossEntropy()
        self.rng = np.random.default_rng([seed, 7])
        self.dtype = net.linears[0].params["W"].dtype if net.linears else np.float64
        self.X_train = data.X_train.astype(self.dtype)
        self.X_test = data.X_test.astype(self.dtype)
        self.step_count = 0
        self.stopped = False
        self.message = ""
        self._order = np.empty(0, int)
        self._pos = 0
        self.history: dict[str, list] = {k: [] for k in (
            "step", "batch_loss", "grad_norms", "input_grad_norms", "pre_act_percentiles",
            "eval_step", "train_loss", "train_acc", "test_loss", "test_acc")}

    def _next_batch(self) -> np.ndarray:
        n = len(self.X_train)
        b = min(self.batch_size, n)
        if self._pos + b > len(self._order):
            self._order = self.rng.permutation(n)
            self._pos = 0
        idx = self._order[self._pos:self._pos + b]
        self._pos += b
        return idx

    def evaluate(self, X, y) -> tuple[float, float]:
        """Loss and accuracy in eval mode.

        The net is put back in training mode after, and keeps no cache of this
        pass (a whole data set's activations, which the next step would replace).
        """
        self.net.eval()
        try:
            logits = self.net.forward(X)
            return self.loss_fn.forward(logits, y), accuracy(logits, y)
        finally:
            self.net.train()
            self.net.clear_cache()

    def _stop(self, what: str) -> None:
        self.stopped = True
        self.message = (f"Training stopped at step {self.step_count}: {what} became NaN or infinite "
                        "(the run diverged). Lower the learning rate, add normalization, or reset.")

    def step(self) -> dict | None:
        """Advance one step; return this step's record, or ``None`` once stopped."""
        if self.stopped:
            return None
        net = self.net
        net.train()
        idx = self._next_batch()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                logits = net.forward(self.X_train[idx])
            except ValueError as err:          # e.g. a batch of one with BatchNorm
                self.stopped, self.message = True, f"Training stopped: {err}"
                return None
            loss = self.loss_fn.forward(logits, self.data.y_train[idx])
            if not np.isfinite(loss):
                self._stop("the loss")
                return None
            net.backward(self.loss_fn.backward())
            self.optimizer.step()
        self.step_count += 1
        h = self.history
        h["step"].append(self.step_count)
        h["batch_loss"].append(loss)
        if self.record_stats:
            h["grad_norms"].append([float(np.linalg.norm(lin.grads["W"])) for lin in net.linears])
            h["input_grad_norms"].append([float(np.linalg.norm(g)) for g in net.block_input_grads()])
            pre = net.pre_activations()
            h["pre_act_percentiles"].append(
                np.percentile(np.stack(pre), PERCENTILES, axis=(1, 2)).T if pre else np.empty((0, 3)))
        record = {"step": self.step_count, "batch_loss": loss}
        if self.step_count % self.eval_every == 0:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                tr = self.evaluate(self.X_train, self.data.y_train)
                te = self.evaluate(self.X_test, self.data.y_test)
            if not (np.isfinite(tr[0]) and np.isfinite(te[0])):
                self._stop("the evaluation loss")
            for key, v in zip(("train_loss", "train_acc", "test_loss", "test_acc"), (*tr, *te)):
                h[key].append(v)
                record[key] = v
            h["eval_step"].append(self.step_count)
        return record

    def run(self, steps: int) -> dict:
        """Advance up to ``steps`` steps (fewer if training stops); return the history."""
        for _ in range(check_int(steps, "steps", low=0)):
            if self.step() is None:
                break
        return self.history

    def final(self, key: str) -> float:
        """The last recorded value of a metric (``nan`` if none yet)."""
        if key not in self.history:
            raise ValueError(f"key must be one of {tuple(self.history)}; got {key!r}")
        values = self.history[key]
        return values[-1] if values else float("nan")
