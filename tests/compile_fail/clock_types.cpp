// Compile-fail case (tests/compile_fail): a Clock without the nested type 'duration'.
// Built twice by check_compile.cmake: as is it must be rejected with the
// requirement's words; with -DQUORUM_EXPECT_COMPILE_OK it must compile.
#include <chrono>

#include "quorum/core/clock.hpp"

struct candidate_clock {
#ifdef QUORUM_EXPECT_COMPILE_OK
  using duration = std::chrono::nanoseconds;
#endif
  using time_point = std::chrono::time_point<candidate_clock, std::chrono::nanoseconds>;
  time_point now() const;
};

static_assert(quorum::check_clock<candidate_clock>());
