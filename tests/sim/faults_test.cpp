// Fault profiles: the seed picks which faults are on and how hard (swarm
// testing); explicit rates win; partitions of every kind cut what they say.
#include <doctest/doctest.h>

#include <set>

#include "quorum/sim/faults.hpp"

using quorum::node_id;
using quorum::seeded_random;
using quorum::sim::fault_profile;
using quorum::sim::partition_kind;
using quorum::sim::run_config;

TEST_CASE("swarm: seeds draw calm and stormy profiles, each fault on about half the time") {
  int drop_on = 0;
  int crash_on = 0;
  int all_off = 0;
  std::set<double> distinct;
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) {
    run_config c;
    c.seed = seed;
    seeded_random rng{seed};
    const fault_profile p = fault_profile::draw(c, rng);
    drop_on += p.drop > 0;
    crash_on += p.crash > 0;
    all_off += p.drop == 0 && p.duplicate == 0 && p.reorder == 0 && p.partition == 0 && p.crash == 0;
    distinct.insert(p.drop);
    CHECK(p.drop <= 0.3);
    CHECK(p.crash <= 0.005);
    CHECK(p.base_latency.count() > 0);
  }
  CHECK(drop_on > 420);
  CHECK(drop_on < 580);
  CHECK(crash_on > 420);
  CHECK(crash_on < 580);
  CHECK(all_off > 10);  // about 1/32 of seeds are calm
  CHECK(all_off < 60);
  CHECK(distinct.size() > 400);
}

TEST_CASE("swarm: an explicit rate overrides the draw without shifting the others") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    run_config drawn;
    drawn.seed = seed;
    run_config given = drawn;
    given.drop = 0.125;
    given.crash = 0.0;
    seeded_random r1{seed};
    seeded_random r2{seed};
    const fault_profile a = fault_profile::draw(drawn, r1);
    const fault_profile b = fault_profile::draw(given, r2);
    CHECK(b.drop == 0.125);
    CHECK(b.crash == 0.0);
    CHECK(b.duplicate == a.duplicate);
    CHECK(b.reorder == a.reorder);
    CHECK(b.partition == a.partition);
    CHECK(b.jitter == a.jitter);
  }
}

TEST_CASE("apply_partition: each kind cuts the links it promises") {
  quorum::sim::sim_time_source time;
  for (int k = 0; k < 4; ++k) {
    const auto kind = static_cast<partition_kind>(k);
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
      quorum::sim::network<int> net{5, {}, seeded_random{seed}, time};
      seeded_random rng{seed};
      quorum::sim::apply_partition(net, kind, rng);
      int cut = 0;
      int one_way = 0;
      std::set<std::size_t> cut_off;  // nodes that lost some outbound link
      for (std::size_t a = 1; a <= 5; ++a)
        for (std::size_t b = 1; b <= 5; ++b) {
          const bool ab = net.connected(node_id{a}, node_id{b});
          const bool ba = net.connected(node_id{b}, node_id{a});
          if (!ab) {
            ++cut;
            cut_off.insert(a);
          }
          if (ab != ba) ++one_way;
        }
      CHECK_MESSAGE(cut > 0, to_string(kind));
      if (kind == partition_kind::asymmetric) {
        CHECK(one_way == 2 * cut);  // every cut link still works the other way
      } else {
        CHECK(one_way == 0);
      }
      if (kind == partition_kind::isolate_one) CHECK(cut == 8);  // 4 out + 4 in
      if (kind == partition_kind::majority_minority) {
        // side s against 5 - s, both ways: 2 s (5 - s) cut links with s in {1, 2}
        CHECK((cut == 8 || cut == 12));
      }
      CHECK(net.counters().partitions == 1);
    }
  }
}
