// The Jepsen test's partitions really partition: cut the leader off from
// both others and they elect another leader while it still thinks it leads
// or steps down; heal and there is one leader again that every member names.
// Once through link_proxies (anyone) and once through netns_lab (root only).
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kv_cluster.hpp"
#include "link_proxies.hpp"
#include "netns_lab.hpp"

#ifndef QUORUM_KV_BINARY
#error "QUORUM_KV_BINARY names the quorum-kv executable"
#endif
#ifndef KV_TEST_DIR
#error "KV_TEST_DIR names a scratch directory"
#endif

using namespace std::chrono_literals;

namespace {

// A leader among the members other than `except`, waiting up to `limit`.
int other_leader(kv_test::process_cluster& c, int except, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < c.size(); ++i)
      if (i != except && c.info(i)["role"] == "leader") return i;
    std::this_thread::sleep_for(50ms);
  }
  return -1;
}

// Each step may take up to `patience`: as the Jepsen test allows, for a CI
// machine that runs other tests beside this one. A passing run takes about
// a second in all.
constexpr auto patience = 30s;

void isolate_and_heal(kv_test::process_cluster& c, const std::function<void(int, int)>& cut,
                      const std::function<void()>& heal) {
  for (int i = 0; i < 3; ++i) c.start(i);
  const int first = c.wait_leader(patience);
  REQUIRE_MESSAGE(first >= 0, "no leader within 30 s of starting\n" << c.report());
  for (int j = 0; j < 3; ++j) cut(first, j);
  const int second = other_leader(c, first, patience);
  CHECK_MESSAGE(second >= 0, "no other leader within 30 s of cutting off member " << first + 1 << "\n" << c.report());
  CHECK(second != first);
  heal();
  // Healed: everyone converges on one leader (the old one rejoins as a follower).
  const auto deadline = std::chrono::steady_clock::now() + patience;
  bool agreed = false;
  while (!agreed && std::chrono::steady_clock::now() < deadline) {
    const std::string leader = c.info(0)["leader"];
    agreed = !leader.empty() && leader != "0" && c.info(1)["leader"] == leader && c.info(2)["leader"] == leader;
    std::this_thread::sleep_for(50ms);
  }
  CHECK_MESSAGE(agreed, "no single leader within 30 s of healing\n" << c.report());
}

}  // namespace

TEST_CASE("link_proxies: isolating the leader elects another, healing reunites the cluster") {
  const auto members = kv_test::loopback_members(3);
  kv_test::link_proxies proxies{members};
  std::vector<std::string> dial;
  for (int i = 0; i < 3; ++i) dial.push_back(proxies.cluster_flag(i));
  kv_test::process_cluster c{QUORUM_KV_BINARY, "raft", KV_TEST_DIR, members, 20, dial};
  isolate_and_heal(c, [&](int i, int j) { proxies.cut(i, j); }, [&] { proxies.heal(); });
}

TEST_CASE("netns_lab: isolating the leader elects another, healing reunites the cluster") {
  if (const auto why = kv_test::netns_lab::unavailable()) {
    MESSAGE("SKIPPED: network namespaces unavailable: ", *why);
    return;
  }
  kv_test::netns_lab net{3};
  std::vector<kv_test::member_address> members;
  for (int i = 0; i < 3; ++i) members.push_back({net.address(i), 7000, 6379, net.name(i)});
  kv_test::process_cluster c{QUORUM_KV_BINARY, "paxos", KV_TEST_DIR, members};
  isolate_and_heal(c, [&](int i, int j) { net.cut(i, j); }, [&] { net.heal(); });
}
