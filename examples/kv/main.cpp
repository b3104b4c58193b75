// quorum-kv: a replicated key-value server that redis-cli talks to. One
// process per member; see README.md, "quorum-kv", and scripts/kv-cluster.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <system_error>

#include "flags.hpp"
#include "server.hpp"

namespace {

// Runs until SIGINT or SIGTERM; kill -9 is survived by the data directory.
template <class Protocol>
int serve(const kv::flags& f, const kv::server_config& cfg) {
  asio::io_context io;
  std::unique_ptr<kv::server<Protocol>> server;
  if (auto e = kv::server<Protocol>::start(io, cfg, server)) {
    std::cerr << "quorum-kv: " << *e << '\n';
    return 1;
  }
  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](const asio::error_code& err, int) {
    if (!err) server->stop();
  });
  std::cerr << "quorum-kv: node " << f.id.value() << " (" << Protocol::name << ") serving RESP on " << f.listen_host
            << ':' << f.listen_port << ", data in " << f.data_dir << '\n';
  server->run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kv::flags f;
  if (auto e = kv::parse_flags(argc, argv, f)) {
    std::cerr << "quorum-kv: " << *e << '\n' << kv::usage;
    return 2;
  }
  if (f.help) {
    std::cout << kv::usage;
    return 0;
  }
  std::error_code ec;
  std::filesystem::create_directories(f.data_dir, ec);
  if (ec) {
    std::cerr << "quorum-kv: cannot create " << f.data_dir << ": " << ec.message() << '\n';
    return 1;
  }
  kv::server_config cfg;
  cfg.self = f.id;
  cfg.cluster = f.cluster;
  cfg.client_host = f.listen_host;
  cfg.client_port = f.listen_port;
  cfg.data_dir = f.data_dir;
  cfg.snapshot_every = f.snapshot_every;
  cfg.leader_sync_thread = f.leader_sync_thread;
  cfg.write_pacing = std::chrono::microseconds{f.write_pacing_us};
  cfg.clients.max_output_bytes = static_cast<std::size_t>(f.max_client_output_mb) << 20;
  return f.protocol == "paxos" ? serve<kv::paxos_protocol>(f, cfg) : serve<kv::raft_protocol>(f, cfg);
}
