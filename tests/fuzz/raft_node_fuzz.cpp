// libFuzzer target: three Raft nodes driven by the input (node_harness.hpp
// says what it does and checks), every message type forged in full.
#include <memory>

#include "node_harness.hpp"
#include "quorum/raft.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace {

using namespace quorum;
using fuzz::checking_state_machine;

struct policies {
  using transport = fuzz::queue_transport<raft::message>;
  using log = fuzz::disk_log;
  using clock = fuzz::still_clock;
  using state_machine = checking_state_machine;
  using snapshot_store = fuzz::disk_snapshots;
};
using raft_node = raft::node<policies>;

struct raft_cluster {
  static constexpr std::uint64_t size = 3;
  fuzz::wire* net;
  std::array<fuzz::disk, 3> disks;
  std::array<bool, 3> damaged{};  // may stop with an error
  std::array<std::unique_ptr<raft_node>, 3> nodes;
  std::uint64_t reads = 0;

  explicit raft_cluster(fuzz::wire& w) : net{&w} {
    for (std::uint64_t i = 1; i <= size; ++i) boot(i);
  }
  void boot(std::uint64_t i) {
    const std::array<node_id, 3> members{node_id{1}, node_id{2}, node_id{3}};
    raft::options o;
    o.election_ticks = 3;
    o.max_entries_per_append = 8;
    o.snapshot_chunk_bytes = 16;  // snapshots travel in several chunks
    o.snapshot_trailing_entries = 2;
    o.seed = i;
    nodes[i - 1].reset();  // the old node lets go of its disk first
    nodes[i - 1] = std::make_unique<raft_node>(node_id{i}, members, fuzz::queue_transport<raft::message>{net},
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
  raft_node& at(std::uint64_t i) { return *nodes[i - 1]; }

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
    raft::message m;
    m.type = static_cast<raft::message_type>(in.ConsumeIntegralInRange<std::uint8_t>(1, raft::max_message_type));
    m.reject = in.ConsumeBool();
    m.no_answer = in.ConsumeBool();
    m.from = node_id{fuzz::small_or_any(in)};
    m.to = in.ConsumeBool() ? node_id{i} : node_id{fuzz::small_or_any(in)};
    m.term = term_id{fuzz::small_or_any(in)};
    m.index = log_index{fuzz::small_or_any(in)};
    m.log_term = term_id{fuzz::small_or_any(in)};
    m.commit = log_index{fuzz::small_or_any(in)};
    m.hint_index = log_index{fuzz::small_or_any(in)};
    m.context = fuzz::small_or_any(in);
    m.offset = fuzz::small_or_any(in);
    m.total = fuzz::small_or_any(in);
    m.data = s.bytes(in, 64);
    std::vector<raft::entry_view> entries(in.ConsumeIntegralInRange<std::size_t>(0, 4));
    for (auto& e : entries) {
      e.term = term_id{fuzz::small_or_any(in)};
      e.kind = static_cast<raft::entry_kind>(in.ConsumeIntegralInRange<std::uint8_t>(0, raft::max_entry_kind));
      e.data = s.bytes(in, 24);
    }
    m.entries = entries;
    // Through the codec when it can carry it (what a peer can send), else as given.
    if (in.ConsumeBool()) {
      byte_buffer wire;
      raft::encode(m, wire);
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
  raft_cluster c{net};
  fuzz::run_steps(c, net, in);
  return 0;
}
