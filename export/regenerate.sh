#!/usr/bin/env bash
# Regenerates models/ (the shipped test models) from export/build_test_models.py.
# Needs PyTorch, installed into .venv-torch on first use (CPU wheels from PyPI).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${DPRS_TORCH_VENV:-$ROOT/.venv-torch}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/export/requirements.txt"
fi
"$VENV/bin/python" "$ROOT/export/build_test_models.py" --out "$ROOT/models/"
