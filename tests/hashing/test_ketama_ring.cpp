// ketama_ring's own contract in every mode: the spellings, each bad
// input's documented error, replicas in ring order past duplicates, batch
// lookups equal single ones, and the stable mode's minimal disruption (only
// keys to or from the changed node move) measured against the weighted modes
// on libketama's server list.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/ketama.hpp"

using namespace quorum::hashing;

namespace {

constexpr std::array<ketama_mode, 4> all_modes{ketama_mode::stable, ketama_mode::libmemcached,
                                               ketama_mode::libmemcached_default, ketama_mode::libketama};

std::vector<std::string> make_keys(std::size_t n, std::uint64_t seed, std::size_t max_len = 40) {
  quorum::seeded_random rng{seed};
  std::vector<std::string> keys(n);
  for (auto& k : keys) {
    k.resize(1 + rng.below(max_len));
    for (char& c : k) c = static_cast<char>(33 + rng.below(94));
  }
  return keys;
}

std::vector<std::string> owners(const ketama_ring<std::string>& ring, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(ring.find(k));
  return out;
}

struct server {
  const char* name;
  std::int64_t weight;
};

// libketama's ketama.servers, the list the weighted-ketama pitfall is told with.
constexpr std::array<server, 8> ketama_servers{{{"10.0.1.1:11211", 600},
                                                {"10.0.1.2:11211", 300},
                                                {"10.0.1.3:11211", 200},
                                                {"10.0.1.4:11211", 350},
                                                {"10.0.1.5:11211", 1000},
                                                {"10.0.1.6:11211", 800},
                                                {"10.0.1.7:11211", 950},
                                                {"10.0.1.8:11211", 100}}};

// Fraction of keys whose owner differs between before and after.
double moved_fraction(const std::vector<std::string>& before, const std::vector<std::string>& after) {
  std::size_t moved = 0;
  for (std::size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i] ? 1 : 0;
  return static_cast<double>(moved) / static_cast<double>(before.size());
}

}  // namespace

TEST_CASE("ketama ring: the issue's spellings compile and behave") {
  ketama_ring<std::string> ring{ketama_mode::libmemcached};
  ring.insert("10.0.1.1:11211", 600);
  ring.insert("10.0.1.2:11211");
  ring.insert("10.0.1.3:11211", 5);
  ring.erase("10.0.1.1:11211");
  const std::string& owner = ring.find("some key");
  CHECK((owner == "10.0.1.2:11211" || owner == "10.0.1.3:11211"));
  std::vector<std::string> seen;
  for (const std::string& r : ring.replicas("some key", 3)) seen.push_back(r);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == owner);
  CHECK(seen[1] != owner);
  ketama_ring<std::string> libketama{ketama_mode::libketama};
  ketama_ring<std::string> stable{ketama_mode::stable};
  ketama_ring<std::string> by_default;
  for (auto* r : {&libketama, &stable, &by_default}) {
    r->insert("a:1", 2);
    CHECK(r->find("k") == "a:1");
  }
  CHECK(by_default.mode() == ketama_mode::stable);
}

TEST_CASE("ketama ring: an empty ring throws on find and replicas, try_find gives nullptr") {
  for (ketama_mode mode : all_modes) {
    ketama_ring<std::string> ring{mode};
    CHECK_THROWS_AS(static_cast<void>(ring.find("k")), empty_placement);
    CHECK_THROWS_AS(static_cast<void>(ring.find("k")), std::out_of_range);
    CHECK_THROWS_AS(static_cast<void>(ring.replicas("k", 2)), std::out_of_range);
    CHECK_THROWS_AS(static_cast<void>(ring.point_for(7)), std::out_of_range);
    CHECK(ring.try_find("k") == nullptr);
    ring.insert("a");
    CHECK(ring.try_find("k") != nullptr);
    CHECK(ring.erase("a"));
    CHECK(ring.try_find("k") == nullptr);
    CHECK(ring.point_count() == 0);
  }
}

TEST_CASE("ketama ring: duplicate names, empty names and bad weights are refused, the ring unchanged") {
  for (ketama_mode mode : all_modes) {
    ketama_ring<std::string> ring{mode};
    ring.insert("a:11211", 3);
    ring.insert("b:11211", 1);
    const std::size_t points = ring.point_count();
    const auto keys = make_keys(500, 1);
    const auto before = owners(ring, keys);
    CHECK_THROWS_AS(ring.insert("a:11211", 2), duplicate_node);
    CHECK_THROWS_AS(ring.insert("a:11211", 2), std::invalid_argument);
    CHECK_THROWS_AS(ring.insert("", 1), std::invalid_argument);
    CHECK_THROWS_AS(ring.insert("c:11211", 0), invalid_weight);
    CHECK_THROWS_AS(ring.insert("c:11211", -5), std::invalid_argument);
    CHECK_THROWS_AS(ring.insert("c:11211", std::int64_t{1} << 32), std::invalid_argument);
    CHECK(ring.size() == 2);
    CHECK(!ring.contains("c:11211"));
    CHECK(ring.point_count() == points);
    CHECK(owners(ring, keys) == before);
    CHECK(!ring.erase("never-inserted"));
    CHECK_THROWS_AS(static_cast<void>(ring.node_at(2)), std::out_of_range);
    CHECK_THROWS_AS(static_cast<void>(ring.name_at(9)), unknown_node);
  }
}

TEST_CASE("ketama ring: the max_points limit refuses an insert and keeps the ring as it was") {
  ketama_ring<std::string> stable{ketama_options{.mode = ketama_mode::stable, .max_points = 1000}};
  stable.insert("a", 5);  // 800 points
  CHECK_THROWS_AS(stable.insert("b", 2), invalid_parameter);
  CHECK(stable.size() == 1);
  CHECK(stable.point_count() == 800);
  // A single huge weight cannot allocate its way past the limit either.
  CHECK_THROWS_AS(stable.insert("c", 4'000'000'000), std::invalid_argument);

  ketama_ring<std::string> weighted{ketama_options{.mode = ketama_mode::libmemcached, .max_points = 400}};
  weighted.insert("a", 1);
  weighted.insert("b", 1);  // 160 each
  const auto keys = make_keys(200, 2);
  const auto before = owners(weighted, keys);
  CHECK_THROWS_AS(weighted.insert("c", 1), std::invalid_argument);  // 480 points
  CHECK(weighted.size() == 2);
  CHECK(owners(weighted, keys) == before);

  CHECK_THROWS_AS(ketama_ring<std::string>{ketama_options{.points_per_weight = 0}}, invalid_parameter);
  CHECK_THROWS_AS(ketama_ring<std::string>{ketama_options{.max_points = 0}}, std::invalid_argument);
}

TEST_CASE("ketama ring: replicas are distinct, start at the owner and follow ring order past duplicates") {
  for (ketama_mode mode : all_modes) {
    ketama_ring<std::string> ring{mode};
    for (int i = 0; i < 6; ++i) ring.insert("node" + std::to_string(i) + ":11211", 1 + i);
    for (const auto& key : make_keys(300, 3)) {
      const auto reps = ring.replicas(key, 4);
      REQUIRE(reps.size() == 4);
      CHECK(reps[0] == ring.find(key));
      // Brute force: walk the points clockwise from the key's successor.
      std::vector<std::string> expected;
      std::uint32_t at = ring.hash_key(key);
      for (std::size_t step = 0; step < ring.point_count() && expected.size() < 4; ++step) {
        const ketama_point p = ring.point_for(at);
        const std::string name{ring.name_at(p.node)};
        if (std::find(expected.begin(), expected.end(), name) == expected.end()) expected.push_back(name);
        at = p.value + 1;  // past the top it wraps to 0, as the ring does
      }
      CHECK(std::vector<std::string>(reps.begin(), reps.end()) == expected);
    }
    CHECK(ring.replicas("k", 100).size() == 6);
    CHECK(ring.replicas("k", 0).empty());
  }
}

TEST_CASE("ketama ring: find_batch equals find in every mode, for short, long and odd-sized batches") {
  for (ketama_mode mode : all_modes) {
    ketama_ring<std::string> ring{mode};
    for (int i = 0; i < 10; ++i) ring.insert("10.1.0." + std::to_string(i) + ":11211", 1 + (i % 3));
    auto keys = make_keys(1003, 4, 54);
    const auto long_keys = make_keys(40, 5, 200);
    keys.insert(keys.begin() + 500, long_keys.begin(), long_keys.end());
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<const std::string*> out(views.size());
    ring.find_batch(views, out);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) differ += *out[i] != ring.find(keys[i]) ? 1 : 0;
    CHECK(differ == 0);
    std::vector<const std::string*> wrong(3);
    CHECK_THROWS_AS(ring.find_batch(views, wrong), invalid_parameter);
  }
  ketama_ring<std::string> empty{ketama_mode::libmemcached};
  std::vector<std::string_view> one{"k"};
  std::vector<const std::string*> out(1);
  CHECK_THROWS_AS(empty.find_batch(one, out), std::out_of_range);
}

TEST_CASE("ketama ring: any Node type, placed by its name") {
  struct endpoint {
    std::string host;
    int port;
  };
  ketama_ring<endpoint> ring{ketama_mode::libmemcached};
  ring.insert("a:11211", endpoint{"a", 11211}, 2);
  ring.insert("b:11212", endpoint{"b", 11212}, 1);
  ketama_ring<std::string> names{ketama_mode::libmemcached};
  names.insert("a:11211", 2);
  names.insert("b:11212", 1);
  for (const auto& key : make_keys(500, 6)) {
    const endpoint& e = ring.find(key);
    CHECK(e.host + ":" + std::to_string(e.port) == names.find(key));
  }
}

TEST_CASE("ketama stable: a node's points depend only on its own name and weight") {
  ketama_ring<std::string> ring;
  ring.insert("a", 1);
  ring.insert("b", 3);
  CHECK(ring.point_count() == 160 * 4);
  // Insertion order does not matter.
  ketama_ring<std::string> reversed;
  reversed.insert("b", 3);
  reversed.insert("a", 1);
  const auto keys = make_keys(5000, 7);
  CHECK(owners(ring, keys) == owners(reversed, keys));
}

TEST_CASE("ketama stable: adding, removing or re-weighting a node moves only keys to or from it") {
  constexpr std::size_t nodes = 10;
  const auto keys = make_keys(100'000, 8);
  ketama_ring<std::string> ring;
  for (std::size_t i = 0; i < nodes; ++i) ring.insert("node-" + std::to_string(i));
  const auto before = owners(ring, keys);

  double removed_total = 0;
  for (std::size_t gone = 0; gone < nodes; ++gone) {
    const std::string name = "node-" + std::to_string(gone);
    ketama_ring<std::string> smaller = ring;
    REQUIRE(smaller.erase(name));
    const auto after = owners(smaller, keys);
    std::size_t strays = 0;  // keys that moved though their node stayed
    for (std::size_t i = 0; i < keys.size(); ++i) strays += before[i] != after[i] && before[i] != name ? 1 : 0;
    CHECK(strays == 0);
    removed_total += moved_fraction(before, after);
  }
  const double removed_mean = removed_total / nodes;
  MESSAGE("stable, 10 nodes: mean fraction moved by one removal " << removed_mean << " (ideal 0.1)");
  CHECK(removed_mean == doctest::Approx(1.0 / nodes).epsilon(0.10));

  ketama_ring<std::string> bigger = ring;
  bigger.insert("node-new");
  const auto grown = owners(bigger, keys);
  std::size_t strays = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) strays += before[i] != grown[i] && grown[i] != "node-new" ? 1 : 0;
  CHECK(strays == 0);
  const double added = moved_fraction(before, grown);
  MESSAGE("stable, 10 -> 11 nodes: fraction moved " << added << " (ideal " << 1.0 / 11 << ")");
  CHECK(added == doctest::Approx(1.0 / 11).epsilon(0.25));  // one node's 160-point share

  ketama_ring<std::string> heavier = ring;
  heavier.erase("node-3");
  heavier.insert("node-3", 2);
  const auto reweighted = owners(heavier, keys);
  strays = 0;
  for (std::size_t i = 0; i < keys.size(); ++i)
    strays += before[i] != reweighted[i] && reweighted[i] != "node-3" ? 1 : 0;
  CHECK(strays == 0);
  CHECK(moved_fraction(before, reweighted) > 0.05);  // node-3 doubled: about 1/11 of keys come to it
}

TEST_CASE("ketama stable vs weighted: removing one server of libketama's list (ideal 2.3%)") {
  const auto keys = make_keys(100'000, 9);
  std::int64_t total = 0;
  for (const server& s : ketama_servers) total += s.weight;
  const double ideal = 100.0 / static_cast<double>(total);
  std::map<ketama_mode, double> moved;
  for (ketama_mode mode : all_modes) {
    if (mode == ketama_mode::libmemcached_default) continue;  // weights make it the MD5 ring too
    ketama_ring<std::string> ring{mode};
    for (const server& s : ketama_servers) ring.insert(s.name, s.weight);
    const auto before = owners(ring, keys);
    ring.erase("10.0.1.8:11211");
    moved[mode] = moved_fraction(before, owners(ring, keys));
  }
  MESSAGE("removing 10.0.1.8 (weight 100 of 4300): ideal " << ideal << ", libmemcached "
                                                          << moved[ketama_mode::libmemcached] << ", libketama "
                                                          << moved[ketama_mode::libketama] << ", stable "
                                                          << moved[ketama_mode::stable]);
  // The weighted modes re-cut every server's share, so several times the ideal moves.
  CHECK(moved[ketama_mode::libmemcached] > 3 * ideal);
  CHECK(moved[ketama_mode::libketama] > 3 * ideal);
  CHECK(moved[ketama_mode::stable] == doctest::Approx(ideal).epsilon(0.10));
}

TEST_CASE("ketama ring: load is spread within a bounded peak-to-mean in every mode") {
  const auto keys = make_keys(100'000, 10);
  for (ketama_mode mode : all_modes) {
    ketama_ring<std::string> ring{mode};
    for (int i = 0; i < 10; ++i) ring.insert("10.2.0." + std::to_string(i) + ":11211");
    std::map<std::string, std::size_t> load;
    for (const auto& k : keys) ++load[ring.find(k)];
    CHECK(load.size() == 10);
    std::size_t peak = 0;
    for (const auto& [name, n] : load) peak = std::max(peak, n);
    CHECK(static_cast<double>(peak) / (keys.size() / 10.0) < 1.4);
  }
}
