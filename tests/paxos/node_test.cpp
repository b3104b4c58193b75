// The Multi-Paxos node in calm conditions: election by phase 1, proposals
// chosen and applied in slot order on every node, batching and the window,
// group commit, the durability rule, and the errors a caller can get.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cluster.hpp"

using namespace paxos_test;

TEST_CASE("paxos node: one node elects itself and applies its proposals in order") {
  cluster c{1};
  c.start();
  REQUIRE(c.settle() == 1);
  for (int i = 0; i < 5; ++i) REQUIRE(c[1].propose(as_bytes("c" + std::to_string(i))));
  CHECK(c[1].commit_index() == log_index{5});
  CHECK(c.applied_values(1) == std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"});
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos node: three nodes choose proposals and every node applies them at the same slots") {
  cluster c{3};
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  for (int i = 0; i < 10; ++i) {
    auto p = c[l].propose(as_bytes("x" + std::to_string(i)));
    REQUIRE(p.has_value());
    CHECK(p->index == log_index{static_cast<std::uint64_t>(i) + 1});
    CHECK(p->bal == c[l].current_ballot());
  }
  c.deliver();
  c.tick_all();
  c.deliver();
  for (std::uint64_t n = 1; n <= 3; ++n) {
    INFO("node " << n);
    CHECK(c[n].commit_index() == log_index{10});
    CHECK(c[n].applied_index() == log_index{10});
    const auto& applied = c[n].state_machine().applied;
    REQUIRE(applied.size() == 10);
    for (std::uint64_t i = 0; i < 10; ++i) {
      CHECK(applied[i].first == i + 1);
      CHECK(applied[i].second == "x" + std::to_string(i));
    }
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos node: a follower refuses a proposal and names the leader") {
  cluster c{3};
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.tick_all();
  c.deliver();
  const std::uint64_t f = l == 1 ? 2 : 1;
  auto r = c[f].propose(as_bytes("nope"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::not_leader);
  CHECK(r.error().detail == l);
}

TEST_CASE("paxos node: the open-slot window refuses with busy and reopens once slots are chosen") {
  options o = test_options();
  o.max_open_slots = 4;
  cluster c{3, o};
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  for (int i = 0; i < 4; ++i) REQUIRE(c[l].propose(as_bytes("w")));
  auto r = c[l].propose(as_bytes("over"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::busy);
  CHECK(c[l].stats().proposals_refused_busy == 1);
  c.deliver();
  CHECK(c[l].commit_index() == log_index{4});
  CHECK(c[l].propose(as_bytes("again")).has_value());
}

TEST_CASE("paxos node: a batch of proposals costs one sync and one accept message per peer") {
  options o = test_options();
  o.max_entries_per_message = 64;
  cluster c{3, o};
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.deliver();
  const std::uint64_t syncs = c.disk_of(l).syncs;
  c.net.queue.clear();
  {
    auto guard = c[l].batch();
    for (int i = 0; i < 20; ++i) REQUIRE(c[l].propose(as_bytes("b" + std::to_string(i))));
  }
  CHECK(c.disk_of(l).syncs == syncs + 1);
  std::size_t accepts = 0;
  for (const envelope& e : c.net.queue) accepts += e.type == message_type::accept ? 1 : 0;
  CHECK(accepts == 2);
  c.deliver();
  CHECK(c[l].commit_index().value() >= 20);
}

TEST_CASE("paxos node: accept messages are split by max_entries_per_message and max_bytes_per_message") {
  options o = test_options();
  o.max_entries_per_message = 3;
  o.max_bytes_per_message = 10;
  cluster c{2, o};
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.deliver();
  c.net.queue.clear();
  {
    auto guard = c[l].batch();
    for (int i = 0; i < 7; ++i) REQUIRE(c[l].propose(as_bytes("1234")));  // 4 bytes: two fit in 10
  }
  std::vector<entry> scratch;
  std::size_t accepts = 0;
  for (const envelope& e : c.net.queue) {
    if (e.type != message_type::accept) continue;
    ++accepts;
    auto m = decode(byte_view{e.bytes}, scratch);
    REQUIRE(m.has_value());
    CHECK(m->entries.size() <= 2);
  }
  CHECK(accepts == 4);
  c.deliver();
  CHECK(c[l].commit_index() == log_index{7});
}

namespace {

// The accepts queued for `to`, decoded, their entries end to end; each
// message within the limits.
std::vector<std::pair<log_index, std::string>> accepted_run(const network& net, node_id to, ballot b,
                                                            const options& o) {
  std::vector<std::pair<log_index, std::string>> out;
  std::vector<entry> scratch;
  for (const envelope& e : net.queue) {
    if (e.type != message_type::accept || e.to != to) continue;
    auto m = decode(byte_view{e.bytes}, scratch);
    REQUIRE(m.has_value());
    CHECK(m->bal == b);
    CHECK(m->entries.size() <= o.max_entries_per_message);
    std::size_t bytes = 0;
    for (const entry& x : m->entries) {
      CHECK(x.bal == b);
      bytes += x.data.size();
      out.emplace_back(x.slot, std::string(as_chars(x.data)));
    }
    CHECK((m->entries.size() == 1 || bytes <= o.max_bytes_per_message));
  }
  return out;
}

}  // namespace

// A batch()'s proposals, or a propose_all() group, go out as they were
// journalled when they are every new slot and fit one message; otherwise
// they are read back from the journal. Either way the accepts a flush sends
// hold every new slot once, in order, at the leader's ballot.
TEST_CASE("paxos node: the accepts a flush sends hold every new slot once, staged or read back") {
  for (const bool tight : {false, true}) {
    CAPTURE(tight);
    options o = test_options();
    o.max_entries_per_message = tight ? 3 : 64;
    o.max_bytes_per_message = tight ? 10 : o.max_bytes_per_message;
    o.max_open_slots = 64;
    cluster c{3, o};
    c.start();
    const std::uint64_t l = c.settle();
    REQUIRE(l != 0);
    c.deliver();
    const node_id peer{l == 1 ? 2u : 1u};
    const auto check_round = [&](const std::vector<std::string>& want) {
      const log_index start = c[l].last_index() - want.size();
      const auto got = accepted_run(c.net, peer, c[l].current_ballot(), o);
      REQUIRE(got.size() == want.size());
      for (std::size_t k = 0; k < want.size(); ++k) {
        CAPTURE(k);
        CHECK(got[k].first == start + (k + 1));
        CHECK(got[k].second == want[k]);
      }
      c.deliver();
    };
    std::vector<std::string> values;
    for (int i = 0; i < 20; ++i) values.push_back("v" + std::to_string(i));
    std::vector<byte_view> group;
    for (const auto& v : values) group.push_back(as_bytes(v));

    // A batch of proposals.
    c.net.queue.clear();
    {
      auto guard = c[l].batch();
      for (const auto& v : values) REQUIRE(c[l].propose(as_bytes(v)));
    }
    check_round(values);

    // A group from propose_all; its commands' buffers change as soon as it returns.
    std::vector<std::string> scratch_values = values;
    std::vector<byte_view> scratch_group;
    for (const auto& v : scratch_values) scratch_group.push_back(as_bytes(v));
    REQUIRE(c[l].propose_all(scratch_group));
    for (auto& v : scratch_values) v.assign(v.size(), '#');
    check_round(values);

    // Staged, then a group, then staged again: the new slots start before the
    // last staged ones, which therefore are not all of them.
    c.net.queue.clear();
    {
      auto guard = c[l].batch();
      REQUIRE(c[l].propose(as_bytes("a")));
      REQUIRE(c[l].propose_all(std::span<const byte_view>{group}.first(3)));
      REQUIRE(c[l].propose(as_bytes("d")));
      REQUIRE(c[l].propose(as_bytes("e")));
    }
    check_round({"a", "v0", "v1", "v2", "d", "e"});

    // Tight, each limit alone: three values of 12 bytes in all; five of 5.
    for (const std::vector<std::string>& round :
         {std::vector<std::string>{"1234", "5678", "9abc"}, std::vector<std::string>{"1", "2", "3", "4", "5"}}) {
      c.net.queue.clear();
      {
        auto guard = c[l].batch();
        for (const auto& v : round) REQUIRE(c[l].propose(as_bytes(v)));
      }
      check_round(round);
    }
  }
}

TEST_CASE("paxos node: commands over max_command_bytes are refused with too_large") {
  options o = test_options();
  o.max_command_bytes = 8;
  cluster c{1, o};
  c.start();
  REQUIRE(c.settle() == 1);
  auto r = c[1].propose(as_bytes("123456789"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::too_large);
}

TEST_CASE("paxos node: a bad configuration leaves the node inert and says why") {
  fabric f{3};
  options o = test_options();
  o.heartbeat_ticks = 20;
  test_node n{node_id{1}, f.ids(), test_transport{&f.net}, test_log{&f.disk_of(1)}, manual_clock{}, recorder{}, o};
  REQUIRE_FALSE(n.status().has_value());
  CHECK(n.status().error().code == errc::invalid_config);
  n.tick();
  auto r = n.propose(as_bytes("x"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::invalid_config);
  const std::vector<node_id> outsider{node_id{2}, node_id{3}};
  test_node m{node_id{1}, outsider, test_transport{&f.net}, test_log{&f.disk_of(1)}, manual_clock{}, recorder{},
              test_options()};
  CHECK(m.status().error().code == errc::invalid_config);
}

TEST_CASE("paxos node: garbage bytes and misaddressed messages are dropped and counted") {
  cluster c{3};
  c.start();
  const byte_buffer junk{std::byte{1}, std::byte{99}, std::byte{0}};
  c[1].receive(byte_view{junk});
  CHECK(c[1].stats().dropped_malformed == 1);
  message m = msg(message_type::heartbeat, 2, 3, bal(5, 2));
  c[1].receive(m);
  CHECK(c[1].stats().dropped_misrouted == 1);
  // Requests count from anyone (a leader may sit in a configuration this
  // node has not learned yet); answers only from nodes it knows.
  m = msg(message_type::accepted, 9, 1, bal(5, 9));
  c[1].receive(m);
  CHECK(c[1].stats().dropped_unknown_sender == 1);
  m = msg(message_type::heartbeat, 1, 1, bal(5, 1));
  c[1].receive(m);
  CHECK(c[1].stats().dropped_unknown_sender == 2);  // from itself
  m = msg(message_type::accept, 2, 1, bal(5, 3));  // a ballot that is not the sender's own
  c[1].receive(m);
  CHECK(c[1].stats().dropped_malformed == 2);
  CHECK(c[1].role() == role::follower);
}

TEST_CASE("paxos node: an accept that is not one run at its ballot within the slot gap is dropped whole") {
  options o = test_options();
  o.max_slot_gap = 64;
  o.max_open_slots = 16;
  cluster c{3, o};
  c.start();
  const std::vector<std::string> values{"a", "b", "c", "d"};
  const auto accept = [&](std::vector<entry> es) {
    message m = msg(message_type::accept, 2, 1, bal(5, 2));
    m.entries = es;
    c.net.queue.clear();
    c[1].receive(m);
    return c.net.queue.empty();  // nothing answered
  };
  const auto e = [&](std::uint64_t slot, ballot b, std::size_t v) {
    return entry{log_index{slot}, b, entry_kind::normal, as_bytes(values[v])};
  };
  const ballot b = bal(5, 2);
  // A gap, a repeated slot, slots out of order, another ballot anywhere in
  // the run (its node or its round), and slots that wrap past the top.
  CHECK(accept({e(1, b, 0), e(3, b, 1)}));
  CHECK(accept({e(1, b, 0), e(1, b, 1)}));
  CHECK(accept({e(2, b, 0), e(1, b, 1)}));
  CHECK(accept({e(1, b, 0), e(2, b, 1), e(3, bal(5, 3), 2), e(4, b, 3)}));
  CHECK(accept({e(1, b, 0), e(2, b, 1), e(3, b, 2), e(4, bal(4, 2), 3)}));
  CHECK(accept({e(~std::uint64_t{0}, b, 0), e(0, b, 1)}));
  CHECK(c[1].stats().dropped_malformed == 6);
  // Well formed, but reaching past max_slot_gap: the whole run is dropped,
  // its slots inside the gap too.
  CHECK(accept({e(63, b, 0), e(64, b, 1), e(65, b, 2)}));
  CHECK(c[1].stats().dropped_out_of_window == 1);
  CHECK(c[1].last_index() == log_index{});
  // One run at the sender's ballot, up to the gap's end: taken and answered.
  CHECK_FALSE(accept({e(62, b, 0), e(63, b, 1), e(64, b, 2)}));
  CHECK(c[1].last_index() == log_index{64});
  CHECK(c[1].stats().dropped_malformed == 6);
  CHECK(c[1].stats().dropped_out_of_window == 1);
}

TEST_CASE("paxos node: propose_all: a group in consecutive slots as one journal run, and a refused one opens none") {
  options o = test_options();
  o.max_entries_per_message = 64;
  o.max_open_slots = 16;
  cluster c{3, o};
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.deliver();
  const log_index start = c[l].last_index();
  const std::vector<std::string> values{"g0", "", "g2", std::string(300, 'g'), "g4"};
  std::vector<byte_view> group;
  for (const auto& v : values) group.push_back(as_bytes(v));
  const std::uint64_t syncs = c.disk_of(l).syncs;
  const log_index records = c.disk_of(l).live.last_index();
  c.net.queue.clear();
  auto p = c[l].propose_all(group);
  REQUIRE(p);
  CHECK(p->index == start.next());
  CHECK(p->bal == c[l].current_ballot());
  CHECK(c[l].last_index() == start + 5);
  CHECK(c.disk_of(l).syncs == syncs + 1);                  // one sync for the group
  CHECK(c.disk_of(l).live.last_index() == records.next());  // one journal record
  std::size_t accepts = 0;
  for (const envelope& e : c.net.queue) accepts += e.type == message_type::accept ? 1 : 0;
  CHECK(accepts == 2);  // one accept message per peer
  c.deliver();
  c.tick_all();
  c.deliver();
  for (std::uint64_t n = 1; n <= 3; ++n) {
    INFO("node " << n);
    CHECK(c[n].applied_index() == start + 5);
    const std::vector<std::string> applied = c.applied_values(n);
    REQUIRE(applied.size() >= 5);
    CHECK(std::vector<std::string>(applied.end() - 5, applied.end()) == values);
  }

  // Inside a batch, between single proposals: the slots follow on.
  {
    auto guard = c[l].batch();
    auto a = c[l].propose(as_bytes("a"));
    auto b = c[l].propose_all(group);
    auto d = c[l].propose(as_bytes("d"));
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(d);
    CHECK(b->index == a->index.next());
    CHECK(d->index == b->index + 5);
  }
  c.deliver();
  c.tick_all();
  c.deliver();
  for (std::uint64_t n = 1; n <= 3; ++n) CHECK(c[n].applied_index() == start + 12);
  CHECK(c.applied_values(l).back() == "d");

  // Refused groups open no slot and write nothing.
  const log_index last = c[l].last_index();
  const log_index held = c.disk_of(l).live.last_index();
  auto none = c[l].propose_all({});
  REQUIRE_FALSE(none);
  CHECK(none.error().code == errc::invalid_argument);
  const std::string huge(o.max_command_bytes + 1, 'h');
  const byte_view with_huge[] = {as_bytes(values[0]), as_bytes(huge)};
  auto too_large = c[l].propose_all(with_huge);
  REQUIRE_FALSE(too_large);
  CHECK(too_large.error().code == errc::too_large);
  const std::vector<byte_view> seventeen(17, as_bytes(values[0]));  // more than max_open_slots: never fits
  auto over = c[l].propose_all(seventeen);
  REQUIRE_FALSE(over);
  CHECK(over.error().code == errc::too_large);
  const std::uint64_t f = l == 1 ? 2 : 1;
  auto follower = c[f].propose_all(group);
  REQUIRE_FALSE(follower);
  CHECK(follower.error().code == errc::not_leader);
  CHECK(c[l].last_index() == last);
  CHECK(c.disk_of(l).live.last_index() == held);
  // A group that does not fit the open window now is busy; it fits once
  // the window drains (the accepts wait in the queue until delivered).
  const std::vector<byte_view> twelve(12, as_bytes(values[0]));
  REQUIRE(c[l].propose_all(twelve));
  auto busy = c[l].propose_all(group);  // 12 open + 5 > 16
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == errc::busy);
  CHECK(c[l].last_index() == last + 12);
  c.deliver();
  CHECK(c[l].commit_index() == last + 12);
  REQUIRE(c[l].propose_all(group));
  CHECK(c[l].status());
  CHECK(c.net.violations.empty());
}

namespace {

// A cluster started, its leader settled and every message delivered;
// returns the leader.
std::uint64_t settled_leader(cluster& c) {
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.deliver();
  return l;
}

}  // namespace

TEST_CASE("paxos node: proposals inside a batch() keep their slots and order among the node's other calls") {
  cluster c{3, test_options()};
  const std::uint64_t l = settled_leader(c);
  const log_index last = c[l].last_index();
  std::vector<std::pair<log_index, std::string>> expected;
  {
    auto guard = c[l].batch();
    auto a = c[l].propose(as_bytes("a"));
    auto b = c[l].propose(as_bytes("b"));
    REQUIRE((a && b));
    CHECK(a->index == last.next());
    CHECK(b->index == a->index.next());
    // Staged, not journalled yet (replica::last_index() says so) ...
    CHECK(c[l].last_index() == last);
    // ... until something reads the journal: then the value is there.
    auto v = c[l].value_at(b->index);
    REQUIRE(v.has_value());
    CHECK(std::string(as_chars(v->data)) == "b");
    CHECK(c[l].last_index() == b->index);
    auto cc = c[l].propose(as_bytes("c"));
    const std::vector<byte_view> group{as_bytes("d"), as_bytes("e")};
    auto de = c[l].propose_all(group);
    c[l].tick();
    auto f = c[l].propose(as_bytes("f"));
    REQUIRE((cc && de && f));
    CHECK(de->index == cc->index.next());
    CHECK(f->index == de->index + 2);
    expected = {{a->index, "a"},  {b->index, "b"},         {cc->index, "c"},
                {de->index, "d"}, {de->index.next(), "e"}, {f->index, "f"}};
  }
  CHECK(c[l].last_index() == expected.back().first);
  // The leader's Log holds them in the order of the calls (a crash keeps a
  // prefix of them): the slots past `last` come in increasing order.
  log_index previous = last;
  for (const record& r : durable_records(c.disk_of(l))) {
    if (r.value.slot <= last) continue;
    CHECK(r.value.slot > previous);
    previous = r.value.slot;
  }
  CHECK(previous == expected.back().first);
  for (int k = 0; k < 3; ++k) {
    c.deliver();
    c.tick_all();
  }
  c.deliver();
  for (std::uint64_t n = 1; n <= 3; ++n) {
    const auto& applied = c[n].state_machine().applied;
    for (const auto& want : expected) {
      const auto it =
          std::find_if(applied.begin(), applied.end(), [&](const auto& p) { return p.first == want.first.value(); });
      REQUIRE(it != applied.end());
      CHECK(it->second == want.second);
    }
  }
}

TEST_CASE("paxos node: a promise made inside a batch() reports the proposals staged before it") {
  cluster c{3, test_options()};
  const std::uint64_t l = settled_leader(c);
  const std::uint64_t other = l == 1 ? 2 : 1;
  c.net.queue.clear();
  log_index staged{};
  {
    auto guard = c[l].batch();
    auto p = c[l].propose(as_bytes("staged value"));
    REQUIRE(p.has_value());
    staged = p->index;
    message prepare;
    prepare.type = message_type::prepare;
    prepare.from = node_id{other};
    prepare.to = node_id{l};
    prepare.bal = ballot{c[l].promised().round + 10, node_id{other}};
    prepare.slot = staged;
    c[l].receive(prepare);
  }
  REQUIRE(c[l].status());
  std::vector<entry> scratch;
  bool promised = false;
  for (const envelope& e : c.net.queue) {
    if (e.type != message_type::promise || e.to != node_id{other}) continue;
    auto m = decode(byte_view{e.bytes}, scratch);
    REQUIRE(m.has_value());
    promised = true;
    // The new proposer must learn of the value: our accept of it is journalled.
    const auto it =
        std::find_if(m->entries.begin(), m->entries.end(), [&](const entry& x) { return x.slot == staged; });
    REQUIRE(it != m->entries.end());
    CHECK(std::string(as_chars(it->data)) == "staged value");
  }
  CHECK(promised);
}

TEST_CASE("paxos node: a Log that fails as a batch() ends fails the node, and nothing of the batch is applied") {
  cluster c{1, test_options()};
  c.start();
  REQUIRE(c.settle() == 1);
  c.deliver();
  {
    auto guard = c[1].batch();
    c.disk_of(1).refuse_appends = true;
    for (int k = 0; k < 3; ++k) CHECK(c[1].propose(as_bytes("x" + std::to_string(k))).has_value());
  }
  REQUIRE_FALSE(c[1].status());
  CHECK(c[1].status().error().code == errc::io_error);
  auto r = c[1].propose(as_bytes("after"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::io_error);
  for (const auto& [slot, value] : c[1].state_machine().applied) CHECK(value.rfind('x', 0) != 0);
}

namespace {

// memory_log, keeping its records in place, that can be told to refuse appends.
struct refusing_in_place_log {
  static constexpr bool records_stay_in_place = true;
  storage::memory_log* live;
  const bool* refuse;
  log_index first_index() const { return live->first_index(); }
  log_index last_index() const { return live->last_index(); }
  result<log_index> append(byte_view b) { return append(byte_view{}, b); }
  result<log_index> append(byte_view head, byte_view body) {
    if (*refuse) return fail(errc::io_error, "test log: appends refused", 28);
    return live->append(head, body);
  }
  result<log_index> append(byte_view head, byte_view body, byte_view& placed) {
    if (*refuse) return fail(errc::io_error, "test log: appends refused", 28);
    return live->append(head, body, placed);
  }
  result<byte_view> read(log_index i) { return live->read(i); }
  result<void> truncate(log_index i) { return live->truncate(i); }
  result<void> compact(log_index i) { return live->compact(i); }
  result<void> save_state(byte_view b) { return live->save_state(b); }
  byte_view state() const { return live->state(); }
  result<void> sync() { return {}; }
};

struct silent_transport {
  void send(node_id, const message&) {}
};

struct in_place_policies {
  using transport = silent_transport;
  using log = refusing_in_place_log;
  using clock = manual_clock;
  using state_machine = recorder;
};

}  // namespace

TEST_CASE("paxos node: over an in-place Log that fails as a batch() ends, the node fails and applies nothing of it") {
  storage::memory_log live;
  bool refuse = false;
  const std::vector<node_id> members{node_id{1}};
  quorum::paxos::node<in_place_policies> n{
      node_id{1},     members,    silent_transport{}, refusing_in_place_log{&live, &refuse},
      manual_clock{}, recorder{}, test_options()};
  REQUIRE(n.status());
  for (int k = 0; k < 200 && !n.propose(as_bytes("warm-up")); ++k) n.tick();
  REQUIRE(n.applied_index() >= log_index{1});
  const log_index applied = n.applied_index();
  {
    auto guard = n.batch();
    refuse = true;
    for (int k = 0; k < 3; ++k) CHECK(n.propose(as_bytes("x" + std::to_string(k))).has_value());
  }
  REQUIRE_FALSE(n.status());
  CHECK(n.status().error().code == errc::io_error);
  // Not counted as accepted by this node, so never chosen, never applied.
  CHECK(n.applied_index() == applied);
  for (const auto& [slot, value] : n.state_machine().applied) CHECK(value.rfind('x', 0) != 0);
}
