"""corten.optim: optimizers whose updates are in-place C++ kernels, and LR schedules."""

from . import lr_scheduler
from .optimizer import Optimizer
from .optimizers import SGD, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
