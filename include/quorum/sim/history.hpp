// Histories of key-value client operations: what each client asked, what it
// was told and when. Filled by a recorder around a simulated or a real client
// and judged by the linearizability checker (sim/linearizability.hpp).
//
// API
//   value                 a key or a value: absent, an integer, a boolean or an
//                         interned string (a symbol). 16 bytes, trivially
//                         copyable, O(1) to compare and hash.
//   op_kind               read | write | incr | cas
//   op_status             ok      the client got an answer;
//                         failed  it definitely did not take effect ("not leader");
//                         unknown it may or may not take effect, at any time after
//                                 its invocation (timed out, client crashed).
//   operation             one call: client, key, kind, status, input, expected,
//                         output, invoke and complete (return) times.
//   history               the operations of a run plus the string table of its
//                         symbols. intern("x") gives the value for a string;
//                         text(v) renders one; read/write/incr/cas append a
//                         hand-written operation; describe(i) explains op i.
//   recorder              invoke(...) when a client sends, then ok/failed/unknown
//                         when it hears back (or gives up); take() yields the
//                         history, with operations still open marked unknown.
//                         Safe to call from several client threads.
//
// Semantics of the modelled store (per key, starting absent):
//   read            output is the current value (value::absent() if none)
//   write(v)        sets the value to v
//   incr(d)         the value (absent counts as 0) plus the integer d, wrapping
//                   at 64 bits; output is the new value. Illegal on a
//                   non-integer value.
//   cas(e, v)       if the value equals e, sets it to v; output is
//                   value::boolean(swapped)
// Times are integers in any unit; intervals are closed: an operation that
// returns at t and one invoked at t are concurrent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum::sim {

class value {
 public:
  enum class tag : std::uint8_t { absent, integer, boolean, symbol };

  constexpr value() noexcept = default;
  [[nodiscard]] static constexpr value absent() noexcept { return value{}; }
  [[nodiscard]] static constexpr value integer(std::int64_t v) noexcept {
    return value{tag::integer, static_cast<std::uint64_t>(v)};
  }
  [[nodiscard]] static constexpr value boolean(bool b) noexcept {
    return value{tag::boolean, b ? 1U : 0U};
  }
  // A string by its index in a history's string table; use history::intern.
  [[nodiscard]] static constexpr value symbol(std::uint32_t id) noexcept {
    return value{tag::symbol, id};
  }

  [[nodiscard]] constexpr tag kind() const noexcept { return tag_; }
  [[nodiscard]] constexpr bool is_absent() const noexcept { return tag_ == tag::absent; }
  [[nodiscard]] constexpr bool is_integer() const noexcept { return tag_ == tag::integer; }
  [[nodiscard]] constexpr bool is_boolean() const noexcept { return tag_ == tag::boolean; }
  [[nodiscard]] constexpr bool is_symbol() const noexcept { return tag_ == tag::symbol; }
  [[nodiscard]] constexpr std::int64_t as_integer() const noexcept {
    return static_cast<std::int64_t>(bits_);
  }
  [[nodiscard]] constexpr bool as_boolean() const noexcept { return bits_ != 0; }
  [[nodiscard]] constexpr std::uint32_t as_symbol() const noexcept {
    return static_cast<std::uint32_t>(bits_);
  }

  [[nodiscard]] constexpr std::uint64_t hash() const noexcept {
    std::uint64_t z = bits_ + 0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(tag_) + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  friend constexpr bool operator==(const value&, const value&) noexcept = default;

 private:
  constexpr value(tag t, std::uint64_t bits) noexcept : bits_{bits}, tag_{t} {}
  std::uint64_t bits_{0};
  tag tag_{tag::absent};
};

struct value_hash {
  std::size_t operator()(const value& v) const noexcept { return static_cast<std::size_t>(v.hash()); }
};

enum class op_kind : std::uint8_t { read, write, incr, cas };
enum class op_status : std::uint8_t { ok, failed, unknown };

[[nodiscard]] constexpr const char* to_string(op_kind k) noexcept {
  switch (k) {
    case op_kind::read: return "read";
    case op_kind::write: return "write";
    case op_kind::incr: return "incr";
    case op_kind::cas: return "cas";
  }
  return "?";
}

struct operation {
  std::uint64_t client{0};
  value key;
  op_kind kind{op_kind::read};
  op_status status{op_status::unknown};
  value input;     // write: the value written; incr: the integer delta; cas: the new value
  value expected;  // cas: the value compared against
  value output;    // when ok: read: the value seen; incr: the new value; cas: boolean swapped
  std::int64_t invoke{0};
  std::int64_t complete{0};  // the return time; meaningless while status is unknown
};

class history {
 public:
  // The value for a string; the same string always gives the same symbol.
  value intern(std::string_view s) {
    if (auto it = index_.find(std::string{s}); it != index_.end()) return value::symbol(it->second);
    const auto id = static_cast<std::uint32_t>(strings_.size());
    strings_.emplace_back(s);
    index_.emplace(strings_.back(), id);
    return value::symbol(id);
  }

  // A value as text: integers in decimal, strings quoted, absent as `absent`.
  [[nodiscard]] std::string text(value v) const {
    switch (v.kind()) {
      case value::tag::absent: return "absent";
      case value::tag::integer: return std::to_string(v.as_integer());
      case value::tag::boolean: return v.as_boolean() ? "true" : "false";
      case value::tag::symbol:
        if (v.as_symbol() < strings_.size()) return '"' + strings_[v.as_symbol()] + '"';
        return "#sym" + std::to_string(v.as_symbol());
    }
    return "?";
  }

  std::size_t add(const operation& op) {
    ops_.push_back(op);
    return ops_.size() - 1;
  }

  // Hand-written histories; `complete` is ignored when status is unknown.
  std::size_t read(std::uint64_t client, value key, value seen, std::int64_t invoke,
                   std::int64_t complete, op_status status = op_status::ok) {
    return add({client, key, op_kind::read, status, {}, {}, seen, invoke, complete});
  }
  std::size_t write(std::uint64_t client, value key, value v, std::int64_t invoke,
                    std::int64_t complete, op_status status = op_status::ok) {
    return add({client, key, op_kind::write, status, v, {}, {}, invoke, complete});
  }
  std::size_t incr(std::uint64_t client, value key, std::int64_t delta, value result,
                   std::int64_t invoke, std::int64_t complete, op_status status = op_status::ok) {
    return add({client, key, op_kind::incr, status, value::integer(delta), {}, result, invoke, complete});
  }
  std::size_t cas(std::uint64_t client, value key, value expected, value v, bool swapped,
                  std::int64_t invoke, std::int64_t complete, op_status status = op_status::ok) {
    return add({client, key, op_kind::cas, status, v, expected, value::boolean(swapped), invoke,
                complete});
  }

  [[nodiscard]] std::span<const operation> operations() const noexcept { return ops_; }
  [[nodiscard]] std::size_t size() const noexcept { return ops_.size(); }
  [[nodiscard]] const operation& operator[](std::size_t i) const noexcept { return ops_[i]; }
  [[nodiscard]] operation& operator[](std::size_t i) noexcept { return ops_[i]; }

  // One line on operation i, e.g. `op 12: client 3 read "x" -> 1 [5, 7]`.
  [[nodiscard]] std::string describe(std::size_t i) const {
    const operation& op = ops_[i];
    std::string s = "op " + std::to_string(i) + ": client " + std::to_string(op.client) + ' ' +
                    to_string(op.kind) + ' ' + text(op.key);
    if (op.kind == op_kind::write || op.kind == op_kind::incr) s += ' ' + text(op.input);
    if (op.kind == op_kind::cas) s += ' ' + text(op.expected) + " -> " + text(op.input);
    const bool answers = op.kind != op_kind::write;
    switch (op.status) {
      case op_status::ok:
        if (answers) s += (op.kind == op_kind::cas ? " = " : " -> ") + text(op.output);
        s += " [" + std::to_string(op.invoke) + ", " + std::to_string(op.complete) + ']';
        break;
      case op_status::failed:
        s += " failed [" + std::to_string(op.invoke) + ", " + std::to_string(op.complete) + ']';
        break;
      case op_status::unknown: s += " unknown [" + std::to_string(op.invoke) + ", ...)"; break;
    }
    return s;
  }

 private:
  std::vector<operation> ops_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> index_;
};

struct recorder_options {
  std::size_t max_operations{10'000'000};  // invoke fails with too_large beyond this
};

// Wraps a client: call invoke() just before a request leaves and ok(),
// failed() or unknown() when the client learns its fate. Guarded by a mutex
// so that a real multi-threaded client can share one recorder.
class recorder {
 public:
  explicit recorder(recorder_options options = {}) : options_{options} {}

  value intern(std::string_view s) {
    std::lock_guard lock{mu_};
    return history_.intern(s);
  }

  // Returns the operation's id; `expected` is for cas only.
  result<std::size_t> invoke(std::uint64_t client, op_kind kind, value key, value input,
                             std::int64_t time, value expected = {}) {
    std::lock_guard lock{mu_};
    if (history_.size() >= options_.max_operations)
      return fail(errc::too_large, "recorder: max_operations reached", options_.max_operations);
    if (kind == op_kind::incr && !input.is_integer())
      return fail(errc::invalid_argument, "recorder: incr needs an integer delta");
    operation op{client, key, kind, op_status::unknown, input, expected, {}, time, time};
    open_.push_back(true);
    return history_.add(op);
  }
  result<void> ok(std::size_t id, value output, std::int64_t time) {
    return finish(id, op_status::ok, output, time);
  }
  // The request definitely did not take effect (e.g. a clear "not leader").
  result<void> failed(std::size_t id, std::int64_t time) {
    return finish(id, op_status::failed, {}, time);
  }
  // The client gave up without knowing (timeout, crash): the operation stays
  // open-ended for the checker.
  result<void> unknown(std::size_t id) {
    std::lock_guard lock{mu_};
    QUORUM_TRY(close(id));
    return {};
  }

  // The history so far; operations not completed yet are unknown.
  [[nodiscard]] history take() {
    std::lock_guard lock{mu_};
    open_.clear();
    return std::exchange(history_, history{});
  }

 private:
  result<void> close(std::size_t id) {
    if (id >= open_.size()) return fail(errc::not_found, "recorder: no such operation", id);
    if (!open_[id]) return fail(errc::invalid_argument, "recorder: operation already completed", id);
    open_[id] = false;
    return {};
  }
  result<void> finish(std::size_t id, op_status status, value output, std::int64_t time) {
    std::lock_guard lock{mu_};
    if (id < open_.size() && time < history_[id].invoke)
      return fail(errc::invalid_argument, "recorder: operation returned before it was invoked", id);
    QUORUM_TRY(close(id));
    operation& op = history_[id];
    op.status = status;
    op.output = output;
    op.complete = time;
    return {};
  }

  recorder_options options_;
  std::mutex mu_;
  history history_;
  std::vector<bool> open_;
};

}  // namespace quorum::sim
