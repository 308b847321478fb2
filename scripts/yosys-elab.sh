# Sourced by scripts/synth.sh, scripts/fpga.sh and scripts/netlist.sh: the one way a
# configuration of rtl/tops.txt is read and elaborated in Yosys. Run from the repository root.

# The package first, then every module file; hierarchy picks what the top uses. Every file
# is parsed for every configuration, so a broken file fails all of them.
ESACT_RTL=rtl
esact_sources=("$ESACT_RTL/esact_pkg.sv")
for f in "$ESACT_RTL"/esact_*.sv; do
  [[ $f == "$ESACT_RTL/esact_pkg.sv" ]] || esact_sources+=("$f")
done

# esact_yosys_elab <top> [<Param>=<value> ...]: prints the Yosys commands that read the RTL
# (-DSYNTHESIS: no assertions) and elaborate <top> with the parameters, ending with <top>
# as the design's top module.
# chparam on the parsed module, then hierarchy: Yosys 0.23's `hierarchy -chparam` derives
# two identical child instances whose parameters come from the top's twice and stops on an
# internal assertion (esact_top has such instances); rename gives the derived top its own
# name back.
esact_yosys_elab() {
  local top=$1 setparams="" p
  shift
  for p in "$@"; do setparams+=" -set ${p%%=*} ${p#*=}"; done
  [[ -z $setparams ]] || setparams="chparam$setparams $top;"
  echo "read_verilog -sv -DSYNTHESIS -I$ESACT_RTL ${esact_sources[*]};
$setparams
hierarchy -check -top $top;
rename -top $top;"
}

# esact_tops_line <model prefix>: the line of rtl/tops.txt for that prefix, comment stripped
# ("<prefix> <top> <params>"); fails if there is none.
esact_tops_line() {
  local line
  line=$(grep -E "^$1[[:space:]]" "$ESACT_RTL/tops.txt") || {
    echo "no configuration $1 in $ESACT_RTL/tops.txt" >&2
    return 1
  }
  echo "${line%%#*}"
}
