"""Shared test setup: hypothesis profiles, chosen with CORTEN_HYPOTHESIS_PROFILE.

- ci (default): the example counts written in each test.
- fuzz: many more examples for tests/fuzz (`make fuzz`).
- asan: few examples, since everything runs several times slower under the
  sanitizers (`make sanitize`).

With CI set (CI=true, as .ci/run and CI services do), PyTorch must be importable:
the cross-checks against it use `pytest.importorskip("torch")`, and a CI run in
which all of them skip would pass without checking anything. The sanitizer run
is exempt (its venv has no PyTorch: the ASan runtime is preloaded into the
interpreter and the cross-checks already ran in the plain build).
"""

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
# `make test` (and CI) replays the same examples every run, so a red run is about the
# change, not the draw; `make fuzz` draws new ones.
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("fuzz", max_examples=2000, **_COMMON)
settings.register_profile("asan", max_examples=15, **_COMMON)
settings.load_profile(os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci"))


# Under `make sanitize`, the processes the tests start (`python -m corten train` and
# the like) keep ASan and UBSan but skip LeakSanitizer's exit check: in them its
# tracer intermittently crashes reading a thread's dynamic TLS ("Tracer caught
# signal 11", 2 runs in 5 of test_resume.py here), which fails a run that found
# nothing. This process's own check, over every in-process test, is unchanged (ASan
# read its options when it started).
if "libasan" in os.environ.get("LD_PRELOAD", ""):
    # the last setting of an option wins, so this holds whatever ASAN_OPTIONS said before
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_configure(config: pytest.Config) -> None:
    under_asan = "libasan" in os.environ.get("LD_PRELOAD", "")
    if _in_ci() and not under_asan and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError(
            "CI is set but PyTorch is not importable, so every cross-check against it would be skipped: "
            "install it (pip install torch, the `compare` extra) or unset CI"
        )
