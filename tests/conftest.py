"""Shared test setup: hypothesis profiles, chosen with CORTEN_HYPOTHESIS_PROFILE.

- ci (default): the example counts written in each test.
- fuzz: many more examples for tests/fuzz (`make fuzz`).
- asan: few examples, since everything runs several times slower under the
  sanitizers (`make sanitize`).
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", **_COMMON)
settings.register_profile("fuzz", max_examples=2000, **_COMMON)
settings.register_profile("asan", max_examples=15, **_COMMON)
settings.load_profile(os.environ.get("CORTEN_HYPOTHESIS_PROFILE", "ci"))

