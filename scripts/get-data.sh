#!/usr/bin/env bash
# Make sure Fashion-MNIST is available for the training job and its tests.
#   1. already there (CORTEN_DATA, /usr/share/datasets, ~/.cache/corten): done
#   2. root with apt-get: install Debian's dataset-fashion-mnist package
#   3. otherwise: download the official files into ~/.cache/corten (checksummed)
#   4. if all fail: stop with the list of places searched and how to get the data
# Usage: scripts/get-data.sh [python]   (default: .venv/bin/python, else python3)
set -uo pipefail
PY="${1:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi

found() {
  "$PY" -c "from corten.datasets import FashionMNIST as F; F(train=False); F(train=True)" 2>/dev/null
}

if found; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "get-data: installing dataset-fashion-mnist with apt-get" >&2
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; } >&2 \
      && found; then
    exit 0
  fi
  echo "get-data: apt-get did not provide the dataset; trying a download" >&2
fi
echo "get-data: downloading Fashion-MNIST into ~/.cache/corten/fashion-mnist" >&2
exec "$PY" -c "
import sys
from corten.datasets import DatasetError, FashionMNIST
try:
    FashionMNIST(train=True, download=True); FashionMNIST(train=False)
except DatasetError as e:
    sys.exit(f'get-data: {e}')
"
