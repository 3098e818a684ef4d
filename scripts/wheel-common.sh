# Shared by build-wheels.sh and test-wheels.sh (sourced).

# The interpreter for CPython X.Y: pyenv's newest X.Y.*, else pythonX.Y on PATH.
find_python() {
  local ver=$1 cand
  for cand in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$ver".* 2>/dev/null | sort -V -r); do
    if [ -x "$cand/bin/python$ver" ]; then echo "$cand/bin/python$ver"; return 0; fi
  done
  cand=$(command -v "python$ver" 2>/dev/null) || return 1
  # pyenv's shims exist for every version but fail for one not selected.
  "$cand" -c 'import sys' >/dev/null 2>&1 && echo "$cand"
}
