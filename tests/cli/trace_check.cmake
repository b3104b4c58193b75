# The --trace contract: a sweep writes JSON Lines that a checker independent of
# our writer accepts (every line has seed/time/node/event, every seed present),
# the same seeds give byte-identical files, and one seed run alone writes exactly
# the lines it wrote inside the sweep (no state leaks from seed to seed).
#   cmake -DQSIM=<binary> -DCHECK=<jsonl checker> -DDIR=<scratch dir> -P trace_check.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")

function(run expected_exit)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code STREQUAL "${expected_exit}")
    message(FATAL_ERROR "${ARGN}\nexit ${code}, expected ${expected_exit}\n${out}${err}")
  endif()
  message(STATUS "${ARGN}: ${out}")
endfunction()

run(0 "${QSIM}" selftest --seeds 3-7 --trace "${DIR}/a.jsonl")
run(0 "${CHECK}" "${DIR}/a.jsonl" 3 7)
run(0 "${QSIM}" selftest --seeds 3-7 --trace "${DIR}/b.jsonl")
execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${DIR}/a.jsonl" "${DIR}/b.jsonl" RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "two runs of seeds 3-7 wrote different traces")
endif()

# Seed 5 alone, and inside the sweep.
run(0 "${QSIM}" selftest --seed 5 --trace "${DIR}/five.jsonl")
run(0 "${CHECK}" "${DIR}/five.jsonl" 5 5)
file(STRINGS "${DIR}/a.jsonl" sweep_lines)
file(STRINGS "${DIR}/five.jsonl" alone_lines)
set(in_sweep "")
foreach(line IN LISTS sweep_lines)
  if(line MATCHES "\"seed\" *: *5[ ,}]")
    list(APPEND in_sweep "${line}")
  endif()
endforeach()
list(LENGTH alone_lines n)
if(n EQUAL 0 OR NOT in_sweep STREQUAL alone_lines)
  message(FATAL_ERROR "seed 5 alone wrote ${n} lines that differ from its lines inside seeds 3-7")
endif()

# A different seed must give a different trace, or the comparisons above prove nothing.
run(0 "${QSIM}" selftest --seed 6 --trace "${DIR}/six.jsonl")
execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${DIR}/five.jsonl" "${DIR}/six.jsonl" RESULT_VARIABLE same)
if(same EQUAL 0)
  message(FATAL_ERROR "seeds 5 and 6 wrote identical traces")
endif()

# A failing sweep still writes a valid trace, up to and including the failing seeds.
execute_process(COMMAND "${QSIM}" selftest-bug --seeds 1-40 --trace "${DIR}/bug.jsonl" RESULT_VARIABLE code OUTPUT_QUIET)
if(NOT code EQUAL 1 AND NOT code EQUAL 0)
  message(FATAL_ERROR "selftest-bug with a trace exited ${code}")
endif()
run(0 "${CHECK}" "${DIR}/bug.jsonl" 1 40)
