// The deterministic simulator in one include: simulated clock, network, disk,
// fault profiles, the cluster harness (world), the JSON Lines trace writer,
// the self-test protocol, the drivers and checkers of Raft, Multi-Paxos and
// two-phase commit, and the linearizability checker. See sim/world.hpp for how to plug a protocol in.
#pragma once

#include "quorum/sim/clock.hpp"
#include "quorum/sim/disk.hpp"
#include "quorum/sim/faults.hpp"
#include "quorum/sim/grouped_proposal.hpp"
#include "quorum/sim/history.hpp"
#include "quorum/sim/linearizability.hpp"
#include "quorum/sim/network.hpp"
#include "quorum/sim/paxos_commit_checker.hpp"
#include "quorum/sim/paxos_commit_driver.hpp"
#include "quorum/sim/paxos_checker.hpp"
#include "quorum/sim/paxos_driver.hpp"
#include "quorum/sim/raft_checker.hpp"
#include "quorum/sim/raft_driver.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/selftest.hpp"
#include "quorum/sim/trace.hpp"
#include "quorum/sim/two_phase_commit_checker.hpp"
#include "quorum/sim/two_phase_commit_driver.hpp"
#include "quorum/sim/world.hpp"
