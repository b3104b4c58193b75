# Runs one libFuzzer target for a fixed time as a CTest test: from a fresh,
# empty corpus in the build tree (so every run starts alike) plus the
# checked-in seeds, which are read but never written.
# cmake -D FUZZER=<exe> -D CORPUS=<dir> -D SEEDS=<dir> -D SECONDS=<n> -P run_fuzzer.cmake
foreach(var FUZZER CORPUS SEEDS SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D ${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${CORPUS}")
file(MAKE_DIRECTORY "${CORPUS}")
set(dirs "${CORPUS}")
if(IS_DIRECTORY "${SEEDS}")
  list(APPEND dirs "${SEEDS}")
endif()

execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -max_len=4096 -timeout=10
          -print_final_stats=1 ${dirs}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}); the crashing input is saved in the working directory")
endif()
