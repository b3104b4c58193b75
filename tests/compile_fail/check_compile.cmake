# Runs one compile-fail case, in the manner of {fmt}'s expect_compile:
#   cmake -DCOMPILER=<c++> -DINCLUDE_DIR=<dir> -DSOURCE=<file> -DMODE=fail|ok
#         [-DEXPECT=<text>] [-DFORBID=<text>|<text>...] -P check_compile.cmake
# MODE=fail: the source must not compile, the diagnostic must contain EXPECT
# and none of FORBID (so the type misses exactly the requirement we meant).
# MODE=ok: the same source with -DQUORUM_EXPECT_COMPILE_OK must compile, which
# proves the failure above comes from the missing requirement and nothing else.
foreach(var COMPILER INCLUDE_DIR SOURCE MODE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile.cmake: -D${var}=... is required")
  endif()
endforeach()

set(ENV{LC_ALL} C)  # diagnostics in plain ASCII, whatever the user's locale
set(command "${COMPILER}" -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror
    "-I${INCLUDE_DIR}")
if(MODE STREQUAL "ok")
  list(APPEND command -DQUORUM_EXPECT_COMPILE_OK)
elseif(NOT MODE STREQUAL "fail")
  message(FATAL_ERROR "check_compile.cmake: MODE must be 'fail' or 'ok', not '${MODE}'")
endif()
list(APPEND command "${SOURCE}")

execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)

if(MODE STREQUAL "ok")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "the positive control of ${SOURCE} does not compile:\n${output}")
  endif()
  message(STATUS "compiles, as it must: ${SOURCE} -DQUORUM_EXPECT_COMPILE_OK")
  return()
endif()

if(status EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but its type misses a requirement and must be rejected")
endif()
if(DEFINED EXPECT)
  string(FIND "${output}" "${EXPECT}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${SOURCE} failed to compile, but the diagnostic does not say\n"
                        "  ${EXPECT}\nIt says:\n${output}")
  endif()
endif()
if(DEFINED FORBID AND NOT FORBID STREQUAL "")
  string(REPLACE "|" ";" forbidden "${FORBID}")
  foreach(text IN LISTS forbidden)
    string(FIND "${output}" "${text}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${SOURCE}: the diagnostic names a requirement the type meets:\n"
                          "  ${text}\nIt says:\n${output}")
    endif()
  endforeach()
endif()
message(STATUS "rejected, as it must be, with: ${EXPECT}")
