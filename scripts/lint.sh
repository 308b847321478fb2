#!/usr/bin/env bash
# Lints the RTL with Verilator (-Wall --assert) and the project waiver file rtl/lint.vlt:
#   - every named configuration of rtl/tops.txt (top module plus parameters);
#   - every module file rtl/esact_*.sv on its own, at its default parameters, so each
#     module elaborates standalone.
# Fails (exit 1) on any warning or error. Prints one line per run; the full Verilator
# output of each run is in $BUILD/lint/<name>.log (BUILD defaults to build) and is printed on failure.
# Usage: scripts/lint.sh   (from anywhere; works in the repository root)
set -euo pipefail
cd "$(dirname "$0")/.."

RTL=rtl
LOG_DIR=${BUILD:-build}/lint
VERILATOR=${VERILATOR:-verilator}
mkdir -p "$LOG_DIR"

fails=0
runs=0

# lint_one <name> <top> [<Param>=<value> ...]
lint_one() {
  local name=$1 top=$2
  shift 2
  local gparams=()
  local p
  for p in "$@"; do gparams+=("-G$p"); done
  local log="$LOG_DIR/$name.log"
  local rc=0
  "$VERILATOR" --lint-only -Wall --assert --top-module "$top" -I"$RTL" -y "$RTL" \
    "${gparams[@]}" "$RTL/lint.vlt" "$RTL/esact_pkg.sv" "$RTL/$top.sv" >"$log" 2>&1 || rc=$?
  runs=$((runs + 1))
  # Any output at all (a warning made non-fatal somewhere, an -Info line) counts too.
  if [[ $rc -ne 0 || -s $log ]]; then
    fails=$((fails + 1))
    printf 'lint  FAIL  %-24s %-20s %s\n' "$name" "$top" "$*"
    sed 's/^/    /' "$log" >&2
  else
    printf 'lint  ok    %-24s %-20s %s\n' "$name" "$top" "$*"
  fi
}

# Named configurations.
while read -r prefix top params; do
  [[ -z ${prefix:-} || $prefix == \#* ]] && continue
  params=${params%%#*}
  # shellcheck disable=SC2086  # params is a space-separated list on purpose
  lint_one "$prefix" "$top" $params
done <"$RTL/tops.txt"

# Every module standalone.
for f in "$RTL"/esact_*.sv; do
  mod=$(basename "$f" .sv)
  [[ $mod == esact_pkg ]] && continue
  lint_one "$mod" "$mod"
done

if [[ $fails -ne 0 ]]; then
  echo "lint: $fails of $runs runs FAILED (logs in $LOG_DIR/)"
  exit 1
fi
echo "lint: all $runs runs clean"
