#!/usr/bin/env bash
# `make wheel-test`: for each CPython in WHEEL_PYTHONS with a wheel in wheelhouse/,
# a fresh venv gets the test dependencies from the index and then corten from
# wheelhouse/ only (`--no-index`), and the test suite runs against that install
# from a copy of tests/ in a temporary directory, outside the checkout: a file
# missing from the wheel, or a test that imports from the source tree, fails.
# Then the same for the sdist, built in a fresh venv, with SDIST_PYTHON (unless
# SDIST_PYTHON=none).
# Environment: WHEEL_PYTHONS, SDIST_PYTHON, PYTEST_ARGS (extra pytest arguments),
# and whatever the suite reads (CI, CORTEN_SIMD, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wheel-common.sh
ROOT=$PWD
TEST_DEPS=(pytest hypothesis pytest-benchmark safetensors tqdm matplotlib)
# The package's own extras, from the index once corten is installed: what the suite
# needs beyond TEST_DEPS comes from pyproject.toml (an extra it lacks is ignored).
EXTRAS="corten[test,train,distributed,arrayapi]"

# Fresh venv $1 for interpreter $2 with the test dependencies (and PyTorch where
# a build exists for that Python: the cross-checks skip without it, except
# under CI, where tests/conftest.py refuses to run without it).
make_venv() {
  local venv=$1 py=$2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q numpy "${TEST_DEPS[@]}"
  if ! "$venv/bin/python" -m pip install -q torch==2.13.0 2>/dev/null; then
    echo "wheel-test: no torch==2.13.0 for $("$venv/bin/python" -V): its cross-checks skip"
  fi
}

# The suite against what $1's venv has installed, from a temporary directory.
run_suite() {
  local venv=$1 tmp rc=0
  tmp=$(mktemp -d /tmp/corten-wheel-test.XXXXXX)
  cp -r "$ROOT/tests" "$tmp/tests"
  rm -rf "$tmp/tests/cpp" "$tmp/tests/__pycache__"
  # The tutorial's test runs the example against the installed package and checks
  # its page is up to date: the example, its generator and the page come along.
  mkdir -p "$tmp/tools" "$tmp/docs"
  cp -r "$ROOT/examples" "$tmp/examples"
  cp "$ROOT/tools/gen_tutorial.py" "$tmp/tools/"
  cp "$ROOT/docs/tutorial.md" "$tmp/docs/"
  (
    cd "$tmp"
    # The installed package, not the checkout: fail early if the import resolves elsewhere.
    "$venv/bin/python" -c "import corten, sys; p = corten.__file__; print('wheel-test: corten', corten.__version__, 'from', p); sys.exit(p.startswith('$ROOT/python'))"
    "$venv/bin/python" -m corten info
    "$venv/bin/python" -m pytest tests -q -p no:cacheprovider ${PYTEST_ARGS:-}
  ) || rc=$?
  rm -rf "$tmp"
  return $rc
}

tested=0
for ver in ${WHEEL_PYTHONS:-3.10 3.11 3.12 3.13}; do
  py=$(find_python "$ver") || { echo "wheel-test: no CPython $ver on this machine, skipped"; continue; }
  tag=cp${ver/./}
  if ! ls wheelhouse/corten-*-"$tag"-"$tag"-manylinux*.whl >/dev/null 2>&1; then
    echo "wheel-test: no $tag wheel in wheelhouse/ (make wheel first)" >&2
    exit 1
  fi
  venv=build/wheel-venvs/test-$ver
  echo "wheel-test: CPython $ver, wheel $(ls wheelhouse/corten-*-"$tag"-"$tag"-manylinux*.whl)"
  make_venv "$venv" "$py"
  "$venv/bin/python" -m pip install -q --no-index --find-links wheelhouse --only-binary corten corten
  "$venv/bin/python" -m pip install -q "$EXTRAS"
  run_suite "$PWD/$venv"
  tested=$((tested + 1))
done
[ "$tested" -gt 0 ] || { echo "wheel-test: no wheel tested" >&2; exit 1; }

if [ "${SDIST_PYTHON:-python3}" != none ]; then
  venv=build/wheel-venvs/test-sdist
  echo "wheel-test: the sdist, built with ${SDIST_PYTHON:-python3}"
  make_venv "$venv" "$(command -v "${SDIST_PYTHON:-python3}")"
  "$venv/bin/python" -m pip install -q wheelhouse/corten-*.tar.gz
  "$venv/bin/python" -m pip install -q "$EXTRAS"
  run_suite "$PWD/$venv"
fi
