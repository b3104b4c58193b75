# Helpers for quorum's test suites: one doctest binary per area, one CTest
# test per doctest case (doctest_discover_tests), every test labelled.
find_package(doctest REQUIRED)
include(doctest)

# One compiled doctest main shared by every suite.
if(NOT TARGET quorum_doctest_main)
  add_library(quorum_doctest_main OBJECT "${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp")
  target_link_libraries(quorum_doctest_main PUBLIC doctest::doctest)
  quorum_set_warnings(quorum_doctest_main)
endif()

# quorum_add_test_suite(<name> LABELS <label>... SOURCES <file>... [LIBRARIES <lib>...]
#                       [DEFINITIONS <def>...] [TIMEOUT <seconds>])
# Builds test binary quorum_test_<name> and registers each of its cases as
# "<name>:<case>" with the given labels.
function(quorum_add_test_suite name)
  cmake_parse_arguments(arg "" "TIMEOUT" "LABELS;SOURCES;LIBRARIES;DEFINITIONS" ${ARGN})
  if(NOT arg_LABELS)
    message(FATAL_ERROR "quorum_add_test_suite(${name}): give at least one LABEL")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  # CTest keeps a test's name in a CMake list, so a ';' in a doctest case name
  # splits it into names that match no case: the test would run nothing and
  # pass. Refuse such a name here, where it can be told.
  foreach(source IN LISTS arg_SOURCES)
    get_filename_component(source "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    file(STRINGS "${source}" semicolon_names REGEX "TEST_CASE[A-Z_]*\\(\"[^\"]*;")
    if(semicolon_names)
      message(FATAL_ERROR "quorum_add_test_suite(${name}): ${source} has a TEST_CASE name with a ';', "
                          "which CTest would split into names that run nothing; use ',' or ':'")
    endif()
  endforeach()
  set(target quorum_test_${name})
  add_executable(${target} ${arg_SOURCES} $<TARGET_OBJECTS:quorum_doctest_main>)
  target_link_libraries(${target} PRIVATE quorum::quorum doctest::doctest ${arg_LIBRARIES})
  # Shared test helpers: #include "support/...".
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  target_compile_definitions(${target} PRIVATE ${arg_DEFINITIONS})
  quorum_set_warnings(${target})
  # Debian's doctest module mangles a list-valued LABELS property (it appends
  # its own LABELS after ours) and drops spaces in TEST_PREFIX, so labels are
  # set separately below and the prefix has no space.
  doctest_discover_tests(${target}
    TEST_PREFIX "${name}:"
    PROPERTIES TIMEOUT ${arg_TIMEOUT}
    WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  # Labels are set by a script CTest runs after doctest's discovery script,
  # when the list ${target}_TESTS of discovered names exists.
  set(label_script "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  file(WRITE "${label_script}"
    "foreach(t IN LISTS ${target}_TESTS)\n"
    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${arg_LABELS}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${label_script}")
endfunction()
