"""Collect benchmarks/bench_*.py when the directory itself is given (`pytest benchmarks`)."""

import fnmatch

import pytest


def pytest_collect_file(file_path, parent):
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    if parent.session.isinitpath(file_path) or any(
        fnmatch.fnmatch(file_path.name, p) for p in parent.config.getini("python_files")
    ):
        return None  # pytest collects it already
    return pytest.Module.from_parent(parent, path=file_path)
