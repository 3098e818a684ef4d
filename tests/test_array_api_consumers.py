"""Libraries that consume the Array API, run on corten tensors: array-api-compat's
namespace lookup, scikit-learn with `array_api_dispatch=True`, SciPy with
SCIPY_ARRAY_API=1. Results are compared with the same calls on NumPy arrays.

They skip when the `arrayapi` extra is missing, never with CI set (.ci/run installs
it; the sanitizer run, whose venv has no extras, is exempt).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import corten as ct

_in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
_under_asan = "libasan" in os.environ.get("LD_PRELOAD", "")
_missing = [m for m in ("array_api_compat", "sklearn", "scipy") if importlib.util.find_spec(m) is None]
if _in_ci and not _under_asan and _missing:
    raise RuntimeError(f"CI is set but {', '.join(_missing)} is not installed: .ci/run installs the `arrayapi` extra")


def _needs(module: str):
    return pytest.mark.skipif(module in _missing, reason=f"{module} is not installed (the `arrayapi` extra)")


@_needs("array_api_compat")
def test_array_api_compat_finds_corten():
    import array_api_compat

    t = ct.tensor([1.0, 2.0])
    assert array_api_compat.array_namespace(t) is ct
    assert array_api_compat.array_namespace(t, ct.tensor([1])) is ct
    assert array_api_compat.device(t) == "cpu"
    assert array_api_compat.is_array_api_obj(t)
    with pytest.raises(TypeError):  # two libraries in one call: no common namespace
        array_api_compat.array_namespace(t, np.ones(2))


def _xy(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4)) * [1.0, 3.0, 0.5, 2.0] + [0.0, 1.0, -2.0, 5.0]
    y = (X[:, 0] + 0.3 * X[:, 1] > 0.5).astype(np.int64) + (X[:, 2] > -2).astype(np.int64)
    return X, y


@_needs("sklearn")
@_needs("array_api_compat")
@pytest.mark.parametrize("name", ["MinMaxScaler", "MaxAbsScaler", "StandardScaler", "Normalizer"])
def test_sklearn_preprocessing_keeps_corten_tensors(name):
    import sklearn
    from sklearn import preprocessing

    X, _ = _xy()
    want = getattr(preprocessing, name)().fit_transform(X)
    with sklearn.config_context(array_api_dispatch=True):
        got = getattr(preprocessing, name)().fit_transform(ct.from_numpy(X))
    assert isinstance(got, ct.Tensor) and got.dtype is ct.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


@_needs("sklearn")
@_needs("array_api_compat")
def test_sklearn_metrics_on_corten_tensors():
    import sklearn
    from sklearn import metrics

    X, y = _xy(1)
    pred = (X[:, 0] > 0).astype(np.int64)
    with sklearn.config_context(array_api_dispatch=True):
        t, p = ct.from_numpy(y), ct.from_numpy(pred)
        acc = metrics.accuracy_score(t, p)
        r2 = metrics.r2_score(ct.from_numpy(X[:, 0]), ct.from_numpy(X[:, 1]))
        mse = metrics.mean_squared_error(ct.from_numpy(X[:, 0]), ct.from_numpy(X[:, 1]))
    assert float(acc) == pytest.approx(metrics.accuracy_score(y, pred))
    assert float(r2) == pytest.approx(metrics.r2_score(X[:, 0], X[:, 1]), rel=1e-12)
    assert float(mse) == pytest.approx(metrics.mean_squared_error(X[:, 0], X[:, 1]), rel=1e-12)


def _run_with_scipy_array_api(code: str) -> None:
    """SciPy reads SCIPY_ARRAY_API once, at import: a fresh interpreter per check."""
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@_needs("scipy")
@_needs("array_api_compat")
def test_scipy_special_and_stats_accept_corten_tensors():
    _run_with_scipy_array_api("""
        import numpy as np
        import corten as ct
        from scipy import special, stats

        rng = np.random.default_rng(0)
        x = rng.uniform(0.1, 4.0, (3, 5))
        t = ct.from_numpy(x)
        for name in ("erf", "expit", "logit", "gammaln", "ndtr", "entr", "log_ndtr"):
            arg = t / 5 if name == "logit" else t
            got = getattr(special, name)(arg)
            assert isinstance(got, ct.Tensor), (name, type(got))
            want = getattr(special, name)(x / 5 if name == "logit" else x)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=name)
        got = special.logsumexp(t, axis=1)
        assert isinstance(got, ct.Tensor)
        np.testing.assert_allclose(got.numpy(), special.logsumexp(x, axis=1), rtol=1e-12)
        for name in ("skew", "kurtosis", "variation", "zscore"):
            got = getattr(stats, name)(t, axis=1)
            assert isinstance(got, ct.Tensor), (name, type(got))
            np.testing.assert_allclose(got.numpy(), getattr(stats, name)(x, axis=1), rtol=1e-10, err_msg=name)
        got = stats.moment(t, order=3, axis=0)
        np.testing.assert_allclose(got.numpy(), stats.moment(x, order=3, axis=0), rtol=1e-10)
    """)
