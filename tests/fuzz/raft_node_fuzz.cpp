// libFuzzer target: three Raft nodes driven by the input (node_harness.hpp
// says what it does and checks), every message type forged in full.
#include "node_harness.hpp"
#include "quorum/raft.hpp"

namespace {

using namespace quorum;
using raft_node = raft::node<fuzz::replica_policies<raft::message>>;

raft::options fuzz_options() {
  raft::options o;
  o.election_ticks = 3;
  o.max_entries_per_append = 8;
  o.snapshot_chunk_bytes = 16;  // snapshots travel in several chunks
  o.snapshot_trailing_entries = 2;
  return o;
}

struct raft_cluster : fuzz::replica_cluster<raft_node, raft::options> {
  explicit raft_cluster(fuzz::wire& w) : replica_cluster{w, fuzz_options()} {}

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
    fuzz::receive_forged(at(i), m, in);
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
