// Hostile input reaches receive(): random bytes, corrupted real messages and
// well-formed messages with random fields, from members and strangers. None
// may crash a node, trip an invariant, or make it stop (status stays ok);
// what a node cannot use is counted as dropped.
#include <doctest/doctest.h>

#include "cluster.hpp"

using namespace raft_test;

namespace {

message random_message(seeded_random& rng, std::vector<entry_view>& entries, const std::string& payload) {
  message m;
  m.type = static_cast<message_type>(rng.between(1, max_message_type));
  m.from = node_id{rng.between(0, 5)};
  m.to = node_id{rng.between(1, 3)};
  m.term = term_id{rng.between(0, 6)};
  m.index = log_index{rng.between(0, 12)};
  m.log_term = term_id{rng.between(0, 6)};
  m.commit = log_index{rng.chance(0.1) ? ~std::uint64_t{0} : rng.between(0, 12)};
  m.hint_index = log_index{rng.chance(0.1) ? ~std::uint64_t{0} : rng.between(0, 12)};
  m.reject = rng.chance(0.5);
  entries.clear();
  const auto n = m.type == message_type::append_entries ? rng.between(0, 3) : 0;
  for (std::uint64_t k = 0; k < n; ++k)
    entries.push_back(entry_view{term_id{rng.between(1, 6)}, static_cast<entry_kind>(rng.below(3)), as_bytes(payload)});
  m.entries = entries;
  return m;
}

}  // namespace

TEST_CASE("robustness: random, corrupted and forged messages never crash a node or stop it") {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    cluster c{3, test_options(), seed};
    c.start();
    c.elect(1);
    seeded_random rng{seed};
    std::vector<entry_view> entries;
    const std::string payload = "forged";
    std::uint64_t sent = 0;
    for (int step = 0; step < 3000; ++step) {
      const double roll = rng.unit();
      const std::uint64_t target = rng.between(1, 3);
      if (roll < 0.3) {
        c[target].receive(random_message(rng, entries, payload));
        ++sent;
      } else if (roll < 0.45) {
        byte_buffer junk(rng.below(40));
        for (auto& b : junk) b = static_cast<std::byte>(rng.below(256));
        c[target].receive(byte_view{junk});
        ++sent;
      } else if (roll < 0.6 && !c.net.queue.empty() && c.net.queue.front().to.value() <= 3) {
        envelope e = c.net.queue.front();  // a real message, bit-flipped (answers to strangers go nowhere)
        e.bytes[rng.below(e.bytes.size())] ^= static_cast<std::byte>(1u << rng.below(8));
        c[e.to.value()].receive(byte_view{e.bytes});
        ++sent;
      } else if (roll < 0.8) {
        c.tick(target);
      } else {
        if (const auto l = c.leader(); l != 0) (void)c[l].propose(as_bytes("real"));
        c.deliver({}, 20);
      }
      while (c.net.queue.size() > 200) c.net.queue.pop_front();
      for (std::uint64_t id = 1; id <= 3; ++id) REQUIRE(c[id].status().has_value());
    }
    std::uint64_t dropped = 0;
    for (std::uint64_t id = 1; id <= 3; ++id) dropped += c[id].stats().dropped();
    CHECK(dropped > sent / 4);  // most hostile input is recognised as such
  }
}

// Found by the raft_node fuzzer: an append from a stranger with a higher
// term whose one entry had term 0 was taken; the log then refused to read
// that entry back ("a log record is no entry") and the node failed. No entry
// has term 0, and none has a kind the log does not know: such an append is
// malformed, dropped, and changes nothing.
TEST_CASE("robustness: an append with an entry of term 0 or of an unknown kind is dropped, and the node goes on") {
  for (const bool zero_term : {true, false}) {
    CAPTURE(zero_term);
    cluster c{3, test_options(), 1};
    c.start();
    const std::string payload = "x";
    entry_view bad{term_id{zero_term ? 0u : 19u}, zero_term ? entry_kind::normal : static_cast<entry_kind>(7),
                   as_bytes(payload)};
    message m;
    m.type = message_type::append_entries;
    m.from = node_id{19};  // no member: a leader this node has not heard of yet could be one
    m.to = node_id{1};
    m.term = term_id{19};
    m.commit = log_index{19};
    m.entries = std::span<const entry_view>{&bad, 1};
    const std::uint64_t before = c[1].stats().dropped_malformed;
    c[1].receive(m);
    CHECK(c[1].stats().dropped_malformed == before + 1);
    CHECK(c[1].last_index() == log_index{});
    if (zero_term) {  // the bytes a peer would send say the same
      byte_buffer bytes;
      encode(m, bytes);
      c[1].receive(byte_view{bytes});
      CHECK(c[1].last_index() == log_index{});
    }
    // The group works on: node 1 leads and commits.
    c.elect(1);
    REQUIRE(c.leader() == 1);
    REQUIRE(c[1].propose(as_bytes("after")));
    c.deliver();
    CHECK(c[1].commit_index() == c[1].last_index());
    for (std::uint64_t id = 1; id <= 3; ++id) CHECK(c[id].status().has_value());
  }
}

// Found by the raft_node fuzzer: a node restarted with entries of a term
// past its hard state's (a Log may keep an unsynced append and lose the
// unsynced hard state saved before it; or a damaged disk) ran for election
// from the older term, and with votes granted there (forged, here) led below
// its log's last term: its first entry tripped an assertion. It now adopts
// its log's last term on recovery, with no vote.
TEST_CASE("robustness: a node whose log is past its hard state's term adopts that term on restart") {
  cluster c{3, test_options(), 1};
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  // A second term without node 1, so node 2's last entry is of term 2 or more.
  c.isolate(1);
  std::uint64_t second = 0;
  for (int k = 0; k < 500 && second == 0; ++k) {
    c.tick(2);
    c.tick(3);
    c.deliver();
    for (std::uint64_t id : {2u, 3u})
      if (c[id].role() == raft::role::leader) second = id;
  }
  REQUIRE(second != 0);
  REQUIRE(c[second].propose(as_bytes("two")));
  c.deliver();
  c.heal();
  const term_id last = *c[2].term_at(c[2].last_index());
  REQUIRE(last >= term_id{2});
  // Node 2's hard state goes back to what it was before it took any term.
  byte_buffer old_state;
  encode_hard_state(hard_state{}, old_state);
  REQUIRE(c.disk_of(2).durable.save_state(old_state));
  c.restart(2);
  REQUIRE(c[2].status().has_value());
  CHECK(c[2].term() == last);
  // Grant node 2 every vote it asks for (as forged answers would), on the spot.
  c.drop_all();
  std::vector<entry_view> scratch;
  for (int k = 0; k < 200 && c[2].role() != raft::role::leader; ++k) {
    c[2].tick();
    std::deque<envelope> out;
    out.swap(c.net.queue);
    for (const envelope& e : out) {
      if (e.from.value() != 2 || (e.type != message_type::pre_vote && e.type != message_type::request_vote)) continue;
      auto asked = decode(byte_view{e.bytes}, scratch);
      REQUIRE(asked.has_value());
      message grant;
      grant.type =
          e.type == message_type::pre_vote ? message_type::pre_vote_response : message_type::request_vote_response;
      grant.from = e.to;
      grant.to = node_id{2};
      grant.term = asked->term;
      c[2].receive(grant);
    }
  }
  REQUIRE(c[2].role() == raft::role::leader);
  CHECK(c[2].term() > last);
  CHECK(c[2].status().has_value());
  const auto terms = c.log_terms(2);
  CHECK(std::is_sorted(terms.begin(), terms.end()));
}

// Terms are bounded (max_term): a node takes none above the bound from a
// message, and at the bound it campaigns no more, since its next term would
// wrap around below the one it voted in and take the vote back.
TEST_CASE("robustness: a raft node refuses terms past max_term and never wraps its own") {
  for (const bool pre_vote : {true, false}) {
    CAPTURE(pre_vote);
    cluster c{3, test_options(pre_vote), 1};
    c.start();
    message m;
    m.type = message_type::heartbeat;
    m.from = node_id{2};
    m.to = node_id{1};
    m.term = term_id{max_term + 1};
    const std::uint64_t before = c[1].stats().dropped_malformed;
    c[1].receive(m);
    CHECK(c[1].stats().dropped_malformed == before + 1);
    CHECK(c[1].term() < term_id{max_term});
    CHECK(c.net.queue.empty());  // not answered: not acted on

    // At the bound itself: taken (a term in range), and then no campaign.
    m.term = term_id{max_term};
    c[1].receive(m);
    REQUIRE(c[1].term() == term_id{max_term});
    c.drop_all();
    for (int k = 0; k < 100; ++k) {
      c[1].tick();
      c.drop_all();
    }
    REQUIRE(c[1].status().has_value());
    CHECK(c[1].stats().pre_votes_started == 0);
    CHECK(c[1].stats().elections_started == 0);
    CHECK(c[1].stats().elections_refused_exhausted > 0);
    CHECK(c[1].role() == raft::role::follower);
    CHECK(c[1].term() == term_id{max_term});  // never wrapped back
    CHECK(durable_state(c.disk_of(1)).term == term_id{max_term});
  }
}

TEST_CASE("robustness: a term past max_term in the hard state or the log refuses the Log, with a clear error") {
  for (const bool in_log : {true, false}) {
    CAPTURE(in_log);
    cluster c{3, test_options(), 1};
    if (in_log) preload(c.disk_of(1), {1, max_term + 1}, 1);
    else preload(c.disk_of(1), {1}, max_term + 1);
    c.restart(1);
    REQUIRE_FALSE(c[1].status().has_value());
    CHECK(c[1].status().error().code == errc::corrupt_log);
  }
}
