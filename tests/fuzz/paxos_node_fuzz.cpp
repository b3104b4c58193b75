// libFuzzer target: three Multi-Paxos nodes driven by the input
// (node_harness.hpp says what it does and checks), every message type forged
// in full. The first input bit picks the Log: one that copies (the journal
// keeps a record cache) or one whose records stay in place (its slot index
// views the values in the Log).
#include "node_harness.hpp"
#include "quorum/paxos.hpp"

namespace {

using namespace quorum;
using copying_node = paxos::node<fuzz::replica_policies<paxos::message>>;
using in_place_node = paxos::node<fuzz::replica_policies<paxos::message, fuzz::in_place_disk_log>>;
static_assert(!log_records_stay_in_place<fuzz::disk_log> && log_records_stay_in_place<fuzz::in_place_disk_log>);

paxos::options fuzz_options() {
  paxos::options o;
  o.election_ticks = 3;
  o.max_open_slots = 16;
  o.max_entries_per_message = 8;
  o.snapshot_chunk_bytes = 16;  // snapshots travel in several chunks
  return o;
}

template <class Node>
struct paxos_cluster : fuzz::replica_cluster<Node, paxos::options> {
  using base = fuzz::replica_cluster<Node, paxos::options>;
  using base::at;

  explicit paxos_cluster(fuzz::wire& w) : base{w, fuzz_options()} {}

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
    fuzz::receive_forged(at(i), m, in);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  fuzz::wire net;
  if (in.ConsumeBool()) {
    paxos_cluster<in_place_node> c{net};
    fuzz::run_steps(c, net, in);
  } else {
    paxos_cluster<copying_node> c{net};
    fuzz::run_steps(c, net, in);
  }
  return 0;
}
