// The smallest useful program against an installed quorum: the umbrella header
// compiles, the concepts hold for the standard clock, and the library runs.
#include <quorum/quorum.hpp>

#include <chrono>
#include <cstdio>

static_assert(quorum::check_clock<std::chrono::steady_clock>());

int main() {
  quorum::seeded_random random{42};
  const quorum::log_index next = quorum::log_index{1}.next();
  const quorum::result<quorum::log_index> r = next;
  if (!r.has_value() || r.value() != quorum::log_index{2} || random.below(6) >= 6) return 1;
  std::printf("quorum %s: test_package ok\n", QUORUM_VERSION_STRING);
  return 0;
}
