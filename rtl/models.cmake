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

# One model per non-comment line of rtl/tops.txt; editing the list re-runs CMake.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ESACT_RTL_DIR}/tops.txt)
file(STRINGS ${ESACT_RTL_DIR}/tops.txt esact_tops_lines REGEX "^[ \t]*[^# \t]")
foreach(line IN LISTS esact_tops_lines)
  string(REGEX REPLACE "#.*$" "" line "${line}")
  string(STRIP "${line}" line)
  string(REGEX REPLACE "[ \t]+" ";" fields "${line}")
  esact_add_model(${fields})
endforeach()
