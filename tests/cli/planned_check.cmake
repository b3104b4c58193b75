# A protocol DESIGN.md promises (raft, paxos, 2pc). While `quorum-sim --list`
# does not name it, asking for it must exit 2 saying it is not in this build
# yet; once listed, it must run a seed cleanly and print its summary row.
#   cmake -DQSIM=<binary> -DNAME=<protocol> -P planned_check.cmake
cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND "${QSIM}" --list RESULT_VARIABLE code OUTPUT_VARIABLE listed)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "quorum-sim --list exited ${code}")
endif()
string(REPLACE "\n" ";" listed "${listed}")

execute_process(COMMAND "${QSIM}" ${NAME} --seed 1 RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NAME IN_LIST listed)
  if(NOT code EQUAL 0 OR NOT out MATCHES "\n${NAME} +1 +[0-9]+ ")
    message(FATAL_ERROR "${NAME} is listed but `quorum-sim ${NAME} --seed 1` exited ${code}\n${out}${err}")
  endif()
  message(STATUS "${NAME} is in this build and ran seed 1")
else()
  if(NOT code EQUAL 2 OR NOT out STREQUAL ""
     OR NOT err MATCHES "^quorum-sim: ${NAME} is not in this build yet. available: selftest")
    message(FATAL_ERROR "`quorum-sim ${NAME}` exited ${code}, expected 2 with a clear message\n${out}${err}")
  endif()
  message(STATUS "${NAME} is not in this build yet: exit 2 as promised")
endif()
