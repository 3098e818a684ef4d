"""corten.nn: modules, layers, losses, initialisers and the functional API."""

from . import functional, init, parallel
from .layers import (
    GELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = [
    "functional",
    "init",
    "parallel",
    "Module",
    "Parameter",
    "Identity",
    "Linear",
    "Flatten",
    "Sequential",
    "ReLU",
    "LeakyReLU",
    "GELU",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Dropout",
    "LayerNorm",
    "BatchNorm1d",
    "Embedding",
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "L1Loss",
    "BCEWithLogitsLoss",
]
