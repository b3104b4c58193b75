# Runs ports/quorum/portfile.cmake as vcpkg would, with small stand-ins for the
# vcpkg helpers it calls (vcpkg itself cannot be installed here). Catches a
# portfile that does not parse, points SOURCE_PATH at the wrong place, passes
# an unknown option, or fixes up a CONFIG_PATH where nothing was installed.
#   cmake -DPORT_DIR=<ports/quorum> -DWORK_DIR=<dir> -DGENERATOR=<gen>
#         -DCXX_COMPILER=<c++> [-DMAKE_PROGRAM=<ninja>] -P vcpkg_portfile.cmake
foreach(var PORT_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "vcpkg_portfile.cmake: -D${var}=... is required")
  endif()
endforeach()
set(ENV{LC_ALL} C)
file(REMOVE_RECURSE "${WORK_DIR}")
set(PORT quorum)
set(CURRENT_PACKAGES_DIR "${WORK_DIR}/packages")
set(CURRENT_BUILDTREES_DIR "${WORK_DIR}/buildtrees")

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed:\n${output}")
  endif()
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(arg "" "SOURCE_PATH" "OPTIONS" ${ARGN})
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "a header-only port sets VCPKG_BUILD_TYPE to release before configuring")
  endif()
  set(tool "")
  if(MAKE_PROGRAM)
    set(tool "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}"
    -B "${CURRENT_BUILDTREES_DIR}/rel" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    ${tool} "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" ${arg_OPTIONS}
    RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "vcpkg_cmake_configure failed:\n${output}")
  endif()
  # CMake only warns about a -D nobody reads; for the port's options that is a typo.
  string(FIND "${output}" "Manually-specified variables were not used" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "the port passes an option quorum does not know:\n${output}")
  endif()
endfunction()

function(vcpkg_cmake_install)
  run_step("vcpkg_cmake_install (build)" "${CMAKE_COMMAND}" --build "${CURRENT_BUILDTREES_DIR}/rel")
  run_step("vcpkg_cmake_install" "${CMAKE_COMMAND}" --install "${CURRENT_BUILDTREES_DIR}/rel")
endfunction()

function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(arg "" "CONFIG_PATH;PACKAGE_NAME" "" ${ARGN})
  if(NOT arg_PACKAGE_NAME)
    set(arg_PACKAGE_NAME "${PORT}")
  endif()
  set(from "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
  if(NOT EXISTS "${from}/${arg_PACKAGE_NAME}Config.cmake")
    message(FATAL_ERROR "vcpkg_cmake_config_fixup: no ${arg_PACKAGE_NAME}Config.cmake in ${from}")
  endif()
  file(RENAME "${from}" "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}.fixup")
  file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/cmake")
  file(RENAME "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}.fixup"
              "${CURRENT_PACKAGES_DIR}/share/${arg_PACKAGE_NAME}")
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(arg "" "" "FILE_LIST" ${ARGN})
  foreach(file IN LISTS arg_FILE_LIST)
    if(NOT EXISTS "${file}")
      message(FATAL_ERROR "vcpkg_install_copyright: ${file} does not exist")
    endif()
  endforeach()
  file(READ "${arg_FILE_LIST}" text)
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()

include("${PORT_DIR}/portfile.cmake")

foreach(file include/quorum/quorum.hpp share/quorum/quorumConfig.cmake
             share/quorum/quorumConfigVersion.cmake share/quorum/quorumTargets.cmake
             share/quorum/copyright)
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${file}")
    message(FATAL_ERROR "the port did not produce ${file}")
  endif()
endforeach()
foreach(dir debug lib share/cmake share/doc)
  if(EXISTS "${CURRENT_PACKAGES_DIR}/${dir}")
    message(FATAL_ERROR "the port leaves ${dir}/ behind; a header-only port installs include/ and share/${PORT}/ only")
  endif()
endforeach()

file(READ "${PORT_DIR}/vcpkg.json" manifest)
foreach(key name version description license)
  string(JSON value ERROR_VARIABLE missing GET "${manifest}" ${key})
  if(missing OR value STREQUAL "")
    message(FATAL_ERROR "vcpkg.json lacks '${key}'")
  endif()
endforeach()
string(JSON port_name GET "${manifest}" name)
if(NOT port_name STREQUAL PORT)
  message(FATAL_ERROR "vcpkg.json names the port '${port_name}', not '${PORT}'")
endif()
message(STATUS "the portfile installs quorum as vcpkg lays it out")
