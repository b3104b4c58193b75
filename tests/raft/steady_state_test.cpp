// Zero overhead in steady state (DESIGN.md principle 3): once buffers have
// grown, a 3-node group commits entries, one at a time or in batches, with
// (almost) no heap allocation per entry. The global operator new of this test
// binary counts allocations while `counting` is set.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "quorum/raft.hpp"
#include "quorum/storage/memory_log.hpp"

// The replacement pair below is malloc/free underneath, which GCC cannot see
// through once it inlines them into the callers of new and delete.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
bool counting = false;
std::uint64_t allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  if (counting) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace quorum;
using namespace quorum::raft;

// A FIFO of encoded messages in slots whose buffers are reused: the network
// itself allocates nothing once every slot has grown to its message size.
struct ring {
  struct slot {
    node_id to;
    byte_buffer bytes;
  };
  std::vector<slot> slots = std::vector<slot>(32);  // more than are ever in flight here
  std::size_t head = 0, count = 0;

  void push(node_id to, const message& m) {
    REQUIRE(count < slots.size());
    slot& s = slots[(head + count++) % slots.size()];
    s.to = to;
    s.bytes.clear();
    encode(m, s.bytes);
  }
};

struct ring_transport {
  ring* r;
  void send(node_id to, const message& m) { r->push(to, m); }
};

struct null_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<null_clock, duration>;
  time_point now() const noexcept { return time_point{}; }
};

struct counter_fsm {
  std::uint64_t applied = 0;
  std::uint64_t bytes = 0;
  void apply(log_index, byte_view b) {
    ++applied;
    bytes += b.size();
  }
};

struct steady_policies {
  using transport = ring_transport;
  using log = storage::memory_log;
  using clock = null_clock;
  using state_machine = counter_fsm;
};

using steady_node = node<steady_policies>;

struct group {
  ring net;
  std::vector<node_id> ids{node_id{1}, node_id{2}, node_id{3}};
  std::vector<std::unique_ptr<steady_node>> nodes;

  explicit group(std::size_t max_uncommitted_bytes = options{}.max_uncommitted_bytes) {
    options o;
    o.max_entries_per_append = 64;
    o.max_uncommitted_bytes = max_uncommitted_bytes;
    for (auto id : ids)
      nodes.push_back(std::make_unique<steady_node>(id, ids, ring_transport{&net}, storage::memory_log{},
                                                    null_clock{}, counter_fsm{}, o));
  }

  void deliver() {
    while (net.count > 0) {
      ring::slot& s = net.slots[net.head];
      net.head = (net.head + 1) % net.slots.size();
      --net.count;
      nodes[s.to.value() - 1]->receive(byte_view{s.bytes});
    }
  }

  steady_node& leader() { return *nodes[0]; }

  void elect() {
    for (int k = 0; k < 100 && leader().role() != raft::role::leader; ++k) {
      leader().tick();
      deliver();
    }
    REQUIRE(leader().role() == raft::role::leader);
  }

  // Proposes `batches` batches of `per_batch` 64-byte commands, delivering after each.
  void run(int batches, int per_batch) {
    const std::byte cmd[64]{};
    for (int b = 0; b < batches; ++b) {
      {
        auto guard = leader().batch();
        for (int k = 0; k < per_batch; ++k) REQUIRE(leader().propose(byte_view{cmd}));
      }
      deliver();
      if (b % 16 == 0) {
        leader().tick();
        deliver();
      }
    }
  }
};

void check_steady(int per_batch, int batches) {
  group g;
  g.elect();
  g.run(2000 / per_batch + 20, per_batch);  // warm-up: every buffer reaches its working size
  const auto before = g.nodes[2]->state_machine().applied;
  allocations = 0;
  counting = true;
  g.run(batches, per_batch);
  counting = false;
  const auto committed = g.nodes[2]->state_machine().applied - before;
  REQUIRE(committed == static_cast<std::uint64_t>(batches) * static_cast<std::uint64_t>(per_batch));
  for (auto& n : g.nodes) CHECK(n->applied_index() == g.leader().last_index());
  const double per_entry = static_cast<double>(allocations) / static_cast<double>(committed);
  MESSAGE("batch " << per_batch << ": " << allocations << " allocations for " << committed
                   << " committed entries (" << per_entry << " per entry)");
  CHECK(per_entry < 0.1);
}

}  // namespace

TEST_CASE("steady state: committing one entry at a time allocates less than 0.1 times per entry") {
  check_steady(1, 3000);
}

TEST_CASE("steady state: committing batches of 64 allocates less than 0.1 times per entry") {
  check_steady(64, 100);
}

TEST_CASE("propose_all: a group of commands is one run, applied everywhere in order, and a refused group appends nothing") {
  group g;
  g.elect();
  const log_index start = g.leader().last_index();
  const auto applied0 = g.nodes[2]->state_machine().applied;
  const auto bytes0 = g.nodes[2]->state_machine().bytes;
  std::vector<std::vector<std::byte>> cmds;
  for (std::size_t k = 0; k < 5; ++k) cmds.emplace_back(10 + 20 * k, static_cast<std::byte>(k));  // 10..90 bytes
  std::vector<byte_view> group_of;
  std::size_t total = 0;
  for (const auto& c : cmds) {
    group_of.push_back(byte_view{c});
    total += c.size();
  }
  auto p = g.leader().propose_all(group_of);
  REQUIRE(p);
  CHECK(p->index == start.next());
  CHECK(p->term == g.leader().term());
  CHECK(g.leader().last_index() == start + 5);
  g.deliver();
  for (auto& n : g.nodes) {
    CHECK(n->applied_index() == start + 5);
    CHECK(n->state_machine().applied == applied0 + 5);
    CHECK(n->state_machine().bytes == bytes0 + total);
  }
  // Inside a batch, between single proposals: the indices follow on.
  {
    auto guard = g.leader().batch();
    auto a = g.leader().propose(byte_view{cmds[0]});
    auto b = g.leader().propose_all(group_of);
    auto c = g.leader().propose(byte_view{cmds[1]});
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(b->index == a->index.next());
    CHECK(c->index == b->index + 5);
  }
  g.deliver();
  for (auto& n : g.nodes) CHECK(n->applied_index() == start + 12);
  // Refused groups: nothing appended.
  const log_index last = g.leader().last_index();
  auto none = g.leader().propose_all({});
  REQUIRE_FALSE(none);
  CHECK(none.error().code == errc::invalid_argument);
  const std::vector<std::byte> huge(options{}.max_entry_bytes + 1);
  const byte_view with_huge[] = {byte_view{cmds[0]}, byte_view{huge}};
  auto too_large = g.leader().propose_all(with_huge);
  REQUIRE_FALSE(too_large);
  CHECK(too_large.error().code == errc::too_large);
  auto follower = g.nodes[1]->propose_all(group_of);
  REQUIRE_FALSE(follower);
  CHECK(follower.error().code == errc::not_leader);
  CHECK(g.leader().last_index() == last);
  CHECK(g.leader().status());
}

TEST_CASE("steady state: committing groups of 64 with propose_all allocates less than 0.1 times per entry") {
  group g;
  g.elect();
  const std::byte cmd[64]{};
  const std::vector<byte_view> cmds(64, byte_view{cmd});
  const auto round = [&] {
    REQUIRE(g.leader().propose_all(cmds));
    g.deliver();
  };
  for (int k = 0; k < 60; ++k) round();  // warm-up
  const auto before = g.nodes[2]->state_machine().applied;
  allocations = 0;
  counting = true;
  for (int k = 0; k < 100; ++k) round();
  counting = false;
  REQUIRE(g.nodes[2]->state_machine().applied - before == 6400);
  for (auto& n : g.nodes) CHECK(n->applied_index() == g.leader().last_index());
  CHECK(static_cast<double>(allocations) / 6400.0 < 0.1);
}

TEST_CASE("propose_all: a group over max_uncommitted_bytes is refused as too large, even with nothing uncommitted") {
  group g{256};
  g.elect();
  const log_index last = g.leader().last_index();
  const std::vector<std::byte> cmd(100, std::byte{7});
  const byte_view three[] = {byte_view{cmd}, byte_view{cmd}, byte_view{cmd}};  // 300 bytes: could never fit
  auto over = g.leader().propose_all(three);
  REQUIRE_FALSE(over);
  CHECK(over.error().code == errc::too_large);
  CHECK(g.leader().last_index() == last);
  const byte_view two[] = {byte_view{cmd}, byte_view{cmd}};  // 200 bytes: fits
  REQUIRE(g.leader().propose_all(two));
  CHECK(g.leader().last_index() == last + 2);
  CHECK(g.leader().status());
}
