// Snapshots and log compaction (§7): the image format, compaction behind a
// snapshot, a follower behind the log's start caught up by chunks with a
// bounded window and resumption after loss, restart from snapshot plus log,
// and the stored states a restart must refuse (a gap, a damaged image).
#include <doctest/doctest.h>

#include "cluster.hpp"

using namespace raft_test;

namespace {

options snapshot_options(std::size_t chunk = 64, std::size_t window = 2, std::uint64_t trailing = 0) {
  options o = test_options();
  o.snapshot_chunk_bytes = chunk;
  o.max_inflight_snapshot_chunks = window;
  o.snapshot_trailing_entries = trailing;
  return o;
}

void propose_n(cluster& c, std::uint64_t leader, int n, const std::string& prefix) {
  for (int k = 0; k < n; ++k) {
    REQUIRE(c[leader].propose(as_bytes(prefix + std::to_string(k))).has_value());
    c.deliver();
  }
}

std::size_t queued_to(network& net, message_type type, std::uint64_t to) {
  std::size_t n = 0;
  for (const envelope& e : net.queue) n += (e.type == type && e.to.value() == to) ? 1 : 0;
  return n;
}

// Ticks every node once and delivers, `rounds` times.
void run(cluster& c, int rounds, const std::function<bool(const envelope&)>& keep = {}) {
  for (int r = 0; r < rounds; ++r) {
    for (std::uint64_t id = 1; id <= c.size(); ++id) c.tick(id);
    c.deliver(keep);
  }
}

}  // namespace

TEST_CASE("snapshot image: round trip, and every truncation or flipped byte is refused") {
  snapshot_meta meta{log_index{42}, term_id{7}, log_index{40},
                     membership{{node_id{1}, node_id{2}, node_id{3}}, {}, {node_id{4}}}};
  byte_buffer image, scratch;
  begin_image(meta, image, scratch);
  const std::string state = "the state machine's bytes";
  image.insert(image.end(), as_bytes(state).begin(), as_bytes(state).end());
  seal_image(image);
  auto back = decode_image(image);
  REQUIRE(back.has_value());
  CHECK(back->meta == meta);
  CHECK(as_chars(back->data) == state);
  for (std::size_t n = 0; n < image.size(); ++n) CHECK_FALSE(decode_image(byte_view{image}.first(n)).has_value());
  for (std::size_t i = 0; i < image.size(); ++i) {
    byte_buffer bad = image;
    bad[i] ^= std::byte{0x10};
    CHECK_FALSE(decode_image(bad).has_value());
  }
}

TEST_CASE("snapshot: take_snapshot saves the image durably and compacts the log behind it keeping trailing entries") {
  cluster c{3, snapshot_options(64, 2, 5)};
  c.start();
  c.elect(1);
  propose_n(c, 1, 20, "v");
  run(c, 2);
  const log_index applied = c[1].applied_index();
  REQUIRE(applied == c[1].last_index());
  auto at = c[1].take_snapshot();
  REQUIRE(at.has_value());
  CHECK(*at == applied);
  CHECK(c[1].snapshot_index() == applied);
  CHECK(c[1].first_index() == applied - 5 + 1);
  CHECK(c.disk_of(1).snapshots.saves() == 1);
  auto img = decode_image(c.disk_of(1).snapshots.image());
  REQUIRE(img.has_value());
  CHECK(img->meta.index == applied);
  CHECK(img->meta.term == c[1].term());
  CHECK(img->meta.config.voters == std::vector<node_id>{node_id{1}, node_id{2}, node_id{3}});
  // Nothing new applied: a second call saves nothing.
  CHECK(*c[1].take_snapshot() == applied);
  CHECK(c.disk_of(1).snapshots.saves() == 1);
  CHECK(c[1].stats().snapshots_taken == 1);
}

TEST_CASE("snapshot: a follower behind the log's start gets the image in chunks with a bounded window and catches up") {
  cluster c{3, snapshot_options(48, 2, 0)};
  c.start();
  c.elect(1);
  c.isolate(3);
  propose_n(c, 1, 40, "value-");
  run(c, 2);
  REQUIRE(c[1].take_snapshot().has_value());
  REQUIRE(c[1].first_index() > c[3].last_index().next());
  propose_n(c, 1, 3, "after-");
  c.heal();
  std::size_t most_in_flight = 0;
  for (int r = 0; r < 200 && c[3].applied_index() < c[1].applied_index(); ++r) {
    c.tick(1);
    // One message at a time, watching the chunks in flight to node 3.
    while (!c.net.queue.empty()) {
      most_in_flight = std::max(most_in_flight, queued_to(c.net, message_type::install_snapshot, 3));
      c.deliver({}, 1);
    }
  }
  CHECK(most_in_flight == 2);
  CHECK(c[3].stats().snapshots_installed == 1);
  CHECK(c[3].state_machine().restored_at == c[1].snapshot_index().value());
  CHECK(c[3].state_machine().applied == c[1].state_machine().applied);
  CHECK(c[3].snapshot_index() == c[1].snapshot_index());
  CHECK(c[1].stats().snapshot_chunks_sent >= c.disk_of(1).snapshots.image().size() / 48);
  CHECK(c.net.violations.empty());
}

TEST_CASE("snapshot: chunks lost in flight are sent again from where the follower is") {
  cluster c{3, snapshot_options(32, 3, 0)};
  c.start();
  c.elect(1);
  c.isolate(3);
  propose_n(c, 1, 30, "x");
  run(c, 2);
  REQUIRE(c[1].take_snapshot().has_value());
  c.heal();
  // Lose every third chunk the first time it is sent, and one response.
  std::set<std::uint64_t> lost_once;
  std::size_t chunks_seen = 0, responses_seen = 0;
  auto lossy = [&](const envelope& e) {
    if (e.type == message_type::install_snapshot_response && ++responses_seen == 2) return false;
    if (e.type != message_type::install_snapshot) return true;
    std::vector<entry_view> scratch;
    const auto m = decode(byte_view{e.bytes}, scratch);
    if (++chunks_seen % 3 == 0 && lost_once.insert(m->offset).second) return false;
    return true;
  };
  run(c, 100, lossy);
  CHECK(!lost_once.empty());
  CHECK(c[3].stats().snapshots_installed == 1);
  CHECK(c[3].state_machine().applied == c[1].state_machine().applied);
}

TEST_CASE("snapshot: an image damaged in transfer is refused whole and sent again") {
  cluster c{3, snapshot_options(4096, 2, 0)};
  c.start();
  c.elect(1);
  c.isolate(3);
  propose_n(c, 1, 10, "y");
  run(c, 2);
  REQUIRE(c[1].take_snapshot().has_value());
  c.heal();
  bool damaged = false;
  for (int r = 0; r < 50; ++r) {
    for (std::uint64_t id = 1; id <= 3; ++id) c.tick(id);
    while (!c.net.queue.empty()) {
      envelope& e = c.net.queue.front();
      if (!damaged && e.type == message_type::install_snapshot) {
        e.bytes[e.bytes.size() - 7] ^= std::byte{0x01};  // inside the image: still a valid message
        damaged = true;
      }
      c.deliver({}, 1);
    }
  }
  CHECK(damaged);
  CHECK(c[3].stats().dropped_malformed >= 1);
  CHECK(c[3].stats().snapshots_installed == 1);
  CHECK(c[3].state_machine().applied == c[1].state_machine().applied);
}

TEST_CASE("snapshot: an image over max_snapshot_bytes is refused by the follower") {
  options small = snapshot_options(64, 2, 0);
  cluster c{3, small};
  c.start();
  c.elect(1);
  c.isolate(3);
  propose_n(c, 1, 20, "zzzzzzzz");
  run(c, 2);
  REQUIRE(c[1].take_snapshot().has_value());
  c.heal();
  // Node 3 alone gets a small limit: restart it with it.
  options tiny = small;
  tiny.max_snapshot_bytes = 100;
  c.disk_of(3).live = c.disk_of(3).durable;
  test_node three{node_id{3}, c.ids(), test_transport{&c.net}, test_log{&c.disk_of(3), &c.net, node_id{3}},
                  manual_clock{}, recorder{}, test_snapshot_store{&c.disk_of(3)}, tiny};
  REQUIRE(c.disk_of(1).snapshots.image().size() > 100);
  for (int r = 0; r < 20; ++r) {
    c.tick(1);
    while (!c.net.queue.empty()) {
      envelope e = std::move(c.net.queue.front());
      c.net.queue.pop_front();
      if (e.to.value() == 3) three.receive(byte_view{e.bytes});
      else if (e.to.value() <= 2) c[e.to.value()].receive(byte_view{e.bytes});
    }
  }
  CHECK(three.stats().snapshots_refused > 0);
  CHECK(three.stats().snapshots_installed == 0);
  CHECK(three.status().has_value());
}

TEST_CASE("snapshot: a restart restores the state machine from the snapshot and replays the log after it") {
  cluster c{3, snapshot_options(64, 2, 2)};
  c.start();
  c.elect(1);
  propose_n(c, 1, 12, "a");
  run(c, 2);
  for (std::uint64_t id = 1; id <= 3; ++id) REQUIRE(c[id].take_snapshot().has_value());
  propose_n(c, 1, 5, "b");
  run(c, 2);
  const auto before = c[2].state_machine().applied;
  const log_index snap = c[2].snapshot_index();
  c.restart(2);
  CHECK(c[2].status().has_value());
  CHECK(c[2].state_machine().restored_at == snap.value());
  CHECK(c[2].applied_index() == snap);
  CHECK(c[2].membership().voters.size() == 3);
  run(c, 3);  // learns the commit index again and replays the entries after the snapshot
  CHECK(c[2].state_machine().applied == before);
  CHECK(c[2].applied_index() == c[1].applied_index());
}

TEST_CASE("snapshot: restart with a snapshot newer than the log starts after the snapshot") {
  cluster c{3, snapshot_options(4096, 2, 0)};
  c.start();
  c.elect(1);
  c.isolate(3);
  propose_n(c, 1, 15, "n");
  run(c, 2);
  REQUIRE(c[1].take_snapshot().has_value());
  c.heal();
  // Node 3 installs the image; then a crash leaves its old, short log on
  // disk (the compaction was not synced yet) beside the saved image.
  const storage::memory_log old_log = c.disk_of(3).durable;
  for (int r = 0; r < 20 && c[3].stats().snapshots_installed == 0; ++r) {
    c.tick(1);
    c.deliver();
  }
  REQUIRE(c[3].stats().snapshots_installed == 1);
  REQUIRE(old_log.last_index() < c[1].snapshot_index());
  c.disk_of(3).durable = old_log;
  c.restart(3);
  CHECK(c[3].status().has_value());
  CHECK(c[3].snapshot_index() == c[1].snapshot_index());
  CHECK(c[3].first_index() == c[1].snapshot_index().next());
  run(c, 5);
  CHECK(c[3].state_machine().applied == c[1].state_machine().applied);
}

TEST_CASE("snapshot: a log that starts after the snapshot ends is refused on restart and nothing is touched") {
  cluster c{3, snapshot_options(4096, 2, 0)};
  c.start();
  c.elect(1);
  propose_n(c, 1, 10, "g");
  run(c, 2);
  REQUIRE(c[2].take_snapshot().has_value());
  const log_index snap = c[2].snapshot_index();
  propose_n(c, 1, 10, "h");
  run(c, 2);
  // Damage: the log lost entries between the snapshot and its new start.
  c.disk_of(2).durable.compact(snap + 4).value();
  const auto durable_before = c.disk_of(2).durable.first_index();
  c.restart(2);
  REQUIRE_FALSE(c[2].status().has_value());
  CHECK(c[2].status().error().code == errc::corrupt_log);
  CHECK(c.disk_of(2).live.first_index() == durable_before);
  CHECK(c.disk_of(2).snapshots.saves() == 1);
}

TEST_CASE("snapshot: a damaged stored image is refused on restart") {
  cluster c{3, snapshot_options()};
  c.start();
  c.elect(1);
  propose_n(c, 1, 5, "d");
  run(c, 2);
  REQUIRE(c[2].take_snapshot().has_value());
  byte_buffer bad{c.disk_of(2).snapshots.image().begin(), c.disk_of(2).snapshots.image().end()};
  bad[bad.size() / 2] ^= std::byte{0x40};
  REQUIRE(c.disk_of(2).snapshots.save(bad).has_value());
  c.restart(2);
  REQUIRE_FALSE(c[2].status().has_value());
  CHECK(c[2].status().error().code == errc::corrupt_log);
}
