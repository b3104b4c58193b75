# On a terminal quorum-sim draws a progress line (seeds done of total, events
# per second, violations so far) in place on stderr, and erases it before the
# summary. script(1) supplies the pseudo-terminal.
#   cmake -DQSIM=<binary> -DSCRIPT=<script program> -P progress_check.cmake
cmake_minimum_required(VERSION 3.25)

execute_process(COMMAND "${SCRIPT}" -q -e -c "'${QSIM}' selftest-bug --seeds 1-120" /dev/null
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 1)
  message(FATAL_ERROR "selftest-bug on a terminal exited ${code}, expected 1\n${out}${err}")
endif()
string(ASCII 27 esc)
if(NOT out MATCHES "\r${esc}\\[K  seeds [0-9]+/120  [-0-9]+ events/s  violations [0-9]+")
  message(FATAL_ERROR "no progress line on a terminal:\n${out}")
endif()
# Erased before the report, or it would garble the failure list and the table.
if(NOT out MATCHES "\r${esc}\\[KVIOLATION" OR out MATCHES "VIOLATION.*events/s")
  message(FATAL_ERROR "the progress line is not erased before the report:\n${out}")
endif()
message(STATUS "progress shown on a terminal")
