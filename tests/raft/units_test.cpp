// The pieces under the node: option validation, the term-run index used for
// log matching and fast backtracking, and the progress tracker's probe /
// replicate states with their bounded in-flight window, the voting
// configuration's quorum arithmetic, and raft_log's sync bookkeeping.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "quorum/raft/configuration.hpp"
#include "quorum/raft/options.hpp"
#include "quorum/raft/progress.hpp"
#include "quorum/raft/raft_log.hpp"
#include "quorum/raft/term_runs.hpp"
#include "quorum/storage/memory_log.hpp"

using namespace quorum;
using namespace quorum::raft;

TEST_CASE("raft options: the defaults are valid and each unworkable value is invalid_config") {
  CHECK(validate(options{}).has_value());
  auto broken = [](auto change) {
    options o;
    change(o);
    auto r = validate(o);
    return !r && r.error().code == errc::invalid_config;
  };
  CHECK(broken([](options& o) { o.election_ticks = 1; }));
  CHECK(broken([](options& o) { o.heartbeat_ticks = 0; }));
  CHECK(broken([](options& o) { o.heartbeat_ticks = o.election_ticks; }));
  CHECK(broken([](options& o) { o.max_entries_per_append = 0; }));
  CHECK(broken([](options& o) { o.max_bytes_per_append = 0; }));
  CHECK(broken([](options& o) { o.max_inflight_appends = 0; }));
  CHECK(broken([](options& o) { o.max_inflight_appends = std::size_t{1} << 30; }));
  CHECK(broken([](options& o) { o.max_uncommitted_bytes = 0; }));
  CHECK(broken([](options& o) { o.max_entry_bytes = 0; }));
  CHECK(options{}.pre_vote);
  CHECK(options{}.check_quorum);
}

TEST_CASE("raft term_runs: term_at, truncation and last_at_or_below over runs") {
  term_runs t;
  t.reset(log_index{0}, term_id{0});
  const std::uint64_t terms[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  for (std::uint64_t i = 0; i < 10; ++i) t.append(log_index{i + 1}, term_id{terms[i]});
  CHECK(t.run_count() == 4);
  CHECK(t.last_index() == log_index{10});
  CHECK(t.last_term() == term_id{6});
  for (std::uint64_t i = 0; i < 10; ++i) CHECK(t.term_at(log_index{i + 1}) == term_id{terms[i]});
  CHECK(t.term_at(log_index{0}) == term_id{0});
  CHECK_FALSE(t.term_at(log_index{11}).has_value());
  // The largest index <= i whose term is <= the given term.
  CHECK(t.last_at_or_below(log_index{10}, term_id{6}) == log_index{10});
  CHECK(t.last_at_or_below(log_index{10}, term_id{5}) == log_index{7});
  CHECK(t.last_at_or_below(log_index{10}, term_id{3}) == log_index{3});
  CHECK(t.last_at_or_below(log_index{100}, term_id{9}) == log_index{10});
  CHECK(t.last_at_or_below(log_index{5}, term_id{2}) == log_index{3});
  CHECK(t.last_at_or_below(log_index{10}, term_id{0}) == log_index{0});
  t.truncate(log_index{5});
  CHECK(t.last_index() == log_index{4});
  CHECK(t.last_term() == term_id{4});
  CHECK(t.run_count() == 2);
  t.append(log_index{5}, term_id{7});
  CHECK(t.term_at(log_index{5}) == term_id{7});
  t.truncate(log_index{1});
  CHECK(t.last_index() == log_index{0});
  CHECK(t.last_term() == term_id{0});
}

TEST_CASE("raft term_runs: compaction keeps the base's term and backtracking below the base says so") {
  term_runs t;
  t.reset(log_index{0}, term_id{0});
  const std::uint64_t terms[] = {1, 1, 2, 2, 3, 3, 3, 4};
  for (std::uint64_t i = 0; i < 8; ++i) t.append(log_index{i + 1}, term_id{terms[i]});
  t.compact(log_index{6});  // a snapshot at 6, of term 3
  CHECK(t.base_index() == log_index{6});
  CHECK(t.term_at(log_index{6}) == term_id{3});
  CHECK_FALSE(t.term_at(log_index{5}).has_value());
  CHECK(t.term_at(log_index{7}) == term_id{3});
  CHECK(t.term_at(log_index{8}) == term_id{4});
  CHECK(t.last_at_or_below(log_index{8}, term_id{3}) == log_index{7});
  CHECK(t.last_at_or_below(log_index{8}, term_id{4}) == log_index{8});
  // Below the base, or at it with an older term: a leader cannot match there
  // and must send its snapshot (seed 157 looped here).
  CHECK(t.last_at_or_below(log_index{3}, term_id{9}) == log_index{3});
  CHECK(t.last_at_or_below(log_index{6}, term_id{2}) == log_index{5});
  CHECK(t.last_at_or_below(log_index{8}, term_id{2}) == log_index{5});
  t.compact(log_index{8});
  CHECK(t.run_count() == 0);
  CHECK(t.last_term() == term_id{4});
  t.append(log_index{9}, term_id{5});
  CHECK(t.term_at(log_index{9}) == term_id{5});
}

TEST_CASE("raft term_runs: term_at and last_term agree with a plain list of terms through every change") {
  // term_at answers the last run from fields kept beside the runs: every
  // append, truncation, compaction and reset must keep them right.
  std::mt19937_64 rng{7};
  term_runs t;
  std::uint64_t base = 0, base_term = 0;
  std::vector<std::uint64_t> terms;  // terms[k]: the term of index base + 1 + k
  t.reset(log_index{base}, term_id{base_term});
  for (int step = 0; step < 4000; ++step) {
    const std::uint64_t last_term = terms.empty() ? base_term : terms.back();
    const std::uint64_t last = base + terms.size();
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {  // one entry, of the same term or a newer one
        const std::uint64_t term = last_term + (rng() % 3 == 0 ? 1 : 0) + (last_term == 0 ? 1 : 0);
        t.append(log_index{last + 1}, term_id{term});
        terms.push_back(term);
        break;
      }
      case 3: {  // a run of one term
        const std::uint64_t n = 1 + rng() % 5, term = last_term + rng() % 2 + (last_term == 0 ? 1 : 0);
        t.append_upto(log_index{last + n}, term_id{term});
        terms.insert(terms.end(), n, term);
        break;
      }
      case 4:
        if (!terms.empty()) {  // a conflicting suffix
          const std::uint64_t from = base + 1 + rng() % terms.size();
          t.truncate(log_index{from});
          terms.resize(from - base - 1);
        }
        break;
      case 5:
        if (!terms.empty()) {  // a snapshot behind
          const std::uint64_t upto = base + 1 + rng() % terms.size();
          t.compact(log_index{upto});
          base_term = terms[upto - base - 1];
          terms.erase(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(upto - base));
          base = upto;
        }
        break;
      case 6:
        if (rng() % 10 == 0) {  // an installed snapshot ahead
          base = last + 1 + rng() % 3;
          base_term = last_term + 1;
          terms.clear();
          t.reset(log_index{base}, term_id{base_term});
        }
        break;
      default:
        break;
    }
    const std::uint64_t now_last = base + terms.size();
    REQUIRE(t.last_index() == log_index{now_last});
    REQUIRE(t.last_term() == term_id{terms.empty() ? base_term : terms.back()});
    if (base > 0) REQUIRE_FALSE(t.term_at(log_index{base - 1}).has_value());
    REQUIRE(t.term_at(log_index{base}) == term_id{base_term});
    for (std::uint64_t k = 0; k < terms.size(); ++k) REQUIRE(t.term_at(log_index{base + 1 + k}) == term_id{terms[k]});
    REQUIRE_FALSE(t.term_at(log_index{now_last + 1}).has_value());
  }
}

TEST_CASE("raft progress: a probe is one append at a time, and an acknowledgement moves to replicate") {
  progress p{4};
  p.reset(log_index{10}, false);
  CHECK(p.next == log_index{11});
  CHECK_FALSE(p.paused());
  p.sent(log_index{12}, true);
  CHECK(p.paused());
  CHECK(p.next == log_index{11});  // a probe does not move next optimistically
  // A rejection of some other index answers nothing outstanding.
  CHECK_FALSE(p.reject(log_index{4}, log_index{3}));
  CHECK(p.reject(log_index{10}, log_index{6}));
  CHECK(p.next == log_index{6});
  CHECK_FALSE(p.paused());
  p.sent(log_index{12}, true);
  CHECK(p.acknowledge(log_index{12}));
  CHECK(p.state == progress_state::replicate);
  CHECK(p.match == log_index{12});
  CHECK(p.next == log_index{13});
  CHECK_FALSE(p.acknowledge(log_index{11}));  // stale
}

TEST_CASE("raft progress: the replicate window bounds appends in flight and frees on acknowledgement") {
  progress p{3};
  p.reset(log_index{0}, false);
  p.sent(log_index{1}, true);
  REQUIRE(p.acknowledge(log_index{1}));
  for (std::uint64_t last : {3, 5, 7}) {
    CHECK_FALSE(p.paused());
    p.sent(log_index{last}, true);
  }
  CHECK(p.paused());
  CHECK(p.next == log_index{8});
  p.sent(log_index{7}, false);  // an empty append (a commit notice) takes no slot
  CHECK(p.window.size() == 3);
  CHECK(p.acknowledge(log_index{5}));
  CHECK(p.window.size() == 1);
  CHECK_FALSE(p.paused());
  // A stale rejection (at or below match) changes nothing; a fresh one falls back to probe.
  CHECK_FALSE(p.reject(log_index{4}, log_index{2}));
  CHECK(p.state == progress_state::replicate);
  CHECK(p.reject(log_index{7}, log_index{2}));
  CHECK(p.state == progress_state::probe);
  CHECK(p.next == log_index{6});  // never below match + 1
  CHECK(p.window.size() == 0);
}

TEST_CASE("raft inflights: the ring wraps around and frees in order") {
  inflights w{3};
  for (std::uint64_t last : {1, 2, 3}) w.add(log_index{last});
  CHECK(w.full());
  w.free_to(log_index{2});
  CHECK(w.size() == 1);
  w.add(log_index{4});  // these two wrap past the ring's end
  w.add(log_index{5});
  CHECK(w.full());
  w.free_first();  // drops 3, the oldest
  CHECK(w.size() == 2);
  w.free_to(log_index{4});
  CHECK(w.size() == 1);
  w.add(log_index{6});
  w.add(log_index{7});
  CHECK(w.full());
  w.free_to(log_index{6});
  CHECK(w.size() == 1);
  w.free_to(log_index{7});
  CHECK(w.size() == 0);
  w.free_first();  // nothing to drop
  CHECK(w.size() == 0);
}

TEST_CASE("raft configuration: quorum sizes, vote tallies and the quorum index") {
  const node_id five[] = {node_id{5}, node_id{3}, node_id{1}, node_id{4}, node_id{2}};
  CHECK(configuration::validate(node_id{3}, five).has_value());
  configuration c{node_id{3}, five};
  CHECK(c.quorum() == 3);
  CHECK(c.at(c.self()) == node_id{3});
  CHECK(c.position_of(node_id{9}) == configuration::npos);
  c.start_poll();
  CHECK(c.tally() == vote_result::pending);
  c.record_vote(c.position_of(node_id{1}), true);
  c.record_vote(c.position_of(node_id{1}), false);  // a second answer does not count
  CHECK(c.tally() == vote_result::pending);         // ourselves and node 1: two of five
  c.record_vote(c.position_of(node_id{5}), true);
  CHECK(c.tally() == vote_result::won);
  c.start_poll();
  for (auto id : {node_id{1}, node_id{2}, node_id{4}}) c.record_vote(c.position_of(id), false);
  CHECK(c.tally() == vote_result::lost);
  const std::uint64_t match[] = {9, 3, 7, 7, 1};  // by position: nodes 1..5
  CHECK(c.quorum_index([&](std::size_t i) { return log_index{match[i]}; }) == log_index{7});
  CHECK(c.has_quorum([&](std::size_t i) { return match[i] >= 7; }));
  CHECK_FALSE(c.has_quorum([&](std::size_t i) { return match[i] >= 8; }));
  const node_id four[] = {node_id{1}, node_id{2}, node_id{3}, node_id{4}};
  CHECK(configuration{node_id{1}, four}.quorum() == 3);
}

TEST_CASE("raft configuration: positions by small and large ids, and the three-voter quorum index") {
  // Ids below 16 are found through a table, the others by search: both must agree with the sorted order.
  const node_id mixed[] = {node_id{40}, node_id{2}, node_id{15}, node_id{16}, node_id{7}};
  configuration c{node_id{16}, mixed};
  CHECK(c.position_of(node_id{2}) == 0);
  CHECK(c.position_of(node_id{7}) == 1);
  CHECK(c.position_of(node_id{15}) == 2);
  CHECK(c.position_of(node_id{16}) == 3);
  CHECK(c.position_of(node_id{40}) == 4);
  CHECK(c.self() == 3);
  for (std::uint64_t id : {0, 1, 3, 14, 17, 39, 41, 1000})
    CHECK(c.position_of(node_id{id}) == configuration::npos);
  CHECK(configuration{}.position_of(node_id{1}) == configuration::npos);

  // Three voters and a learner: the learner's match never counts, and the
  // median of the voters is the highest index two of them hold.
  configuration t{node_id{1}, membership{{node_id{1}, node_id{2}, node_id{3}}, {}, {node_id{4}}}};
  for (std::uint64_t a = 0; a < 4; ++a)
    for (std::uint64_t b = 0; b < 4; ++b)
      for (std::uint64_t d = 0; d < 4; ++d) {
        const std::uint64_t match[] = {a, b, d, 99};  // by position: nodes 1..4
        std::uint64_t expect = 0;
        for (std::uint64_t x : {a, b, d})
          if ((a >= x) + (b >= x) + (d >= x) >= 2) expect = std::max(expect, x);
        CHECK(t.quorum_index([&](std::size_t i) { return log_index{match[i]}; }) == log_index{expect});
      }
  // Joint, with three incoming voters: both majorities still count.
  configuration j{node_id{1},
                  membership{{node_id{1}, node_id{2}, node_id{3}}, {node_id{1}, node_id{4}, node_id{5}}, {}}};
  const std::uint64_t jm[] = {9, 8, 8, 1, 1};  // nodes 1..5: incoming holds 8, outgoing only 1
  CHECK(j.quorum_index([&](std::size_t i) { return log_index{jm[i]}; }) == log_index{1});
}

TEST_CASE("raft_log: what a sync covers, conflict truncation and bounded batches") {
  raft_log<storage::memory_log> log{storage::memory_log{}};
  REQUIRE(log.recover().has_value());
  const std::string data(10, 'd');
  for (std::uint64_t t : {1, 1, 2}) REQUIRE(log.append(entry_view{term_id{t}, entry_kind::normal, as_bytes(data)}));
  CHECK(log.dirty());
  CHECK(log.synced_index() == log_index{0});
  REQUIRE(log.sync());
  CHECK(log.synced_index() == log_index{3});
  CHECK(log.policy().sync_count() == 1);
  // A conflict at index 3 truncates it (and what a sync covered shrinks with it).
  const entry_view incoming[] = {{term_id{1}, entry_kind::normal, as_bytes(data)},
                                 {term_id{3}, entry_kind::normal, as_bytes(data)}};
  REQUIRE(log.append_from(log_index{2}, incoming, log_index{1}));
  CHECK(log.term_at(log_index{3}) == term_id{3});
  CHECK(log.synced_index() == log_index{2});
  CHECK(log.dirty());
  for (int k = 0; k < 10; ++k) REQUIRE(log.append(entry_view{term_id{3}, entry_kind::normal, as_bytes(data)}));
  auto b = log.batch(log_index{2}, 4, 1000);
  REQUIRE(b.has_value());
  CHECK(b->size() == 4);
  b = log.batch(log_index{2}, 100, 25);
  CHECK(b->size() == 2);  // 10 + 10 bytes fit, a third would not
  b = log.batch(log_index{2}, 100, 1);
  CHECK(b->size() == 1);  // at least one entry, however large
  CHECK(as_chars((*b)[0].data) == data);
  // Restart: the terms come back from the records.
  raft_log<storage::memory_log> again{log.policy()};
  REQUIRE(again.recover().has_value());
  CHECK(again.last_index() == log_index{13});
  CHECK(again.term_at(log_index{3}) == term_id{3});
}
