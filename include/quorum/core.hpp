// The shared vocabulary: ids, bytes, errors and results, assertions, seeded
// randomness, and the policy concepts every protocol is written against.
#pragma once

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/concepts.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/result.hpp"
#include "quorum/version.hpp"
