# Configures, builds and runs one consumer project from scratch, as a user would:
#   cmake -DSOURCE_DIR=<project> -DBINARY_DIR=<dir> -DGENERATOR=<gen> -DCXX_COMPILER=<c++>
#         [-DMAKE_PROGRAM=<ninja>] [-DCACHE_ARGS=-Dx=y|-Dz=w] [-DEXECUTABLE=<name>]
#         [-DEXPECT_CONFIGURE_ERROR=<text>|<text>...] [-DCOMPILE_COMMANDS_CONTAIN=<text>]
#         [-DCOMPILE_COMMANDS_LACK=<text>] -P run_consumer.cmake
# With EXPECT_CONFIGURE_ERROR the configure step must fail and say each text.
foreach(var SOURCE_DIR BINARY_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

set(ENV{LC_ALL} C)
file(REMOVE_RECURSE "${BINARY_DIR}")

string(REPLACE "|" ";" cache_args "${CACHE_ARGS}")
set(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF ${cache_args})
if(MAKE_PROGRAM)
  list(APPEND configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
execute_process(COMMAND ${configure} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)

if(DEFINED EXPECT_CONFIGURE_ERROR)
  if(status EQUAL 0)
    message(FATAL_ERROR "configuring ${SOURCE_DIR} succeeded but must fail with "
                        "'${EXPECT_CONFIGURE_ERROR}':\n${output}")
  endif()
  # CMake wraps its messages at whatever column; compare with spaces collapsed.
  string(REGEX REPLACE "[ \t\r\n]+" " " flat "${output}")
  string(REPLACE "|" ";" expected_texts "${EXPECT_CONFIGURE_ERROR}")
  foreach(text IN LISTS expected_texts)
    string(FIND "${flat}" "${text}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "configuring ${SOURCE_DIR} failed, but without '${text}':\n${output}")
    endif()
  endforeach()
  message(STATUS "configure failed, as it must, saying: ${EXPECT_CONFIGURE_ERROR}")
  return()
endif()
if(NOT status EQUAL 0)
  message(FATAL_ERROR "configuring ${SOURCE_DIR} failed:\n${output}")
endif()
message(STATUS "${output}")

execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}"
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "building ${SOURCE_DIR} failed:\n${output}")
endif()

file(READ "${BINARY_DIR}/compile_commands.json" commands)
if(DEFINED COMPILE_COMMANDS_CONTAIN)
  string(FIND "${commands}" "${COMPILE_COMMANDS_CONTAIN}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the compile commands lack '${COMPILE_COMMANDS_CONTAIN}':\n${commands}")
  endif()
endif()
if(DEFINED COMPILE_COMMANDS_LACK)
  string(FIND "${commands}" "${COMPILE_COMMANDS_LACK}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the compile commands contain '${COMPILE_COMMANDS_LACK}':\n${commands}")
  endif()
endif()

if(DEFINED EXECUTABLE)
  execute_process(COMMAND "${BINARY_DIR}/${EXECUTABLE}"
                  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${EXECUTABLE} failed (${status}):\n${output}")
  endif()
  message(STATUS "${EXECUTABLE}: ${output}")
endif()
