// The JSON Lines trace of DESIGN.md: one object per observable event, each
// with "seed", "time" (simulated nanoseconds), "node" and "event", plus the
// event's own fields. Protocols write through typed helpers, so a field name
// cannot be misspelt; anyone can check a trace without reading our code.
//
// API:
//   trace_writer w{stdout};                       // not owned; flushed on destruction
//   w.apply({seed, time, node}, index, value);    // one helper per event kind:
//     propose ack apply leader crash restart restore vote decide outcome
//   trace_handle h{&w, time_source, seed, node};  // a node's null-safe handle that stamps
//   h.apply(index, value);                        // seed, time and node itself
// Values are JSON strings: '"', '\' and newline get their short escapes and
// every other byte outside printable ASCII is written as \u00XX (one per
// byte), so any value yields valid JSON. Numbers are numbers.
// A proposal made inside a batch (Raft's batch() guard) carries "batch": the
// id of the client request that opened the batch, the same on each of its
// proposals; a proposal outside a batch has no such field.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "quorum/core/ids.hpp"
#include "quorum/sim/clock.hpp"

namespace quorum::sim {

// Who and when: the fields every trace object starts with.
struct trace_stamp {
  std::uint64_t seed{0};
  sim_time time{0};
  node_id node{};
};

class trace_writer {
 public:
  explicit trace_writer(std::FILE* out) noexcept : out_{out} {}
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;
  ~trace_writer() {
    if (out_ != nullptr) std::fflush(out_);
  }

  void propose(const trace_stamp& at, std::string_view value) {
    begin(at, "propose");
    text("value", value);
    end();
  }
  void propose(const trace_stamp& at, std::string_view value, std::string_view batch) {
    begin(at, "propose");
    text("value", value);
    text("batch", batch);
    end();
  }
  void ack(const trace_stamp& at, std::uint64_t index, std::string_view value) {
    begin(at, "ack");
    number("index", index);
    text("value", value);
    end();
  }
  // `term` for Raft; Paxos leaves it out and writes its slot as `index`.
  void apply(const trace_stamp& at, std::uint64_t index, std::string_view value,
             std::optional<std::uint64_t> term = std::nullopt) {
    begin(at, "apply");
    number("index", index);
    text("value", value);
    if (term) number("term", *term);
    end();
  }
  void leader(const trace_stamp& at, term_id term) {
    begin(at, "leader");
    number("term", term.value());
    end();
  }
  // A ballot is written as {"round": r, "node": n}, its total order's two keys.
  void leader(const trace_stamp& at, ballot b) {
    begin(at, "leader");
    line_ += ",\"ballot\":{\"round\":";
    line_ += std::to_string(b.round);
    line_ += ",\"node\":";
    line_ += std::to_string(b.node.value());
    line_ += '}';
    end();
  }
  void crash(const trace_stamp& at) {
    begin(at, "crash");
    end();
  }
  void restart(const trace_stamp& at) {
    begin(at, "restart");
    end();
  }
  void restore(const trace_stamp& at, std::uint64_t index) {
    begin(at, "restore");
    number("index", index);
    end();
  }
  void vote(const trace_stamp& at, std::uint64_t txn, bool yes) {
    begin(at, "vote");
    number("txn", txn);
    text("vote", yes ? "yes" : "no");
    end();
  }
  void decide(const trace_stamp& at, std::uint64_t txn, bool commit) {
    begin(at, "decide");
    number("txn", txn);
    text("decision", commit ? "commit" : "abort");
    end();
  }
  void outcome(const trace_stamp& at, std::uint64_t txn, bool commit) {
    begin(at, "outcome");
    number("txn", txn);
    text("decision", commit ? "commit" : "abort");
    end();
  }

  [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }

  // Appends s to out as the body of a JSON string (without the quotes).
  static void escape(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c == '\n') {
        out += "\\n";
      } else if (c < 0x20 || c >= 0x7f) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xf];
      } else {
        out += ch;
      }
    }
  }

 private:
  void begin(const trace_stamp& at, const char* event) {
    line_.clear();
    line_ += "{\"seed\":";
    line_ += std::to_string(at.seed);
    line_ += ",\"time\":";
    line_ += std::to_string(at.time.count());
    line_ += ",\"node\":";
    line_ += std::to_string(at.node.value());
    line_ += ",\"event\":\"";
    line_ += event;
    line_ += '"';
  }
  void number(const char* key, std::uint64_t v) {
    line_ += ",\"";
    line_ += key;
    line_ += "\":";
    line_ += std::to_string(v);
  }
  void text(const char* key, std::string_view v) {
    line_ += ",\"";
    line_ += key;
    line_ += "\":\"";
    escape(line_, v);
    line_ += '"';
  }
  void end() {
    line_ += "}\n";
    ++lines_;
    if (out_ != nullptr) std::fwrite(line_.data(), 1, line_.size(), out_);
  }

  std::FILE* out_;
  std::string line_;  // reused, so a steady trace allocates nothing per event
  std::uint64_t lines_{0};
};

// A node's view of the trace: stamps seed, time and node itself and does
// nothing when the run has no trace. Cheap to copy.
class trace_handle {
 public:
  trace_handle() = default;
  trace_handle(trace_writer* writer, const sim_time_source& time, std::uint64_t seed,
               node_id self) noexcept
      : writer_{writer}, time_{&time}, seed_{seed}, self_{self} {}

  [[nodiscard]] bool enabled() const noexcept { return writer_ != nullptr; }
  [[nodiscard]] trace_stamp stamp() const noexcept {
    return {seed_, time_ != nullptr ? time_->now() : sim_time{0}, self_};
  }

  void propose(std::string_view value) const { if (writer_) writer_->propose(stamp(), value); }
  void propose(std::string_view value, std::string_view batch) const {
    if (writer_) writer_->propose(stamp(), value, batch);
  }
  void ack(std::uint64_t index, std::string_view value) const {
    if (writer_) writer_->ack(stamp(), index, value);
  }
  void apply(std::uint64_t index, std::string_view value,
             std::optional<std::uint64_t> term = std::nullopt) const {
    if (writer_) writer_->apply(stamp(), index, value, term);
  }
  void leader(term_id term) const { if (writer_) writer_->leader(stamp(), term); }
  void leader(ballot b) const { if (writer_) writer_->leader(stamp(), b); }
  void crash() const { if (writer_) writer_->crash(stamp()); }
  void restart() const { if (writer_) writer_->restart(stamp()); }
  void restore(std::uint64_t index) const { if (writer_) writer_->restore(stamp(), index); }
  void vote(std::uint64_t txn, bool yes) const { if (writer_) writer_->vote(stamp(), txn, yes); }
  void decide(std::uint64_t txn, bool commit) const {
    if (writer_) writer_->decide(stamp(), txn, commit);
  }
  void outcome(std::uint64_t txn, bool commit) const {
    if (writer_) writer_->outcome(stamp(), txn, commit);
  }

 private:
  trace_writer* writer_{nullptr};
  const sim_time_source* time_{nullptr};
  std::uint64_t seed_{0};
  node_id self_{};
};

}  // namespace quorum::sim
