// quorum::hashing: key placement. Hash functions and policies, the ketama ring
// (libmemcached-compatible), jump, rendezvous, Maglev, bounded loads and AnchorHash.
// Needs nothing but quorum/core.
#pragma once

#include "quorum/hashing/anchor.hpp"
#include "quorum/hashing/bounded_load.hpp"
#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/hash_policy.hpp"
#include "quorum/hashing/jump.hpp"
#include "quorum/hashing/ketama.hpp"
#include "quorum/hashing/maglev.hpp"
#include "quorum/hashing/md5.hpp"
#include "quorum/hashing/mix.hpp"
#include "quorum/hashing/one_at_a_time.hpp"
#include "quorum/hashing/rendezvous.hpp"
#include "quorum/hashing/xxh64.hpp"
