// The simulated network: each fault it injects happens at about its configured
// rate, is counted, and partitions cut exactly the directions they name.
#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "quorum/core/transport.hpp"
#include "quorum/sim/network.hpp"

using namespace std::chrono_literals;
using quorum::node_id;
using quorum::seeded_random;
using quorum::sim::network;
using quorum::sim::network_options;
using quorum::sim::sim_time_source;
using quorum::sim::sim_transport;

namespace {

struct msg {
  int n;
};

network_options lossless() {
  network_options o;
  o.base_latency = 1ms;
  o.jitter = 1ms;
  return o;
}

// Delivers everything in flight, advancing time; returns the payloads per (from, to).
std::vector<quorum::sim::network<msg>::delivery> drain(network<msg>& net, sim_time_source& time) {
  std::vector<network<msg>::delivery> out;
  while (auto at = net.next_time()) {
    REQUIRE(*at >= time.now());
    time.advance_to(*at);
    if (auto d = net.pop()) out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace

TEST_CASE("sim_transport models quorum::Transport") {
  static_assert(quorum::check_transport<sim_transport<msg>, msg>());
  static_assert(sizeof(sim_transport<msg>) == 2 * sizeof(void*));
  sim_time_source time;
  network<msg> net{3, lossless(), seeded_random{1}, time};
  sim_transport<msg> t{net, node_id{2}};
  t.send(node_id{3}, msg{42});
  const auto got = drain(net, time);
  REQUIRE(got.size() == 1);
  CHECK(got[0].from == node_id{2});
  CHECK(got[0].to == node_id{3});
  CHECK(got[0].message.n == 42);
  CHECK(time.now() >= 1ms);
  CHECK(time.now() <= 2ms);
}

TEST_CASE("network: latency stays within base + jitter and ties keep send order") {
  sim_time_source time;
  network_options o;
  o.base_latency = 3ms;
  o.jitter = 0ms;
  network<msg> net{2, o, seeded_random{5}, time};
  for (int i = 0; i < 100; ++i) net.send(node_id{1}, node_id{2}, msg{i});
  const auto got = drain(net, time);
  REQUIRE(got.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(got[static_cast<std::size_t>(i)].message.n == i);
  CHECK(time.now() == 3ms);
}

TEST_CASE("network: the drop rate is honoured over many messages") {
  sim_time_source time;
  auto o = lossless();
  o.drop = 0.2;
  network<msg> net{2, o, seeded_random{11}, time};
  constexpr int total = 20000;
  for (int i = 0; i < total; ++i) net.send(node_id{1}, node_id{2}, msg{i});
  const auto got = drain(net, time);
  CHECK(net.counters().dropped + got.size() == total);
  CHECK(net.counters().dropped > total * 0.18);
  CHECK(net.counters().dropped < total * 0.22);
  CHECK(net.counters().delivered == got.size());
  CHECK(net.counters().sent == total);
}

TEST_CASE("network: a duplicated message is delivered twice") {
  sim_time_source time;
  auto o = lossless();
  o.duplicate = 1.0;
  network<msg> net{2, o, seeded_random{3}, time};
  for (int i = 0; i < 50; ++i) net.send(node_id{1}, node_id{2}, msg{i});
  std::map<int, int> copies;
  for (const auto& d : drain(net, time)) ++copies[d.message.n];
  REQUIRE(copies.size() == 50);
  for (const auto& [n, c] : copies) CHECK(c == 2);
  CHECK(net.counters().duplicated == 50);

  o.duplicate = 0.25;
  network<msg> some{2, o, seeded_random{4}, time};
  for (int i = 0; i < 8000; ++i) some.send(node_id{1}, node_id{2}, msg{i});
  const auto got = drain(some, time);
  CHECK(got.size() == 8000 + some.counters().duplicated);
  CHECK(some.counters().duplicated > 1800);
  CHECK(some.counters().duplicated < 2200);
}

TEST_CASE("network: a reordered message is passed by later ones") {
  sim_time_source time;
  network_options o;
  o.base_latency = 1ms;
  o.jitter = 0ms;
  o.reorder = 0.1;
  o.reorder_delay = 10ms;
  network<msg> net{2, o, seeded_random{9}, time};
  for (int i = 0; i < 1000; ++i) net.send(node_id{1}, node_id{2}, msg{i});
  const auto got = drain(net, time);
  REQUIRE(got.size() == 1000);
  std::size_t inversions = 0;
  for (std::size_t i = 1; i < got.size(); ++i)
    if (got[i].message.n < got[i - 1].message.n) ++inversions;
  CHECK(net.counters().reordered > 50);
  CHECK(net.counters().reordered < 150);
  CHECK(inversions > 0);
  // All held-back messages arrive after all the others, in their own send order.
  CHECK(got[1000 - net.counters().reordered].message.n < got.back().message.n);
}

TEST_CASE("network: partitions block exactly the cut directions, heal restores") {
  sim_time_source time;
  network<msg> net{5, lossless(), seeded_random{2}, time};
  auto reach = [&](std::size_t a, std::size_t b) {
    net.send(node_id{a}, node_id{b}, msg{0});
    return drain(net, time).size() == 1;
  };
  auto all_pairs = [&](auto expect) {
    for (std::size_t a = 1; a <= 5; ++a)
      for (std::size_t b = 1; b <= 5; ++b) CHECK_MESSAGE(reach(a, b) == expect(a, b), a, "->", b);
  };
  auto minority = [](std::size_t n) { return n == 1 || n == 4; };

  SUBCASE("symmetric split") {
    const node_id side[] = {node_id{1}, node_id{4}};
    net.split(side);
    all_pairs([&](std::size_t a, std::size_t b) { return minority(a) == minority(b); });
  }
  SUBCASE("asymmetric: the side cannot send out but still hears the rest") {
    const node_id side[] = {node_id{1}, node_id{4}};
    net.cut_one_way(side);
    all_pairs([&](std::size_t a, std::size_t b) { return !(minority(a) && !minority(b)); });
  }
  SUBCASE("isolate one") {
    net.isolate(node_id{3});
    all_pairs([](std::size_t a, std::size_t b) { return (a == 3) == (b == 3); });
  }
  SUBCASE("a single directed link") {
    net.cut(node_id{2}, node_id{5});
    all_pairs([](std::size_t a, std::size_t b) { return !(a == 2 && b == 5); });
  }
  CHECK(net.partitioned());
  net.heal();
  CHECK_FALSE(net.partitioned());
  all_pairs([](std::size_t, std::size_t) { return true; });
}

TEST_CASE("network: a partition also loses messages already in flight") {
  sim_time_source time;
  network<msg> net{3, lossless(), seeded_random{2}, time};
  net.send(node_id{1}, node_id{2}, msg{1});
  net.send(node_id{2}, node_id{1}, msg{2});
  net.isolate(node_id{1});
  CHECK(drain(net, time).empty());
  CHECK(net.counters().blocked == 2);
  CHECK(net.counters().partitions == 1);
}

TEST_CASE("network: messages over the in-flight bound are dropped and counted") {
  sim_time_source time;
  auto o = lossless();
  o.max_in_flight = 10;
  network<msg> net{2, o, seeded_random{2}, time};
  for (int i = 0; i < 25; ++i) net.send(node_id{1}, node_id{2}, msg{i});
  CHECK(net.in_flight_count() == 10);
  CHECK(net.counters().overflowed == 15);
  CHECK(drain(net, time).size() == 10);
  CHECK(net.counters().faults() == 15);
}

TEST_CASE("network: sends to or from an unknown node are blocked, not undefined") {
  sim_time_source time;
  network<msg> net{3, lossless(), seeded_random{2}, time};
  net.send(node_id{1}, node_id{4}, msg{1});
  net.send(quorum::no_node, node_id{2}, msg{1});
  CHECK(net.in_flight_count() == 0);
  CHECK(net.counters().blocked == 2);
}
