// memcached_router: routes keys to memcached servers the way libmemcached's
// ketama does, with quorum::hashing::ketama_ring and no libmemcached at run
// time. --verify checks that claim against the live library.
//
//   memcached_router [--mode M] SERVER[=WEIGHT]... < keys     one "key server" line per key
//   memcached_router --verify N [--mode M] SERVER[=WEIGHT]...  compare N random keys with libmemcached
//   M: libmemcached (weighted, the default) | libmemcached_default
#include <libmemcached/memcached.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/ketama.hpp"

namespace {

using quorum::hashing::ketama_mode;
using quorum::hashing::ketama_ring;

struct server {
  std::string host;
  std::uint32_t port = 11211;
  std::uint32_t weight = 1;
  [[nodiscard]] std::string name() const { return host + ":" + std::to_string(port); }
};

struct config {
  ketama_mode mode = ketama_mode::libmemcached;
  std::size_t verify_keys = 0;
  std::vector<server> servers;
};

bool parse_number(std::string_view text, std::uint32_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

// "host[:port][=weight]"
bool parse_server(std::string_view arg, server& out) {
  if (const auto eq = arg.find('='); eq != std::string_view::npos) {
    if (!parse_number(arg.substr(eq + 1), out.weight) || out.weight == 0) return false;
    arg = arg.substr(0, eq);
  }
  if (const auto colon = arg.rfind(':'); colon != std::string_view::npos) {
    if (!parse_number(arg.substr(colon + 1), out.port) || out.port > 65535) return false;
    arg = arg.substr(0, colon);
  }
  out.host = std::string{arg};
  return !out.host.empty();
}

bool parse_args(int argc, char** argv, config& cfg) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--mode" && i + 1 < argc) {
      const std::string_view m = argv[++i];
      if (m == "libmemcached") cfg.mode = ketama_mode::libmemcached;
      else if (m == "libmemcached_default") cfg.mode = ketama_mode::libmemcached_default;
      else return false;
    } else if (arg == "--verify" && i + 1 < argc) {
      std::uint32_t n = 0;
      if (!parse_number(argv[++i], n) || n == 0) return false;
      cfg.verify_keys = n;
    } else {
      server s;
      if (!parse_server(arg, s)) return false;
      cfg.servers.push_back(std::move(s));
    }
  }
  return !cfg.servers.empty();
}

// The router itself: nothing but quorum. Names are "host:port", which is
// what libmemcached hashes (it drops ":11211").
ketama_ring<std::string> make_router(const config& cfg) {
  ketama_ring<std::string> ring{cfg.mode};
  for (const server& s : cfg.servers) ring.insert(s.name(), s.weight);
  return ring;
}

int route_stdin(const ketama_ring<std::string>& router) {
  std::string key;
  while (std::getline(std::cin, key)) std::cout << key << ' ' << router.find(key) << '\n';
  return 0;
}

// Same servers in libmemcached, then N random memcached keys through both.
int verify(const config& cfg, const ketama_ring<std::string>& router) {
  memcached_st* memc = memcached_create(nullptr);
  if (cfg.mode == ketama_mode::libmemcached) {
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  } else {
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
  }
  for (const server& s : cfg.servers) {
    memcached_server_add_with_weight(memc, s.host.c_str(), static_cast<in_port_t>(s.port), s.weight);
  }
  quorum::seeded_random rng{cfg.verify_keys};
  std::size_t differ = 0;
  std::string key;
  for (std::size_t i = 0; i < cfg.verify_keys; ++i) {
    key.resize(1 + rng.below(250));  // memcached keys: up to 250 printable bytes
    for (char& c : key) c = static_cast<char>(33 + rng.below(94));
    const std::uint32_t index = memcached_generate_hash(memc, key.data(), key.size());
    const memcached_instance_st* instance = memcached_server_instance_by_position(memc, index);
    const std::string theirs =
        std::string{memcached_server_name(instance)} + ":" + std::to_string(memcached_server_port(instance));
    if (router.find(key) != theirs) {
      if (differ++ < 5)
        std::fprintf(stderr, "key %s: router %s, libmemcached %s\n", key.c_str(), router.find(key).c_str(),
                     theirs.c_str());
    }
  }
  memcached_free(memc);
  std::printf("%zu keys, %zu servers, %zu points: %zu placed differently from libmemcached\n", cfg.verify_keys,
              router.size(), router.point_count(), differ);
  return differ == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg;
  if (!parse_args(argc, argv, cfg)) {
    std::fprintf(stderr,
                 "usage: memcached_router [--verify N] [--mode libmemcached|libmemcached_default] "
                 "HOST[:PORT][=WEIGHT]...\n");
    return 2;
  }
  try {
    const auto router = make_router(cfg);
    return cfg.verify_keys > 0 ? verify(cfg, router) : route_stdin(router);
  } catch (const std::exception& e) {  // a duplicate server, say
    std::fprintf(stderr, "memcached_router: %s\n", e.what());
    return 2;
  }
}
