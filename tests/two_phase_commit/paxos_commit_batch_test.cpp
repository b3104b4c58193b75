// Paxos Commit's forgetting in batches (paxos_commit_forget.hpp): at a tick an
// RM sends one resolved per destination naming every txn it resolved since,
// and the leader one forget per acceptor; both are bounded by max_gc_batch
// and anything over it is refused as malformed. And the struct path,
// receive(const pc_message&): the same outcomes and counts as the bytes, and
// the same refusals of what the decoder would refuse.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "paxos_commit_harness.hpp"

using namespace pxc_test;

namespace {

// Begins txns first..last over every node and delivers until nothing is in
// flight, with no tick: every one is decided, none is forgotten yet.
void run_untick(cluster& c, std::uint64_t first, std::uint64_t last) {
  for (std::uint64_t t = first; t <= last; ++t) REQUIRE(c.at(1).begin(txn_id{t}, c.ids()));
  c.deliver_all();
  for (std::uint64_t t = first; t <= last; ++t) REQUIRE(c.at(1).decided(txn_id{t}).has_value());
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// A message about txn 1, which node 1 began and leads, over `parts`.
pc_message txn1(pc_message_type type, std::uint64_t from, std::uint64_t to, std::span<const node_id> parts) {
  pc_message m;
  m.type = type;
  m.from = node_id{from};
  m.to = node_id{to};
  m.txn = txn_id{1};
  m.origin = node_id{1};
  m.leader = node_id{1};
  m.participants = parts;
  return m;
}

}  // namespace

// Before batching, each txn cost (N - 1) + 2F forgetting messages: one
// resolved per RM but the leader and one forget per other acceptor. Now a
// tick's worth of txns costs that once per max_gc_batch of them.
TEST_CASE("paxos commit batch: a tick's finished txns cost one resolved per RM and one forget per acceptor") {
  for (const std::size_t batch : {std::size_t{1024}, std::size_t{4}}) {
    for (const std::size_t n : {3u, 5u}) {
      for (const std::size_t f : {1u, 2u}) {
        if (2 * f + 1 > n) continue;
        CAPTURE(batch);
        CAPTURE(n);
        CAPTURE(f);
        paxos_commit_options o;
        o.max_gc_batch = batch;
        cluster c{n, f, o};
        constexpr std::uint64_t k = 10;
        run_untick(c, 1, k);
        // The protocol's own counts, per txn, are untouched by batching.
        CHECK(c.messages() == k * (n * (f + 3) - 3));
        CHECK(c.forced() == k * (n + f + 1));
        CHECK(c.gc_messages() == 0);
        c.settle(10);
        const std::uint64_t per_tick = ceil_div(k, batch);
        CHECK(c.gc_messages() == per_tick * ((n - 1) + 2 * f));
        CHECK(c.messages() == k * (n * (f + 3) - 3) + c.gc_messages());
        std::uint64_t gc_syncs = 0;
        for (std::uint64_t i = 1; i <= n; ++i) {
          CHECK(c.at(i).tracked_transactions() == 0);
          CHECK(c.at(i).stats().recoveries == 0);
          CHECK(c.at(i).stats().dropped_stale == 0);
          gc_syncs += c.at(i).stats().gc_syncs;
          for (std::uint64_t t = 1; t <= k; ++t) CHECK(c.final_of(i, t) == decision::commit);
        }
        CHECK(gc_syncs == n);  // one per node for the whole tick
        CHECK(c.at(1).stats().forgotten == k);
        CHECK(c.net.violations.empty());
      }
    }
  }
}

// A lost forget batch leaves the acceptors holding every txn in it; they ask
// the RMs themselves (query) and forget them all the same.
TEST_CASE("paxos commit batch: acceptors whose forget batch was lost ask and forget anyway") {
  cluster c{3, 1};
  run_untick(c, 1, 6);
  c.settle(1);  // the RMs' resolved go out and reach the leader
  // The leader's next tick sends the forgets: lose them.
  c.at(1).tick();
  REQUIRE(std::any_of(c.net.queue.begin(), c.net.queue.end(),
                      [](const envelope& e) { return e.type == pc_message_type::forget; }));
  c.net.queue.clear();
  CHECK(c.at(2).tracked_transactions() == 6);
  c.settle(200);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    CAPTURE(i);
    CHECK(c.at(i).tracked_transactions() == 0);
    CHECK(c.at(i).stats().recoveries == 0);
    for (std::uint64_t t = 1; t <= 6; ++t) CHECK(c.final_of(i, t) == decision::commit);
  }
  CHECK(c.at(2).stats().gc_messages > 1);  // its queries, then its own resolved
  CHECK(c.net.violations.empty());
}

// The struct path runs the protocol exactly as the byte path does.
TEST_CASE("paxos commit batch: receive(const pc_message&) gives the byte path's outcomes and counts") {
  std::vector<std::uint64_t> messages, forced, gc;
  std::vector<std::vector<std::string>> calls;
  for (const bool typed : {false, true}) {
    CAPTURE(typed);
    cluster c{4, 1};
    c.typed = typed;
    c.rm(3).votes[2] = vote::no;
    run_untick(c, 1, 3);
    CHECK(c.at(1).decided(txn_id{1}) == decision::commit);
    CHECK(c.at(1).decided(txn_id{2}) == decision::abort);
    c.settle(10);
    messages.push_back(c.messages());
    forced.push_back(c.forced());
    gc.push_back(c.gc_messages());
    for (std::uint64_t i = 1; i <= 4; ++i) {
      CHECK(c.at(i).tracked_transactions() == 0);
      CHECK(c.at(i).stats().dropped_malformed == 0);
      calls.push_back(c.rm(i).calls);
    }
    CHECK(c.net.violations.empty());
  }
  CHECK(messages[0] == messages[1]);
  CHECK(forced[0] == forced[1]);
  CHECK(gc[0] == gc[1]);
  for (std::size_t i = 0; i < 4; ++i) CHECK(calls[i] == calls[i + 4]);
}

TEST_CASE("paxos commit batch: the codec round-trips a batch and refuses truncations and oversized counts") {
  const pc_txn_ref refs[] = {{txn_id{7}, node_id{1}}, {txn_id{300}, node_id{2}}, {txn_id{1} , node_id{200}}};
  pc_message m;
  m.type = pc_message_type::resolved;
  m.from = node_id{3};
  m.to = node_id{1};
  m.batch = refs;
  byte_buffer b;
  encode(m, b);
  pc_scratch s;
  auto d = decode(b, s);
  REQUIRE(d);
  CHECK(d->type == pc_message_type::resolved);
  CHECK(d->txn == no_txn);
  CHECK(std::equal(d->batch.begin(), d->batch.end(), std::begin(refs), std::end(refs)));
  for (std::size_t cut = 0; cut < b.size(); ++cut) CHECK(!decode(byte_view{b.data(), cut}, s));
  // Three refs against a limit of two: refused with the reader's clear error.
  auto over = decode(b, s, pc_message_limits{1024, 2});
  REQUIRE(!over);
  CHECK(over.error().code == errc::too_large);
  // A count far past what the bytes hold is refused before anything is reserved.
  byte_buffer lie = b;
  lie.resize(lie.size() - 8);           // drop the three refs (2 + 3 + 3 bytes)
  lie.back() = std::byte{0x7f};         // and claim 127 of them
  auto l = decode(lie, s);
  REQUIRE(!l);
  CHECK(l.error().code == errc::truncated);
}

TEST_CASE("paxos commit batch: oversized, empty or misnamed batches are refused on both paths") {
  paxos_commit_options o;
  o.max_gc_batch = 2;
  cluster c{3, 1, o};
  const pc_txn_ref three[] = {{txn_id{1}, node_id{1}}, {txn_id{2}, node_id{1}}, {txn_id{3}, node_id{1}}};
  pc_message m;
  m.type = pc_message_type::resolved;
  m.from = node_id{2};
  m.to = node_id{1};
  m.batch = three;
  byte_buffer b;
  encode(m, b);
  c.at(1).receive(byte_view{b});
  c.at(1).receive(m);
  CHECK(c.at(1).stats().dropped_malformed == 2);
  CHECK(c.at(1).stats().dropped_stale == 0);

  // Well-formed, but naming nothing, or a txn where only a batch belongs, or
  // a batch on a message that is not batched: protocol-invalid, counted stale.
  pc_message empty = m;
  empty.batch = {};
  pc_message with_txn = m;
  with_txn.batch = std::span<const pc_txn_ref>{three, 1};
  with_txn.txn = txn_id{1};
  pc_message decision_with_batch;
  decision_with_batch.type = pc_message_type::decision;
  decision_with_batch.from = node_id{2};
  decision_with_batch.to = node_id{1};
  decision_with_batch.txn = txn_id{1};
  decision_with_batch.origin = node_id{1};
  decision_with_batch.batch = std::span<const pc_txn_ref>{three, 1};
  for (const pc_message* x : {&empty, &with_txn, &decision_with_batch}) {
    byte_buffer bx;
    encode(*x, bx);
    c.at(1).receive(byte_view{bx});
    c.at(1).receive(*x);
  }
  CHECK(c.at(1).stats().dropped_stale == 6);
  CHECK(c.at(1).stats().dropped_malformed == 2);
  // A ref to txn 0 or to a txn this node does not hold: stale, one per ref.
  const pc_txn_ref zero_and_unknown[] = {{no_txn, node_id{1}}, {txn_id{9}, node_id{1}}};
  pc_message r = m;
  r.batch = zero_and_unknown;
  c.at(1).receive(r);
  CHECK(c.at(1).stats().dropped_stale == 8);
  CHECK(c.at(1).tracked_transactions() == 0);
  CHECK(c.net.queue.empty());  // none of it was answered
}

// What the decoder refuses, the struct path refuses too: an enum out of
// range or a list over its limit is malformed, never acted on.
TEST_CASE("paxos commit batch: an ill-formed struct is dropped as malformed") {
  paxos_commit_options o;
  o.max_participants = 4;
  cluster c{3, 1, o};
  const node_id parts[] = {node_id{1}, node_id{2}, node_id{3}};
  const pc_message good = txn1(pc_message_type::prepare, 1, 2, parts);
  const node_id five[] = {node_id{1}, node_id{2}, node_id{3}, node_id{4}, node_id{5}};
  const pc_entry odd[] = {{node_id{1}, ballot{1, node_id{1}}, static_cast<pc_value>(9)}};
  std::vector<pc_message> bad(5, good);
  bad[0].type = static_cast<pc_message_type>(0);
  bad[1].type = static_cast<pc_message_type>(max_pc_message_type + 1);
  bad[2].decision = static_cast<decision>(3);
  bad[3].participants = five;
  bad[4].type = pc_message_type::phase2a;
  bad[4].entries = odd;
  for (const pc_message& x : bad) c.at(2).receive(x);
  CHECK(c.at(2).stats().dropped_malformed == bad.size());
  CHECK(c.at(2).tracked_transactions() == 0);
  CHECK(c.rm(2).calls.empty());
  c.at(2).receive(good);  // and the good one is voted on
  CHECK(c.rm(2).calls == std::vector<std::string>{"prepare 1"});
}

// Ballot rounds are bounded (ballot::max_round), as in Multi-Paxos: a higher
// one is damaged or forged, refused by both decoders, on the struct path and
// in an acceptor's record, so no txn's next round can wrap around.
TEST_CASE("paxos commit: a ballot round past max_round is refused in messages, structs and records") {
  const node_id parts[] = {node_id{1}, node_id{2}, node_id{3}};
  const pc_entry past_entry[] = {{node_id{1}, ballot{ballot::max_round + 1, node_id{1}}, pc_value::prepared}};
  const pc_message m = txn1(pc_message_type::phase2a, 1, 2, parts);
  for (int where = 0; where < 2; ++where) {
    CAPTURE(where);
    pc_message bad = m;
    if (where == 0) bad.bal = ballot{ballot::max_round + 1, node_id{1}};
    else bad.entries = past_entry;
    byte_buffer b;
    encode(bad, b);
    pc_scratch s;
    auto d = decode(b, s);
    REQUIRE_FALSE(d.has_value());
    CHECK(d.error().code == errc::malformed);
    CHECK_FALSE(well_formed(bad, pc_message_limits{}));
    bad.bal = ballot{ballot::max_round, node_id{1}};
    if (where == 1) bad.entries = {};
    b.clear();
    encode(bad, b);
    CHECK(decode(b, s).has_value());  // the bound itself is in range
  }

  paxos_commit_options o;
  cluster c{3, 1, o};
  pc_message forged = m;
  forged.type = pc_message_type::phase1a;
  forged.bal = ballot{ballot::max_round + 1, node_id{1}};
  c.at(2).receive(forged);
  CHECK(c.at(2).stats().dropped_malformed == 1);
  CHECK(c.at(2).tracked_transactions() == 0);

  quorum::two_phase_commit::detail::pc_instance past;
  past.promised = ballot{ballot::max_round + 1, node_id{1}};
  byte_buffer rec;
  encode_pc_record(pc_record_kind::acceptor, txn_id{1}, node_id{1}, node_id{1}, decision::commit, parts,
                   std::span<const quorum::two_phase_commit::detail::pc_instance>{&past, 1}, rec);
  auto r = decode_pc_record(rec, 16);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::malformed);
}

TEST_CASE("paxos commit: a leader that has seen a round at max_round starts no recovery above it") {
  paxos_commit_options o;
  cluster c{3, 1, o};
  REQUIRE(c.at(1).begin(txn_id{1}, c.ids()));
  c.net.queue.clear();  // nothing reaches anyone: the txn stays undecided, and node 1 leads it
  pc_message nack = txn1(pc_message_type::nack, 2, 1, {});
  nack.bal = ballot{ballot::max_round, node_id{2}};
  c.at(1).receive(nack);
  for (int k = 0; k < 200; ++k) {
    c.at(1).tick();
    c.net.queue.clear();
  }
  CHECK(c.at(1).stats().recoveries == 0);
  CHECK(c.at(1).stats().recoveries_refused_exhausted > 0);
  CHECK_FALSE(c.at(1).decided(txn_id{1}).has_value());
}
