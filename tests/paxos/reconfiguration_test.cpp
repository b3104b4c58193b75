// Multi-Paxos reconfiguration through the log ("Paxos Made Moderately
// Complex": a configuration chosen at slot s governs slots s + α on): adding
// and removing nodes, replacing the leader, the α boundary seen on the wire,
// a restart during a change (journal and snapshot), a voter of the old
// configuration only finishing its slots, an old minority unable to
// choose once the new configuration holds, learners, and the refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

using namespace paxos_test;

namespace {

// Every command applied, in order; its snapshot is that list.
struct list_machine {
  std::vector<std::string> values;
  void apply(log_index, byte_view b) { values.emplace_back(as_chars(b)); }
  void snapshot(byte_buffer& out) {
    codec::writer w{out};
    w.varint(values.size());
    for (const auto& v : values) w.prefixed_string(v);
  }
  void restore(log_index, byte_view b) {
    codec::reader r{b};
    auto n = r.varint();
    REQUIRE(n.has_value());
    values.clear();
    for (std::uint64_t i = 0; i < *n; ++i) {
      auto v = r.prefixed_string(b.size());
      REQUIRE(v.has_value());
      values.emplace_back(*v);
    }
  }
};

struct store_handle {
  storage::memory_snapshot_store* s;
  result<void> save(byte_view b) { return s->save(b); }
  result<byte_view> load() { return s->load(); }
};

struct reconf_policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
  using state_machine = list_machine;
  using snapshot_store = store_handle;
};
using reconf_node = quorum::paxos::node<reconf_policies>;

constexpr std::size_t alpha = 4;

options reconf_options() {
  options o = test_options();
  o.max_open_slots = alpha;
  o.snapshot_trailing_slots = 0;
  return o;
}

std::vector<node_id> ids(std::initializer_list<std::uint64_t> v) {
  std::vector<node_id> out;
  for (auto x : v) out.push_back(node_id{x});
  return out;
}

// n disks and nodes; those in `bootstrap` start as its voters, the others
// as joining nodes that know no configuration.
class rcluster : public fabric {
 public:
  rcluster(std::size_t n, std::vector<node_id> bootstrap, options o = reconf_options())
      : fabric{n}, opts_{o}, bootstrap_{std::move(bootstrap)}, stores_(n), nodes_(n) {
    for (std::size_t i = 1; i <= n; ++i) boot(i);
  }
  reconf_node& operator[](std::uint64_t id) { return *nodes_.at(id - 1); }
  bool up(std::uint64_t id) const { return nodes_.at(id - 1) != nullptr; }

  void crash(std::uint64_t id) {
    disk& d = disk_of(id);
    d.live = d.durable;
    nodes_[id - 1].reset();
  }
  void boot(std::uint64_t id) {
    const bool founder = std::find(bootstrap_.begin(), bootstrap_.end(), node_id{id}) != bootstrap_.end();
    nodes_[id - 1] = std::make_unique<reconf_node>(
        node_id{id}, founder ? std::span<const node_id>{bootstrap_} : std::span<const node_id>{},
        test_transport{&net}, test_log{&disk_of(id)}, manual_clock{}, list_machine{},
        store_handle{&stores_[id - 1]}, opts_);
    REQUIRE(nodes_[id - 1]->status().has_value());
  }

  void deliver(const std::function<bool(const envelope&)>& keep = {}) {
    for (int n = 0; !net.queue.empty() && n < 1000000; ++n) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      if (net.cut.count({e.from.value(), e.to.value()}) != 0) continue;
      if (keep && !keep(e)) continue;
      if (nodes_.at(e.to.value() - 1)) (*this)[e.to.value()].receive(byte_view{e.bytes});
    }
  }
  void tick_all(int times = 1) {
    for (int k = 0; k < times; ++k) {
      for (auto& n : nodes_)
        if (n) n->tick();
      deliver();
    }
  }
  void elect(std::uint64_t id) {
    for (int k = 0; k < 1000 && (*this)[id].role() != role::leader; ++k) {
      (*this)[id].tick();
      deliver();
    }
    REQUIRE((*this)[id].role() == role::leader);
  }
  // The up node leading the highest ballot (0: none).
  std::uint64_t leader() {
    std::uint64_t best = 0;
    for (std::size_t i = 1; i <= nodes_.size(); ++i)
      if (up(i) && (*this)[i].role() == role::leader &&
          (best == 0 || (*this)[i].current_ballot() > (*this)[best].current_ballot()))
        best = i;
    return best;
  }
  std::uint64_t settle(int rounds = 2000) {
    for (int r = 0; r < rounds && leader() == 0; ++r) tick_all();
    return leader();
  }
  // Proposes at the leader, ticking while it is busy (a window or phase 1 in the way).
  proposal put(std::uint64_t l, const std::string& v) {
    for (int k = 0; k < 200; ++k) {
      auto r = (*this)[l].propose(as_bytes(v));
      if (r) {
        deliver();
        return *r;
      }
      REQUIRE(r.error().code == errc::busy);
      tick_all();
    }
    FAIL("the leader stayed busy");
    return {};
  }
  // Ticks until the leader's configuration command is in force at its next slot.
  void until_in_force(std::uint64_t l, int rounds = 200) {
    for (int r = 0; r < rounds && (*this)[l].membership_at((*this)[l].commit_index().next()) != (*this)[l].membership();
         ++r)
      tick_all();
  }

 private:
  options opts_;
  std::vector<node_id> bootstrap_;
  std::vector<storage::memory_snapshot_store> stores_;
  std::vector<std::unique_ptr<reconf_node>> nodes_;
};

}  // namespace

TEST_CASE("paxos reconfiguration: a joining node learns its configuration from the log and then votes") {
  rcluster c{4, ids({1, 2, 3})};
  CHECK(c[4].membership().unknown());
  c.tick_all(200);
  CHECK(c[4].stats().elections_started == 0);  // knows no configuration: never campaigns
  c.elect(1);
  for (int i = 0; i < 3; ++i) c.put(1, "a" + std::to_string(i));
  auto p = c[1].change_membership(configuration{ids({1, 2, 3, 4}), {}});
  REQUIRE(p.has_value());
  c.deliver();
  c.until_in_force(1);
  const log_index s = p->index;
  CHECK(c[1].membership_index() == s);
  CHECK(c[1].membership_at(c[1].commit_index().next()).voters == ids({1, 2, 3, 4}));
  for (int i = 0; i < 3; ++i) c.put(1, "b" + std::to_string(i));
  c.tick_all(5);
  CHECK(c[4].membership().voters == ids({1, 2, 3, 4}));
  CHECK(c[4].membership_index() == s);
  CHECK(c[4].state_machine().values == c[1].state_machine().values);
  CHECK(c[4].state_machine().values.size() == 6);
  CHECK(c[1].stats().phase1_for_configuration == 1);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos reconfiguration: the α boundary: slot s+α-1 is in the old configuration, s+α in the new") {
  rcluster c{3, ids({1, 2, 3})};
  c.elect(1);
  c.put(1, "x");
  auto p = c[1].change_membership(configuration{ids({1, 2}), {}});
  REQUIRE(p.has_value());
  const log_index s = p->index;
  c.deliver();
  CHECK(c[1].commit_index() >= s);  // chosen, applied: the leader knows both configurations now
  CHECK(c[1].membership_at(s + (alpha - 1)).voters == ids({1, 2, 3}));
  CHECK(c[1].membership_at(s + alpha).voters == ids({1, 2}));
  // On the wire: node 3 is asked to accept slots up to s+α-1 and never past.
  log_index most_to_3{};
  log_index most_to_2{};
  auto watch = [&](const envelope& e) {
    if (e.type != message_type::accept) return true;
    std::vector<entry> scratch;
    auto m = decode(byte_view{e.bytes}, scratch);
    REQUIRE(m.has_value());
    for (const entry& x : m->entries) {
      if (e.to == node_id{3}) most_to_3 = std::max(most_to_3, x.slot);
      if (e.to == node_id{2}) most_to_2 = std::max(most_to_2, x.slot);
    }
    return true;
  };
  for (int i = 0; i < 12; ++i) {
    (void)c[1].propose(as_bytes("y" + std::to_string(i)));
    c.deliver(watch);
    for (int k = 0; k < 2; ++k) {
      c[1].tick();
      c.deliver(watch);
    }
  }
  CHECK(most_to_3 == s + (alpha - 1));
  CHECK(most_to_2 > s + alpha);
  // From s+α on, 1 and 2 alone choose: node 3 cut off changes nothing.
  c.isolate(3);
  const log_index before = c[1].commit_index();
  c.put(1, "z");
  c.tick_all(2);
  CHECK(c[1].commit_index() > before);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos reconfiguration: a removed node stops taking part and never campaigns") {
  rcluster c{3, ids({1, 2, 3})};
  c.elect(1);
  REQUIRE(c[1].change_membership(configuration{ids({1, 2}), {}}).has_value());
  c.deliver();
  c.until_in_force(1);
  c.tick_all(5);
  CHECK(c[3].membership().voters == ids({1, 2}));
  const auto started = c[3].stats().elections_started;
  const auto sent = c.net.sent;
  c.isolate(3);
  c.tick_all(300);
  CHECK(c[3].stats().elections_started == started);
  CHECK(c[3].role() == role::follower);
  c.heal();
  // A leader does not send to it any more.
  std::uint64_t to_3 = 0;
  for (int i = 0; i < 5; ++i) {
    (void)c[1].propose(as_bytes("after" + std::to_string(i)));
    c.deliver([&](const envelope& e) { return e.to != node_id{3} || (++to_3, true); });
    c[1].tick();
    c.deliver([&](const envelope& e) { return e.to != node_id{3} || (++to_3, true); });
  }
  CHECK(to_3 == 0);
  CHECK(c.net.sent > sent);
  CHECK(c[2].state_machine().values == c[1].state_machine().values);
}

TEST_CASE("paxos reconfiguration: replacing the leader: it finishes its slots, steps down, a new voter leads") {
  rcluster c{4, ids({1, 2, 3})};
  c.elect(1);
  c.put(1, "before");
  auto p = c[1].change_membership(configuration{ids({2, 3, 4}), {}});
  REQUIRE(p.has_value());
  c.deliver();
  for (int r = 0; r < 100 && c[1].role() == role::leader; ++r) c.tick_all();
  CHECK(c[1].role() == role::follower);
  CHECK(c[1].stats().stepped_down_removed == 1);
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  CHECK(l != 1);
  c.put(l, "after");
  c.tick_all(5);
  for (std::uint64_t id : {2, 3, 4}) {
    const auto& v = c[id].state_machine().values;
    CHECK(v == std::vector<std::string>{"before", "after"});
  }
  c.tick_all(300);
  CHECK(c[1].role() == role::follower);  // removed: never campaigns again
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos reconfiguration: a candidate the next configuration leaves out gets the slots before it chosen") {
  // Soak seeds 24648, 26192, 91191: node 3 is a voter up to s+α-1 only. Its
  // phase 1 in the old configuration finds values accepted up to s+α-1, so
  // it re-proposes them, then meets the configuration that leaves it out.
  // It once stepped down there with those slots open: its next candidacy
  // did the same, forever, while its prepares kept the others from leading.
  rcluster c{3, ids({1, 2, 3})};
  c.elect(1);
  c.put(1, "x");
  auto p = c[1].change_membership(configuration{ids({1, 2}), ids({3})});
  REQUIRE(p.has_value());
  const log_index s = p->index;
  c.deliver();
  REQUIRE(c[1].commit_index() >= s);
  // The old leader's last slots of the old configuration reach node 3 only,
  // and node 3's acknowledgements never return: they are accepted, not chosen.
  c.net.cut.insert({1, 2});
  c.net.cut.insert({3, 1});
  for (std::size_t i = 1; i < alpha; ++i) REQUIRE(c[1].propose(as_bytes("v" + std::to_string(i))).has_value());
  c.deliver();
  REQUIRE(c[3].last_index() == s + (alpha - 1));
  REQUIRE(c[3].commit_index() == s);
  REQUIRE(c[3].membership_at(s + alpha).voters == ids({1, 2}));
  // Node 1 is gone; only node 3 ticks, so only it campaigns.
  c.crash(1);
  const auto started = c[3].stats().elections_started;
  for (int k = 0; k < 200; ++k) {
    c[3].tick();
    c.deliver();
  }
  CHECK(c[3].stats().elections_started == started + 1);  // one candidacy was enough
  CHECK(c[3].commit_index() == s + (alpha - 1));
  CHECK(c[3].stats().stepped_down_removed == 1);
  CHECK(c[3].role() == role::follower);
  CHECK(c[2].commit_index() == s + (alpha - 1));
  CHECK(c[3].state_machine().values == std::vector<std::string>{"x", "v1", "v2", "v3"});
  // The voters of the new configuration go on; node 3 learns as a learner.
  c.heal();
  c.boot(1);
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  CHECK(l != 3);
  c.put(l, "after");
  c.tick_all(5);
  CHECK(c[3].state_machine().values == std::vector<std::string>{"x", "v1", "v2", "v3", "after"});
  CHECK(c[3].stats().elections_started == started + 1);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos reconfiguration: after the change a minority of the old configuration cannot choose") {
  rcluster c{5, ids({1, 2, 3})};
  c.elect(1);
  REQUIRE(c[1].change_membership(configuration{ids({1, 2, 3, 4, 5}), {}}).has_value());
  c.deliver();
  c.until_in_force(1);
  c.put(1, "in the new configuration");
  c.tick_all(3);
  // {1, 2} was a majority of {1, 2, 3}; of five it is not.
  c.isolate(3);
  c.isolate(4);
  c.isolate(5);
  const log_index before = c[1].commit_index();
  auto r = c[1].propose(as_bytes("stuck"));
  REQUIRE(r.has_value());
  for (int k = 0; k < 5; ++k) {
    c[1].tick();
    c[2].tick();
    c.deliver();
  }
  CHECK(c[1].commit_index() == before);
  c.heal();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  for (int k = 0; k < 50 && c[l].commit_index() < r->index; ++k) c.tick_all();
  CHECK(c[l].commit_index() >= r->index);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos reconfiguration: a restart during a change recovers it from the journal and from a snapshot") {
  rcluster c{3, ids({1, 2, 3})};
  c.elect(1);
  c.put(1, "a");
  auto p = c[1].change_membership(configuration{ids({1, 2}), ids({3})});
  REQUIRE(p.has_value());
  c.deliver([](const envelope& e) { return e.type != message_type::heartbeat; });  // no one hears it chosen
  const log_index s = p->index;
  REQUIRE(c[1].applied_index() == s);
  // The leader's word that everything up to s is chosen, to node 2 only:
  // the change is chosen there and not in force yet.
  auto tell_2 = [&] {
    message m = msg(message_type::heartbeat, 1, 2, c[1].current_ballot());
    m.commit = s;
    c[2].receive(m);
    c.net.queue.clear();
  };
  REQUIRE(c[2].applied_index() < s);
  tell_2();
  REQUIRE(c[2].applied_index() == s);
  c.crash(2);
  c.boot(2);
  tell_2();  // the journal holds the accepts; the chosen mark comes again from the leader
  CHECK(c[2].membership().voters == ids({1, 2}));
  CHECK(c[2].membership().learners == ids({3}));
  CHECK(c[2].membership_index() == s);
  CHECK(c[2].membership_at(s + (alpha - 1)).voters == ids({1, 2, 3}));
  CHECK(c[2].membership_at(s + alpha).voters == ids({1, 2}));
  // Node 1 snapshots while the change is pending, its journal compacted past s, then restarts.
  REQUIRE(c[1].take_snapshot().has_value());
  CHECK(c[1].compacted_index() == s);
  c.crash(1);
  c.boot(1);
  CHECK(c[1].applied_index() == s);
  CHECK(c[1].membership().voters == ids({1, 2}));
  CHECK(c[1].membership().learners == ids({3}));
  CHECK(c[1].membership_index() == s);
  CHECK(c[1].membership_at(s + (alpha - 1)).voters == ids({1, 2, 3}));
  CHECK(c[1].membership_at(s + alpha).voters == ids({1, 2}));
  // The group goes on: a voter of the new configuration leads it, the learner follows.
  std::uint64_t l = 0;
  for (int r = 0; r < 2000; ++r) {
    c.tick_all();
    l = c.leader();
    if ((l == 1 || l == 2) && c[l].membership_at(c[l].commit_index().next()) == c[l].membership()) break;
  }
  REQUIRE((l == 1 || l == 2));
  c.put(l, "b");
  c.tick_all(5);
  CHECK(c[3].state_machine().values == std::vector<std::string>{"a", "b"});
  CHECK(c[l].state_machine().values == std::vector<std::string>{"a", "b"});
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos reconfiguration: a learner receives chosen values but no accepts and never campaigns") {
  rcluster c{4, ids({1, 2, 3})};
  c.elect(1);
  REQUIRE(c[1].change_membership(configuration{ids({1, 2, 3}), ids({4})}).has_value());
  c.deliver();
  c.until_in_force(1);
  std::uint64_t accepts_to_4 = 0;
  for (int i = 0; i < 6; ++i) {
    (void)c[1].propose(as_bytes("v" + std::to_string(i)));
    c.deliver([&](const envelope& e) {
      accepts_to_4 += e.to == node_id{4} && e.type == message_type::accept;
      return true;
    });
    c.tick_all();
  }
  c.tick_all(3);
  CHECK(accepts_to_4 == 0);
  CHECK(c[4].state_machine().values == c[1].state_machine().values);
  CHECK(c[4].state_machine().values.size() == 6);
  c.isolate(1);
  c.tick_all(300);
  CHECK(c[4].stats().elections_started == 0);
}

TEST_CASE("paxos reconfiguration: a node that may not campaign asks a peer for what it missed") {
  // Without a leader to tell it (the one that added it may be gone), a
  // non-voter in its own view could be a voter of a configuration it has not
  // learned yet: each election timeout it asks a peer for chosen values.
  rcluster c{4, ids({1, 2, 3})};
  c.elect(1);
  REQUIRE(c[1].change_membership(configuration{ids({1, 2, 3}), ids({4})}).has_value());
  c.deliver();
  c.until_in_force(1);
  c.tick_all(3);
  c.isolate(4);
  for (int i = 0; i < 5; ++i) c.put(1, "missed" + std::to_string(i));
  c.tick_all(2);
  c.heal();
  REQUIRE(c[4].state_machine().values.size() < c[1].state_machine().values.size());
  // Only node 4 ticks: no heartbeat reaches it, its own timeout does the asking.
  for (int k = 0; k < 100 && c[4].applied_index() < c[1].applied_index(); ++k) {
    c[4].tick();
    c.deliver();
  }
  CHECK(c[4].state_machine().values == c[1].state_machine().values);
  CHECK(c[4].stats().elections_started == 0);
}

TEST_CASE("paxos reconfiguration: with leases, a voter that never promised the leader's ballot still answers its phase 1") {
  // Node 2 follows leader 1 (it hears its heartbeats, so it ignores other
  // proposers for a lease) but never promised its ballot: it was away at the
  // election and is no voter until the change. Its promise is needed to enter
  // {1, 2}; a prepare from its own leader is no threat to that leader's lease.
  options o = reconf_options();
  o.lease_reads = true;
  rcluster c{3, ids({1, 2, 3}), o};
  auto tick_1_3 = [&](int times) {
    for (int k = 0; k < times; ++k) {
      c[1].tick();
      c[3].tick();
      c.deliver();
    }
  };
  c.isolate(2);
  c.elect(1);
  REQUIRE(c[1].change_membership(configuration{ids({1, 3}), {}}).has_value());
  c.deliver();
  tick_1_3(30);
  REQUIRE(c[1].membership_at(c[1].commit_index().next()).voters == ids({1, 3}));
  c.heal();
  REQUIRE(c[2].promised() < c[1].current_ballot());
  REQUIRE(c[1].change_membership(configuration{ids({1, 2}), {}}).has_value());
  c.deliver();
  tick_1_3(30);
  CHECK(c[1].role() == role::leader);
  CHECK(c[1].membership_at(c[1].commit_index().next()).voters == ids({1, 2}));
  CHECK(c[1].stats().phase1_for_configuration == 2);
  c.put(1, "chosen by 1 and 2");
  tick_1_3(2);
  CHECK(c[2].promised() == c[1].current_ballot());
  CHECK(c[2].state_machine().values.back() == "chosen by 1 and 2");
}

TEST_CASE("paxos reconfiguration: bad changes are refused with a clear error") {
  options o = reconf_options();
  o.phase1_quorum = 4;
  o.phase2_quorum = 2;
  rcluster c{6, ids({5, 3, 1, 2, 4}), o};  // in any order
  CHECK(c[1].change_membership(configuration{ids({1, 2}), {}}).error().code == errc::not_leader);
  c.elect(1);
  auto code = [&](configuration t) { return c[1].change_membership(std::move(t)).error().code; };
  CHECK(code(configuration{{}, {}}) == errc::invalid_config);                         // no voter
  CHECK(code(configuration{ids({1, 2, 2, 3, 4}), {}}) == errc::invalid_config);       // twice
  CHECK(code(configuration{ids({0, 1, 2, 3, 4}), {}}) == errc::invalid_config);       // node 0
  CHECK(code(configuration{ids({1, 2, 3, 4}), ids({4})}) == errc::invalid_config);    // voter and learner
  CHECK(code(configuration{ids({1, 2, 3}), {}}) == errc::invalid_config);             // |Q1| = 4 > 3
  auto six = c[1].change_membership(configuration{ids({1, 2, 3, 4, 5, 6}), {}});      // 4 + 2 = 6: no intersection
  REQUIRE_FALSE(six.has_value());
  CHECK(std::string{six.error().what}.find("intersect") != std::string::npos);
  CHECK(c[1].membership().voters == ids({1, 2, 3, 4, 5}));                           // sorted
  CHECK(code(configuration{ids({5, 4, 3, 2, 1}), {}}) == errc::invalid_argument);     // the one in force
  REQUIRE(c[1].change_membership(configuration{ids({1, 2, 3, 4}), {}}).has_value());
  CHECK(code(configuration{ids({1, 2, 3, 4, 6}), {}}) == errc::busy);                 // one at a time
  c.deliver();
  CHECK(code(configuration{ids({1, 2, 3, 4, 6}), {}}) == errc::busy);                 // chosen, not in force
  c.until_in_force(1);
  CHECK(c[1].change_membership(configuration{ids({1, 2, 3, 4, 6}), {}}).has_value());
  // A node built with members it is not among, or joining with node id 0, is refused.
  std::vector<node_id> others = ids({2, 3});
  test_node bad{node_id{1}, others, test_transport{&c.net}, test_log{&c.disk_of(1)}, manual_clock{}, recorder{},
                test_options()};
  CHECK(bad.status().error().code == errc::invalid_config);
  test_node zero{no_node, {}, test_transport{&c.net}, test_log{&c.disk_of(1)}, manual_clock{}, recorder{},
                 test_options()};
  CHECK(zero.status().error().code == errc::invalid_config);
}

TEST_CASE("paxos reconfiguration: a configuration command round-trips and bad bytes are refused") {
  configuration c{ids({3, 1, 2}), ids({7})};
  REQUIRE(normalize(c, 0, 0).has_value());
  byte_buffer b;
  encode(c, b);
  auto d = decode_configuration(b);
  REQUIRE(d.has_value());
  CHECK(*d == c);
  for (std::size_t len = 0; len < b.size(); ++len)
    CHECK_FALSE(decode_configuration(byte_view{b}.first(len)).has_value());
  byte_buffer twice;
  encode(configuration{ids({1, 1}), {}}, twice);
  CHECK(decode_configuration(twice).error().code == errc::malformed);
  // A snapshot image carries the configurations.
  snapshot_meta meta{log_index{9},
                     log_index{3},
                     {stamped_configuration{log_index{1}, log_index{}, c},
                      stamped_configuration{log_index{12}, log_index{8}, configuration{ids({1, 2}), {}}}}};
  byte_buffer img;
  begin_image(meta, img);
  seal_image(img);
  auto back = decode_image(img);
  REQUIRE(back.has_value());
  CHECK(back->meta == meta);
}

TEST_CASE("paxos reconfiguration: propose_all refuses a group that would reach a configuration not in force yet") {
  rcluster c{3, ids({1, 2, 3})};
  c.elect(1);
  c.put(1, "x");
  auto p = c[1].change_membership(configuration{ids({1, 2}), {}});
  REQUIRE(p.has_value());
  c.deliver();
  const log_index from = p->index + alpha;
  REQUIRE(c[1].membership_at(from).voters == ids({1, 2}));
  const log_index next = c[1].last_index().next();
  REQUIRE(next < from);
  const std::string v = "g";
  const auto group = [&](std::size_t n) { return std::vector<byte_view>(n, as_bytes(v)); };
  // One slot too many: the group would reach `from`, which takes a phase 1 first.
  auto across = c[1].propose_all(group(static_cast<std::size_t>(from - next) + 1));
  REQUIRE_FALSE(across.has_value());
  CHECK(across.error().code == errc::busy);
  CHECK(c[1].last_index().next() == next);
  // Up to it: taken.
  auto up_to = c[1].propose_all(group(static_cast<std::size_t>(from - next)));
  REQUIRE(up_to.has_value());
  CHECK(up_to->index == next);
  c.deliver();
  // From `from` on: busy while the leader runs phase 1 in the new configuration, then taken.
  std::vector<proposal> after;
  for (int k = 0; k < 200 && after.empty(); ++k) {
    auto g = c[1].propose_all(group(2));
    if (g) after.push_back(*g);
    else {
      REQUIRE(g.error().code == errc::busy);
      c.tick_all();
    }
  }
  REQUIRE(after.size() == 1);
  CHECK(after.front().index == from);
  c.deliver();
  c.tick_all(2);
  CHECK(c[1].commit_index() >= from.next());
  CHECK(c[1].stats().phase1_for_configuration == 1);
  CHECK(c[1].state_machine().values.back() == "g");
  CHECK(c.net.violations.empty());
}
