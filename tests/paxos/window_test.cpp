// The leader's slot window: acknowledge_range() adds a voter's bit to a run
// of slots and reports the stretches that reach a quorum; close_chosen() and
// close_through() close slots from the front. Checked against a slot-by-slot
// model over random runs, ring wraps, mixed masks and quorums of every size.
#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/window.hpp"

using namespace quorum;
using namespace quorum::paxos;

namespace {

std::size_t bits(std::uint64_t m) {
  std::size_t n = 0;
  for (; m != 0; m &= m - 1) ++n;
  return n;
}

}  // namespace

TEST_CASE("paxos window: acknowledging a run reports exactly the slots that reach a quorum, in maximal stretches") {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    seeded_random rng{seed};
    const std::size_t voters = rng.between(1, 7);
    const std::size_t q = rng.between(1, voters);
    slot_window w;
    const log_index first{rng.between(1, 1000)};
    w.reset(first);
    std::vector<std::uint64_t> model;  // model[i]: slot first + i's mask
    for (int step = 0; step < 300; ++step) {
      // Open a few, close a few (the ring wraps and grows), acknowledge a run.
      const std::size_t open = rng.below(40);
      if (rng.chance(0.5)) {
        w.open_run(open);
      } else {
        for (std::size_t k = 0; k < open; ++k) w.open();
      }
      model.resize(model.size() + open, 0);
      const log_index base = w.base();
      if (w.size() == 0) continue;
      if (rng.chance(0.3)) {
        const std::uint64_t close = rng.below(w.size() + 1);
        // A leader closes a run that reached its quorum at once, and
        // otherwise slot by slot: both must leave the same window.
        if (close != 0 && rng.chance(0.5)) w.close_through(base + (close - 1));
        else w.close_chosen([&](log_index s) { return s - base < close; });
        model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(close));
        REQUIRE(w.base() == base + close);
        REQUIRE(w.self_counted() >= w.base());
      }
      if (w.size() == 0) continue;
      const std::uint64_t lo_k = rng.below(w.size());
      const std::uint64_t hi_k = rng.between(lo_k, w.size() - 1);
      const log_index lo = w.base() + lo_k;
      const log_index hi = w.base() + hi_k;
      const std::uint64_t bit = std::uint64_t{1} << rng.below(voters);
      std::vector<std::pair<log_index, log_index>> got;
      w.acknowledge_range(
          lo, hi, bit, [&](std::uint64_t m) { return bits(m) >= q; },
          [&](log_index a, log_index b) { got.emplace_back(a, b); });
      // The model: per slot, then the maximal stretches.
      std::vector<std::pair<log_index, log_index>> want;
      for (std::uint64_t k = lo_k; k <= hi_k; ++k) {
        model[k] |= bit;
        if (bits(model[k]) < q) continue;
        const log_index s = w.base() + k;
        if (!want.empty() && want.back().second.next() == s) want.back().second = s;
        else want.emplace_back(s, s);
      }
      REQUIRE(got == want);
      bool masks_match = true;
      for (std::uint64_t k = 0; k < w.size(); ++k) masks_match = masks_match && w.mask(w.base() + k) == model[k];
      REQUIRE(masks_match);
    }
  }
}

TEST_CASE("paxos window: close_through() before the base changes nothing, and no slot counted stays behind it") {
  slot_window w;
  w.reset(log_index{10});
  w.open_run(8);  // slots 10..17
  w.self_counted_through(log_index{11});
  w.close_through(log_index{9});
  CHECK(w.base() == log_index{10});
  CHECK(w.size() == 8);
  w.close_through(log_index{13});
  CHECK(w.base() == log_index{14});
  CHECK(w.size() == 4);
  CHECK(w.self_counted() == log_index{14});  // slots 12 and 13 were closed before the sync counted them
  CHECK(w.mask(log_index{13}) == ~std::uint64_t{0});  // closed: as if every voter acknowledged it
  w.close_through(log_index{17});
  CHECK(w.size() == 0);
  CHECK(w.next() == log_index{18});
}
