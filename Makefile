# `make demo` and `make test` work from a fresh clone: they create .venv,
# install corten (compiled) with what it needs, then run. Re-runs only rebuild
# when a C++ or build file changed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.corten-installed
SOURCES := $(wildcard cpp/*.cpp cpp/*.h) CMakeLists.txt pyproject.toml
CMAKE_ARGS ?=
# `make test CXX=clang++`: the extension is rebuilt with that compiler, in a build
# dir of its own (CMake keeps the compiler it first found in a build dir).
CXX_NAME := $(subst +,x,$(notdir $(firstword $(CXX))))
CXX_STAMP := $(VENV)/.cxx-$(CXX_NAME)

# `make sanitize`: the same tests against an ASan+UBSan build of the extension,
# in its own venv and build dir so the normal .venv is left alone.
ASAN_VENV := .venv-asan
ASAN_PY := $(ASAN_VENV)/bin/python
ASAN_STAMP := $(ASAN_VENV)/.corten-installed
ASAN_ENV := LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libstdc++.so)" \
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tools/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	OPENBLAS_NUM_THREADS=1 CORTEN_HYPOTHESIS_PROFILE=asan
FUZZ_ENV := CORTEN_HYPOTHESIS_PROFILE=fuzz
# `make ctest`: the C++ unit tests (tests/cpp) in their own CMake build dir,
# without the Python extension; CMAKE_ARGS apply (CI adds -DCORTEN_WERROR=ON).
CTEST_DIR := build/ctest

.PHONY: demo test install bench lint clean sanitize fuzz ctest wheel wheel-test array-api

$(PY):
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(CXX_STAMP): | $(PY)
	rm -f $(VENV)/.cxx-*
	touch $@

$(STAMP): $(PY) $(SOURCES) $(CXX_STAMP)
	$(PY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" cmake ninja
	CXX="$(CXX)" CMAKE_ARGS="$(CMAKE_ARGS)" $(PY) -m pip install -q --no-build-isolation \
		-C build-dir="build/{wheel_tag}-$(CXX_NAME)" -e '.[test,train]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/tour.py
	scripts/get-data.sh $(PY)
	$(PY) -m corten train

test: $(STAMP)
	$(PY) -m pytest tests

# `make array-api`: the Array API conformance suite (../shared/array-api-tests.sh next to
# the checkout; skipped when absent), failing below a pass count (tools/array_api_conformance.py).
array-api: $(STAMP)
	$(PY) -m pip install -q "hypothesis>=6.151" "ndindex>=1.8" pytest-json-report
	$(PY) tools/array_api_conformance.py

fuzz: $(STAMP)
	$(FUZZ_ENV) $(PY) -m pytest tests/fuzz -x

ctest: $(STAMP)
	bin="$$($(PY) -c 'import cmake; print(cmake.CMAKE_BIN_DIR)')" && \
	"$$bin/cmake" -S . -B $(CTEST_DIR) -DCMAKE_BUILD_TYPE=Release -DCORTEN_BUILD_TESTS=ON \
		-DCORTEN_BUILD_PYTHON=OFF $(CMAKE_ARGS) && \
	"$$bin/cmake" --build $(CTEST_DIR) --parallel 2 && \
	"$$bin/ctest" --test-dir $(CTEST_DIR) --output-on-failure

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

# `make wheel`: the sdist, then from it one wheel per CPython 3.10-3.13 found (pyenv
# or PATH), repaired by auditwheel into a manylinux tag with libgomp inside, into
# wheelhouse/; `make wheel-test`: each wheel (and the sdist, for $(PYTHON)) in a
# fresh venv, the test suite run against it from outside the checkout.
# WHEEL_PYTHONS=3.11 limits both to some versions; SDIST_PYTHON=none skips the
# sdist's test. See docs/packaging.md.
WHEEL_PYTHONS ?= 3.10 3.11 3.12 3.13
SDIST_PYTHON ?= $(PYTHON)

wheel:
	WHEEL_PYTHONS="$(WHEEL_PYTHONS)" scripts/build-wheels.sh

wheel-test:
	WHEEL_PYTHONS="$(WHEEL_PYTHONS)" SDIST_PYTHON="$(SDIST_PYTHON)" scripts/test-wheels.sh

clean:
	rm -rf build $(VENV) $(ASAN_VENV) python/corten/*.so wheelhouse
