// quorum-kv's linearizable reads, gathered per event-loop turn: the reads
// asked in one turn become one group, answered by one read of the node (at
// the leader) or by one read index from the leader (at a follower, which
// then serves them itself once it has applied that far). Groups wait here by
// id for that answer, then, at a follower, by read index for the local state.
// Vectors and their strings' room are kept for later turns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <quorum/core/ids.hpp>

namespace kv {

template <class Destination, class TimePoint>
class read_groups {
 public:
  struct read {
    Destination to;
    std::vector<std::string> args;
    bool index_only = false;  // a follower's request: it is answered with the read index, not a value
  };
  struct group {
    std::vector<read> reads;  // the first `count` are this group's; the rest keep their room
    std::size_t count = 0;
    TimePoint deadline{};
    quorum::node_id asked_of{};  // no_node: this node's own read; else the leader asked for a read index
    quorum::log_index index{};   // at a follower: served once applied reaches it
    [[nodiscard]] std::span<const read> items() const noexcept { return {reads.data(), count}; }
  };
  using iterator = typename std::map<std::uint64_t, group>::iterator;

  // A client's read, asked in this turn. Its arguments are copied into kept room.
  void add(Destination to, const std::vector<std::string>& args) {
    read& r = next();
    r.to = std::move(to);
    r.args.assign(args.begin(), args.end());
    r.index_only = false;
  }
  // A follower asks, for its own reads, what index they may be served at.
  void add_index_request(Destination to) {
    read& r = next();
    r.to = std::move(to);
    r.args.clear();
    r.index_only = true;
  }
  [[nodiscard]] bool gathering() const noexcept { return open_.count != 0; }

  // Ends this turn's group: it waits under `id` for its answer.
  group& close(std::uint64_t id, TimePoint deadline) {
    open_.deadline = deadline;
    group& g = asked_.emplace(id, std::move(open_)).first->second;
    open_ = group{};
    if (!spare_.empty()) {
      open_.reads = std::move(spare_.back());
      spare_.pop_back();
    }
    return g;
  }

  [[nodiscard]] iterator find(std::uint64_t id) { return asked_.find(id); }
  [[nodiscard]] iterator end() noexcept { return asked_.end(); }
  void erase(iterator it) {
    recycle(std::move(it->second.reads));
    asked_.erase(it);
  }

  // The leader answered with `index`: the group waits until this node applied that far.
  void await_apply(iterator it, quorum::log_index index) {
    group g = std::move(it->second);
    asked_.erase(it);
    g.index = index;
    const auto at = std::upper_bound(applying_.begin(), applying_.end(), index,
                                     [](quorum::log_index x, const group& e) { return x < e.index; });
    applying_.insert(at, std::move(g));
  }
  // Hands out every group whose index is applied.
  template <class Serve>
  void serve_applied(quorum::log_index applied, Serve&& serve) {
    while (!applying_.empty() && applying_.front().index <= applied) {
      group g = std::move(applying_.front());
      applying_.pop_front();
      serve(std::as_const(g));
      recycle(std::move(g.reads));
    }
  }

  // Fails every group past its deadline, and every one that waits for an
  // answer from a node that no longer leads (it may never come).
  template <class Fail>
  void expire(TimePoint now, quorum::node_id leader, Fail&& fail) {
    for (auto it = asked_.begin(); it != asked_.end();) {
      const group& g = it->second;
      if (g.deadline > now && (g.asked_of == quorum::no_node || g.asked_of == leader)) {
        ++it;
        continue;
      }
      fail(g);
      recycle(std::move(it->second.reads));
      it = asked_.erase(it);
    }
    for (std::size_t k = 0; k < applying_.size();) {
      if (applying_[k].deadline > now) {
        ++k;
        continue;
      }
      fail(std::as_const(applying_[k]));
      recycle(std::move(applying_[k].reads));
      applying_.erase(applying_.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }

 private:
  read& next() {
    if (open_.reads.size() == open_.count) open_.reads.emplace_back();
    return open_.reads[open_.count++];
  }
  void recycle(std::vector<read> v) {
    if (spare_.size() < max_spare) spare_.push_back(std::move(v));
  }
  static constexpr std::size_t max_spare = 4;

  group open_;                        // asked in this turn
  std::map<std::uint64_t, group> asked_;  // waiting for the node's or the leader's answer, by id
  std::deque<group> applying_;        // at a follower: waiting for the local state, by index
  std::vector<std::vector<read>> spare_;
};

}  // namespace kv
