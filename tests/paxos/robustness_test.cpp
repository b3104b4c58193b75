// A node fed hostile input: random but well-formed messages from every peer
// and random bytes, interleaved with ticks and proposals. Nothing may crash,
// the chosen watermark never goes down, applies stay contiguous, and every
// answer that promises something was synced first (checked by the harness).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cluster.hpp"
#include "quorum/core/random.hpp"

using namespace paxos_test;

TEST_CASE("paxos node: random messages from peers never break its invariants") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    cluster c{3};
    c.start();
    seeded_random rng{seed};
    std::vector<entry> entries;
    std::vector<std::string> values;
    log_index watermark{};
    for (int step = 0; step < 3000; ++step) {
      const auto kind = rng.below(10);
      if (kind == 0) {
        c[1].tick();
      } else if (kind == 1) {
        (void)c[1].propose(as_bytes("p" + std::to_string(step)));
      } else if (kind == 2) {
        byte_buffer junk(rng.below(40));
        for (auto& b : junk) b = static_cast<std::byte>(rng.below(256));
        c[1].receive(byte_view{junk});
      } else {
        const std::uint64_t from = rng.between(2, 3);
        message m = msg(static_cast<message_type>(rng.between(1, max_message_type)), from, 1,
                        bal(rng.between(0, 6), rng.chance(0.9) ? from : rng.between(1, 3)));
        m.slot = log_index{rng.between(0, 12)};
        m.index = log_index{m.slot.value() + rng.below(8)};
        m.commit = log_index{rng.below(12)};
        m.reject = rng.chance(0.2);
        entries.clear();
        values.resize(4);
        const auto n = rng.below(4);
        for (std::uint64_t k = 0; k < n; ++k) {
          values[k] = "r" + std::to_string(rng.below(1000));
          entries.push_back(entry{log_index{rng.between(1, 12)}, rng.chance(0.7) ? m.bal : bal(rng.between(1, 6), from),
                                  rng.chance(0.8) ? entry_kind::normal : entry_kind::noop, as_bytes(values[k])});
        }
        m.entries = entries;
        c[1].receive(m);
      }
      REQUIRE(c[1].status().has_value());
      REQUIRE(c[1].commit_index() >= watermark);
      watermark = c[1].commit_index();
      REQUIRE(c[1].applied_index() <= c[1].commit_index());
      c.net.queue.clear();
    }
    INFO("seed " << seed << ": " << (c.net.violations.empty() ? std::string{} : c.net.violations.front()));
    CHECK(c.net.violations.empty());
    CHECK(c[1].stats().dropped() > 0);
  }
}

// The Paxos side of Raft's "log past its hard state's term": a disk that
// kept an accept at ballot (5, 2) but holds an older promise, (1, 2). The
// node promised (5, 2) before it accepted there; answering a lower ballot
// now would let a proposer count it for another value in the same slot.
TEST_CASE("robustness: a paxos node whose journal holds an accept above its promise promises that ballot on restart") {
  fabric f{3};
  disk& d = f.disk_of(1);
  put_record(d, record_kind::accepted, entry{log_index{1}, bal(5, 2), entry_kind::normal, as_bytes("v")});
  put_promise(d, bal(1, 2));
  d.durable = d.live;
  test_node n{node_id{1}, f.ids(), test_transport{&f.net}, test_log{&d}, manual_clock{}, recorder{}, test_options()};
  REQUIRE(n.status().has_value());
  CHECK(n.promised() == bal(5, 2));
  REQUIRE(decode_promise(d.live.state()).has_value());
  CHECK(*decode_promise(d.live.state()) == bal(5, 2));  // saved, not only held

  // An accept for slot 1 at (3, 3), between the two: refused, and the slot keeps v.
  const std::string w = "w";
  const entry e{log_index{1}, bal(3, 3), entry_kind::normal, as_bytes(w)};
  message m = msg(message_type::accept, 3, 1, bal(3, 3));
  m.slot = m.index = log_index{1};
  m.entries = std::span<const entry>{&e, 1};
  n.receive(m);
  // So is a prepare at (4, 3).
  message p = msg(message_type::prepare, 3, 1, bal(4, 3));
  p.slot = log_index{1};
  n.receive(p);
  REQUIRE(n.status().has_value());
  std::size_t answers = 0;
  for (const envelope& env : f.net.queue) {
    std::vector<entry> scratch;
    auto got = decode(byte_view{env.bytes}, scratch);
    REQUIRE(got.has_value());
    if (got->to != node_id{3}) continue;
    ++answers;
    CHECK(got->reject);
    CHECK(got->bal == bal(5, 2));
  }
  CHECK(answers == 2);
  CHECK(f.net.violations.empty());
}

// Ballot rounds are bounded (ballot::max_round): a node takes none above the
// bound from a message, and at the bound it starts no ballot, whose next
// round would wrap around below its promise and take the promise back.
TEST_CASE("robustness: a paxos node refuses ballot rounds past max_round and never wraps its own") {
  fabric f{3};
  test_node n{node_id{1}, f.ids(), test_transport{&f.net}, test_log{&f.disk_of(1)}, manual_clock{}, recorder{},
              test_options()};
  REQUIRE(n.status().has_value());
  const ballot past = bal(ballot::max_round + 1, 3);
  message p = msg(message_type::prepare, 3, 1, past);
  p.slot = log_index{1};
  n.receive(p);
  CHECK(n.stats().dropped_malformed == 1);
  CHECK(n.promised() == ballot{});
  CHECK(f.net.queue.empty());  // no promise, no reject: not acted on

  // At the bound itself: promised (a round in range), and then no candidacy.
  const ballot top = bal(ballot::max_round, 3);
  p.bal = top;
  n.receive(p);
  CHECK(n.promised() == top);
  for (int k = 0; k < 100; ++k) n.tick();
  REQUIRE(n.status().has_value());
  CHECK(n.stats().elections_started == 0);
  CHECK(n.stats().elections_refused_exhausted > 0);
  CHECK(n.role() == role::follower);
  CHECK(n.promised() == top);  // never taken back by a wrapped round
  REQUIRE(decode_promise(f.disk_of(1).live.state()).has_value());
  CHECK(*decode_promise(f.disk_of(1).live.state()) == top);
}

TEST_CASE("robustness: a ballot round past max_round in a message, a journal record or the promise is malformed") {
  // On the wire.
  message m = msg(message_type::prepare, 3, 1, bal(ballot::max_round + 1, 3));
  m.slot = log_index{1};
  byte_buffer bytes;
  encode(m, bytes);
  std::vector<entry> scratch;
  auto got = decode(byte_view{bytes}, scratch);
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == errc::malformed);
  m.bal = bal(ballot::max_round, 3);
  bytes.clear();
  encode(m, bytes);
  CHECK(decode(byte_view{bytes}, scratch).has_value());

  // In the journal: recovery refuses the Log, with a clear error, whichever holds it.
  for (int where = 0; where < 2; ++where) {
    CAPTURE(where);
    fabric f{3};
    disk& d = f.disk_of(1);
    if (where == 0)
      put_record(d, record_kind::accepted,
                 entry{log_index{1}, bal(ballot::max_round + 1, 2), entry_kind::normal, as_bytes("v")});
    else put_promise(d, bal(ballot::max_round + 1, 2));
    d.durable = d.live;
    test_node n{node_id{1}, f.ids(), test_transport{&f.net}, test_log{&d}, manual_clock{}, recorder{}, test_options()};
    REQUIRE_FALSE(n.status().has_value());
    CHECK(n.status().error().code == errc::corrupt_log);
  }
}
