// ketama_ring: consistent hashing on a ring of weighted virtual points, in
// libmemcached's and libketama's exact placements or in our stable mode
// (ketama_points.hpp has each mode's point rules). Needs nothing but core.
#pragma once

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/hash_policy.hpp"
#include "quorum/hashing/ketama_points.hpp"
#include "quorum/hashing/md5.hpp"
#include "quorum/hashing/one_at_a_time.hpp"

namespace quorum::hashing {

struct ketama_options {
  ketama_mode mode = ketama_mode::stable;
  // stable mode: virtual points per unit of weight (weight 1 -> 160 points).
  std::uint32_t points_per_weight = 160;
  // Every mode: the ring never holds more points (8 to 16 bytes each with
  // the lookup index); an insert that would pass this limit is refused.
  std::size_t max_points = std::size_t{1} << 22;
};

// One point of the ring: its 32-bit position and the index of its node.
struct ketama_point {
  std::uint32_t value;
  std::uint32_t node;
};

// The nodes replicas() returned, in ring order; iterates as const Node&.
template <class Node>
class ketama_node_list {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Node;
    using difference_type = std::ptrdiff_t;
    using pointer = const Node*;
    using reference = const Node&;
    iterator() = default;
    explicit iterator(const Node* const* at) : at_{at} {}
    reference operator*() const { return **at_; }
    pointer operator->() const { return *at_; }
    iterator& operator++() { ++at_; return *this; }
    iterator operator++(int) { auto old = *this; ++at_; return old; }
    friend bool operator==(iterator, iterator) = default;
    friend difference_type operator-(iterator a, iterator b) { return a.at_ - b.at_; }

   private:
    const Node* const* at_ = nullptr;
  };

  explicit ketama_node_list(std::vector<const Node*> nodes) : nodes_{std::move(nodes)} {}
  [[nodiscard]] iterator begin() const { return iterator{nodes_.data()}; }
  [[nodiscard]] iterator end() const { return iterator{nodes_.data() + nodes_.size()}; }
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return nodes_.empty(); }
  [[nodiscard]] const Node& operator[](std::size_t i) const { return *nodes_.at(i); }

 private:
  std::vector<const Node*> nodes_;
};

// Errors (errors.hpp; each call documents what it throws):
//   duplicate_node     (std::invalid_argument) a name already on the ring, or empty
//   invalid_weight     (std::invalid_argument) a weight <= 0 or > 2^32-1
//   invalid_parameter  (std::invalid_argument) an insert past options.max_points,
//                      find_batch spans of different sizes
//   empty_placement    (std::out_of_range) find / replicas / point_for on an empty ring
//   unknown_node       (std::out_of_range) node_at / name_at past size()
// try_find never throws: it returns nullptr on an empty ring. A throwing
// insert leaves the ring as it was.
//
// Layout: point positions in one sorted array of 32-bit values, their owners
// in a parallel array, and a radix index over the positions' top bits, so a
// lookup reads a few words and allocates nothing. Const calls may run
// concurrently; insert and erase need exclusive access. Hash hashes keys and
// node names in stable mode only; the peer modes use their peer's hash.
template <class Node = std::string, KeyHash Hash = default_hash>
class ketama_ring {
 public:
  ketama_ring() = default;
  explicit ketama_ring(ketama_mode mode, Hash hash = Hash{}) : ketama_ring{ketama_options{.mode = mode}, hash} {}
  // Throws invalid_parameter if points_per_weight or max_points is 0.
  explicit ketama_ring(ketama_options options, Hash hash = Hash{}) : options_{options}, hash_{std::move(hash)} {
    if (options_.points_per_weight == 0 || options_.max_points == 0) {
      throw invalid_parameter("ketama_ring: options.points_per_weight and options.max_points must be positive");
    }
  }

  // Adds a node named `name` (for the libmemcached modes "host:port" or
  // "host"; see ketama_points.hpp) whose value is Node{name}. Throws
  // std::invalid_argument on a duplicate name, a bad weight or max_points.
  void insert(std::string_view name, std::int64_t weight = 1)
    requires std::constructible_from<Node, std::string_view>
  {
    insert(name, Node{name}, weight);
  }

  // Adds `node` under `name`; the name alone decides where its points go.
  void insert(std::string_view name, Node node, std::int64_t weight) {
    detail::check_name("ketama_ring::insert", name);
    if (weight <= 0 || weight > std::int64_t{UINT32_MAX}) {
      throw invalid_weight("ketama_ring::insert: weight of '" + std::string{name} + "' is " + std::to_string(weight) +
                           "; it must be in 1..4294967295");
    }
    if (index_of(name) != npos) detail::throw_duplicate("ketama_ring::insert", name);
    nodes_.push_back(entry{std::string{name}, std::move(node), static_cast<std::uint32_t>(weight)});
    try {
      if (options_.mode == ketama_mode::stable) {
        add_stable_points(nodes_.size() - 1);
      } else {
        rebuild();
      }
    } catch (...) {
      nodes_.pop_back();  // a refused insert leaves the ring as it was
      if (options_.mode != ketama_mode::stable) rebuild();
      throw;
    }
  }

  // Removes the node named `name`; false if there is none.
  bool erase(std::string_view name) {
    const std::size_t at = index_of(name);
    if (at == npos) return false;
    nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(at));
    if (options_.mode == ketama_mode::stable) {
      remove_stable_points(static_cast<std::uint32_t>(at));
    } else {
      rebuild();
    }
    return true;
  }

  // The node owning `key`. Throws std::out_of_range on an empty ring.
  [[nodiscard]] const Node& find(std::string_view key) const { return nodes_[point_for(hash_key(key)).node].node; }

  // The node owning `key`, or nullptr on an empty ring.
  [[nodiscard]] const Node* try_find(std::string_view key) const noexcept {
    if (values_.empty()) return nullptr;
    return &nodes_[owners_[successor(hash_key(key))]].node;
  }

  // out[i] = &find(keys[i]). In the MD5 modes the keys' digests are computed
  // several at a time. Throws std::invalid_argument if the spans' sizes
  // differ, std::out_of_range on an empty ring.
  void find_batch(std::span<const std::string_view> keys, std::span<const Node*> out) const {
    if (keys.size() != out.size()) throw invalid_parameter("ketama_ring::find_batch: keys and out differ in size");
    if (values_.empty() && !keys.empty()) detail::throw_empty("ketama_ring::find_batch");
    constexpr std::size_t lanes = 8;
    std::size_t i = 0;
    if (options_.mode == ketama_mode::libmemcached || options_.mode == ketama_mode::libketama) {
      std::uint32_t hashes[lanes];
      for (; i + lanes <= keys.size(); i += lanes) {
        const bool short_keys = std::all_of(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                            keys.begin() + static_cast<std::ptrdiff_t>(i + lanes),
                                            [](std::string_view k) { return k.size() <= md5_one_block_max; });
        if (!short_keys) break;
        md5_word0_many<lanes>(keys.data() + i, hashes);
        for (std::size_t l = 0; l < lanes; ++l) out[i + l] = &nodes_[owners_[successor(hashes[l])]].node;
      }
    }
    for (; i < keys.size(); ++i) out[i] = &nodes_[owners_[successor(hash_key(keys[i]))]].node;
  }

  // Up to n distinct nodes for `key`: its owner first, then the next distinct
  // nodes clockwise. Throws std::out_of_range on an empty ring.
  [[nodiscard]] ketama_node_list<Node> replicas(std::string_view key, std::size_t n) const {
    if (values_.empty()) detail::throw_empty("ketama_ring::replicas");
    const std::size_t want = std::min(n, nodes_.size());
    std::vector<const Node*> picked;
    picked.reserve(want);
    std::vector<bool> seen(nodes_.size());
    std::size_t at = successor(hash_key(key));
    for (std::size_t step = 0; step < values_.size() && picked.size() < want; ++step) {
      const std::uint32_t owner = owners_[at];
      if (!seen[owner]) {
        seen[owner] = true;
        picked.push_back(&nodes_[owner].node);
      }
      at = at + 1 == values_.size() ? 0 : at + 1;
    }
    return ketama_node_list<Node>{std::move(picked)};
  }

  // The 32-bit position of `key` on the ring, as this mode's peer computes it.
  [[nodiscard]] std::uint32_t hash_key(std::string_view key) const noexcept {
    switch (options_.mode) {
      case ketama_mode::libmemcached:
      case ketama_mode::libketama: return md5_words(key)[0];
      case ketama_mode::libmemcached_default: return one_at_a_time(key);
      case ketama_mode::stable: break;
    }
    return static_cast<std::uint32_t>(hash_(key) >> 32);
  }

  // The first point at or after `hash`, wrapping past the top of the ring.
  // Throws std::out_of_range on an empty ring.
  [[nodiscard]] ketama_point point_for(std::uint32_t hash) const {
    if (values_.empty()) detail::throw_empty("ketama_ring::find");
    const std::size_t at = successor(hash);
    return {values_[at], owners_[at]};
  }

  // The i-th node in insertion order (erase closes the gap).
  [[nodiscard]] const Node& node_at(std::size_t i) const {
    if (i >= nodes_.size()) throw unknown_node("ketama_ring::node_at: index " + std::to_string(i) + " >= size()");
    return nodes_[i].node;
  }
  [[nodiscard]] std::string_view name_at(std::size_t i) const {
    if (i >= nodes_.size()) throw unknown_node("ketama_ring::name_at: index " + std::to_string(i) + " >= size()");
    return nodes_[i].name;
  }

  [[nodiscard]] bool contains(std::string_view name) const noexcept { return index_of(name) != npos; }
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return nodes_.empty(); }
  [[nodiscard]] std::size_t point_count() const noexcept { return values_.size(); }
  [[nodiscard]] std::span<const std::uint32_t> point_values() const noexcept { return values_; }
  // Bytes of the ring's arrays and of the per-node point caches.
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    std::size_t words = values_.capacity() + owners_.capacity() + radix_.capacity();
    for (const entry& e : nodes_) words += e.md5_points.capacity() + e.one_at_a_time_points.capacity();
    return words * sizeof(std::uint32_t);
  }
  [[nodiscard]] ketama_mode mode() const noexcept { return options_.mode; }
  [[nodiscard]] const ketama_options& options() const noexcept { return options_; }

 private:
  struct entry {
    std::string name;
    Node node;
    std::uint32_t weight;
    std::vector<std::uint32_t> md5_points{};            // digests 0..k-1, four points each
    std::vector<std::uint32_t> one_at_a_time_points{};  // libmemcached_default, unweighted
  };

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  [[nodiscard]] std::size_t index_of(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].name == name) return i;
    }
    return npos;
  }

  // Index of the first point >= hash, 0 past the last one. The radix index
  // narrows the search to one bucket of the top bits (under one point on
  // average), so a lookup is two dependent loads and a short scan instead of
  // a binary search's log2(points) cache-missing steps.
  [[nodiscard]] std::size_t successor(std::uint32_t hash) const noexcept {
    QUORUM_ASSERT(!values_.empty());
    const std::size_t bucket = radix_shift_ == 32 ? 0 : hash >> radix_shift_;
    std::size_t at = radix_[bucket];
    const std::size_t end = radix_[bucket + 1];
    while (at < end && values_[at] < hash) ++at;
    return at == values_.size() ? 0 : at;
  }

  // radix_[b] = index of the first point whose top bits are >= b. Between one
  // and two buckets per point (at most 8 bytes per point) keep the scan in
  // successor() to about one step, which the branch predictor gets right.
  void rebuild_index() {
    const std::size_t n = values_.size();
    const int bits = n < 2 ? 0 : std::min(24, static_cast<int>(std::bit_width(n)));
    radix_shift_ = 32 - bits;
    const std::size_t buckets = std::size_t{1} << bits;
    radix_.assign(buckets + 1, static_cast<std::uint32_t>(n));
    std::size_t at = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      const std::uint64_t floor = radix_shift_ == 32 ? 0 : std::uint64_t{b} << radix_shift_;
      while (at < n && values_[at] < floor) ++at;
      radix_[b] = static_cast<std::uint32_t>(at);
    }
  }

  void check_point_limit(std::size_t total) const {
    if (total > options_.max_points) {
      throw invalid_parameter("ketama_ring::insert: the ring would hold " + std::to_string(total) +
                                  " points, more than options.max_points = " + std::to_string(options_.max_points));
    }
  }

  // Points of every node, sorted by (value, insertion order): libmemcached's
  // tie order, and the one that makes a lower bound pick the earlier node.
  void rebuild() {
    std::uint64_t total_weight = 0;
    for (const entry& e : nodes_) total_weight += e.weight;
    std::vector<std::uint32_t> values;
    std::vector<std::uint32_t> owners;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      generate_points(nodes_[i], total_weight, values);
      check_point_limit(values.size());
      owners.resize(values.size(), static_cast<std::uint32_t>(i));
    }
    ketama_detail::sort_points(values, owners);
    values_.swap(values);
    owners_.swap(owners);
    rebuild_index();
  }

  // Appends node e's points. MD5 and one-at-a-time points are remembered per
  // node: a weighted ring re-cuts every node's share on each change, but the
  // digests themselves never change, so a rebuild hashes only new ones.
  void generate_points(entry& e, std::uint64_t total_weight, std::vector<std::uint32_t>& out) const {
    switch (options_.mode) {
      case ketama_mode::libmemcached:
        append_cached_md5(e, ketama_detail::libmemcached_prefix(e.name),
                          ketama_detail::libmemcached_digests(e.weight, total_weight, nodes_.size()), out);
        break;
      case ketama_mode::libketama:
        append_cached_md5(e, e.name, ketama_detail::libketama_digests(e.weight, total_weight, nodes_.size()), out);
        break;
      case ketama_mode::libmemcached_default:
        // libmemcached turns to weighted MD5 points as soon as any server has
        // a weight above 1, even with weighting off; keys stay one-at-a-time.
        if (any_weighted()) {
          append_cached_md5(e, ketama_detail::libmemcached_prefix(e.name),
                            ketama_detail::libmemcached_digests(e.weight, total_weight, nodes_.size()), out);
        } else {
          if (e.one_at_a_time_points.empty()) {
            ketama_detail::append_one_at_a_time_points(ketama_detail::libmemcached_prefix(e.name),
                                                       e.one_at_a_time_points);
          }
          out.insert(out.end(), e.one_at_a_time_points.begin(), e.one_at_a_time_points.end());
        }
        break;
      case ketama_mode::stable: ketama_detail::append_stable_points(hash_(e.name), stable_count(e), out); break;
    }
  }

  static void append_cached_md5(entry& e, std::string_view prefix, std::uint32_t digests,
                                std::vector<std::uint32_t>& out) {
    const auto have = static_cast<std::uint32_t>(e.md5_points.size() / 4);
    if (have < digests) ketama_detail::append_md5_points(prefix, have, digests - have, e.md5_points);
    out.insert(out.end(), e.md5_points.begin(), e.md5_points.begin() + std::ptrdiff_t{digests} * 4);
  }

  [[nodiscard]] bool any_weighted() const noexcept {
    return std::any_of(nodes_.begin(), nodes_.end(), [](const entry& e) { return e.weight > 1; });
  }

  [[nodiscard]] std::uint64_t stable_count(const entry& e) const noexcept {
    return std::uint64_t{options_.points_per_weight} * e.weight;
  }

  // Stable mode merges the new node's points in: nothing else moves, and the
  // new node, last in insertion order, loses every tie.
  void add_stable_points(std::size_t index) {
    const entry& e = nodes_[index];
    const std::uint64_t count = stable_count(e);
    if (count > options_.max_points || values_.size() + count > options_.max_points) {
      check_point_limit(static_cast<std::size_t>(std::min<std::uint64_t>(values_.size() + count, SIZE_MAX)));
    }
    std::vector<std::uint32_t> fresh;
    fresh.reserve(static_cast<std::size_t>(count));
    ketama_detail::append_stable_points(hash_(e.name), count, fresh);
    std::sort(fresh.begin(), fresh.end());
    std::vector<std::uint32_t> values(values_.size() + fresh.size());
    std::vector<std::uint32_t> owners(values.size());
    std::size_t a = 0, b = 0;
    for (std::size_t out = 0; out < values.size(); ++out) {
      const bool take_old = b == fresh.size() || (a < values_.size() && values_[a] <= fresh[b]);
      values[out] = take_old ? values_[a] : fresh[b];
      owners[out] = take_old ? owners_[a++] : static_cast<std::uint32_t>(index);
      if (!take_old) ++b;
    }
    values_.swap(values);
    owners_.swap(owners);
    rebuild_index();
  }

  void remove_stable_points(std::uint32_t index) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < values_.size(); ++i) {
      if (owners_[i] == index) continue;
      values_[kept] = values_[i];
      owners_[kept] = owners_[i] > index ? owners_[i] - 1 : owners_[i];
      ++kept;
    }
    values_.resize(kept);
    owners_.resize(kept);
    rebuild_index();
  }

  ketama_options options_{};
  [[no_unique_address]] Hash hash_{};
  std::vector<entry> nodes_;
  std::vector<std::uint32_t> values_;  // sorted point positions: the search touches only these
  std::vector<std::uint32_t> owners_;  // owners_[i]: index in nodes_ of the node at values_[i]
  std::vector<std::uint32_t> radix_;   // see rebuild_index
  int radix_shift_ = 32;
};

}  // namespace quorum::hashing
