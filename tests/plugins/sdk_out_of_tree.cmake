# plugins.sdk_out_of_tree_example: install the SDK component of the build tree
# into a fresh prefix, build examples/plugin-hello against that prefix only,
# then load the result through the C ABI with normbase-plugin-run.
# Inputs: NB_BUILD_DIR, NB_EXAMPLE_DIR, NB_WORK_DIR, NB_PLUGIN_RUN, NB_GENERATOR.
cmake_minimum_required(VERSION 3.22)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(OUT "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${NB_WORK_DIR})
set(prefix ${NB_WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${NB_BUILD_DIR} --component sdk --prefix ${prefix})
foreach(f include/normbase/plugin.h include/normbase/plugin.hpp
          lib/cmake/NormbaseSDK/NormbaseSDKConfig.cmake lib/cmake/NormbaseSDK/normbase-plugin.map)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the SDK install lacks ${f}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${NB_EXAMPLE_DIR} -B ${NB_WORK_DIR}/build -G ${NB_GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${NB_WORK_DIR}/build)
set(plugin ${NB_WORK_DIR}/build/hello.so)

run(${NB_PLUGIN_RUN} ${plugin} --describe)
if(NOT OUT MATCHES "name: hello" OR NOT OUT MATCHES "kind: check" OR NOT OUT MATCHES "abi_version: 1")
  message(FATAL_ERROR "unexpected descriptor:\n${OUT}")
endif()

file(WRITE ${NB_WORK_DIR}/job.json
  [=[{"job": {"id": "1", "plugin": "hello", "attempt": 1}, "config": {},
      "proposal": {"id": 1, "kind": "add", "revision": 1, "agreement_id": "paris-call-2018",
                   "record": {"id": "paris-call-2018", "title": "Paris Call"}}}]=])
run(${NB_PLUGIN_RUN} ${plugin} --config [=[{"greeting": "Hi"}]=] --input ${NB_WORK_DIR}/job.json)
if(NOT OUT MATCHES "\"status\":\"passed\"" OR NOT OUT MATCHES "Hi, Paris Call!")
  message(FATAL_ERROR "unexpected result:\n${OUT}")
endif()

file(WRITE ${NB_WORK_DIR}/shouting.json
  [=[{"proposal": {"kind": "add", "record": {"title": "PARIS CALL FOR TRUST"}}}]=])
run(${NB_PLUGIN_RUN} ${plugin} --input ${NB_WORK_DIR}/shouting.json)
if(NOT OUT MATCHES "\"status\":\"failed\"" OR NOT OUT MATCHES "\"field\":\"title\"")
  message(FATAL_ERROR "a shouting title should fail:\n${OUT}")
endif()

# Bad input comes back through the ABI as NB_PLUGIN_BAD_INPUT (exit status 1).
file(WRITE ${NB_WORK_DIR}/bad.json "{\"job\": {}}")
execute_process(COMMAND ${NB_PLUGIN_RUN} ${plugin} --input ${NB_WORK_DIR}/bad.json
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT rc EQUAL 1 OR NOT err MATCHES "bad input: proposal")
  message(FATAL_ERROR "bad input should exit 1 with a message, got ${rc}: ${err}")
endif()
message(STATUS "out-of-tree plugin built against ${prefix} and loaded")
