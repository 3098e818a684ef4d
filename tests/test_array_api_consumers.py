"""Libraries that consume the Array API, run on corten tensors: array-api-compat's
namespace lookup, scikit-learn with `array_api_dispatch=True`, SciPy with
SCIPY_ARRAY_API=1. Results are compared with the same calls on NumPy arrays.

They skip when the `arrayapi` extra is missing, never with CI set (.ci/run installs
it; the sanitizer run, whose venv has no extras, is exempt).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import textwrap

import corten as ct
import numpy as np
import pytest

_in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
_under_asan = "libasan" in os.environ.get("LD_PRELOAD", "")
_missing = [m for m in ("array_api_compat", "sklearn", "scipy") if importlib.util.find_spec(m) is None]
# scikit-learn before 1.8 calls NumPy on any input in its scalers, Ridge and LogisticRegression
# (read from the metadata: importing it here would import SciPy without SCIPY_ARRAY_API).
if "sklearn" not in _missing:
    _sklearn_version = tuple(int(p) for p in importlib.metadata.version("scikit-learn").split(".")[:2])
    if _sklearn_version < (1, 8):
        _missing.append("sklearn")
if _in_ci and not _under_asan and _missing:
    raise RuntimeError(f"CI is set but {', '.join(_missing)} is not installed: .ci/run installs the `arrayapi` extra")


def _needs(module: str):
    return pytest.mark.skipif(module in _missing, reason=f"{module} is not installed (the `arrayapi` extra; "
                                                         "scikit-learn >= 1.8)")


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


def _run_with_scipy_array_api(code: str) -> None:
    """SciPy reads SCIPY_ARRAY_API once, at import, and scikit-learn's array_api_dispatch
    refuses to run without it: a fresh interpreter per check."""
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@_needs("sklearn")
@_needs("array_api_compat")
def test_sklearn_estimators_and_metrics_keep_corten_tensors():
    """Estimators that support the Array API without linalg: the scalers and GaussianNB
    (fit, predict_proba), plus metrics; results match the NumPy runs."""
    _run_with_scipy_array_api("""
        import numpy as np
        import sklearn
        import corten as ct
        from sklearn import metrics, preprocessing
        from sklearn.naive_bayes import GaussianNB

        rng = np.random.default_rng(0)
        X = rng.standard_normal((60, 4)) * [1.0, 3.0, 0.5, 2.0] + [0.0, 1.0, -2.0, 5.0]
        y = (X[:, 0] + 0.3 * X[:, 1] > 0.5).astype(np.int64) + (X[:, 2] > -2).astype(np.int64)
        Xt, yt = ct.from_numpy(X), ct.from_numpy(y)
        for name in ("MinMaxScaler", "MaxAbsScaler", "StandardScaler", "Normalizer"):
            want = getattr(preprocessing, name)().fit_transform(X)
            with sklearn.config_context(array_api_dispatch=True):
                got = getattr(preprocessing, name)().fit_transform(Xt)
            assert isinstance(got, ct.Tensor) and got.dtype is ct.float64, (name, type(got))
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12, err_msg=name)

        want_proba = GaussianNB().fit(X, y).predict_proba(X)
        with sklearn.config_context(array_api_dispatch=True):
            model = GaussianNB().fit(Xt, yt)
            proba, pred = model.predict_proba(Xt), model.predict(Xt)
            acc = metrics.accuracy_score(yt, pred)
            r2 = metrics.r2_score(Xt[:, 0], Xt[:, 1])
        assert isinstance(proba, ct.Tensor) and isinstance(pred, ct.Tensor)
        assert isinstance(model.theta_, ct.Tensor)
        np.testing.assert_allclose(proba.numpy(), want_proba, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(pred.numpy(), GaussianNB().fit(X, y).predict(X))
        # integer labels are averaged in the namespace's default float: float32 for corten (as for PyTorch)
        assert abs(float(acc) - metrics.accuracy_score(y, GaussianNB().fit(X, y).predict(X))) < 1e-6
        assert abs(float(r2) - metrics.r2_score(X[:, 0], X[:, 1])) < 1e-12
    """)


@_needs("sklearn")
@_needs("array_api_compat")
def test_sklearn_linalg_estimators_keep_corten_tensors():
    """Estimators whose fit calls xp.linalg (svd, eigh, solve) or SciPy's L-BFGS on the
    namespace: LinearDiscriminantAnalysis, PCA (each solver), Ridge and LogisticRegression
    (the solvers scikit-learn dispatches: Ridge 'svd', LogisticRegression 'lbfgs')."""
    _run_with_scipy_array_api("""
        import numpy as np
        import sklearn
        import corten as ct
        from sklearn.decomposition import PCA
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        from sklearn.linear_model import LogisticRegression, Ridge

        rng = np.random.default_rng(0)
        X = rng.standard_normal((60, 4)) * [1.0, 3.0, 0.5, 2.0]
        y = (X[:, 0] + 0.2 * X[:, 1] > 0).astype(np.int64)
        y_real = X @ [1.0, -2.0, 0.5, 3.0] + 0.1 * rng.standard_normal(60)
        Xt, yt = ct.from_numpy(X), ct.from_numpy(y)

        def check(got, want, what, rtol=1e-8):
            assert isinstance(got, ct.Tensor), (what, type(got))
            np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=1e-10, err_msg=what)

        want = LinearDiscriminantAnalysis().fit(X, y).predict_proba(X)
        with sklearn.config_context(array_api_dispatch=True):
            check(LinearDiscriminantAnalysis().fit(Xt, yt).predict_proba(Xt), want, "LDA")
        for solver in ("full", "covariance_eigh", "randomized"):
            want = np.abs(PCA(n_components=2, svd_solver=solver, random_state=0).fit_transform(X))
            with sklearn.config_context(array_api_dispatch=True):
                got = PCA(n_components=2, svd_solver=solver, random_state=0).fit_transform(Xt)
            check(abs(got), want, f"PCA {solver}")  # component signs are arbitrary
        for solver in ("auto", "svd"):
            ref = Ridge(alpha=0.5, solver=solver).fit(X, y_real)
            with sklearn.config_context(array_api_dispatch=True):
                model = Ridge(alpha=0.5, solver=solver).fit(Xt, ct.from_numpy(y_real))
                check(model.predict(Xt), ref.predict(X), f"Ridge {solver}")
            check(model.coef_, ref.coef_, f"Ridge {solver} coef_")
        ref = LogisticRegression().fit(X, y)
        with sklearn.config_context(array_api_dispatch=True):
            model = LogisticRegression().fit(Xt, yt)
            check(model.predict_proba(Xt), ref.predict_proba(X), "LogisticRegression", rtol=1e-6)
            pred = model.predict(Xt)
        check(pred, ref.predict(X), "LogisticRegression predict")
    """)


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
        for name in ("logsumexp", "softmax", "log_softmax"):
            for axis in (0, 1, None):
                got = getattr(special, name)(t, axis=axis)
                assert isinstance(got, ct.Tensor), (name, axis, type(got))
                want = getattr(special, name)(x, axis=axis)
                np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=f"{name} axis={axis}")
        for name in ("skew", "kurtosis", "variation", "zscore", "sem", "gmean", "hmean"):
            got = getattr(stats, name)(t, axis=1)
            assert isinstance(got, ct.Tensor), (name, type(got))
            np.testing.assert_allclose(got.numpy(), getattr(stats, name)(x, axis=1), rtol=1e-10, err_msg=name)
        got = stats.moment(t, order=3, axis=0)
        np.testing.assert_allclose(got.numpy(), stats.moment(x, order=3, axis=0), rtol=1e-10)
    """)
