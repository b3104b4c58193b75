// Compile-fail case (tests/compile_fail): a Clock without now().
// Built twice by check_compile.cmake: as is it must be rejected with the
// requirement's words; with -DQUORUM_EXPECT_COMPILE_OK it must compile.
#include <chrono>

#include "quorum/core/clock.hpp"

struct candidate_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<candidate_clock, duration>;
#ifdef QUORUM_EXPECT_COMPILE_OK
  time_point now() const;
#else
  duration elapsed() const;  // a near miss: not the name or type the concept asks for
#endif
};

static_assert(quorum::check_clock<candidate_clock>());
