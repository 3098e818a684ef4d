"""corten: a small deep-learning tensor library with a C++ core.

    import corten as ct
    x = ct.randn(3, 4, requires_grad=True)
    (x.relu() * 2).sum().backward()
"""

from __future__ import annotations

# ruff: noqa: E402  (the OpenMP setting below must precede loading the kernels)
import builtins
import os

# Idle kernel workers spin for 30,000 rounds (about 0.45 ms here; a round is one
# `pause`, whose cost varies by CPU) before they sleep. A training step runs
# parallel loops with gaps of a few hundred microseconds between them (the small
# layers' one-thread kernels, the interpreter); waking a sleeping worker costs
# 35-55 us here. 10,000 rounds (~0.15 ms) let the worker sleep inside every
# 784-512-10 step: 1.72 ms per step against 1.54 ms with 30,000 (median of 5
# alternating runs; 100,000 gained nothing more). The libgomp default (300,000
# rounds: 1-4 ms here) keeps a core busy after the work is done, which a busy
# machine pays for. libgomp reads the setting once, when it
# loads, and has no call to change it later; PyTorch loads the same runtime (one
# libgomp per process), so whichever library is imported first decides. When
# the runtime is already loaded (PyTorch imported first), setting it here would
# change nothing in this process, only in child processes, so it is left alone.
# A clang build loads LLVM's libomp instead, which ignores GOMP_SPINCOUNT and
# reads KMP_BLOCKTIME (milliseconds; its default of 200 burns ~3 ms per idle
# 0.1 s here, 1 ms burns ~0.01 ms): both are set, each runtime reads its own.
# A user's OMP_WAIT_POLICY, GOMP_SPINCOUNT or KMP_BLOCKTIME always wins. See
# docs/benchmarks.md ("One OpenMP runtime per process") for the measurements.


def _openmp_loaded() -> builtins.bool:
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return False
    return any(runtime in maps for runtime in ("libgomp", "libomp", "libiomp"))


ENV_SET_ON_IMPORT: dict[str, str] = {}  # what this import added to os.environ
_SPIN_SETTINGS = {"GOMP_SPINCOUNT": "30000", "KMP_BLOCKTIME": "1"}
if not ({"OMP_WAIT_POLICY", *_SPIN_SETTINGS} & os.environ.keys()) and not _openmp_loaded():
    ENV_SET_ON_IMPORT.update(_SPIN_SETTINGS)
    os.environ.update(_SPIN_SETTINGS)

from . import _C, data, distributed, fft, linalg, nn, optim
from ._array_api import (
    __array_api_version__,
    __array_namespace_info__,
    can_cast,
    e,
    finfo,
    iinfo,
    inf,
    isdtype,
    nan,
    newaxis,
    pi,
    result_type,
)
from ._capture import compile
from ._creation import (
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from ._dtype import DType, bool_, complex64, complex128, float32, float64, int32, int64, promote_types, uint8
from ._shape import AxisError
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .checkpoint import load, save
from .ops import methods as _methods  # attaches every op's Tensor methods
from .ops.complex import conj, imag, real
from .ops.cumulative import cumprod, cumsum
from .ops.elementwise import *  # every op of the table in ops/table.py, plus where, clip, astype, clone
from .ops.indexing import (
    index_add,
    index_select,
    masked_fill,
    nonzero,
    one_hot,
    put_along_axis,
    take,
    take_along_axis,
)
from .ops.join import (
    array_split,
    cat,
    chunk,
    concat,
    flip,
    pad,
    repeat,
    roll,
    split,
    stack,
    tile,
    tril,
    triu,
)
from .ops.linalg import dot, einsum, inner, matmul, outer, tensordot, vdot
from .ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
    vector_norm,
)
from .ops.shape import (
    broadcast_arrays,
    broadcast_to,
    contiguous,
    expand_dims,
    flatten,
    is_contiguous,
    moveaxis,
    permute,
    ravel,
    reshape,
    squeeze,
    swapaxes,
    transpose,
    unsqueeze,
    view,
)
from .ops.sorting import argsort, sort, sort_with_indices, topk, unique
from .ops.standard import (
    UniqueAllResult,
    UniqueCountsResult,
    UniqueInverseResult,
    broadcast_shapes,
    count_nonzero,
    cumulative_prod,
    cumulative_sum,
    diff,
    isin,
    matrix_transpose,
    meshgrid,
    permute_dims,
    positive,
    searchsorted,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
    unstack,
    vecdot,
)
from .random import Generator, manual_seed, rand, randint, randn, randperm
from .tensor import Tensor

bool = bool_  # noqa: A001  (corten.bool, as torch.bool)
expand = broadcast_to


def get_num_threads() -> int:
    """Threads the kernels use (OMP_NUM_THREADS or the core count by default)."""
    return _C.get_num_threads()


def set_num_threads(n: int) -> None:
    if int(n) < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    _C.set_num_threads(int(n))


def gemm_kernel() -> str:
    """The matmul micro-kernel chosen at run time: "avx512", "avx2-fma" or "portable"."""
    return _C.gemm_kernel()


def set_gemm_kernel(name: str) -> None:
    """Cap the matmul kernel: "portable", "avx2", "avx512" or "best" (also:
    CORTEN_GEMM_KERNEL=NAME). ValueError for a name this CPU cannot run."""
    _C.set_gemm_kernel(str(name))


def set_gemm_fallback(on: builtins.bool) -> None:
    """Force the portable matmul kernel (also: CORTEN_GEMM_FALLBACK=1)."""
    _C.set_gemm_fallback(builtins.bool(on))  # corten.bool (the dtype) shadows the builtin here


def simd_level() -> str:
    """The instruction set every kernel family uses now: "generic", "avx2" or "avx512".

    The CPU's best level, capped by the environment variable CORTEN_SIMD (read once,
    at import) or by set_simd_level."""
    return _C.simd_level()


def simd_available() -> list[str]:
    """The levels this CPU can run, lowest first (always starts with "generic")."""
    return list(_C.simd_available())


def set_simd_level(level: str | None) -> None:
    """Cap the instruction set at `level` ("generic", "avx2", "avx512"); None restores CORTEN_SIMD's cap.

    A cap above what the CPU has leaves the CPU's best level in force."""
    _C.set_simd_cap("" if level is None else str(level))


if _C.simd_env_problem():  # CORTEN_SIMD holds something that is not a level
    import warnings

    warnings.warn(_C.simd_env_problem(), RuntimeWarning, stacklevel=2)


__version__ = "0.1.0"
