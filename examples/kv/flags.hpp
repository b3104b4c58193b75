// quorum-kv's command line:
//   quorum-kv --id N --cluster 1=HOST:PORT,2=HOST:PORT,... --listen HOST:PORT --data DIR
//             [--protocol raft|paxos] [--snapshot-every N] [--leader-sync inline|thread]
//             [--write-pacing-us N] [--max-client-output-mb N]
// Parsed strictly: an unknown flag, a missing value or a bad number is a usage error.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <quorum/transport/asio.hpp>

namespace kv {

struct flags {
  quorum::node_id id{};
  std::vector<quorum::transport::peer_address> cluster;
  std::string listen_host;
  std::uint16_t listen_port = 0;
  std::string data_dir;
  std::string protocol = "raft";
  std::uint64_t snapshot_every = 10000;
  bool leader_sync_thread = false;
  std::uint64_t write_pacing_us = 100;
  std::uint64_t max_client_output_mb = 256;
  bool help = false;
};

inline constexpr const char* usage =
    "usage: quorum-kv --id N --cluster 1=HOST:PORT,2=HOST:PORT,3=HOST:PORT --listen HOST:PORT --data DIR\n"
    "                 [--protocol raft|paxos] [--snapshot-every N] [--leader-sync inline|thread]\n"
    "                 [--write-pacing-us N] [--max-client-output-mb N]\n"
    "  --id              this node's id, one of the ids in --cluster\n"
    "  --cluster         every member's id and peer address (the same list on every node)\n"
    "  --listen          where RESP clients (redis-cli) connect\n"
    "  --data            the directory for the log and the snapshots (created if missing)\n"
    "  --protocol        raft (the default) or paxos (Multi-Paxos)\n"
    "  --snapshot-every  applied entries between snapshots, and at least as many as there are keys (default 10000)\n"
    "  --leader-sync     raft only: where the leader's fdatasync runs, in its event loop (inline, the default)\n"
    "                    or on a thread of its own while the loop goes on (thread)\n"
    "  --write-pacing-us the longest a write waits at the leader for others to join its batch, while a batch\n"
    "                    is in flight or clients just answered have not written again (default 100, at most\n"
    "                    100000; 0: every turn's writes are proposed at once)\n"
    "  --max-client-output-mb  the replies one client may have waiting to be sent, in MiB, before its\n"
    "                    connection is closed (default 256, 1 to 65536)\n";

inline constexpr std::uint64_t max_write_pacing_us = 100000;
inline constexpr std::uint64_t max_client_output_mb = 65536;

inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Returns the error text of a usage error, or nothing.
inline std::optional<std::string> parse_flags(int argc, char** argv, flags& f) {
  bool seen_id = false, seen_listen = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") {
      f.help = true;
      return std::nullopt;
    }
    std::string_view value;
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return std::string{a} + ": missing value";
    }
    if (a == "--id") {
      const auto v = parse_u64(value);
      if (!v || *v == 0) return "--id: expected a positive integer, got '" + std::string{value} + "'";
      f.id = quorum::node_id{*v};
      seen_id = true;
    } else if (a == "--cluster") {
      std::size_t start = 0;
      while (start <= value.size()) {
        const auto comma = value.find(',', start);
        const std::string_view item = value.substr(start, comma == std::string_view::npos ? value.npos : comma - start);
        const auto eq = item.find('=');
        const auto id = eq == std::string_view::npos ? std::nullopt : parse_u64(item.substr(0, eq));
        if (!id || *id == 0) return "--cluster: expected ID=HOST:PORT, got '" + std::string{item} + "'";
        auto hp = quorum::transport::parse_host_port(item.substr(eq + 1));
        if (!hp) return "--cluster: '" + std::string{item} + "': " + hp.error().what;
        for (const auto& p : f.cluster)
          if (p.id.value() == *id) return "--cluster: id " + std::to_string(*id) + " given twice";
        f.cluster.push_back({quorum::node_id{*id}, hp->first, hp->second});
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    } else if (a == "--listen") {
      auto hp = quorum::transport::parse_host_port(value);
      if (!hp) return "--listen: " + std::string{hp.error().what};
      f.listen_host = hp->first;
      f.listen_port = hp->second;
      seen_listen = true;
    } else if (a == "--data") {
      if (value.empty()) return "--data: empty directory name";
      f.data_dir = value;
    } else if (a == "--protocol") {
      if (value != "raft" && value != "paxos")
        return "--protocol: expected raft or paxos, got '" + std::string{value} + "'";
      f.protocol = value;
    } else if (a == "--snapshot-every") {
      const auto v = parse_u64(value);
      if (!v || *v == 0) return "--snapshot-every: expected a positive integer";
      f.snapshot_every = *v;
    } else if (a == "--leader-sync") {
      if (value != "inline" && value != "thread")
        return "--leader-sync: expected inline or thread, got '" + std::string{value} + "'";
      f.leader_sync_thread = value == "thread";
    } else if (a == "--write-pacing-us") {
      const auto v = parse_u64(value);
      if (!v || *v > max_write_pacing_us)
        return "--write-pacing-us: expected 0 to " + std::to_string(max_write_pacing_us) + ", got '" +
               std::string{value} + "'";
      f.write_pacing_us = *v;
    } else if (a == "--max-client-output-mb") {
      const auto v = parse_u64(value);
      if (!v || *v == 0 || *v > max_client_output_mb)
        return "--max-client-output-mb: expected 1 to " + std::to_string(max_client_output_mb) + ", got '" +
               std::string{value} + "'";
      f.max_client_output_mb = *v;
    } else {
      return "unknown flag '" + std::string{a} + "'";
    }
  }
  if (!seen_id) return "missing --id";
  if (f.cluster.empty()) return "missing --cluster";
  if (!seen_listen) return "missing --listen";
  if (f.data_dir.empty()) return "missing --data";
  if (f.leader_sync_thread && f.protocol != "raft") return "--leader-sync thread: only with --protocol raft";
  bool found = false;
  for (const auto& p : f.cluster) found = found || p.id == f.id;
  if (!found) return "--id " + std::to_string(f.id.value()) + " is not in --cluster";
  return std::nullopt;
}

}  // namespace kv
