# Verilated models: one static library (esact_rtl) holding every named configuration of
# rtl/tops.txt, each verilated with its own PREFIX, so the Verilator runtime compiles once.
# A new block adds a line to rtl/tops.txt, not here.

set(ESACT_RTL_DIR ${CMAKE_CURRENT_LIST_DIR})

# Flags shared by every model. --assert is off by default in Verilator 5.006. The unique
# x-assign/x-initial values come from the harness seed (esact::sim::HarnessBase).
# -Wno-fatal: a lint warning must not stop CMake from configuring (and the golden tests
# from running); `make lint` is the strict gate.
set(ESACT_VERILATOR_ARGS --assert -Wall -Wno-fatal --x-assign unique --x-initial unique)

add_library(esact_rtl STATIC)

# esact_add_model(<prefix> <top> [<Parameter>=<value> ...])
#   Verilates rtl/<top>.sv (plus the package, and submodules found in rtl/ by name)
#   into class <prefix> of esact_rtl, with FST tracing compiled in.
function(esact_add_model prefix top)
  set(params)
  foreach(p IN LISTS ARGN)
    list(APPEND params -G${p})
  endforeach()
  verilate(esact_rtl
    PREFIX ${prefix}
    TOP_MODULE ${top}
    SOURCES ${ESACT_RTL_DIR}/lint.vlt ${ESACT_RTL_DIR}/esact_pkg.sv ${ESACT_RTL_DIR}/${top}.sv
    INCLUDE_DIRS ${ESACT_RTL_DIR}
    TRACE_FST
    VERILATOR_ARGS ${ESACT_VERILATOR_ARGS} ${params}
    OPT_FAST -O1
    OPT_GLOBAL -Os)
endfunction()

# The Verilator runtime headers are system headers to the code that includes the models,
# so the project's -Wall -Wextra reports our warnings, not theirs.
target_include_directories(esact_rtl SYSTEM PUBLIC
  ${VERILATOR_ROOT}/include ${VERILATOR_ROOT}/include/vltstd)

# esact_add_netlist_model(<prefix> <top>)
#   The gate-level twin of configuration <prefix>: scripts/netlist.sh writes its flattened
#   Yosys netlist (build/netlist/<prefix>.v), verilated into class <prefix>_gl of esact_rtl.
#   Its ports are the RTL's, so the unit's driver runs it with the RTL model's parameter
#   class. verilate() runs Verilator while CMake configures, so the netlist is written then:
#   when it is missing or older than an RTL file or the scripts, which are configure
#   dependencies (an RTL edit re-runs CMake, which rewrites the netlist; the build then
#   re-verilates it). Lint is for the RTL, not for Yosys's output (-Wno-lint -Wno-style);
#   no --assert (synthesis drops assertions).
#   -fno-gate and TRACE_FST: Verilator 5.006 miscompiles the flat netlist of esact_vec
#   (every LayerNorm output -128). With tracing compiled in, the model is correct with
#   -fno-gate (also with -O0 or --public-flat-rw, not with -fno-dfg); without tracing,
#   -fno-gate is not enough (measured). Keep both until a Verilator update is checked.
#   The C++ of a flat netlist is a few huge functions: g++ -O1 spends about 20 CPU minutes
#   on esact_vec's, -O0 six; the gate-level tests stay short (about 30 s of CPU in all).
find_program(ESACT_YOSYS yosys)
function(esact_add_netlist_model prefix top)
  if(NOT ESACT_YOSYS)
    message(FATAL_ERROR "yosys not found: the gate-level models need it (make deps installs it)")
  endif()
  set(netlist ${CMAKE_BINARY_DIR}/netlist/${prefix}.v)
  file(GLOB inputs CONFIGURE_DEPENDS ${ESACT_RTL_DIR}/*.sv ${ESACT_RTL_DIR}/*.svh)
  list(APPEND inputs ${ESACT_RTL_DIR}/tops.txt ${ESACT_RTL_DIR}/../scripts/netlist.sh
       ${ESACT_RTL_DIR}/../scripts/yosys-elab.sh)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${inputs})
  set(stale OFF)
  foreach(f IN LISTS inputs)
    if("${f}" IS_NEWER_THAN "${netlist}")  # also true when the netlist is missing
      set(stale ON)
    endif()
  endforeach()
  if(stale)
    message(STATUS "Writing the gate-level netlist of ${prefix} (Yosys)")
    execute_process(COMMAND ${ESACT_RTL_DIR}/../scripts/netlist.sh ${prefix} ${netlist}
                    RESULT_VARIABLE rc)
    if(rc)
      message(FATAL_ERROR "scripts/netlist.sh ${prefix} failed (see ${netlist}.log)")
    endif()
  endif()
  verilate(esact_rtl
    PREFIX ${prefix}_gl
    TOP_MODULE ${top}
    SOURCES ${netlist}
    TRACE_FST
    VERILATOR_ARGS -Wno-fatal -Wno-lint -Wno-style --x-assign unique --x-initial unique -fno-gate
    OPT_FAST -O0
    OPT_GLOBAL -O0)
endfunction()

# One model per non-comment line of rtl/tops.txt, and a gate-level twin of each line marked
# '# gate-level'; editing the list re-runs CMake.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ESACT_RTL_DIR}/tops.txt)
file(STRINGS ${ESACT_RTL_DIR}/tops.txt esact_tops_lines REGEX "^[ \t]*[^# \t]")
foreach(line IN LISTS esact_tops_lines)
  set(gate_level OFF)
  if(line MATCHES "#[ \t]*gate-level[ \t]*$")
    set(gate_level ON)
  endif()
  string(REGEX REPLACE "#.*$" "" line "${line}")
  string(STRIP "${line}" line)
  string(REGEX REPLACE "[ \t]+" ";" fields "${line}")
  esact_add_model(${fields})
  if(gate_level)
    list(GET fields 0 1 prefix_top)
    esact_add_netlist_model(${prefix_top})
  endif()
endforeach()
