// Test support for the prefetch hint: a state machine that writes down hints
// ("h:" and the command) and applies ("a:" and the command) as they come, and
// the events a run of the commands c0..c{n-1} should give.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "quorum/core/apply_ahead.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::test {

struct hinted_fsm {
  std::vector<std::string> events;
  void prefetch(byte_view b) { events.push_back("h:" + std::string{as_chars(b)}); }
  void apply(log_index, byte_view b) { events.push_back("a:" + std::string{as_chars(b)}); }
};

// Hint k, and from the distance on, the apply of the command that many
// behind; the rest applied at the end.
inline std::vector<std::string> expected_run(std::size_t n) {
  std::vector<std::string> out;
  const std::size_t d = detail::apply_ahead_distance;
  for (std::size_t k = 0; k < n; ++k) {
    out.push_back("h:c" + std::to_string(k));
    if (k >= d) out.push_back("a:c" + std::to_string(k - d));
  }
  for (std::size_t k = n > d ? n - d : 0; k < n; ++k) out.push_back("a:c" + std::to_string(k));
  return out;
}

}  // namespace quorum::test
