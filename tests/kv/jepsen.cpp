// quorum-kv-jepsen: a Jepsen-style test of quorum-kv. Three real processes;
// several client threads doing SET/GET/INCR on a few keys over TCP against
// random members; a nemesis that, on a seeded schedule, kills members with
// SIGKILL and restarts them, pauses them (SIGSTOP/SIGCONT) and partitions
// them: with network namespaces where we may (root; netns_lab.hpp), otherwise
// with a TCP proxy per link on loopback (link_proxies.hpp). Then it heals everything, reads every
// key, and checks the history:
//   - per key linearizable (quorum::sim::check), where -TIMEOUT or a lost
//     connection is an operation of unknown outcome and -TRYAGAIN one that
//     did not take effect;
//     The final reads are part of that history, so a lost acknowledged SET
//     shows up there;
//   - no acknowledged INCR lost (each counter's final read is at least its
//     largest acknowledged value) and every acknowledged INCR value unique;
//   - no error other than TRYAGAIN/TIMEOUT, and every final read answered.
// Exit status 0 when all hold. Usage:
//   quorum-kv-jepsen [--protocol raft|paxos] [--seconds N] [--seed S] [--clients N]
//                    [--binary PATH] [--dir DIR] [--partitions auto|netns|proxy|none] [--key-seconds N]
//                    [--leader-sync inline|thread]   (passed to every quorum-kv; raft only)
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kv_cluster.hpp"
#include "link_proxies.hpp"
#include "netns_lab.hpp"
#include "quorum/sim/history.hpp"
#include "quorum/sim/linearizability.hpp"
#include "resp_client.hpp"

#ifndef QUORUM_KV_BINARY
#define QUORUM_KV_BINARY "quorum-kv"
#endif
#ifndef KV_TEST_DIR
#define KV_TEST_DIR "/tmp"
#endif

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using quorum::sim::op_kind;
using quorum::sim::value;

constexpr int members = 3;
// Registers take SET and GET; counters take INCR and GET. As in Jepsen's
// independent keys, the clients move to fresh keys ("r0@7": generation 7)
// every --key-seconds: linearizability is checked per key, and a key's
// history stays short enough, and with few enough operations of unknown
// outcome (each may or may not have happened), for the search to finish.
const std::vector<std::string> registers{"r0", "r1", "r2"};
const std::vector<std::string> counters{"n0", "n1"};
std::string generation_key(const std::string& base, std::int64_t generation) {
  return base + "@" + std::to_string(generation);
}
// Longer than the server's own 3 s request deadline, so that its -TIMEOUT
// arrives when it can; a client that hears nothing by then calls it unknown.
constexpr int client_timeout_ms = 5000;

struct options {
  std::string protocol = "raft";
  int seconds = 30;
  std::uint64_t seed = 1;
  int clients = 5;
  std::string binary = QUORUM_KV_BINARY;
  std::string dir = KV_TEST_DIR;
  std::string partitions = "auto";
  int key_seconds = 10;
  std::string leader_sync = "inline";
};

// How the nemesis cuts links: network namespaces or proxies; empty for none.
struct partitioner {
  std::function<void(int, int)> cut;
  std::function<void()> heal;
};

struct tally {
  std::atomic<std::uint64_t> ok{0}, failed{0}, unknown{0}, errors{0}, not_sent{0};
};

struct faults {
  int kills = 0, pauses = 0, isolations = 0, link_cuts = 0;
};

std::int64_t now_ns(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - t0).count();
}

bool is_counter(const std::string& key) { return key[0] == 'n'; }

// What a GET's reply means for the model: absent, an integer counter, or a symbol.
value read_value(quorum::sim::recorder& rec, const std::string& key, const kv_test::reply& r) {
  if (r.null) return value::absent();
  if (is_counter(key)) return value::integer(std::stoll(r.text));
  return rec.intern(r.text);
}

// One client: a loop of random operations against random members, each
// recorded just before it is sent and when its fate is known.
class client {
 public:
  client(int id, kv_test::process_cluster& c, quorum::sim::recorder& rec, tally& t, steady::time_point t0,
         std::int64_t key_ns, std::uint64_t seed)
      : id_{id}, cluster_{c}, rec_{rec}, tally_{t}, t0_{t0}, key_ns_{key_ns}, rng_{seed} {}

  void run(const std::atomic<bool>& stop) {
    std::uint64_t n = 0;
    while (!stop.load()) {
      const int member = pick(members);
      const int dice = pick(10);
      const std::int64_t g = now_ns(t0_) / key_ns_;
      if (dice < 4) {
        const std::string key =
            generation_key(pick(2) ? registers[pick(registers.size())] : counters[pick(counters.size())], g);
        one(member, op_kind::read, key, {"GET", key}, {});
      } else if (dice < 7) {
        const std::string key = generation_key(registers[pick(registers.size())], g);
        const std::string v = "c" + std::to_string(id_) + "-" + std::to_string(++n);
        one(member, op_kind::write, key, {"SET", key, v}, rec_.intern(v));
      } else {
        const std::string key = generation_key(counters[pick(counters.size())], g);
        one(member, op_kind::incr, key, {"INCR", key}, value::integer(1));
      }
    }
  }

  // Reads `key` until some member answers it (up to `limit`); false if none did.
  bool final_read(const std::string& key, std::chrono::seconds limit) {
    const auto deadline = steady::now() + limit;
    for (int member = 0; steady::now() < deadline; member = (member + 1) % members) {
      if (one(member, op_kind::read, key, {"GET", key}, {})) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  int pick(std::size_t n) { return static_cast<int>(rng_() % n); }

  // True when the operation was acknowledged.
  bool one(int member, op_kind kind, const std::string& key, const std::vector<std::string>& args, value input) {
    auto& conn = conns_[member];
    if (!conn || !conn->ok()) {
      const auto& m = cluster_.member(member);
      conn = std::make_unique<kv_test::resp_client>(m.host, m.client_port, client_timeout_ms);
    }
    if (!conn->ok()) {  // refused or timed out before anything was sent: no operation
      ++tally_.not_sent;
      conn.reset();
      std::this_thread::sleep_for(20ms);
      return false;
    }
    // A process whose last operation has an unknown fate is a new process
    // (as in Jepsen), so that no client has two operations open at once.
    const auto op = rec_.invoke(static_cast<std::uint64_t>(id_) * 1'000'000 + generation_, kind, rec_.intern(key),
                                input, now_ns(t0_));
    if (!op) throw std::runtime_error("recorder: " + op.error().message());
    const auto r = conn->command(args);
    const std::int64_t done = now_ns(t0_);
    if (!r) {  // connection lost or timed out: the request may have been applied
      (void)rec_.unknown(*op);
      ++tally_.unknown;
      ++generation_;
      conn.reset();
      return false;
    }
    if (r->is_error()) {
      if (r->text.starts_with("TRYAGAIN")) {
        (void)rec_.failed(*op, done);
        ++tally_.failed;
        std::this_thread::sleep_for(10ms);  // no leader yet: give the election a moment
      } else {
        (void)rec_.unknown(*op);
        ++generation_;
        if (r->text.starts_with("TIMEOUT")) {
          ++tally_.unknown;
        } else {
          ++tally_.errors;
          std::lock_guard lock{print_mu};
          std::cerr << "jepsen: unexpected error to " << args[0] << ' ' << key << ": -" << r->text << '\n';
        }
      }
      return false;
    }
    value out;
    if (kind == op_kind::read) out = read_value(rec_, key, *r);
    if (kind == op_kind::incr) out = value::integer(r->integer);
    if (!rec_.ok(*op, out, done)) throw std::runtime_error("recorder: ok");
    ++tally_.ok;
    return true;
  }

  int id_;
  kv_test::process_cluster& cluster_;
  quorum::sim::recorder& rec_;
  tally& tally_;
  steady::time_point t0_;
  std::int64_t key_ns_;
  std::mt19937_64 rng_;
  std::uint64_t generation_ = 0;
  std::unique_ptr<kv_test::resp_client> conns_[members];

 public:
  static inline std::mutex print_mu;
};

// The nemesis: one fault at a time, held for 1-3 s, then healed, then a
// quiet 0.3-1.3 s. Its target is the leader half of the time. Faults: kill -9
// of one member, of two (a majority: only what was fsynced survives), SIGSTOP
// of one, and, with namespaces, isolating one member or cutting one link.
class nemesis {
 public:
  nemesis(kv_test::process_cluster& c, partitioner net, std::uint64_t seed) : c_{c}, net_{std::move(net)}, rng_{seed} {}

  void run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
      if (!sleep_ms(300 + pick(1000), stop)) break;
      const int kinds = net_.cut ? 5 : 3;
      const int kind = pick(kinds);
      int target = pick(members);
      if (pick(2) == 0)
        if (const int leader = c_.wait_leader(0ms); leader >= 0) target = leader;
      const int other = (target + 1 + pick(members - 1)) % members;
      switch (kind) {
        case 0:
          c_.kill9(target);
          ++f_.kills;
          log("kill -9 node " + std::to_string(target + 1));
          break;
        case 1:
          c_.kill9(target);
          c_.kill9(other);
          f_.kills += 2;
          log("kill -9 nodes " + std::to_string(target + 1) + " and " + std::to_string(other + 1));
          break;
        case 2:
          c_.pause(target);
          ++f_.pauses;
          log("SIGSTOP node " + std::to_string(target + 1));
          break;
        case 3:
          for (int j = 0; j < members; ++j) net_.cut(target, j);
          ++f_.isolations;
          log("isolate node " + std::to_string(target + 1));
          break;
        default:
          net_.cut(target, other);
          ++f_.link_cuts;
          log("cut link " + std::to_string(target + 1) + "<->" + std::to_string(other + 1));
          break;
      }
      sleep_ms(1000 + pick(2000), stop);
      heal();
      log("heal");
    }
    heal();
  }

  // Everyone running, awake and connected.
  void heal() {
    if (net_.heal) net_.heal();
    for (int i = 0; i < members; ++i) {
      if (!c_.running(i)) c_.start(i);
      c_.resume(i);
    }
  }

  [[nodiscard]] const faults& injected() const { return f_; }
  bool verbose = false;

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  static bool sleep_ms(int ms, const std::atomic<bool>& stop) {
    const auto until = steady::now() + std::chrono::milliseconds{ms};
    while (steady::now() < until) {
      if (stop.load()) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
  void log(const std::string& s) const {
    if (!verbose) return;
    std::lock_guard lock{client::print_mu};
    std::cout << "nemesis: " << s << '\n';
  }

  kv_test::process_cluster& c_;
  partitioner net_;
  std::mt19937_64 rng_;
  faults f_;
};

std::optional<options> parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--protocol" && has_value) o.protocol = argv[++i];
    else if (a == "--seconds" && has_value) o.seconds = std::atoi(argv[++i]);
    else if (a == "--seed" && has_value) o.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--clients" && has_value) o.clients = std::atoi(argv[++i]);
    else if (a == "--binary" && has_value) o.binary = argv[++i];
    else if (a == "--dir" && has_value) o.dir = argv[++i];
    else if (a == "--partitions" && has_value) o.partitions = argv[++i];
    else if (a == "--key-seconds" && has_value) o.key_seconds = std::atoi(argv[++i]);
    else if (a == "--leader-sync" && has_value) o.leader_sync = argv[++i];
    else return std::nullopt;
  }
  if ((o.protocol != "raft" && o.protocol != "paxos") || o.seconds < 1 || o.clients < 1 || o.key_seconds < 1)
    return std::nullopt;
  if (o.partitions != "auto" && o.partitions != "netns" && o.partitions != "proxy" && o.partitions != "none")
    return std::nullopt;
  if (o.leader_sync != "inline" && (o.leader_sync != "thread" || o.protocol != "raft")) return std::nullopt;
  return o;
}

// The history's own checks besides linearizability; returns the problems found.
std::vector<std::string> check_counters(const quorum::sim::history& h) {
  std::vector<std::string> problems;
  std::map<std::string, std::set<std::int64_t>> acknowledged;
  std::map<std::string, std::int64_t> largest, last_read;
  std::map<std::string, std::int64_t> last_read_at;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const auto& op = h[i];
    if (op.status != quorum::sim::op_status::ok) continue;
    const std::string key = h.text(op.key);
    if (op.kind == op_kind::incr) {
      if (!acknowledged[key].insert(op.output.as_integer()).second)
        problems.push_back("INCR " + key + " acknowledged the value " + std::to_string(op.output.as_integer()) +
                           " twice (" + h.describe(i) + ")");
      largest[key] = std::max(largest[key], op.output.as_integer());
    }
    if (op.kind == op_kind::read && is_counter(key.substr(1)) && op.complete >= last_read_at[key]) {
      last_read_at[key] = op.complete;
      last_read[key] = op.output.is_integer() ? op.output.as_integer() : 0;  // absent: nothing survived
    }
  }
  // The last reads are the final ones, after everything healed.
  for (const auto& [key, top] : largest)
    if (last_read[key] < top)
      problems.push_back("counter " + key + " ends at " + std::to_string(last_read[key]) +
                         " but an INCR acknowledged " + std::to_string(top) + ": an acknowledged write was lost");
  return problems;
}

}  // namespace

static int run(const options* opts);  // the test, below

int main(int argc, char** argv) {
  const auto opts = parse(argc, argv);
  if (!opts) {
    std::cerr << "usage: quorum-kv-jepsen [--protocol raft|paxos] [--seconds N] [--seed S] [--clients N]\n"
                 "                        [--binary PATH] [--dir DIR] [--partitions auto|netns|proxy|none]\n"
                 "                        [--key-seconds N] [--leader-sync inline|thread (raft only)]\n";
    return 2;
  }
  // The set-up throws what it cannot do (a --dir that does not exist, a
  // binary that will not start): say so, rather than terminate.
  try {
    return run(&*opts);
  } catch (const std::exception& e) {
    std::cerr << "jepsen: error: " << e.what() << '\n';
    return 2;
  }
}

static int run(const options* opts) {
  ::signal(SIGPIPE, SIG_IGN);
  std::cout << "jepsen: " << opts->protocol << ", " << opts->seconds << " s, seed " << opts->seed << ", "
            << opts->clients << " clients, leader sync " << opts->leader_sync << "\n";

  // Partitions: namespaces where we may (auto), else proxies on loopback.
  std::string how = opts->partitions;
  if (how == "auto") how = kv_test::netns_lab::unavailable() ? "proxy" : "netns";
  std::unique_ptr<kv_test::netns_lab> net;
  std::unique_ptr<kv_test::link_proxies> proxies;
  std::vector<kv_test::member_address> addresses;
  std::vector<std::string> dial_lists;
  partitioner cuts;
  if (how == "netns") {
    if (const auto why = kv_test::netns_lab::unavailable()) {
      std::cerr << "jepsen: network namespaces are unavailable: " << *why << '\n';
      return 2;
    }
    net = std::make_unique<kv_test::netns_lab>(members);
    for (int i = 0; i < members; ++i) addresses.push_back({net->address(i), 7000, 6379, net->name(i)});
    cuts = {[&net](int i, int j) { net->cut(i, j); }, [&net] { net->heal(); }};
    std::cout << "jepsen: partitions: network namespaces, veth pairs to a bridge, blackhole routes\n";
  } else {
    addresses = kv_test::loopback_members(members);
    if (how == "proxy") {
      proxies = std::make_unique<kv_test::link_proxies>(addresses);
      for (int i = 0; i < members; ++i) dial_lists.push_back(proxies->cluster_flag(i));
      cuts = {[&proxies](int i, int j) { proxies->cut(i, j); }, [&proxies] { proxies->heal(); }};
      std::cout << "jepsen: partitions: a TCP proxy per link on loopback (cut: connections closed and refused)\n";
    } else {
      std::cout << "jepsen: partitions: none\n";
    }
  }
  kv_test::process_cluster cluster{opts->binary, opts->protocol, opts->dir, addresses, 20, dial_lists,
                                   {"--leader-sync", opts->leader_sync}};
  for (int i = 0; i < members; ++i) cluster.start(i);
  if (cluster.wait_leader(30s) < 0) {
    std::cerr << "jepsen: FAIL: no leader within 30 s of starting; logs in " << cluster.dir() << '\n'
              << cluster.report();
    cluster.keep_dir();
    return 1;
  }

  quorum::sim::recorder rec;
  tally t;
  const auto t0 = steady::now();
  const std::int64_t key_ns = std::int64_t{opts->key_seconds} * 1'000'000'000;
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < opts->clients; ++i)
    clients.push_back(
        std::make_unique<client>(i, cluster, rec, t, t0, key_ns, opts->seed * 1000 + static_cast<std::uint64_t>(i)));
  nemesis nem{cluster, cuts, opts->seed};
  nem.verbose = std::getenv("JEPSEN_VERBOSE") != nullptr;

  // An exception in a thread would end the process with std::terminate and
  // the members left running: it stops the run instead, and is reported.
  std::mutex thrown_mutex;
  std::string thrown;
  const auto guarded = [&](auto&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      const std::lock_guard lock{thrown_mutex};
      if (thrown.empty()) thrown = e.what();
      stop = true;
    }
  };
  std::vector<std::thread> threads;
  for (auto& c : clients) threads.emplace_back([&c, &stop, &guarded] { guarded([&] { c->run(stop); }); });
  std::thread nemesis_thread{[&] { guarded([&] { nem.run(stop); }); }};
  for (int s = 0; s < opts->seconds && !stop; ++s) std::this_thread::sleep_for(1s);
  stop = true;
  nemesis_thread.join();
  for (auto& th : threads) th.join();
  const auto workload_ns = now_ns(t0);
  if (!thrown.empty()) {
    std::cerr << "jepsen: error: the workload stopped: " << thrown << "; logs and data kept in " << cluster.dir()
              << '\n';
    cluster.keep_dir();
    return 2;
  }

  // Healed (the nemesis did on its way out): wait for a leader and read every key.
  bool pass = true;
  if (cluster.wait_leader(30s) < 0) {
    std::cerr << "jepsen: FAIL: no leader within 30 s of healing\n";
    pass = false;
  }
  client reader{opts->clients, cluster, rec, t, t0, key_ns, opts->seed};
  for (std::int64_t g = 0; g <= workload_ns / key_ns; ++g)
    for (const auto* bases : {&registers, &counters})
      for (const auto& base : *bases)
        if (!reader.final_read(generation_key(base, g), 30s)) {
          std::cerr << "jepsen: FAIL: final read of " << generation_key(base, g) << " unanswered\n";
          pass = false;
        }

  const quorum::sim::history h = rec.take();
  std::map<op_kind, std::uint64_t> ok_by_kind;
  for (const auto& op : h.operations())
    if (op.status == quorum::sim::op_status::ok) ++ok_by_kind[op.kind];

  const auto check_start = steady::now();
  const auto verdict = quorum::sim::check(h, {.max_steps = 0, .max_milliseconds = 300'000});
  const auto check_ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - check_start).count();
  const auto problems = check_counters(h);

  const faults& f = nem.injected();
  std::cout << "jepsen: " << h.size() << " operations in " << workload_ns / 1'000'000'000 << " s: " << t.ok << " ok ("
            << ok_by_kind[op_kind::write] << " SET, " << ok_by_kind[op_kind::read] << " GET, "
            << ok_by_kind[op_kind::incr] << " INCR), " << t.failed << " failed (TRYAGAIN), " << t.unknown
            << " unknown (TIMEOUT or connection lost), " << t.errors << " other errors; " << t.not_sent
            << " connects refused\n";
  std::cout << "jepsen: faults: " << f.kills << " kill -9, " << f.pauses << " SIGSTOP, " << f.isolations
            << " node isolations, " << f.link_cuts << " link cuts\n";
  if (!verdict) {
    std::cout << "jepsen: FAIL: the history is malformed: " << verdict.error().message() << '\n';
    pass = false;
  } else {
    std::cout << "jepsen: linearizability: " << quorum::sim::to_string(verdict->outcome) << " (" << verdict->keys
              << " keys, " << verdict->steps << " steps, " << check_ms << " ms)\n";
    if (verdict->outcome != quorum::sim::check_outcome::ok) {
      std::cout << "jepsen: FAIL: " << verdict->what << '\n';
      pass = false;
    }
  }
  for (const auto& p : problems) std::cout << "jepsen: FAIL: " << p << '\n';
  if (!problems.empty() || t.errors > 0) pass = false;
  if (ok_by_kind[op_kind::write] == 0 || ok_by_kind[op_kind::incr] == 0 || ok_by_kind[op_kind::read] == 0) {
    std::cout << "jepsen: FAIL: some kind of operation never succeeded\n";
    pass = false;
  }
  if (!pass) {
    cluster.keep_dir();
    std::cout << "jepsen: logs and data kept in " << cluster.dir() << '\n';
  }
  std::cout << "jepsen: " << (pass ? "PASS" : "FAIL") << '\n';
  return pass ? 0 : 1;
}
