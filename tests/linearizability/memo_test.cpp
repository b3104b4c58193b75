// The search's memo must tell configurations apart by their full contents,
// not by their hash: here every hash collides (all Zobrist keys are zero),
// so only the stored windows and bitsets can separate them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "quorum/sim/linearizability.hpp"

using namespace quorum::sim;
using detail::lin_config;
using detail::lin_memo;

namespace {

lin_config empty_config(std::size_t ok_ops, std::size_t unknown_ops) {
  lin_config c;
  c.ok.assign((ok_ops + 63) / 64, 0);
  c.unk.assign((unknown_ops + 63) / 64, 0);
  return c;
}

std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {
  std::vector<std::uint32_t> v;
  for (std::uint32_t b = from; b < to; ++b) v.push_back(b);
  return v;
}

// Sets exactly `bits` (others cleared), through flip_ok as the search does.
void set_ok(lin_config& c, const std::vector<std::uint32_t>& bits) {
  for (std::uint32_t b = 0; b < c.ok.size() * 64; ++b) {
    const bool want = std::find(bits.begin(), bits.end(), b) != bits.end();
    if (((c.ok[b / 64] >> (b % 64)) & 1U) != (want ? 1U : 0U)) c.flip_ok(b, 0);
  }
}

}  // namespace

TEST_CASE("the window of a bitset follows its leading ones and trailing zeros") {
  lin_config c = empty_config(256, 0);
  CHECK(c.ok_len() == 0);
  set_ok(c, range(0, 130));  // words 0 and 1 full, word 2 holds bits 128 and 129
  CHECK(c.lo == 2);
  CHECK(c.hi == 3);
  set_ok(c, {3, 200});  // backtracking clears the prefix again
  CHECK(c.lo == 0);
  CHECK(c.hi == 4);
  set_ok(c, {});
  CHECK(c.ok_len() == 0);
}

TEST_CASE("the memo separates configurations whose hashes all collide") {
  constexpr std::size_t budget = std::size_t{1} << 26;
  lin_memo memo{1};
  lin_config c = empty_config(256, 10);
  bool full = false;

  auto fresh = [&](const std::vector<std::uint32_t>& ok, std::uint64_t unk, value state) {
    set_ok(c, ok);
    c.unk[0] = unk;
    c.state = state;
    return memo.visit(c, budget, full);
  };
  std::vector<std::uint32_t> prefix = range(0, 70);
  CHECK(fresh(prefix, 0, value::integer(1)));
  CHECK_FALSE(fresh(prefix, 0, value::integer(1)));          // the same again
  CHECK(fresh(prefix, 0, value::integer(2)));                // another state
  CHECK(fresh(prefix, 0b1, value::integer(1)));              // another unknown set
  CHECK_FALSE(fresh(prefix, 0b1, value::integer(1)));
  std::vector<std::uint32_t> holed = range(0, 70);
  holed.erase(holed.begin() + 5);                            // a hole below the window
  CHECK(fresh(holed, 0, value::integer(1)));
  CHECK_FALSE(fresh(holed, 0, value::integer(1)));
  std::vector<std::uint32_t> longer = range(0, 70);
  longer.push_back(190);                                     // one more word in the window
  CHECK(fresh(longer, 0, value::integer(1)));
  CHECK(fresh(range(0, 128), 0, value::integer(1)));          // empty window, lo = 2
  CHECK(fresh(range(0, 64), 0, value::integer(1)));           // empty window, lo = 1
  CHECK_FALSE(fresh(range(0, 128), 0, value::integer(1)));
  CHECK_FALSE(full);
  CHECK(memo.size() == 7);
}

TEST_CASE("the memo reports a spent memory budget instead of growing") {
  lin_memo memo{0};
  lin_config c = empty_config(64, 0);
  bool full = false;
  std::size_t inserted = 0;
  for (std::int64_t i = 0; i < 100'000 && !full; ++i) {
    c.state = value::integer(i);
    if (memo.visit(c, 64 * 1024, full)) ++inserted;
  }
  CHECK(full);
  CHECK(inserted > 100);
  CHECK(memo.size() == inserted);
}
