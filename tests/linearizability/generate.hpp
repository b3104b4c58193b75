// Test helper: histories produced by a real sequential key-value store whose
// operations are given random, overlapping client intervals. Each operation
// takes effect at a random point inside its interval, so every history made
// here is linearizable by construction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/sim/history.hpp"

namespace lin_test {

struct generate_options {
  std::size_t ops{200};
  std::uint32_t keys{3};
  std::uint32_t clients{4};
  double unknown{0.03};       // the client never learns the outcome
  double failed{0.03};        // the store refused: no effect
  std::int64_t values{6};     // writes draw from 1..values, so values repeat
  std::int64_t max_gap{3};    // idle time of a client between operations
  std::int64_t max_span{20};  // longest interval of one operation
};

inline quorum::sim::history generate(std::uint64_t seed, const generate_options& o) {
  using namespace quorum::sim;
  quorum::seeded_random rng{seed};
  history h;
  std::vector<std::int64_t> free_at(o.clients, 0);
  struct effect {
    std::int64_t at;
    std::uint64_t tie;
    std::size_t op;
  };
  std::vector<effect> effects;
  auto draw_value = [&] {
    return value::integer(static_cast<std::int64_t>(rng.between(1, static_cast<std::uint64_t>(o.values))));
  };
  for (std::size_t i = 0; i < o.ops; ++i) {
    const auto client = static_cast<std::uint32_t>(
        std::min_element(free_at.begin(), free_at.end()) - free_at.begin());
    operation op;
    op.client = client;
    op.key = value::integer(static_cast<std::int64_t>(rng.below(o.keys)));
    op.invoke = free_at[client] + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(o.max_gap) + 1));
    op.complete = op.invoke + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(o.max_span) + 1));
    free_at[client] = op.complete + 1;
    const std::uint64_t k = rng.below(10);
    if (k < 4) {
      op.kind = op_kind::read;
    } else if (k < 7) {
      op.kind = op_kind::write;
      op.input = draw_value();
    } else if (k < 9) {
      op.kind = op_kind::incr;
      op.input = value::integer(static_cast<std::int64_t>(rng.between(1, 3)));
    } else {
      op.kind = op_kind::cas;
      op.expected = rng.chance(0.2) ? value::absent() : draw_value();
      op.input = draw_value();
    }
    bool takes_effect = true;
    if (rng.chance(o.unknown)) {
      op.status = op_status::unknown;
      takes_effect = rng.chance(0.5);
    } else if (rng.chance(o.failed)) {
      op.status = op_status::failed;
      takes_effect = false;
    } else {
      op.status = op_status::ok;
    }
    const std::size_t id = h.add(op);
    if (takes_effect) {
      const auto span = static_cast<std::uint64_t>(op.complete - op.invoke);
      effects.push_back({op.invoke + static_cast<std::int64_t>(rng.below(span + 1)), rng(), id});
    }
  }
  std::sort(effects.begin(), effects.end(), [](const effect& a, const effect& b) {
    return a.at != b.at ? a.at < b.at : a.tie < b.tie;
  });
  std::vector<value> store(o.keys);
  for (const effect& e : effects) {
    operation& op = h[e.op];
    value& cell = store[static_cast<std::size_t>(op.key.as_integer())];
    switch (op.kind) {
      case op_kind::read: op.output = cell; break;
      case op_kind::write: cell = op.input; break;
      case op_kind::incr:
        cell = value::integer((cell.is_integer() ? cell.as_integer() : 0) + op.input.as_integer());
        op.output = cell;
        break;
      case op_kind::cas:
        op.output = value::boolean(cell == op.expected);
        if (cell == op.expected) cell = op.input;
        break;
    }
  }
  return h;
}

}  // namespace lin_test
