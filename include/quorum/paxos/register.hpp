// quorum::paxos::register_node: one replicated value changed by full synod
// rounds, in the manner of CASPaxos (Rystsov 2018): change(op) runs phase 1,
// hands the value found to the user's update function with op, and runs
// phase 2 with the result. Every member is proposer and acceptor; promises
// and accepts leave only after the Log's sync() made them durable.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/concepts.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/synod.hpp"

namespace quorum::paxos {

// The register's application policy, for a type U and u of type U&:
//   u.update(id, op, current, next)  write into next (a byte_buffer&, empty) the
//                                    value that change `id` (a std::uint64_t)
//                                    makes of `current` with `op` (byte_views);
//                                    copying current makes it a read
//   u.done(id, r)                    change `id` finished: r (a const
//                                    result<byte_view>&) is the value now chosen,
//                                    or why it failed (errc::stale: a higher
//                                    ballot preempted it; errc::timeout)
template <class U>
concept RegisterFunction = requires(U& u, std::uint64_t id, byte_view b, byte_buffer& out,
                                    const result<byte_view>& r) {
  u.update(id, b, b, out);
  u.done(id, r);
};

struct register_options {
  std::uint32_t retransmit_ticks = 2;   // unanswered requests are sent again this often
  std::uint32_t timeout_ticks = 50;     // a change not finished by then fails with errc::timeout
  std::size_t max_value_bytes = std::size_t{1} << 16;  // the register's value, and an op
  std::size_t phase1_quorum = 0;        // 0: a majority
  std::size_t phase2_quorum = 0;        // 0: a majority
};

[[nodiscard]] inline result<void> validate(const register_options& o) noexcept {
  if (o.retransmit_ticks == 0) return fail(errc::invalid_config, "paxos register: retransmit_ticks must be at least 1");
  if (o.timeout_ticks == 0) return fail(errc::invalid_config, "paxos register: timeout_ticks must be at least 1");
  if (o.max_value_bytes == 0) return fail(errc::invalid_config, "paxos register: max_value_bytes must be at least 1");
  return {};
}

template <class P>
consteval bool check_register_policies() {
  static_assert(requires { typename P::transport; typename P::log; typename P::clock; typename P::state_machine; },
                "quorum::paxos::register_node: the policies struct must declare 'using transport = ...', "
                "'using log = ...', 'using clock = ...' and 'using state_machine = ...'");
  static_assert(RegisterFunction<typename P::state_machine>,
                "quorum::paxos::register_node: the state_machine must have 'update(std::uint64_t, "
                "quorum::byte_view op, quorum::byte_view current, quorum::byte_buffer& next)' and "
                "'done(std::uint64_t, const quorum::result<quorum::byte_view>&)'");
  return check_transport<typename P::transport, message>() && check_log<typename P::log>() &&
         check_clock<typename P::clock>();
}

template <class Policies>
class register_node {
  static_assert(check_register_policies<Policies>());

 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;
  using function_type = typename Policies::state_machine;

  register_node(node_id self, std::span<const node_id> members, transport_type transport, log_type log,
                clock_type clock, function_type fn, register_options opts = {})
      : transport_{std::move(transport)}, log_{std::move(log)}, clock_{std::move(clock)}, fn_{std::move(fn)},
        opts_{opts}, self_{self} {
    status_ = validate(opts);
    if (status_) status_ = membership::validate(self, members, opts.phase1_quorum, opts.phase2_quorum);
    if (!status_) return;
    members_ = membership{self, members, opts.phase1_quorum, opts.phase2_quorum};
    auto s = decode_acceptor_state(log_.state(), opts_.max_value_bytes);
    if (!s) {
      status_ = fail(errc::corrupt_log, "paxos register: the acceptor state does not decode", s.error().detail);
      return;
    }
    acceptor_ = acceptor{std::move(*s)};
    seen_ = acceptor_.state().promised;
    limits_.max_entries = 1;
    limits_.max_entry_bytes = opts_.max_value_bytes;
  }

  // Starts a read-modify-write of the value with op; the outcome reaches
  // state_machine.done(id, ...). One change at a time per node (errc::busy).
  result<std::uint64_t> change(byte_view op) {
    if (!status_) return unexpected{status_.error()};
    if (busy_) return fail(errc::busy, "paxos register: a change is in flight on this node");
    if (op.size() > opts_.max_value_bytes)
      return fail(errc::too_large, "paxos register: op over max_value_bytes", opts_.max_value_bytes);
    const ballot highest = std::max(seen_, acceptor_.state().promised);
    if (highest.exhausted())  // only damaged input gets here: the next round would wrap below the promise
      return fail(errc::out_of_range, "paxos register: ballot rounds exhausted", highest.round);
    busy_ = true;
    op_.assign(op.begin(), op.end());
    elapsed_ = since_send_ = 0;
    const ballot b = highest.next_for(self_);
    seen_ = b;
    proposer_.start(b);
    self_counted_ = false;
    acceptor_.prepare(b);
    persist();
    send_requests();
    maybe_flush();
    return id_;
  }

  void tick() {
    if (!status_ || !busy_) return;
    if (++elapsed_ >= opts_.timeout_ticks) return finish(fail(errc::timeout, "paxos register: the change timed out"));
    if (++since_send_ >= opts_.retransmit_ticks) {
      since_send_ = 0;
      send_requests();
    }
    maybe_flush();
  }

  void receive(const message& m) {
    if (!status_) return;
    step(m);
    maybe_flush();
  }

  void receive(byte_view bytes) {
    if (!status_) return;
    auto m = decode(bytes, scratch_, limits_);
    if (m) receive(*m);
    else ++dropped_;
  }

  // Syncs what changed, then sends the answers that sync made true.
  void flush() {
    while (status_) {
      if (log_dirty_) {
        if (auto r = log_.sync(); !r) return static_cast<void>(status_ = unexpected{r.error()});
        log_dirty_ = false;
      }
      if (!busy_ || self_counted_) break;
      count_self();  // may start phase two, which dirties the log again
    }
    if (!status_) return;
    for (const reply& r : replies_) send_reply(r);
    replies_.clear();
  }

  class batch_guard {
   public:
    explicit batch_guard(register_node& n) noexcept : n_{&n} { ++n_->batch_depth_; }
    batch_guard(const batch_guard&) = delete;
    batch_guard& operator=(const batch_guard&) = delete;
    ~batch_guard() {
      if (--n_->batch_depth_ == 0) n_->flush();
    }

   private:
    register_node* n_;
  };
  [[nodiscard]] batch_guard batch() noexcept { return batch_guard{*this}; }

  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] const acceptor_state& acceptor_view() const noexcept { return acceptor_.state(); }
  [[nodiscard]] bool busy() const noexcept { return busy_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }
  [[nodiscard]] transport_type& transport() noexcept { return transport_; }
  [[nodiscard]] log_type& log() noexcept { return log_; }
  [[nodiscard]] function_type& function() noexcept { return fn_; }

 private:
  struct reply {
    node_id to;
    message_type type;
    ballot bal;
  };

  void step(const message& m) {
    const std::size_t from = members_.position_of(m.from);
    if (m.to != self_ || from == membership::npos || from == members_.self() || m.entries.size() > 1)
      return static_cast<void>(++dropped_);
    if (!m.bal.in_range()) return static_cast<void>(++dropped_);  // damaged or forged (ballot::max_round)
    if (m.bal > seen_) seen_ = m.bal;
    switch (m.type) {
      case message_type::prepare: return on_prepare(m);
      case message_type::accept: return on_accept(m);
      case message_type::promise: return on_promise(m, from);
      case message_type::accepted: return on_accepted(m, from);
      default: ++dropped_; return;
    }
  }

  void on_prepare(const message& m) {
    if (!acceptor_.prepare(m.bal)) return send_reject(m, message_type::promise);
    persist();
    replies_.push_back(reply{m.from, message_type::promise, m.bal});
  }

  void on_accept(const message& m) {
    if (m.entries.empty()) return static_cast<void>(++dropped_);
    if (!acceptor_.accept(m.bal, m.entries.front().data)) return send_reject(m, message_type::accepted);
    persist();
    replies_.push_back(reply{m.from, message_type::accepted, m.bal});
  }

  void on_promise(const message& m, std::size_t from) {
    if (!busy_ || m.bal != proposer_.bal()) {
      if (busy_ && m.reject && m.bal > proposer_.bal())
        finish(fail(errc::stale, "paxos register: preempted by a higher ballot"));
      return;
    }
    if (m.reject) return;
    const entry* e = m.entries.empty() ? nullptr : &m.entries.front();
    if (e != nullptr && e->bal > m.bal) return static_cast<void>(++dropped_);  // cannot come from a correct acceptor
    if (proposer_.on_promise(members_, from, e ? e->bal : ballot{}, e ? e->data : byte_view{})) begin_phase_two();
  }

  void on_accepted(const message& m, std::size_t from) {
    if (!busy_) return;
    if (m.reject) {
      if (m.bal > proposer_.bal()) finish(fail(errc::stale, "paxos register: preempted by a higher ballot"));
      return;
    }
    if (m.bal == proposer_.bal() && proposer_.on_accepted(members_, from)) finish(proposer_.value());
  }

  // Counts our own promise or accept, once the sync covering it returned.
  void count_self() {
    self_counted_ = true;
    const acceptor_state& s = acceptor_.state();
    if (proposer_.current() == proposer::phase::one) {
      if (s.promised == proposer_.bal() && proposer_.on_promise(members_, members_.self(), s.accepted, s.value))
        begin_phase_two();
    } else if (proposer_.current() == proposer::phase::two) {
      if (s.accepted == proposer_.bal() && proposer_.on_accepted(members_, members_.self())) finish(proposer_.value());
    }
  }

  void begin_phase_two() {
    next_.clear();
    fn_.update(id_, op_, proposer_.value(), next_);
    if (next_.size() > opts_.max_value_bytes)
      return finish(
          fail(errc::too_large, "paxos register: the new value is over max_value_bytes", opts_.max_value_bytes));
    proposer_.start_accept(next_);
    if (!acceptor_.accept(proposer_.bal(), proposer_.value()))
      return finish(fail(errc::stale, "paxos register: preempted by a higher ballot"));
    self_counted_ = false;
    persist();
    since_send_ = 0;
    send_requests();
  }

  void send_requests() {
    const bool one = proposer_.current() == proposer::phase::one;
    const std::uint64_t answered = one ? proposer_.promised_mask() : proposer_.accepted_mask();
    const entry value{log_index{1}, proposer_.bal(), entry_kind::normal, proposer_.value()};
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (i == members_.self() || (answered & membership::bit(i)) != 0) continue;
      message m = outgoing(one ? message_type::prepare : message_type::accept, members_.at(i), proposer_.bal());
      if (!one) m.entries = std::span<const entry>{&value, 1};
      transport_.send(m.to, m);
    }
  }

  void send_reply(const reply& r) {
    const acceptor_state& s = acceptor_.state();
    if (r.type == message_type::promise && s.promised != r.bal) return;  // superseded: the proposer will hear a reject
    if (r.type == message_type::accepted && s.accepted != r.bal) return;
    message m = outgoing(r.type, r.to, r.bal);
    const entry e{log_index{1}, s.accepted, entry_kind::normal, s.value};
    if (r.type == message_type::promise && s.has_value()) m.entries = std::span<const entry>{&e, 1};
    transport_.send(m.to, m);
  }

  void send_reject(const message& to, message_type type) {
    message m = outgoing(type, to.from, acceptor_.state().promised);
    m.reject = true;
    transport_.send(m.to, m);
  }

  [[nodiscard]] message outgoing(message_type type, node_id to, ballot b) const noexcept {
    message m;
    m.type = type;
    m.from = self_;
    m.to = to;
    m.bal = b;
    return m;
  }

  void finish(const result<byte_view>& r) {
    busy_ = false;
    proposer_.abandon();
    fn_.done(id_++, r);
  }

  void persist() {
    if (!acceptor_.dirty()) return;
    state_buf_.clear();
    encode_acceptor_state(acceptor_.state(), state_buf_);
    if (auto r = log_.save_state(state_buf_); !r) status_ = unexpected{r.error()};
    acceptor_.saved();
    log_dirty_ = true;
  }

  void maybe_flush() {
    if (batch_depth_ == 0) flush();
  }

  [[no_unique_address]] transport_type transport_;
  [[no_unique_address]] log_type log_;
  [[no_unique_address]] clock_type clock_;
  [[no_unique_address]] function_type fn_;
  register_options opts_;
  node_id self_;
  membership members_;
  acceptor acceptor_;
  proposer proposer_;
  ballot seen_{};  // the highest ballot heard of: the next one goes above it
  bool busy_{false};
  bool self_counted_{true};
  bool log_dirty_{false};
  std::uint64_t id_{1};
  std::uint32_t elapsed_{0};
  std::uint32_t since_send_{0};
  std::uint64_t dropped_{0};
  int batch_depth_{0};
  byte_buffer op_;
  byte_buffer next_;
  byte_buffer state_buf_;
  std::vector<reply> replies_;
  std::vector<entry> scratch_;
  message_limits limits_{};
  result<void> status_{};
};

}  // namespace quorum::paxos
