// bounded_load<Ring>: consistent hashing with bounded loads (Mirrokni, Thorup &
// Zadimoghaddam, SODA 2018) as an adapter over any ring that lists a key's
// nodes in preference order: a key goes to the first node below the cap ceil(c * keys / nodes).
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/hashing/errors.hpp"

namespace quorum::hashing {

namespace detail {

// A node named by converting it to std::string_view, directly or through a
// std::reference_wrapper (what rendezvous::top yields).
template <class T>
concept named_node = std::convertible_to<const T&, std::string_view> || requires(const T& n) {
  { n.get() } -> std::convertible_to<std::string_view>;
};

template <class T>
[[nodiscard]] std::string_view node_name(const T& node) noexcept {
  if constexpr (std::convertible_to<const T&, std::string_view>) {
    return node;
  } else {
    return node.get();
  }
}

template <class R>
using replica_list = decltype(std::declval<const R&>().replicas(std::string_view{}, std::size_t{}));

}  // namespace detail

// PreferenceRing<R>: r.replicas(key, n) lists up to n distinct nodes for the
// key, best first, and all r.size() of them when n == r.size() (ketama_ring,
// rendezvous); each node is named by its conversion to std::string_view.
template <class R>
concept PreferenceRing = requires(const R& r, std::string_view key, std::size_t n) {
  { r.size() } -> std::convertible_to<std::size_t>;
  { r.replicas(key, n) } -> std::ranges::input_range;
}
&&detail::named_node<std::ranges::range_value_t<detail::replica_list<R>>>;

struct bounded_load_options {
  double c = 1.25;              // load factor: no node holds more than ceil(c * average)
  std::size_t first_probe = 4;  // candidates asked for before walking the whole ring
};

// Keys stay where they were assigned until they are released or their node
// leaves; a change that lowers the cap (a release, a node joining) moves just
// enough keys off nodes above it. Errors: the constructor throws
// invalid_parameter when c <= 1 (or is not finite); assign throws
// empty_placement when the ring has no nodes; erase throws invalid_parameter
// rather than strand keys on the last node; insert forwards the ring's errors.
template <PreferenceRing Ring>
class bounded_load {
 public:
  explicit bounded_load(Ring ring, bounded_load_options options = {})
      : ring_(std::move(ring)), options_(options) {
    if (!(options_.c > 1.0) || !std::isfinite(options_.c))
      throw invalid_parameter("bounded_load: the load factor c must be finite and > 1, got " +
                              std::to_string(options_.c));
    if (options_.first_probe == 0) options_.first_probe = 1;
    for (const auto& node : ring_.replicas(std::string_view{}, ring_.size()))
      slot_for(detail::node_name(node));
  }

  // Adds a node to the ring (arguments as the ring's insert: name first).
  template <class... Args>
  void insert(std::string_view name, Args&&... args) {
    const std::size_t before = cap();
    ring_.insert(name, std::forward<Args>(args)...);
    slot_for(name);
    if (cap() < before) rebalance();
  }

  // Removes a node; its keys move to their next choices below the cap.
  bool erase(std::string_view name) {
    const auto it = slot_of_.find(std::string(name));
    if (it == slot_of_.end()) return false;
    if (live_ == 1 && !keys_.empty())
      throw invalid_parameter("bounded_load::erase: \"" + std::string(name) +
                              "\" is the last node and holds " + std::to_string(keys_.size()) +
                              " keys; release them first");
    ring_.erase(name);
    const std::uint32_t s = it->second;
    slot_of_.erase(it);
    std::vector<const std::string*> orphans = std::move(slots_[s].keys);
    slots_[s] = {};
    free_slots_.push_back(s);
    --live_;
    for (const std::string* key : orphans) place(*key, keys_.find(*key)->second);
    return true;
  }

  // The node that holds `key`, assigning it first if it is new.
  const std::string& assign(std::string_view key) {
    if (const auto it = keys_.find(std::string(key)); it != keys_.end())
      return slots_[it->second.slot].name;
    if (live_ == 0) detail::throw_empty("bounded_load::assign");
    auto [it, inserted] = keys_.emplace(std::string(key), key_info{});
    place(it->first, it->second);
    return slots_[it->second.slot].name;
  }

  // Forgets a key. Returns false when it was not assigned.
  bool release(std::string_view key) {
    const auto it = keys_.find(std::string(key));
    if (it == keys_.end()) return false;
    const std::size_t before = cap();
    detach(it->second);
    keys_.erase(it);
    if (cap() < before) rebalance();  // loads were all <= before; only a lower cap can be exceeded
    return true;
  }

  [[nodiscard]] const std::string* owner(std::string_view key) const {
    const auto it = keys_.find(std::string(key));
    return it == keys_.end() ? nullptr : &slots_[it->second.slot].name;
  }

  [[nodiscard]] std::size_t load(std::string_view node) const {
    const auto it = slot_of_.find(std::string(node));
    return it == slot_of_.end() ? 0 : slots_[it->second].keys.size();
  }

  // Every node with its load, in no particular order.
  [[nodiscard]] std::vector<std::pair<std::string_view, std::size_t>> loads() const {
    std::vector<std::pair<std::string_view, std::size_t>> out;
    for (const auto& [name, s] : slot_of_) out.emplace_back(slots_[s].name, slots_[s].keys.size());
    return out;
  }

  // The most keys a node may hold now: ceil(c * keys / nodes).
  [[nodiscard]] std::size_t cap() const noexcept { return cap_for(keys_.size()); }
  [[nodiscard]] std::size_t keys() const noexcept { return keys_.size(); }
  [[nodiscard]] std::size_t nodes() const noexcept { return live_; }
  [[nodiscard]] double load_factor() const noexcept { return options_.c; }
  [[nodiscard]] const Ring& ring() const noexcept { return ring_; }

 private:
  struct slot {
    std::string name;
    std::vector<const std::string*> keys;  // point into keys_, whose nodes are stable
  };
  struct key_info {
    std::uint32_t slot = 0;
    std::uint32_t position = 0;  // index in slots_[slot].keys, for O(1) removal
  };

  [[nodiscard]] std::size_t cap_for(std::size_t key_count) const noexcept {
    if (live_ == 0) return 0;
    const double ideal = options_.c * static_cast<double>(key_count) / static_cast<double>(live_);
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(ideal)));
  }

  std::uint32_t slot_for(std::string_view name) {
    if (const auto it = slot_of_.find(std::string(name)); it != slot_of_.end()) return it->second;
    std::uint32_t s;
    if (free_slots_.empty()) {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    } else {
      s = free_slots_.back();
      free_slots_.pop_back();
    }
    slots_[s].name = std::string(name);
    slot_of_.emplace(std::string(name), s);
    ++live_;
    return s;
  }

  // The first node in the key's preference list below the cap. One always
  // exists: nodes * cap >= c * keys > keys.
  void place(const std::string& key, key_info& info) {
    const std::size_t limit = cap();
    auto try_candidates = [&](std::size_t n) {
      for (const auto& node : ring_.replicas(key, n)) {
        const std::uint32_t s = slot_of_.find(std::string(detail::node_name(node)))->second;
        if (slots_[s].keys.size() < limit) {
          info = {s, static_cast<std::uint32_t>(slots_[s].keys.size())};
          slots_[s].keys.push_back(&key);
          return true;
        }
      }
      return false;
    };
    if (try_candidates(options_.first_probe)) return;
    const bool placed = try_candidates(ring_.size());
    QUORUM_ASSERT(placed);
  }

  void detach(const key_info& info) {
    auto& list = slots_[info.slot].keys;
    const std::string* moved = list.back();
    list[info.position] = moved;
    keys_.find(*moved)->second.position = info.position;
    list.pop_back();
  }

  // Moves the newest keys off every node above the cap to their next choices.
  void rebalance() {
    const std::size_t limit = cap();
    for (auto& [name, s] : slot_of_) {
      while (slots_[s].keys.size() > limit) {
        const std::string* key = slots_[s].keys.back();
        slots_[s].keys.pop_back();
        place(*key, keys_.find(*key)->second);
      }
    }
  }

  Ring ring_;
  bounded_load_options options_;
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<std::string, std::uint32_t> slot_of_;
  std::unordered_map<std::string, key_info> keys_;
  std::size_t live_ = 0;
};

}  // namespace quorum::hashing
