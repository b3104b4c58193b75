// Multi-Paxos snapshots: the image's round trip and its refusal when damaged,
// take_snapshot() bounding the journal and the slot index over a long run, a
// lagging follower caught up by chunks (window bound, a lost chunk resumed),
// a restart from snapshot plus journal, and a journal that does not fit its
// snapshot refused with nothing touched.
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

// A state machine whose state stays small however long it runs: how many
// commands it applied and the last one.
struct counter_machine {
  std::uint64_t count = 0;
  std::string last;
  std::uint64_t restored_at = 0;
  void apply(log_index, byte_view b) {
    ++count;
    last.assign(as_chars(b));
  }
  void snapshot(byte_buffer& out) {
    codec::writer w{out};
    w.varint(count);
    w.prefixed_string(last);
  }
  void restore(log_index i, byte_view b) {
    codec::reader r{b};
    auto c = r.varint();
    auto l = r.prefixed_string(b.size());
    REQUIRE((c && l && r.empty()));
    count = *c;
    last.assign(*l);
    restored_at = i.value();
  }
};

struct store_handle {  // the store outlives a node's incarnation, as a disk does
  storage::memory_snapshot_store* s;
  result<void> save(byte_view b) { return s->save(b); }
  result<byte_view> load() { return s->load(); }
};

struct snap_policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
  using state_machine = counter_machine;
  using snapshot_store = store_handle;
};
using snap_node = quorum::paxos::node<snap_policies>;

options snap_options() {
  options o = test_options();
  o.snapshot_chunk_bytes = 4;
  o.max_inflight_snapshot_chunks = 2;
  o.snapshot_trailing_slots = 8;
  return o;
}

class snap_cluster : public fabric {
 public:
  explicit snap_cluster(std::size_t n, options o = snap_options()) : fabric{n}, opts_{o}, stores_(n), nodes_(n) {
    for (std::size_t i = 0; i < n; ++i) REQUIRE(boot(i + 1).has_value());
  }
  snap_node& operator[](std::uint64_t id) { return *nodes_.at(id - 1); }
  storage::memory_snapshot_store& store(std::uint64_t id) { return stores_.at(id - 1); }

  void crash(std::uint64_t id) {
    disk& d = disk_of(id);
    d.live = d.durable;
    nodes_[id - 1].reset();
  }
  result<void> boot(std::uint64_t id) {
    nodes_[id - 1] = std::make_unique<snap_node>(ids_[id - 1], ids_, test_transport{&net}, test_log{&disk_of(id)},
                                                 manual_clock{}, counter_machine{}, store_handle{&stores_[id - 1]},
                                                 opts_);
    return nodes_[id - 1]->status();
  }

  // Delivers until the queue is empty; `keep` may drop a message.
  void deliver(const std::function<bool(const envelope&)>& keep = {}) {
    for (int n = 0; !net.queue.empty() && n < 1000000; ++n) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      if (net.cut.count({e.from.value(), e.to.value()}) != 0) continue;
      if (keep && !keep(e)) continue;
      if (nodes_.at(e.to.value() - 1)) (*this)[e.to.value()].receive(byte_view{e.bytes});
    }
  }
  void tick_all() {
    for (auto& n : nodes_)
      if (n) n->tick();
  }
  std::uint64_t elect(std::uint64_t id) {
    for (int k = 0; k < 1000 && (*this)[id].role() != role::leader; ++k) {
      (*this)[id].tick();
      deliver();
    }
    REQUIRE((*this)[id].role() == role::leader);
    return id;
  }
  // Proposes `count` commands at the leader, a window at a time.
  void propose(std::uint64_t l, int count, const std::string& prefix) {
    for (int i = 0; i < count;) {
      {
        auto guard = (*this)[l].batch();
        for (int k = 0; k < 64 && i < count; ++k, ++i)
          REQUIRE((*this)[l].propose(as_bytes(prefix + std::to_string(i))).has_value());
      }
      deliver();
    }
    tick_all();  // heartbeats carry the final watermark
    deliver();
  }

 private:
  options opts_;
  std::vector<storage::memory_snapshot_store> stores_;
  std::vector<std::unique_ptr<snap_node>> nodes_;
};

std::uint64_t count_queued(const network& net, message_type t, node_id from, node_id to) {
  return static_cast<std::uint64_t>(std::count_if(net.queue.begin(), net.queue.end(), [&](const envelope& e) {
    return e.type == t && e.from == from && e.to == to;
  }));
}

}  // namespace

TEST_CASE("paxos snapshot: an image round-trips and a damaged or truncated one is refused") {
  byte_buffer img;
  begin_image(snapshot_meta{log_index{42}, log_index{7}}, img);
  const std::string state = "the state machine's bytes";
  img.insert(img.end(), as_bytes(state).begin(), as_bytes(state).end());
  seal_image(img);
  auto d = decode_image(img);
  REQUIRE(d.has_value());
  CHECK(d->meta == snapshot_meta{log_index{42}, log_index{7}});
  CHECK(std::string{as_chars(d->data)} == state);

  for (std::size_t at = 0; at < img.size(); ++at) {
    byte_buffer bad = img;
    bad[at] ^= std::byte{0x10};
    CHECK_FALSE(decode_image(bad).has_value());
  }
  for (std::size_t len = 0; len < img.size(); ++len) CHECK_FALSE(decode_image(byte_view{img}.first(len)).has_value());
  byte_buffer wrong;
  begin_image(snapshot_meta{log_index{0}, log_index{1}}, wrong);
  seal_image(wrong);
  CHECK(decode_image(wrong).error().code == errc::malformed);
}

TEST_CASE("paxos snapshot: take_snapshot bounds the journal and the slot index over 10000 commands") {
  snap_cluster c{3};
  const std::uint64_t l = c.elect(1);
  std::uint64_t max_records = 0;
  std::size_t max_indexed = 0;
  for (int round = 0; round < 20; ++round) {
    c.propose(l, 500, "r" + std::to_string(round) + "-");
    for (std::uint64_t n = 1; n <= 3; ++n) {
      REQUIRE(c[n].applied_index() == c[l].commit_index());
      max_records = std::max(max_records, c[n].log().last_index().value() + 1 - c[n].log().first_index().value());
      max_indexed = std::max(max_indexed, c[n].indexed_slots());
      auto s = c[n].take_snapshot();
      REQUIRE(s.has_value());
      CHECK(*s == c[n].applied_index());
      auto& lg = c[n].log();
      max_records = std::max(max_records, lg.last_index().value() + 1 - lg.first_index().value());
      max_indexed = std::max(max_indexed, c[n].indexed_slots());
    }
  }
  const std::uint64_t slots = c[l].commit_index().value();
  CHECK(slots >= 10000);
  for (std::uint64_t n = 1; n <= 3; ++n) {
    CHECK(c[n].state_machine().count == 10000);
    // The journal's start followed the snapshots: its first record holds a slot past the compacted ones.
    auto& lg = c[n].log();
    REQUIRE(lg.first_index() <= lg.last_index());
    auto first = decode_run(*lg.read(lg.first_index()));
    REQUIRE(first.has_value());
    CHECK(first->first.value() + first->count - 1 > c[n].compacted_index().value());
    CHECK(c[n].compacted_index().value() == c[n].snapshot_index().value() - 8);
  }
  // Between two snapshots a node holds one round of slots plus the tail.
  MESSAGE("most journal records held: " << max_records << ", most slots indexed: " << max_indexed);
  CHECK(max_records <= 500 + 8 + 64);
  CHECK(max_indexed <= 500 + 8);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos snapshot: a lagging follower is caught up by chunks within the window and a lost chunk is resumed") {
  snap_cluster c{3};
  const std::uint64_t l = c.elect(1);
  c.isolate(3);
  c.propose(l, 100, "a");
  REQUIRE(c[1].take_snapshot().has_value());
  REQUIRE(c[2].take_snapshot().has_value());
  REQUIRE(c[1].compacted_index().value() > 1);
  c.heal();
  const std::uint64_t window = 2;
  bool dropped = false;
  std::uint64_t chunks = 0;
  std::uint64_t most_queued = 0;
  for (int r = 0; r < 200 && c[3].applied_index() != c[1].applied_index(); ++r) {
    c.tick_all();
    c.deliver([&](const envelope& e) {
      if (e.type != message_type::snapshot_chunk || e.to.value() != 3) return true;
      // In flight from one sender: this chunk and those queued behind it.
      most_queued = std::max(most_queued, count_queued(c.net, message_type::snapshot_chunk, e.from, e.to) + 1);
      ++chunks;
      if (!dropped && chunks == 3) return !(dropped = true);  // lost: must be sent again
      return true;
    });
  }
  CHECK(dropped);
  CHECK(c[3].applied_index() == c[1].applied_index());
  CHECK(c[3].state_machine().count == 100);
  CHECK(c[3].state_machine().last == "a99");
  CHECK(c[3].state_machine().restored_at == c[3].snapshot_index().value());
  CHECK(c[3].stats().snapshots_installed == 1);
  const std::uint64_t image_chunks = (c.store(1).image().size() + 3) / 4;
  CHECK(image_chunks > window);  // several windows' worth
  CHECK(chunks > image_chunks);  // the lost one went again
  MESSAGE("image chunks " << image_chunks << ", chunks delivered " << chunks << ", most in flight " << most_queued);
  CHECK(most_queued <= window);
  CHECK(c.store(3).image().size() > 0);
  // The follower keeps up by values again afterwards.
  c.propose(l, 10, "b");
  CHECK(c[3].state_machine().last == "b9");
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos snapshot: a candidate behind the snapshot gets the image instead of a promise") {
  snap_cluster c{3};
  const std::uint64_t l = c.elect(1);
  c.isolate(3);
  c.propose(l, 60, "a");
  REQUIRE(c[1].take_snapshot().has_value());
  REQUIRE(c[2].take_snapshot().has_value());
  const std::uint64_t base = c[2].compacted_index().value();
  REQUIRE(base > c[3].commit_index().value());
  c.crash(1);  // the leader is gone: node 3 runs for it from far behind
  c.heal();
  for (int k = 0; k < 1000 && c[3].role() == role::follower; ++k) c[3].tick();
  REQUIRE(c[3].role() == role::candidate);
  c.deliver();
  CHECK(c[2].stats().prepares_behind_snapshot >= 1);
  CHECK(c[3].stats().snapshots_installed == 1);
  CHECK(c[3].role() == role::follower);  // it stepped down to catch up
  CHECK(c[3].applied_index().value() >= base);
  // Whoever leads next, nothing chosen is lost.
  REQUIRE(c.boot(1).has_value());
  std::uint64_t leader = 0;
  for (int r = 0; r < 400 && leader == 0; ++r) {
    c.tick_all();
    c.deliver();
    for (std::uint64_t n = 1; n <= 3; ++n)
      if (c[n].role() == role::leader) leader = n;
  }
  REQUIRE(leader != 0);
  c.propose(leader, 5, "b");
  for (std::uint64_t n = 1; n <= 3; ++n) {
    CHECK(c[n].state_machine().count == 65);
    CHECK(c[n].state_machine().last == "b4");
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos snapshot: a restart restores the snapshot and replays the journal after it") {
  snap_cluster c{3};
  const std::uint64_t l = c.elect(1);
  c.propose(l, 50, "x");
  auto s = c[2].take_snapshot();
  REQUIRE(s.has_value());
  c.propose(l, 20, "y");
  const log_index applied = c[2].applied_index();
  REQUIRE(applied > *s);
  c.crash(2);
  REQUIRE(c.boot(2).has_value());
  CHECK(c[2].snapshot_index() == *s);
  CHECK(c[2].state_machine().restored_at == s->value());
  // Slots after the snapshot come back from the journal once chosen again.
  for (int r = 0; r < 50 && c[2].applied_index() < applied; ++r) {
    c.tick_all();
    c.deliver();
  }
  CHECK(c[2].applied_index() == applied);
  CHECK(c[2].state_machine().count == 70);
  CHECK(c[2].state_machine().last == "y19");
}

TEST_CASE("paxos snapshot: a journal that does not fit its snapshot is refused as corrupt and nothing is touched") {
  snap_cluster c{3};
  const std::uint64_t l = c.elect(1);
  c.propose(l, 40, "x");
  REQUIRE(c[2].take_snapshot().has_value());
  c.propose(l, 10, "y");
  c.crash(2);
  disk& d = c.disk_of(2);
  const auto image = decode_image(c.store(2).image());
  REQUIRE(image.has_value());
  REQUIRE(d.live.first_index() <= image->meta.journal_from);
  REQUIRE(d.live.compact(image->meta.journal_from + 1).has_value());  // records after the snapshot lost
  const log_index first = d.live.first_index(), last = d.live.last_index();
  const byte_buffer stored{c.store(2).image().begin(), c.store(2).image().end()};
  auto r = c.boot(2);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::corrupt_log);
  CHECK(c[2].state_machine().restored_at == 0);
  CHECK(c[2].state_machine().count == 0);
  CHECK(d.live.first_index() == first);
  CHECK(d.live.last_index() == last);
  CHECK(byte_view{stored}.size() == c.store(2).image().size());
  CHECK(std::equal(stored.begin(), stored.end(), c.store(2).image().begin()));
  CHECK_FALSE(c[2].propose(as_bytes("z")).has_value());
}

TEST_CASE("paxos snapshot: a compacted journal without a snapshot is refused as corrupt") {
  snap_cluster c{3};
  const std::uint64_t l = c.elect(1);
  c.propose(l, 10, "x");
  c.crash(3);
  REQUIRE(c.disk_of(3).live.compact(log_index{3}).has_value());
  auto r = c.boot(3);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::corrupt_log);
}
