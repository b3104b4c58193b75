// Recovery after leader loss, for Raft and Multi-Paxos alike (raft_bench.cpp's
// BM_*_recovery): a cluster of 3 or 5 quorum nodes in one process, driven by
// ticks, every message encoded and handed over in rounds. Once a leader has
// committed for a while, it crashes; the measure is the ticks until a new
// leader has committed a new command. Deterministic for a given seed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "quorum/paxos.hpp"
#include "quorum/raft.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum_cluster.hpp"

namespace quorum_bench {

// How messages move between ticks. rounds_per_tick = 0: every message and
// every answer it causes is delivered before the next tick (delays much
// shorter than a tick); k > 0: k rounds per tick (a message delay of 1/k tick).
struct recovery_setup {
  std::size_t nodes = 3;
  std::uint32_t election_ticks = 10;  // the same for both protocols; heartbeats every tick
  std::uint32_t rounds_per_tick = 0;
  std::uint64_t seed = 1;
};

struct recovery_result {
  std::uint64_t ticks = 0;     // from the crash to the new leader's commit of a new command
  std::uint64_t messages = 0;  // sent in that time
  std::uint64_t elections = 0; // elections (phase 1 or vote rounds) started in that time
  bool recovered = false;
};

struct raft_protocol {
  using message = quorum::raft::message;
  using options = quorum::raft::options;
  static constexpr quorum::raft::role leader_role = quorum::raft::role::leader;
  template <class P>
  using node = quorum::raft::node<P>;
};

struct paxos_protocol {
  using message = quorum::paxos::message;
  using options = quorum::paxos::options;
  static constexpr quorum::paxos::role leader_role = quorum::paxos::role::leader;
  template <class P>
  using node = quorum::paxos::node<P>;
};

// The in-flight messages: encoded, with their destination.
struct recovery_network {
  struct envelope {
    node_id to;
    byte_buffer bytes;
  };
  std::vector<envelope> in_flight;
  std::uint64_t sent = 0;
};

template <class Message>
struct encoding_transport {
  recovery_network* net;
  void send(node_id to, const Message& m) {
    recovery_network::envelope e{to, {}};
    encode(m, e.bytes);
    net->in_flight.push_back(std::move(e));
    ++net->sent;
  }
};

// Each command is the 8 bytes of a counter: the machine remembers the last it applied.
struct marker_state_machine {
  std::uint64_t last = 0;
  void apply(log_index, byte_view command) noexcept {
    if (command.size() == sizeof last) std::memcpy(&last, command.data(), sizeof last);
  }
};

template <class Protocol>
class recovery_cluster {
  struct policies {
    using transport = encoding_transport<typename Protocol::message>;
    using log = quorum::storage::memory_log;
    using clock = frozen_clock;
    using state_machine = marker_state_machine;
  };
  using node_type = typename Protocol::template node<policies>;

 public:
  static constexpr std::uint64_t max_ticks = 100000;

  explicit recovery_cluster(const recovery_setup& s) : setup_{s} {
    typename Protocol::options o;
    o.election_ticks = s.election_ticks;
    o.heartbeat_ticks = 1;
    o.seed = s.seed;
    for (std::size_t i = 1; i <= s.nodes; ++i) ids_.push_back(node_id{i});
    for (auto id : ids_)
      nodes_.push_back(std::make_unique<node_type>(id, ids_, typename policies::transport{&net_},
                                                   quorum::storage::memory_log{}, frozen_clock{},
                                                   marker_state_machine{}, o));
  }

  // Elects a leader, commits on it for a while, crashes it and counts the
  // ticks until another leader has committed a command proposed after.
  [[nodiscard]] recovery_result run(std::uint64_t steady_ticks) {
    recovery_result r;
    if (!commit_new(max_ticks)) return r;
    for (std::uint64_t k = 0; k < steady_ticks; ++k) {
      tick();
      if (auto l = leader()) propose(*l);
      deliver(setup_.rounds_per_tick);
    }
    auto old = leader();
    if (!old) return r;
    deliver(0);  // a quiet network: what the crash interrupts is the leader, not a message
    nodes_[*old].reset();
    const std::uint64_t sent0 = net_.sent;
    const std::uint64_t t0 = ticks_;
    const std::uint64_t elections0 = elections();
    r.recovered = commit_new(max_ticks);
    r.ticks = ticks_ - t0;
    r.messages = net_.sent - sent0;
    r.elections = elections() - elections0;
    return r;
  }

 private:
  // Ticks until a leader applied a command proposed in this call. Each tick:
  // every live node ticks, the leader (if any) is handed a command unless it
  // has one from this call already, messages move; with an instant network
  // a leader elected within the tick gets its command within the tick too.
  [[nodiscard]] bool commit_new(std::uint64_t limit) {
    const std::uint64_t target = next_ + 1;
    for (std::uint64_t k = 0; k < limit; ++k) {
      tick();
      offer(target);
      deliver(setup_.rounds_per_tick);
      if (setup_.rounds_per_tick == 0 && offer(target)) deliver(0);
      if (auto l = leader(); l && nodes_[*l]->state_machine().last >= target) return true;
    }
    return false;
  }

  // Proposes to the leader if it has no command of this call yet (once per
  // leadership: one lost to a leader change is proposed again to the next).
  bool offer(std::uint64_t target) {
    auto l = leader();
    if (!l || (next_ >= target && proposed_epoch_ == epoch(*l))) return false;
    propose(*l);
    return true;
  }

  [[nodiscard]] std::uint64_t elections() const {
    std::uint64_t n = 0;
    for (const auto& node : nodes_)
      if (node) n += node->stats().elections_started;
    return n;
  }

  void tick() {
    ++ticks_;
    for (auto& n : nodes_)
      if (n) n->tick();
  }

  void propose(std::size_t l) {
    std::array<std::byte, sizeof next_> cmd;
    const std::uint64_t v = next_ + 1;
    std::memcpy(cmd.data(), &v, sizeof v);
    if (nodes_[l]->propose(byte_view{cmd})) {
      next_ = v;
      proposed_epoch_ = epoch(l);
    }
  }

  // rounds = 0: until nothing is in flight (bounded); else that many rounds.
  void deliver(std::uint32_t rounds) {
    const std::uint32_t limit = rounds == 0 ? 10000 : rounds;
    for (std::uint32_t k = 0; k < limit && !net_.in_flight.empty(); ++k) {
      std::vector<recovery_network::envelope> round;
      round.swap(net_.in_flight);
      for (auto& e : round) {
        auto& to = nodes_[e.to.value() - 1];
        if (to) to->receive(byte_view{e.bytes});  // a crashed node's messages are lost
      }
    }
  }

  // The live leader with the highest term or ballot is the one that counts;
  // several may believe they lead for a moment.
  [[nodiscard]] std::optional<std::size_t> leader() const {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i] && nodes_[i]->role() == Protocol::leader_role && (!best || outranks(i, *best))) best = i;
    return best;
  }
  [[nodiscard]] bool outranks(std::size_t a, std::size_t b) const { return epoch(a) > epoch(b); }
  // A leadership's identity: Raft's term, or Paxos's ballot (round, proposer).
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> epoch(std::size_t i) const {
    if constexpr (std::is_same_v<Protocol, raft_protocol>) return {nodes_[i]->term().value(), 0};
    else return {nodes_[i]->current_ballot().round, nodes_[i]->current_ballot().node.value()};
  }

  recovery_setup setup_;
  recovery_network net_;
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<node_type>> nodes_;
  std::uint64_t ticks_ = 0;
  std::uint64_t next_ = 0;  // the last command proposed
  std::pair<std::uint64_t, std::uint64_t> proposed_epoch_{};
};

}  // namespace quorum_bench
