// The fault profile of one seed: which faults are on and how hard they hit.
// In the manner of TigerBeetle's VOPR ("swarm testing"), the seed itself picks
// the profile, so a sweep over seeds covers calm runs, single-fault runs and
// storms; a rate given explicitly in run_config overrides the draw.
//
// API:
//   fault_profile p = fault_profile::draw(config, rng);   // swarm + overrides
//   p.network()                                   network_options for the fault phase
//   partition_kind k = p.pick_partition(rng);      apply_partition(net, k, n, rng)
// Rates: drop/duplicate/reorder per message; partition/crash per simulated event.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/sim/clock.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/run.hpp"

namespace quorum::sim {

enum class partition_kind : std::uint8_t {
  symmetric,       // a random nonempty proper subset against the rest, both ways
  asymmetric,      // a random subset cannot send to the rest, but still hears it
  isolate_one,     // one node alone, both ways
  majority_minority,  // a minority (<= n/2 nodes) against a majority, both ways
};

[[nodiscard]] constexpr const char* to_string(partition_kind k) noexcept {
  switch (k) {
    case partition_kind::symmetric: return "symmetric";
    case partition_kind::asymmetric: return "asymmetric";
    case partition_kind::isolate_one: return "isolate-one";
    case partition_kind::majority_minority: return "majority/minority";
  }
  return "?";
}

struct fault_profile {
  double drop{0};
  double duplicate{0};
  double reorder{0};
  double partition{0};
  double crash{0};
  sim_duration base_latency{std::chrono::microseconds{500}};
  sim_duration jitter{std::chrono::microseconds{1500}};
  sim_duration reorder_delay{std::chrono::milliseconds{20}};
  sim_duration partition_min{std::chrono::milliseconds{50}};
  sim_duration partition_max{std::chrono::milliseconds{2000}};
  sim_duration restart_min{std::chrono::milliseconds{10}};
  sim_duration restart_max{std::chrono::milliseconds{1000}};
  std::size_t max_in_flight{100'000};

  // Each fault is on with probability 1/2; when on, its rate is drawn between
  // a gentle and a harsh bound, skewed towards gentle (lo + (hi - lo) u^3:
  // plain multiplication, so every platform draws the same rate).
  static fault_profile draw(const run_config& config, seeded_random& rng) {
    fault_profile p;
    p.drop = pick(config.drop, rng, 0.001, 0.3);
    p.duplicate = pick(config.duplicate, rng, 0.001, 0.2);
    p.reorder = pick(config.reorder, rng, 0.001, 0.3);
    p.partition = pick(config.partition, rng, 0.0002, 0.005);
    p.crash = pick(config.crash, rng, 0.0002, 0.005);
    p.base_latency = sim_duration{static_cast<sim_duration::rep>(rng.between(100'000, 2'000'000))};
    p.jitter = sim_duration{static_cast<sim_duration::rep>(rng.between(0, 5'000'000))};
    return p;
  }

  // The profile with nothing on: latency only.
  [[nodiscard]] static fault_profile calm() { return fault_profile{}; }

  [[nodiscard]] network_options network() const {
    network_options o;
    o.base_latency = base_latency;
    o.jitter = jitter;
    o.drop = drop;
    o.duplicate = duplicate;
    o.reorder = reorder;
    o.reorder_delay = reorder_delay;
    o.max_in_flight = max_in_flight;
    return o;
  }

  [[nodiscard]] static partition_kind pick_partition(seeded_random& rng) {
    return static_cast<partition_kind>(rng.below(4));
  }

 private:
  static double pick(const std::optional<double>& given, seeded_random& rng, double lo, double hi) {
    // Draw both numbers whether or not they are used, so an override of one
    // rate does not shift the draws of the others.
    const bool on = rng.chance(0.5);
    const double u = rng.unit();
    if (given) return std::clamp(*given, 0.0, 1.0);
    if (!on) return 0;
    return lo + (hi - lo) * u * u * u;
  }
};

// Cuts links of `net` (n nodes) as `kind` says; the members of the cut-off
// side are drawn from `rng`. A cluster of one node cannot be partitioned.
template <class Message>
void apply_partition(network<Message>& net, partition_kind kind, seeded_random& rng) {
  const std::size_t n = net.nodes();
  if (n < 2) return;
  std::vector<node_id> order;
  for (std::size_t i = 1; i <= n; ++i) order.push_back(node_id{i});
  for (std::size_t i = n - 1; i > 0; --i)  // Fisher–Yates with our own generator
    std::swap(order[i], order[static_cast<std::size_t>(rng.below(i + 1))]);
  std::size_t size = 1;
  switch (kind) {
    case partition_kind::isolate_one: size = 1; break;
    case partition_kind::majority_minority: size = static_cast<std::size_t>(rng.between(1, n / 2)); break;
    case partition_kind::symmetric:
    case partition_kind::asymmetric: size = static_cast<std::size_t>(rng.between(1, n - 1)); break;
  }
  const std::span<const node_id> side{order.data(), size};
  if (kind == partition_kind::asymmetric) net.cut_one_way(side);
  else net.split(side);
}

}  // namespace quorum::sim
