# Installs quorum's build tree into a fresh prefix, as `cmake --install` does
# for a user, and checks the package's files landed where consumers look:
#   cmake -DBUILD_DIR=<quorum build> -DPREFIX=<dir> -P install_prefix.cmake
foreach(var BUILD_DIR PREFIX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_prefix.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install failed:\n${output}")
endif()

foreach(file
    include/quorum/quorum.hpp
    include/quorum/core.hpp
    include/quorum/core/log.hpp
    include/quorum/version.hpp
    share/cmake/quorum/quorumConfig.cmake
    share/cmake/quorum/quorumConfigVersion.cmake
    share/cmake/quorum/quorumTargets.cmake
    share/doc/quorum/LICENSE)
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "cmake --install did not install ${file}:\n${output}")
  endif()
endforeach()

# A header-only, architecture-independent package: nothing in lib/.
file(GLOB_RECURSE libraries "${PREFIX}/lib/*" "${PREFIX}/lib64/*")
if(libraries)
  message(FATAL_ERROR "a header-only package installed into lib/: ${libraries}")
endif()
# The installed target must point at the installed headers, never the source tree.
file(READ "${PREFIX}/share/cmake/quorum/quorumTargets.cmake" targets)
string(FIND "${targets}" [[${_IMPORT_PREFIX}/include]] at)
if(at EQUAL -1)
  message(FATAL_ERROR "quorumTargets.cmake does not use the prefix's include/:\n${targets}")
endif()
message(STATUS "installed quorum into ${PREFIX}")
