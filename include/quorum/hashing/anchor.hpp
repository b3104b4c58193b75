// AnchorHash (Mendelson et al., "AnchorHash: A Scalable Consistent Hash", ToN 2021):
// any bucket leaves or returns in O(1), only its keys move, memory is fixed at
// construction. anchor_hash is the bucket engine; anchor<Node> gives buckets names.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/hash_policy.hpp"
#include "quorum/hashing/mix.hpp"

namespace quorum::hashing {

namespace detail {
// Uniform in [0, n) from 64 random bits, without a divide (Lemire's multiply-shift).
[[nodiscard]] constexpr std::uint32_t reduce(std::uint64_t h, std::uint32_t n) noexcept {
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::uint32_t>((static_cast<u128>(h) * n) >> 64);
}
}  // namespace detail

// The paper's bucket-level algorithm over buckets 0..capacity-1, of which
// `working` are in use at first (0..working-1). Errors: the constructor throws
// invalid_parameter unless 0 < capacity <= max_capacity and working <= capacity;
// add() throws unknown_node when every bucket is in use; remove(b) throws
// unknown_node when b is not a working bucket.
class anchor_hash {
 public:
  static constexpr std::uint32_t max_capacity = std::uint32_t{1} << 26;

  explicit anchor_hash(std::uint32_t capacity, std::uint32_t working)
      : a_(checked_capacity(capacity, working)),
        w_(capacity),
        l_(capacity),
        k_(capacity),
        working_(working) {
    removed_.reserve(capacity);
    // Buckets beyond the working set count as removed in descending order, so
    // bucket b was removed when the working set had size b.
    for (std::uint32_t b = capacity; b-- > working;) {
      removed_.push_back(b);
      a_[b] = b;
    }
    for (std::uint32_t b = 0; b < capacity; ++b) w_[b] = l_[b] = k_[b] = b;
  }

  // The working bucket of a key hash. Needs size() > 0.
  [[nodiscard]] std::uint32_t bucket(std::uint64_t key_hash) const noexcept {
    QUORUM_ASSERT(working_ > 0);
    std::uint32_t b = detail::reduce(key_hash, capacity());
    while (a_[b] > 0) {
      // b left when the working set had a_[b] buckets: rehash among those,
      // following replacements of buckets that left before b did.
      std::uint32_t h = detail::reduce(mix64(key_hash, b), a_[b]);
      while (a_[h] >= a_[b]) h = k_[h];
      b = h;
    }
    return b;
  }

  // Brings back the most recently removed bucket and returns it.
  std::uint32_t add() {
    if (removed_.empty()) throw unknown_node("anchor_hash::add: every bucket is already working");
    const std::uint32_t b = removed_.back();
    removed_.pop_back();
    a_[b] = 0;
    l_[w_[working_]] = working_;
    w_[l_[b]] = b;
    k_[b] = b;
    ++working_;
    return b;
  }

  void remove(std::uint32_t b) {
    if (!is_working(b))
      throw unknown_node("anchor_hash::remove: bucket " + std::to_string(b) + " is not working");
    removed_.push_back(b);
    --working_;
    a_[b] = working_;
    w_[l_[b]] = w_[working_];
    k_[b] = w_[working_];
    l_[w_[working_]] = l_[b];
  }

  [[nodiscard]] bool is_working(std::uint32_t b) const noexcept {
    // Only a bucket removed as the set became empty has a_ == 0 while removed,
    // and add() brings it back first, so a_ == 0 means working once size() > 0.
    return working_ > 0 && b < capacity() && a_[b] == 0;
  }

  [[nodiscard]] std::uint32_t size() const noexcept { return working_; }
  [[nodiscard]] std::uint32_t capacity() const noexcept {
    return static_cast<std::uint32_t>(a_.size());
  }
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return sizeof(*this) +
           (a_.capacity() + w_.capacity() + l_.capacity() + k_.capacity() + removed_.capacity()) *
               sizeof(std::uint32_t);
  }

 private:
  // Runs before any allocation, so a bad capacity cannot allocate first.
  static std::uint32_t checked_capacity(std::uint32_t capacity, std::uint32_t working) {
    if (capacity == 0 || capacity > max_capacity || working > capacity)
      throw invalid_parameter("anchor_hash: need 0 < capacity <= " + std::to_string(max_capacity) +
                              " and working <= capacity, got capacity " + std::to_string(capacity) +
                              ", working " + std::to_string(working));
    return capacity;
  }

  std::vector<std::uint32_t> a_;        // 0 if working, else the working-set size when it left
  std::vector<std::uint32_t> w_;        // the working set, by position
  std::vector<std::uint32_t> l_;        // each bucket's position in w_
  std::vector<std::uint32_t> k_;        // the bucket that took a removed bucket's place
  std::vector<std::uint32_t> removed_;  // stack: add() restores in reverse order
  std::uint32_t working_;
};

// anchor<Node>: named nodes over anchor_hash. A node joining takes the bucket
// that left last, so a node that leaves and rejoins gets its keys back.
// Errors: insert throws duplicate_node, and unknown_node when all `capacity`
// buckets are in use; find throws empty_placement (try_find returns nullptr).
template <class Node, KeyHash Hash = default_hash>
class anchor {
 public:
  using node_type = Node;
  using hash_type = Hash;

  explicit anchor(std::uint32_t capacity, Hash hash = {})
      : engine_(capacity, 0), slots_(capacity), hash_(std::move(hash)) {}

  void insert(std::string_view name) requires std::constructible_from<Node, std::string_view> {
    insert(name, Node(name));
  }

  void insert(std::string_view name, Node value) {
    detail::check_name("anchor::insert", name);
    if (by_name_.count(std::string(name)) != 0) detail::throw_duplicate("anchor::insert", name);
    if (engine_.size() == engine_.capacity())
      throw unknown_node("anchor::insert: all " + std::to_string(engine_.capacity()) +
                         " buckets are in use; construct with a larger capacity");
    const std::uint32_t b = engine_.add();
    slots_[b].emplace(std::string(name), std::move(value));
    by_name_.emplace(std::string(name), b);
  }

  // O(1). Returns false when no node has this name.
  bool erase(std::string_view name) {
    const auto it = by_name_.find(std::string(name));
    if (it == by_name_.end()) return false;
    engine_.remove(it->second);
    slots_[it->second].reset();
    by_name_.erase(it);
    return true;
  }

  [[nodiscard]] const Node& find(std::string_view key) const { return find_hashed(hash_(key)); }

  [[nodiscard]] const Node& find_hashed(std::uint64_t key_hash) const {
    if (engine_.size() == 0) detail::throw_empty("anchor::find");
    return slots_[engine_.bucket(key_hash)]->second;
  }

  [[nodiscard]] const Node* try_find(std::string_view key) const noexcept {
    return engine_.size() == 0 ? nullptr : &slots_[engine_.bucket(hash_(key))]->second;
  }

  [[nodiscard]] bool contains(std::string_view name) const {
    return by_name_.count(std::string(name)) != 0;
  }
  [[nodiscard]] std::size_t size() const noexcept { return engine_.size(); }
  [[nodiscard]] bool empty() const noexcept { return engine_.size() == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return engine_.capacity(); }
  [[nodiscard]] const anchor_hash& engine() const noexcept { return engine_; }

  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    std::size_t bytes =
        engine_.memory_bytes() + sizeof(*this) - sizeof(engine_) +
        slots_.capacity() * sizeof(slot) + by_name_.bucket_count() * sizeof(void*) +
        by_name_.size() * (sizeof(std::pair<const std::string, std::uint32_t>) + 2 * sizeof(void*));
    for (const auto& [name, b] : by_name_)
      bytes += name.capacity() > 15 ? 2 * (name.capacity() + 1) : 0;
    return bytes;
  }

 private:
  using slot = std::optional<std::pair<std::string, Node>>;

  anchor_hash engine_;
  std::vector<slot> slots_;
  std::unordered_map<std::string, std::uint32_t> by_name_;
  [[no_unique_address]] Hash hash_;
};

}  // namespace quorum::hashing
