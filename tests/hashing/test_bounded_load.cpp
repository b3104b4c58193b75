// bounded_load: the cap ceil(c * keys / nodes) is never exceeded through random
// assigns, releases, joins and leaves (over rendezvous and over the ketama
// ring); keys are sticky; the first choice is kept when there is room; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/bounded_load.hpp"
#include "quorum/hashing/rendezvous.hpp"
#if __has_include("quorum/hashing/ketama.hpp")
#include "quorum/hashing/ketama.hpp"
#define QUORUM_TEST_HAVE_KETAMA 1
#endif

using namespace quorum::hashing;

namespace {

template <class B>
void check_invariants(const B& b) {
  std::size_t total = 0;
  const std::size_t cap =
      b.nodes() == 0
          ? 0
          : std::max<std::size_t>(1, static_cast<std::size_t>(
                                         std::ceil(b.load_factor() * static_cast<double>(b.keys()) /
                                                   static_cast<double>(b.nodes()))));
  REQUIRE(b.cap() == cap);
  for (const auto& [name, load] : b.loads()) {
    REQUIRE(load <= cap);
    total += load;
  }
  REQUIRE(total == b.keys());
}

template <class Ring>
void random_walk(Ring ring, std::uint64_t seed) {
  for (int i = 0; i < 8; ++i) ring.insert("node-" + std::to_string(i));
  bounded_load<Ring> b{std::move(ring), {.c = 1.25}};
  quorum::seeded_random rng{seed};
  std::vector<std::string> live_keys;
  int next_node = 8;
  int next_key = 0;
  for (int step = 0; step < 2500; ++step) {
    const double r = rng.unit();
    if (r < 0.6 || live_keys.empty()) {
      const std::string key = "key-" + std::to_string(next_key++);
      const std::string& owner = b.assign(key);
      REQUIRE(b.owner(key) != nullptr);
      REQUIRE(*b.owner(key) == owner);
      REQUIRE(b.assign(key) == owner);  // sticky: a second assign changes nothing
      live_keys.push_back(key);
    } else if (r < 0.9) {
      const std::size_t i = rng.below(live_keys.size());
      REQUIRE(b.release(live_keys[i]));
      REQUIRE(b.owner(live_keys[i]) == nullptr);
      live_keys[i] = live_keys.back();
      live_keys.pop_back();
    } else if (r < 0.95 || b.nodes() <= 2) {
      b.insert("node-" + std::to_string(next_node++));
    } else {
      const auto loads = b.loads();
      const std::string victim{loads[rng.below(loads.size())].first};
      REQUIRE(b.erase(victim));
      REQUIRE(b.load(victim) == 0);
      std::size_t stranded = 0;
      for (const auto& k : live_keys) stranded += *b.owner(k) == victim;
      REQUIRE(stranded == 0);
    }
    check_invariants(b);
  }
  CHECK(b.keys() == live_keys.size());
}

}  // namespace

TEST_CASE("bounded_load: the cap is never exceeded under churn (over rendezvous)") {
  random_walk(rendezvous<std::string>{}, 1);
  random_walk(rendezvous<std::string>{}, 2);
}

#ifdef QUORUM_TEST_HAVE_KETAMA
TEST_CASE("bounded_load: the cap is never exceeded under churn (over the stable ketama ring)") {
  random_walk(ketama_ring<std::string>{ketama_mode::stable}, 3);
}
#endif

TEST_CASE("bounded_load: keys go to their first choice while it has room") {
  rendezvous<std::string> ring;
  for (int i = 0; i < 10; ++i) ring.insert("node-" + std::to_string(i));
  bounded_load<rendezvous<std::string>> b{ring, {.c = 1.25}};
  int first_choice = 0;
  constexpr int keys = 20'000;
  for (int i = 0; i < keys; ++i) {
    const std::string key = "key-" + std::to_string(i);
    first_choice += b.assign(key) == ring.find(key);
  }
  check_invariants(b);
  // Most keys keep the plain consistent-hashing owner; peak load is capped.
  CHECK(first_choice > keys * 9 / 10);
  for (const auto& [name, load] : b.loads())
    CHECK(load <= static_cast<std::size_t>(std::ceil(1.25 * keys / 10)));
}

TEST_CASE("bounded_load: a hot node's overflow spills to the next node in its keys' lists") {
  rendezvous<std::string> ring;
  ring.insert("big", 100.0);  // would take ~99% of the keys unbounded
  ring.insert("small-1");
  ring.insert("small-2");
  bounded_load<rendezvous<std::string>> b{ring, {.c = 1.5}};
  for (int i = 0; i < 3000; ++i) b.assign("key-" + std::to_string(i));
  check_invariants(b);
  CHECK(b.load("big") == b.cap());
  CHECK(b.load("small-1") + b.load("small-2") == 3000 - b.cap());
}

TEST_CASE("bounded_load: bad input gets clear errors") {
  rendezvous<std::string> ring;
  CHECK_THROWS_AS((bounded_load<rendezvous<std::string>>{ring, {.c = 1.0}}), invalid_parameter);
  CHECK_THROWS_AS((bounded_load<rendezvous<std::string>>{ring, {.c = 0.5}}), std::invalid_argument);
  CHECK_THROWS_AS((bounded_load<rendezvous<std::string>>{ring, {.c = std::nan("")}}),
                  invalid_parameter);
  bounded_load<rendezvous<std::string>> b{ring};
  CHECK(b.load_factor() == 1.25);
  CHECK_THROWS_AS(b.assign("k"), empty_placement);
  CHECK(b.keys() == 0);  // the failed assign left nothing behind
  b.insert("a");
  CHECK_THROWS_AS(b.insert("a"), duplicate_node);
  CHECK(b.assign("k") == "a");
  CHECK_FALSE(b.release("not assigned"));
  CHECK_FALSE(b.erase("nope"));
  CHECK_THROWS_AS(b.erase("a"), invalid_parameter);  // the last node still holds "k"
  CHECK(b.nodes() == 1);
  CHECK(b.ring().size() == 1);
  CHECK(*b.owner("k") == "a");
  CHECK(b.release("k"));
  CHECK(b.erase("a"));
  CHECK(b.nodes() == 0);
}
