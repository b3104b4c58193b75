// Paxos Commit's options (F, the acceptors, timeouts, bounds) and counters.
// Read by the node in paxos_commit.hpp; every bound on its input is named here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/quorums.hpp"

namespace quorum::two_phase_commit {

struct paxos_commit_options {
  // Acceptor failures tolerated. acceptors must hold exactly 2F + 1 nodes; the
  // first F + 1 are the ones RMs send their fast-path phase 2a to.
  std::size_t f = 1;
  std::vector<node_id> acceptors;
  // An acceptor holds fast-path 2a messages until it has one per RM, so that
  // one stable write covers the transaction; after this many ticks it writes
  // and answers with what it has.
  std::uint32_t acceptor_flush_ticks = 2;
  // A leader with no outcome after this many ticks (re)starts phase 1 at a
  // higher ballot. A prepared RM with no outcome becomes that leader after
  // rm_in_doubt_ticks plus its position among the RMs (so RMs do not duel).
  std::uint32_t leader_timeout_ticks = 10;
  std::uint32_t rm_in_doubt_ticks = 20;
  std::size_t max_participants = 64;
  std::size_t max_transactions = 4096;  // open transactions this node tracks in any role
  // Forgetting: an acceptor that has heard nothing of a txn for this many
  // ticks, and does not lead it, asks its RMs whether they have resolved it
  // (the leader that would have said so may have crashed).
  std::uint32_t acceptor_query_ticks = 50;
  // Txns named in one resolved or forget message. A node sends those once per
  // tick, one per destination for every txn that finished since (more
  // messages past this bound); it drops, as malformed, one naming more.
  // Every node of a cluster must use the same value.
  std::size_t max_gc_batch = 1024;
  // Origins (nodes that begin transactions) whose forgotten txn ids an RM
  // remembers; a prepare from one more origin is refused (the txn aborts).
  std::size_t max_origins = 64;
  // Log records kept behind the oldest transaction still held; past it the
  // held ones are copied forward and the prefix compacted. At least four
  // times max_transactions (a held txn is copied as up to three records).
  std::uint64_t max_log_span = 65536;
  // Keep the decisions this node reaches as leader for decisions() until
  // clear_decisions(), at most max_unread_decisions of them (the rest are
  // counted in stats().unreported_decisions). Off: nothing is kept.
  bool report_decisions = false;
  std::size_t max_unread_decisions = 65536;
};

struct paxos_commit_stats {
  std::uint64_t messages_sent{0};     // over the transport; a node's messages to itself are local
  std::uint64_t forced_writes{0};     // stable writes: records synced before a message depends on them
  std::uint64_t lazy_writes{0};       // records written without a sync of their own
  std::uint64_t dropped_malformed{0};
  std::uint64_t dropped_stale{0};     // refused by a ballot, unknown sender or txn, or over a bound
  std::uint64_t log_errors{0};        // the Log refused; the node stopped
  std::uint64_t commits{0};           // decisions this node reached as leader
  std::uint64_t aborts{0};
  std::uint64_t recoveries{0};        // phase 1 rounds this node started
  std::uint64_t recoveries_refused_exhausted{0};  // none started: a round at ballot::max_round was seen
  std::uint64_t votes_yes{0};
  std::uint64_t votes_no{0};
  // Forgetting finished transactions:
  std::uint64_t gc_messages{0};        // resolved, forget and query sent (also in messages_sent); one
                                       // resolved or forget names every txn finished since the last tick
  std::uint64_t gc_syncs{0};           // syncs that made resolutions durable before they were acknowledged
  std::uint64_t forgotten{0};          // transactions this node dropped every record of
  std::uint64_t refused_forgotten{0};  // prepares refused because the RM had forgotten the txn
  std::uint64_t relocated{0};          // held txns copied forward so the log could be compacted
  std::uint64_t unreported_decisions{0};
};

[[nodiscard]] inline result<void> validate(const paxos_commit_options& o) {
  if (o.acceptors.size() != 2 * o.f + 1)
    return fail(errc::invalid_config, "paxos commit: acceptors must hold exactly 2F + 1 nodes", o.acceptors.size());
  if (o.acceptors.size() > paxos::max_members)
    return fail(errc::invalid_config, "paxos commit: more acceptors than paxos::max_members", o.acceptors.size());
  std::vector<node_id> sorted = o.acceptors;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front() == no_node) return fail(errc::invalid_config, "paxos commit: acceptor id 0");
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return fail(errc::invalid_config, "paxos commit: an acceptor is listed twice");
  if (o.max_participants == 0 || o.max_participants > 1u << 20)
    return fail(errc::invalid_config, "paxos commit: max_participants must be in 1..2^20");
  if (o.max_transactions == 0) return fail(errc::invalid_config, "paxos commit: max_transactions must be positive");
  if (o.max_origins == 0) return fail(errc::invalid_config, "paxos commit: max_origins must be positive");
  if (o.max_gc_batch == 0 || o.max_gc_batch > 1u << 16)
    return fail(errc::invalid_config, "paxos commit: max_gc_batch must be in 1..2^16", o.max_gc_batch);
  if (o.max_log_span < 4 * static_cast<std::uint64_t>(o.max_transactions))
    return fail(errc::invalid_config, "paxos commit: max_log_span must be at least four times max_transactions",
                o.max_log_span);
  if (o.leader_timeout_ticks == 0 || o.rm_in_doubt_ticks == 0 || o.acceptor_flush_ticks == 0 ||
      o.acceptor_query_ticks == 0)
    return fail(errc::invalid_config, "paxos commit: timeouts must be at least one tick");
  return {};
}

}  // namespace quorum::two_phase_commit
