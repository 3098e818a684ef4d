"""examples/chapter2.py runs, passes its own checks and prints every section, and
docs/tutorial.md is the page generated from it (so the two cannot drift)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "chapter2.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_tutorial", ROOT / "tools" / "gen_tutorial.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_chapter2_runs_and_prints_each_section(tmp_path):
    # Run from a scratch directory so the example needs nothing but the installed package.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    out = proc.stdout
    sections = ["tensors", "element-wise operations", "broadcasting", "tensor product",
                "reshape and transpose", "gradients", "mini-batch SGD", "chain rule", "next"]
    positions = [out.find(f"== {s} ==") for s in sections]
    assert all(p >= 0 for p in positions), (sections, positions)
    assert positions == sorted(positions), "sections out of order"
    for line in ["5-D: ndim 5  shape (4, 8, 16, 16, 3)", "(32, 10) + (10,) -> (32, 10)",
                 "maximum((64, 3, 32, 10), (32, 10)) -> (64, 3, 32, 10)", "python -m corten train",
                 "all checks passed"]:
        assert line in out, line
    # Each naive-versus-one-call comparison prints its speed-up.
    assert out.count("speed-up") == 5, out


def test_tutorial_page_is_generated_from_the_example():
    gen = _generator()
    page = (ROOT / "docs" / "tutorial.md").read_text()
    assert page == gen.render(EXAMPLE.read_text()), "stale: run python tools/gen_tutorial.py"
    # Every line of code in the example is on the page.
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#") and '"""' not in line:
            assert line in page, line


def test_generator_sections_prose_and_code():
    gen = _generator()
    src = '"""Intro."""\n\nimport x\n\n# %% First\n# Some prose\n#   1. one\n#      more\nx = 1\n# More prose\ny = 2\n'
    page = gen.render(src)
    assert "Intro." in page and "## First" in page
    assert "```python\nimport x\n```" in page
    assert "Some prose\n\n1. one\n   more" in page
    assert "```python\nx = 1\n```\n\nMore prose\n\n```python\ny = 2\n```" in page
