// The flat storage a Paxos Commit node keeps its transactions in
// (paxos_commit_table.hpp, paxos_commit_small_storage.hpp), held to a
// std::map and std::vector<bool> under random use, and a cluster whose
// transactions have more participants than fit inline (or in one word of
// flags) committing, aborting, recovering and forgetting as the few do.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "paxos_commit_harness.hpp"
#include "quorum/two_phase_commit/paxos_commit_small_storage.hpp"
#include "quorum/two_phase_commit/paxos_commit_table.hpp"

using namespace pxc_test;
namespace tpc_detail = quorum::two_phase_commit::detail;

namespace {

struct entry {
  txn_id txn{};
  bool used{false};
  std::uint64_t payload{0};
  void reset() { payload = 0; }
};

// Ids of the shapes a table meets: consecutive, strided by a power of two,
// differing only above bit 32, and anything.
txn_id pick(std::mt19937_64& rng, int shape) {
  const std::uint64_t k = 1 + rng() % 300;
  switch (shape) {
    case 0: return txn_id{k};
    case 1: return txn_id{k << 20};
    case 2: return txn_id{(k << 32) | 5};
    default: return txn_id{1 + rng() % 1000000};
  }
}

}  // namespace

TEST_CASE("paxos commit table: inserts, finds and erases as a std::map does, walked in slot order") {
  for (int shape = 0; shape < 4; ++shape) {
    CAPTURE(shape);
    std::mt19937_64 rng{static_cast<std::uint64_t>(shape) + 11};
    tpc_detail::txn_table<entry> t;
    std::map<std::uint64_t, std::uint64_t> ref;
    for (int op = 0; op < 40000; ++op) {
      const txn_id id = pick(rng, shape);
      const bool held = ref.count(id.value()) != 0;
      REQUIRE((t.find(id) != nullptr) == held);
      if (held) {
        REQUIRE(t.find(id)->payload == ref[id.value()]);
        if (rng() % 2 == 0) {
          t.erase(id);
          ref.erase(id.value());
        }
      } else if (ref.size() < 400) {
        entry& e = t.insert(id);
        CHECK(e.payload == 0);  // a reused slot comes back reset
        e.payload = rng();
        ref[id.value()] = e.payload;
      }
      t.erase(txn_id{0xdeadbeefcafe});  // never held: nothing changes
      REQUIRE(t.size() == ref.size());
    }
    // The walk sees every held entry once; it may erase the one it is given.
    std::set<std::uint64_t> seen;
    const std::size_t before = ref.size();
    t.for_each([&](entry& e) {
      CHECK(seen.insert(e.txn.value()).second);
      CHECK(ref.at(e.txn.value()) == e.payload);
      if (e.payload % 3 == 0) {
        ref.erase(e.txn.value());
        t.erase(e.txn);
      }
    });
    CHECK(seen.size() == before);
    CHECK(t.size() == ref.size());
    for (const auto& [id, payload] : ref) {
      REQUIRE(t.find(txn_id{id}) != nullptr);
      CHECK(t.find(txn_id{id})->payload == payload);
    }
    // A copy is a table of its own.
    tpc_detail::txn_table<entry> copy = t;
    for (const auto& [id, payload] : ref) copy.erase(txn_id{id});
    CHECK(copy.size() == 0);
    CHECK(t.size() == ref.size());
  }
}

TEST_CASE("paxos commit small storage: flags past one word and arrays past their inline few") {
  std::mt19937_64 rng{3};
  for (const std::size_t n : {std::size_t{1}, std::size_t{5}, std::size_t{63}, std::size_t{64}, std::size_t{65},
                              std::size_t{128}, std::size_t{129}, std::size_t{200}}) {
    CAPTURE(n);
    tpc_detail::small_bits b;
    b.reset(300);  // a wider use before leaves nothing behind
    b.set_all(300);
    b.reset(n);
    std::vector<bool> ref(n, false);
    CHECK_FALSE(b.any(n));
    for (int op = 0; op < 2000; ++op) {
      const std::size_t i = rng() % n;
      const bool v = rng() % 3 != 0;
      b.set(i, v);
      ref[i] = v;
      bool all = true, any = false;
      for (const bool x : ref) {
        all = all && x;
        any = any || x;
      }
      REQUIRE(b.test(i) == v);
      REQUIRE(b.all(n) == all);
      REQUIRE(b.any(n) == any);
    }
    b.set_all(n);
    CHECK(b.all(n));
    for (std::size_t i = 0; i < n; ++i) CHECK(b.test(i));

    tpc_detail::small_array<std::uint64_t, 4> a;
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = rng();
    a.assign(v);
    CHECK(std::vector<std::uint64_t>(a.data(n), a.data(n) + n) == v);
    a.assign(n, 9);
    CHECK(std::vector<std::uint64_t>(a.data(n), a.data(n) + n) == std::vector<std::uint64_t>(n, 9));
  }
}

TEST_CASE("paxos commit: 70 participants (past the inline few and one word of flags) commit, abort, recover and forget") {
  paxos_commit_options o;
  o.max_participants = 128;
  cluster c{70, 1, o};
  // Every vote yes: commit everywhere.
  REQUIRE(c.at(1).begin(t1, c.ids()));
  c.deliver_all();
  CHECK(c.at(1).decided(t1) == decision::commit);
  for (std::uint64_t i = 1; i <= 70; ++i) CHECK(c.final_of(i, 1) == decision::commit);
  // The last RM votes no: abort everywhere.
  c.rm(70).votes[2] = vote::no;
  REQUIRE(c.at(1).begin(txn_id{2}, c.ids()));
  c.deliver_all();
  CHECK(c.at(1).decided(txn_id{2}) == decision::abort);
  for (std::uint64_t i = 1; i < 70; ++i) CHECK(c.final_of(i, 2) == decision::abort);
  // The leader crashes once the votes are out; an acceptor restarts from its
  // log; an RM in doubt recovers the outcome with 70 instances.
  REQUIRE(c.at(1).begin(txn_id{3}, c.ids()));
  c.crash(node_id{1});
  c.deliver_all();
  c.crash(node_id{2});
  c.restart(node_id{2});
  c.settle(200);
  c.restart(node_id{1});
  c.settle(300);
  for (std::uint64_t i = 2; i <= 70; ++i) CHECK(c.final_of(i, 3) == decision::commit);
  std::uint64_t recoveries = 0;
  for (std::uint64_t i = 2; i <= 70; ++i) recoveries += c.at(i).stats().recoveries;
  CHECK(recoveries > 0);  // an RM in doubt ran phase 1 over the 70 instances
  CHECK(c.net.violations.empty());
  // Finished: nothing is held anywhere.
  for (std::uint64_t i = 1; i <= 70; ++i) CHECK(c.at(i).tracked_transactions() == 0);
}
