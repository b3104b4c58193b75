# Warnings as errors for quorum's own targets (never imposed on consumers).
add_library(quorum_warnings INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(quorum_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror)
endif()

# quorum_set_warnings(<target>...): our targets build warning-free.
function(quorum_set_warnings)
  foreach(target IN LISTS ARGN)
    target_link_libraries(${target} PRIVATE quorum_warnings)
  endforeach()
endfunction()
