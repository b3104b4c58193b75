// libFuzzer target: a two-phase commit coordinator (node 1) and three
// participants (nodes 2-4) driven by the input (node_harness.hpp says what it
// does and checks), every message type forged in full. The coordinator is
// presumed abort or presumed commit, with one-phase commit and the last-agent
// optimisation on or off, as the input's first byte says. Its `propose`
// begins the next transaction over the participants the command's first
// byte picks; a participant's enlists in it.
#include <optional>

#include "node_harness.hpp"
#include "quorum/two_phase_commit.hpp"

namespace {

using namespace quorum;
namespace tpc = quorum::two_phase_commit;

// Votes yes, but no on every fifth transaction and read-only on every seventh.
struct voting_rm {
  tpc::vote prepare(tpc::txn_id t) {
    if (t.value() % 5 == 0) return tpc::vote::no;
    if (t.value() % 7 == 0) return tpc::vote::read_only;
    return tpc::vote::yes;
  }
  void commit(tpc::txn_id) {}
  void abort(tpc::txn_id) {}
};

struct coordinator_policies {
  using transport = fuzz::queue_transport<tpc::message>;
  using log = fuzz::disk_log;
  using clock = fuzz::still_clock;
};
struct participant_policies : coordinator_policies {
  using resource_manager = voting_rm;
};

struct tpc_cluster {
  static constexpr std::uint64_t size = 4;
  fuzz::wire* net;
  tpc::coordinator_options co;
  tpc::participant_options po;
  std::array<fuzz::disk, size> disks;
  std::array<bool, size> damaged{};  // may stop with an error
  std::optional<tpc::coordinator<coordinator_policies>> coord;
  std::array<std::optional<tpc::participant<participant_policies>>, size> parts;  // [1..3]: nodes 2..4
  std::uint64_t txn = 0;

  tpc_cluster(fuzz::wire& w, std::uint8_t config) : net{&w} {
    co.presumption = (config & 1) != 0 ? tpc::presumption::commit : tpc::presumption::abort;
    co.one_phase = (config & 2) != 0;
    co.last_agent = (config & 4) != 0 && co.presumption == tpc::presumption::abort;
    co.vote_timeout_ticks = 6;
    po.unilateral_abort_ticks = 8;
    po.inquiry_ticks = 3;
    po.cooperative_termination = (config & 8) != 0;
    for (std::uint64_t i = 1; i <= size; ++i) boot(i);
  }
  void boot(std::uint64_t i) {
    fuzz::disk_log log{&disks[i - 1]};
    fuzz::queue_transport<tpc::message> t{net};
    if (i == 1) coord.emplace(node_id{1}, t, log, fuzz::still_clock{}, co);
    else parts[i - 1].emplace(node_id{i}, t, log, fuzz::still_clock{}, voting_rm{}, po);
  }
  void restart(std::uint64_t i) {
    if (i == 1) coord.reset();
    else parts[i - 1].reset();
    disks[i - 1].crash();
    if (i == 1) txn += 1000;  // ids must increase across a restart, as an application's would
    boot(i);
  }

  template <class F>
  void with(std::uint64_t i, F&& f) {
    if (i == 1) f(*coord);
    else f(*parts[i - 1]);
  }

  void deliver(const fuzz::envelope& e) { raw(e.to.value(), byte_view{e.bytes}); }
  void raw(std::uint64_t i, byte_view bytes) {
    with(i, [&](auto& n) { n.receive(bytes); });
  }
  void tick(std::uint64_t i) {
    with(i, [](auto& n) { n.tick(); });
  }
  void propose(std::uint64_t i, byte_view command) {
    if (i == 1) {
      const unsigned pick = command.empty() ? 7u : static_cast<unsigned>(command[0]) & 7u;
      std::vector<node_id> ps;
      for (std::uint64_t p = 2; p <= size; ++p)
        if ((pick & (1u << (p - 2))) != 0) ps.push_back(node_id{p});
      if (ps.empty()) ps.push_back(node_id{2});
      (void)coord->begin(tpc::txn_id{++txn}, ps);
    } else {
      (void)parts[i - 1]->enlist(tpc::txn_id{txn + 1}, node_id{1});
    }
  }
  void check(std::uint64_t i) {
    with(i, [&](auto& n) { fuzz::expect_running(n, damaged[i - 1], i); });
    if (i == 1) coord->clear_decisions();
  }

  void forge(std::uint64_t i, FuzzedDataProvider& in, fuzz::scratch&) {
    tpc::message m;
    m.type = static_cast<tpc::message_type>(in.ConsumeIntegralInRange<std::uint8_t>(1, tpc::max_message_type));
    m.from = node_id{fuzz::small_or_any(in)};
    m.to = in.ConsumeBool() ? node_id{i} : node_id{fuzz::small_or_any(in)};
    m.txn =
        tpc::txn_id{in.ConsumeBool() ? txn + in.ConsumeIntegralInRange<std::uint64_t>(0, 2) : fuzz::small_or_any(in)};
    m.coordinator = in.ConsumeBool() ? node_id{1} : node_id{fuzz::small_or_any(in)};
    m.horizon = tpc::txn_id{fuzz::small_or_any(in)};
    m.presumption = static_cast<tpc::presumption>(in.ConsumeIntegralInRange<std::uint8_t>(1, 2));
    m.vote = static_cast<tpc::vote>(in.ConsumeIntegralInRange<std::uint8_t>(1, 3));
    m.decision = static_cast<tpc::decision>(in.ConsumeIntegralInRange<std::uint8_t>(1, 2));
    std::vector<node_id> ps(in.ConsumeIntegralInRange<std::size_t>(0, 5));
    for (auto& p : ps)
      p = node_id{in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 5) : fuzz::small_or_any(in)};
    m.participants = ps;
    with(i, [&](auto& n) { fuzz::receive_forged(n, m, in); });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  fuzz::wire net;
  tpc_cluster c{net, in.ConsumeIntegral<std::uint8_t>()};
  fuzz::run_steps(c, net, in);
  return 0;
}
