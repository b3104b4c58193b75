// redis-cli itself (Debian redis-tools) against a 3-node quorum-kv cluster:
// a client nobody here wrote must work unmodified, through the leader and
// through a follower that forwards. Skipped, saying so, without redis-cli.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "kv_cluster.hpp"

#ifndef QUORUM_KV_BINARY
#error "QUORUM_KV_BINARY names the quorum-kv executable"
#endif
#ifndef KV_TEST_DIR
#error "KV_TEST_DIR names a scratch directory"
#endif

namespace {

// redis-cli's output for one command (no tty: raw replies, one per line).
std::string redis_cli(std::uint16_t port, const std::string& command) {
  const std::string line = "redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " " + command + " 2>&1";
  FILE* p = ::popen(line.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (const std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// The same, retried while the cluster says to try again (a leader change).
std::string redis_cli_answered(std::uint16_t port, const std::string& command) {
  std::string out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    out = redis_cli(port, command);
    if (!out.starts_with("TRYAGAIN")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return out;
}

}  // namespace

TEST_CASE("redis-cli: SET, GET, INCR and INFO through the leader and through a follower") {
  if (std::system("redis-cli --version >/dev/null 2>&1") != 0) {
    MESSAGE("SKIPPED: redis-cli is not installed (Debian package redis-tools)");
    return;
  }
  kv_test::process_cluster c{QUORUM_KV_BINARY, "raft", KV_TEST_DIR, kv_test::loopback_members(3)};
  for (int i = 0; i < 3; ++i) c.start(i);
  const int leader = c.wait_leader();
  REQUIRE(leader >= 0);
  const int follower = (leader + 1) % 3;

  CHECK(redis_cli(c.port(leader), "PING") == "PONG");
  CHECK(redis_cli_answered(c.port(leader), "SET greeting hello") == "OK");
  CHECK(redis_cli_answered(c.port(follower), "GET greeting") == "hello");
  CHECK(redis_cli_answered(c.port(follower), "SET greeting 'hello again'") == "OK");
  CHECK(redis_cli_answered(c.port(leader), "GET greeting") == "hello again");
  CHECK(redis_cli_answered(c.port(follower), "INCR visits") == "1");
  CHECK(redis_cli_answered(c.port(leader), "INCR visits") == "2");
  CHECK(redis_cli_answered(c.port(follower), "GET missing").empty());  // a nil bulk prints as an empty line
  CHECK(redis_cli_answered(c.port(follower), "INCR greeting").starts_with("ERR"));

  const std::string info = redis_cli(c.port(follower), "INFO");
  CHECK(info.find("role:follower") != std::string::npos);
  CHECK(info.find("leader:" + std::to_string(leader + 1)) != std::string::npos);
  CHECK(redis_cli(c.port(leader), "INFO").find("role:leader") != std::string::npos);
}
