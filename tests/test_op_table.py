"""The op table (corten/ops/table.py) is what every other part reads: these
tests fail when a new op is declared in one place and forgotten in another, and
when the Python table and the C++ op list (`_C.op_kinds()`) disagree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import corten as ct
import numpy as np
import pytest
from corten import _C
from corten._dtype import COMPLEX_DTYPES, REAL_DTYPES, bool_
from corten.ops import elementwise as ew
from corten.ops.methods import TENSOR_METHODS
from corten.ops.table import BINARY_OPS, BY_NAME, KINDS, OPS, UNARY_OPS

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
        assert op.differentiable == (op.kind not in ("to_bool", "integral", "integer")), op.name
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


@pytest.mark.skipif(not (ROOT / "tools" / "gen_tensor_api.py").exists(),
                    reason="a check of the source tree: the tests run from a copy, against an installed wheel")
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
    # the class's own attribute (a property has no bound form to compare through getattr)
    assert ct.Tensor.__dict__[name] is TENSOR_METHODS[name]


# ---- the Python table against the C++ list (cpp/op_list.h, cpp/ops.h) ---------------------------

CPP = _C.op_kinds()
CPP_UNARY, CPP_BINARY = CPP["unary"], CPP["binary"]


def test_cpp_and_python_declare_the_same_ops_with_the_same_kinds():
    assert CPP_UNARY == {op.name: op.kind for op in UNARY_OPS}
    assert CPP_BINARY == {op.name: op.kind for op in BINARY_OPS}


def _accepts(kind: str, d) -> bool:
    """Input dtypes the kernel of an op of this kind takes (one dtype for all operands)."""
    return {
        "any": True,
        "to_bool": True,
        "numeric": d is not bool_,
        "integral": d.kind in "bi",
        "integer": d.kind == "i",
        "float": d.kind == "f",
    }[kind]


def _rule_kind(rule) -> str:
    """The kind a Python dtype rule (dtype) -> (compute, result) implies, worked out
    from what it does to every dtype."""
    results = {}
    for d in REAL_DTYPES:
        try:
            results[d] = rule(d)
        except TypeError:
            pass
    if all(r == (d, bool_) for d, r in results.items()) and len(results) == len(REAL_DTYPES):
        return "to_bool"
    if len(results) == len(REAL_DTYPES) and all(c.kind == "f" for c, _ in results.values()):
        return "float" if any(d.kind != "f" for d in results) else "any"
    assert all(r == (d, d) for d, r in results.items()), results
    rejected = set(REAL_DTYPES) - set(results)
    if not rejected:
        return "any"
    if rejected == {bool_}:
        return "numeric"
    if rejected == {d for d in REAL_DTYPES if d.kind == "f"}:
        return "integral"
    if rejected == {d for d in REAL_DTYPES if d.kind in "bf"}:
        return "integer"
    raise AssertionError(f"no kind rejects exactly {sorted(d.name for d in rejected)}")


@pytest.mark.parametrize("op", [op.name for op in OPS])
def test_python_dtype_rules_behave_as_the_kind_says(op):
    rule = ew._unary_dtypes if BY_NAME[op].arity == 1 else ew._binary_dtypes
    assert _rule_kind(lambda d: rule(op, d)) == BY_NAME[op].kind


def _arrays(d, n):
    return [np.ones(3, d.np) for _ in range(n)]


@pytest.mark.parametrize("op", [op.name for op in OPS])
def test_kernels_accept_exactly_their_kind(op):
    arity = BY_NAME[op].arity
    kind = (CPP_UNARY if arity == 1 else CPP_BINARY)[op]
    for d in REAL_DTYPES:
        out = np.empty(3, np.bool_ if kind == "to_bool" else d.np)
        if _accepts(kind, d):
            getattr(_C, op)(*_arrays(d, arity), out)
            wrong = np.empty(3, np.int32 if out.dtype != np.int32 else np.int64)
            with pytest.raises(ValueError, match="output has dtype"):
                getattr(_C, op)(*_arrays(d, arity), wrong)
        else:
            with pytest.raises(ValueError, match=f"{op}: not supported for dtype {d.name}"):
                getattr(_C, op)(*_arrays(d, arity), out)


def test_complex_support_agrees_with_the_kernels():
    """A row's `complex` flag is exactly the ops cpp/ops.h gives complex kernels."""
    cpp = _C.op_kinds()["complex"]
    assert {op.name for op in OPS if op.complex} == set(cpp)
    for op in OPS:
        for d in COMPLEX_DTYPES:
            rule = ew._unary_dtypes if op.arity == 1 else ew._binary_dtypes
            if op.complex:
                assert cpp[op.name] == ("unary" if op.arity == 1 else "binary")
                cd, od = rule(op.name, d)
                assert cd is d and od is (bool_ if op.kind == "to_bool" else d)
                out = np.empty(3, od.np)
                getattr(_C, op.name)(*[np.ones(3, d.np) for _ in range(op.arity)], out)
            else:
                with pytest.raises(TypeError, match=f"{op.name} is not supported for complex tensors yet"):
                    rule(op.name, d)
                with pytest.raises(ValueError, match=f"{op.name}: not supported for dtype {d.name}"):
                    out = np.empty(3, np.bool_ if op.kind == "to_bool" else d.np)
                    getattr(_C, op.name)(*[np.ones(3, d.np) for _ in range(op.arity)], out)
