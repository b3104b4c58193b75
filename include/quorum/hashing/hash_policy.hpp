// Hash policies: every placement algorithm takes the hash of its keys and node
// names as a template parameter (KeyHash) with xxh64_hash as the default, so a
// user can plug in the hash their other clients already use.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

#include "quorum/hashing/mix.hpp"
#include "quorum/hashing/xxh64.hpp"

namespace quorum::hashing {

// KeyHash<H>: a const H maps any std::string_view to a std::uint64_t,
// deterministically (the same bytes give the same value in every process).
template <class H>
concept KeyHash = std::copy_constructible<H> && requires(const H& h, std::string_view key) {
  { h(key) } -> std::same_as<std::uint64_t>;
};

// IntegerKeyHash<H>: a const H maps a std::uint64_t key to a std::uint64_t.
template <class H>
concept IntegerKeyHash = std::copy_constructible<H> && requires(const H& h, std::uint64_t key) {
  { h(key) } -> std::same_as<std::uint64_t>;
};

struct xxh64_hash {
  std::uint64_t seed = 0;

  [[nodiscard]] constexpr std::uint64_t operator()(std::string_view key) const noexcept {
    return xxh64(key, seed);
  }
};

using default_hash = xxh64_hash;

static_assert(KeyHash<xxh64_hash>);
static_assert(IntegerKeyHash<mix64_hash>);

}  // namespace quorum::hashing
