# `make demo` and `make test` work from a fresh clone: they create .venv,
# install corten (compiled) with what it needs, then run. Re-runs only rebuild
# when a C++ or build file changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.corten-installed
SOURCES := $(wildcard cpp/*.cpp cpp/*.h) CMakeLists.txt pyproject.toml
CMAKE_ARGS ?=

# `make sanitize`: the same tests against an ASan+UBSan build of the extension,
# in its own venv and build dir so the normal .venv is left alone.
ASAN_VENV := .venv-asan
ASAN_PY := $(ASAN_VENV)/bin/python
ASAN_STAMP := $(ASAN_VENV)/.corten-installed
ASAN_ENV := LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libstdc++.so)" \
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	CORTEN_HYPOTHESIS_PROFILE=asan
FUZZ_ENV := CORTEN_HYPOTHESIS_PROFILE=fuzz

.PHONY: demo test install bench lint clean sanitize fuzz

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
	scripts/get-data.sh $(PY)
	$(PY) -m corten train

test: $(STAMP)
	$(PY) -m pytest tests

fuzz: $(STAMP)
	$(FUZZ_ENV) $(PY) -m pytest tests/fuzz -x

$(ASAN_PY):
	$(PYTHON) -m venv --system-site-packages $(ASAN_VENV)
	$(ASAN_PY) -m pip install -q --upgrade pip

$(ASAN_STAMP): $(ASAN_PY) $(SOURCES)
	$(ASAN_PY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" cmake ninja
	CMAKE_ARGS="$(CMAKE_ARGS) -DCORTEN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" $(ASAN_PY) -m pip install -q \
		--no-build-isolation -C build-dir=build/asan -C cmake.build-type=RelWithDebInfo -e '.[test,train]'
	touch $(ASAN_STAMP)

sanitize: $(ASAN_STAMP)
	$(ASAN_ENV) $(ASAN_PY) -m pytest tests -x -q -p no:cacheprovider --capture=sys

bench: $(STAMP)
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-sort=name

lint: $(STAMP)
	$(PY) -m pip install -q ruff mypy
	$(PY) -m ruff check python tests benchmarks examples
	$(PY) -m mypy python/corten  # sees Tensor's methods through the generated declarations (tools/gen_tensor_api.py)

clean:
	rm -rf build $(VENV) $(ASAN_VENV) python/corten/*.so
