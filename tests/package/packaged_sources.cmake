# What vcpkg and Conan would do, without vcpkg or Conan: copy only the files
# conanfile.py exports (exports_sources), configure them with the options
# ports/quorum/portfile.cmake passes, and install. Proves the recipe exports
# enough and that a tests-off configure needs none of the test dependencies.
#   cmake -DSOURCE_DIR=<quorum> -DWORK_DIR=<dir> -DGENERATOR=<gen> -DCXX_COMPILER=<c++>
#         [-DMAKE_PROGRAM=<ninja>] -P packaged_sources.cmake
foreach(var SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "packaged_sources.cmake: -D${var}=... is required")
  endif()
endforeach()
set(ENV{LC_ALL} C)
file(REMOVE_RECURSE "${WORK_DIR}")
set(exported "${WORK_DIR}/source")
set(prefix "${WORK_DIR}/package")

file(READ "${SOURCE_DIR}/conanfile.py" recipe)
if(NOT recipe MATCHES "exports_sources = ([^\n]*)")
  message(FATAL_ERROR "conanfile.py has no 'exports_sources = ...' line")
endif()
string(REGEX MATCHALL "\"[^\"]+\"" patterns "${CMAKE_MATCH_1}")
foreach(pattern IN LISTS patterns)
  string(REPLACE "\"" "" pattern "${pattern}")
  if(pattern MATCHES "^(.+)/\\*$")
    file(COPY "${SOURCE_DIR}/${CMAKE_MATCH_1}" DESTINATION "${exported}")
  else()
    file(COPY "${SOURCE_DIR}/${pattern}" DESTINATION "${exported}")
  endif()
endforeach()
message(STATUS "exported like conanfile.py: ${patterns}")

file(READ "${SOURCE_DIR}/ports/quorum/portfile.cmake" portfile)
string(REGEX MATCHALL "-DQUORUM_[A-Z_]+=[A-Z]+" options "${portfile}")
if(NOT options)
  message(FATAL_ERROR "portfile.cmake passes no -DQUORUM_... options")
endif()
message(STATUS "configured like portfile.cmake: ${options}")

set(configure "${CMAKE_COMMAND}" -S "${exported}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_INSTALL_PREFIX=${prefix}" ${options})
if(MAKE_PROGRAM)
  list(APPEND configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
foreach(step IN ITEMS configure build install)
  if(step STREQUAL "build")
    set(command "${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
  elseif(step STREQUAL "install")
    set(command "${CMAKE_COMMAND}" --install "${WORK_DIR}/build")
  else()
    set(command ${configure})
  endif()
  execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${step} of the exported sources failed:\n${output}")
  endif()
endforeach()

foreach(file include/quorum/quorum.hpp share/cmake/quorum/quorumConfig.cmake
             share/cmake/quorum/quorumTargets.cmake share/doc/quorum/LICENSE)
  if(NOT EXISTS "${prefix}/${file}")
    message(FATAL_ERROR "the package built from the exported sources lacks ${file}")
  endif()
endforeach()
message(STATUS "the exported sources configure and install on their own")
