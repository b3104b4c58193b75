// The virtual points each ketama mode puts on the ring for one node: how many
// and at which 32-bit values. ketama_ring (ketama.hpp) sorts them; keeping the
// per-mode arithmetic here lets each peer's rules be read and checked apart.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/hashing/md5.hpp"
#include "quorum/hashing/mix.hpp"
#include "quorum/hashing/one_at_a_time.hpp"

namespace quorum::hashing {

// How the ring places points and hashes keys.
enum class ketama_mode : std::uint8_t {
  // Ours (the default): a node's points depend only on its own name and
  // weight, so adding, removing or re-weighting a node moves only keys to or
  // from that node. Hash: the ring's KeyHash policy (xxh64 by default).
  stable,
  // libmemcached MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA with
  // MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED ("libketama compatible" in clients):
  // MD5, four points per digest, point counts from each node's share of the
  // total weight.
  libmemcached,
  // libmemcached MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA unweighted: Jenkins
  // one-at-a-time for keys and points, 100 points per node. As in
  // libmemcached, a weight above 1 on any node switches the points to the
  // weighted MD5 scheme (keys stay one-at-a-time).
  libmemcached_default,
  // RJ's original libketama: like libmemcached weighted, but the point string
  // always carries the port and the digest count is floorf(pct * 40.0 * S).
  libketama,
};

namespace ketama_detail {

inline constexpr std::uint32_t memcached_default_port = 11211;
inline constexpr std::uint32_t unweighted_points = 100;

// The string libmemcached hashes for a server's points: "host" for the
// default port, "host:port" otherwise. A name is "host:port" or "host"
// (port 11211); a suffix that is not a port number stays part of the host.
[[nodiscard]] inline std::string libmemcached_prefix(std::string_view name) {
  const std::size_t colon = name.rfind(':');
  if (colon == std::string_view::npos) return std::string{name};
  const std::string_view port_text = name.substr(colon + 1);
  std::uint32_t port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port_text.empty() || port > 65535) {
    return std::string{name};
  }
  std::string prefix{name.substr(0, colon)};
  if (port != memcached_default_port) {
    // libmemcached prints the number, so "h:08080" and "h:8080" are one server.
    prefix += ':';
    prefix += std::to_string(port);
  }
  return prefix;
}

// Digests (of four points each) in libmemcached's weighted mode. The float
// arithmetic is libmemcached's own: 100 equal nodes get 39 digests, not 40.
[[nodiscard]] inline std::uint32_t libmemcached_digests(std::uint64_t weight, std::uint64_t total_weight,
                                                        std::size_t nodes) noexcept {
  const float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  const float scaled = pct * 160.0f / 4.0f * static_cast<float>(nodes);
  return static_cast<std::uint32_t>(std::floor(static_cast<float>(static_cast<double>(scaled) + 0.0000000001)));
}

// Digests in libketama: floorf(pct * 40.0 * S), the product taken in double.
[[nodiscard]] inline std::uint32_t libketama_digests(std::uint64_t weight, std::uint64_t total_weight,
                                                     std::size_t nodes) noexcept {
  const float pct = static_cast<float>(weight) / static_cast<float>(total_weight);
  const double scaled = static_cast<double>(pct) * 40.0 * static_cast<double>(static_cast<float>(nodes));
  return static_cast<std::uint32_t>(std::floor(static_cast<float>(scaled)));
}

// Calls f("prefix-k") for k in [first, first + count) without reallocating.
template <class F>
void for_each_point_string(std::string_view prefix, std::uint32_t first, std::uint32_t count, F&& f) {
  std::string text{prefix};
  text += '-';
  const std::size_t stem = text.size();
  char digits[16];
  for (std::uint32_t k = first; k < first + count; ++k) {
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, k);
    static_cast<void>(ec);  // 16 chars always hold a uint32
    text.resize(stem);
    text.append(digits, end);
    f(std::string_view{text});
  }
}

// Appends the four points of the MD5 digests of "prefix-k", k in [first, first + count).
inline void append_md5_points(std::string_view prefix, std::uint32_t first, std::uint32_t count,
                              std::vector<std::uint32_t>& out) {
  for_each_point_string(prefix, first, count, [&](std::string_view s) {
    const auto words = md5_words(s);
    out.insert(out.end(), words.begin(), words.end());
  });
}

inline void append_one_at_a_time_points(std::string_view prefix, std::vector<std::uint32_t>& out) {
  for_each_point_string(prefix, 0, unweighted_points,
                        [&](std::string_view s) { out.push_back(one_at_a_time(s)); });
}

// Stable mode: `count` points drawn from a stream seeded by the node's own
// hash, two 32-bit points per 64-bit draw.
inline void append_stable_points(std::uint64_t node_hash, std::uint64_t count, std::vector<std::uint32_t>& out) {
  for (std::uint64_t i = 0; i < count; i += 2) {
    const std::uint64_t draw = mix64(node_hash, i / 2);
    out.push_back(static_cast<std::uint32_t>(draw));
    if (i + 1 < count) out.push_back(static_cast<std::uint32_t>(draw >> 32));
  }
}

// Sorts points by value, stably: points generated node by node keep
// insertion order among equal values, libmemcached's tie order. LSD radix,
// three passes of 11 bits: a full rebuild after every change of a weighted
// ring stays linear in its size.
inline void sort_points(std::vector<std::uint32_t>& values, std::vector<std::uint32_t>& owners) {
  const std::size_t n = values.size();
  std::vector<std::uint32_t> values_tmp(n);
  std::vector<std::uint32_t> owners_tmp(n);
  for (int shift = 0; shift < 32; shift += 11) {
    std::vector<std::size_t> start(2049, 0);
    for (const std::uint32_t v : values) ++start[((v >> shift) & 2047) + 1];
    for (std::size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = start[(values[i] >> shift) & 2047]++;
      values_tmp[at] = values[i];
      owners_tmp[at] = owners[i];
    }
    values.swap(values_tmp);
    owners.swap(owners_tmp);
  }
}

}  // namespace ketama_detail
}  // namespace quorum::hashing
