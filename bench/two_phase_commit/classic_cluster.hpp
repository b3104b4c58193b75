// The classic two-phase commit side of quorum_2pc_bench: one coordinator
// (node 1) and N participants (nodes 2..N+1) in one process, each over its own
// storage::memory_log (sync() only counts, so a forced write is one call on
// the Log policy), a transport queueing messages in reused slots, a frozen
// clock and resource managers that vote as the variant says.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quorum/storage/memory_log.hpp"
#include "quorum/two_phase_commit.hpp"

namespace tpc_bench {

using quorum::byte_buffer;
using quorum::byte_view;
using quorum::node_id;
namespace tpc = quorum::two_phase_commit;

// How a message crosses the in-process network. copy: the struct is copied
// with its participant list; wire: it is encoded on send and the receiver
// decodes it, as over a socket.
enum class wire_mode { copy, wire };

// A FIFO of classic 2PC messages in slots whose buffers are kept and reused:
// once the queue has grown to the most messages ever in flight it allocates
// nothing.
class message_queue {
 public:
  struct slot {
    tpc::message m;
    std::vector<node_id> participants;
    byte_buffer bytes;
  };

  explicit message_queue(wire_mode mode) : mode_{mode}, slots_(initial_slots) {}

  void push(const tpc::message& m) {
    if (count_ == slots_.size()) grow();
    slot& s = slots_[(head_ + count_++) & (slots_.size() - 1)];
    ++sent_;
    s.m = m;
    if (mode_ == wire_mode::wire) {
      s.bytes.clear();
      encode(m, s.bytes);
      return;
    }
    // The sender's span is only valid during send(): keep a copy.
    s.participants.assign(m.participants.begin(), m.participants.end());
    s.m.participants = s.participants;
  }

  // Swaps the oldest slot into `out`, so nothing is copied or freed and `out`
  // stays valid while its receiver sends more.
  void pop(slot& out) {
    std::swap(out, slots_[head_]);
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
  }

  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
  [[nodiscard]] wire_mode mode() const noexcept { return mode_; }

 private:
  static constexpr std::size_t initial_slots = 64;  // a power of two, and so every size after it

  void grow() {
    std::vector<slot> bigger(slots_.size() * 2);
    for (std::size_t k = 0; k < count_; ++k) bigger[k] = std::move(slots_[(head_ + k) & (slots_.size() - 1)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  wire_mode mode_;
  std::vector<slot> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::uint64_t sent_ = 0;
};

struct queue_transport {
  message_queue* q;
  void send(node_id, const tpc::message& m) { q->push(m); }
};

struct frozen_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<frozen_clock, duration>;
  [[nodiscard]] time_point now() const noexcept { return time_point{}; }
};

// Votes `v` on every transaction and counts what it is told.
struct fixed_vote_rm {
  tpc::vote v = tpc::vote::yes;
  std::uint64_t prepares = 0;
  std::uint64_t commits = 0;
  std::uint64_t aborts = 0;
  tpc::vote prepare(tpc::txn_id) noexcept {
    ++prepares;
    return v;
  }
  void commit(tpc::txn_id) noexcept { ++commits; }
  void abort(tpc::txn_id) noexcept { ++aborts; }
};

struct coordinator_policies {
  using transport = queue_transport;
  using log = quorum::storage::memory_log;
  using clock = frozen_clock;
};
struct participant_policies : coordinator_policies {
  using resource_manager = fixed_vote_rm;
};

// The variants of the table, each with the outcome it must reach.
enum class variant {
  presumed_abort_commit,   // every participant votes yes
  presumed_abort_abort,    // the first votes no, the rest yes
  presumed_commit_commit,  // every participant votes yes
  presumed_commit_abort,   // the first votes no
  read_only_one,           // presumed abort, the first votes read-only, the rest yes
  one_phase,               // presumed abort, a single participant (N is ignored)
};

[[nodiscard]] inline const char* to_string(variant v) noexcept {
  switch (v) {
    case variant::presumed_abort_commit: return "presumed abort, commit";
    case variant::presumed_abort_abort: return "presumed abort, abort";
    case variant::presumed_commit_commit: return "presumed commit, commit";
    case variant::presumed_commit_abort: return "presumed commit, abort";
    case variant::read_only_one: return "presumed abort, 1 read-only";
    case variant::one_phase: return "one-phase";
  }
  return "?";
}

[[nodiscard]] constexpr tpc::decision expected_outcome(variant v) noexcept {
  return v == variant::presumed_abort_abort || v == variant::presumed_commit_abort ? tpc::decision::abort
                                                                                     : tpc::decision::commit;
}

// A bound on the messages one drain may take, so that a cluster that stops
// making progress ends the benchmark with an error instead of spinning.
inline constexpr std::uint64_t max_messages_per_drain = 10'000'000;

class classic_cluster {
 public:
  using coordinator = tpc::coordinator<coordinator_policies>;
  using participant = tpc::participant<participant_policies>;

  classic_cluster(variant v, std::size_t n, wire_mode mode) : queue_{mode}, expected_{expected_outcome(v)} {
    if (v == variant::one_phase) n = 1;
    tpc::coordinator_options co;
    co.presumption = v == variant::presumed_commit_commit || v == variant::presumed_commit_abort
                         ? tpc::presumption::commit
                         : tpc::presumption::abort;
    coord_ = std::make_unique<coordinator>(node_id{1}, queue_transport{&queue_}, quorum::storage::memory_log{},
                                           frozen_clock{}, co);
    for (std::size_t i = 0; i < n; ++i) {
      const node_id id{i + 2};
      ids_.push_back(id);
      fixed_vote_rm rm;
      if (i == 0 && (v == variant::presumed_abort_abort || v == variant::presumed_commit_abort)) rm.v = tpc::vote::no;
      if (i == 0 && v == variant::read_only_one) rm.v = tpc::vote::read_only;
      parts_.push_back(std::make_unique<participant>(id, queue_transport{&queue_}, quorum::storage::memory_log{},
                                                     frozen_clock{}, rm));
    }
  }

  // Empty when every node started; else why not.
  [[nodiscard]] std::string check() const {
    if (!coord_->status()) return "coordinator: " + coord_->status().error().message();
    for (const auto& p : parts_)
      if (!p->status()) return "participant: " + p->status().error().message();
    return {};
  }

  // Begins the next transaction, first delivering messages until fewer than
  // `window` are open at the coordinator (window 1: one at a time).
  [[nodiscard]] bool begin_next(std::size_t window) {
    for (std::uint64_t k = 0; coord_->open_transactions() >= window; ++k) {
      if (queue_.empty() || k == max_messages_per_drain) return false;
      deliver_one();
    }
    return static_cast<bool>(coord_->begin(tpc::txn_id{++next_txn_}, ids_));
  }

  // Delivers until nothing is in flight; false if that takes unreasonably long.
  [[nodiscard]] bool drain() {
    for (std::uint64_t k = 0; !queue_.empty(); ++k) {
      if (k == max_messages_per_drain) return false;
      deliver_one();
    }
    return true;
  }

  // Takes the decisions reported since the last call; false if one is not
  // the variant's outcome.
  [[nodiscard]] bool take_decisions() {
    bool ok = true;
    for (const tpc::decided_txn& d : coord_->decisions()) ok = ok && d.decision == expected_;
    finished_ += coord_->decisions().size();
    coord_->clear_decisions();
    return ok;
  }

  // Transactions decided (and taken) so far.
  [[nodiscard]] std::uint64_t finished() const noexcept { return finished_; }
  [[nodiscard]] std::size_t open() const { return coord_->open_transactions(); }
  [[nodiscard]] std::uint64_t messages() const noexcept { return queue_.sent(); }
  // Forced writes as the nodes count them, and sync() calls as the Logs saw them.
  [[nodiscard]] std::uint64_t forced_writes() const {
    std::uint64_t k = coord_->stats().forced_writes;
    for (const auto& p : parts_) k += p->stats().forced_writes;
    return k;
  }
  [[nodiscard]] std::uint64_t syncs() const {
    std::uint64_t k = coord_->log().sync_count();
    for (const auto& p : parts_) k += p->log().sync_count();
    return k;
  }
  // Every participant's resource manager was told the outcome of every
  // transaction it did not vote no or read-only on.
  [[nodiscard]] std::uint64_t rm_outcomes() const {
    std::uint64_t k = 0;
    for (const auto& p : parts_) k += p->resource_manager().commits + p->resource_manager().aborts;
    return k;
  }

 private:
  void deliver_one() {
    queue_.pop(in_hand_);
    const std::uint64_t to = in_hand_.m.to.value();
    if (to == 1) {
      if (queue_.mode() == wire_mode::wire) coord_->receive(byte_view{in_hand_.bytes});
      else coord_->receive(in_hand_.m);
      return;
    }
    participant& p = *parts_[to - 2];
    if (queue_.mode() == wire_mode::wire) p.receive(byte_view{in_hand_.bytes});
    else p.receive(in_hand_.m);
  }

  message_queue queue_;
  message_queue::slot in_hand_;
  tpc::decision expected_;
  std::unique_ptr<coordinator> coord_;
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<participant>> parts_;
  std::uint64_t next_txn_ = 0;
  std::uint64_t finished_ = 0;
};

}  // namespace tpc_bench
