// The key-value workload the replicated-log drivers (sim/raft_driver.hpp,
// sim/paxos_driver.hpp) share: the client that makes commands and records
// what it was told, and the store each node runs them on.
//
// API:
//   kv_client c{seed, registers, counters};
//   std::string cmd = c.make_command("v12");   // "v12 set k0", "v13 get k2", "v14 incr k2"
//   std::size_t op = c.invoke(cmd, now);       // recorded for the linearizability check
//   c.finish(op, output, now);  c.fail(op, now);
//   c.verdict(opts, unknown)                   // nullopt, or why the history is not linearizable
//   c.rng()                                    // the client's random stream, which the
//                                              // drivers' operator moves draw from too
//   kv_store s;  value out = s.run(cmd, c.records());   // a node's store runs a command
//   s.save(out_bytes);  bool ok = s.load(image);         // its snapshot image, and back
//   kv_machine<driver>{&d, self}   the StateMachine policy: hands each call to the
//                                  driver's on_apply / on_prefetch / snapshot_state /
//                                  restore_state / on_read_ready / on_read_failed
// Registers (k0 .. k{registers-1}) are set and read; the counters after them
// are incremented and read. Command ids are unique, so a register's value
// names the command that wrote it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/sim/history.hpp"
#include "quorum/sim/linearizability.hpp"

namespace quorum::sim {

// "v12 set k0" split at its spaces.
struct kv_command {
  std::string_view id, op, key;

  [[nodiscard]] static kv_command parse(std::string_view s) {
    kv_command c;
    std::string_view* parts[] = {&c.id, &c.op, &c.key};
    for (std::string_view* part : parts) {
      const auto sp = s.find(' ');
      *part = s.substr(0, sp);
      s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
    }
    return c;
  }
  [[nodiscard]] bool is_read() const noexcept { return op == "get"; }
};

// One node's copy of the keys: what its applied commands made of them.
class kv_store {
 public:
  // Runs the command; the output is what the client is told. Register
  // values are interned in the history the output is judged in.
  value run(std::string_view command, history& h) {
    const kv_command c = kv_command::parse(command);
    auto it = cells_.find(c.key);
    if (c.is_read()) {
      if (it == cells_.end()) return value::absent();
      return it->second.counter ? value::integer(it->second.number) : h.intern(it->second.text);
    }
    if (it == cells_.end()) it = cells_.emplace(std::string{c.key}, cell{}).first;
    if (c.op == "incr") {
      it->second.counter = true;
      it->second.number += 1;
      return value::integer(it->second.number);
    }
    it->second.text = std::string{c.id};
    return value::absent();
  }

  // The snapshot image: the keys in order, each with its kind and value.
  void save(byte_buffer& out) const {
    codec::writer w{out};
    w.varint(cells_.size());
    for (const auto& [key, c] : cells_) {
      w.prefixed_string(key);
      w.u8(c.counter ? 1 : 0);
      w.zigzag(c.number);
      w.prefixed_string(c.text);
    }
  }
  // Replaces the keys with an image's; false if the image is malformed
  // (what could be read is kept, so a checker sees the damage).
  [[nodiscard]] bool load(byte_view image) {
    cells_.clear();
    codec::reader r{image};
    auto count = r.varint();
    bool ok = count.has_value();
    for (std::uint64_t k = 0; ok && k < *count; ++k) {
      auto key = r.prefixed_string(image.size());
      auto counter = r.u8();
      auto number = r.zigzag();
      auto text = r.prefixed_string(image.size());
      ok = key && counter && number && text;
      if (ok) cells_.emplace(std::string{*key}, cell{*counter != 0, *number, std::string{*text}});
    }
    return ok && r.empty();
  }

 private:
  struct cell {
    bool counter{false};
    std::int64_t number{0};
    std::string text;
  };
  std::map<std::string, cell, std::less<>> cells_;
};

// The client: makes commands at seeded random and keeps the history of
// what it asked and was told.
class kv_client {
 public:
  kv_client(std::uint64_t seed, std::uint32_t registers, std::uint32_t counters)
      : rng_{seed ^ 0x6b76636c69656e74ULL}, registers_{registers}, counters_{counters} {}

  // "v12 set k0", "v13 get k2", "v14 incr k2": registers first, then counters.
  std::string make_command(std::string_view id) {
    const std::uint32_t keys = registers_ + counters_;
    const auto k = static_cast<std::uint32_t>(rng_.below(keys == 0 ? 1 : keys));
    const bool counter = k >= registers_;
    const bool read = rng_.chance(0.4);
    const char* op = read ? "get" : (counter ? "incr" : "set");
    return std::string{id} + ' ' + op + " k" + std::to_string(k);
  }

  // Records the command's invocation at `now`; the result names it later.
  std::size_t invoke(std::string_view command, std::int64_t now) {
    const kv_command c = kv_command::parse(command);
    operation op;
    op.client = history_.size();
    op.key = history_.intern(c.key);
    op.kind = c.is_read() ? op_kind::read : c.op == "incr" ? op_kind::incr : op_kind::write;
    if (op.kind == op_kind::incr) op.input = value::integer(1);
    if (op.kind == op_kind::write) op.input = history_.intern(c.id);
    op.invoke = now;
    op.complete = now;
    return history_.add(op);
  }
  void fail(std::size_t op, std::int64_t now) {
    history_[op].status = op_status::failed;
    history_[op].complete = now;
  }
  void finish(std::size_t op, value out, std::int64_t now) {
    history_[op].status = op_status::ok;
    history_[op].output = out;
    history_[op].complete = now;
  }

  // The linearizability check of everything recorded: a violation or a
  // malformed history is a reason; too costly to decide counts in `unknown`.
  [[nodiscard]] std::optional<std::string> verdict(const check_options& opts, std::uint64_t& unknown) const {
    auto r = sim::check(history_, opts);
    if (!r) return std::string{"linearizability: the recorded history is malformed: "} + r.error().what;
    if (r->outcome == check_outcome::violation) return "linearizability: " + r->what;
    if (r->outcome == check_outcome::unknown) ++unknown;
    return std::nullopt;
  }

  [[nodiscard]] seeded_random& rng() noexcept { return rng_; }
  [[nodiscard]] history& records() noexcept { return history_; }
  [[nodiscard]] const history& records() const noexcept { return history_; }

 private:
  seeded_random rng_;
  std::uint32_t registers_;
  std::uint32_t counters_;
  history history_;
};

// The state machine policy of a driven node: a handle that hands each call
// to the driver, which runs the node's kv_store and traces what happened.
// (A template so that it can name the driver before the driver is complete.)
template <class Driver>
struct kv_machine {
  Driver* owner;
  node_id self;
  void apply(log_index i, byte_view command) { owner->on_apply(self, i, command); }
  void prefetch(byte_view command) { owner->on_prefetch(self, command); }
  void snapshot(byte_buffer& out) { owner->snapshot_state(self, out); }
  void restore(log_index i, byte_view image) { owner->restore_state(self, i, image); }
  void read_ready(std::uint64_t id, log_index i) { owner->on_read_ready(self, id, i); }
  void read_failed(std::uint64_t id, const error& e) { owner->on_read_failed(self, id, e); }
};

}  // namespace quorum::sim
