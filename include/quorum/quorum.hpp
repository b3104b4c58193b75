// The umbrella header: every part of quorum in one include (DESIGN.md, layout).
// Parts still being written are picked up with __has_include so the umbrella
// always compiles; prefer the per-part headers in code that cares about build time.
#pragma once

#include "quorum/core.hpp"

#if __has_include("quorum/codec.hpp")
#include "quorum/codec.hpp"
#endif
#if __has_include("quorum/storage.hpp")
#include "quorum/storage.hpp"
#endif
#if __has_include("quorum/hashing.hpp")
#include "quorum/hashing.hpp"
#endif
#if __has_include("quorum/sim.hpp")
#include "quorum/sim.hpp"
#endif
