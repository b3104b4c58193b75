// The cluster harness: one event queue in simulated time driving a protocol's
// nodes through the simulated network, clocks and disks, injecting the seed's
// faults, and running the protocol's checker after every event.
//
// Plug a protocol in with a Driver (a plain class; see the concept below):
//   struct my_driver {
//     using message = my_message;
//     void boot(const node_env<my_message>& env);  // (re)create node env.self from env.log
//     void crash(node_id n);                       // drop node n's volatile state
//     void deliver(node_id to, node_id from, const my_message& m);
//     void tick(node_id n);                        // node n's timer tick
//     void client_request(std::string_view value); // a client offers a fresh value
//     std::optional<std::string> check() const;    // safety: nullopt, or what broke
//     std::uint64_t commits() const;               // values acknowledged to clients
//     std::uint64_t leader_changes() const;
//     void on_heal();                              // optional: the heal phase began
//     std::optional<std::string> final_check() const;  // optional: after liveness held
//   };
//   my_driver d;  world<my_driver> w{config, d};  seed_report r = w.run();
// deliver() and tick() reach only nodes that are up; crash() comes before the
// node's disk drops its unsynced calls, and boot() after a crash sees what the
// disk kept. A checker may read every node's disk through env.disk. A driver
// that must trace (propose/ack/apply/leader) uses env.trace; the world itself
// traces crash and restart. Scenario tests can call start(), step(), crash(n)
// and restart(n) themselves instead of run().
//
// A run has two phases. The fault phase processes config.steps events (each
// message delivery, tick, client request, crash, restart and partition change
// is one) while the seed's fault_profile injects faults. The heal phase then
// heals every partition, turns message loss off and restarts every crashed
// node; a new value must be committed (commits() must grow) within
// world_options::heal_ticks tick intervals, else the run is a liveness violation.
// Ties in time are broken deterministically: deliveries first, then the
// order events were scheduled. Every random choice comes from a stream forked
// from the seed per component, so changing one component's draws does not
// shift another's.
#pragma once

#include <algorithm>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/sim/clock.hpp"
#include "quorum/sim/disk.hpp"
#include "quorum/sim/faults.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/trace.hpp"

namespace quorum::sim {

// Everything a node is given when it boots: its policies (clock, transport,
// log) as handles on the world, its trace handle and a random stream of its own.
template <class Message>
struct node_env {
  node_id self;
  std::size_t cluster_size;       // the members are node ids 1..cluster_size
  std::uint64_t incarnation;      // 1 at the first boot, then +1 per restart
  sim_clock clock;
  sim_transport<Message> transport;
  sim_log log;
  const sim_disk* disk;           // the same disk as `log`, for a driver's checker
  trace_handle trace;
  seeded_random rng;
};

namespace detail {

template <class D>
concept driver_has_message = requires { typename D::message; };

template <class D>
concept driver_has_node_calls =
    driver_has_message<D> &&
    requires(D& d, node_id n, const typename D::message& m,
             const node_env<typename D::message>& env, std::string_view v) {
      d.boot(env);
      d.crash(n);
      d.deliver(n, n, m);
      d.tick(n);
      d.client_request(v);
    };

template <class D>
concept driver_has_observers = requires(const D& cd) {
  { cd.check() } -> std::convertible_to<std::optional<std::string>>;
  { cd.commits() } -> std::convertible_to<std::uint64_t>;
  { cd.leader_changes() } -> std::convertible_to<std::uint64_t>;
};

}  // namespace detail

template <class D>
concept Driver = detail::driver_has_message<D> && detail::driver_has_node_calls<D> &&
                 detail::driver_has_observers<D>;

// Checks D against Driver and names the first requirement it misses.
template <class D>
consteval bool check_driver() {
  static_assert(detail::driver_has_message<D>,
                "quorum::sim::Driver: the type must declare 'using message = ...' (its Message type)");
  static_assert(detail::driver_has_node_calls<D>,
                "quorum::sim::Driver: the type must have boot(const node_env<message>&), "
                "crash(node_id), deliver(node_id to, node_id from, const message&), "
                "tick(node_id) and client_request(std::string_view)");
  static_assert(detail::driver_has_observers<D>,
                "quorum::sim::Driver: the type must have const check() returning "
                "std::optional<std::string>, and const commits() and leader_changes() "
                "returning counts");
  return Driver<D>;
}

struct world_options {
  std::uint32_t default_nodes{3};       // when run_config::nodes is 0
  std::uint64_t default_steps{5000};    // when run_config::steps is 0
  sim_duration tick_interval{std::chrono::milliseconds{10}};
  sim_duration client_interval{std::chrono::milliseconds{20}};  // mean gap between requests
  std::uint64_t heal_ticks{500};        // liveness bound, in tick intervals
  std::uint64_t max_heal_events{2'000'000};
  std::int64_t max_clock_skew_ppm{0};   // each node's rate drawn in [-max, +max]
  std::uint32_t max_nodes{64};
  disk_options disk{};
};

template <class D>
class world {
  static_assert(check_driver<D>());

 public:
  using message = typename D::message;

  world(const run_config& config, D& driver, const world_options& options = {})
      : config_{config}, options_{options}, driver_{&driver}, master_{config.seed},
        profile_rng_{master_.fork()}, fault_rng_{master_.fork()}, disk_rng_{master_.fork()},
        schedule_rng_{master_.fork()}, node_rng_{master_.fork()},
        profile_{fault_profile::draw(config, profile_rng_)},
        size_{std::clamp<std::size_t>(config.nodes != 0 ? config.nodes : options.default_nodes, 1,
                                      options.max_nodes)},
        net_{size_, profile_.network(), master_.fork(), time_} {
    disks_.reserve(size_);  // disks never move: nodes hold pointers to them
    for (std::size_t i = 0; i < size_; ++i) disks_.emplace_back(options_.disk);
    up_.assign(size_ + 1, false);
    incarnation_.assign(size_ + 1, 0);
    for (std::size_t i = 0; i <= size_; ++i) {
      const std::int64_t m = options_.max_clock_skew_ppm;
      skew_.push_back(m <= 0 ? 0
                             : static_cast<std::int64_t>(schedule_rng_.below(
                                   static_cast<std::uint64_t>(2 * m + 1))) - m);
    }
  }
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  seed_report run() {
    start();
    const std::uint64_t steps = config_.steps != 0 ? config_.steps : options_.default_steps;
    while (events_ < steps && !violation_) step();
    if (!violation_) heal_phase();
    return report();
  }

  // Boots every node and schedules the first ticks and client request; run()
  // calls it, a scenario test that drives step() itself calls it once first.
  void start() {
    if (started_) return;
    started_ = true;
    if (config_.progress != nullptr) config_.progress->seed.store(config_.seed, std::memory_order_relaxed);
    for (std::size_t i = 1; i <= size_; ++i) {
      boot(node_id{i});
      const auto offset = schedule_rng_.between(1, static_cast<std::uint64_t>(options_.tick_interval.count()));
      push(time_.now() + sim_duration{static_cast<sim_duration::rep>(offset)}, kind::tick, node_id{i});
    }
    push(time_.now() + options_.client_interval, kind::client, no_node);
  }

  // Processes the next event (and, in the fault phase, draws new faults).
  void step() {
    QUORUM_ASSERT(started_);
    const auto net_at = net_.next_time();
    if (net_at && (queue_.empty() || *net_at <= queue_.front().at)) {
      time_.advance_to(*net_at);
      ++events_;
      if (auto d = net_.pop()) {
        if (up_[index(d->to)]) {
          publish("deliver", d->to);
          driver_->deliver(d->to, d->from, d->message);
          describe("deliver", d->to);
        } else {
          ++to_down_;
          describe("delivery lost: crashed", d->to);
        }
      } else {
        describe("delivery lost: partition", no_node);
      }
    } else {
      QUORUM_ASSERT(!queue_.empty());
      std::pop_heap(queue_.begin(), queue_.end(), later);
      const event e = queue_.back();
      queue_.pop_back();
      time_.advance_to(e.at);
      ++events_;
      publish(name_of(e.what), e.node);
      handle(e);
    }
    if (!violation_) {
      publish("check", no_node);
      run_check();
    }
    if (!healing_ && !violation_) draw_faults();
  }

  // Manual fault control, for scenario tests.
  void crash(node_id n) {
    if (!up_[index(n)]) return;
    driver_->crash(n);
    disks_[index(n) - 1].crash(disk_rng_);
    up_[index(n)] = false;
    ++crashes_;
    trace_for(n).crash();
    const auto delay = schedule_rng_.between(static_cast<std::uint64_t>(profile_.restart_min.count()),
                                             static_cast<std::uint64_t>(profile_.restart_max.count()));
    push(time_.now() + sim_duration{static_cast<sim_duration::rep>(delay)}, kind::restart, n);
  }
  void restart(node_id n) {
    if (up_[index(n)]) return;
    trace_for(n).restart();  // first: what the node does while booting (a restore) follows it
    boot(n);
  }

  [[nodiscard]] seed_report report() const {
    seed_report r;
    r.seed = config_.seed;
    r.events = events_;
    r.commits = driver_->commits();
    r.leader_changes = driver_->leader_changes();
    r.faults = net_.counters().faults() + crashes_;
    r.violation = violation_;
    r.what = what_;
    return r;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool up(node_id n) const { return up_[index(n)]; }
  [[nodiscard]] const sim_disk& disk(node_id n) const { return disks_[index(n) - 1]; }
  [[nodiscard]] network<message>& net() noexcept { return net_; }
  [[nodiscard]] const sim_time_source& time() const noexcept { return time_; }
  [[nodiscard]] const fault_profile& profile() const noexcept { return profile_; }
  [[nodiscard]] std::uint64_t events() const noexcept { return events_; }
  [[nodiscard]] std::uint64_t crashes() const noexcept { return crashes_; }
  [[nodiscard]] std::uint64_t deliveries_to_down_nodes() const noexcept { return to_down_; }
  [[nodiscard]] bool violated() const noexcept { return violation_; }
  [[nodiscard]] bool healing() const noexcept { return healing_; }

 private:
  enum class kind : std::uint8_t { tick, client, crash, restart, partition_start, partition_heal };
  struct event {
    sim_time at;
    std::uint64_t seq;
    kind what;
    node_id node;
  };
  static bool later(const event& a, const event& b) noexcept {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
  void push(sim_time at, kind k, node_id n) {
    queue_.push_back(event{at, next_seq_++, k, n});
    std::push_heap(queue_.begin(), queue_.end(), later);
  }
  [[nodiscard]] std::size_t index(node_id n) const {
    QUORUM_ASSERT(n.value() >= 1 && n.value() <= size_);
    return static_cast<std::size_t>(n.value());
  }
  [[nodiscard]] trace_handle trace_for(node_id n) const {
    return trace_handle{config_.trace, time_, config_.seed, n};
  }

  void boot(node_id n) {
    publish("boot", n);
    const std::size_t i = index(n);
    up_[i] = true;
    sim_disk& disk = disks_[i - 1];
    const node_env<message> env{n,
                                size_,
                                ++incarnation_[i],
                                sim_clock{time_, skew_[i]},
                                sim_transport<message>{net_, n},
                                sim_log{disk},
                                &disk,
                                trace_for(n),
                                node_rng_.fork()};
    driver_->boot(env);
    describe("boot", n);
  }

  void handle(const event& e) {
    switch (e.what) {
      case kind::tick:
        if (up_[index(e.node)]) driver_->tick(e.node);
        push(e.at + options_.tick_interval, kind::tick, e.node);
        describe("tick", e.node);
        break;
      case kind::client: {
        const std::string value = "v" + std::to_string(++client_values_);
        driver_->client_request(value);
        const auto half = static_cast<std::uint64_t>(options_.client_interval.count()) / 2;
        const auto gap = schedule_rng_.between(half, 3 * half);
        push(e.at + sim_duration{static_cast<sim_duration::rep>(gap)}, kind::client, no_node);
        describe("client request", no_node);
        break;
      }
      case kind::crash:
        if (!healing_) crash(e.node);  // a crash drawn just before the heal is void
        describe("crash", e.node);
        break;
      case kind::restart: restart(e.node); describe("restart", e.node); break;
      case kind::partition_start: start_partition(); describe("partition", no_node); break;
      case kind::partition_heal: net_.heal(); describe("partition heal", no_node); break;
    }
  }

  void start_partition() {
    if (healing_ || net_.partitioned()) return;
    const partition_kind k = fault_profile::pick_partition(fault_rng_);
    apply_partition(net_, k, fault_rng_);
    const auto span = fault_rng_.between(static_cast<std::uint64_t>(profile_.partition_min.count()),
                                         static_cast<std::uint64_t>(profile_.partition_max.count()));
    push(time_.now() + sim_duration{static_cast<sim_duration::rep>(span)}, kind::partition_heal,
         no_node);
  }

  // Draws are made every step whether or not they fire, so the fault stream
  // stays aligned with the event count.
  void draw_faults() {
    const bool crash_now = fault_rng_.chance(profile_.crash);
    const auto victim = node_id{fault_rng_.between(1, size_)};
    const bool partition_now = fault_rng_.chance(profile_.partition);
    if (crash_now && up_[index(victim)]) push(time_.now(), kind::crash, victim);
    if (partition_now) push(time_.now(), kind::partition_start, no_node);
  }

  void heal_phase() {
    healing_ = true;
    net_.heal();
    net_.set_faults(0, 0, 0);
    for (std::size_t i = 1; i <= size_ && !violation_; ++i) {
      if (up_[i]) continue;
      ++events_;
      restart(node_id{i});
      describe("heal restart", node_id{i});
      run_check();
    }
    publish("heal", no_node);
    if constexpr (requires { driver_->on_heal(); }) driver_->on_heal();
    const std::uint64_t mark = driver_->commits();
    const sim_time deadline =
        time_.now() + options_.tick_interval * static_cast<sim_duration::rep>(options_.heal_ticks);
    const std::uint64_t first_event = events_;
    while (!violation_ && driver_->commits() <= mark) {
      const auto net_at = net_.next_time();
      const sim_time next = net_at ? std::min(*net_at, queue_.front().at) : queue_.front().at;
      if (next > deadline) {
        fail("liveness: no new value was committed within " + std::to_string(options_.heal_ticks) +
             " ticks after faults healed");
        return;
      }
      if (events_ - first_event >= options_.max_heal_events) {
        fail("liveness: heal phase ran " + std::to_string(options_.max_heal_events) +
             " events without committing a new value");
        return;
      }
      step();
    }
    if constexpr (requires { driver_->final_check(); }) {
      publish("final check", no_node);
      if (!violation_)
        if (std::optional<std::string> v = driver_->final_check()) fail(std::move(*v));
    }
  }

  [[nodiscard]] static const char* name_of(kind k) noexcept {
    switch (k) {
      case kind::tick: return "tick";
      case kind::client: return "client request";
      case kind::crash: return "crash";
      case kind::restart: return "restart";
      case kind::partition_start: return "partition";
      case kind::partition_heal: return "partition heal";
    }
    return "event";
  }

  // Says what is about to run (run_progress); nothing when nobody watches.
  void publish(const char* what, node_id n) noexcept {
    run_progress* p = config_.progress;
    if (p == nullptr) return;
    p->what.store(what, std::memory_order_relaxed);
    p->node.store(n.value(), std::memory_order_relaxed);
    p->events.store(events_, std::memory_order_relaxed);
  }

  void run_check() {
    if (std::optional<std::string> v = driver_->check()) fail(std::move(*v));
  }
  void fail(std::string why) {
    violation_ = true;
    what_ = "seed " + std::to_string(config_.seed) + ", t=" + std::to_string(time_.now().count()) +
            "ns, event " + std::to_string(events_) + " (" + last_ + "): " + why;
  }
  void describe(const char* what, node_id n) {
    last_ = what;
    if (n != no_node) {
      last_ += " node ";
      last_ += std::to_string(n.value());
    }
  }

  run_config config_;
  world_options options_;
  D* driver_;
  seeded_random master_;
  seeded_random profile_rng_;
  seeded_random fault_rng_;
  seeded_random disk_rng_;
  seeded_random schedule_rng_;
  seeded_random node_rng_;
  fault_profile profile_;
  std::size_t size_;
  sim_time_source time_;
  network<message> net_;
  std::vector<sim_disk> disks_;
  std::vector<bool> up_;
  std::vector<std::uint64_t> incarnation_;
  std::vector<std::int64_t> skew_;
  std::vector<event> queue_;  // a heap ordered by `later`
  std::uint64_t next_seq_{0};
  std::uint64_t events_{0};
  std::uint64_t crashes_{0};
  std::uint64_t to_down_{0};
  std::uint64_t client_values_{0};
  bool started_{false};
  bool healing_{false};
  bool violation_{false};
  std::string what_;
  std::string last_;
};

}  // namespace quorum::sim
