// The simulated network over typed messages (no encoding): it delays, drops,
// duplicates and reorders by seeded probabilities and cuts links by a directed
// connectivity matrix. The world pops deliveries in time order; nodes send
// through sim_transport<Message>, a two-word handle modelling quorum::Transport.
//
// API (nodes are 1..n; 0 is quorum::no_node):
//   network<M> net{n, options, rng, time_source};
//   net.send(from, to, m)          schedule m (or lose it); counts every fault
//   net.next_time() / net.pop()    the earliest delivery (ties: send order)
//   net.cut(a, b) / net.connect(a, b)                 one direction
//   net.split(side) / net.isolate(n) / net.cut_one_way(side)   partitions
//   net.heal()                     all links up;  net.set_faults(d, dup, r)
//   net.counters()                 sent, delivered, dropped, duplicated, ...
// A link cut at send or at delivery time loses the message, as a real
// partition loses packets in flight. Messages over max_in_flight are dropped.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/transport.hpp"
#include "quorum/sim/clock.hpp"

namespace quorum::sim {

struct network_options {
  sim_duration base_latency{std::chrono::microseconds{500}};
  sim_duration jitter{std::chrono::microseconds{1500}};  // uniform extra in [0, jitter]
  double drop{0};
  double duplicate{0};
  double reorder{0};
  // A reordered message waits this much longer, so later messages pass it.
  sim_duration reorder_delay{std::chrono::milliseconds{20}};
  std::size_t max_in_flight{100'000};
};

struct network_counters {
  std::uint64_t sent{0};         // send() calls
  std::uint64_t delivered{0};    // handed to the world by pop()
  std::uint64_t dropped{0};      // lost by the drop probability
  std::uint64_t duplicated{0};   // extra copies scheduled
  std::uint64_t reordered{0};    // messages held back past later ones
  std::uint64_t blocked{0};      // lost to a cut link (at send or in flight)
  std::uint64_t overflowed{0};   // lost because max_in_flight was reached
  std::uint64_t partitions{0};   // partitions started
  std::uint64_t heals{0};

  // Faults the network itself injected (the consequences, like blocked, are not counted).
  [[nodiscard]] std::uint64_t faults() const noexcept {
    return dropped + duplicated + reordered + overflowed + partitions;
  }
};

template <class Message>
class network {
 public:
  struct delivery {
    node_id from;
    node_id to;
    Message message;
  };

  network(std::size_t nodes, const network_options& options, seeded_random rng,
          const sim_time_source& time)
      : nodes_{nodes}, options_{options}, rng_{rng}, time_{&time},
        link_up_((nodes + 1) * (nodes + 1), 1) {}

  void send(node_id from, node_id to, const Message& m) {
    ++counters_.sent;
    if (!valid(from) || !valid(to) || !connected(from, to)) {
      ++counters_.blocked;
      return;
    }
    if (rng_.chance(options_.drop)) {
      ++counters_.dropped;
      return;
    }
    schedule(from, to, m);
    if (rng_.chance(options_.duplicate)) {
      ++counters_.duplicated;
      schedule(from, to, m);
    }
  }

  [[nodiscard]] std::optional<sim_time> next_time() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.front().at;
  }

  // The earliest delivery whose link is still up; nullopt when the popped one
  // was lost to a partition (the caller just moves on).
  std::optional<delivery> pop() {
    QUORUM_ASSERT(!queue_.empty());
    std::pop_heap(queue_.begin(), queue_.end(), later);
    in_flight item = std::move(queue_.back());
    queue_.pop_back();
    if (!connected(item.from, item.to)) {
      ++counters_.blocked;
      return std::nullopt;
    }
    ++counters_.delivered;
    return delivery{item.from, item.to, std::move(item.message)};
  }

  [[nodiscard]] bool connected(node_id from, node_id to) const {
    return link_up_[slot(from, to)] != 0;
  }
  void cut(node_id from, node_id to) { link_up_[slot(from, to)] = 0; }
  void connect(node_id from, node_id to) { link_up_[slot(from, to)] = 1; }

  // Symmetric: nodes in `side` and the rest cannot reach each other.
  void split(std::span<const node_id> side) {
    ++counters_.partitions;
    for (std::size_t a = 1; a <= nodes_; ++a)
      for (std::size_t b = 1; b <= nodes_; ++b)
        if (in(side, a) != in(side, b)) cut(node_id{a}, node_id{b});
  }
  // Asymmetric: `side` cannot reach the rest, but the rest still reaches `side`.
  void cut_one_way(std::span<const node_id> side) {
    ++counters_.partitions;
    for (std::size_t a = 1; a <= nodes_; ++a)
      for (std::size_t b = 1; b <= nodes_; ++b)
        if (in(side, a) && !in(side, b)) cut(node_id{a}, node_id{b});
  }
  void isolate(node_id n) {
    const node_id side[] = {n};
    split(side);
  }
  void heal() {
    ++counters_.heals;
    std::fill(link_up_.begin(), link_up_.end(), 1);
  }
  [[nodiscard]] bool partitioned() const {
    return std::find(link_up_.begin(), link_up_.end(), 0) != link_up_.end();
  }

  void set_faults(double drop, double duplicate, double reorder) noexcept {
    options_.drop = drop;
    options_.duplicate = duplicate;
    options_.reorder = reorder;
  }

  [[nodiscard]] std::size_t nodes() const noexcept { return nodes_; }
  [[nodiscard]] std::size_t in_flight_count() const noexcept { return queue_.size(); }
  [[nodiscard]] const network_counters& counters() const noexcept { return counters_; }
  [[nodiscard]] const network_options& options() const noexcept { return options_; }

 private:
  struct in_flight {
    sim_time at;
    std::uint64_t seq;
    node_id from;
    node_id to;
    Message message;
  };
  // Heap order: earliest time first, then the order messages were scheduled.
  static bool later(const in_flight& a, const in_flight& b) noexcept {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }

  void schedule(node_id from, node_id to, const Message& m) {
    if (queue_.size() >= options_.max_in_flight) {
      ++counters_.overflowed;
      return;
    }
    sim_duration delay = options_.base_latency;
    if (options_.jitter.count() > 0)
      delay += sim_duration{static_cast<sim_duration::rep>(
          rng_.below(static_cast<std::uint64_t>(options_.jitter.count()) + 1))};
    if (rng_.chance(options_.reorder)) {
      ++counters_.reordered;
      delay += options_.reorder_delay;
    }
    queue_.push_back(in_flight{time_->now() + delay, next_seq_++, from, to, m});
    std::push_heap(queue_.begin(), queue_.end(), later);
  }

  [[nodiscard]] bool valid(node_id n) const noexcept {
    return n.value() >= 1 && n.value() <= nodes_;
  }
  [[nodiscard]] std::size_t slot(node_id from, node_id to) const {
    QUORUM_ASSERT(valid(from) && valid(to));
    return static_cast<std::size_t>(from.value()) * (nodes_ + 1) +
           static_cast<std::size_t>(to.value());
  }
  static bool in(std::span<const node_id> side, std::size_t n) {
    return std::find(side.begin(), side.end(), node_id{n}) != side.end();
  }

  std::size_t nodes_;
  network_options options_;
  seeded_random rng_;
  const sim_time_source* time_;
  std::vector<std::uint8_t> link_up_;  // [from * (n + 1) + to]
  std::vector<in_flight> queue_;       // a heap ordered by `later`
  std::uint64_t next_seq_{0};
  network_counters counters_;
};

// A node's handle on the network: what a protocol is given as its Transport.
template <class Message>
class sim_transport {
 public:
  sim_transport(network<Message>& net, node_id self) noexcept : net_{&net}, self_{self} {}

  void send(node_id to, const Message& m) { net_->send(self_, to, m); }
  [[nodiscard]] node_id self() const noexcept { return self_; }

 private:
  network<Message>* net_;
  node_id self_;
};

}  // namespace quorum::sim
