// The umbrella header: every part of quorum in one include (DESIGN.md, layout).
// Prefer the per-part headers (quorum/raft.hpp, quorum/hashing.hpp, ...) in
// code that cares about build time.
#pragma once

#include "quorum/codec.hpp"
#include "quorum/core.hpp"
#include "quorum/hashing.hpp"
#include "quorum/paxos.hpp"
#include "quorum/raft.hpp"
#include "quorum/sim.hpp"
#include "quorum/storage.hpp"
#include "quorum/two_phase_commit.hpp"
