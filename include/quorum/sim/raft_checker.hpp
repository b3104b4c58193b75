// The Raft safety checker of the simulator: fed what the driver observes of
// each node (its log, role, commit index and applies) after every event, it
// checks the paper's safety properties (Figure 3) incrementally.
//
// API (nodes 1..n; the driver in sim/raft_driver.hpp calls these in order):
//   raft_checker c{n};
//   c.boot(n)                          a new incarnation: per-incarnation state restarts
//   c.observe_log(n, leader_term, from, last, read)   the node's log is 1..last and
//                                      positions below `from` did not change since the
//                                      last call; read(i) gives {term, record bytes};
//                                      leader_term is its term when it leads now, else
//                                      0. Costs O(last - from): only new entries.
//   c.observe_role(n, leader_term)     after observe_log, every event
//   c.observe_commit(n, commit)        commit index, every event
//   c.observe_apply(n, index, term, value)      one apply, in order
//   c.observe_restore(n, index)        n replaced its state with a snapshot up to
//                                      index: that prefix must be known committed;
//                                      n's log mirror takes the committed prefix
//   c.observe_ack(index, term, value)  a client was told value committed at index
//   c.violation()                      the first property broken, or nullopt
//   c.holds_committed(n, i)            n's log holds the committed prefix up to i
// Properties: Election Safety (one leader per term, ever), Leader Append-Only
// (a leader never changes or drops an entry while it leads), Log Matching
// (one prefix per (index, term), by a hash chain over the records), Leader
// Completeness (a new leader holds every entry known committed), State Machine
// Safety (one applied value per index, over nodes and incarnations), applies
// contiguous and commit index monotonic per incarnation, acks match applies.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"

namespace quorum::sim {

// What a log reader returns for one position.
struct raft_record {
  term_id term{};
  byte_view bytes{};
};

class raft_checker {
 public:
  explicit raft_checker(std::size_t nodes) : nodes_(nodes + 1) {}

  void boot(node_id n) {
    per_node& p = at(n);
    p.leader_term = 0;
    p.commit = 0;
    p.applied = 0;
  }

  // Positions below `from` are unchanged since the last call (the driver
  // knows: it sees every truncate); from 1 rescans the whole log.
  template <class Reader>
  void observe_log(node_id n, std::uint64_t leader_term, std::uint64_t from, std::uint64_t last,
                   Reader&& read) {
    per_node& p = at(n);
    const std::uint64_t old_last = p.log.size();
    from = std::max<std::uint64_t>(1, std::min({from, old_last + 1, last + 1}));
    std::uint64_t first_change = 0;  // 0: none
    std::uint64_t chain = from > 1 ? p.log[static_cast<std::size_t>(from - 2)].chain : 0;
    for (std::uint64_t i = from; i <= last; ++i) {
      const raft_record r = read(log_index{i});
      chain = link(chain, r.term.value(), r.bytes);
      const slot s{r.term.value(), chain};
      const auto k = static_cast<std::size_t>(i - 1);
      if (i <= old_last && p.log[k].chain == chain) continue;
      if (first_change == 0) first_change = i;
      note_entry(n, i, s);
      if (k < p.log.size()) p.log[k] = s;
      else p.log.push_back(s);
    }
    if (last < old_last) {
      p.log.resize(static_cast<std::size_t>(last));
      if (first_change == 0) first_change = last + 1;
    }
    const bool leading_still = leader_term != 0 && p.leader_term == leader_term;
    if (leading_still && first_change != 0 && first_change <= old_last)
      record("Leader Append-Only: leader node " + std::to_string(n.value()) + " of term " +
             std::to_string(leader_term) + " changed or dropped its entry at index " +
             std::to_string(first_change) + " (its log held " + std::to_string(old_last) + ")");
  }

  void observe_role(node_id n, std::uint64_t leader_term) {
    per_node& p = at(n);
    if (leader_term != 0 && p.leader_term != leader_term) on_new_leader(n, leader_term);
    p.leader_term = leader_term;
  }

  void observe_commit(node_id n, std::uint64_t commit) {
    per_node& p = at(n);
    if (commit < p.commit)
      record("commit index of node " + std::to_string(n.value()) + " went down from " +
             std::to_string(p.commit) + " to " + std::to_string(commit) + " in one incarnation");
    if (commit > p.log.size()) {
      record("node " + std::to_string(n.value()) + " committed index " + std::to_string(commit) +
             " beyond its last entry " + std::to_string(p.log.size()));
      return;
    }
    if (commit > p.commit) learn_committed(n, p, commit);
    p.commit = std::max(p.commit, commit);
  }

  void observe_apply(node_id n, std::uint64_t index, std::uint64_t term, std::string_view value) {
    per_node& p = at(n);
    if (index != p.applied + 1)
      record("node " + std::to_string(n.value()) + " applied index " + std::to_string(index) +
             " after " + std::to_string(p.applied) + ": applies are not contiguous");
    if (index > p.commit)
      record("node " + std::to_string(n.value()) + " applied index " + std::to_string(index) +
             " above its commit index " + std::to_string(p.commit));
    p.applied = index;
    auto [it, fresh] = applied_.try_emplace(index, applied_value{term, std::string{value}});
    if (!fresh && (it->second.term != term || it->second.value != value))
      record("State Machine Safety: index " + std::to_string(index) + " applied as '" +
             it->second.value + "' (term " + std::to_string(it->second.term) + ") and as '" +
             std::string{value} + "' (term " + std::to_string(term) + ", node " +
             std::to_string(n.value()) + ")");
  }

  void observe_restore(node_id n, std::uint64_t index) {
    per_node& p = at(n);
    if (index > committed_.size()) {
      record("node " + std::to_string(n.value()) + " restored a snapshot up to index " + std::to_string(index) +
             " but only " + std::to_string(committed_.size()) + " entries are known committed");
      return;
    }
    if (index < p.applied)
      record("node " + std::to_string(n.value()) + " restored a snapshot up to index " + std::to_string(index) +
             " after applying up to " + std::to_string(p.applied) + " in the same incarnation");
    if (p.log.size() < index) p.log.resize(static_cast<std::size_t>(index));
    for (std::uint64_t i = 0; i < index; ++i) p.log[static_cast<std::size_t>(i)] = committed_[i];
    p.applied = index;
    p.commit = std::max(p.commit, index);
  }

  void observe_ack(std::uint64_t index, std::uint64_t term, std::string_view value) {
    auto it = applied_.find(index);
    if (it == applied_.end() || it->second.term != term || it->second.value != value)
      record("acknowledged '" + std::string{value} + "' at index " + std::to_string(index) +
             " (term " + std::to_string(term) + ") is not what was applied there");
  }

  // Whether node n's log holds the committed prefix up to `index`.
  [[nodiscard]] bool holds_committed(node_id n, std::uint64_t index) const {
    QUORUM_ASSERT(n.value() >= 1 && n.value() < nodes_.size());
    const per_node& p = nodes_[static_cast<std::size_t>(n.value())];
    return index <= committed_.size() && index <= p.log.size() &&
           (index == 0 || p.log[static_cast<std::size_t>(index - 1)].chain == committed_[index - 1].chain);
  }

  [[nodiscard]] const std::optional<std::string>& violation() const noexcept { return violation_; }
  [[nodiscard]] std::uint64_t committed_index() const noexcept { return committed_.size(); }
  [[nodiscard]] std::uint64_t leaders() const noexcept { return leaders_.size(); }

 private:
  struct slot {
    std::uint64_t term;
    std::uint64_t chain;  // hash of every record up to and including this one
  };
  struct per_node {
    std::vector<slot> log;         // [index - 1], mirrors the node's current log
    std::uint64_t leader_term{0};  // nonzero while it leads
    std::uint64_t commit{0};       // this incarnation
    std::uint64_t applied{0};      // this incarnation
  };
  struct applied_value {
    std::uint64_t term;
    std::string value;
  };

  per_node& at(node_id n) {
    QUORUM_ASSERT(n.value() >= 1 && n.value() < nodes_.size());
    return nodes_[static_cast<std::size_t>(n.value())];
  }

  static std::uint64_t link(std::uint64_t chain, std::uint64_t term, byte_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ term;
    for (std::byte b : bytes) h = (h ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ULL;
    std::uint64_t z = chain * 0x9e3779b97f4a7c15ULL + h;
    return splitmix64(z);
  }

  // Log Matching: every (index, term) ever seen names one prefix.
  void note_entry(node_id n, std::uint64_t index, const slot& s) {
    auto [it, fresh] = prefixes_.try_emplace(std::pair{index, s.term}, s.chain);
    if (!fresh && it->second != s.chain)
      record("Log Matching: node " + std::to_string(n.value()) + " holds an entry at index " +
             std::to_string(index) + " of term " + std::to_string(s.term) +
             " whose preceding log differs from another node's entry with the same index and term");
  }

  void on_new_leader(node_id n, std::uint64_t term) {
    auto [it, fresh] = leaders_.try_emplace(term, n);
    if (!fresh && it->second != n)
      record("Election Safety: nodes " + std::to_string(it->second.value()) + " and " +
             std::to_string(n.value()) + " were both leader in term " + std::to_string(term));
    const per_node& p = at(n);
    const std::uint64_t c = committed_.size();
    if (c == 0) return;
    if (p.log.size() < c || p.log[static_cast<std::size_t>(c - 1)].chain != committed_[c - 1].chain)
      record("Leader Completeness: node " + std::to_string(n.value()) + " became leader of term " +
             std::to_string(term) + " without the committed entries up to index " + std::to_string(c));
  }

  // Extends the globally committed prefix, and checks the node agrees with it.
  void learn_committed(node_id n, const per_node& p, std::uint64_t commit) {
    const std::uint64_t known = committed_.size();
    const std::uint64_t common = std::min(known, commit);
    if (common != 0 && p.log[static_cast<std::size_t>(common - 1)].chain != committed_[common - 1].chain) {
      record("node " + std::to_string(n.value()) + " committed index " + std::to_string(common) +
             " holding a different entry (or prefix) than was committed there before");
      return;
    }
    for (std::uint64_t i = known + 1; i <= commit; ++i)
      committed_.push_back(p.log[static_cast<std::size_t>(i - 1)]);
  }

  void record(std::string why) {
    if (!violation_) violation_ = std::move(why);
  }

  std::vector<per_node> nodes_;                       // [node id]
  std::map<std::uint64_t, node_id> leaders_;          // term -> its leader
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> prefixes_;  // (index, term) -> chain
  std::vector<slot> committed_;                       // [index - 1] -> the committed entry and its prefix
  std::map<std::uint64_t, applied_value> applied_;    // index -> the value applied there
  std::optional<std::string> violation_;
};

}  // namespace quorum::sim
