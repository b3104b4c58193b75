// The linearizability checker for key-value histories (sim/history.hpp): used
// on every simulation seed of Raft and Paxos and on the Jepsen-style test of a
// real server. Wing & Gong's search with Lowe's memoisation, as Porcupine does.
//
// API
//   check_options        budgets: max_steps, max_milliseconds (0: none),
//                        max_memory_bytes for the memo tables; max_explained_values.
//   check(history, options) -> result<check_result>
//     an error (invalid_argument, detail = operation index) when the history
//     is malformed: returned before invoked, incr with a non-integer delta or
//     result, cas without a boolean result, an unknown kind or status.
//   check_result.outcome ok        some order of the operations, consistent with
//                                  real time, explains every answer;
//                        violation no such order: `explanation` names the key,
//                                  the operation that cannot be placed and the
//                                  values the key could hold when it had to be;
//                        unknown   a budget ran out first (which one, on which
//                                  key: `what`). Steps and time are shared by all
//                                  keys and stop the check; memory is per key, so
//                                  a later key may still show a violation, which
//                                  always wins over unknown.
//
// How: the history is split by key (linearizability is compositional, so each
// key is checked alone). Per key, calls and returns become one list sorted by
// time (a call before a return at the same time). The search walks the list:
// at a call it tries to linearize that operation now (the model accepts its
// answer); at a return of an operation not yet linearized it backtracks.
// Each (set of linearized operations, model state) is visited once; the set
// is a bitset with an incrementally maintained Zobrist hash, remembered only
// as the window of words between its leading ones and trailing zeros (the
// set is nearly a prefix of the calls in time order). Failed operations
// are dropped; unknown ones have no return, so the search may linearize them
// at any point or never; unknown reads constrain nothing and are dropped.
// Cost: a linearizable history is usually accepted in a few steps per
// operation. Refuting one is harder, most of all with many unknown writes
// (each may or may not have happened: up to 2^k combinations); the budgets
// bound that and answer `unknown` rather than hang.
// The result depends only on the history and the step budget; a wall-clock
// budget may turn a slow check into `unknown` on a slower machine.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/result.hpp"
#include "quorum/sim/history.hpp"

namespace quorum::sim {

struct check_options {
  std::uint64_t max_steps{200'000'000};           // search steps over all keys; 0: no limit
  std::uint64_t max_milliseconds{0};              // wall clock; 0: no limit
  std::size_t max_memory_bytes{std::size_t{1} << 30};  // memo tables of one key
  std::size_t max_explained_values{8};            // values listed in a violation
};

enum class check_outcome : std::uint8_t { ok, violation, unknown };

[[nodiscard]] constexpr const char* to_string(check_outcome o) noexcept {
  switch (o) {
    case check_outcome::ok: return "ok";
    case check_outcome::violation: return "violation";
    case check_outcome::unknown: return "unknown";
  }
  return "?";
}

// Why a key's history has no linearization: the search could never get past
// the return of `operation` (an index into the history): in every order it
// tried, the key held one of `possible` when that operation had to take effect,
// and none of them gives its answer.
struct violation_explanation {
  value key;
  std::size_t operation{0};
  std::vector<value> possible;  // at most check_options::max_explained_values, first seen first
};

struct check_result {
  check_outcome outcome{check_outcome::ok};
  std::optional<violation_explanation> explanation;  // set on violation
  std::string what;              // one paragraph for a human: the violation or the budget
  std::uint64_t steps{0};        // search steps taken over all keys
  std::size_t keys{0};           // keys checked
  std::size_t memo_entries{0};   // the largest memo table of one key
};

namespace detail {

// The register-with-incr-and-cas model: whether `op` may take effect on
// `state`, and the state after it.
[[nodiscard]] inline bool lin_step(const operation& op, value& state) noexcept {
  const bool answered = op.status == op_status::ok;
  switch (op.kind) {
    case op_kind::read: return !answered || op.output == state;
    case op_kind::write: state = op.input; return true;
    case op_kind::incr: {
      if (!state.is_absent() && !state.is_integer()) return false;
      const std::uint64_t base = state.is_integer() ? static_cast<std::uint64_t>(state.as_integer()) : 0;
      const value next = value::integer(
          static_cast<std::int64_t>(base + static_cast<std::uint64_t>(op.input.as_integer())));
      if (answered && op.output != next) return false;
      state = next;
      return true;
    }
    case op_kind::cas: {
      const bool swaps = state == op.expected;
      if (answered && op.output.as_boolean() != swaps) return false;
      if (swaps) state = op.input;
      return true;
    }
  }
  return false;
}

[[nodiscard]] inline result<void> validate(const history& h) {
  // The search numbers calls and returns with 32-bit positions.
  if (h.size() >= (std::size_t{1} << 31)) return fail(errc::too_large, "history has too many operations", h.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    const operation& op = h[i];
    if (op.status != op_status::ok && op.status != op_status::failed && op.status != op_status::unknown)
      return fail(errc::invalid_argument, "operation has an unknown status", i);
    if (op.kind != op_kind::read && op.kind != op_kind::write && op.kind != op_kind::incr &&
        op.kind != op_kind::cas)
      return fail(errc::invalid_argument, "operation has an unknown kind", i);
    if (op.status != op_status::unknown && op.complete < op.invoke)
      return fail(errc::invalid_argument, "operation returned before it was invoked", i);
    if (op.kind == op_kind::incr && !op.input.is_integer())
      return fail(errc::invalid_argument, "incr needs an integer delta", i);
    if (op.status == op_status::ok && op.kind == op_kind::incr && !op.output.is_integer())
      return fail(errc::invalid_argument, "incr must return an integer", i);
    if (op.status == op_status::ok && op.kind == op_kind::cas && !op.output.is_boolean())
      return fail(errc::invalid_argument, "cas must return a boolean", i);
  }
  return {};
}

// One configuration of the search: which operations are linearized and the
// model's state. The completed operations' bitset is numbered in invocation
// order, so it is mostly a run of ones followed by zeros: it is kept and
// stored as the window [lo, hi) of words between the leading full words and
// the trailing empty ones. Unknown operations have a bitset of their own.
struct lin_config {
  std::vector<std::uint64_t> ok;   // completed operations
  std::vector<std::uint64_t> unk;  // unknown operations
  std::size_t lo{0};               // first word of ok that is not all ones
  std::size_t hi{0};               // one past the last non-zero word of ok
  std::uint64_t zobrist_ok{0};
  std::uint64_t zobrist_unk{0};
  value state;

  void flip_ok(std::uint32_t bit, std::uint64_t z) {
    const std::size_t w = bit / 64;
    ok[w] ^= std::uint64_t{1} << (bit % 64);
    zobrist_ok ^= z;
    if ((ok[w] >> (bit % 64)) & 1U) {
      hi = std::max(hi, w + 1);
      while (lo < ok.size() && ok[lo] == ~std::uint64_t{0}) ++lo;
    } else {
      lo = std::min(lo, w);
      while (hi > 0 && ok[hi - 1] == 0) --hi;
    }
  }
  void flip_unk(std::uint32_t bit, std::uint64_t z) {
    unk[bit / 64] ^= std::uint64_t{1} << (bit % 64);
    zobrist_unk ^= z;
  }
  [[nodiscard]] std::size_t ok_len() const noexcept { return hi > lo ? hi - lo : 0; }
};

// The memo of configurations already visited (Lowe's cache), in one arena so
// that an entry costs no allocation of its own.
class lin_memo {
 public:
  explicit lin_memo(std::size_t unk_words) : unk_words_{unk_words} { exact_.assign(1024, 0); }

  // Whether the configuration is new (and now remembered); `full` is set
  // instead when the memory budget is spent.
  bool visit(const lin_config& c, std::size_t max_bytes, bool& full) {
    const std::uint64_t h = exact_hash(c);
    for (std::size_t i = h & (exact_.size() - 1);; i = (i + 1) & (exact_.size() - 1)) {
      if (exact_[i] == 0) break;
      const std::uint32_t e = exact_[i] - 1;
      if (entries_[e].hash == h && same_ok(e, c) && same_unk(e, c)) return false;
    }
    if (bytes() + sizeof(entry) + 8 * (c.ok_len() + unk_words_) + 16 > max_bytes ||
        entries_.size() + 1 >= std::numeric_limits<std::uint32_t>::max()) {
      full = true;
      return false;
    }
    const auto id = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back({h, c.state, arena_.size(), static_cast<std::uint32_t>(c.lo),
                        static_cast<std::uint32_t>(c.ok_len())});
    arena_.insert(arena_.end(), c.ok.begin() + static_cast<std::ptrdiff_t>(c.lo),
                  c.ok.begin() + static_cast<std::ptrdiff_t>(c.lo + c.ok_len()));
    arena_.insert(arena_.end(), c.unk.begin(), c.unk.end());
    if (entries_.size() * 2 > exact_.size()) grow();
    place(h, id + 1);
    return true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct entry {
    std::uint64_t hash;
    value state;
    std::size_t offset;      // into arena_: ok_len words of the ok window, then the unknown words
    std::uint32_t lo;
    std::uint32_t ok_len;
  };

  static std::uint64_t exact_hash(const lin_config& c) noexcept {
    return c.zobrist_ok ^ c.zobrist_unk ^ c.state.hash();
  }
  [[nodiscard]] bool same_ok(std::uint32_t e, const lin_config& c) const {
    const entry& x = entries_[e];
    return x.state == c.state && x.lo == c.lo && x.ok_len == c.ok_len() &&
           std::equal(c.ok.begin() + static_cast<std::ptrdiff_t>(c.lo),
                      c.ok.begin() + static_cast<std::ptrdiff_t>(c.lo + c.ok_len()),
                      arena_.begin() + static_cast<std::ptrdiff_t>(x.offset));
  }
  [[nodiscard]] bool same_unk(std::uint32_t e, const lin_config& c) const {
    const auto* u = arena_.data() + entries_[e].offset + entries_[e].ok_len;
    return std::equal(c.unk.begin(), c.unk.end(), u);
  }
  [[nodiscard]] std::size_t bytes() const noexcept {
    return entries_.capacity() * sizeof(entry) + arena_.capacity() * 8 +
           exact_.size() * sizeof(std::uint32_t);
  }
  void place(std::uint64_t h, std::uint32_t slot) {
    const std::size_t mask = exact_.size() - 1;
    std::size_t i = h & mask;
    while (exact_[i] != 0) i = (i + 1) & mask;
    exact_[i] = slot;
  }
  void grow() {
    std::vector<std::uint32_t> old(exact_.size() * 2, 0);
    old.swap(exact_);
    for (const std::uint32_t slot : old)
      if (slot != 0) place(entries_[slot - 1].hash, slot);
  }

  std::size_t unk_words_;
  std::vector<entry> entries_;
  std::vector<std::uint64_t> arena_;
  std::vector<std::uint32_t> exact_;  // open addressing: entry id + 1; 0 is empty
};

// Steps and wall clock shared by every key of one check.
struct lin_budget {
  std::uint64_t steps{0};
  std::uint64_t max_steps{0};
  std::uint64_t max_ms{0};
  std::chrono::steady_clock::time_point start{std::chrono::steady_clock::now()};
  const char* spent{nullptr};

  bool take() {
    ++steps;
    if (max_steps != 0 && steps > max_steps) spent = "step budget (max_steps) spent";
    else if (max_ms != 0 && (steps & 0xfff) == 0 &&
             std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(max_ms))
      spent = "time budget (max_milliseconds) spent";
    return spent == nullptr;
  }
};

enum class key_verdict : std::uint8_t { ok, violation, unknown };

// One key's search over the operations `ops` (indices into the history).
class key_search {
 public:
  static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

  key_search(const history& h, const std::vector<std::size_t>& ops, const check_options& options)
      : h_{h}, options_{options} {
    build_entries(ops);
    memo_.emplace(config_.unk.size());
  }

  key_verdict run(lin_budget& budget) {
    std::uint32_t entry = nodes_[0].next;
    while (entry != npos) {
      if (!budget.take()) return key_verdict::unknown;
      const node& e = nodes_[entry];
      if (!e.call) {
        note_block(e);
        if (stack_.empty()) return key_verdict::violation;
        const frame f = stack_.back();
        stack_.pop_back();
        QUORUM_ASSERT(nodes_[f.node].call);
        config_.state = f.state;
        flip(nodes_[f.node]);
        unlift(f.node);
        entry = nodes_[f.node].next;
        continue;
      }
      if (try_linearize(entry)) {
        if (memo_full_) return key_verdict::unknown;
        entry = nodes_[0].next;
        continue;
      }
      entry = e.next;
    }
    return key_verdict::ok;
  }

  [[nodiscard]] std::size_t culprit() const noexcept { return culprit_; }
  [[nodiscard]] const std::vector<value>& possible() const noexcept { return possible_; }
  [[nodiscard]] std::size_t memo_size() const noexcept { return memo_->size(); }
  [[nodiscard]] bool memo_full() const noexcept { return memo_full_; }

 private:
  struct node {
    std::uint32_t prev{npos};
    std::uint32_t next{npos};
    std::size_t op{0};          // index into the history
    std::uint32_t bit{0};       // in config_.ok, or in config_.unk when unknown
    std::uint32_t match{npos};  // the return of a call; npos for an unknown operation
    std::uint32_t rank{0};      // position in time order, for "how far the search got"
    std::uint64_t zobrist{0};
    bool call{false};
    bool unknown{false};
  };
  struct frame {
    std::uint32_t node;
    value state;
  };

  // Linearizes the call at `entry` if the model and the memo allow; true
  // when it did (or when the memo is full, which run() then reports).
  bool try_linearize(std::uint32_t entry) {
    const node& e = nodes_[entry];
    value next = config_.state;
    if (!lin_step(h_[e.op], next)) return false;
    const value before = config_.state;
    flip(e);
    config_.state = next;
    if (memo_->visit(config_, options_.max_memory_bytes, memo_full_)) {
      stack_.push_back({entry, before});
      lift(entry);
      return true;
    }
    flip(e);
    config_.state = before;
    return memo_full_;
  }

  void build_entries(const std::vector<std::size_t>& ops) {
    struct event {
      std::int64_t time;
      bool ret;
      std::size_t op;
    };
    std::vector<event> events;
    events.reserve(ops.size() * 2);
    for (const std::size_t i : ops) {
      events.push_back({h_[i].invoke, false, i});
      if (h_[i].status == op_status::ok) events.push_back({h_[i].complete, true, i});
    }
    std::sort(events.begin(), events.end(), [](const event& a, const event& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.ret != b.ret) return !a.ret;
      return a.op < b.op;
    });
    nodes_.resize(events.size() + 1);  // node 0 is the head sentinel
    std::unordered_map<std::size_t, std::uint32_t> call_of;
    std::uint32_t oks = 0;
    std::uint32_t unknowns = 0;
    std::uint64_t seed = 0x51ed270b27a3c1f5ULL;
    for (std::uint32_t i = 0; i < events.size(); ++i) {
      node& n = nodes_[i + 1];
      n.prev = i;
      n.next = i + 2 < nodes_.size() ? i + 2 : npos;
      n.op = events[i].op;
      n.rank = i;
      n.call = !events[i].ret;
      if (!n.call) {
        // validate() guarantees complete >= invoke, and calls sort first on ties.
        const auto call = call_of.find(n.op);
        QUORUM_ASSERT(call != call_of.end());
        nodes_[call->second].match = i + 1;
        continue;
      }
      call_of[n.op] = i + 1;
      n.unknown = h_[n.op].status != op_status::ok;
      n.bit = n.unknown ? unknowns++ : oks++;  // invocation order: see lin_config
      n.zobrist = splitmix64(seed);
    }
    nodes_[0].next = nodes_.size() > 1 ? 1 : npos;
    config_.ok.assign((oks + 63) / 64, 0);
    config_.unk.assign((unknowns + 63) / 64, 0);
  }

  void unlink(std::uint32_t i) {
    node& n = nodes_[i];
    nodes_[n.prev].next = n.next;
    if (n.next != npos) nodes_[n.next].prev = n.prev;
  }
  void relink(std::uint32_t i) {
    node& n = nodes_[i];
    nodes_[n.prev].next = i;
    if (n.next != npos) nodes_[n.next].prev = i;
  }
  // Dancing links: undo in the reverse order of removal.
  void lift(std::uint32_t call) {
    unlink(call);
    if (nodes_[call].match != npos) unlink(nodes_[call].match);
  }
  void unlift(std::uint32_t call) {
    if (nodes_[call].match != npos) relink(nodes_[call].match);
    relink(call);
  }
  void flip(const node& n) {
    if (n.unknown) config_.flip_unk(n.bit, n.zobrist);
    else config_.flip_ok(n.bit, n.zobrist);
  }

  // The explanation follows the furthest return the search could not pass.
  void note_block(const node& e) {
    if (!blocked_ || e.rank > block_rank_) {
      blocked_ = true;
      block_rank_ = e.rank;
      culprit_ = e.op;
      possible_.clear();
    }
    if (e.rank != block_rank_) return;
    if (possible_.size() < options_.max_explained_values &&
        std::find(possible_.begin(), possible_.end(), config_.state) == possible_.end())
      possible_.push_back(config_.state);
  }

  const history& h_;
  const check_options& options_;
  std::vector<node> nodes_;
  lin_config config_;
  std::vector<frame> stack_;
  std::optional<lin_memo> memo_;
  bool memo_full_{false};
  bool blocked_{false};
  std::uint32_t block_rank_{0};
  std::size_t culprit_{0};
  std::vector<value> possible_;
};

// Operations by key, keys in order of first appearance; failed operations
// and unknown reads are left out because they cannot affect any answer.
[[nodiscard]] inline std::vector<std::pair<value, std::vector<std::size_t>>> partition_by_key(
    const history& h) {
  std::vector<std::pair<value, std::vector<std::size_t>>> keys;
  std::unordered_map<value, std::size_t, value_hash> index;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const operation& op = h[i];
    if (op.status == op_status::failed) continue;
    if (op.status == op_status::unknown && op.kind == op_kind::read) continue;
    auto [it, fresh] = index.try_emplace(op.key, keys.size());
    if (fresh) keys.emplace_back(op.key, std::vector<std::size_t>{});
    keys[it->second].second.push_back(i);
  }
  return keys;
}

[[nodiscard]] inline std::string explain(const history& h, const violation_explanation& v) {
  std::string s = "key " + h.text(v.key) + " is not linearizable: no order places " +
                  h.describe(v.operation) + "; when it had to take effect the key could hold ";
  for (std::size_t i = 0; i < v.possible.size(); ++i) s += (i == 0 ? "" : ", ") + h.text(v.possible[i]);
  return s;
}

}  // namespace detail

[[nodiscard]] inline result<check_result> check(const history& h, const check_options& options = {}) {
  QUORUM_TRY(detail::validate(h));
  check_result out;
  detail::lin_budget budget;
  budget.max_steps = options.max_steps;
  budget.max_ms = options.max_milliseconds;
  std::string gave_up;  // the first key left undecided, and why
  for (const auto& [key, ops] : detail::partition_by_key(h)) {
    ++out.keys;
    detail::key_search search{h, ops, options};
    const detail::key_verdict v = search.run(budget);
    out.memo_entries = std::max(out.memo_entries, search.memo_size());
    if (v == detail::key_verdict::violation) {
      out.outcome = check_outcome::violation;
      out.explanation = violation_explanation{key, search.culprit(), search.possible()};
      out.what = detail::explain(h, *out.explanation);
      break;
    }
    if (v == detail::key_verdict::unknown) {
      if (gave_up.empty()) {
        gave_up = "gave up on key " + h.text(key) + ": " +
                  (search.memo_full() ? "memory budget (max_memory_bytes) spent" : budget.spent);
      }
      // The memory budget is per key: another key may still show a violation.
      if (!search.memo_full()) break;
    }
  }
  out.steps = budget.steps;
  if (out.outcome != check_outcome::violation && !gave_up.empty()) {
    out.outcome = check_outcome::unknown;
    out.what = std::move(gave_up);
  }
  return out;
}

}  // namespace quorum::sim
