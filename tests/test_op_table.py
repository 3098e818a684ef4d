"""The op table (corten/ops/table.py) is what every other part reads: these
tests fail when a new op is declared in one place and forgotten in another."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import corten as ct
import pytest
from corten.ops.methods import TENSOR_METHODS
from corten.ops.table import KINDS, OPS

ROOT = Path(__file__).resolve().parent.parent


def test_every_row_is_a_function_a_method_and_exported():
    for op in OPS:
        assert op.kind in KINDS, op
        for name in (op.name, *op.aliases):
            assert callable(getattr(ct, name)), name
            assert name in ct.ops.elementwise.__all__, name
            assert TENSOR_METHODS.get(name) is getattr(ct, name), name
        for name in op.method_aliases:
            assert TENSOR_METHODS[name] is getattr(ct, op.name), name
        if op.inplace:
            assert hasattr(ct.Tensor, op.name + "_"), op.name


def test_gradient_rules_and_domains_agree_with_kinds():
    for op in OPS:
        # bool-valued and integer-only ops have no gradient; every other one has a rule and a test domain
        assert op.differentiable == (op.kind not in ("predicate", "integer")), op.name
        if op.differentiable:
            assert op.domain is not None, op.name
            rules = (op.grad,) if op.arity == 1 else op.grad
            assert len(rules) == 1 if op.arity == 1 else len(rules) == 2
            assert all(callable(r) for r in rules), op.name
            assert len(op.domain) == (3 if op.arity == 1 else 2), op.name


def test_every_row_has_a_kernel():
    for op in OPS:
        assert hasattr(ct._C, op.name), f"{op.name} is in the table but not in cpp/op_list.h"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_tensor_api", ROOT / "tools" / "gen_tensor_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_declarations_are_current():
    """tensor.py, ops/elementwise.py and _C.pyi declare what is built at import
    time; regenerate with `python tools/gen_tensor_api.py` after adding an op."""
    gen = _generator()
    tensor_src = gen.TENSOR_PY.read_text()
    assert gen.current_block(tensor_src) == gen.generated_block()
    ew_src = gen.ELEMENTWISE_PY.read_text()
    assert gen.current_block(ew_src, gen.FN_BEGIN, gen.FN_END) == gen.generated_functions()
    assert gen.KERNELS_PYI.read_text() == gen.generated_kernels()


@pytest.mark.parametrize("name", sorted(TENSOR_METHODS))
def test_every_method_is_attached(name):
    assert getattr(ct.Tensor, name) is TENSOR_METHODS[name] or isinstance(TENSOR_METHODS[name], property)
