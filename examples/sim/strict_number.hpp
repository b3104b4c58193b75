// Strict parsing of the numbers on quorum-sim's command line: the whole text
// must be the number, so "1e3", "-1", "0x10", " 7" and "12abc" are errors
// instead of silently meaning something else. Used by flags.hpp.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace quorum_sim {

[[nodiscard]] constexpr bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A plain decimal unsigned 64-bit integer; no sign, no base prefix, no exponent.
[[nodiscard]] inline std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  if (!all_digits(s)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;  // overflow
  return value;
}

// A decimal in [0, 1] written as digits with an optional fraction ("0", "1",
// "0.25", ".5", "1.0"); no sign, exponent, "nan" or "inf".
[[nodiscard]] inline std::optional<double> parse_probability(std::string_view s) noexcept {
  constexpr std::size_t max_length = 32;  // more digits than a double can use
  if (s.empty() || s.size() > max_length) return std::nullopt;
  const auto dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (dot == std::string_view::npos) {
    if (!all_digits(whole)) return std::nullopt;
  } else {
    if (!all_digits(fraction)) return std::nullopt;         // "0." and "0.5.1" fail here
    if (!whole.empty() && !all_digits(whole)) return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::fixed);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  if (!(value >= 0.0 && value <= 1.0)) return std::nullopt;
  return value;
}

}  // namespace quorum_sim
