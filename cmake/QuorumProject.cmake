# Warnings as errors for quorum's own targets (never imposed on consumers), and
# the rule that adds each area folder of tests/, bench/ and examples/.
add_library(quorum_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(quorum_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror)
  # g++ 12 at -O3 reports false array-bounds, restrict and stringop-overflow
  # errors inside libstdc++'s own vector and string code (known false
  # positives of that release): a Release build of the tests would stop on
  # them. They stay warnings there; the ASan build checks bounds for real.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(quorum_warnings INTERFACE
      -Wno-error=array-bounds -Wno-error=restrict -Wno-error=stringop-overflow)
  endif()
endif()

# quorum_set_warnings(<target>...): our targets build warning-free.
function(quorum_set_warnings)
  foreach(target IN LISTS ARGN)
    target_link_libraries(${target} PRIVATE quorum_warnings)
  endforeach()
endfunction()

# quorum_add_area_subdirectories(): adds every direct subfolder that has a
# CMakeLists.txt, so a new area (tests/raft, bench/hashing, examples/kv, ...)
# joins the build by existing.
function(quorum_add_area_subdirectories)
  file(GLOB areas LIST_DIRECTORIES true CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*")
  foreach(area IN LISTS areas)
    if(IS_DIRECTORY "${area}" AND EXISTS "${area}/CMakeLists.txt")
      add_subdirectory("${area}")
    endif()
  endforeach()
endfunction()
