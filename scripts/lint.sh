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

# The file list for other tools (rtl/esact.f): every module file exactly once, the package
# first, the top last, and esact_top lints clean from it. (The listing check is what catches
# a missing file: Verilator also finds modules through the +incdir directory.)
lint_filelist() {
  local log="$LOG_DIR/esact.f.log" why=()
  local listed
  listed=$(grep -E '^rtl/esact_[a-z0-9_]+\.sv$' "$RTL/esact.f" || true)
  for f in "$RTL"/esact_*.sv; do
    local n
    n=$(grep -cxF "$f" <<<"$listed" || true)
    [[ $n -eq 1 ]] || why+=("$f listed $n times")
  done
  [[ $(head -1 <<<"$listed") == "$RTL/esact_pkg.sv" ]] || why+=("esact_pkg.sv is not first")
  [[ $(tail -1 <<<"$listed") == "$RTL/esact_top.sv" ]] || why+=("esact_top.sv is not last")
  "$VERILATOR" --lint-only -Wall --assert -f "$RTL/esact.f" "$RTL/lint.vlt" \
    --top-module esact_top >"$log" 2>&1 || why+=("esact_top does not lint from it")
  [[ -s $log ]] && why+=("verilator output (see $log)")
  runs=$((runs + 1))
  if [[ ${#why[@]} -ne 0 ]]; then
    fails=$((fails + 1))
    printf 'lint  FAIL  %-24s %s\n' "rtl/esact.f" "$(IFS=';'; echo "${why[*]}")"
    sed 's/^/    /' "$log" >&2
  else
    printf 'lint  ok    %-24s file list complete, in order\n' "rtl/esact.f"
  fi
}
lint_filelist

if [[ $fails -ne 0 ]]; then
  echo "lint: $fails of $runs runs FAILED (logs in $LOG_DIR/)"
  exit 1
fi
echo "lint: all $runs runs clean"
