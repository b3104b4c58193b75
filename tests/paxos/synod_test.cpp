// Single-decree Paxos: the acceptor's two rules and its durable state, the
// proposer's choice of value, the learner's tally, quorum validation, and the
// CASPaxos-style register on a hand-delivered network: duelling proposers,
// a value accepted by a minority that the next proposer must adopt, and an
// acceptor that restarts from its log.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster.hpp"

using namespace paxos_test;

namespace {

// The update function: appends op to the value; "read" leaves it as it is.
struct appender {
  std::vector<std::pair<std::uint64_t, std::string>> done_ok;
  std::vector<std::pair<std::uint64_t, errc>> done_failed;
  void update(std::uint64_t, byte_view op, byte_view current, byte_buffer& next) {
    next.assign(current.begin(), current.end());
    if (as_chars(op) != "read") next.insert(next.end(), op.begin(), op.end());
  }
  void done(std::uint64_t id, const result<byte_view>& r) {
    if (r) done_ok.emplace_back(id, std::string{as_chars(*r)});
    else done_failed.emplace_back(id, r.error().code);
  }
};

struct register_policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
  using state_machine = appender;
};

using reg = register_node<register_policies>;

class register_group : public fabric {
 public:
  explicit register_group(std::size_t n, register_options o = {}) : fabric{n}, opts_{o} {
    net.kind = durability::acceptor_state;
    nodes_.resize(n);
    for (std::size_t i = 0; i < n; ++i) boot(i);
  }
  reg& operator[](std::uint64_t id) { return *nodes_.at(id - 1); }
  void restart(std::uint64_t id) {
    disk& d = disk_of(id);
    d.live = d.durable;
    nodes_[id - 1].reset();
    boot(id - 1);
  }
  std::size_t deliver(const std::function<bool(const envelope&)>& keep = {}) {
    std::size_t n = 0;
    while (!net.queue.empty()) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      ++n;
      if (net.cut.count({e.from.value(), e.to.value()}) != 0) continue;
      if (keep && !keep(e)) continue;
      (*this)[e.to.value()].receive(byte_view{e.bytes});
    }
    return n;
  }

 private:
  void boot(std::size_t i) {
    nodes_[i] = std::make_unique<reg>(ids_[i], ids_, test_transport{&net}, test_log{disks_[i].get()}, manual_clock{},
                                      appender{}, opts_);
    REQUIRE(nodes_[i]->status().has_value());
  }
  register_options opts_;
  std::vector<std::unique_ptr<reg>> nodes_;
};

}  // namespace

TEST_CASE("synod acceptor: promises only upward and accepts at or above its promise") {
  acceptor a;
  CHECK(a.prepare(bal(2, 1)));
  CHECK(a.dirty());
  a.saved();
  CHECK(a.prepare(bal(2, 1)));  // the same ballot again: idempotent
  CHECK_FALSE(a.dirty());
  CHECK_FALSE(a.prepare(bal(1, 3)));
  CHECK_FALSE(a.accept(bal(1, 3), as_bytes("old")));
  CHECK(a.accept(bal(2, 1), as_bytes("v")));
  CHECK(a.state().accepted == bal(2, 1));
  CHECK(a.accept(bal(3, 2), as_bytes("w")));  // above the promise: accepted, and promised
  CHECK(a.state().promised == bal(3, 2));
  CHECK(as_chars(a.state().value) == "w");
}

TEST_CASE("synod acceptor state: round-trips, and a damaged blob is an error") {
  acceptor_state s{bal(4, 2), bal(3, 1), to_buffer(as_bytes("value"))};
  byte_buffer b;
  encode_acceptor_state(s, b);
  auto back = decode_acceptor_state(b, 100);
  REQUIRE(back.has_value());
  CHECK(back->promised == s.promised);
  CHECK(back->accepted == s.accepted);
  CHECK(back->value == s.value);
  CHECK(decode_acceptor_state(b, 2).error().code == errc::too_large);
  b.pop_back();
  CHECK_FALSE(decode_acceptor_state(b, 100).has_value());
  acceptor_state bad{bal(1, 1), bal(2, 1), {}};
  b.clear();
  encode_acceptor_state(bad, b);
  CHECK(decode_acceptor_state(b, 100).error().code == errc::malformed);
  CHECK(decode_acceptor_state({}, 100)->promised == ballot{});
  acceptor_state past{bal(ballot::max_round + 1, 1), ballot{}, {}};
  b.clear();
  encode_acceptor_state(past, b);
  CHECK(decode_acceptor_state(b, 100).error().code == errc::malformed);
}

TEST_CASE("synod proposer: phase 1 adopts the value accepted at the highest ballot") {
  const std::vector<node_id> ids{node_id{1}, node_id{2}, node_id{3}, node_id{4}, node_id{5}};
  membership m{node_id{1}, ids, 0, 0};
  proposer p;
  p.start(bal(9, 1));
  CHECK_FALSE(p.on_promise(m, 0, ballot{}, {}));
  CHECK_FALSE(p.on_promise(m, 1, bal(3, 2), as_bytes("low")));
  CHECK(p.on_promise(m, 2, bal(7, 4), as_bytes("high")));
  CHECK(p.highest_accepted() == bal(7, 4));
  CHECK(as_chars(p.value()) == "high");
  p.start_accept(p.value());
  CHECK_FALSE(p.on_accepted(m, 0));
  CHECK_FALSE(p.on_accepted(m, 0));  // one acceptor counts once
  CHECK_FALSE(p.on_accepted(m, 3));
  CHECK(p.on_accepted(m, 4));
  CHECK(p.current() == proposer::phase::done);
}

TEST_CASE("synod learner: a value is chosen when a phase-2 quorum accepted one ballot") {
  const std::vector<node_id> ids{node_id{1}, node_id{2}, node_id{3}};
  membership m{node_id{1}, ids, 0, 0};
  learner l;
  CHECK_FALSE(l.on_accepted(m, 0, bal(1, 1)));
  CHECK_FALSE(l.on_accepted(m, 1, bal(2, 2)));  // a higher ballot restarts the tally
  CHECK_FALSE(l.on_accepted(m, 0, bal(1, 1)));  // stale
  CHECK(l.on_accepted(m, 2, bal(2, 2)));
  CHECK(l.chosen() == bal(2, 2));
}

TEST_CASE("quorums: flexible sizes must intersect, and |Q2| = 2 of 5 with |Q1| = 4 is accepted") {
  const std::vector<node_id> five{node_id{1}, node_id{2}, node_id{3}, node_id{4}, node_id{5}};
  CHECK(membership::validate(node_id{1}, five, 0, 0).has_value());
  CHECK(membership::validate(node_id{1}, five, 4, 2).has_value());
  auto bad = membership::validate(node_id{1}, five, 3, 2);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == errc::invalid_config);
  CHECK(bad.error().message().find("would not intersect") != std::string::npos);
  CHECK(membership::validate(node_id{1}, five, 6, 2).error().code == errc::invalid_config);
  const std::vector<node_id> twice{node_id{1}, node_id{1}};
  CHECK(membership::validate(node_id{1}, twice, 0, 0).error().code == errc::invalid_config);
  membership m{node_id{3}, five, 4, 2};
  CHECK(m.phase1_quorum() == 4);
  CHECK(m.phase2_quorum() == 2);
  CHECK(m.phase2_reached(0b00011));
  CHECK_FALSE(m.phase1_reached(0b00111));
}

// reached() has a one-test path for a quorum of two: every mask of up to
// five acceptors, for every quorum size, against a plain count of its bits.
TEST_CASE("quorums: phase 1 and phase 2 reached exactly when the mask has a quorum's bits, for every size") {
  const std::vector<node_id> three{node_id{1}, node_id{2}, node_id{3}};
  const std::vector<node_id> five{node_id{1}, node_id{2}, node_id{3}, node_id{4}, node_id{5}};
  const auto bits = [](std::uint64_t mask) {
    int n = 0;
    for (; mask != 0; mask >>= 1) n += static_cast<int>(mask & 1);
    return n;
  };
  int checked = 0;
  for (const auto* members : {&three, &five}) {
    const std::size_t size = members->size();
    for (std::size_t q2 = 1; q2 <= size; ++q2) {
      const std::size_t q1 = size + 1 - q2;  // the least phase-1 quorum that intersects
      membership m{node_id{1}, *members, q1, q2};
      for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << size); ++mask) {
        CHECK(m.phase2_reached(mask) == (bits(mask) >= static_cast<int>(q2)));
        CHECK(m.phase1_reached(mask) == (bits(mask) >= static_cast<int>(q1)));
        ++checked;
      }
    }
  }
  CHECK(checked == 3 * 8 + 5 * 32);
}

TEST_CASE("paxos register: a change runs both phases and every acceptor ends with the value") {
  register_group g{3};
  REQUIRE(g[1].change(as_bytes("a")).has_value());
  g.deliver();
  REQUIRE(g[1].function().done_ok.size() == 1);
  CHECK(g[1].function().done_ok[0].second == "a");
  REQUIRE(g[2].change(as_bytes("b")).has_value());
  g.deliver();
  REQUIRE(g[2].function().done_ok.size() == 1);
  CHECK(g[2].function().done_ok[0].second == "ab");  // read-modify-write saw "a"
  REQUIRE(g[3].change(as_bytes("read")).has_value());
  g.deliver();
  CHECK(g[3].function().done_ok.at(0).second == "ab");
  CHECK(g.net.violations.empty());
  auto busy1 = g[1].change(as_bytes("x"));
  REQUIRE(busy1.has_value());
  auto busy2 = g[1].change(as_bytes("y"));
  REQUIRE_FALSE(busy2.has_value());
  CHECK(busy2.error().code == errc::busy);
}

TEST_CASE("paxos register: duelling proposers never make two histories") {
  // Every interleaving of two proposers' messages that we try: whatever
  // succeeds extends what succeeded before, and a loser fails with stale.
  for (std::uint64_t pattern = 0; pattern < 64; ++pattern) {
    register_group g{3};
    REQUIRE(g[1].change(as_bytes("a")).has_value());
    REQUIRE(g[2].change(as_bytes("b")).has_value());
    std::uint64_t k = 0;
    // Deliver in an order chosen by the pattern's bits: rotate the queue.
    while (!g.net.queue.empty()) {
      if (((pattern >> (k++ % 6)) & 1) != 0 && g.net.queue.size() > 1) {
        g.net.queue.push_back(std::move(g.net.queue.front()));
        g.net.queue.pop_front();
      }
      envelope e = std::move(g.net.queue.front());
      g.net.queue.pop_front();
      g[e.to.value()].receive(byte_view{e.bytes});
    }
    std::vector<std::string> won;
    for (std::uint64_t n : {1, 2}) {
      const appender& f = g[n].function();
      CHECK(f.done_ok.size() + f.done_failed.size() == 1);
      for (const auto& [id, v] : f.done_ok) won.push_back(v);
      for (const auto& [id, e] : f.done_failed) CHECK(e == errc::stale);
    }
    // A read through a fresh round sees a value that every success is a prefix of.
    REQUIRE(g[3].change(as_bytes("read")).has_value());
    g.deliver();
    REQUIRE(g[3].function().done_ok.size() == 1);
    const std::string final_value = g[3].function().done_ok[0].second;
    for (const std::string& w : won) CHECK(final_value.rfind(w, 0) == 0);
    CHECK(g.net.violations.empty());
  }
}

TEST_CASE("paxos register: a value accepted by a minority is adopted by the next proposer") {
  register_group g{5};
  REQUIRE(g[1].change(as_bytes("m")).has_value());
  // Phase 1 goes through; of the accepts only the one to node 2 arrives, and
  // node 1 is then cut off: nodes 1 and 2, two of five, accepted "m".
  g.deliver([](const envelope& e) { return e.type != message_type::accept || e.to == node_id{2}; });
  CHECK(g[1].function().done_ok.empty());
  CHECK(as_chars(g[2].acceptor_view().value) == "m");
  CHECK(g[3].acceptor_view().value.empty());
  g.isolate(1);
  g.isolate(4);  // node 3's phase-1 quorum must then include node 2
  REQUIRE(g[3].change(as_bytes("+")).has_value());
  g.deliver();
  REQUIRE(g[3].function().done_ok.size() == 1);
  CHECK(g[3].function().done_ok[0].second == "m+");
}

TEST_CASE("paxos register: an acceptor restarted from its log keeps its promise and its value") {
  register_group g{3};
  REQUIRE(g[1].change(as_bytes("v")).has_value());
  g.deliver();
  REQUIRE(g[1].change(as_bytes("u")).has_value());
  g.deliver();
  REQUIRE(g[1].function().done_ok.size() == 2);
  const acceptor_state before = g[2].acceptor_view();
  g.restart(2);
  CHECK(g[2].acceptor_view().promised == before.promised);
  CHECK(g[2].acceptor_view().accepted == before.accepted);
  CHECK(before.promised == bal(2, 1));
  CHECK(as_chars(g[2].acceptor_view().value) == "vu");
  // An old ballot is still refused after the restart.
  message m = msg(message_type::prepare, 3, 2, bal(1, 3));
  g[2].receive(m);
  REQUIRE(g.net.queue.size() == 1);
  std::vector<entry> scratch;
  auto r = decode(byte_view{g.net.queue.front().bytes}, scratch);
  REQUIRE(r.has_value());
  CHECK(r->reject);
  CHECK(r->bal == before.promised);
  g.net.queue.clear();
  // With only node 2 and 3 alive the value survives into the next change.
  g.isolate(1);
  REQUIRE(g[3].change(as_bytes("w")).has_value());
  g.deliver();
  CHECK(g[3].function().done_ok.at(0).second == "vuw");
}

TEST_CASE("paxos register: a change that cannot reach a quorum times out") {
  register_options o;
  o.timeout_ticks = 5;
  register_group g{3, o};
  g.isolate(1);
  REQUIRE(g[1].change(as_bytes("x")).has_value());
  for (int i = 0; i < 5; ++i) {
    g[1].tick();
    g.deliver();
  }
  REQUIRE(g[1].function().done_failed.size() == 1);
  CHECK(g[1].function().done_failed[0].second == errc::timeout);
  CHECK_FALSE(g[1].busy());
}

TEST_CASE("paxos register: a ballot round past max_round is dropped, and at max_round no change starts") {
  register_group g{3};
  message m = msg(message_type::prepare, 3, 2, bal(ballot::max_round + 1, 3));
  g[2].receive(m);
  CHECK(g[2].dropped() == 1);
  CHECK(g[2].acceptor_view().promised == ballot{});
  CHECK(g.net.queue.empty());
  m.bal = bal(ballot::max_round, 3);
  g[2].receive(m);
  CHECK(g[2].acceptor_view().promised == m.bal);
  g.net.queue.clear();
  // Its next ballot would wrap around below that promise: refused, nothing sent.
  auto r = g[2].change(as_bytes("v"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::out_of_range);
  CHECK_FALSE(g[2].busy());
  CHECK(g.net.queue.empty());
  CHECK(g[2].acceptor_view().promised == m.bal);
}
