#!/usr/bin/env bash
# Writes the gate-level netlist of one configuration of rtl/tops.txt for the gate-level
# regression: the elaboration of scripts/synth.sh, Yosys's generic `synth`, flattened, then
# write_verilog (gates as expressions, flip-flops as always blocks: plain Verilog that
# Verilator reads). splitnets gives every internal bit its own wire: a vector whose bits
# feed each other through gates is a false combinational loop to Verilator (UNOPTFLAT).
# rtl/models.cmake verilates the netlist as class <prefix>_gl, and the unit's tests run the
# same golden-model checks on it as on the RTL (docs/architecture.md section 13).
# The netlist is written to a temporary file and renamed, so a failed run leaves none; the
# Yosys log goes beside it (<out>.log).
# Usage: scripts/netlist.sh <model prefix> <out.v>
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 <model prefix> <out.v>" >&2; exit 2; }
prefix=$1
out=$(realpath -m "$2")
cd "$(dirname "$0")/.."
# shellcheck source=scripts/yosys-elab.sh
source scripts/yosys-elab.sh

line=$(esact_tops_line "$prefix")
read -r _ top params <<<"$line"
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086  # the parameters are a space-separated list on purpose
script="$(esact_yosys_elab "$top" $params)
synth -flatten -top $top;
check -assert;
splitnets;
write_verilog -noattr $out.tmp"
if ! "${YOSYS:-yosys}" -q -l "$out.log" -p "$script" >/dev/null 2>&1; then
  echo "netlist: Yosys failed on $prefix ($top $params); see $out.log" >&2
  grep -E 'ERROR|Error' "$out.log" | head -5 >&2 || true
  rm -f "$out.tmp"
  exit 1
fi
mv "$out.tmp" "$out"
