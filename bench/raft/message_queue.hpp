// The in-process network of the consensus benchmarks: one FIFO of messages
// in reused slots, shared by the Raft and Multi-Paxos clusters so that both
// pay the same transport cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "quorum/core/bytes.hpp"

namespace quorum_bench {

using quorum::byte_buffer;
using quorum::byte_view;

// How a message crosses the in-process network. copy: the message struct is
// copied with its entries (what canonical raft's fixture does too); wire: it
// is encoded on send and decoded by receive(byte_view), as over a socket.
enum class wire_mode { copy, wire };

// A FIFO of messages in slots whose buffers are kept and reused, so that once
// every slot has grown to its message's size the network allocates nothing.
// Message has `to`, `entries` (a span of entries, each with a `data` view)
// and, for Raft, `data` (a snapshot chunk); encode(message, byte_buffer&) is
// found by argument-dependent lookup.
template <class Message>
class basic_message_queue {
 public:
  using entry_type = std::remove_cvref_t<decltype(*std::declval<const Message&>().entries.begin())>;
  static constexpr bool has_data = requires(const Message& m) { m.data; };

  struct slot {
    Message m;
    std::vector<entry_type> entries;  // never shrinks: its first m.entries.size() are in use
    byte_buffer data;  // entry bytes (copy; never shrinks) or the whole encoded message (wire)
  };

  explicit basic_message_queue(wire_mode mode) : mode_{mode} {
    for (std::size_t k = 0; k < initial_slots; ++k) owned_.push_back(std::make_unique<slot>());
    index_slots();
  }

  // Most messages carry nothing but the struct: that copy is all they cost.
  // The ring's own bookkeeping is a mask and two counters: the harness must
  // not weigh on what it measures.
  void push(const Message& m) {
    if (count_ > mask_) grow();
    slot& s = *ring_[(head_ + count_++) & mask_];
    ++sent_;
    if (mode_ == wire_mode::wire) return encode_into(s, m);
    s.m = m;
    if (!m.entries.empty() || !extra(m).empty()) copy_payload(s, m);
  }

  // The oldest message, delivered in place: it stays queued (its slot is not
  // reused) until pop(), and slots never move, so it stays valid while the
  // receiver sends more.
  [[nodiscard]] const slot& front() const noexcept { return *ring_[head_]; }
  void pop() noexcept {
    head_ = (head_ + 1) & mask_;
    --count_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
  [[nodiscard]] wire_mode mode() const noexcept { return mode_; }

 private:
  static constexpr std::size_t initial_slots = 64;  // a power of two, as every size after it

  [[gnu::noinline]] static void encode_into(slot& s, const Message& m) {
    s.m.to = m.to;
    s.data.clear();
    encode(m, s.data);
  }

  // The entries' bytes and a snapshot chunk's, copied once each into the
  // slot's buffers, which only ever grow: in steady state no allocation and
  // no zeroing, one memcpy per entry.
  [[gnu::noinline]] static void copy_payload(slot& s, const Message& m) {
    std::size_t total = extra(m).size();
    for (const auto& e : m.entries) total += e.data.size();
    if (s.data.size() < total) s.data.resize(total);
    if (s.entries.size() < m.entries.size()) s.entries.resize(m.entries.size());
    std::byte* out = s.data.data();
    for (std::size_t k = 0; k < m.entries.size(); ++k) {
      entry_type copy = m.entries[k];
      const std::size_t n = copy.data.size();
      copy_bytes(out, copy.data.data(), n);
      copy.data = byte_view{out, n};
      s.entries[k] = copy;
      out += n;
    }
    s.m.entries = std::span<const entry_type>{s.entries.data(), m.entries.size()};
    if constexpr (has_data) {
      if (!m.data.empty()) std::memcpy(out, m.data.data(), m.data.size());
      s.m.data = byte_view{out, m.data.size()};
    }
  }

  // A command of 32 to 64 bytes (the benchmarks': 64) in two overlapping
  // fixed-size moves, a few vector instructions in line, as memory_log
  // copies it; anything else through memcpy. The copy itself is the fair
  // cost of a network; the call around it is not.
  [[gnu::always_inline]] static void copy_bytes(std::byte* out, const std::byte* in, std::size_t n) noexcept {
    if (n >= 32 && n <= 64) {
      std::memcpy(out, in, 32);
      std::memcpy(out + n - 32, in + n - 32, 32);
    } else if (n > 0) {
      std::memcpy(out, in, n);
    }
  }

  // The bytes a message carries besides its entries' (a Raft snapshot chunk).
  [[nodiscard]] static byte_view extra(const Message& m) noexcept {
    if constexpr (has_data) return m.data;
    else return {};
  }

  // Only while warming up: the queue doubles until it holds the most messages
  // ever in flight at once.
  [[gnu::noinline]] void grow() {
    std::vector<std::unique_ptr<slot>> bigger;
    bigger.reserve(owned_.size() * 2);
    for (std::size_t k = 0; k < owned_.size(); ++k) bigger.push_back(std::move(owned_[(head_ + k) & mask_]));
    while (bigger.size() < owned_.size() * 2) bigger.push_back(std::make_unique<slot>());
    owned_ = std::move(bigger);
    head_ = 0;
    index_slots();
  }

  void index_slots() {
    ring_.clear();
    for (const auto& s : owned_) ring_.push_back(s.get());
    mask_ = owned_.size() - 1;
  }

  wire_mode mode_;
  std::vector<std::unique_ptr<slot>> owned_;  // by pointer: a slot being delivered never moves
  std::vector<slot*> ring_;                   // owned_'s slots, in ring order
  std::size_t mask_ = 0;                      // ring_.size() - 1
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace quorum_bench
