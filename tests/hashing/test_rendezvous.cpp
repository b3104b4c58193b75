// rendezvous: errors, weights in proportion, minimal disruption on join and
// leave, top(k) order and stability, and independence from insertion order.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "quorum/hashing/rendezvous.hpp"

using namespace quorum::hashing;

namespace {
std::string key(int i) { return "key-" + std::to_string(i); }
std::string node(int i) { return "node-" + std::to_string(i); }
}  // namespace

TEST_CASE("rendezvous: bad input gets clear errors") {
  rendezvous<std::string> r;
  CHECK(r.try_find("k") == nullptr);
  CHECK_THROWS_AS((void)r.find("k"), empty_placement);
  CHECK_THROWS_AS((void)r.find("k"), std::out_of_range);
  r.insert("a");
  CHECK_THROWS_AS(r.insert("a"), duplicate_node);
  CHECK_THROWS_WITH(r.insert("a"), "rendezvous::insert: node \"a\" is already present");
  CHECK_THROWS_AS(r.insert(""), duplicate_node);
  CHECK_THROWS_AS(r.insert("b", 0.0), invalid_weight);
  CHECK_THROWS_AS(r.insert("b", -1.0), std::invalid_argument);
  CHECK_THROWS_AS(r.insert("b", std::numeric_limits<double>::quiet_NaN()), invalid_weight);
  CHECK_THROWS_AS(r.insert("b", std::numeric_limits<double>::infinity()), invalid_weight);
  CHECK(r.size() == 1);  // nothing half-inserted
  CHECK_FALSE(r.erase("zzz"));
  CHECK(r.find("k") == "a");
}

TEST_CASE("rendezvous: equal weights spread evenly, removing a node moves only its keys") {
  rendezvous<std::string> r;
  for (int i = 0; i < 10; ++i) r.insert(node(i));
  constexpr int keys = 50'000;
  std::vector<std::string> before(keys);
  std::map<std::string, int> load;
  for (int i = 0; i < keys; ++i) ++load[before[i] = r.find(key(i))];
  for (const auto& [n, l] : load) CHECK(l == doctest::Approx(keys / 10.0).epsilon(0.08));
  REQUIRE(r.erase("node-3"));
  int moved = 0;
  int moved_from_others = 0;
  for (int i = 0; i < keys; ++i) {
    if (r.find(key(i)) != before[i]) {
      moved_from_others += before[i] != "node-3";
      ++moved;
    }
  }
  CHECK(moved_from_others == 0);
  CHECK(moved == load["node-3"]);  // every key of node-3 moved, nothing else
  r.insert("node-3");
  int not_restored = 0;
  for (int i = 0; i < keys; ++i) not_restored += r.find(key(i)) != before[i];
  CHECK(not_restored == 0);
}

TEST_CASE("rendezvous: weights by the logarithmic method give proportional shares") {
  rendezvous<std::string> r;
  r.insert("w1", 1.0);
  r.insert("w2", 2.0);
  r.insert("w3", 3.0);
  r.insert("w4", 4.0);
  constexpr int keys = 100'000;
  std::map<std::string, int> load;
  for (int i = 0; i < keys; ++i) ++load[r.find(key(i))];
  CHECK(load["w1"] == doctest::Approx(keys * 0.1).epsilon(0.05));
  CHECK(load["w2"] == doctest::Approx(keys * 0.2).epsilon(0.05));
  CHECK(load["w3"] == doctest::Approx(keys * 0.3).epsilon(0.05));
  CHECK(load["w4"] == doctest::Approx(keys * 0.4).epsilon(0.05));
  // Re-weighting one node moves keys only to or from that node.
  std::vector<std::string> before(keys);
  for (int i = 0; i < keys; ++i) before[i] = r.find(key(i));
  r.erase("w2");
  r.insert("w2", 5.0);
  int moved = 0;
  int moved_between_others = 0;
  for (int i = 0; i < keys; ++i) {
    const std::string& now = r.find(key(i));
    if (now != before[i]) {
      ++moved;
      moved_between_others += now != "w2";
    }
  }
  // w2's share grows from 2/10 to 5/13; exactly that difference moves, all onto w2.
  CHECK(moved == doctest::Approx(keys * (5.0 / 13 - 2.0 / 10)).epsilon(0.05));
  CHECK(moved_between_others == 0);
}

TEST_CASE("rendezvous: equal weights through the weighted path give the same owners") {
  rendezvous<std::string> plain;
  rendezvous<std::string> weighted;
  for (int i = 0; i < 20; ++i) plain.insert(node(i), 2.0);
  for (int i = 0; i < 20; ++i) weighted.insert(node(i), 2.0);
  weighted.insert("other", 1.0);  // turns the log-score path on
  weighted.erase("other");        // and back off: must not change placement
  rendezvous<std::string> logpath;
  for (int i = 0; i < 20; ++i) logpath.insert(node(i), i == 0 ? 2.0 + 1e-12 : 2.0);
  int differ = 0;
  int mismatched = 0;
  for (int i = 0; i < 20'000; ++i) {
    mismatched += plain.find(key(i)) != weighted.find(key(i));
    differ += plain.find(key(i)) != logpath.find(key(i));
  }
  CHECK(mismatched == 0);
  CHECK(differ <= 2);  // a 1e-12 relative weight change almost never matters
}

TEST_CASE("rendezvous: top(k) is distinct, starts with find, and is insertion-order independent") {
  rendezvous<std::string> a;
  rendezvous<std::string> b;
  for (int i = 0; i < 8; ++i) a.insert(node(i));
  for (int i = 7; i >= 0; --i) b.insert(node(i));
  for (int i = 0; i < 2000; ++i) {
    const auto ta = a.top(key(i), 3);
    const auto tb = b.top(key(i), 3);
    REQUIRE(ta.size() == 3);
    CHECK(ta[0].get() == a.find(key(i)));
    CHECK(ta[0].get() != ta[1].get());
    CHECK(ta[1].get() != ta[2].get());
    CHECK(ta[0].get() != ta[2].get());
    for (int j = 0; j < 3; ++j)
      CHECK(ta[static_cast<std::size_t>(j)].get() == tb[static_cast<std::size_t>(j)].get());
  }
  CHECK(a.top("k", 100).size() == 8);
  CHECK(a.replicas("k", 2).size() == 2);
  // Removing the first choice shifts the list by one place.
  std::vector<std::string> full;  // copies: erase invalidates the references top() gave
  for (const std::string& n : a.top("some key", 8)) full.push_back(n);
  a.erase(full[0]);
  const auto after = a.top("some key", 7);
  for (std::size_t j = 0; j < 7; ++j) CHECK(after[j].get() == full[j + 1]);
}

TEST_CASE("rendezvous: a non-string node type with explicit names") {
  struct server {
    int port;
  };
  rendezvous<server> r;
  r.insert("s1", server{1});
  r.insert("s2", server{2}, 3.0);
  const server& s = r.find("k");
  CHECK((s.port == 1 || s.port == 2));
  CHECK(r.memory_bytes() >= 2 * sizeof(server));
}
