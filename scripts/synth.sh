#!/usr/bin/env bash
# Synthesizes every named configuration of rtl/tops.txt with Yosys (generic gates, no
# liberty): read_verilog -sv -DSYNTHESIS, hierarchy -check with the parameters, synth,
# check -assert, stat. Lines marked '# model-only' in rtl/tops.txt are skipped (and counted).
# Fails (exit 1) on a Yosys error, a failed check, any Yosys warning (this includes
# "implicitly declared" identifiers), or an inferred latch. Prints one line per
# configuration; logs in $BUILD/synth/<name>.log, statistics in $BUILD/synth/<name>.stat
# (BUILD defaults to build), and a table of every configuration (cells, flip-flops, Yosys's
# CMOS transistor estimate as an area proxy) in $BUILD/synth/summary.md.
# Usage: scripts/synth.sh [--docs]   (--docs also writes the table into docs/synthesis.md)
set -euo pipefail
cd "$(dirname "$0")/.."
docs=0
[[ ${1:-} == --docs ]] && docs=1

# shellcheck source=scripts/yosys-elab.sh
source scripts/yosys-elab.sh
RTL=$ESACT_RTL
LOG_DIR=${BUILD:-build}/synth
YOSYS=${YOSYS:-yosys}
mkdir -p "$LOG_DIR"

# Tops that must be add-only (the SPLS predictor, D1): no multiplier, divider or modulo
# cell may survive in their coarse netlist, checked before synth maps arithmetic to gates.
NO_MUL_TOPS=" esact_hlog_quant esact_hlog_dot esact_topk esact_reuse esact_predictor "

# Yosys warnings that are known to be harmless, one extended regex per entry, each with a
# comment saying why. Empty: every warning fails the run.
WARN_WAIVERS=()

fails=0
runs=0

# synth_run <name> <top> [<Param>=<value> ...]: the Yosys run; its exit code goes to
# <name>.rc, so that runs can go in parallel and be reported in order afterwards.
synth_run() {
  local name=$1 top=$2
  shift 2
  local log="$LOG_DIR/$name.log" stat="$LOG_DIR/$name.stat"
  local mulcheck=""
  if [[ $NO_MUL_TOPS == *" $top "* ]]; then
    mulcheck="proc; flatten; opt_expr; opt_clean; wreduce;
select -assert-none t:\$mul t:\$div t:\$mod t:\$divfloor t:\$modfloor t:\$pow;"
  fi
  local script
  script="$(esact_yosys_elab "$top" "$@")
$mulcheck
synth -top $top;
check -assert;
tee -q -o $stat stat -top $top;
tee -q -o $stat.cmos stat -top $top -tech cmos"
  local rc=0
  rm -f "$stat"
  "$YOSYS" -q -l "$log" -p "$script" >/dev/null 2>&1 || rc=$?
  echo "$rc" >"$LOG_DIR/$name.rc"
}

# synth_report <name> <top> [<Param>=<value> ...]: checks one finished run and prints its line.
synth_report() {
  local name=$1 top=$2
  shift 2
  local log="$LOG_DIR/$name.log" stat="$LOG_DIR/$name.stat"
  local rc why=()
  rc=$(cat "$LOG_DIR/$name.rc")
  runs=$((runs + 1))
  [[ $rc -eq 0 ]] || why+=("yosys exit $rc")

  local warnings
  warnings=$(grep -E '(^|: )Warning: ' "$log" || true)
  for w in "${WARN_WAIVERS[@]}"; do
    warnings=$(grep -vE "$w" <<<"$warnings" || true)
  done
  [[ -z $warnings ]] || why+=("$(grep -c . <<<"$warnings") warning(s)")
  grep -q 'is implicitly declared' "$log" && why+=("implicitly declared identifiers")
  grep -qE '^[[:space:]]*Latch inferred' "$log" && why+=("latch inferred")
  grep -q 'Assertion failed: selection is not empty' "$log" &&
    why+=("multiplier/divider cells in an add-only unit")

  local cells=? flops=? latches=0
  if [[ -s $stat ]]; then
    # With submodules the last section is the flattened design-hierarchy total.
    local last
    last=$(awk '/Number of cells:/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$stat")
    cells=$(grep -m1 -oE '[0-9]+' < <(grep 'Number of cells:' "$stat" | tail -1))
    flops=$(awk '$1 ~ /^\$_(S|A|)?DFF/ { n += $2 } END { print n + 0 }' <<<"$last")
    latches=$(awk '$1 ~ /DLATCH|dlatch/ { n += $2 } END { print n + 0 }' <<<"$last")
    [[ $latches -eq 0 ]] || why+=("$latches latch cell(s)")
  else
    why+=("no statistics")
  fi

  local transistors=?
  if [[ -s $stat.cmos ]]; then
    transistors=$(grep -oE 'Estimated number of transistors: *[0-9]+\+?' "$stat.cmos" | tail -1 |
      grep -oE '[0-9]+\+?$' || echo ?)
  fi
  summary+=("| $name | \`$top\` | ${*:-(defaults)} | $cells | $flops | $transistors |")

  if [[ ${#why[@]} -ne 0 ]]; then
    fails=$((fails + 1))
    printf 'synth FAIL  %-24s %-20s %-10s %s\n' "$name" "$top" "$*" "$(IFS=';'; echo "${why[*]}")"
    grep -E '(^|: )(Warning|ERROR): |Latch inferred' "$log" | grep -v 'No latch' | sort -u \
      | sed 's/^/    /' >&2 || true
  else
    printf 'synth ok    %-24s %-20s %-10s %6s cells %5s flops  0 latches\n' \
      "$name" "$top" "$*" "$cells" "$flops"
  fi
}

# Yosys runs JOBS at a time (default 2, the machine's cores).
JOBS=${JOBS:-2}
skipped=0
configs=()
summary=()
while read -r prefix top params; do
  [[ -z ${prefix:-} || $prefix == \#* ]] && continue
  # A line whose comment is '# model-only' is a Verilated model only (rtl/tops.txt).
  if [[ $params =~ \#[[:space:]]*model-only[[:space:]]*$ ]]; then
    skipped=$((skipped + 1))
    printf 'synth skip  %-24s %-20s (model-only in rtl/tops.txt)\n' "$prefix" "$top"
    continue
  fi
  configs+=("$prefix $top ${params%%#*}")
done <"$RTL/tops.txt"

for c in "${configs[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $JOBS ]]; do wait -n || true; done
  # shellcheck disable=SC2086  # a configuration is a space-separated list on purpose
  synth_run $c &
done
wait
for c in "${configs[@]}"; do
  # shellcheck disable=SC2086
  synth_report $c
done

{
  echo "| configuration | top | parameters | cells | flip-flops | transistors (CMOS estimate) |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${summary[@]}"
} >"$LOG_DIR/summary.md"
if [[ $docs -eq 1 && $fails -eq 0 ]]; then
  {
    echo "# Synthesis results"
    echo
    echo "Generated by \`scripts/synth.sh --docs\` (Yosys $("$YOSYS" -V | awk '{print $2}'), generic"
    echo "gates, no liberty: \`synth\`, then \`stat\` and \`stat -tech cmos\`). Every configuration of"
    echo "\`rtl/tops.txt\` except the \`# model-only\` ones; the esact_top line is its default"
    echo "configuration (\`Vesact_top_m\`, docs/architecture.md section 12). The buffers are flip-flops without a memory library, so the"
    echo "counts overstate what an SRAM-based layout needs; the transistor estimate is Yosys's"
    echo "per-gate CMOS count, a relative area measure between units, not a layout area (a"
    echo "trailing + marks a lower bound: cells without a CMOS model, such as flip-flops with"
    echo "enables, count nothing). ABC varies the counts by a few per cent from run to run."
    echo "The flattened netlists of the \`# gate-level\` lines pass their unit's golden-model tests"
    echo "in \`make test\` (\`scripts/netlist.sh\`, docs/architecture.md section 13)."
    echo
    cat "$LOG_DIR/summary.md"
  } >docs/synthesis.md
  echo "synth: wrote docs/synthesis.md"
fi

if [[ $fails -ne 0 ]]; then
  echo "synth: $fails of $runs configurations FAILED (logs in $LOG_DIR/)"
  exit 1
fi
echo "synth: all $runs configurations clean, $skipped model-only skipped (logs in $LOG_DIR/)"
