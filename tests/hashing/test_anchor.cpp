// AnchorHash: every lookup lands on a working bucket, loads are even, a removal
// moves only the removed bucket's keys, re-adding restores the old mapping
// exactly (LIFO), and the named wrapper's errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/anchor.hpp"

using namespace quorum::hashing;

namespace {
std::vector<std::uint32_t> map_keys(const anchor_hash& a, const std::vector<std::uint64_t>& keys) {
  std::vector<std::uint32_t> out;
  out.reserve(keys.size());
  for (auto k : keys) out.push_back(a.bucket(k));
  return out;
}
std::vector<std::uint64_t> random_keys(std::size_t n, std::uint64_t seed) {
  quorum::seeded_random rng{seed};
  std::vector<std::uint64_t> keys(n);
  for (auto& k : keys) k = rng();
  return keys;
}
}  // namespace

TEST_CASE("anchor_hash: lookups land on working buckets, evenly") {
  anchor_hash a{100, 60};
  CHECK(a.size() == 60);
  CHECK(a.capacity() == 100);
  const auto keys = random_keys(120'000, 1);
  std::vector<int> load(100);
  for (auto b : map_keys(a, keys)) ++load[b];
  for (std::uint32_t b = 0; b < 60; ++b) CHECK(load[b] == doctest::Approx(2000).epsilon(0.1));
  for (std::uint32_t b = 60; b < 100; ++b) CHECK(load[b] == 0);
}

TEST_CASE("anchor_hash: random removals and additions move only what they must") {
  anchor_hash a{64, 64};
  quorum::seeded_random rng{2};
  const auto keys = random_keys(4000, 3);
  std::vector<std::uint32_t> current = map_keys(a, keys);
  std::vector<std::vector<std::uint32_t>> history;  // mapping before each removal
  std::vector<std::uint32_t> removed;
  int removals = 0;
  int additions = 0;
  for (int step = 0; step < 150; ++step) {
    const bool remove = a.size() > 1 && (removed.empty() || rng.chance(0.55));
    if (remove) {
      std::uint32_t b;
      do b = static_cast<std::uint32_t>(rng.below(64));
      while (!a.is_working(b));
      history.push_back(current);
      a.remove(b);
      removed.push_back(b);
      const auto next = map_keys(a, keys);
      std::size_t not_working = 0;
      std::size_t needless_moves = 0;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        not_working += !a.is_working(next[i]);
        needless_moves += current[i] != b && next[i] != current[i];  // minimal disruption
      }
      REQUIRE(not_working == 0);
      REQUIRE(needless_moves == 0);
      current = next;
      ++removals;
    } else {
      const std::uint32_t b = a.add();
      REQUIRE(b == removed.back());  // LIFO
      removed.pop_back();
      current = map_keys(a, keys);
      REQUIRE(current == history.back());  // exactly the mapping before that removal
      history.pop_back();
      ++additions;
    }
  }
  CHECK(removals > 40);
  CHECK(additions > 20);
}

TEST_CASE("anchor_hash: the set can shrink to one bucket and empty, then grow back") {
  anchor_hash a{8, 8};
  for (std::uint32_t b = 0; b < 7; ++b) a.remove(b);
  CHECK(a.size() == 1);
  for (std::uint64_t k = 0; k < 100; ++k) CHECK(a.bucket(k) == 7);
  a.remove(7);
  CHECK(a.size() == 0);
  CHECK_FALSE(a.is_working(7));
  CHECK(a.add() == 7);
  CHECK(a.is_working(7));
  CHECK(a.bucket(12345) == 7);
}

TEST_CASE("anchor_hash: bad input gets clear errors") {
  CHECK_THROWS_AS(anchor_hash(0, 0), invalid_parameter);
  CHECK_THROWS_AS(anchor_hash(4, 5), std::invalid_argument);
  CHECK_THROWS_AS(anchor_hash(anchor_hash::max_capacity + 1, 1), invalid_parameter);
  anchor_hash a{4, 4};
  CHECK_THROWS_AS(a.add(), unknown_node);
  a.remove(2);
  CHECK_THROWS_AS(a.remove(2), unknown_node);
  CHECK_THROWS_AS(a.remove(4), std::out_of_range);
  CHECK(a.size() == 3);
}

TEST_CASE("anchor: named nodes, O(1) erase, rejoin restores keys, errors") {
  anchor<std::string> a{16};
  CHECK(a.try_find("k") == nullptr);
  CHECK_THROWS_AS((void)a.find("k"), empty_placement);
  for (int i = 0; i < 10; ++i) a.insert("node-" + std::to_string(i));
  CHECK_THROWS_AS(a.insert("node-3"), duplicate_node);
  CHECK_THROWS_AS(a.insert(""), duplicate_node);
  std::vector<std::string> before;
  for (int i = 0; i < 10'000; ++i) before.push_back(a.find("key-" + std::to_string(i)));
  std::map<std::string, int> load;
  for (const auto& n : before) ++load[n];
  for (const auto& [n, l] : load) CHECK(l == doctest::Approx(1000).epsilon(0.15));
  REQUIRE(a.erase("node-4"));
  CHECK_FALSE(a.erase("node-4"));
  int moved = 0;
  int moved_from_others = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (a.find("key-" + std::to_string(i)) != before[i]) {
      moved_from_others += before[i] != "node-4";
      ++moved;
    }
  }
  CHECK(moved_from_others == 0);
  CHECK(moved == load["node-4"]);
  a.insert("node-4");
  int not_restored = 0;
  for (std::size_t i = 0; i < before.size(); ++i)
    not_restored += a.find("key-" + std::to_string(i)) != before[i];
  CHECK(not_restored == 0);
  for (int i = 10; i < 16; ++i) a.insert("node-" + std::to_string(i));
  CHECK_THROWS_AS(a.insert("node-16"), unknown_node);
  CHECK(a.size() == 16);
  CHECK(a.memory_bytes() >= 5 * 16 * sizeof(std::uint32_t));
}
