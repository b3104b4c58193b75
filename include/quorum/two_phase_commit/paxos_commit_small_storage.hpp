// Small storage kept inside its owner for the usual few participants of a
// Paxos Commit transaction, on the heap beyond that: an array of up to K
// elements, and flags of up to 64 in one word. Clearing keeps the heap
// storage, so a reused owner allocates nothing in steady state.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quorum::two_phase_commit::detail {

// Up to K elements inline, all on the heap past that. The owner holds the
// count n (one count serves several arrays of one transaction) and passes it.
template <class T, std::size_t K>
class small_array {
 public:
  [[nodiscard]] T* data(std::size_t n) noexcept { return n <= K ? inline_.data() : heap_.data(); }
  [[nodiscard]] const T* data(std::size_t n) const noexcept { return n <= K ? inline_.data() : heap_.data(); }
  void assign(std::size_t n, const T& v) {
    if (n <= K) std::fill_n(inline_.data(), n, v);
    else heap_.assign(n, v);
  }
  void assign(std::span<const T> from) {
    if (from.size() <= K) std::copy(from.begin(), from.end(), inline_.data());
    else heap_.assign(from.begin(), from.end());
  }

 private:
  std::array<T, K> inline_{};
  std::vector<T> heap_;
};

// Flags 0..n-1 (n from the caller, who knows it): the first 64 in one word,
// so the usual test of all or any is one compare.
class small_bits {
 public:
  void reset(std::size_t n) {
    first_ = 0;
    if (n > 64) rest_.assign((n - 1) / 64, 0);
  }
  [[nodiscard]] bool test(std::size_t i) const noexcept {
    return ((i < 64 ? first_ : rest_[i / 64 - 1]) >> (i % 64)) & 1u;
  }
  void set(std::size_t i, bool v = true) noexcept {
    std::uint64_t& w = i < 64 ? first_ : rest_[i / 64 - 1];
    const std::uint64_t bit = std::uint64_t{1} << (i % 64);
    w = v ? w | bit : w & ~bit;
  }
  void set_all(std::size_t n) noexcept {
    first_ = low_bits(n);
    for (std::size_t k = 0; k < rest_.size() && 64 * (k + 1) < n; ++k) rest_[k] = low_bits(n - 64 * (k + 1));
  }
  [[nodiscard]] bool all(std::size_t n) const noexcept {
    if (first_ != low_bits(n)) return false;
    for (std::size_t k = 0; k < rest_.size() && 64 * (k + 1) < n; ++k)
      if (rest_[k] != low_bits(n - 64 * (k + 1))) return false;
    return true;
  }
  [[nodiscard]] bool any(std::size_t n) const noexcept {
    if (first_ != 0) return true;
    for (std::size_t k = 0; k < rest_.size() && 64 * (k + 1) < n; ++k)
      if (rest_[k] != 0) return true;
    return false;
  }

 private:
  // The low min(n, 64) bits set.
  [[nodiscard]] static constexpr std::uint64_t low_bits(std::size_t n) noexcept {
    return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  }
  std::uint64_t first_{0};
  std::vector<std::uint64_t> rest_;  // flags 64.., 64 a word
};

}  // namespace quorum::two_phase_commit::detail
