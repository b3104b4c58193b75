// libFuzzer target: Paxos Commit on four nodes, F = 1 (nodes 1-3 are the
// acceptors, every node an RM), driven by the input (node_harness.hpp says
// what it does and checks), every message type forged in full. A node's
// `propose` begins the next transaction it originates over the RMs the
// command's first byte picks.
#include <optional>

#include "node_harness.hpp"
#include "quorum/two_phase_commit.hpp"

namespace {

using namespace quorum;
namespace tpc = quorum::two_phase_commit;

// Votes yes, but no on every fifth transaction.
struct voting_rm {
  tpc::vote prepare(tpc::txn_id t) { return t.value() % 5 == 0 ? tpc::vote::no : tpc::vote::yes; }
  void commit(tpc::txn_id) {}
  void abort(tpc::txn_id) {}
};

struct policies {
  using transport = fuzz::queue_transport<tpc::pc_message>;
  using log = fuzz::disk_log;
  using clock = fuzz::still_clock;
  using resource_manager = voting_rm;
};
using pc_node = tpc::paxos_commit_node<policies>;

struct pc_cluster {
  static constexpr std::uint64_t size = 4;
  fuzz::wire* net;
  tpc::paxos_commit_options opts;
  std::array<fuzz::disk, size> disks;
  std::array<bool, size> damaged{};  // may stop with an error
  std::array<std::optional<pc_node>, size> nodes;
  std::array<std::uint64_t, size> next_txn{};  // per origin: ids it began increase

  explicit pc_cluster(fuzz::wire& w) : net{&w} {
    opts.f = 1;
    opts.acceptors = {node_id{1}, node_id{2}, node_id{3}};
    opts.acceptor_flush_ticks = 1;
    opts.leader_timeout_ticks = 4;
    opts.rm_in_doubt_ticks = 5;
    opts.acceptor_query_ticks = 6;
    opts.max_transactions = 64;
    for (std::uint64_t i = 1; i <= size; ++i) boot(i);
  }
  void boot(std::uint64_t i) {
    nodes[i - 1].emplace(node_id{i}, fuzz::queue_transport<tpc::pc_message>{net}, fuzz::disk_log{&disks[i - 1]},
                         fuzz::still_clock{}, voting_rm{}, opts);
  }
  void restart(std::uint64_t i) {
    nodes[i - 1].reset();
    disks[i - 1].crash();
    next_txn[i - 1] += 1000;  // ids an origin begins increase across its restarts
    boot(i);
  }
  pc_node& at(std::uint64_t i) { return *nodes[i - 1]; }

  void deliver(const fuzz::envelope& e) { at(e.to.value()).receive(byte_view{e.bytes}); }
  void raw(std::uint64_t i, byte_view bytes) { at(i).receive(bytes); }
  void tick(std::uint64_t i) { at(i).tick(); }
  void propose(std::uint64_t i, byte_view command) {
    const unsigned pick = command.empty() ? 15u : static_cast<unsigned>(command[0]) & 15u;
    std::vector<node_id> rms;
    for (std::uint64_t p = 1; p <= size; ++p)
      if ((pick & (1u << (p - 1))) != 0) rms.push_back(node_id{p});
    if (rms.empty()) rms.push_back(node_id{i});
    (void)at(i).begin(tpc::txn_id{++next_txn[i - 1]}, rms);
  }
  void check(std::uint64_t i) {
    fuzz::expect_running(at(i), damaged[i - 1], i);
    at(i).clear_decisions();
  }

  node_id some_node(FuzzedDataProvider& in) {
    return node_id{in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 5) : fuzz::small_or_any(in)};
  }
  tpc::txn_id some_txn(FuzzedDataProvider& in, std::uint64_t origin) {
    if (origin >= 1 && origin <= size && in.ConsumeBool())
      return tpc::txn_id{next_txn[origin - 1] + in.ConsumeIntegralInRange<std::uint64_t>(0, 1)};
    return tpc::txn_id{fuzz::small_or_any(in)};
  }

  void forge(std::uint64_t i, FuzzedDataProvider& in, fuzz::scratch&) {
    tpc::pc_message m;
    m.type = static_cast<tpc::pc_message_type>(in.ConsumeIntegralInRange<std::uint8_t>(1, tpc::max_pc_message_type));
    m.from = some_node(in);
    m.to = in.ConsumeBool() ? node_id{i} : some_node(in);
    m.origin = some_node(in);
    m.txn = some_txn(in, m.origin.value());
    m.leader = some_node(in);
    m.bal = ballot{fuzz::small_or_any(in), some_node(in)};
    m.decision = static_cast<tpc::decision>(in.ConsumeIntegralInRange<std::uint8_t>(1, 2));
    std::vector<node_id> parts(in.ConsumeIntegralInRange<std::size_t>(0, 5));
    for (auto& p : parts) p = some_node(in);
    std::vector<tpc::pc_entry> entries(in.ConsumeIntegralInRange<std::size_t>(0, 5));
    for (auto& e : entries)
      e = tpc::pc_entry{some_node(in), ballot{fuzz::small_or_any(in), some_node(in)},
                        static_cast<tpc::pc_value>(in.ConsumeIntegralInRange<std::uint8_t>(0, 2))};
    std::vector<tpc::pc_txn_ref> batch(in.ConsumeIntegralInRange<std::size_t>(0, 4));
    for (auto& b : batch) {
      b.origin = some_node(in);
      b.txn = some_txn(in, b.origin.value());
    }
    m.participants = parts;
    m.entries = entries;
    m.batch = batch;
    fuzz::receive_forged(at(i), m, in);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  fuzz::wire net;
  pc_cluster c{net};
  fuzz::run_steps(c, net, in);
  return 0;
}
