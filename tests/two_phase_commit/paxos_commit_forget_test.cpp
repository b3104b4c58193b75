// Paxos Commit forgets finished transactions (paxos_commit_forget.hpp): a long
// run through one node set never fills its tables, memory and the Log stay
// bounded, every late or duplicated message about a forgotten txn changes no
// outcome and calls no resource, and a restart does not bring a txn back.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "paxos_commit_harness.hpp"

using namespace pxc_test;

namespace {

// Begins t over every node and lets it run (and be forgotten) for a few ticks.
void run_txn(cluster& c, txn_id t, std::uint64_t leader = 1) {
  REQUIRE(c.at(leader).begin(t, c.ids()));
  c.settle(3);
}

std::uint64_t count_calls(const rm_state& s, const std::string& call) {
  return static_cast<std::uint64_t>(std::count(s.calls.begin(), s.calls.end(), call));
}

std::uint64_t log_span(cluster& c, std::uint64_t i) {
  const disk& d = c.disk_of(i);
  return d.live.last_index().value() + 1 - d.live.first_index().value();
}

}  // namespace

TEST_CASE("paxos commit forget: 50 x max_transactions txns through one node set never hit busy, memory and log bounded") {
  paxos_commit_options o;
  o.max_transactions = 8;
  o.max_log_span = 32;
  cluster c{4, 1, o};
  std::mt19937_64 rng{7};
  std::uint64_t commits = 0, aborts = 0;
  std::uint64_t next = 0;
  std::size_t max_tracked = 0;
  std::uint64_t max_span = 0;
  while (next < 50 * o.max_transactions) {
    // Up to four at once: the table holds them and their stragglers.
    for (int k = 0; k < 4; ++k) {
      const txn_id t{++next};
      if (rng() % 6 == 0) c.rm(1 + rng() % 4).votes[t.value()] = vote::no;
      const auto r = c.at(1).begin(t, c.ids());
      REQUIRE(r);
    }
    c.settle(2);
    for (std::uint64_t i = 1; i <= 4; ++i) {
      max_tracked = std::max(max_tracked, c.at(i).tracked_transactions());
      max_span = std::max(max_span, log_span(c, i));
    }
  }
  c.settle(5);
  for (std::uint64_t t = 1; t <= next; ++t) {
    bool yes = true;
    for (std::uint64_t i = 1; i <= 4; ++i) yes &= c.rm(i).votes.count(t) == 0;
    for (std::uint64_t i = 1; i <= 4; ++i) {
      // A no voter's RM rolled back when it voted; everyone else was told the outcome.
      if (c.rm(i).votes.count(t) != 0) continue;
      REQUIRE(c.final_of(i, t) == (yes ? decision::commit : decision::abort));
    }
    ++(yes ? commits : aborts);
  }
  for (std::uint64_t i = 1; i <= 4; ++i) {
    CHECK(c.at(i).tracked_transactions() == 0);
    CHECK(c.at(i).stats().recoveries == 0);
    CHECK(c.rm(i).conflicts == 0);
  }
  CHECK(max_tracked <= o.max_transactions);
  CHECK(max_span <= o.max_log_span);
  CHECK(c.at(1).stats().forgotten == next);
  CHECK(commits > 0);
  CHECK(aborts > 0);
  CHECK(c.net.violations.empty());
  MESSAGE(next << " txns (" << commits << " commits, " << aborts << " aborts) with max_transactions "
               << o.max_transactions << ": at most " << max_tracked << " held, log span at most " << max_span);
}

// Every message a txn's life produced, delivered again after every node has
// forgotten it, forwards and backwards: no RM is asked to prepare again, no
// outcome is applied again or differently, and the acceptors' brief second
// copy (taken from a late 2a) is asked about and dropped again.
TEST_CASE("paxos commit forget: every late duplicate after forgetting changes no outcome and calls no resource") {
  for (const bool one_no : {false, true}) {
    for (const bool leader_crash : {false, true}) {
      CAPTURE(one_no);
      CAPTURE(leader_crash);
      cluster c{4, 1};
      if (one_no) c.rm(3).votes[1] = vote::no;
      c.net.capture = true;
      REQUIRE(c.at(1).begin(t1, c.ids()));
      if (leader_crash) {
        // Everything but the decisions arrives, then the leader dies: a recovery
        // leader (phase 1a, 1b, 2a, 2b) finishes it, so those are replayed too.
        while (!c.net.queue.empty()) {
          envelope e = std::move(c.net.queue.front());
          c.net.queue.pop_front();
          if (e.type != pc_message_type::decision) c.deliver(e);
        }
        c.crash(node_id{1});
        c.settle(60);
        c.restart(node_id{1});
      }
      c.settle(100);
      const decision want = one_no ? decision::abort : decision::commit;
      std::vector<std::vector<std::string>> calls;
      std::vector<std::uint64_t> decided;
      for (std::uint64_t i = 1; i <= 4; ++i) {
        decided.push_back(c.at(i).stats().commits + c.at(i).stats().aborts);
        REQUIRE(c.at(i).tracked_transactions() == 0);
        CHECK(c.at(i).forgotten(node_id{1}, t1));
        if (!(one_no && i == 3)) CHECK(c.final_of(i) == want);
        calls.push_back(c.rm(i).calls);
      }
      std::vector<envelope> late = c.net.captured;
      c.net.capture = false;
      REQUIRE(late.size() > 10);
      if (leader_crash) CHECK(std::any_of(late.begin(), late.end(), [](const envelope& e) {
        return e.type == pc_message_type::phase1a;
      }));
      for (const envelope& e : late) c.deliver(e);
      for (auto it = late.rbegin(); it != late.rend(); ++it) c.deliver(*it);
      c.settle(200);
      std::uint64_t refused = 0;
      for (std::uint64_t i = 1; i <= 4; ++i) {
        CAPTURE(i);
        CHECK(c.rm(i).calls == calls[i - 1]);  // no prepare, commit or abort called again
        CHECK(c.rm(i).conflicts == 0);
        CHECK(c.at(i).tracked_transactions() == 0);
        CHECK(c.at(i).stats().commits + c.at(i).stats().aborts == decided[i - 1]);  // nobody decided again
        refused += c.at(i).stats().refused_forgotten;
      }
      CHECK(refused == 2 * 3);  // every late prepare (to nodes 2-4; node 1's own stayed local), both passes
      CHECK(c.net.violations.empty());
    }
  }
}

// The answer a forgotten txn may get: a late prepare is refused (no vote, no
// resource call); a late decision is acknowledged, never applied. Answering a
// forgotten id as if it were new would be the bug: the RM would prepare again
// and, with the acceptors gone, a recovery could choose the other outcome.
TEST_CASE("paxos commit forget: a late prepare gets no vote and a late decision is only acknowledged") {
  cluster c{3, 1};
  c.net.capture = true;
  run_txn(c, t1);
  c.settle(5);
  REQUIRE(c.at(2).tracked_transactions() == 0);
  REQUIRE(c.final_of(2) == decision::commit);
  const std::vector<envelope> late = c.net.captured;
  c.net.captured.clear();
  const auto prepare = std::find_if(late.begin(), late.end(), [](const envelope& e) {
    return e.type == pc_message_type::prepare && e.to == node_id{2};
  });
  const auto commit = std::find_if(late.begin(), late.end(), [](const envelope& e) {
    return e.type == pc_message_type::decision && e.to == node_id{2};
  });
  REQUIRE(prepare != late.end());
  REQUIRE(commit != late.end());
  c.deliver(*prepare);
  CHECK(c.net.queue.empty());  // no phase 2a: no vote
  CHECK(c.at(2).stats().refused_forgotten == 1);
  CHECK(count_calls(c.rm(2), "prepare 1") == 1);
  c.deliver(*commit);
  CHECK(count_calls(c.rm(2), "commit 1") == 1);
  c.at(2).tick();
  REQUIRE(c.net.queue.size() == 1);
  CHECK(c.net.queue.front().type == pc_message_type::resolved);
  c.settle(5);
  CHECK(c.at(1).tracked_transactions() == 0);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos commit forget: a restart after forgetting brings nothing back, and late prepares stay refused") {
  cluster c{4, 1};
  c.net.capture = true;
  for (std::uint64_t t = 1; t <= 5; ++t) run_txn(c, txn_id{t});
  c.settle(5);
  const std::vector<envelope> late = c.net.captured;
  c.net.capture = false;
  std::vector<std::vector<std::string>> calls;
  for (std::uint64_t i = 1; i <= 4; ++i) calls.push_back(c.rm(i).calls);
  for (std::uint64_t i = 1; i <= 4; ++i) {
    c.crash(node_id{i});
    c.restart(node_id{i});
  }
  // What the last compaction had not yet synced is replayed, and dropped again.
  c.settle(100);
  for (std::uint64_t i = 1; i <= 4; ++i) {
    CAPTURE(i);
    CHECK(c.at(i).tracked_transactions() == 0);
    for (std::uint64_t t = 1; t <= 5; ++t) CHECK(c.at(i).forgotten(node_id{1}, txn_id{t}));
    CHECK(log_span(c, i) <= 2);
  }
  for (const envelope& e : late) c.deliver(e);
  c.settle(100);
  for (std::uint64_t i = 1; i <= 4; ++i) {
    CAPTURE(i);
    CHECK(c.rm(i).calls == calls[i - 1]);
    CHECK(c.at(i).tracked_transactions() == 0);
    CHECK(c.at(i).stats().refused_forgotten == (i == 1 ? 0 : 5));  // node 1 prepared itself locally
  }
  // New transactions still commit.
  run_txn(c, txn_id{6});
  c.settle(5);
  for (std::uint64_t i = 1; i <= 4; ++i) CHECK(c.final_of(i, 6) == decision::commit);
  CHECK(c.net.violations.empty());
}

// One txn held open by a crashed RM while many others pass: its records are
// copied forward so the log stays within max_log_span, and a restart of the
// node holding it still finds its state.
TEST_CASE("paxos commit forget: a txn held by a down RM is copied forward, the log stays bounded") {
  paxos_commit_options o;
  o.max_transactions = 8;
  o.max_log_span = 32;
  cluster c{4, 1, o};
  REQUIRE(c.at(1).begin(t1, c.ids()));
  c.deliver_all();
  c.crash(node_id{4});  // prepared, then down: t1 is decided but not resolved everywhere
  const node_id three[] = {node_id{1}, node_id{2}, node_id{3}};
  std::uint64_t max_span = 0;
  for (std::uint64_t t = 2; t <= 60; ++t) {
    REQUIRE(c.at(1).begin(txn_id{t}, three));
    c.settle(2);
    for (std::uint64_t i = 1; i <= 3; ++i) max_span = std::max(max_span, log_span(c, i));
  }
  CHECK(max_span <= o.max_log_span);
  CHECK(c.at(1).stats().relocated > 0);
  CHECK(c.at(1).tracked_transactions() == 1);
  c.crash(node_id{2});
  c.restart(node_id{2});
  CHECK(c.at(2).accepted(t1, node_id{4}) == pc_value::prepared);
  c.restart(node_id{4});
  c.settle(100);
  CHECK(c.final_of(4) == decision::commit);
  for (std::uint64_t i = 1; i <= 4; ++i) CHECK(c.at(i).tracked_transactions() == 0);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos commit forget: tombstones cover exactly, fold when full, and survive a round trip") {
  pc_tombstones t{2, 4};
  const node_id a{1}, b{2}, x{3};
  CHECK(!t.covers(a, txn_id{5}));
  CHECK(t.add(a, txn_id{5}));
  CHECK(t.add(a, txn_id{9}));
  CHECK(t.add(b, txn_id{1}));
  CHECK(!t.add(x, txn_id{1}));  // a third origin: refused, nothing promised
  CHECK(t.covers(a, txn_id{5}));
  CHECK(!t.covers(a, txn_id{6}));
  CHECK(!t.covers(a, txn_id{4}));
  for (std::uint64_t k : {11u, 13u, 15u}) CHECK(t.add(a, txn_id{k}));
  // Five ids over a limit of four: the lower half folded into the floor.
  CHECK(t.covers(a, txn_id{4}));
  CHECK(t.covers(a, txn_id{6}));
  CHECK(!t.covers(a, txn_id{10}));
  CHECK(t.covers(a, txn_id{11}));
  byte_buffer b1;
  t.encode(b1);
  pc_tombstones back{2, 4};
  REQUIRE(back.decode(b1));
  // The durable form covers everything up to the highest id, per origin.
  for (std::uint64_t k = 1; k <= 15; ++k) CHECK(back.covers(a, txn_id{k}));
  CHECK(!back.covers(a, txn_id{16}));
  CHECK(back.covers(b, txn_id{1}));
  CHECK(!back.covers(b, txn_id{2}));
  for (std::size_t cut = 1; cut < b1.size(); ++cut) CHECK(!back.decode(byte_view{b1.data(), cut}));
  CHECK(back.decode(byte_view{}));
  CHECK(!back.covers(a, txn_id{1}));
}

// Regression (seed 526 of the hand-driven sweep in paxos_commit_test.cpp): an
// RM in doubt started a recovery, then learned the commit from the first
// leader and resolved; everyone forgot the txn; its recovery, still running,
// found the acceptors empty and decided abort. A leader that learns the
// outcome now stops leading (and reports what it learned).
TEST_CASE("paxos commit forget: a recovery leader that learns the outcome stops, and never decides over forgotten acceptors") {
  paxos_commit_options o;
  o.report_decisions = true;
  cluster c{4, 1, o};  // acceptors 1-3; node 4 is an RM only
  REQUIRE(c.at(1).begin(t1, c.ids()));
  std::vector<envelope> decisions;
  while (!c.net.queue.empty()) {
    envelope e = std::move(c.net.queue.front());
    c.net.queue.pop_front();
    if (e.type == pc_message_type::decision) decisions.push_back(std::move(e));
    else c.deliver(e);
  }
  REQUIRE(c.at(1).decided(t1) == decision::commit);
  // Node 4, in doubt, becomes a recovery leader; its phase 1a is lost.
  for (int k = 0; k < 60 && c.at(4).stats().recoveries == 0; ++k) c.at(4).tick();
  REQUIRE(c.at(4).stats().recoveries == 1);
  c.net.queue.clear();
  for (const envelope& e : decisions) c.deliver(e);
  c.settle(200);
  for (std::uint64_t i = 1; i <= 4; ++i) {
    CAPTURE(i);
    CHECK(c.final_of(i) == decision::commit);
    CHECK(c.rm(i).conflicts == 0);
    CHECK(c.at(i).tracked_transactions() == 0);
  }
  CHECK(c.at(4).stats().recoveries == 1);  // it stopped: no second round
  CHECK(c.at(4).stats().commits + c.at(4).stats().aborts == 0);
  REQUIRE(c.at(4).decisions().size() == 1);  // what it learned, reported once
  CHECK(c.at(4).decisions()[0].decision == decision::commit);
  CHECK(c.net.violations.empty());
}
