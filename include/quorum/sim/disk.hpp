// The simulated disk. A sim_disk belongs to the world and outlives its node's
// crashes; sim_log is the node's handle on it, modelling quorum::Log. It keeps
// what a real checksummed file log keeps across a crash, and no more.
//
// API:
//   sim_disk d{options};  sim_log log{d};       // log.append/read/truncate/compact/...
//   d.crash(rng)          keep every synced call and a random prefix (in call
//                         order) of the unsynced ones; when the first lost call
//                         is an append it may count as torn (its checksum fails
//                         on recovery, so it is dropped, as a file log does)
//   d.current()           the image the node sees now (a checker may read it)
//   d.durable()           the image as of the last sync()
//   log.calls()           how many calls the disk has taken so far; a later
//   log.sync_through(n)   makes the first n of them durable (a started sync,
//                         core/log.hpp's start_sync, finishing)
//   d.counters()          appends, syncs, crashes, calls lost, torn writes
// sim_log::append_run (core/log.hpp's optional run append) journals each
// record of the run as its own append call, so a crash keeps a prefix of a
// run, and may tear the first record it loses, exactly as for single appends.
// Unsynced calls form an ordered journal replayed onto the durable image, so
// a sync costs O(calls since the last sync), not O(log size).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/log.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/result.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace quorum::sim {

struct disk_options {
  std::size_t max_record_bytes{1u << 20};   // append over this: errc::too_large
  std::size_t max_state_bytes{1u << 16};    // save_state over this: errc::too_large
  std::size_t max_records{1u << 22};        // append beyond this many retained: errc::too_large
};

struct disk_counters {
  std::uint64_t appends{0};        // records appended, one at a time or in runs
  std::uint64_t runs{0};           // append_run calls that appended
  std::uint64_t syncs{0};
  std::uint64_t crashes{0};
  std::uint64_t lost_calls{0};   // unsynced calls that did not survive a crash
  std::uint64_t torn_writes{0};  // crashes whose first lost call was a half-written append
};

// What a log holds: records at positions [first, first + records.size()) and the hard state.
struct disk_image {
  std::uint64_t first{1};
  std::deque<byte_buffer> records;
  byte_buffer state;

  [[nodiscard]] log_index first_index() const noexcept { return log_index{first}; }
  [[nodiscard]] log_index last_index() const noexcept { return log_index{first + records.size() - 1}; }
  [[nodiscard]] const byte_buffer* at(log_index i) const noexcept {
    if (i.value() < first || i.value() - first >= records.size()) return nullptr;
    return &records[static_cast<std::size_t>(i.value() - first)];
  }
};

class sim_disk {
 public:
  explicit sim_disk(const disk_options& options = {}) : options_{options} {}

  [[nodiscard]] const disk_image& current() const noexcept { return current_; }
  [[nodiscard]] const disk_image& durable() const noexcept { return durable_; }
  [[nodiscard]] const disk_counters& counters() const noexcept { return counters_; }
  [[nodiscard]] const disk_options& options() const noexcept { return options_; }
  [[nodiscard]] std::size_t unsynced_calls() const noexcept { return journal_.size(); }

  void crash(seeded_random& rng) {
    ++counters_.crashes;
    const auto kept = static_cast<std::size_t>(rng.below(journal_.size() + 1));
    if (kept < journal_.size() && journal_[kept].kind == call_kind::append && rng.chance(0.5))
      ++counters_.torn_writes;
    counters_.lost_calls += journal_.size() - kept;
    for (std::size_t i = 0; i < kept; ++i) apply(durable_, journal_[i]);
    journal_.clear();
    current_ = durable_;
  }

 private:
  friend class sim_log;
  enum class call_kind : std::uint8_t { append, truncate, compact, save_state };
  struct call {
    call_kind kind;
    std::uint64_t at;
    byte_buffer bytes;
  };

  static void apply(disk_image& img, const call& c) {
    switch (c.kind) {
      case call_kind::append: img.records.push_back(c.bytes); break;
      case call_kind::truncate:
        while (img.first + img.records.size() > c.at) img.records.pop_back();
        break;
      case call_kind::compact:
        if (c.at > img.first + img.records.size()) {
          img.records.clear();
        } else {
          while (img.first < c.at) {
            img.records.pop_front();
            ++img.first;
          }
        }
        img.first = std::max(img.first, c.at);
        break;
      case call_kind::save_state: img.state = c.bytes; break;
    }
  }
  void record(call c) {
    apply(current_, c);
    journal_.push_back(std::move(c));
    ++calls_;
  }
  void sync() {
    ++counters_.syncs;
    for (const call& c : journal_) apply(durable_, c);
    journal_.clear();
  }
  // The first n calls ever made are durable: those of them still journaled
  // (a sync or a crash since then settled the others) reach the image.
  void sync_through(std::uint64_t n) {
    const std::uint64_t settled = calls_ - journal_.size();
    if (n <= settled) return;
    ++counters_.syncs;
    const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n - settled, journal_.size()));
    for (std::size_t i = 0; i < k; ++i) apply(durable_, journal_[i]);
    journal_.erase(journal_.begin(), journal_.begin() + static_cast<std::ptrdiff_t>(k));
  }

  disk_options options_;
  disk_image durable_;
  disk_image current_;
  std::vector<call> journal_;
  std::uint64_t calls_{0};  // calls recorded, ever: the journal holds the last journal_.size() of them
  disk_counters counters_;
};

// A node's Log: a handle on its world-owned sim_disk. Recreate it (or keep
// it) after a crash; either way it shows the disk's post-crash image.
class sim_log {
 public:
  explicit sim_log(sim_disk& disk) noexcept : disk_{&disk} {}

  [[nodiscard]] log_index first_index() const noexcept { return disk_->current_.first_index(); }
  [[nodiscard]] log_index last_index() const noexcept { return disk_->current_.last_index(); }

  result<log_index> append(byte_view b) {
    if (b.size() > disk_->options_.max_record_bytes)
      return fail(errc::too_large, "record over disk_options::max_record_bytes", b.size());
    if (disk_->current_.records.size() >= disk_->options_.max_records)
      return fail(errc::too_large, "log over disk_options::max_records",
                  disk_->options_.max_records);
    ++disk_->counters_.appends;
    disk_->record({sim_disk::call_kind::append, 0, to_buffer(b)});
    return last_index();
  }

  // Every record checked first: on an error none is appended. Then one
  // journal call per record, so the crash model sees no run, only appends.
  result<log_index> append_run(std::span<const record_parts> records) {
    const disk_options& o = disk_->options_;
    for (const record_parts& r : records) {
      const std::size_t size = r.head.size() + r.body.size();
      if (size > o.max_record_bytes) return fail(errc::too_large, "record over disk_options::max_record_bytes", size);
    }
    if (records.size() > o.max_records - std::min(o.max_records, disk_->current_.records.size()))
      return fail(errc::too_large, "log over disk_options::max_records", o.max_records);
    if (std::numeric_limits<std::uint64_t>::max() - last_index().value() < records.size())
      return fail(errc::out_of_range, "log position space exhausted");
    for (const record_parts& r : records) {
      byte_buffer b;
      b.reserve(r.head.size() + r.body.size());
      b.insert(b.end(), r.head.begin(), r.head.end());
      b.insert(b.end(), r.body.begin(), r.body.end());
      ++disk_->counters_.appends;
      disk_->record({sim_disk::call_kind::append, 0, std::move(b)});
    }
    if (!records.empty()) ++disk_->counters_.runs;
    return last_index();
  }

  result<byte_view> read(log_index i) const {
    const byte_buffer* r = disk_->current_.at(i);
    if (r == nullptr) return fail(errc::out_of_range, "read outside [first_index, last_index]", i.value());
    return byte_view{*r};
  }

  result<void> truncate(log_index i) {
    if (i < first_index() || i > last_index().next())
      return fail(errc::out_of_range, "truncate outside [first_index, last_index + 1]", i.value());
    disk_->record({sim_disk::call_kind::truncate, i.value(), {}});
    return {};
  }

  result<void> compact(log_index i) {
    if (i.value() == 0) return fail(errc::out_of_range, "compact to position 0", 0);
    if (i <= first_index()) return {};  // nothing before i is left to drop
    disk_->record({sim_disk::call_kind::compact, i.value(), {}});
    return {};
  }

  result<void> save_state(byte_view b) {
    if (b.size() > disk_->options_.max_state_bytes)
      return fail(errc::too_large, "hard state over disk_options::max_state_bytes", b.size());
    disk_->record({sim_disk::call_kind::save_state, 0, to_buffer(b)});
    return {};
  }

  [[nodiscard]] byte_view state() const noexcept { return disk_->current_.state; }

  result<void> sync() {
    disk_->sync();
    return {};
  }

  // A failed fdatasync: the OS may have dropped any write not yet durable,
  // so the disk keeps what a crash would (a random prefix of the unsynced calls).
  void lose_unsynced(seeded_random& rng) { disk_->crash(rng); }
  [[nodiscard]] std::uint64_t calls() const noexcept { return disk_->calls_; }
  void sync_through(std::uint64_t n) { disk_->sync_through(n); }

 private:
  sim_disk* disk_;
};

static_assert(quorum::check_log<sim_log>());

// A node's snapshot store in the simulator: a save is atomic and durable, so
// the image lives with the driver (which outlives incarnations) and survives
// every crash; a node only holds this handle on it.
struct sim_snapshot_store {
  storage::memory_snapshot_store* store;
  result<void> save(byte_view b) { return store->save(b); }
  result<byte_view> load() { return store->load(); }
};

}  // namespace quorum::sim
