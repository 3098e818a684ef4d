"""Under `make sanitize`: prove the sanitizers are live, so a clean run means something."""

import os
import subprocess
import sys

import pytest

UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

OUT_OF_BOUNDS = """
import numpy as np
from corten import _C
a = np.zeros(4, np.float32)
_C.exp(np.lib.stride_tricks.as_strided(a, (64,), (4,)), np.zeros(64, np.float32))
"""


@pytest.mark.skipif(not UNDER_ASAN, reason="only under make sanitize")
def test_address_sanitizer_catches_an_out_of_bounds_read():
    # as_strided lets NumPy users point past a buffer; corten cannot see that,
    # but ASan must, or the sanitizer build is not instrumented.
    r = subprocess.run([sys.executable, "-c", OUT_OF_BOUNDS], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "heap-buffer-overflow" in r.stderr and "elementwise" in r.stderr


@pytest.mark.skipif(not UNDER_ASAN, reason="only under make sanitize")
def test_extension_links_the_sanitizer_runtimes():
    import corten._C as c

    with open("/proc/self/maps") as f:
        maps = f.read()
    assert "libasan" in maps and "libubsan" in maps, c.__file__
