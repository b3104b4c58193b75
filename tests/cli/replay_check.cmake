# A failing seed's replay command, pasted as printed, fails again on that seed
# and writes the trace it suggests: the promise behind "exact command".
#   cmake -DQSIM=<binary> -DCHECK=<jsonl checker> -DDIR=<scratch dir> -P replay_check.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")

execute_process(COMMAND "${QSIM}" selftest-bug --seeds 1-200 --drop 0.05 --steps 500
  WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "selftest-bug over seeds 1-200 exited ${code}, expected 1\n${out}${err}")
endif()
if(NOT out MATCHES "VIOLATION +selftest-bug seed ([0-9]+): [^\n]+\n  replay: ([^\n]+)\n")
  message(FATAL_ERROR "no failing seed with a replay command in:\n${out}")
endif()
set(seed "${CMAKE_MATCH_1}")
set(command "${CMAKE_MATCH_2}")
if(NOT command MATCHES " --drop 0[.]05 --steps 500 --seed ${seed} --trace ")
  message(FATAL_ERROR "the replay command lost the run's flags: ${command}")
endif()

separate_arguments(argv UNIX_COMMAND "${command}")
execute_process(COMMAND ${argv} WORKING_DIRECTORY "${DIR}" RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1 OR NOT out MATCHES "VIOLATION +selftest-bug seed ${seed}: ")
  message(FATAL_ERROR "replaying seed ${seed} with `${command}` did not fail again (exit ${code})\n${out}${err}")
endif()
execute_process(COMMAND "${CHECK}" "${DIR}/quorum-sim-selftest-bug-seed-${seed}.jsonl" ${seed} ${seed}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "the replay's trace is missing or invalid\n${out}${err}")
endif()
message(STATUS "seed ${seed} replayed: ${command}")
