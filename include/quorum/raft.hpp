// Raft (quorum::raft): a replicated log as a sans-I/O state machine over the
// user's Transport, Log, Clock and StateMachine policies. Election with PreVote
// and CheckQuorum, pipelined replication with group commit, linearizable reads
// (ReadIndex and leases) and leadership transfer.
#pragma once

#include "quorum/raft/config_history.hpp"
#include "quorum/raft/configuration.hpp"
#include "quorum/raft/entry.hpp"
#include "quorum/raft/hard_state.hpp"
#include "quorum/raft/message.hpp"
#include "quorum/raft/node.hpp"
#include "quorum/raft/options.hpp"
#include "quorum/raft/policies.hpp"
#include "quorum/raft/progress.hpp"
#include "quorum/raft/raft_log.hpp"
#include "quorum/raft/snapshot.hpp"
#include "quorum/raft/snapshot_receiver.hpp"
#include "quorum/raft/read_index.hpp"
#include "quorum/raft/state_machine.hpp"
#include "quorum/raft/status.hpp"
#include "quorum/raft/term_runs.hpp"
#include "quorum/raft/transfer.hpp"
