// rendezvous<Node>: highest-random-weight hashing (Thaler & Ravishankar) with
// weights by the logarithmic method (score = w / -ln u), so a node with twice
// the weight owns twice the keys and a change moves only that node's keys.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/hash_policy.hpp"
#include "quorum/hashing/mix.hpp"

namespace quorum::hashing {

// Errors: insert throws duplicate_node (name present or empty) and
// invalid_weight (weight not in (0, 1e300]); find/find_hashed throw
// empty_placement when there are no nodes (try_find returns nullptr).
template <class Node, KeyHash Hash = default_hash>
class rendezvous {
 public:
  using node_type = Node;
  using hash_type = Hash;

  explicit rendezvous(Hash hash = {}) : hash_(std::move(hash)) {}

  void insert(std::string_view name,
              double weight = 1.0) requires std::constructible_from<Node, std::string_view> {
    insert(name, Node(name), weight);
  }

  void insert(std::string_view name, Node value, double weight = 1.0) {
    detail::check_name("rendezvous::insert", name);
    detail::check_weight("rendezvous::insert", name, weight);
    if (index_of(name) != npos) detail::throw_duplicate("rendezvous::insert", name);
    const std::uint64_t h = mix64(hash_(name));
    const std::size_t n = points_.size();
    try {
      points_.push_back({h, mix64(h) | 1, weight});
      names_.emplace_back(name);
      values_.push_back(std::move(value));
    } catch (...) {
      // A bad_alloc must not leave the three vectors out of step.
      points_.resize(n);
      if (names_.size() > n) names_.pop_back();
      throw;
    }
    update_uniform();
  }

  // Returns false when no node has this name.
  bool erase(std::string_view name) {
    const std::size_t i = index_of(name);
    if (i == npos) return false;
    points_.erase(points_.begin() + static_cast<std::ptrdiff_t>(i));
    names_.erase(names_.begin() + static_cast<std::ptrdiff_t>(i));
    values_.erase(values_.begin() + static_cast<std::ptrdiff_t>(i));
    update_uniform();
    return true;
  }

  [[nodiscard]] bool contains(std::string_view name) const noexcept {
    return index_of(name) != npos;
  }
  [[nodiscard]] std::size_t size() const noexcept { return points_.size(); }
  [[nodiscard]] bool empty() const noexcept { return points_.empty(); }
  [[nodiscard]] const Hash& hash_function() const noexcept { return hash_; }

  [[nodiscard]] const Node& find(std::string_view key) const { return find_hashed(hash_(key)); }

  [[nodiscard]] const Node& find_hashed(std::uint64_t key_hash) const {
    if (empty()) detail::throw_empty("rendezvous::find");
    return values_[best(key_hash)];
  }

  [[nodiscard]] const Node* try_find(std::string_view key) const noexcept {
    return empty() ? nullptr : &values_[best(hash_(key))];
  }

  // Up to k distinct nodes, best first: the replica set of the key. The first
  // is find(key); removing a node shifts every key's list by at most one place.
  // The references stay valid until the next insert or erase.
  [[nodiscard]] std::vector<std::reference_wrapper<const Node>> top(std::string_view key,
                                                                    std::size_t k) const {
    return top_hashed(hash_(key), k);
  }

  [[nodiscard]] std::vector<std::reference_wrapper<const Node>> top_hashed(std::uint64_t key_hash,
                                                                           std::size_t k) const {
    std::vector<std::pair<score, std::size_t>> scored;
    scored.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) scored.emplace_back(score_of(key_hash, i), i);
    k = std::min(k, scored.size());
    std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(k), scored.end(),
                      [](const auto& a, const auto& b) { return b.first < a.first; });
    std::vector<std::reference_wrapper<const Node>> out;
    out.reserve(k);
    for (std::size_t i = 0; i < k; ++i) out.emplace_back(values_[scored[i].second]);
    return out;
  }

  // The same list under the name the ring uses, so bounded_load can walk it.
  [[nodiscard]] std::vector<std::reference_wrapper<const Node>> replicas(std::string_view key,
                                                                         std::size_t k) const {
    return top(key, k);
  }

  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    std::size_t bytes = sizeof(*this) + points_.capacity() * sizeof(point) +
                        names_.capacity() * sizeof(std::string) + values_.capacity() * sizeof(Node);
    for (const auto& n : names_) bytes += n.capacity() > 15 ? n.capacity() + 1 : 0;
    return bytes;
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The draw of a key on a node is one 64x64->128 multiply folded to 64 bits
  // (as wyhash mixes) of the key hash and the node's two constants: a full
  // mix64 per node made find() at 1000 nodes 1.5x slower for no better spread.
  struct point {
    std::uint64_t salt;
    std::uint64_t multiplier;  // odd
    double weight;
  };

  [[nodiscard]] static std::uint64_t draw_of(std::uint64_t key_hash, const point& p) noexcept {
    __extension__ using u128 = unsigned __int128;
    const u128 product = static_cast<u128>(key_hash ^ p.salt) * p.multiplier;
    return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
  }

  // Compared lexicographically; the raw draw breaks ties between equal scores.
  struct score {
    double value;
    std::uint64_t draw;
    friend bool operator<(const score& a, const score& b) noexcept {
      return a.value < b.value || (a.value == b.value && a.draw < b.draw);
    }
  };

  [[nodiscard]] score score_of(std::uint64_t key_hash, std::size_t i) const noexcept {
    const std::uint64_t draw = draw_of(key_hash, points_[i]);
    if (uniform_) return {1.0, draw};
    // u in (0, 1): 53 bits, centred, so -ln(u) is finite and positive.
    const double u = (static_cast<double>(draw >> 11) + 0.5) * 0x1.0p-53;
    return {points_[i].weight / -std::log(u), draw};
  }

  [[nodiscard]] std::size_t best(std::uint64_t key_hash) const noexcept {
    std::size_t best_index = 0;
    if (uniform_) {
      // Equal weights: w / -ln(u) grows with u, so the largest draw wins.
      std::uint64_t best_draw = 0;
      for (std::size_t i = 0; i < points_.size(); ++i) {
        const std::uint64_t draw = draw_of(key_hash, points_[i]);
        if (draw >= best_draw) {
          best_draw = draw;
          best_index = i;
        }
      }
      return best_index;
    }
    score best_score{-1.0, 0};
    for (std::size_t i = 0; i < points_.size(); ++i) {
      const score s = score_of(key_hash, i);
      if (!(s < best_score)) {
        best_score = s;
        best_index = i;
      }
    }
    return best_index;
  }

  [[nodiscard]] std::size_t index_of(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return i;
    return npos;
  }

  void update_uniform() noexcept {
    uniform_ = std::all_of(points_.begin(), points_.end(),
                           [&](const point& p) { return p.weight == points_.front().weight; });
  }

  [[no_unique_address]] Hash hash_;
  std::vector<point> points_;
  std::vector<std::string> names_;
  std::vector<Node> values_;
  bool uniform_ = true;
};

}  // namespace quorum::hashing
