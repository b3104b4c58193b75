// Raft log replication, pinned to the paper: §5.3 (log matching, conflict
// truncation, commit propagation), Figure 7's follower logs, §5.4.2 and its
// Figure 8, plus the engineering around it: batching, the in-flight window,
// group commit, the uncommitted-bytes limit and restart from the Log.
#include <doctest/doctest.h>

#include "cluster.hpp"

using namespace raft_test;

namespace {

// Decodes a queued envelope (its entries view `scratch` and the envelope).
message open_env(const envelope& e, std::vector<entry_view>& scratch) { return *decode(byte_view{e.bytes}, scratch); }

std::vector<std::string> applied_values(test_node& n) {
  std::vector<std::string> out;
  for (auto& [i, v] : n.state_machine().applied) out.push_back(v);
  return out;
}

// Ticks `id` (delivering through `keep` after each tick) until it leads.
void campaign(cluster& c, std::uint64_t id, const std::function<bool(const envelope&)>& keep = {}) {
  for (int k = 0; k < 500 && c[id].role() != raft::role::leader; ++k) {
    c.tick(id);
    c.deliver(keep);
  }
  REQUIRE(c[id].role() == raft::role::leader);
}

}  // namespace

TEST_CASE("§5.3: a leader replicates proposals and every node applies them once, in order") {
  cluster c{3};
  c.start();
  c.elect(1);
  std::vector<std::string> want;
  for (int k = 0; k < 10; ++k) {
    want.push_back("cmd" + std::to_string(k));
    auto p = c[1].propose(as_bytes(want.back()));
    REQUIRE(p.has_value());
    CHECK(p->term == c[1].term());
    CHECK(p->index == log_index{static_cast<std::uint64_t>(k) + 2});  // after the no-op
  }
  c.deliver();
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CHECK(c[id].commit_index() == log_index{11});
    CHECK(applied_values(c[id]) == want);
    CHECK(c.log_terms(id) == c.log_terms(1));
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("entry cache: with the cache off or tiny every entry comes from the Log and the result is the same") {
  for (std::size_t bytes : {std::size_t{0}, std::size_t{40}}) {
    CAPTURE(bytes);
    options o = test_options();
    o.entry_cache_bytes = bytes;
    cluster c{3, o};
    c.start();
    c.elect(1);
    std::vector<std::string> want;
    for (int k = 0; k < 30; ++k) {
      want.push_back("entry-" + std::to_string(k));
      REQUIRE(c[1].propose(as_bytes(want.back())).has_value());
      if (k % 7 == 0) c.deliver();
    }
    c.deliver();
    c.restart(3);  // a restarted follower reads its own log back
    for (int r = 0; r < 3; ++r) {
      c.tick(1);
      c.deliver();
    }
    for (std::uint64_t id = 1; id <= 3; ++id) {
      CHECK(applied_values(c[id]) == want);
      CHECK(c.log_terms(id) == c.log_terms(1));
    }
    CHECK(c.net.violations.empty());
  }
}

TEST_CASE("§5.3: a follower rejects an append whose previous entry it does not hold, with a hint") {
  cluster c{3, test_options(false, false)};
  preload(c.disk_of(2), {1, 1, 2}, 2);
  c.start();
  std::vector<std::vector<entry_view>> st;
  message m = msg(message_type::append_entries, 1, 2, 3);
  m.index = log_index{3};
  m.log_term = term_id{3};  // we hold term 2 there
  c[2].receive(m);
  m.index = log_index{7};  // beyond our log
  c[2].receive(m);
  auto out = queued(c.net, message_type::append_entries_response, st);
  REQUIRE(out.size() == 2);
  CHECK(out[0].reject);
  CHECK(out[0].index == log_index{3});
  CHECK(out[0].hint_index == log_index{3});  // our last entry whose term is <= 3
  CHECK(out[0].log_term == term_id{2});
  CHECK(out[1].reject);
  CHECK(out[1].hint_index == log_index{3});
  CHECK(c.log_terms(2) == std::vector<std::uint64_t>{1, 1, 2});
}

TEST_CASE("§5.3: a follower truncates a conflicting suffix, keeps what matches, and acknowledges after sync") {
  cluster c{3, test_options(false, false)};
  preload(c.disk_of(2), {1, 1, 2, 2}, 2);
  c.start();
  const std::string a = "a", b = "b";
  const entry_view entries[] = {{term_id{1}, entry_kind::normal, as_bytes(a)},
                                {term_id{3}, entry_kind::normal, as_bytes(b)}};
  message m = msg(message_type::append_entries, 1, 2, 3);
  m.index = log_index{1};
  m.log_term = term_id{1};
  m.entries = entries;
  m.commit = log_index{2};
  const auto syncs = c.disk_of(2).syncs;
  c[2].receive(m);
  CHECK(c.log_terms(2) == std::vector<std::uint64_t>{1, 1, 3});
  CHECK(c.disk_of(2).syncs == syncs + 1);
  CHECK(c[2].commit_index() == log_index{2});
  std::vector<std::vector<entry_view>> st;
  auto out = queued(c.net, message_type::append_entries_response, st);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0].reject);
  CHECK(out[0].index == log_index{3});
  CHECK(c.net.violations.empty());
  // The same append again (a duplicate) changes nothing and is acknowledged again.
  c.drop_all();
  c[2].receive(m);
  CHECK(c.log_terms(2) == std::vector<std::uint64_t>{1, 1, 3});
  CHECK(queued(c.net, message_type::append_entries_response, st).size() == 1);
}

TEST_CASE("§5.3: followers learn the commit index from later appends and from heartbeats") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c[1].propose(as_bytes("x")));
  // Deliver everything except the empty appends that announce a new commit index.
  std::vector<entry_view> scratch;
  c.deliver([&](const envelope& e) {
    return e.type != message_type::append_entries || !open_env(e, scratch).entries.empty();
  });
  CHECK(c[1].commit_index() == log_index{2});
  CHECK(c[2].commit_index() == log_index{1});
  CHECK(c[2].state_machine().applied.empty());
  c.tick(1);  // a heartbeat carries min(match, commit)
  c.deliver();
  CHECK(c[2].commit_index() == log_index{2});
  CHECK(c[3].commit_index() == log_index{2});
  CHECK(applied_values(c[2]) == std::vector<std::string>{"x"});
}

TEST_CASE("Figure 7: a new leader brings each of the follower logs (a)-(f) into line with its own") {
  const std::vector<std::uint64_t> leader_log{1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  const std::vector<std::vector<std::uint64_t>> followers{
      {1, 1, 1, 4, 4, 5, 5, 6, 6},           // (a) missing an entry
      {1, 1, 1, 4},                          // (b) missing many
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},     // (c) one extra, uncommitted, of the leader's term
      {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},  // (d) extra entries of a later term
      {1, 1, 1, 4, 4, 4, 4},                 // (e) missing and extra
      {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},     // (f) a leader of terms 2 and 3 that never committed
  };
  for (std::size_t k = 0; k < followers.size(); ++k) {
    CAPTURE(k);
    cluster c{3};
    preload(c.disk_of(1), leader_log, 7);
    preload(c.disk_of(2), followers[k], followers[k].back());
    preload(c.disk_of(3), leader_log, 7);  // votes for node 1 even where node 2 will not
    c.start();
    std::size_t rejections = 0;
    std::vector<entry_view> scratch;
    auto count = [&](const envelope& e) {
      if (e.type == message_type::append_entries_response && open_env(e, scratch).reject) ++rejections;
      return true;
    };
    campaign(c, 1, count);
    CHECK(c[1].term() == term_id{8});
    REQUIRE(c[1].propose(as_bytes("after")));
    c.deliver(count);
    c.tick(1);
    c.deliver(count);
    std::vector<std::uint64_t> want = leader_log;
    want.push_back(8);  // the no-op
    want.push_back(8);
    CHECK(c.log_terms(1) == want);
    CHECK(c.log_terms(2) == want);
    CHECK(c[2].commit_index() == log_index{12});
    CHECK(rejections <= 2);  // fast backtracking skips whole terms
    CHECK(c.net.violations.empty());
  }
}

TEST_CASE("§5.4.2 / Figure 8: an entry of an earlier term is never committed by counting replicas") {
  options o = test_options(false, false);
  o.max_entries_per_append = 1;
  cluster c{5, o};
  for (std::uint64_t id = 1; id <= 5; ++id) preload(c.disk_of(id), {1}, 1);
  c.start();
  std::vector<entry_view> scratch;
  // (a) S1 leads term 2; its entry at index 2 reaches only S2.
  campaign(c, 1, [&](const envelope& e) { return e.type != message_type::append_entries || e.to == node_id{2}; });
  const term_id t2 = c[1].term();
  REQUIRE(c[2].term_at(log_index{2}) == t2);
  // (b) S1 crashes; S5 leads term 3 with the votes of S3 and S4; its entry at index 2 reaches no one.
  c.isolate(1);
  campaign(c, 5, [&](const envelope& e) { return !(e.from == node_id{5} && e.type == message_type::append_entries); });
  const term_id t3 = c[5].term();
  REQUIRE(c[5].term_at(log_index{2}) == t3);
  // (c) S5 crashes; S1 restarts and leads again; index 2 (term 2) reaches S3 too: a majority holds it.
  c.heal();
  c.isolate(5);
  c.restart(1);
  auto only_old = [&](const envelope& e) {
    if (e.from != node_id{1} || e.type != message_type::append_entries || e.to == node_id{2}) return true;
    if (e.to != node_id{3}) return false;
    const message m = open_env(e, scratch);
    const auto held = c[3].term_at(m.index);
    if (!held || *held != m.log_term) return true;  // S3 rejects it: nothing lands there
    for (const entry_view& x : m.entries)
      if (x.term > t2) return false;  // the new leader's own entries never reach S3
    return true;
  };
  campaign(c, 1, only_old);
  for (int k = 0; k < 5; ++k) {
    c.tick(1);
    c.deliver(only_old);
  }
  REQUIRE(c[3].term_at(log_index{2}) == t2);
  REQUIRE(c[2].term_at(log_index{2}) == t2);
  REQUIRE(c[1].progress_of(node_id{2})->match >= log_index{2});
  REQUIRE(c[1].progress_of(node_id{3})->match == log_index{2});
  // Three of five hold index 2 and the leader knows it, yet it is not committed.
  CHECK(c[1].commit_index() < log_index{2});
  // (d) S1 crashes; S5 comes back, wins with S2-S4 (its last term is newer) and overwrites index 2.
  c.heal();
  c.isolate(1);
  c.restart(5);
  campaign(c, 5);
  c.tick(5);
  c.deliver();
  for (std::uint64_t id = 2; id <= 5; ++id) CHECK(c[id].term_at(log_index{2}) == t3);
  CHECK(c[5].commit_index() >= log_index{3});
  CHECK(c.net.violations.empty());
}

TEST_CASE("§5.4.2: the leader commits old entries once an entry of its own term is replicated") {
  cluster c{3};
  preload(c.disk_of(1), {1, 2}, 2);
  preload(c.disk_of(2), {1}, 2);
  preload(c.disk_of(3), {1}, 2);
  c.start();
  // Node 1 wins term 3; hand-delivered acknowledgements show the rule step by step.
  for (int k = 0; k < 100 && c[1].role() != raft::role::leader; ++k) {
    c.tick(1);
    c.deliver([](const envelope& e) { return e.type != message_type::append_entries; });
  }
  REQUIRE(c[1].role() == raft::role::leader);
  const term_id t = c[1].term();
  c.drop_all();
  message ack = msg(message_type::append_entries_response, 2, 1, t.value());
  ack.index = log_index{2};  // node 2 holds the term-2 entry
  c[1].receive(ack);
  CHECK(c[1].commit_index() == log_index{0});
  ack.index = log_index{3};  // and now the no-op of term 3
  c[1].receive(ack);
  CHECK(c[1].commit_index() == log_index{3});
}

TEST_CASE("batching: an append carries at most max_entries_per_append entries and about max_bytes_per_append bytes") {
  options o = test_options();
  o.max_entries_per_append = 4;
  o.max_bytes_per_append = 100;
  cluster c{3, o};
  c.start();
  c.elect(1);
  {
    auto batch = c[1].batch();
    for (int k = 0; k < 10; ++k) REQUIRE(c[1].propose(as_bytes(std::string(40, char('a' + k)))));
    REQUIRE(c[1].propose(as_bytes(std::string(300, 'z'))));  // larger than a whole batch: goes alone
  }
  std::size_t appends = 0;
  std::vector<entry_view> scratch;
  c.deliver([&](const envelope& e) {
    if (e.type != message_type::append_entries) return true;
    const message m = open_env(e, scratch);
    std::size_t bytes = 0;
    for (auto& x : m.entries) bytes += x.data.size();
    CHECK(m.entries.size() <= 4);
    CHECK((m.entries.size() <= 1 || bytes <= 100));
    if (!m.entries.empty()) ++appends;
    return true;
  });
  CHECK(appends >= 2 * 6);  // eleven entries in batches of at most two 40-byte commands
  CHECK(c[2].commit_index() == c[1].commit_index());
  CHECK(c[3].state_machine().applied.size() == 11);
}

TEST_CASE("in-flight window: a follower in replicate has at most max_inflight_appends unacknowledged appends") {
  options o = test_options();
  o.max_entries_per_append = 1;
  o.max_inflight_appends = 3;
  cluster c{3, o};
  c.start();
  c.elect(1);
  c.drop_all();
  REQUIRE(c[1].progress_of(node_id{2})->state == progress_state::replicate);
  {
    auto batch = c[1].batch();
    for (int k = 0; k < 10; ++k) REQUIRE(c[1].propose(as_bytes("p")));
  }
  std::size_t to_two = 0;
  for (auto& e : c.net.queue) to_two += e.type == message_type::append_entries && e.to == node_id{2};
  CHECK(to_two == 3);
  CHECK(c[1].progress_of(node_id{2})->paused());
  c.deliver();  // each acknowledgement opens the window again
  CHECK(c[2].last_index() == log_index{11});
  CHECK(c[2].commit_index() == log_index{11});
}

TEST_CASE("group commit: one sync covers a batch, and the leader counts itself only once synced") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.isolate(3);
  c.drop_all();
  const auto leader_syncs = c.disk_of(1).syncs;
  const auto follower_syncs = c.disk_of(2).syncs;
  {
    auto batch = c[1].batch();
    for (int k = 0; k < 20; ++k) REQUIRE(c[1].propose(as_bytes("g")));
    CHECK(c.net.queue.empty());  // nothing leaves before the batch ends
    // A heartbeat answer lets the entries out to node 2 while the leader has not synced them.
    c[1].receive(msg(message_type::heartbeat_response, 2, 1, c[1].term().value()));
    c.deliver();
    CHECK(c[2].last_index() == log_index{21});
    CHECK(c[1].commit_index() == log_index{1});  // node 2 alone is not a quorum without the leader's sync
    CHECK(c.disk_of(1).syncs == leader_syncs);
  }
  CHECK(c.disk_of(1).syncs == leader_syncs + 1);
  CHECK(c[1].commit_index() == log_index{21});
  CHECK(c.disk_of(2).syncs == follower_syncs + 1);  // one sync for twenty entries
  CHECK(c.net.violations.empty());
}

TEST_CASE("uncommitted limit: proposals past max_uncommitted_bytes are refused with busy, not queued") {
  options o = test_options();
  o.max_uncommitted_bytes = 100;
  o.max_entry_bytes = 64;
  cluster c{3, o};
  c.start();
  c.elect(1);
  c.isolate(1);
  const std::string forty(40, 'u');
  CHECK(c[1].propose(as_bytes(forty)).has_value());
  CHECK(c[1].propose(as_bytes(forty)).has_value());
  auto refused = c[1].propose(as_bytes(forty));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == errc::busy);
  CHECK(c[1].stats().proposals_refused_busy == 1);
  CHECK(c[1].last_index() == log_index{3});  // the refused command was not appended
  CHECK(c[1].propose(as_bytes(std::string(65, 'u'))).error().code == errc::too_large);
  c.heal();
  c.tick(1);
  c.deliver();
  CHECK(c[1].commit_index() == log_index{3});
  CHECK(c[1].uncommitted_bytes() == 0);
  CHECK(c[1].propose(as_bytes(forty)).has_value());
}

TEST_CASE("propose: a follower refuses with not_leader and names the leader it knows") {
  cluster c{3};
  c.start();
  auto none = c[2].propose(as_bytes("x"));
  CHECK(none.error().code == errc::not_leader);
  CHECK(none.error().detail == 0);
  c.elect(1);
  auto hinted = c[2].propose(as_bytes("x"));
  CHECK(hinted.error().code == errc::not_leader);
  CHECK(hinted.error().detail == 1);
}

TEST_CASE("proposal lost to a leader change: its index ends up holding another term, never applied") {
  cluster c{3, test_options(true, false)};
  c.start();
  c.elect(1);
  c.isolate(1);
  auto lost = c[1].propose(as_bytes("lost"));
  REQUIRE(lost.has_value());
  c.drop_all();
  campaign(c, 2);
  auto kept = c[2].propose(as_bytes("kept"));
  REQUIRE(kept.has_value());
  c.deliver();
  c.heal();
  c.tick(2);
  c.deliver();
  CHECK(c[1].role() == raft::role::follower);
  CHECK(c[1].term_at(lost->index) != lost->term);  // what a client checks to learn the outcome
  for (std::uint64_t id = 1; id <= 3; ++id) {
    auto values = applied_values(c[id]);
    CHECK(std::find(values.begin(), values.end(), "lost") == values.end());
    CHECK(std::find(values.begin(), values.end(), "kept") != values.end());
  }
}

TEST_CASE("restart: term, vote and log come back from the Log, and committed entries are applied again") {
  cluster c{3};
  c.start();
  c.elect(1);
  for (int k = 0; k < 5; ++k) REQUIRE(c[1].propose(as_bytes("r" + std::to_string(k))));
  c.deliver();
  const term_id term = c[2].term();
  const auto terms = c.log_terms(2);
  c.restart(2);
  CHECK(c[2].term() == term);
  CHECK(c[2].vote() == node_id{1});
  CHECK(c.log_terms(2) == terms);
  CHECK(c[2].commit_index() == log_index{0});  // commit is learnt again from the leader
  c.tick(1);
  c.deliver();
  CHECK(applied_values(c[2]) == std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"});

  // A hard state that does not decode is an error, not a guess.
  disk& d = c.disk_of(3);
  const std::byte junk[] = {std::byte{9}};
  REQUIRE(d.durable.save_state(byte_view{junk}));
  c.restart(3);
  CHECK(c[3].status().error().code == errc::corrupt_log);
}

TEST_CASE("commit index: an empty append carrying it to a caught-up follower asks for no answer: 6 messages per entry") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  c.deliver();
  for (int k = 0; k < 3; ++k) {
    const std::string value = "x" + std::to_string(k);
    auto p = c[1].propose(as_bytes(value));
    REQUIRE(p.has_value());
    std::size_t with_entries = 0, acks = 0, quiet = 0, other = 0;
    std::vector<entry_view> scratch;
    c.deliver([&](const envelope& e) {
      const message m = open_env(e, scratch);
      if (m.type == message_type::append_entries && !m.entries.empty() && !m.no_answer) ++with_entries;
      else if (m.type == message_type::append_entries && m.entries.empty() && m.no_answer) ++quiet;
      else if (m.type == message_type::append_entries_response && !m.reject) ++acks;
      else ++other;
      return true;
    });
    CHECK(with_entries == 2);
    CHECK(acks == 2);
    CHECK(quiet == 2);  // carrying the new commit index, unanswered
    CHECK(other == 0);
    for (std::uint64_t id = 1; id <= 3; ++id) {
      CHECK(c[id].commit_index() == p->index);
      CHECK(applied_values(c[id]).back() == value);
    }
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("commit index: a lost acknowledgement is recovered after a heartbeat by an empty append that is answered") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.deliver();
  auto p = c[1].propose(as_bytes("x"));
  REQUIRE(p.has_value());
  // Node 3's acknowledgement is lost: the leader commits with node 2's, and
  // its empty append announcing the commit asks node 3 for no answer (node 3
  // owed one for the entry), so the leader still counts node 3 behind.
  bool ack3_lost = false;
  std::vector<message> to3;
  std::vector<std::vector<entry_view>> st;
  const auto keep = [&](const envelope& e) {
    if (e.from == node_id{3} && e.type == message_type::append_entries_response && !ack3_lost) {
      ack3_lost = true;
      return false;
    }
    if (e.to == node_id{3} && e.type == message_type::append_entries) {
      st.emplace_back();
      to3.push_back(*decode(byte_view{e.bytes}, st.back()));
    }
    return true;
  };
  c.deliver(keep);
  REQUIRE(ack3_lost);
  REQUIRE(to3.size() == 2);
  CHECK(to3[1].entries.empty());
  CHECK(to3[1].commit == p->index);
  CHECK(to3[1].no_answer);
  CHECK(c[3].commit_index() == p->index);
  const raft::progress* pr = c[1].progress_of(node_id{3});
  REQUIRE(pr != nullptr);
  CHECK(pr->match < p->index);
  // The next heartbeat's answer shows match < last: the empty append sent
  // then asks whether node 3 has a gap, and its answer restores the match.
  for (int k = 0; k < 10 && pr->match < p->index; ++k) {
    c.tick(1);
    c.deliver(keep);
    pr = c[1].progress_of(node_id{3});
    REQUIRE(pr != nullptr);
  }
  CHECK(pr->match == p->index);
  REQUIRE(to3.size() == 3);
  CHECK(to3[2].entries.empty());
  CHECK_FALSE(to3[2].no_answer);
}

TEST_CASE("commit index: a follower that cannot accept an append marked no_answer still answers it") {
  cluster c{3, test_options(false, false)};
  preload(c.disk_of(2), {1, 1, 2}, 2);
  c.start();
  std::vector<std::vector<entry_view>> st;
  message m = msg(message_type::append_entries, 1, 2, 3);
  m.index = log_index{3};
  m.log_term = term_id{3};  // we hold term 2 there
  m.commit = log_index{3};
  m.no_answer = true;
  c[2].receive(m);
  auto out = queued(c.net, message_type::append_entries_response, st);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reject);
  CHECK(out[0].hint_index == log_index{3});
  CHECK(c[2].commit_index() == log_index{});
  // Where it matches, it takes the commit index and says nothing.
  c.drop_all();
  m.index = log_index{2};
  m.log_term = term_id{1};
  m.commit = log_index{2};
  c[2].receive(m);
  CHECK(c.net.queue.empty());
  CHECK(c[2].commit_index() == log_index{2});
  CHECK(c[2].leader() == node_id{1});
  // The mark belongs on an empty append only: anything else carrying it is malformed.
  const auto malformed = c[2].stats().dropped_malformed;
  message hb = msg(message_type::heartbeat, 1, 2, 3);
  hb.commit = log_index{3};
  hb.no_answer = true;
  c[2].receive(hb);
  const std::string a = "a";
  const entry_view entries[] = {{term_id{3}, entry_kind::normal, as_bytes(a)}};
  m.index = log_index{3};
  m.log_term = term_id{2};
  m.entries = entries;
  c[2].receive(m);
  CHECK(c[2].stats().dropped_malformed == malformed + 2);
  CHECK(c.log_terms(2) == std::vector<std::uint64_t>{1, 1, 2});
  CHECK(c[2].commit_index() == log_index{2});
  CHECK(c.net.queue.empty());
}

TEST_CASE("CheckQuorum: a leader committing an entry every tick, its commit-only appends unanswered, keeps leading") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  for (int k = 0; k < 60; ++k) {
    REQUIRE(c[1].propose(as_bytes("v" + std::to_string(k))));
    c.tick(1);
    c.tick(2);
    c.tick(3);
    c.deliver();
  }
  CHECK(c[1].role() == raft::role::leader);
  CHECK(c[1].term() == term_id{1});
  CHECK(c[2].stats().pre_votes_started == 0);
  CHECK(c[3].stats().pre_votes_started == 0);
  CHECK(applied_values(c[3]).size() == 60);
}
