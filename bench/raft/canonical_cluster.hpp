// The peer side of the Raft benchmark (raft_bench.cpp, raft_callgrind.cpp):
// canonical raft (Debian libraft-dev) through its in-memory fixture, three
// voters, a counting raft_heap; built only where CMake found libraft.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <raft.h>
#include <raft/fixture.h>
}

namespace quorum_bench {

// Every allocation canonical raft (and its fixture) makes goes through
// raft_heap: counted here, served by the C library.
struct canonical_heap_counter {
  static inline std::uint64_t allocations = 0;

  static void* do_malloc(void*, std::size_t n) {
    ++allocations;
    return std::malloc(n);
  }
  static void do_free(void*, void* p) { std::free(p); }
  static void* do_calloc(void*, std::size_t n, std::size_t size) {
    ++allocations;
    return std::calloc(n, size);
  }
  static void* do_realloc(void*, void* p, std::size_t n) {
    ++allocations;  // counted as one: it may move the block
    return std::realloc(p, n);
  }
  static void* do_aligned_alloc(void*, std::size_t align, std::size_t n) {
    ++allocations;
    return std::aligned_alloc(align, (n + align - 1) / align * align);
  }
  static void do_aligned_free(void*, std::size_t, void* p) { std::free(p); }

  static void install() {
    static raft_heap heap{nullptr, do_malloc, do_free, do_calloc, do_realloc, do_aligned_alloc, do_aligned_free};
    raft_heap_set(&heap);
  }
};

// The state machine of each server: counts applies and snapshots; a snapshot
// is the 8-byte apply count.
struct canonical_fsm_state {
  std::uint64_t applied = 0;
  std::uint64_t snapshots = 0;

  static int apply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
    auto* s = static_cast<canonical_fsm_state*>(fsm->data);
    ++s->applied;
    (void)buf;
    *result = nullptr;
    return 0;
  }
  static int snapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs) {
    auto* s = static_cast<canonical_fsm_state*>(fsm->data);
    ++s->snapshots;
    auto* b = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
    if (b == nullptr) return RAFT_NOMEM;
    b->len = sizeof s->applied;
    b->base = raft_malloc(b->len);
    if (b->base == nullptr) {
      raft_free(b);
      return RAFT_NOMEM;
    }
    std::memcpy(b->base, &s->applied, b->len);
    *bufs = b;
    *n_bufs = 1;
    return 0;
  }
  // Version 2: the buffers snapshot() made are freed here, by their maker.
  static int snapshot_finalize(raft_fsm*, raft_buffer* bufs[], unsigned* n_bufs) {
    if (*bufs != nullptr) {
      for (unsigned k = 0; k < *n_bufs; ++k) raft_free((*bufs)[k].base);
      raft_free(*bufs);
    }
    *bufs = nullptr;
    *n_bufs = 0;
    return 0;
  }
  static int restore(raft_fsm* fsm, raft_buffer* buf) {
    auto* s = static_cast<canonical_fsm_state*>(fsm->data);
    if (buf->len == sizeof s->applied) std::memcpy(&s->applied, buf->base, buf->len);
    raft_free(buf->base);
    return 0;
  }
};

// raft_apply's completion: nothing to do, the benchmark watches last_applied.
inline void canonical_apply_done(struct raft_apply*, int, void*) {}

// A bound on fixture steps per commit: a cluster that stops making progress
// ends the run with an error instead of spinning.
inline constexpr unsigned max_steps_per_commit = 1000000;
// Network and disk latency of every server, in (simulated) milliseconds: at 0
// the fixture's scheduler starves one follower.
inline constexpr unsigned canonical_latency_ms = 1;
// Warm-up: while the leader's log still holds index 1 the fixture copies the
// whole log on every step (quadratic). So the warm-up first snapshots often
// with a short trailing log until every server has compacted twice, then puts
// raft.h's defaults back and commits canonical_warmup_entries more, so that
// the timed part runs canonical raft as configured by default.
inline constexpr unsigned canonical_warmup_entries = 4096;
inline constexpr unsigned canonical_warmup_snapshot_threshold = 64;
inline constexpr unsigned canonical_warmup_snapshot_trailing = 16;
inline constexpr unsigned canonical_snapshot_threshold = 1024;  // raft.h's documented defaults
inline constexpr unsigned canonical_snapshot_trailing = 128;

class canonical_cluster {
 public:
  static constexpr unsigned n = 3;

  canonical_cluster() = default;
  canonical_cluster(const canonical_cluster&) = delete;
  canonical_cluster& operator=(const canonical_cluster&) = delete;
  ~canonical_cluster() {
    if (open_) raft_fixture_close(&f_);
  }

  // Builds, elects server 0 and warms up past the first snapshot on every
  // server; empty on success, else what went wrong.
  [[nodiscard]] std::string start() {
    canonical_heap_counter::install();
    if (int rv = raft_fixture_initialize(&f_); rv != 0)
      return std::string{"raft_fixture_initialize: "} + raft_strerror(rv);
    open_ = true;
    for (unsigned i = 0; i < n; ++i) {
      fsms_[i] = raft_fsm{};
      fsms_[i].version = 2;
      fsms_[i].data = &states_[i];
      fsms_[i].apply = canonical_fsm_state::apply;
      fsms_[i].snapshot = canonical_fsm_state::snapshot;
      fsms_[i].restore = canonical_fsm_state::restore;
      fsms_[i].snapshot_finalize = canonical_fsm_state::snapshot_finalize;
      if (int rv = raft_fixture_grow(&f_, &fsms_[i]); rv != 0)
        return std::string{"raft_fixture_grow: "} + raft_strerror(rv);
      raft_fixture_set_network_latency(&f_, i, canonical_latency_ms);
      raft_fixture_set_disk_latency(&f_, i, canonical_latency_ms);
    }
    raft_configuration conf;
    if (int rv = raft_fixture_configuration(&f_, n, &conf); rv != 0)
      return std::string{"raft_fixture_configuration: "} + raft_strerror(rv);
    const int boot = raft_fixture_bootstrap(&f_, &conf);
    raft_configuration_close(&conf);
    if (boot != 0) return std::string{"raft_fixture_bootstrap: "} + raft_strerror(boot);
    if (int rv = raft_fixture_start(&f_); rv != 0) return std::string{"raft_fixture_start: "} + raft_strerror(rv);
    for (unsigned i = 0; i < n; ++i) {
      raft_set_snapshot_threshold(raft_fixture_get(&f_, i), canonical_warmup_snapshot_threshold);
      raft_set_snapshot_trailing(raft_fixture_get(&f_, i), canonical_warmup_snapshot_trailing);
    }
    raft_fixture_elect(&f_, 0);
    if (raft_state(leader()) != RAFT_LEADER) return "server 0 was not elected";
    for (unsigned k = 0; !snapshotted_everywhere(); ++k) {
      if (k > canonical_warmup_entries) return "no snapshot on every server during warm-up";
      if (!commit_one()) return "warm-up commit failed";
    }
    for (unsigned i = 0; i < n; ++i) {
      raft_set_snapshot_threshold(raft_fixture_get(&f_, i), canonical_snapshot_threshold);
      raft_set_snapshot_trailing(raft_fixture_get(&f_, i), canonical_snapshot_trailing);
    }
    for (unsigned k = 0; k < canonical_warmup_entries; ++k)
      if (!commit_one()) return "warm-up commit failed";
    return {};
  }

  // One raft_apply of one 64-byte command, stepping until all three applied it.
  [[nodiscard]] bool commit_one() {
    raft_buffer buf{raft_malloc(command_bytes_), command_bytes_};
    if (buf.base == nullptr) return false;
    std::memset(buf.base, 0, command_bytes_);
    if (raft_apply(leader(), &requests_[0], &buf, 1, canonical_apply_done) != 0) {
      raft_free(buf.base);
      return false;
    }
    return step_until_applied(raft_last_index(leader()));
  }

  // `count` raft_apply calls of one command each (like `count` proposals),
  // or with one_request one raft_apply carrying all `count` buffers; then
  // steps until all three applied the last.
  [[nodiscard]] bool commit_batch(unsigned count, bool one_request) {
    if (requests_.size() < count) requests_.resize(count);
    bufs_.resize(count);
    for (auto& b : bufs_) {
      b = raft_buffer{raft_malloc(command_bytes_), command_bytes_};
      if (b.base == nullptr) return false;
      std::memset(b.base, 0, command_bytes_);
    }
    if (one_request) {
      if (raft_apply(leader(), &requests_[0], bufs_.data(), count, canonical_apply_done) != 0) return false;
    } else {
      for (unsigned k = 0; k < count; ++k)
        if (raft_apply(leader(), &requests_[k], &bufs_[k], 1, canonical_apply_done) != 0) return false;
    }
    return step_until_applied(raft_last_index(leader()));
  }

  // Simulated milliseconds from raft_apply to the leader's commit and to the
  // last server's apply, with every network and disk delay 1 ms.
  struct latency {
    long leader_commit_ms = -1;
    long all_applied_ms = -1;
  };
  [[nodiscard]] latency measure_latency() {
    latency l;
    raft_buffer buf{raft_malloc(command_bytes_), command_bytes_};
    if (buf.base == nullptr) return l;
    std::memset(buf.base, 0, command_bytes_);
    const raft_time t0 = raft_fixture_time(&f_);
    if (raft_apply(leader(), &requests_[0], &buf, 1, canonical_apply_done) != 0) return l;
    const raft_index i = raft_last_index(leader());
    for (unsigned k = 0; k < max_steps_per_commit; ++k) {
      if (l.leader_commit_ms < 0 && leader()->commit_index >= i)
        l.leader_commit_ms = static_cast<long>(raft_fixture_time(&f_) - t0);
      if (applied_everywhere(i)) {
        l.all_applied_ms = static_cast<long>(raft_fixture_time(&f_) - t0);
        return l;
      }
      raft_fixture_step(&f_);
    }
    return l;
  }

  [[nodiscard]] raft* leader() noexcept { return raft_fixture_get(&f_, 0); }
  [[nodiscard]] std::uint64_t applied_everywhere_count() const noexcept {
    std::uint64_t least = states_[0].applied;
    for (const auto& s : states_) least = std::min(least, s.applied);
    return least;
  }
  [[nodiscard]] std::uint64_t steps() const noexcept { return steps_; }
  [[nodiscard]] std::uint64_t messages_sent() noexcept {
    std::uint64_t total = 0;
    for (unsigned i = 0; i < n; ++i)
      for (int type : {RAFT_IO_APPEND_ENTRIES, RAFT_IO_APPEND_ENTRIES_RESULT})
        total += raft_fixture_n_send(&f_, i, type);
    return total;
  }

 private:
  [[nodiscard]] bool applied_everywhere(raft_index i) noexcept {
    for (unsigned s = 0; s < n; ++s)
      if (raft_last_applied(raft_fixture_get(&f_, s)) < i) return false;
    return true;
  }
  [[nodiscard]] bool snapshotted_everywhere() const noexcept {
    for (const auto& s : states_)
      if (s.snapshots < 2) return false;
    return true;
  }
  [[nodiscard]] bool step_until_applied(raft_index i) {
    for (unsigned k = 0; !applied_everywhere(i); ++k) {
      if (k == max_steps_per_commit) return false;
      raft_fixture_step(&f_);
      ++steps_;
    }
    return true;
  }

  static constexpr std::size_t command_bytes_ = 64;
  raft_fixture f_{};
  bool open_ = false;
  raft_fsm fsms_[n]{};
  canonical_fsm_state states_[n]{};
  std::vector<struct raft_apply> requests_ = std::vector<struct raft_apply>(1);
  std::vector<raft_buffer> bufs_;
  std::uint64_t steps_ = 0;
};

}  // namespace quorum_bench
