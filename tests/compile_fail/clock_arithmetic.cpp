// Compile-fail case (tests/compile_fail): a Clock whose time points cannot be ordered with '<'.
// Built twice by check_compile.cmake: as is it must be rejected with the
// requirement's words; with -DQUORUM_EXPECT_COMPILE_OK it must compile.
#include <cstdint>

#include "quorum/core/clock.hpp"

struct ticks {
  std::int64_t count;
};
struct instant {
  std::int64_t at;
  friend instant operator+(instant t, ticks d) { return instant{t.at + d.count}; }
  friend ticks operator-(instant a, instant b) { return ticks{a.at - b.at}; }
#ifdef QUORUM_EXPECT_COMPILE_OK
  friend bool operator<(instant a, instant b) { return a.at < b.at; }
#endif
};

struct candidate_clock {
  using duration = ticks;
  using time_point = instant;
  time_point now() const;
};

static_assert(quorum::check_clock<candidate_clock>());
