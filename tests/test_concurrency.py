"""Threads and fork: kernels called from several Python threads agree with
sequential calls, the GIL is released during a kernel, and a process forked
after the OpenMP pool has run can still use corten (GNU libgomp would hang)."""

import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time

import corten as ct
import numpy as np
import pytest

N_THREADS = 4


def _run_in_threads(fn, n=N_THREADS, reps=5):
    """fn(i) from n threads at once, reps times each; returns the results per thread."""
    results = [[] for _ in range(n)]
    errors = []
    start = threading.Barrier(n)

    def work(i):
        try:
            start.wait()
            for _ in range(reps):
                results[i].append(fn(i))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    return results


# Shared inputs: big enough that each call uses the thread pool.
_rng = np.random.default_rng(0)
A = ct.tensor(_rng.standard_normal((300, 400)))
B = ct.tensor(_rng.standard_normal(400))
C = A.T  # a strided view

WORKLOADS = {
    "add_broadcast": lambda: A + B,
    "exp_strided": lambda: ct.exp(C),
    "where": lambda: ct.where(A > 0, A, B),
    "clip": lambda: ct.clip(A, -0.5, 0.5),
    "cast": lambda: A.astype("float32"),
    "sum": lambda: A.sum(axis=0),
    "matmul": lambda: A @ A.T,
    "batched_matmul": lambda: A.reshape(3, 100, 400) @ C[:, :50].reshape(1, 400, 50),
    "gather": lambda: A[ct.tensor([5, 0, 299, 7] * 50)],
}


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_threads_on_shared_inputs_match_sequential(name):
    fn = WORKLOADS[name]
    want = fn().numpy()
    for per_thread in _run_in_threads(lambda i: fn().numpy()):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)


def test_threads_writing_their_own_outputs_in_place():
    outs = [ct.zeros((300, 400), dtype="float64") for _ in range(N_THREADS)]

    def fn(i):
        ct.add(A, float(i), out=outs[i])
        outs[i] *= 2.0
        return None

    _run_in_threads(fn, reps=3)
    for i, o in enumerate(outs):
        np.testing.assert_array_equal(o.numpy(), (A.numpy() + i) * 2.0)


def test_threads_with_autograd():
    def fn(i):
        x = ct.tensor(A.numpy(), requires_grad=True)
        (ct.tanh(x * (i + 1)) * x).sum().backward()
        return x.grad.numpy()

    for i, per_thread in enumerate(_run_in_threads(fn, reps=2)):
        x = A.numpy()
        t = np.tanh(x * (i + 1))
        want = t + x * (1 - t**2) * (i + 1)
        for got in per_thread:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_thread_count_does_not_change_results():
    old = ct.get_num_threads()
    x = ct.tensor(_rng.standard_normal(1 << 18).astype(np.float32))
    try:
        res = []
        for n in (1, 2, 3, 8):
            ct.set_num_threads(n)
            res.append((ct.sigmoid(x) * x + 1).numpy())
    finally:
        ct.set_num_threads(old)
    for r in res[1:]:
        np.testing.assert_array_equal(r, res[0])


# Kernels that promise results independent of the thread count (docs/architecture.md,
# cpp/reduce_impl.h, cpp/gemm.cpp, cpp/loss.cpp, cpp/scan.cpp): reductions merge fixed
# chunks in order, every element of a matmul is one thread's sum in a fixed order,
# and row kernels (softmax, cross-entropy, scans) give each row to one thread.
# Sizes are large enough that every count below really splits the work.
_T = np.random.default_rng(1)
_R32 = _T.standard_normal((1024, 1536)).astype(np.float32)
_R64 = _T.standard_normal((700, 900))
_LOGITS = _T.standard_normal((4096, 100)).astype(np.float32) * 4
_LABELS = _T.integers(0, 100, 4096)
_PROBS = _T.dirichlet(np.ones(100), 4096).astype(np.float32)


def _grad_of(fn, a):
    x = ct.tensor(a, requires_grad=True)
    out = fn(x)
    (out * ct.tensor(np.linspace(-1, 1, out.size).reshape(out.shape).astype(a.dtype))).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def _arrays(r):
    return [np.asarray(v) for v in (r if isinstance(r, tuple) else (r,))]


DETERMINISTIC = {
    "sum_all": lambda: ct.tensor(_R32).sum().numpy(),
    "sum_axis0": lambda: ct.tensor(_R32).sum(0).numpy(),
    "sum_axis1": lambda: ct.tensor(_R32).sum(1).numpy(),
    "sum_transposed": lambda: ct.tensor(_R32).T.sum(0).numpy(),
    "mean_f64": lambda: ct.tensor(_R64).mean(1).numpy(),
    "prod": lambda: ct.tensor(1 + _R32 / 1000).prod(0).numpy(),
    "max_min": lambda: (ct.tensor(_R32).max(0).numpy(), ct.tensor(_R32).min().numpy()),
    "argmax_argmin": lambda: (ct.tensor(_R32).argmax(1).numpy(), ct.tensor(_R64).argmin().numpy()),
    "var_std": lambda: (ct.tensor(_R32).var(0).numpy(), ct.tensor(_R64).std().numpy()),
    "logsumexp": lambda: ct.logsumexp(ct.tensor(_R32), axis=1).numpy(),
    "norm": lambda: ct.vector_norm(ct.tensor(_R64), axis=0).numpy(),
    "int_sum": lambda: ct.tensor((_R32 * 100).astype(np.int32)).sum(0).numpy(),
    "cumsum": lambda: ct.cumsum(ct.tensor(_R32), axis=1).numpy(),
    "matmul_f32": lambda: (ct.tensor(_R32[:512, :768]) @ ct.tensor(_R32[512:, 768:]).T).numpy(),
    "matmul_f64_deep_k": lambda: (ct.tensor(_R64[:64]) @ ct.tensor(_R64[64:, :].T.copy())).numpy(),
    "matmul_batched": lambda: (ct.tensor(_R32[:768].reshape(6, 128, 1536))
                               @ ct.tensor(_R32[768:].T.copy()[:, :96])).numpy(),
    "matmul_vector": lambda: (ct.tensor(_R32) @ ct.tensor(_R32[0])).numpy(),
    "matmul_grad": lambda: _grad_of(lambda x: x @ ct.tensor(_R64[:900, :300].T.copy()), _R64[:, :300]),
    "softmax": lambda: _grad_of(lambda x: ct.nn.functional.softmax(x, -1), _LOGITS),
    "log_softmax_dim0": lambda: _grad_of(lambda x: ct.nn.functional.log_softmax(x, 0), _LOGITS),
    "cross_entropy_index": lambda: _grad_of(
        lambda x: ct.nn.functional.cross_entropy(x, ct.tensor(_LABELS), label_smoothing=0.1), _LOGITS),
    "cross_entropy_rows": lambda: _grad_of(
        lambda x: ct.nn.functional.cross_entropy(x, ct.tensor(_LABELS), reduction="none"), _LOGITS),
    "cross_entropy_probs": lambda: _grad_of(lambda x: ct.nn.functional.cross_entropy(x, ct.tensor(_PROBS)),
                                            _LOGITS),
}


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_thread_count_does_not_change_reductions_matmul_and_losses(name):
    fn = DETERMINISTIC[name]
    old = ct.get_num_threads()
    try:
        res = {}
        for n in (1, 2, 3, 8):
            ct.set_num_threads(n)
            assert ct.get_num_threads() == n
            res[n] = fn()
    finally:
        ct.set_num_threads(old)
    for n in (2, 3, 8):
        for got, want in zip(_arrays(res[n]), _arrays(res[1]), strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            # bitwise: the same bytes, NaN payloads and signed zeros included
            assert got.tobytes() == want.tobytes(), f"{name}: {n} threads differ from 1"


def test_thread_count_results_are_also_correct():
    # The bitwise comparisons above would also pass if every count were equally
    # wrong: check a few of the same workloads against NumPy (float64 references).
    old = ct.get_num_threads()
    try:
        ct.set_num_threads(3)
        np.testing.assert_allclose(ct.tensor(_R32).sum(0).numpy(), _R32.astype(np.float64).sum(0), rtol=1e-4,
                                   atol=1e-3)
        np.testing.assert_allclose(ct.tensor(_R64).std().numpy(), _R64.std(), rtol=1e-12)
        got = (ct.tensor(_R32[:512, :768]) @ ct.tensor(_R32[512:, 768:]).T).numpy()
        want = _R32[:512, :768].astype(np.float64) @ _R32[512:, 768:].T.astype(np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
        lse = np.log(np.exp(_LOGITS.astype(np.float64)).sum(1, keepdims=True))
        got = ct.nn.functional.log_softmax(ct.tensor(_LOGITS), -1).numpy()
        np.testing.assert_allclose(got, _LOGITS - lse, rtol=1e-5, atol=1e-5)
        loss = ct.nn.functional.cross_entropy(ct.tensor(_LOGITS), ct.tensor(_LABELS)).item()
        want = -(_LOGITS - lse)[np.arange(4096), _LABELS].mean()
        np.testing.assert_allclose(loss, want, rtol=1e-5)
    finally:
        ct.set_num_threads(old)


def test_gil_is_released_during_kernels():
    """While one thread runs long kernels, another thread keeps making progress."""
    x = ct.ones(16_000_000, dtype="float32")
    out = ct.empty(16_000_000, dtype="float32")
    ticks = 0
    done = threading.Event()

    def kernels():
        for _ in range(8):
            ct.exp(x, out=out)
        done.set()

    def ticker():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)

    t0 = time.perf_counter()
    t1, t2 = threading.Thread(target=kernels), threading.Thread(target=ticker)
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.5)  # a held GIL would starve the ticker for whole kernels
    try:
        t1.start()
        t2.start()
        t1.join(timeout=120)
        t2.join(timeout=120)
    finally:
        sys.setswitchinterval(old)
    assert not t1.is_alive() and not t2.is_alive()
    assert out.numpy()[0] == np.float32(np.e)
    # The ticker runs between and during kernels; were the GIL held during each
    # kernel it would only get a handful of turns. Generous: 8 kernels, > 50 ticks.
    assert ticks > 50, (ticks, time.perf_counter() - t0)


# ---- fork -------------------------------------------------------------------------


def _child_work(q):
    x = ct.ones(2_000_000)
    q.put(((x + x) * 3).sum().item())


def _child_threads(q):
    ct.set_num_threads(4)  # asking for threads in a bad fork must not hang either
    x = ct.ones(2_000_000)
    q.put((ct.exp(x) - 1).sum().item() > 0 and ct.get_num_threads())


def _child_matmul(q):
    x = ct.ones((300, 300))
    q.put(int((x @ x).sum().item()))


def _child_random(q):
    from corten import random as cr

    q.put(int(cr.rand(1_000_000, generator=cr.Generator(1)).numpy().size))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("target", [_child_work, _child_threads, _child_random, _child_matmul])
def test_fork_after_the_pool_ran_does_not_hang(target):
    x = ct.ones(2_000_000)
    assert ((x + x) * 3).sum().item() == 12_000_000  # starts the OpenMP pool in the parent
    _fork_and_check(target, x)


ONLY_MATMUL_THEN_FORK = """
import multiprocessing as mp, corten as ct
def child(q):
    x = ct.ones((300, 300))
    q.put(int((x @ x).sum().item()))
if __name__ == "__main__":
    m = ct.ones((400, 400))
    assert (m @ m)[0, 0].item() == 400  # only gemm's own parallel regions ran
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    p.join(timeout=30)
    assert not p.is_alive(), "the forked child hung"
    print(q.get(timeout=5))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_after_only_matmul_ran_does_not_hang(tmp_path):
    script = tmp_path / "fork_after_matmul.py"
    script.write_text(ONLY_MATMUL_THEN_FORK)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-1] == str(300**3)


def _fork_and_check(target, x):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(q,))
    p.start()
    p.join(timeout=30)
    if p.is_alive():
        p.kill()
        p.join()
        pytest.fail("the forked child hung in a corten kernel")
    assert p.exitcode == 0
    got = q.get(timeout=5)
    assert got == {_child_work: 12_000_000, _child_threads: 1, _child_random: 1_000_000,
                   _child_matmul: 300**3}[target]
    # the parent keeps its threads
    assert ((x + x) * 3).sum().item() == 12_000_000


def _spin_setting(env: dict) -> str:
    import os
    import subprocess

    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")}
    code = "import os, corten; print(os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout.strip()


def test_import_sets_a_short_worker_spin_unless_the_user_chose():
    assert _spin_setting({}) == "30000"
    assert _spin_setting({"GOMP_SPINCOUNT": "500"}) == "500"
    assert _spin_setting({"OMP_WAIT_POLICY": "PASSIVE"}) == "None"
