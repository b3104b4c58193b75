// maglev<Node>: Google's Maglev lookup table (Eisenbud et al., NSDI 2016): each
// node fills a prime-sized table by its own permutation, so find() is one
// multiply and one load. Weighted fill and an Envoy-compatible mode as in Envoy's maglev_lb.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/hash_policy.hpp"
#include "quorum/hashing/mix.hpp"
#include "quorum/hashing/xxh64.hpp"

namespace quorum::hashing {

enum class maglev_mode {
  native,  // offset and skip from the Hash policy; lookup by multiply-shift
  envoy,   // Envoy's table: xxh64 seed 0 / seed 1 of the name, lookup by hash % M
};

struct maglev_options {
  std::uint64_t table_size = 65537;  // prime; Envoy advises at least 100 x the node count
  maglev_mode mode = maglev_mode::native;
  std::uint64_t max_table_size = std::uint64_t{1} << 26;  // bounds the allocation
};

[[nodiscard]] constexpr bool is_prime(std::uint64_t n) noexcept {
  if (n < 2) return false;
  for (std::uint64_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

namespace detail {

// Exact h % d for d < 2^32 without a divide (Lemire, Kaser & Kurz 2019):
// c = ceil(2^128 / d), h % d = high 128 bits of (c * h mod 2^128) * d.
class fast_mod {
 public:
  __extension__ using u128 = unsigned __int128;

  constexpr fast_mod() = default;
  constexpr explicit fast_mod(std::uint64_t d) noexcept : d_(d), c_(~u128{0} / d + 1) {}

  [[nodiscard]] constexpr std::uint64_t operator()(std::uint64_t h) const noexcept {
    const u128 low = c_ * h;
    const u128 lo_part = static_cast<u128>(static_cast<std::uint64_t>(low)) * d_;
    const u128 hi_part = static_cast<u128>(static_cast<std::uint64_t>(low >> 64)) * d_;
    return static_cast<std::uint64_t>((hi_part + (lo_part >> 64)) >> 64);
  }

 private:
  std::uint64_t d_ = 1;
  u128 c_ = 0;
};

}  // namespace detail

// Errors: the constructor throws invalid_parameter when table_size is not a
// prime in [2, max_table_size] (a composite size breaks the permutations);
// insert throws duplicate_node, invalid_weight, and invalid_parameter when
// there would be more nodes than table entries; find throws empty_placement.
template <class Node, KeyHash Hash = default_hash>
class maglev {
 public:
  using node_type = Node;
  using hash_type = Hash;

  explicit maglev(maglev_options options = {}, Hash hash = {})
      : options_(options), hash_(std::move(hash)) {
    const std::uint64_t m = options_.table_size;
    if (m > options_.max_table_size || m >= (std::uint64_t{1} << 32) || !is_prime(m))
      throw invalid_parameter("maglev: table_size must be a prime no larger than " +
                              std::to_string(options_.max_table_size) + ", got " +
                              std::to_string(m));
    mod_ = detail::fast_mod(m);
  }

  void insert(std::string_view name,
              double weight = 1.0) requires std::constructible_from<Node, std::string_view> {
    insert(name, Node(name), weight);
  }

  void insert(std::string_view name, Node value, double weight = 1.0) {
    detail::check_name("maglev::insert", name);
    detail::check_weight("maglev::insert", name, weight);
    const auto at = std::lower_bound(nodes_.begin(), nodes_.end(), name,
                                     [](const entry& e, std::string_view n) { return e.name < n; });
    if (at != nodes_.end() && at->name == name) detail::throw_duplicate("maglev::insert", name);
    if (nodes_.size() + 1 > options_.table_size)
      throw invalid_parameter("maglev::insert: more nodes than table entries (" +
                              std::to_string(options_.table_size) + ")");
    nodes_.insert(at, entry{std::string(name), std::move(value), weight});
    changed();
  }

  // Returns false when no node has this name.
  bool erase(std::string_view name) {
    const auto at = std::lower_bound(nodes_.begin(), nodes_.end(), name,
                                     [](const entry& e, std::string_view n) { return e.name < n; });
    if (at == nodes_.end() || at->name != name) return false;
    nodes_.erase(at);
    changed();
    return true;
  }

  // Runs f(*this) and rebuilds the table once at the end, not after each change.
  template <class F>
  void batch(F&& f) {
    ++batch_depth_;
    try {
      std::forward<F>(f)(*this);
    } catch (...) {
      // Keep the table in step with whatever changes were made before the throw.
      if (--batch_depth_ == 0) rebuild();
      throw;
    }
    if (--batch_depth_ == 0) rebuild();
  }

  [[nodiscard]] const Node& find(std::string_view key) const { return find_hashed(hash_(key)); }

  [[nodiscard]] const Node& find_hashed(std::uint64_t key_hash) const {
    if (table_.empty()) detail::throw_empty("maglev::find");
    return nodes_[table_[slot(key_hash)]].value;
  }

  [[nodiscard]] const Node* try_find(std::string_view key) const noexcept {
    return table_.empty() ? nullptr : &nodes_[table_[slot(hash_(key))]].value;
  }

  // The table entry a key hash lands on: Envoy's hash % M in envoy mode.
  [[nodiscard]] std::size_t slot(std::uint64_t key_hash) const noexcept {
    if (options_.mode == maglev_mode::envoy) return static_cast<std::size_t>(mod_(key_hash));
    __extension__ using u128 = unsigned __int128;
    return static_cast<std::size_t>((static_cast<u128>(key_hash) * options_.table_size) >> 64);
  }

  // Entries are indexes into the nodes sorted by name (name_at / value_at).
  [[nodiscard]] std::span<const std::uint32_t> table() const noexcept { return table_; }
  [[nodiscard]] std::string_view name_at(std::size_t i) const { return nodes_.at(i).name; }
  [[nodiscard]] const Node& value_at(std::size_t i) const { return nodes_.at(i).value; }

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return nodes_.empty(); }
  [[nodiscard]] bool contains(std::string_view name) const noexcept {
    return std::binary_search(nodes_.begin(), nodes_.end(), name, name_less{});
  }
  [[nodiscard]] std::uint64_t table_size() const noexcept { return options_.table_size; }

  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    std::size_t bytes = sizeof(*this) + table_.capacity() * sizeof(std::uint32_t) +
                        nodes_.capacity() * sizeof(entry);
    for (const auto& n : nodes_) bytes += n.name.capacity() > 15 ? n.name.capacity() + 1 : 0;
    return bytes;
  }

  // Rebuilds now; insert and erase do it themselves outside batch().
  void rebuild() {
    table_.clear();
    if (nodes_.empty()) return;
    std::vector<fill_state> fill = start_fill();
    double max_weight = 0;
    for (const auto& f : fill) max_weight = std::max(max_weight, f.weight);
    populate(fill, max_weight);
  }

 private:
  struct entry {
    std::string name;
    Node value;
    double weight;
  };

  struct name_less {
    bool operator()(const entry& e, std::string_view n) const noexcept { return e.name < n; }
    bool operator()(std::string_view n, const entry& e) const noexcept { return n < e.name; }
  };

  struct fill_state {
    std::uint64_t position;  // offset + next * skip (mod M), kept incrementally
    std::uint64_t skip;
    double weight;      // normalised: weight / total, as Envoy does
    double target = 0;  // Envoy's target_weight_
  };

  [[nodiscard]] std::vector<fill_state> start_fill() const {
    const std::uint64_t m = options_.table_size;
    double total = 0;
    for (const auto& n : nodes_) total += n.weight;
    std::vector<fill_state> fill;
    fill.reserve(nodes_.size());
    for (const auto& n : nodes_) {
      std::uint64_t h0, h1;
      if (options_.mode == maglev_mode::envoy) {
        h0 = xxh64(n.name, 0);
        h1 = xxh64(n.name, 1);
      } else {
        h0 = hash_(n.name);
        h1 = mix64(h0);
      }
      fill.push_back({h0 % m, h1 % (m - 1) + 1, n.weight / total});
    }
    return fill;
  }

  // Round robin over the nodes; a node of weight w takes a turn in a fraction
  // w / max_weight of the rounds (Envoy's target weights), claiming its next
  // preferred entry that is still free.
  void populate(std::vector<fill_state>& fill, double max_weight) {
    const std::uint64_t m = options_.table_size;
    constexpr std::uint32_t free_slot = ~std::uint32_t{0};
    table_.assign(m, free_slot);
    std::uint64_t filled = 0;
    for (std::uint64_t round = 1; filled < m; ++round) {
      for (std::size_t i = 0; i < fill.size() && filled < m; ++i) {
        fill_state& f = fill[i];
        if (static_cast<double>(round) * f.weight < f.target) continue;
        f.target += max_weight;
        while (table_[f.position] != free_slot) advance(f, m);
        table_[f.position] = static_cast<std::uint32_t>(i);
        advance(f, m);
        ++filled;
      }
    }
  }

  static void advance(fill_state& f, std::uint64_t m) noexcept {
    f.position += f.skip;
    if (f.position >= m) f.position -= m;
  }

  void changed() {
    if (batch_depth_ == 0) rebuild();
  }

  maglev_options options_;
  [[no_unique_address]] Hash hash_;
  detail::fast_mod mod_;
  std::vector<entry> nodes_;
  std::vector<std::uint32_t> table_;
  int batch_depth_ = 0;
};

}  // namespace quorum::hashing
