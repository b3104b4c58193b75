// The two protocols quorum-kv can run, as traits for kv::server: the node
// template, its message and options (timers for a 10 ms tick), and the lines
// of INFO that differ (Raft's term, Paxos's ballot).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include <quorum/paxos.hpp>
#include <quorum/raft.hpp>

namespace kv {

struct raft_protocol {
  static constexpr const char* name = "raft";
  template <class Policies>
  using node = quorum::raft::node<Policies>;
  using message = quorum::raft::message;

  static quorum::raft::options options() {
    quorum::raft::options o;
    o.election_ticks = 30;  // 300-600 ms: an fsync stall is not an election
    o.heartbeat_ticks = 1;
    o.seed = std::random_device{}();
    return o;
  }
  template <class Node>
  static std::string term_info(const Node& n) {
    return "term:" + std::to_string(n.term().value()) + "\r\n";
  }
};

struct paxos_protocol {
  static constexpr const char* name = "paxos";
  template <class Policies>
  using node = quorum::paxos::node<Policies>;
  using message = quorum::paxos::message;

  static quorum::paxos::options options() {
    quorum::paxos::options o;
    o.election_ticks = 30;
    o.max_open_slots = 4096;  // 256 refused 50 clients pipelining 16 writes each with "busy"
    // Accepts travel over TCP, which loses nothing while a connection lives:
    // resending every unanswered one each 20 ms (the default, 2 ticks) resent
    // most of a loaded leader's window while the followers were still in
    // fdatasync (11% of the leader's instructions under redis-benchmark SET
    // -P 16). 100 ms still recovers a dropped connection well within an
    // election timeout.
    o.retransmit_ticks = 10;
    o.heartbeat_ticks = 1;
    o.seed = std::random_device{}();
    return o;
  }
  // The ballot plays the term's part: "term" is its round, so tools that read
  // INFO for either protocol see a number that grows with each leader change.
  template <class Node>
  static std::string term_info(const Node& n) {
    const quorum::ballot b = n.promised();
    return "term:" + std::to_string(b.round) + "\r\nballot:" + std::to_string(b.round) + "." +
           std::to_string(b.node.value()) + "\r\n";
  }
};

}  // namespace kv
