# Runs quorum-sim once and checks its exit code AND its output, which CTest's
# PASS_REGULAR_EXPRESSION alone cannot do (it ignores the exit code).
#   cmake -DQSIM=<binary> -DARGS=<a|b|c> -DEXIT=<code>
#         [-DOUT=<regex>] [-DERR=<regex>] [-DOUT_NOT=<regex>] [-DERR_EMPTY=ON] [-DOUT_EMPTY=ON]
#         -P expect_run.cmake
# ARGS uses '|' between arguments so a test can pass arguments that CMake
# would otherwise split or swallow (empty strings, '=' forms).
cmake_minimum_required(VERSION 3.25)

string(REPLACE "|" ";" argv "${ARGS}")
execute_process(COMMAND "${QSIM}" ${argv}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)

set(problems "")
if(NOT code STREQUAL "${EXIT}")
  string(APPEND problems "exit code ${code}, expected ${EXIT}\n")
endif()
if(DEFINED OUT AND NOT out MATCHES "${OUT}")
  string(APPEND problems "stdout does not match: ${OUT}\n")
endif()
if(DEFINED ERR AND NOT err MATCHES "${ERR}")
  string(APPEND problems "stderr does not match: ${ERR}\n")
endif()
if(DEFINED OUT_NOT AND out MATCHES "${OUT_NOT}")
  string(APPEND problems "stdout matches what it must not: ${OUT_NOT}\n")
endif()
if(ERR_EMPTY AND NOT err STREQUAL "")
  string(APPEND problems "stderr is not empty\n")
endif()
if(OUT_EMPTY AND NOT out STREQUAL "")
  string(APPEND problems "stdout is not empty\n")
endif()

if(problems)
  message(FATAL_ERROR "quorum-sim ${argv}\n${problems}--- stdout ---\n${out}--- stderr ---\n${err}")
endif()
