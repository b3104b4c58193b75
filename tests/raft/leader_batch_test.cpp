// A leader's proposals inside batch(): they reach its Log as one run just
// before the batch's sync (raft_log::append_deferred), wait in the entry cache
// until then, and a Log that refuses the run fails the node without
// acknowledging or committing anything of it.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "copying_log.hpp"

namespace {

using namespace raft_test;

std::string text(byte_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
std::string command(int k) { return "cmd " + std::to_string(k) + std::string(static_cast<std::size_t>(k % 13), 'y'); }

}  // namespace

TEST_CASE("leader batch: the proposals reach the leader's Log as one run before the sync, in order") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.deliver();
  const log_index before = c[1].last_index();
  const auto runs = c.disk_of(1).runs;
  const auto syncs = c.disk_of(1).syncs;
  {
    auto batch = c[1].batch();
    for (int k = 0; k < 20; ++k) {
      auto p = c[1].propose(as_bytes(command(k)));
      REQUIRE(p);
      CHECK(p->index == before + static_cast<std::uint64_t>(k + 1));
    }
    CHECK(c[1].last_index() == before + 20);  // the node sees them at once
    CHECK(c[1].term_at(before + 20) == c[1].term());
    CHECK(c.disk_of(1).live.last_index() == before);  // the Log not yet
    CHECK(c.disk_of(1).runs == runs);
  }
  CHECK(c.disk_of(1).runs == runs + 1);
  CHECK(c.disk_of(1).syncs == syncs + 1);
  CHECK(c.disk_of(1).durable.last_index() == before + 20);
  for (int k = 0; k < 20; ++k) {  // the records are the entries, in order
    auto rec = c.disk_of(1).durable.read(before + static_cast<std::uint64_t>(k + 1));
    REQUIRE(rec);
    auto e = decode_entry_record(*rec);
    REQUIRE(e);
    CHECK(e->term == c[1].term());
    CHECK(text(e->data) == command(k));
  }
  c.deliver();
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CHECK(c[id].applied_index() == before + 20);
    const auto& applied = c[id].state_machine().applied;
    REQUIRE(applied.size() >= 20);
    for (int k = 0; k < 20; ++k) CHECK(applied[applied.size() - 20 + static_cast<std::size_t>(k)].second == command(k));
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("leader batch: without an entry cache the proposals go to the Log one by one, at once") {
  options o = test_options();
  o.entry_cache_bytes = 0;
  cluster c{3, o};
  c.start();
  c.elect(1);
  c.deliver();
  const log_index before = c[1].last_index();
  const auto runs = c.disk_of(1).runs;
  {
    auto batch = c[1].batch();
    for (int k = 0; k < 5; ++k) REQUIRE(c[1].propose(as_bytes(command(k))));
    CHECK(c.disk_of(1).live.last_index() == before + 5);
  }
  CHECK(c.disk_of(1).runs == runs);
  c.deliver();
  CHECK(c[3].applied_index() == before + 5);
  CHECK(c.net.violations.empty());
}

TEST_CASE("leader batch: a run the Log refuses fails the leader, nothing of it is acknowledged or committed") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.deliver();
  const log_index before = c[1].last_index();
  const log_index commit = c[1].commit_index();
  c.disk_of(1).fail_runs = true;
  {
    auto batch = c[1].batch();
    for (int k = 0; k < 4; ++k) REQUIRE(c[1].propose(as_bytes(command(k))));
  }
  REQUIRE_FALSE(c[1].status());
  CHECK(c[1].status().error().code == errc::io_error);
  CHECK(c[1].last_index() == before);  // forgotten with the run: the log ends where the Log does
  CHECK(c[1].commit_index() == commit);
  CHECK(c.disk_of(1).live.last_index() == before);
  auto again = c[1].propose(as_bytes("after"));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::io_error);
  c.deliver();
  CHECK(c[1].commit_index() == commit);
  CHECK(c.net.violations.empty());
}

// The two below over a Log that takes runs without promising that its records
// stay in place (memory_log promises it, and is then written at once).
TEST_CASE("raft_log: deferred entries stay cached until written, and any other Log call writes them first") {
  raft_log<copying_log> rl{copying_log{}};
  REQUIRE(rl.recover());
  const std::string a = command(1), b = command(2), d = command(3);
  REQUIRE(*rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes(a)}) == log_index{1});
  REQUIRE(*rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes(b)}) == log_index{2});
  CHECK(rl.deferred() == 2);
  CHECK(rl.last_index() == log_index{2});
  CHECK(rl.policy().last_index() == log_index{0});
  rl.release(log_index{2});  // applied everywhere, say: still not in the Log, so kept
  CHECK(rl.cache().holds(log_index{1}));
  CHECK(text(rl.entry(log_index{2})->data) == b);
  // A plain append (here: a proposal outside a batch) lands after them.
  REQUIRE(*rl.append(entry_view{term_id{2}, entry_kind::normal, as_bytes(d)}) == log_index{3});
  CHECK(rl.deferred() == 0);
  REQUIRE(rl.policy().last_index() == log_index{3});
  const std::string want[] = {a, b, d};
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto e = decode_entry_record(*rl.policy().read(log_index{i}));
    REQUIRE(e);
    CHECK(e->term == term_id{i == 3 ? 2u : 1u});
    CHECK(text(e->data) == want[i - 1]);
  }
  REQUIRE(rl.append_deferred(entry_view{term_id{2}, entry_kind::normal, as_bytes(a)}));
  REQUIRE(rl.sync());
  CHECK(rl.synced_index() == log_index{4});
  CHECK(rl.policy().last_index() == log_index{4});
  rl.release(log_index{4});
  CHECK_FALSE(rl.cache().holds(log_index{4}));
}

TEST_CASE("raft_log: a deferred run the Log refuses is forgotten everywhere and the error comes back") {
  storage::memory_log_options small;
  small.max_record_bytes = 16;
  raft_log<copying_log> rl{copying_log{storage::memory_log{small}}};
  REQUIRE(rl.recover());
  REQUIRE(rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes("short")}));
  REQUIRE(rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes(std::string(40, 'z'))}));
  auto r = rl.sync();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::too_large);
  CHECK(rl.last_index() == log_index{0});
  CHECK(rl.deferred() == 0);
  CHECK_FALSE(rl.cache().holds(log_index{1}));
  CHECK(rl.policy().last_index() == log_index{0});
  // The log goes on from where the Log is.
  REQUIRE(*rl.append(entry_view{term_id{1}, entry_kind::normal, as_bytes("next")}) == log_index{1});
  REQUIRE(rl.sync());
}
