// Two-phase commit (quorum::two_phase_commit): a coordinator and participants
// as sans-I/O state machines over the user's Transport, Log, Clock and
// ResourceManager. Presumed abort and presumed commit, read-only and
// one-phase optimisations, termination, recovery and heuristic reports.
#pragma once

#include "quorum/two_phase_commit/coordinator.hpp"
#include "quorum/two_phase_commit/message.hpp"
#include "quorum/two_phase_commit/options.hpp"
#include "quorum/two_phase_commit/participant.hpp"
#include "quorum/two_phase_commit/paxos_commit.hpp"
#include "quorum/two_phase_commit/policies.hpp"
#include "quorum/two_phase_commit/record.hpp"
#include "quorum/two_phase_commit/status.hpp"
#include "quorum/two_phase_commit/types.hpp"
