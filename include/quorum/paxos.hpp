// Multi-Paxos (quorum::paxos): the synod as small roles with a CASPaxos-style
// register on top, and a stable-leader replicated log over the user's
// Transport, Log, Clock and StateMachine policies, shaped like raft::node.
#pragma once

#include "quorum/paxos/config_history.hpp"
#include "quorum/paxos/configuration.hpp"
#include "quorum/paxos/entry_batch.hpp"
#include "quorum/paxos/journal.hpp"
#include "quorum/paxos/journal_record.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/node.hpp"
#include "quorum/paxos/options.hpp"
#include "quorum/paxos/phase_one.hpp"
#include "quorum/paxos/policies.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/record_cache.hpp"
#include "quorum/paxos/reads.hpp"
#include "quorum/paxos/register.hpp"
#include "quorum/paxos/replica.hpp"
#include "quorum/paxos/state_machine.hpp"
#include "quorum/paxos/status.hpp"
#include "quorum/paxos/synod.hpp"
#include "quorum/paxos/window.hpp"
