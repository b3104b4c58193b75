// The Log concept: where a node's state becomes durable. One shape serves all
// three protocols: a sequence of opaque records at dense positions, plus one
// small "hard state" blob, with sync() as the single durability barrier.
//
//  - Raft stores entry i at position i (suffix truncation on conflict, prefix
//    compaction behind a snapshot, compact past the end to restart after
//    installing one) and its term and vote in the hard state.
//  - Paxos journals "accepted (slot, ballot, value)" records in arrival order
//    and keeps its promised ballot in the hard state; recovery replays the
//    journal, the highest ballot per slot winning.
//  - Two-phase commit journals transaction records (prepared, commit, end)
//    and compacts the prefix whose transactions have all ended.
// Positions are the log's, not the protocol's, so journals need no slot map;
// records are bytes, so the log never depends on a protocol's types.
//
// Requirements, for a type L, a value l of type L&, a position i of type
// quorum::log_index and bytes b of type quorum::byte_view:
//
//   expression         type                 semantics
//   -----------------  -------------------  ----------------------------------------
//   l.first_index()    log_index            first retained position (1 for a new log);
//                                           last_index() + 1 when the log is empty
//   l.last_index()     log_index            last written position; first_index() - 1
//                                           when empty (0 for a new log)
//   l.append(b)        result<log_index>    writes b at last_index() + 1 and returns
//                                           that position; errc::too_large over the
//                                           log's record limit
//   l.read(i)          result<byte_view>    the record at i, errc::out_of_range outside
//                                           [first_index(), last_index()]; the view is
//                                           valid until the next non-const call
//   l.truncate(i)      result<void>         removes positions >= i; first_index() <= i
//                                           <= last_index() + 1
//   l.compact(i)       result<void>         removes positions < i; first_index() becomes
//                                           i; when i > last_index() + 1 the log is empty
//                                           and the next append lands at i
//   l.save_state(b)    result<void>         replaces the hard state; after a crash the
//                                           old or the new state is found, never a mix
//   l.state()          byte_view            the current hard state (empty if none)
//   l.sync()           result<void>         every call above is durable once it returns
//
// Optional, for speed (raft_log detects each and otherwise joins the pieces
// itself and calls append(b) once per record), with h, b of type byte_view
// and rs a non-empty std::span<const quorum::record_parts>:
//
//   l.append(h, b)     result<log_index>    the same as append() of h and b joined
//   l.append_run(rs)   result<log_index>    the same as append(r.head, r.body) for each
//                                           r in rs in order; returns the last position;
//                                           on an error none of them is appended
//   l.append_run(rs, ps)                    the same as append_run(rs); a Log that
//                      result<log_index>    makes the promise below also sets ps[k]
//                                           (ps: a std::span<quorum::byte_view> of at
//                                           least rs.size()) to what read() would give
//                                           for record k, sparing raft_log the reads
//   l.append_run_with(n, parts, place)      the same as append_run of the n records
//                      result<log_index>    parts(k) gives (a record_parts; it may be
//                                           asked for k more than once and must give
//                                           the same), and a Log that makes the
//                                           promise below calls place(k, v) with v what
//                                           read() would give for record k: raft_log
//                                           writes a run and its cache views in one
//                                           pass; on an error none is appended
//   l.append(h, b, p)  result<log_index>    the same as append(h, b); a Log that makes
//                                           the promise below also sets p (a
//                                           quorum::byte_view&) to what read() would
//                                           give for the new record
//   l.append_gathered(h, n, bytes, piece, p)  the same as append(h, b, p) with b the n
//                      result<log_index>    pieces piece(k) gives (a byte_view, asked
//                                           once each in order; `bytes` their size in
//                                           all) joined: the Paxos journal writes a
//                                           run's values that lie apart this way
//
// Optional promise, a static constexpr bool member (raft_log detects it):
//
//   L::records_stay_in_place   true: the bytes a view from read(i) shows stay
//                              where they are and unchanged until position i
//                              is truncated or compacted away or the log is
//                              destroyed or assigned to, whatever other calls
//                              come between (moving the log moves no record)
//
// raft_log's entry cache then views the Log's records instead of keeping a
// copy of each. A leader's proposals in a batch go to the Log as one run
// before anything reads them: waiting in the cache over a Log without the
// promise, in a staging buffer over one with it and append_run_with, and
// otherwise to the Log at once. file_log does not promise it: its read()
// fills a buffer that the next read overwrites.
//
// Optional, for a leader whose disk write should not hold up its event loop
// (Raft thesis §10.2.1; etcd-io/raft's asynchronous storage writes), with t
// of type quorum::sync_ticket (raft::node detects it):
//
//   l.start_sync(t)    result<bool>         the same promise as sync(), kept either
//                                           now (false: durable on return) or later
//                                           (true: the application makes every call
//                                           before this one durable, then hands t back
//                                           to the node, e.g. raft::node::log_synced)
//
// A started sync may finish after later calls and in any order with other
// started syncs; a crash before it finishes may lose what it covers, as for
// any unsynced call. The node counts nothing it covers until t comes back.
//
// After a crash a log holds everything that was synced and, of what was not,
// at most a prefix of the calls in the order they were made. The durability
// rule (DESIGN.md principle 5) is the protocol's duty: it sends no promise
// until the sync() covering it has returned. One sync() may cover many
// appends (group commit).
//
// Exemplar: quorum::storage::memory_log.
// Models: quorum::storage::memory_log, quorum::storage::file_log,
// quorum::sim::sim_log (the simulator's disk, which loses unsynced calls).
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <utility>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum {

// One record given in two pieces, written as if joined: a short header
// (raft_log's entry kind and term) and a body (the entry's data).
struct record_parts {
  byte_view head;
  byte_view body;
};

// What a started sync covers, in the node's terms; opaque to the Log, which
// hands it back unchanged once that sync is done.
struct sync_ticket {
  std::uint64_t position{0};  // the protocol's position the sync covers (Raft: the last log index)
  std::uint64_t epoch{0};     // bumped by the node when a later change (truncation) voids older tickets
  friend bool operator==(const sync_ticket&, const sync_ticket&) = default;
};

namespace detail {

template <class L>
concept log_has_bounds = requires(const L& l) {
  { l.first_index() } -> std::same_as<log_index>;
  { l.last_index() } -> std::same_as<log_index>;
};

template <class L>
concept log_has_append = requires(L& l, byte_view b) {
  { l.append(b) } -> std::same_as<result<log_index>>;
};

template <class L>
concept log_has_read = requires(L& l, log_index i) {
  { l.read(i) } -> std::same_as<result<byte_view>>;
};

template <class L>
concept log_has_truncate_compact = requires(L& l, log_index i) {
  { l.truncate(i) } -> std::same_as<result<void>>;
  { l.compact(i) } -> std::same_as<result<void>>;
};

template <class L>
concept log_has_state = requires(L& l, byte_view b) {
  { l.save_state(b) } -> std::same_as<result<void>>;
  { std::as_const(l).state() } -> std::same_as<byte_view>;
};

template <class L>
concept log_has_sync = requires(L& l) {
  { l.sync() } -> std::same_as<result<void>>;
};

}  // namespace detail

// The optional start_sync above.
template <class L>
concept AsyncSyncingLog = requires(L& l, sync_ticket t) {
  { l.start_sync(t) } -> std::same_as<result<bool>>;
};

// The optional promise above, made by L.
template <class L>
concept log_records_stay_in_place = requires {
  { L::records_stay_in_place } -> std::convertible_to<bool>;
} && L::records_stay_in_place;

template <class L>
concept Log = detail::log_has_bounds<L> && detail::log_has_append<L> && detail::log_has_read<L> &&
              detail::log_has_truncate_compact<L> && detail::log_has_state<L> &&
              detail::log_has_sync<L>;

// Checks L against Log and names the first requirement it misses.
template <class L>
consteval bool check_log() {
  static_assert(detail::log_has_bounds<L>,
                "quorum::Log: the type must have const 'first_index()' and 'last_index()' "
                "returning quorum::log_index");
  static_assert(detail::log_has_append<L>,
                "quorum::Log: the type must have 'append(quorum::byte_view)' returning "
                "quorum::result<quorum::log_index>");
  static_assert(detail::log_has_read<L>,
                "quorum::Log: the type must have 'read(quorum::log_index)' returning "
                "quorum::result<quorum::byte_view>");
  static_assert(detail::log_has_truncate_compact<L>,
                "quorum::Log: the type must have 'truncate(quorum::log_index)' and "
                "'compact(quorum::log_index)' returning quorum::result<void>");
  static_assert(detail::log_has_state<L>,
                "quorum::Log: the type must have 'save_state(quorum::byte_view)' returning "
                "quorum::result<void> and const 'state()' returning quorum::byte_view");
  static_assert(detail::log_has_sync<L>,
                "quorum::Log: the type must have 'sync()' returning quorum::result<void>");
  return Log<L>;
}

}  // namespace quorum
