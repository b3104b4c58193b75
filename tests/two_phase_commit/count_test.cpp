// Messages and forced log writes per transaction, for every variant, held to
// the table of Mohan, Lindsay & Obermarck (1986) for N = 1, 3 and 10 updating
// participants (the coordinator on a node of its own):
//
//   variant, outcome               messages         forced writes
//   presumed abort, commit         4N               2N + 1  (coordinator: commit)
//   presumed abort, abort (1 no)   2N + (N - 1)     N - 1   (yes voters' prepared)
//   presumed commit, commit        3N               N + 2   (collecting, commit)
//   presumed commit, abort (1 no)  2N + 2(N - 1)    2N - 1  (collecting; yes voters' prepared, abort)
//   read-only participant          2 of its own     0 of its own
//   one-phase (N = 1)              2                1       (the participant's decision)
//   last agent, N - 1 read-only    2N               1       (the last one's decision)
#include <doctest/doctest.h>

#include <cstdint>

#include "harness.hpp"

using namespace tpc_test;

namespace {

struct counts {
  std::uint64_t messages;
  std::uint64_t forced;
  std::uint64_t coordinator_forced;
  std::uint64_t lazy;
};

// Runs one transaction (txn 1) to completion; votes[i] is participant i's vote.
counts run_one(presumption pres, const std::vector<vote>& votes, bool one_phase = false,
               std::optional<decision> expect = std::nullopt, bool last_agent = false) {
  coordinator_options co;
  co.presumption = pres;
  co.one_phase = one_phase;
  co.last_agent = last_agent;
  cluster c{votes.size(), co};
  for (std::size_t i = 0; i < votes.size(); ++i) c.rm(c.p(i)).votes[1] = votes[i];
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all();
  INFO("violations: " << (c.net.violations.empty() ? "" : c.net.violations.front()));
  CHECK(c.net.violations.empty());
  CHECK(c.coord().open_transactions() == 0);
  if (expect) CHECK(c.decided(txn_id{1}) == expect);
  std::uint64_t lazy = c.coord().stats().lazy_writes;
  for (const node_id p : c.participants()) lazy += c.part(p).stats().lazy_writes;
  // Nothing more is ever sent for it: no retries, no inquiries.
  const std::uint64_t before = c.messages();
  c.tick_all(300);
  CHECK(c.net.queue.empty());
  CHECK(c.messages() == before);
  return counts{before, c.forced(), c.coord().stats().forced_writes, lazy};
}

std::vector<vote> all(std::size_t n, vote v) { return std::vector<vote>(n, v); }
std::vector<vote> one_no(std::size_t n) {
  auto v = all(n, vote::yes);
  v[0] = vote::no;
  return v;
}

}  // namespace

TEST_CASE("counts: presumed abort commit is 4N messages and 2N+1 forced writes for N = 1 3 10") {
  for (const std::uint64_t n : {1u, 3u, 10u}) {
    CAPTURE(n);
    const counts k = run_one(presumption::abort, all(n, vote::yes), false, decision::commit);
    CHECK(k.messages == 4 * n);
    CHECK(k.forced == 2 * n + 1);
    CHECK(k.coordinator_forced == 1);
    CHECK(k.lazy == 1);  // the coordinator's end record
  }
}

TEST_CASE("counts: presumed abort abort forces nothing at the coordinator and sends no acks") {
  for (const std::uint64_t n : {1u, 3u, 10u}) {
    CAPTURE(n);
    const counts k = run_one(presumption::abort, one_no(n), false, decision::abort);
    CHECK(k.messages == 2 * n + (n - 1));
    CHECK(k.forced == n - 1);
    CHECK(k.coordinator_forced == 0);
    CHECK(k.lazy == n - 1);  // the yes voters' abort records
  }
}

TEST_CASE("counts: presumed commit commit is 3N messages and N+2 forced writes") {
  for (const std::uint64_t n : {1u, 3u, 10u}) {
    CAPTURE(n);
    const counts k = run_one(presumption::commit, all(n, vote::yes), false, decision::commit);
    CHECK(k.messages == 3 * n);
    CHECK(k.forced == n + 2);
    CHECK(k.coordinator_forced == 2);
    CHECK(k.lazy == n);  // the participants' commit records
  }
}

TEST_CASE("counts: presumed commit abort acknowledges and forces the yes voters' abort records") {
  for (const std::uint64_t n : {1u, 3u, 10u}) {
    CAPTURE(n);
    const counts k = run_one(presumption::commit, one_no(n), false, decision::abort);
    CHECK(k.messages == 2 * n + 2 * (n - 1));
    CHECK(k.forced == 2 * n - 1);
    CHECK(k.coordinator_forced == 1);
    // The coordinator's abort record (only when a yes voter must hear it) and end record.
    CHECK(k.lazy == (n > 1 ? 2u : 1u));
  }
}

TEST_CASE("counts: a read-only participant costs 2 messages and no writes in either variant") {
  for (const std::uint64_t n : {1u, 3u, 10u}) {
    CAPTURE(n);
    auto votes = all(n, vote::yes);
    votes[0] = vote::read_only;
    const std::uint64_t updating = n - 1;
    const counts pa = run_one(presumption::abort, votes, false, decision::commit);
    CHECK(pa.messages == 2 + 4 * updating);
    CHECK(pa.forced == (updating == 0 ? 0 : 2 * updating + 1));
    const counts pc = run_one(presumption::commit, votes, false, decision::commit);
    CHECK(pc.messages == 2 + 3 * updating);
    CHECK(pc.forced == updating + 2);
  }
}

TEST_CASE("counts: an all read-only transaction writes nothing under presumed abort") {
  for (const std::uint64_t n : {1u, 3u, 10u}) {
    CAPTURE(n);
    const counts pa = run_one(presumption::abort, all(n, vote::read_only), false, decision::commit);
    CHECK(pa.messages == 2 * n);
    CHECK(pa.forced == 0);
    CHECK(pa.lazy == 0);
    // Presumed commit still forced its collecting record, and must force a
    // commit record, or recovery would abort what it reported committed.
    const counts pc = run_one(presumption::commit, all(n, vote::read_only), false, decision::commit);
    CHECK(pc.messages == 2 * n);
    CHECK(pc.forced == 2);
  }
}

TEST_CASE("counts: one-phase commit with a single participant is 2 messages and 1 forced write") {
  for (const presumption pres : {presumption::abort, presumption::commit}) {
    const counts yes = run_one(pres, {vote::yes}, true, decision::commit);
    CHECK(yes.messages == 2);
    CHECK(yes.forced == 1);
    CHECK(yes.coordinator_forced == 0);
    const counts no = run_one(pres, {vote::no}, true, decision::abort);
    CHECK(no.messages == 2);
    CHECK(no.forced == 1);
    CHECK(no.coordinator_forced == 0);
  }
}

TEST_CASE("counts: the message mix of a presumed abort commit is one of each kind per participant") {
  cluster c{3};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all();
  CHECK(c.net.sent[message_type::prepare] == 3);
  CHECK(c.net.sent[message_type::vote] == 3);
  CHECK(c.net.sent[message_type::decision] == 3);
  CHECK(c.net.sent[message_type::ack] == 3);
  CHECK(c.net.sent.size() == 4);
  for (const node_id p : c.participants()) {
    CHECK(c.rm(p).calls == std::vector<std::string>{"prepare 1", "commit 1"});
  }
}

TEST_CASE("counts: last agent commits a single updating participant in one phase for N = 3 10") {
  for (const std::uint64_t n : {3u, 10u}) {
    CAPTURE(n);
    auto votes = all(n, vote::read_only);
    votes.back() = vote::yes;
    const counts k = run_one(presumption::abort, votes, true, decision::commit, true);
    CHECK(k.messages == 2 * n);
    CHECK(k.forced == 1);
    CHECK(k.coordinator_forced == 0);
    votes.back() = vote::no;
    const counts no = run_one(presumption::abort, votes, true, decision::abort, true);
    CHECK(no.messages == 2 * n);
    CHECK(no.forced == 1);
  }
}

TEST_CASE("counts: last agent with a second updating participant falls back to two phases") {
  // Read-only, yes, then the held-back last (yes): the table's presumed abort numbers.
  const counts k = run_one(presumption::abort, {vote::read_only, vote::yes, vote::yes}, true, decision::commit, true);
  CHECK(k.messages == 2 + 4 * 2);
  CHECK(k.forced == 2 * 2 + 1);
  CHECK(validate(coordinator_options{.presumption = presumption::commit, .last_agent = true}).error().code ==
        errc::invalid_config);
}
