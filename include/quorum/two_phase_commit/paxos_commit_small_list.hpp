// A list of up to K elements kept inside its owner (the usual few participants
// of a Paxos Commit transaction), on the heap beyond that. Clearing keeps the
// heap storage, so a reused owner allocates nothing in steady state.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace quorum::two_phase_commit::detail {

template <class T, std::size_t K>
class small_list {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  // All elements are inline up to K, all on the heap past it: one test, no copy between.
  [[nodiscard]] T* data() noexcept { return size_ <= K ? inline_.data() : heap_.data(); }
  [[nodiscard]] const T* data() const noexcept { return size_ <= K ? inline_.data() : heap_.data(); }
  [[nodiscard]] T* begin() noexcept { return data(); }
  [[nodiscard]] T* end() noexcept { return data() + size_; }
  [[nodiscard]] const T* begin() const noexcept { return data(); }
  [[nodiscard]] const T* end() const noexcept { return data() + size_; }
  [[nodiscard]] T& operator[](std::size_t i) noexcept { return data()[i]; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  operator std::span<const T>() const noexcept { return {data(), size_}; }  // NOLINT: a view, as vector's
  [[nodiscard]] std::span<T> span() noexcept { return {data(), size_}; }

  void clear() noexcept { size_ = 0; }
  void assign(std::size_t n, const T& v) {
    if (n <= K) std::fill_n(inline_.data(), n, v);
    else heap_.assign(n, v);
    size_ = static_cast<std::uint32_t>(n);
  }
  void assign(std::span<const T> from) {
    if (from.size() <= K) std::copy(from.begin(), from.end(), inline_.data());
    else heap_.assign(from.begin(), from.end());
    size_ = static_cast<std::uint32_t>(from.size());
  }

 private:
  std::uint32_t size_{0};
  std::array<T, K> inline_{};
  std::vector<T> heap_;
};

}  // namespace quorum::two_phase_commit::detail
