// copying_log: memory_log without core/log.hpp's promise that records stay
// in place (every call forwarded, run appends included), so that raft_log
// over it keeps copies in its entry cache and defers a leader's batch.
#pragma once

#include <span>

#include "quorum/core/log.hpp"
#include "quorum/storage/memory_log.hpp"

namespace raft_test {

using namespace quorum;

struct copying_log {
  storage::memory_log m;
  log_index first_index() const { return m.first_index(); }
  log_index last_index() const { return m.last_index(); }
  result<log_index> append(byte_view b) { return m.append(b); }
  result<log_index> append(byte_view h, byte_view b) { return m.append(h, b); }
  result<log_index> append_run(std::span<const record_parts> rs) { return m.append_run(rs); }
  result<byte_view> read(log_index i) { return m.read(i); }
  result<void> truncate(log_index i) { return m.truncate(i); }
  result<void> compact(log_index i) { return m.compact(i); }
  result<void> save_state(byte_view b) { return m.save_state(b); }
  byte_view state() const { return m.state(); }
  result<void> sync() { return m.sync(); }
};

static_assert(!log_records_stay_in_place<copying_log>);

}  // namespace raft_test
