// Single-decree Paxos (the synod) as three small roles, free of I/O: the
// acceptor's durable state and its two rules, the proposer's two phases, and
// the learner's tally. register.hpp puts them on the wire; the Multi-Paxos
// node applies the same rules per slot under one promise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/quorums.hpp"

namespace quorum::paxos {

// Everything an acceptor must not forget: the highest ballot promised and the
// last value accepted (accepted.round == 0: none). Kept in the Log's hard state.
struct acceptor_state {
  ballot promised{};
  ballot accepted{};
  byte_buffer value;

  [[nodiscard]] bool has_value() const noexcept { return accepted.round != 0; }
};

inline constexpr std::uint8_t acceptor_state_version = 1;

inline void encode_acceptor_state(const acceptor_state& s, byte_buffer& out) {
  codec::writer w{out};
  w.u8(acceptor_state_version);
  w.varint(s.promised.round);
  w.varint(s.promised.node.value());
  w.varint(s.accepted.round);
  w.varint(s.accepted.node.value());
  w.prefixed_bytes(s.value);
}

// An empty blob is a new acceptor. max_value_bytes bounds the copy.
[[nodiscard]] inline result<acceptor_state> decode_acceptor_state(byte_view b, std::size_t max_value_bytes) {
  acceptor_state s;
  if (b.empty()) return s;
  codec::reader r{b};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != acceptor_state_version)
    return fail(errc::malformed, "paxos acceptor state: unknown version", *version);
  std::uint64_t f[4];
  for (auto& x : f) {
    auto v = r.varint();
    if (!v) return unexpected{v.error()};
    x = *v;
  }
  auto value = r.prefixed_bytes(max_value_bytes);
  if (!value) return unexpected{value.error()};
  QUORUM_TRY(r.expect_end());
  s.promised = ballot{f[0], node_id{f[1]}};
  s.accepted = ballot{f[2], node_id{f[3]}};
  if (s.accepted > s.promised) return fail(errc::malformed, "paxos acceptor state: accepted above promised");
  if (!s.promised.in_range()) return fail(errc::malformed, "paxos acceptor state: ballot round out of range", f[0]);
  s.value = to_buffer(*value);
  return s;
}

// The acceptor's two rules. Each change sets dirty(): the caller saves and
// syncs the state before it answers (the durability rule).
class acceptor {
 public:
  acceptor() = default;
  explicit acceptor(acceptor_state s) : state_{std::move(s)} {}

  // Phase 1b: promise b unless a higher ballot was promised. Granting the
  // same ballot again is idempotent (a retransmitted prepare).
  bool prepare(ballot b) {
    if (b < state_.promised) return false;
    if (b > state_.promised) {
      state_.promised = b;
      dirty_ = true;
    }
    return true;
  }

  // Phase 2b: accept (b, v) unless a higher ballot was promised.
  bool accept(ballot b, byte_view v) {
    if (b < state_.promised) return false;
    if (state_.accepted == b) return true;  // one value per ballot: a retransmission
    state_.promised = b;
    state_.accepted = b;
    state_.value.assign(v.begin(), v.end());
    dirty_ = true;
    return true;
  }

  [[nodiscard]] const acceptor_state& state() const noexcept { return state_; }
  [[nodiscard]] bool dirty() const noexcept { return dirty_; }
  void saved() noexcept { dirty_ = false; }

 private:
  acceptor_state state_;
  bool dirty_{false};
};

// The proposer of one ballot: collects phase-1 promises, keeping the value
// accepted at the highest ballot (the one it must propose), then phase-2
// acknowledgements. Each acceptor counts once per phase.
class proposer {
 public:
  enum class phase : std::uint8_t { idle, one, two, done };

  void start(ballot b) {
    bal_ = b;
    phase_ = phase::one;
    promised_ = accepted_ = 0;
    highest_ = ballot{};
    value_.clear();
  }

  // A promise from the acceptor at `position`, reporting what it accepted.
  // True when this promise completed phase 1.
  bool on_promise(const membership& m, std::size_t position, ballot accepted, byte_view value) {
    if (phase_ != phase::one) return false;
    promised_ |= membership::bit(position);
    if (accepted.round != 0 && accepted > highest_) {
      highest_ = accepted;
      value_.assign(value.begin(), value.end());
    }
    return m.phase1_reached(promised_);
  }

  // Phase 1 done: from here on the ballot proposes `v` (which must be the
  // highest accepted value if there was one, or anything otherwise).
  void start_accept(byte_view v) {
    QUORUM_ASSERT(phase_ == phase::one);
    phase_ = phase::two;
    value_.assign(v.begin(), v.end());
  }

  // True when this acknowledgement made the value chosen.
  bool on_accepted(const membership& m, std::size_t position) {
    if (phase_ != phase::two) return false;
    accepted_ |= membership::bit(position);
    if (!m.phase2_reached(accepted_)) return false;
    phase_ = phase::done;
    return true;
  }

  void abandon() noexcept { phase_ = phase::idle; }

  [[nodiscard]] phase current() const noexcept { return phase_; }
  [[nodiscard]] ballot bal() const noexcept { return bal_; }
  [[nodiscard]] ballot highest_accepted() const noexcept { return highest_; }
  // Phase one: the highest accepted value so far; phase two: the value proposed.
  [[nodiscard]] byte_view value() const noexcept { return value_; }
  [[nodiscard]] std::uint64_t promised_mask() const noexcept { return promised_; }
  [[nodiscard]] std::uint64_t accepted_mask() const noexcept { return accepted_; }

 private:
  ballot bal_{};
  phase phase_{phase::idle};
  std::uint64_t promised_{0};
  std::uint64_t accepted_{0};
  ballot highest_{};
  byte_buffer value_;
};

// A learner: a value is chosen once a phase-2 quorum of acceptors accepted
// it at one ballot. Fed each acceptor's latest accepted ballot.
class learner {
 public:
  // True when `b` is now chosen: a phase-2 quorum's latest accept is b.
  bool on_accepted(const membership& m, std::size_t position, ballot b) {
    if (chosen_) return *chosen_ == b;
    if (b != tally_ballot_) {
      if (b < tally_ballot_) return false;
      tally_ballot_ = b;
      mask_ = 0;
    }
    mask_ |= membership::bit(position);
    if (m.phase2_reached(mask_)) chosen_ = b;
    return chosen_.has_value();
  }

  [[nodiscard]] std::optional<ballot> chosen() const noexcept { return chosen_; }

 private:
  ballot tally_ballot_{};
  std::uint64_t mask_{0};
  std::optional<ballot> chosen_;
};

}  // namespace quorum::paxos
