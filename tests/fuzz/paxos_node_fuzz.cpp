// libFuzzer target: three Multi-Paxos nodes driven by the input
// (node_harness.hpp says what it does and checks), every message type forged
// in full.
#include <memory>

#include "node_harness.hpp"
#include "quorum/paxos.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace {

using namespace quorum;
using fuzz::checking_state_machine;

struct policies {
  using transport = fuzz::queue_transport<paxos::message>;
  using log = fuzz::disk_log;
  using clock = fuzz::still_clock;
  using state_machine = checking_state_machine;
  using snapshot_store = fuzz::disk_snapshots;
};
using paxos_node = paxos::node<policies>;

struct paxos_cluster {
  static constexpr std::uint64_t size = 3;
  fuzz::wire* net;
  std::array<fuzz::disk, 3> disks;
  std::array<bool, 3> damaged{};  // may stop with an error
  std::array<std::unique_ptr<paxos_node>, 3> nodes;
  std::uint64_t reads = 0;

  explicit paxos_cluster(fuzz::wire& w) : net{&w} {
    for (std::uint64_t i = 1; i <= size; ++i) boot(i);
  }
  void boot(std::uint64_t i) {
    const std::array<node_id, 3> members{node_id{1}, node_id{2}, node_id{3}};
    paxos::options o;
    o.election_ticks = 3;
    o.max_open_slots = 16;
    o.max_entries_per_message = 8;
    o.snapshot_chunk_bytes = 16;  // snapshots travel in several chunks
    o.seed = i;
    nodes[i - 1].reset();  // the old node lets go of its disk first
    nodes[i - 1] = std::make_unique<paxos_node>(node_id{i}, members, fuzz::queue_transport<paxos::message>{net},
                                                 fuzz::disk_log{&disks[i - 1]}, fuzz::still_clock{},
                                                 checking_state_machine{i, 0, 0, 0}, fuzz::disk_snapshots{&disks[i - 1]}, o);
  }
  void restart(std::uint64_t i) {
    nodes[i - 1].reset();
    disks[i - 1].crash();
    boot(i);
  }
  void damage(std::uint64_t i, FuzzedDataProvider& in) {
    nodes[i - 1].reset();
    disks[i - 1].crash();
    fuzz::damage(disks[i - 1], in);
    damaged[i - 1] = true;
    boot(i);
  }
  paxos_node& at(std::uint64_t i) { return *nodes[i - 1]; }

  void deliver(const fuzz::envelope& e) { at(e.to.value()).receive(byte_view{e.bytes}); }
  void tick(std::uint64_t i) { at(i).tick(); }
  void propose(std::uint64_t i, byte_view command) { (void)at(i).propose(command); }
  void raw(std::uint64_t i, byte_view bytes) { at(i).receive(bytes); }
  void snapshot(std::uint64_t i) { (void)at(i).take_snapshot(); }
  void read(std::uint64_t i) { (void)at(i).read(++reads); }
  void check(std::uint64_t i) {
    if (!at(i).status() && !damaged[i - 1]) fuzz::node_fuzz_failed(at(i).status().error().message().c_str(), i);
  }

  void forge(std::uint64_t i, FuzzedDataProvider& in, fuzz::scratch& s) {
    paxos::message m;
    m.type = static_cast<paxos::message_type>(in.ConsumeIntegralInRange<std::uint8_t>(1, paxos::max_message_type));
    m.from = node_id{fuzz::small_or_any(in)};
    m.to = in.ConsumeBool() ? node_id{i} : node_id{fuzz::small_or_any(in)};
    m.bal = ballot{fuzz::small_or_any(in), node_id{fuzz::small_or_any(in)}};
    m.slot = log_index{fuzz::small_or_any(in)};
    m.index = log_index{fuzz::small_or_any(in)};
    m.commit = log_index{fuzz::small_or_any(in)};
    m.reject = in.ConsumeBool();
    m.no_answer = in.ConsumeBool();
    std::vector<paxos::entry> entries(in.ConsumeIntegralInRange<std::size_t>(0, 4));
    const bool run = in.ConsumeBool();  // consecutive slots at the message's ballot, as accepts carry
    for (std::size_t k = 0; k < entries.size(); ++k) {
      auto& e = entries[k];
      e.slot = run ? log_index{m.slot.value() + k} : log_index{fuzz::small_or_any(in)};
      e.bal = run ? m.bal : ballot{fuzz::small_or_any(in), node_id{fuzz::small_or_any(in)}};
      e.kind = static_cast<paxos::entry_kind>(in.ConsumeIntegralInRange<std::uint8_t>(0, paxos::max_entry_kind));
      e.data = s.bytes(in, 24);
    }
    m.entries = entries;
    // Through the codec when it can carry it (what a peer can send), else as given.
    if (in.ConsumeBool()) {
      byte_buffer wire;
      paxos::encode(m, wire);
      at(i).receive(byte_view{wire});
    } else {
      at(i).receive(m);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  fuzz::wire net;
  paxos_cluster c{net};
  fuzz::run_steps(c, net, in);
  return 0;
}
