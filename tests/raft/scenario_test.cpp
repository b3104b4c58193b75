// Raft scenarios beyond the paper's figures: liveness under a partial
// partition (PreVote with CheckQuorum), restart from a file_log whose tail was
// torn, the no-op that never reaches the application, and the heartbeat's
// commit bound that keeps a follower from committing entries it does not share.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "cluster.hpp"
#include "quorum/storage/file_log.hpp"
#include "quorum/storage/file_snapshot_store.hpp"
#include "storage/storage_test_util.hpp"

using namespace raft_test;

namespace {

std::vector<std::string> applied_values(const recorder& r) {
  std::vector<std::string> out;
  for (const auto& [i, v] : r.applied) out.push_back(v);
  return out;
}

// One round of logical time: every node ticks once, then the network drains.
void round(cluster& c) {
  for (std::uint64_t id = 1; id <= c.size(); ++id) c.tick(id);
  c.deliver();
}

// Cuts every link of `id` except those to `keep`, in both directions.
void reach_only(cluster& c, std::uint64_t id, std::uint64_t keep) {
  for (std::uint64_t other = 1; other <= c.size(); ++other) {
    if (other == id || other == keep) continue;
    c.cut.insert({id, other});
    c.cut.insert({other, id});
  }
}

}  // namespace

TEST_CASE("partial partition liveness: PreVote and CheckQuorum keep one leader and its term over 50 timeouts") {
  // Node 4 reaches only node 2 and node 5 only node 3; 1, 2 and 3 see each other.
  cluster c{5, test_options(true, true), 7};
  c.start();
  reach_only(c, 4, 2);
  reach_only(c, 5, 3);
  const int timeout = static_cast<int>(test_options().election_ticks);
  for (int r = 0; r < 20 * timeout && c.leader() == 0; ++r) round(c);
  const std::uint64_t leader = c.leader();
  REQUIRE(leader >= 1);
  REQUIRE(leader <= 3);
  const term_id term = c[leader].term();
  // Nodes 4 and 5 may learn the term once (a refusal carries it); then nothing moves.
  for (int r = 0; r < 2 * timeout; ++r) round(c);
  REQUIRE(c.leader() == leader);
  std::vector<term_id> terms;
  for (std::uint64_t id = 1; id <= 5; ++id) terms.push_back(c[id].term());

  std::vector<std::string> proposed;
  for (int r = 0; r < 50 * timeout; ++r) {
    if (r % 5 == 0) {
      proposed.push_back("p" + std::to_string(r));
      REQUIRE(c[leader].propose(as_bytes(proposed.back())));
    }
    round(c);
    REQUIRE(c.leader() == leader);
    for (std::uint64_t id = 1; id <= 5; ++id) REQUIRE(c[id].term() == terms[id - 1]);
  }
  CHECK(c[leader].term() == term);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CHECK(c[id].commit_index() == c[leader].last_index());
    CHECK(applied_values(c[id].state_machine()) == proposed);
  }
  // The partition did push: a node cut off from the leader kept polling, and
  // a follower in touch with the leader turned its requests away.
  const std::uint64_t polls = std::max(c[4].stats().pre_votes_started, c[5].stats().pre_votes_started);
  CHECK(polls >= 20);
  CHECK(c[2].stats().dropped_in_lease + c[3].stats().dropped_in_lease > 0);
  CHECK(c.net.violations.empty());
}

namespace {

// A node whose Log is a quorum::storage::file_log, sending into the harness's
// network. Its transport checks the durability rule against the file itself:
// a promise leaves only when everything written is durable.
struct file_transport {
  network* net;
  const storage::file_log* log = nullptr;  // set once the node owns its log
  std::vector<std::string>* violations;
  void send(node_id to, const message& m) {
    const bool promise = (m.type == message_type::append_entries_response && !m.reject) ||
                         m.type == message_type::request_vote ||
                         (m.type == message_type::request_vote_response && !m.reject);
    if (promise && log != nullptr && log->position() != log->durable_position())
      violations->push_back("file node sent " + std::string{to_string(m.type)} + " before its sync");
    envelope e{m.from, to, m.type, {}};
    encode(m, e.bytes);
    net->queue.push_back(std::move(e));
  }
};

struct file_policies {
  using transport = file_transport;
  using log = storage::file_log;
  using clock = manual_clock;
  using state_machine = recorder;
  using snapshot_store = storage::file_snapshot_store;
};
using file_node = quorum::raft::node<file_policies>;

// Nodes 1 and 2 on the harness's in-memory disks; node 3 on a file_log and a
// file_snapshot_store, both in `dir`.
class mixed_group {
 public:
  explicit mixed_group(std::string dir) : dir_{std::move(dir)} {
    for (std::uint64_t i = 1; i <= 3; ++i) ids_.push_back(node_id{i});
    for (std::size_t i = 0; i < 2; ++i) {
      net.disks[i + 1] = &disks_[i];
      mem_[i].emplace(ids_[i], ids_, test_transport{&net}, test_log{&disks_[i], &net, ids_[i]}, manual_clock{},
                      recorder{}, test_snapshot_store{&disks_[i]}, test_options());
    }
    boot_file();
  }

  test_node& mem(std::uint64_t id) { return *mem_.at(id - 1); }
  file_node& file() { return *file_; }

  // Stops node 3 (its buffered frames reach the file, as at a process exit).
  void stop_file() { file_.reset(); }
  void boot_file() {
    auto log = storage::file_log::open(dir_);
    REQUIRE_MESSAGE(log.has_value(), (log ? std::string{} : log.error().message));
    auto snapshots = storage::file_snapshot_store::open(dir_);
    REQUIRE_MESSAGE(snapshots.has_value(), (snapshots ? std::string{} : snapshots.error().message));
    file_.emplace(ids_[2], ids_, file_transport{&net, nullptr, &violations}, std::move(*log), manual_clock{},
                  recorder{}, std::move(*snapshots), test_options());
    file_->transport().log = &file_->log();
  }

  std::size_t deliver(const std::function<bool(const envelope&)>& keep = {}) {
    std::size_t n = 0;
    while (!net.queue.empty()) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      ++n;
      if (keep && !keep(e)) continue;
      if (e.to.value() == 3) {
        if (file_) file_->receive(byte_view{e.bytes});
      } else {
        mem(e.to.value()).receive(byte_view{e.bytes});
      }
    }
    return n;
  }

  // Ticks node 1 until it leads (delivering after each tick).
  void elect_1() {
    for (int k = 0; k < 500 && mem(1).role() != raft::role::leader; ++k) {
      mem(1).tick();
      deliver();
    }
    REQUIRE(mem(1).role() == raft::role::leader);
  }

  network net;
  std::vector<std::string> violations;  // node 3's, from file_transport

 private:
  std::string dir_;
  std::vector<node_id> ids_;
  std::array<disk, 2> disks_;
  std::array<std::optional<test_node>, 2> mem_;
  std::optional<file_node> file_;
};

std::string last_segment(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator{dir})
    if (e.path().extension() == ".qseg") names.push_back(e.path().string());
  REQUIRE_FALSE(names.empty());
  std::sort(names.begin(), names.end());
  return names.back();
}

std::vector<std::uint64_t> file_log_terms(file_node& n) {
  std::vector<std::uint64_t> out;
  for (log_index i{1}; i <= n.last_index(); i = i.next()) out.push_back(n.term_at(i)->value());
  return out;
}

}  // namespace

TEST_CASE("torn log tail on restart: a file-backed node recovers its synced prefix and rejoins") {
  storage::test::scratch_dir dir{"quorum-raft-torn"};
  mixed_group g{dir.path()};
  g.elect_1();
  std::vector<std::string> acked;
  for (int k = 0; k < 5; ++k) {
    acked.push_back("v" + std::to_string(k));
    REQUIRE(g.mem(1).propose(as_bytes(acked.back())));
  }
  g.deliver();
  REQUIRE(g.mem(1).commit_index() == log_index{6});
  REQUIRE(g.file().commit_index() == log_index{6});
  const term_id term = g.file().term();
  const node_id vote = g.file().vote();
  const auto terms = file_log_terms(g.file());
  REQUIRE(terms.size() == 6);
  g.stop_file();

  const std::string segment = last_segment(dir.path());
  // A running file_log keeps zeros past its frames (preallocate_bytes); an
  // open recovers the log and cuts them, so the segment ends at its last
  // synced record, where the tears below go.
  REQUIRE(storage::file_log::open(dir.path()).has_value());
  const auto synced_size = std::filesystem::file_size(segment);
  SUBCASE("garbage bytes past the last synced record") {
    const byte_buffer junk = storage::test::make_record(42, 100);
    const int fd = ::open(segment.c_str(), O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, junk.data(), junk.size()) == static_cast<ssize_t>(junk.size()));
    ::close(fd);
  }
  SUBCASE("a record written after the last sync, cut in the middle") {
    {
      auto log = storage::file_log::open(dir.path());
      REQUIRE(log.has_value());
      byte_buffer rec;
      encode_entry_record(entry_view{term, entry_kind::normal, as_bytes("never synced")}, rec);
      REQUIRE(log->append(rec));
      REQUIRE(log->flush());  // in the file, never synced
    }
    REQUIRE(std::filesystem::file_size(segment) > synced_size + 16);
    std::filesystem::resize_file(segment, synced_size + 16);
  }
  REQUIRE(std::filesystem::file_size(segment) > synced_size);

  g.boot_file();
  REQUIRE(g.file().status());
  CHECK(std::filesystem::file_size(segment) == synced_size);  // the torn tail went, nothing before it
  CHECK(g.file().term() == term);
  CHECK(g.file().vote() == vote);
  CHECK(file_log_terms(g.file()) == terms);
  CHECK(g.file().commit_index() == log_index{0});  // learnt again from the leader

  // It rejoins: the leader's next heartbeat brings its commit index back, and
  // new proposals commit on all three.
  g.mem(1).tick();
  g.deliver();
  CHECK(applied_values(g.file().state_machine()) == acked);
  for (int k = 5; k < 8; ++k) {
    acked.push_back("v" + std::to_string(k));
    REQUIRE(g.mem(1).propose(as_bytes(acked.back())));
  }
  g.deliver();
  CHECK(g.mem(1).commit_index() == log_index{9});
  CHECK(g.file().commit_index() == log_index{9});
  CHECK(applied_values(g.file().state_machine()) == acked);
  CHECK(applied_values(g.mem(2).state_machine()) == acked);
  CHECK(file_log_terms(g.file()) == std::vector<std::uint64_t>(9, term.value()));
  CHECK(g.violations.empty());
  CHECK(g.net.violations.empty());

  // Once more from the file, with nothing torn: everything is still there.
  g.stop_file();
  g.boot_file();
  CHECK(file_log_terms(g.file()) == std::vector<std::uint64_t>(9, term.value()));
}

TEST_CASE("a leader's no-op is never handed to the state machine, across three leaders") {
  cluster c{3, test_options(false, false)};
  c.start();
  std::vector<std::string> proposed;
  std::vector<std::uint64_t> noops;  // where each new leader opened its term
  std::uint64_t previous = 0;
  for (std::uint64_t leader : {1, 2, 3}) {
    if (previous != 0) c.isolate(previous);  // the next leader takes over without it
    c.elect(leader);
    REQUIRE(c[leader].role() == raft::role::leader);
    noops.push_back(c[leader].last_index().value());
    c.heal();
    c.tick(leader);  // a heartbeat reaches the old leader, which then catches up
    c.deliver();
    for (int k = 0; k < 3; ++k) {
      proposed.push_back("n" + std::to_string(leader) + "-" + std::to_string(k));
      REQUIRE(c[leader].propose(as_bytes(proposed.back())));
    }
    c.deliver();
    previous = leader;
  }
  REQUIRE(noops == std::vector<std::uint64_t>{1, 5, 9});
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CHECK(c[id].commit_index() == log_index{12});
    CHECK(c[id].applied_index() == log_index{12});
    CHECK(applied_values(c[id].state_machine()) == proposed);
    for (std::uint64_t i = 1; i <= 12; ++i) {
      auto rec = c.disk_of(id).live.read(log_index{i});
      REQUIRE(rec.has_value());
      const bool is_noop = std::find(noops.begin(), noops.end(), i) != noops.end();
      CHECK(decode_entry_record(*rec)->kind == (is_noop ? entry_kind::noop : entry_kind::normal));
      const auto& applied = c[id].state_machine().applied;
      const bool was_applied = std::any_of(applied.begin(), applied.end(), [&](const auto& a) { return a.first == i; });
      CHECK(was_applied == !is_noop);
    }
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("heartbeats carry min(match and commit): a follower never commits entries it does not share") {
  // Node 3 led term 2 alone: its three entries never reached anyone. Nodes 1 and 2 are at term 5.
  cluster c{3};
  preload(c.disk_of(1), {}, 5);
  preload(c.disk_of(2), {}, 5);
  preload(c.disk_of(3), {2, 2, 2}, 2);
  c.start();
  c.isolate(3);
  c.elect(1);
  REQUIRE(c[1].role() == raft::role::leader);
  for (const char* v : {"a", "b", "c"}) REQUIRE(c[1].propose(as_bytes(v)));
  c.deliver();
  REQUIRE(c[1].commit_index() == log_index{4});
  c.heal();

  // Node 3 hears only heartbeats: the leader knows no entry it shares with node 3.
  auto no_appends_to_3 = [](const envelope& e) {
    return !(e.to == node_id{3} && e.type == message_type::append_entries);
  };
  c.tick(1);
  std::vector<std::vector<entry_view>> st;
  const auto beats = queued(c.net, message_type::heartbeat, st);
  REQUIRE(beats.size() == 2);
  for (const message& m : beats) CHECK(m.commit == (m.to == node_id{3} ? log_index{0} : log_index{4}));
  for (int k = 0; k < 5; ++k) {
    c.deliver(no_appends_to_3);
    c.tick(1);
  }
  c.deliver(no_appends_to_3);
  CHECK(c[3].term() == c[1].term());
  CHECK(c[3].leader() == node_id{1});
  CHECK(c.log_terms(3) == std::vector<std::uint64_t>{2, 2, 2});  // still its own, unshared entries
  CHECK(c[3].commit_index() == log_index{0});                    // not min(4, its last index 3)
  CHECK(c[3].state_machine().applied.empty());

  // Once appends flow, its log is replaced and the commit index follows.
  c.deliver();
  c.tick(1);
  c.deliver();
  CHECK(c.log_terms(3) == c.log_terms(1));
  CHECK(c[3].commit_index() == log_index{4});
  CHECK(applied_values(c[3].state_machine()) == std::vector<std::string>{"a", "b", "c"});
  CHECK(c.net.violations.empty());
}
