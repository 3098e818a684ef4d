"""The C++ element-wise op table agrees with the Python side.

Each functor in cpp/ops.h declares its kind once; `_C.op_kinds()` exports them.
These tests check the kinds against the dtype rules in ops/elementwise.py (its
op sets and the rules derived from them) and against what each kernel actually
accepts, so the two sides cannot drift apart silently.
"""

import numpy as np
import pytest
from corten import _C
from corten._dtype import ALL_DTYPES, bool_
from corten.ops import elementwise as ew

KINDS = _C.op_kinds()
UNARY, BINARY = KINDS["unary"], KINDS["binary"]
KIND_NAMES = {"any", "numeric", "integral", "float", "to_bool"}


def _python_binary_kind(op: str) -> str:
    """The kind ops/elementwise.py's sets give a binary op."""
    if op == "divide":
        return "float"
    if op in ew._COMPARE or op in ew._LOGICAL:
        return "to_bool"
    if op in ew._BITWISE:
        return "integral"
    if op in ew._NO_BOOL:
        return "numeric"
    return "any"


def _python_unary_kind(op: str) -> str:
    if op in ew._FLOAT_UNARY:
        return "float"
    if op in ew._PREDICATE:
        return "to_bool"
    if op in ew._NO_BOOL_UNARY:
        return "numeric"
    if op == "bitwise_not":
        return "integral"
    return "any"


def _accepts(kind: str, d) -> bool:
    """Input dtypes the kernel of an op of this kind takes (one dtype for all operands)."""
    return {
        "any": True,
        "to_bool": True,
        "numeric": d is not bool_,
        "integral": d.kind in "bi",
        "float": d.kind == "f",
    }[kind]


def _rule_kind(rule) -> str:
    """The kind a Python dtype rule (op, dtype) -> (compute, result) implies."""
    results = {}
    for d in ALL_DTYPES:
        try:
            results[d] = rule(d)
        except TypeError:
            pass
    if all(r == (d, bool_) for d, r in results.items()) and len(results) == len(ALL_DTYPES):
        return "to_bool"
    if len(results) == len(ALL_DTYPES) and all(c.kind == "f" for c, _ in results.values()):
        return "float" if any(d.kind != "f" for d in results) else "any"
    assert all(r == (d, d) for d, r in results.items()), results
    rejected = set(ALL_DTYPES) - set(results)
    if not rejected:
        return "any"
    if rejected == {bool_}:
        return "numeric"
    if rejected == {d for d in ALL_DTYPES if d.kind == "f"}:
        return "integral"
    raise AssertionError(f"no kind rejects exactly {sorted(d.name for d in rejected)}")


def test_kinds_are_known_names():
    assert set(UNARY.values()) | set(BINARY.values()) <= KIND_NAMES
    assert not set(UNARY) & set(BINARY)


def test_binary_names_match_python():
    assert set(BINARY) == set(ew._BINARY_OPS)
    for name in BINARY:
        assert callable(getattr(_C, name))


def test_unary_names_match_python():
    python_sets = ew._FLOAT_UNARY | ew._PREDICATE | ew._NO_BOOL_UNARY | {"bitwise_not"}
    assert python_sets <= set(UNARY)
    for name in UNARY:
        assert callable(getattr(ew, name)), name
        assert callable(getattr(_C, name)), name


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_kind_matches_python_sets(op):
    assert BINARY[op] == _python_binary_kind(op)


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_kind_matches_python_sets(op):
    assert UNARY[op] == _python_unary_kind(op)


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_kind_matches_python_rules(op):
    # "float" ops compute integer inputs in float on the Python side; the kernel sees floats only.
    assert _rule_kind(lambda d: ew._binary_dtypes(op, d)) == BINARY[op]


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_kind_matches_python_rules(op):
    assert _rule_kind(lambda d: ew._unary_dtypes(op, d)) == UNARY[op]


def _arrays(d, n):
    return [np.ones(3, d.np) for _ in range(n)]


@pytest.mark.parametrize(("op", "arity"), [(o, 1) for o in sorted(UNARY)] + [(o, 2) for o in sorted(BINARY)])
def test_kernels_accept_exactly_their_kind(op, arity):
    kind = (UNARY if arity == 1 else BINARY)[op]
    for d in ALL_DTYPES:
        out = np.empty(3, np.bool_ if kind == "to_bool" else d.np)
        if _accepts(kind, d):
            getattr(_C, op)(*_arrays(d, arity), out)
            wrong = np.empty(3, np.int32 if out.dtype != np.int32 else np.int64)
            with pytest.raises(ValueError, match="output has dtype"):
                getattr(_C, op)(*_arrays(d, arity), wrong)
        else:
            with pytest.raises(ValueError, match=f"{op}: not supported for dtype {d.name}"):
                getattr(_C, op)(*_arrays(d, arity), out)
