"""Checkpoints in the safetensors format: corten.save(state_dict, path) and
corten.load(path). Files are interchangeable with PyTorch's
safetensors.torch.save_file / load_file. Needs the `safetensors` package
(pip install 'corten[train]')."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import numpy as np

from .tensor import Tensor


def _safetensors_numpy() -> Any:
    try:
        from safetensors import numpy as st
    except ImportError:
        raise ImportError("corten.save/load need the safetensors package: pip install safetensors") from None
    return st


def save(state_dict: dict, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write a flat {name: tensor} mapping (e.g. module.state_dict()) to a .safetensors file."""
    st = _safetensors_numpy()
    arrays = {}
    for k, v in state_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"checkpoint keys must be strings, got {type(k).__name__}")
        if isinstance(v, Tensor):
            a = v._a
        elif hasattr(v, "detach") and hasattr(v, "cpu"):
            a = v.detach().cpu().numpy()
        elif isinstance(v, (np.ndarray, np.generic, int, float, bool)):
            a = np.asarray(v)
        else:
            raise TypeError(f"checkpoint value {k!r} must be a tensor or array, got {type(v).__name__}")
        arrays[k] = a if a.flags.c_contiguous else a.copy()  # keeps 0-d shapes
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    st.save_file(arrays, path, metadata=metadata)


def load(path: str | os.PathLike) -> OrderedDict:
    """Read a .safetensors file into an ordered {name: Tensor} dict (for load_state_dict)."""
    st = _safetensors_numpy()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        arrays = st.load_file(path)
    except Exception as e:  # safetensors raises its own error types
        raise ValueError(f"{path} is not a readable safetensors file: {e}") from None
    return OrderedDict((k, Tensor._wrap(_corten_array(k, v))) for k, v in arrays.items())


def _corten_array(name: str, v: Any) -> np.ndarray:
    """The stored array as a dtype corten has (float16 -> float32, small ints ->
    int32, uint32/uint64 -> int64), aligned and native; ValueError otherwise."""
    from ._dtype import _BY_NP

    a = np.asarray(v)
    if a.dtype not in _BY_NP:
        k, size = a.dtype.kind, a.dtype.itemsize
        if k == "f" and size < 4:
            a = a.astype(np.float32)
        elif k in "iu" and size < 4:
            a = a.astype(np.int32)
        elif k == "u" and (size == 4 or a.size == 0 or int(a.max()) <= np.iinfo(np.int64).max):
            a = a.astype(np.int64)
        else:
            raise ValueError(f"checkpoint entry {name!r} has dtype {a.dtype}, which corten cannot hold")
    if not a.flags.aligned or not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))  # a fresh, aligned copy
    return a
