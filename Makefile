# `make demo` and `make test` work from a fresh clone: they create .venv,
# install corten (compiled) with what it needs, then run. Re-runs only rebuild
# when a C++ or build file changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.corten-installed
SOURCES := $(wildcard cpp/*.cpp cpp/*.h) CMakeLists.txt pyproject.toml
CMAKE_ARGS ?=

.PHONY: demo test install bench lint clean

$(PY):
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) $(SOURCES)
	$(PY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" cmake ninja
	CMAKE_ARGS="$(CMAKE_ARGS)" $(PY) -m pip install -q --no-build-isolation -e '.[test,train]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/tour.py

test: $(STAMP)
	$(PY) -m pytest tests

bench: $(STAMP)
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-sort=name

lint: $(STAMP)
	$(PY) -m pip install -q ruff
	$(PY) -m ruff check python tests benchmarks examples

clean:
	rm -rf build $(VENV) python/corten/*.so
