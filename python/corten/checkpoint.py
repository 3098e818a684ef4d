"""Checkpoints in the safetensors format: corten.save(obj, path) and
corten.load(path). Files are interchangeable with PyTorch's
safetensors.torch.save_file / load_file. Reading needs the `safetensors`
package (pip install 'corten[train]').

A flat {name: tensor} mapping (a module's state_dict) is stored as is. A nested
object (an optimizer's state_dict, a training checkpoint) is stored as its
tensors under dotted names ("state.0.exp_avg") plus a JSON description of the
structure and of the non-tensor values (numbers, strings, lists, None) in the
file's metadata under TREE_KEY; load() rebuilds the same object. Writes are
deterministic (same content, same bytes) and atomic (corten._atomic): a crash
leaves the old file or the new one. Only load() needs the safetensors package.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _atomic
from .tensor import Tensor

TREE_KEY = "corten.tree"  # metadata entry holding the JSON structure of a nested object
CRC_KEY = "corten.crc32"  # metadata entry: {name: CRC-32 of the stored bytes}, checked by load()
_TENSOR = "__tensor__"  # {"__tensor__": name}: a tensor stored under `name`
_DICT = "__dict__"  # {"__dict__": [[key, value], ...]}: a dict (keys may be ints)
_TUPLE = "__tuple__"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: the message names the file and the fault."""


def _safetensors_numpy() -> Any:
    try:
        from safetensors import numpy as st
    except ImportError:
        raise ImportError("corten.save/load need the safetensors package: pip install safetensors") from None
    return st


def _as_array(name: str, v: Any) -> np.ndarray | None:
    """The array behind a tensor-like value, or None for a plain (JSON) value."""
    if isinstance(v, Tensor):
        a = v._a
    elif hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch tensor
        a = v.detach().cpu().numpy()
    elif isinstance(v, (np.ndarray, np.generic)):
        a = np.asarray(v)
    else:
        return None
    return a if a.flags.c_contiguous else a.copy()  # keeps 0-d shapes


def _encode(obj: Any, name: str, arrays: dict) -> Any:
    """JSON structure of obj; tensors go into `arrays` under dotted names."""
    a = _as_array(name, obj)
    if a is not None:
        if name in arrays:
            raise ValueError(f"checkpoint: two entries are both stored under the name {name!r}")
        arrays[name] = a
        return {_TENSOR: name}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"checkpoint keys must be strings or ints, got {type(k).__name__} in {name!r}")
            items.append([k, _encode(v, f"{name}.{k}" if name else str(k), arrays)])
        return {_DICT: items}
    if isinstance(obj, (list, tuple)):
        out = [_encode(v, f"{name}.{i}" if name else str(i), arrays) for i, v in enumerate(obj)]
        return {_TUPLE: out} if isinstance(obj, tuple) else out
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint value {name!r} must be a tensor, array, number, string or container, "
                    f"got {type(obj).__name__}")


def _is_flat(obj: Any) -> bool:
    return isinstance(obj, dict) and all(isinstance(k, str) for k in obj) and all(
        _as_array(k, v) is not None or isinstance(v, (int, float, bool)) for k, v in obj.items()
    )


def save(obj: Any, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write a flat {name: tensor} mapping (e.g. module.state_dict()) or a nested
    object of tensors and plain values (e.g. optimizer.state_dict()) to a
    .safetensors file, atomically."""
    if not isinstance(obj, dict):
        raise TypeError(f"corten.save expects a dict, got {type(obj).__name__}")
    meta = dict(metadata or {})
    if any(not isinstance(k, str) or not isinstance(v, str) for k, v in meta.items()):
        raise TypeError("checkpoint metadata must map strings to strings")
    arrays: dict = {}
    if _is_flat(obj):
        for k, v in obj.items():
            a = _as_array(k, v)
            arrays[k] = np.asarray(v) if a is None else a
    else:
        meta[TREE_KEY] = json.dumps(_encode(obj, "", arrays), allow_nan=True)
    _write_safetensors(path, arrays, meta)


# safetensors dtype names; arrays are stored little-endian
_ST_DTYPES = {"b": "BOOL", "u1": "U8", "i1": "I8", "i2": "I16", "u2": "U16", "f2": "F16", "i4": "I32",
              "u4": "U32", "f4": "F32", "f8": "F64", "i8": "I64", "u8": "U64"}


def _write_safetensors(path: str | os.PathLike, arrays: dict, meta: dict) -> None:
    """The safetensors layout, deterministically (same tensors and metadata, same
    bytes): 8-byte little-endian header length, JSON header padded with spaces to a
    multiple of 8, then the tensors, largest items first so each stays aligned.
    Streamed into an atomic write: no second copy of the tensors in memory."""
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header: dict = {}
    out, crcs, offset = [], {}, 0
    for k in order:
        a = arrays[k]
        code = "b" if a.dtype == np.bool_ else f"{a.dtype.kind}{a.dtype.itemsize}"
        if code not in _ST_DTYPES:
            raise TypeError(f"checkpoint value {k!r} has dtype {a.dtype}, which safetensors cannot store")
        if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and np.little_endian is False):
            a = a.astype(a.dtype.newbyteorder("<"))
        a = a if a.flags.c_contiguous else a.copy()  # (ascontiguousarray makes 0-d arrays 1-d)
        header[k] = {"dtype": _ST_DTYPES[code], "shape": list(a.shape),
                     "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        out.append(a)
        crcs[k] = zlib.crc32(_bytes(a))
    meta = {**meta, CRC_KEY: json.dumps(crcs, separators=(",", ":"))}
    header = {"__metadata__": dict(sorted(meta.items())), **header}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    with _atomic.atomic_open(path) as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for a in out:
            if a.nbytes:
                f.write(_bytes(a))


def _bytes(a: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array (bool and 0-d included)."""
    return memoryview(a.reshape(-1).view(np.uint8).data)


def load(path: str | os.PathLike) -> Any:
    """Read a .safetensors file: a flat ordered {name: Tensor} dict (for
    load_state_dict), or the nested object save() was given. Raises
    CheckpointError (a ValueError) naming the file and the fault."""
    arrays, meta = _read(path)
    path = os.fspath(path)
    if TREE_KEY not in meta:
        return OrderedDict((k, Tensor._wrap(_corten_array(k, v))) for k, v in arrays.items())
    try:
        tree = json.loads(meta[TREE_KEY])
    except ValueError as e:
        raise CheckpointError(f"{path}: the structure in its metadata is not valid JSON ({e})") from None
    used: set = set()
    out = _decode(tree, arrays, used, path)
    extra = sorted(set(arrays) - used)
    if extra:
        raise CheckpointError(f"{path}: tensors not named by its structure: {', '.join(extra[:5])}")
    return out


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The file's metadata (string to string), without the structure entry."""
    meta = _read(path, tensors=False)[1]
    meta.pop(TREE_KEY, None)
    meta.pop(CRC_KEY, None)
    return meta


def _read(path: str | os.PathLike, tensors: bool = True) -> tuple[dict, dict]:
    _safetensors_numpy()
    from safetensors import safe_open

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(path, framework="np") as f:
            meta = dict(f.metadata() or {})
            arrays = {k: f.get_tensor(k) for k in f.keys()} if tensors else {}
    except Exception as e:  # safetensors raises its own error types
        raise CheckpointError(f"{path} is not a readable safetensors file: {e}") from None
    if tensors and CRC_KEY in meta:  # written by corten: the bytes must be the ones written
        try:
            crcs = json.loads(meta[CRC_KEY])
            if not isinstance(crcs, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:
            raise CheckpointError(f"{path}: unreadable checksums ({e})") from None
        for k, a in arrays.items():
            if k not in crcs:
                raise CheckpointError(f"{path}: tensor {k!r} has no checksum (the header was altered)")
            if zlib.crc32(_bytes(np.ascontiguousarray(a))) != crcs[k]:
                raise CheckpointError(f"{path}: tensor {k!r} is corrupted (its checksum does not match)")
    return arrays, meta


def _decode(node: Any, arrays: dict, used: set, path: str) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays, used, path) for v in node]
    if isinstance(node, dict):
        if _TENSOR in node:
            name = node[_TENSOR]
            if name not in arrays:
                raise CheckpointError(f"{path}: missing tensor {name!r} (named by its structure)")
            used.add(name)
            return Tensor._wrap(_corten_array(name, arrays[name]))
        if _TUPLE in node:
            return tuple(_decode(v, arrays, used, path) for v in node[_TUPLE])
        if _DICT in node and all(isinstance(kv, list) and len(kv) == 2 for kv in node[_DICT]):
            return {k: _decode(v, arrays, used, path) for k, v in node[_DICT]}
        raise CheckpointError(f"{path}: unreadable entry in its structure: {str(node)[:80]}")
    return node


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
