"""The numpy engine: every trick as a layer with an exact forward and backward pass.

Only numpy is imported here. Each file holds one idea:

==================  ==================================================
module.py           the layer protocol and argument checks
linear.py           ``Linear`` and weight initialisation
activations.py      ``ReLU``, ``Tanh``, ``Sigmoid``
dropout.py          ``Dropout`` (inverted dropout)
batchnorm.py        ``BatchNorm`` (as ``torch.nn.BatchNorm1d``)
layernorm.py        ``LayerNorm``
residual.py         ``Residual`` (``y = x + F(x)``)
sequential.py       ``Sequential``
nets.py             ``build_net`` / ``DeepNet``: deep stacks of blocks
losses.py           softmax cross-entropy, mean squared error
optim.py            SGD, momentum, Adam
training.py         ``Trainer``: one step at a time
datasets.py         seeded toy datasets
stats.py            fast histograms and per-layer statistics
variance_shift.py   dropout before BatchNorm: running vs test-time variance
gradcheck.py        finite-difference gradient checks
==================  ==================================================
"""

from .activations import ACTIVATIONS, ReLU, Sigmoid, Tanh, activation
from .batchnorm import BatchNorm
from .datasets import DATASETS, Dataset, corrupt_labels, make_dataset
from .dropout import Dropout
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layernorm import LayerNorm
from .linear import INITS, Linear
from .losses import MSELoss, SoftmaxCrossEntropy, accuracy, softmax
from .module import Layer
from .nets import DROPOUT_AT, NORMS, DeepNet, NetConfig, build_net
from .optim import OPTIMIZERS, SGD, Adam, Optimizer, make_optimizer
from .residual import Residual
from .sequential import Sequential
from .stats import Histogram, LayerStats, histogram, layer_stats
from .training import Trainer
from .variance_shift import expected_shift, variance_shift

__all__ = [
    "ACTIVATIONS", "DATASETS", "DROPOUT_AT", "INITS", "NORMS", "OPTIMIZERS",
    "Adam", "BatchNorm", "Dataset", "DeepNet", "Dropout", "Histogram", "Layer", "LayerNorm",
    "LayerStats", "Linear", "MSELoss", "NetConfig", "Optimizer", "ReLU", "Residual", "SGD",
    "Sequential", "Sigmoid", "SoftmaxCrossEntropy", "Tanh", "Trainer",
    "accuracy", "activation", "build_net", "check_layer", "corrupt_labels", "histogram", "layer_stats",
    "make_dataset", "make_optimizer", "numerical_gradient", "rel_error", "softmax",
    "expected_shift", "variance_shift",
]
