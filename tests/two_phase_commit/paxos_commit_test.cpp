// Paxos Commit (Gray & Lamport 2006): the failure-free counts of the paper's
// table with acceptors co-located on RMs (N(F+3) - 3 messages, N + F + 1 stable
// writes, then what forgetting the txn costs), outcomes, leader crashes that do
// not block, acceptor restarts, duplicates and reordering, F = 0 against
// classic 2PC, and the codec. Forgetting itself: paxos_commit_forget_test.cpp.
#include <doctest/doctest.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <random>

#include "paxos_commit_harness.hpp"


using namespace pxc_test;

TEST_CASE("paxos commit: failure-free commit costs N(F+3)-3 messages and N+F+1 stable writes") {
  for (const std::size_t f : {0u, 1u, 2u}) {
    for (const std::size_t n : {3u, 5u, 10u}) {
      if (2 * f + 1 > n) continue;
      CAPTURE(f);
      CAPTURE(n);
      cluster c{n, f};
      REQUIRE(c.at(1).begin(t1, c.ids()));
      c.deliver_all();
      CHECK(c.net.violations.empty());
      CHECK(c.at(1).decided(t1) == decision::commit);
      for (std::size_t i = 1; i <= n; ++i) CHECK(c.final_of(i) == decision::commit);
      CHECK(c.messages() == n * (f + 3) - 3);
      CHECK(c.forced() == n + f + 1);
      // Then only forgetting: each RM but the leader acknowledges once, the
      // leader tells the other acceptors to forget, each node syncs once, and
      // nothing is held anywhere. No retries, no recoveries. For one txn
      // that is (N - 1) + 2F messages; they are batched per tick, so a
      // tick's many txns share them (paxos_commit_batch_test.cpp).
      const std::uint64_t before = c.messages();
      c.settle(100);
      std::uint64_t gc = 0, gc_syncs = 0;
      for (std::uint64_t i = 1; i <= n; ++i) {
        gc += c.at(i).stats().gc_messages;
        gc_syncs += c.at(i).stats().gc_syncs;
        CHECK(c.at(i).tracked_transactions() == 0);
        CHECK(c.at(i).stats().recoveries == 0);
      }
      CHECK(gc == (n - 1) + 2 * f);
      CHECK(c.messages() == before + gc);
      CHECK(gc_syncs == n);
      CHECK(c.forced() == n + f + 1);
    }
  }
}

TEST_CASE("paxos commit: one no vote aborts everywhere and the leader writes nothing") {
  for (std::uint64_t no : {1u, 2u, 5u}) {
    CAPTURE(no);
    cluster c{5, 1};
    c.rm(no).votes[1] = vote::no;
    REQUIRE(c.at(1).begin(t1, c.ids()));
    c.deliver_all();
    CHECK(c.net.violations.empty());
    CHECK(c.at(1).decided(t1) == decision::abort);
    for (std::uint64_t i = 1; i <= 5; ++i) {
      CHECK(c.at(i).outcome(t1) == decision::abort);
      // The no voter's RM rolled back when it voted no, as in classic 2PC: it is not called again.
      if (i == no) CHECK(!c.final_of(i));
      else CHECK(c.final_of(i) == decision::abort);
      CHECK(c.rm(i).conflicts == 0);
    }
    // 4 yes voters force their prepared record; 2 acceptors one record each.
    CHECK(c.forced() == 4 + 2);
  }
}

// Every crash point of the leader (node 1, also an RM and an acceptor): the
// others finish the transaction without it, agree with anything it decided,
// and commit only if every RM voted yes.
TEST_CASE("paxos commit: a leader crash at any step does not block the prepared RMs") {
  for (const bool one_no : {false, true}) {
    for (std::size_t cut = 0; cut < 40; ++cut) {
      CAPTURE(one_no);
      CAPTURE(cut);
      cluster c{4, 1};
      if (one_no) c.rm(4).votes[1] = vote::no;
      REQUIRE(c.at(1).begin(t1, c.ids()));
      for (std::size_t k = 0; k < cut && !c.net.queue.empty(); ++k) {
        envelope e = std::move(c.net.queue.front());
        c.net.queue.pop_front();
        c.deliver(e);
      }
      const std::optional<decision> announced = c.at(1).decided(t1);
      c.crash(node_id{1});
      c.settle();
      std::optional<decision> seen = announced;
      for (std::uint64_t i = 2; i <= 4; ++i) {
        // Asked to vote means it voted: then it must not be left in doubt.
        if (std::count(c.rm(i).calls.begin(), c.rm(i).calls.end(), "prepare 1") == 1)
          REQUIRE(learned(c, i).has_value());
        if (const auto d = learned(c, i)) {
          if (seen) CHECK(*d == *seen);
          seen = d;
          if (c.final_of(i)) CHECK(*c.final_of(i) == *d);
        }
        CHECK(c.rm(i).conflicts == 0);
      }
      if (one_no && seen) CHECK(*seen == decision::abort);
      const bool leader_prepared = durable_prepared(*c.net.disks.at(1), t1);
      c.restart(node_id{1});
      c.settle();
      if (leader_prepared) {
        REQUIRE(learned(c, 1).has_value());
        if (seen) CHECK(*learned(c, 1) == *seen);
      }
      CHECK(c.rm(1).conflicts == 0);
      CHECK(c.net.violations.empty());
    }
  }
}

TEST_CASE("paxos commit: a recovery leader keeps the commit the crashed leader announced") {
  cluster c{3, 1};
  REQUIRE(c.at(1).begin(t1, c.ids()));
  // Everything but the decisions arrives: only node 1's own RM learns commit.
  while (!c.net.queue.empty()) {
    envelope e = std::move(c.net.queue.front());
    c.net.queue.pop_front();
    if (e.type != pc_message_type::decision) c.deliver(e);
  }
  REQUIRE(c.at(1).decided(t1) == decision::commit);
  REQUIRE(c.final_of(1) == decision::commit);
  CHECK(!c.final_of(2));
  CHECK(!c.final_of(3));
  c.crash(node_id{1});
  c.settle();
  CHECK(c.final_of(2) == decision::commit);
  CHECK(c.final_of(3) == decision::commit);
  CHECK(c.at(2).stats().recoveries >= 1);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos commit: a leader crash before every RM voted aborts without it") {
  cluster c{3, 1};
  REQUIRE(c.at(1).begin(t1, c.ids()));
  // Node 2 gets its prepare; node 3's is lost with the leader.
  std::deque<envelope> held;
  held.swap(c.net.queue);
  for (envelope& e : held)
    if (e.to == node_id{2}) c.deliver(e);
  c.crash(node_id{1});
  c.net.queue.clear();
  c.settle();
  CHECK(c.final_of(2) == decision::abort);
  CHECK(c.final_of(3) == decision::abort);
  // It was never asked to prepare: it only rolled back.
  CHECK(std::count(c.rm(3).calls.begin(), c.rm(3).calls.end(), "prepare 1") == 0);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos commit: an acceptor restarted from its log keeps what it accepted") {
  cluster c{3, 1};
  REQUIRE(c.at(1).begin(t1, c.ids()));
  while (!c.net.queue.empty()) {
    envelope e = std::move(c.net.queue.front());
    c.net.queue.pop_front();
    if (e.type != pc_message_type::decision) c.deliver(e);
  }
  c.crash(node_id{2});
  c.restart(node_id{2});
  for (std::uint64_t rm = 1; rm <= 3; ++rm) CHECK(c.at(2).accepted(t1, node_id{rm}) == pc_value::prepared);
  CHECK(c.at(3).accepted(t1, node_id{1}) == pc_value::none);  // not on the fast path
  // The leader and the other fast-path acceptor down: acceptors 2 and 3 are a
  // majority, and 2's restored accepts force the commit the leader announced.
  c.crash(node_id{1});
  c.settle();
  CHECK(c.final_of(2) == decision::commit);
  CHECK(c.final_of(3) == decision::commit);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos commit: with a majority of acceptors down nobody decides and nobody guesses") {
  cluster c{3, 1};
  REQUIRE(c.at(1).begin(t1, c.ids()));
  while (!c.net.queue.empty()) {
    envelope e = std::move(c.net.queue.front());
    c.net.queue.pop_front();
    if (e.type != pc_message_type::decision) c.deliver(e);
  }
  REQUIRE(c.final_of(1) == decision::commit);
  // Both fast-path acceptors down: node 3 tries to recover but must not guess.
  c.crash(node_id{1});
  c.crash(node_id{2});
  c.settle(200);
  CHECK(!c.final_of(3));
  CHECK(c.at(3).stats().recoveries >= 2);
  c.restart(node_id{2});
  c.settle();
  CHECK(c.final_of(2) == decision::commit);
  CHECK(c.final_of(3) == decision::commit);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos commit: duplicated and reordered messages change nothing") {
  for (const bool one_no : {false, true}) {
    CAPTURE(one_no);
    cluster c{5, 2};
    if (one_no) c.rm(3).votes[1] = vote::no;
    REQUIRE(c.at(1).begin(t1, c.ids()));
    std::size_t step = 0;
    while (!c.net.queue.empty()) {
      // Alternate newest-first and oldest-first, and deliver each twice.
      envelope e = std::move(++step % 2 == 0 ? c.net.queue.back() : c.net.queue.front());
      if (step % 2 == 0) c.net.queue.pop_back();
      else c.net.queue.pop_front();
      c.deliver(e);
      c.deliver(e);
    }
    const decision want = one_no ? decision::abort : decision::commit;
    CHECK(c.at(1).decided(t1) == want);
    c.settle(50);
    CHECK(c.at(1).stats().commits + c.at(1).stats().aborts == 1);
    for (std::uint64_t i = 1; i <= 5; ++i) {
      CHECK(learned(c, i) == want);
      CHECK(c.at(i).tracked_transactions() == 0);
      if (!(one_no && i == 3)) CHECK(c.final_of(i) == want);
      CHECK(c.rm(i).conflicts == 0);
      CHECK(std::count(c.rm(i).calls.begin(), c.rm(i).calls.end(), "prepare 1") == 1);
    }
    CHECK(c.net.violations.empty());
  }
}

TEST_CASE("paxos commit: F = 0 reaches classic two-phase commit's outcome for every vote pattern") {
  for (unsigned mask = 0; mask < 8; ++mask) {
    CAPTURE(mask);
    tpc_test::cluster classic{3};
    cluster pc{3, 0};
    for (std::size_t i = 0; i < 3; ++i) {
      const vote v = (mask >> i) & 1u ? vote::no : vote::yes;
      classic.rm(classic.p(i)).votes[1] = v;
      pc.rm(i + 1).votes[1] = v;
    }
    REQUIRE(classic.coord().begin(t1, classic.participants()));
    classic.deliver_all();
    REQUIRE(pc.at(1).begin(t1, pc.ids()));
    pc.deliver_all();
    CHECK(pc.at(1).decided(t1) == classic.decided(t1));
    for (std::size_t i = 0; i < 3; ++i) CHECK(pc.rm(i + 1).final == classic.rm(classic.p(i)).final);
  }
}

TEST_CASE("paxos commit: bad configuration and bad arguments get clear errors") {
  paxos_commit_options o;
  o.f = 1;
  o.acceptors = {node_id{1}, node_id{2}};
  CHECK(validate(o).error().code == errc::invalid_config);
  o.acceptors = {node_id{1}, node_id{2}, node_id{2}};
  CHECK(validate(o).error().code == errc::invalid_config);
  o.acceptors = {node_id{1}, node_id{2}, node_id{0}};
  CHECK(validate(o).error().code == errc::invalid_config);
  o.acceptors = {node_id{1}, node_id{2}, node_id{3}};
  CHECK(validate(o));
  o.leader_timeout_ticks = 0;
  CHECK(!validate(o));

  cluster c{3, 1};
  const node_id twice[] = {node_id{2}, node_id{2}};
  CHECK(c.at(1).begin(t1, twice).error().code == errc::invalid_argument);
  CHECK(c.at(1).begin(t1, std::span<const node_id>{}).error().code == errc::invalid_argument);
  CHECK(c.at(1).begin(txn_id{0}, c.ids()).error().code == errc::invalid_argument);
  REQUIRE(c.at(1).begin(t1, c.ids()));
  CHECK(c.at(1).begin(t1, c.ids()).error().code == errc::invalid_argument);
}

TEST_CASE("paxos commit: the codec round-trips and refuses every truncation and junk") {
  const node_id parts[] = {node_id{2}, node_id{5}, node_id{9}};
  const pc_entry es[] = {{node_id{2}, ballot{1, node_id{2}}, pc_value::prepared},
                         {node_id{5}, ballot{7, node_id{3}}, pc_value::aborted}};
  pc_message m;
  m.type = pc_message_type::phase2b;
  m.from = node_id{3};
  m.to = node_id{1};
  m.txn = txn_id{300};
  m.leader = node_id{1};
  m.bal = ballot{4, node_id{3}};
  m.decision = decision::commit;
  m.participants = parts;
  m.entries = es;
  byte_buffer b;
  encode(m, b);
  pc_scratch s;
  auto d = decode(b, s);
  REQUIRE(d);
  CHECK(d->type == m.type);
  CHECK(d->txn == m.txn);
  CHECK(d->bal == m.bal);
  CHECK(d->decision == m.decision);
  CHECK(std::equal(d->participants.begin(), d->participants.end(), std::begin(parts), std::end(parts)));
  CHECK(std::equal(d->entries.begin(), d->entries.end(), std::begin(es), std::end(es)));
  for (std::size_t cut = 0; cut < b.size(); ++cut) CHECK(!decode(byte_view{b.data(), cut}, s));
  byte_buffer longer = b;
  longer.push_back(std::byte{0});
  CHECK(!decode(longer, s));
  byte_buffer bad = b;
  bad[1] = std::byte{99};  // type
  CHECK(!decode(bad, s));
  // Junk through a live node is counted and dropped.
  cluster c{3, 1};
  c.at(2).receive(byte_view{bad});
  c.at(2).receive(byte_view{b.data(), 3});
  CHECK(c.at(2).stats().dropped_malformed == 2);
}

namespace {

// After every event: every outcome known anywhere is the same one, and it is
// commit only if every RM voted yes.
void check_agreement(cluster& c, std::size_t n, bool all_yes, std::optional<decision>& seen) {
  for (std::uint64_t i = 1; i <= n; ++i) {
    std::optional<decision> d = c.final_of(i);
    if (c.down.count(i) == 0 && !d) d = c.at(i).outcome(t1);
    if (c.down.count(i) == 0 && !d) d = c.at(i).decided(t1);
    if (!d) continue;
    if (seen) REQUIRE(*d == *seen);
    seen = d;
    REQUIRE(c.rm(i).conflicts == 0);
  }
  if (seen && *seen == decision::commit) REQUIRE(all_yes);
}

}  // namespace

// A small simulation in the manner of DESIGN.md's: random delivery order,
// loss, duplication and crashes of any node; then the network heals and every
// node but the leader comes back. With the leader still down the acceptors
// left are a majority, so every RM that voted must learn the outcome.
TEST_CASE("paxos commit: random faults on 2000 seeds never break agreement and never block") {
  std::uint64_t commits = 0;
  std::uint64_t aborts = 0;
  std::uint64_t leader_down = 0;
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng{seed};
    const std::size_t f = 1 + seed % 2;
    const std::size_t n = 2 * f + 1 + seed % 3;
    cluster c{n, f};
    bool all_yes = true;
    for (std::uint64_t i = 1; i <= n; ++i)
      if (rng() % 8 == 0) {
        c.rm(i).votes[1] = vote::no;
        all_yes = false;
      }
    REQUIRE(c.at(1).begin(t1, c.ids()));
    std::optional<decision> seen;
    for (std::size_t step = 0; step < 400; ++step) {
      const std::uint64_t r = rng() % 100;
      if (r < 3 && c.down.size() < f) {
        c.crash(node_id{1 + rng() % n});
      } else if (r < 6 && !c.down.empty()) {
        c.restart(node_id{*c.down.begin()});
      } else if (r < 20) {
        for (std::uint64_t i = 1; i <= n; ++i)
          if (c.down.count(i) == 0) c.at(i).tick();
      } else if (!c.net.queue.empty()) {
        const std::size_t k = rng() % c.net.queue.size();
        envelope e = c.net.queue[k];
        const std::uint64_t fate = rng() % 10;
        if (fate != 0) c.net.queue.erase(c.net.queue.begin() + static_cast<std::ptrdiff_t>(k));  // else: duplicated
        if (fate != 1) c.deliver(e);                                                              // 1: lost
      }
      check_agreement(c, n, all_yes, seen);
    }
    // Heal: everyone but the leader is back.
    for (std::uint64_t i = 2; i <= n; ++i)
      if (c.down.count(i) != 0) c.restart(node_id{i});
    if (c.down.count(1) != 0) ++leader_down;
    c.settle(400);
    check_agreement(c, n, all_yes, seen);
    for (std::uint64_t i = 2; i <= n; ++i)
      if (durable_prepared(*c.net.disks.at(i), t1)) REQUIRE(learned(c, i).has_value());
    if (c.down.count(1) != 0) c.restart(node_id{1});
    c.settle(400);
    check_agreement(c, n, all_yes, seen);
    if (durable_prepared(*c.net.disks.at(1), t1)) REQUIRE(learned(c, 1).has_value());
    REQUIRE(c.net.violations.empty());
    if (seen) ++(*seen == decision::commit ? commits : aborts);
  }
  MESSAGE("commits " << commits << ", aborts " << aborts << ", leader down at heal " << leader_down);
  CHECK(commits > 0);
  CHECK(aborts > 0);
  CHECK(leader_down > 0);
}

// A node remembers the map entry it last used (its hot entry); a moved node
// starts without one and looks its entries up again (a node is move-only).
TEST_CASE("paxos commit: a node moved mid-transaction carries on") {
  cluster c{3, 1};
  REQUIRE(c.at(1).begin(t1, c.ids()));
  for (int k = 0; k < 3 && !c.net.queue.empty(); ++k) {
    envelope e = std::move(c.net.queue.front());
    c.net.queue.pop_front();
    c.deliver(e);
  }
  REQUIRE(c.at(2).holds(t1));
  for (const std::uint64_t i : {1u, 2u}) {
    node moved{std::move(c.at(i))};
    c.at(i) = std::move(moved);
  }
  c.settle(10);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    CAPTURE(i);
    CHECK(c.final_of(i) == decision::commit);
    CHECK(c.at(i).tracked_transactions() == 0);
  }
  CHECK(c.net.violations.empty());
}
