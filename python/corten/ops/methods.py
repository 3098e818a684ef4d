"""Every Tensor method that an op module provides, in one table, attached once.

Each ops module lists its methods in a `METHODS` dict beside the functions they
call; `TENSOR_METHODS` merges them (a name may come from one module only) and
`attach()` sets them on Tensor. The typed declarations of the same methods in
tensor.py (for type checkers and editors) are generated from this table by
tools/gen_tensor_api.py; tests/test_op_table.py fails when they drift apart.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import complex, cumulative, elementwise, indexing, join, linalg, reduction, shape, sorting

_MODULES = (elementwise, reduction, cumulative, shape, indexing, join, linalg, sorting, complex)


def _merge() -> dict[str, Any]:
    table: dict[str, Any] = {}
    owner: dict[str, str] = {}
    for module in _MODULES:
        for name, fn in module.METHODS.items():
            if name in table:
                raise RuntimeError(f"Tensor.{name} is defined by both {owner[name]} and {module.__name__}")
            table[name], owner[name] = fn, module.__name__
    return table


TENSOR_METHODS: dict[str, Any] = _merge()


def attach() -> None:
    for name, fn in TENSOR_METHODS.items():
        setattr(Tensor, name, fn)


attach()
