// Real quorum-kv processes for tests: start, kill -9, pause (SIGSTOP) and
// resume each member, ask it for INFO, and wait for a leader. Members run on
// loopback with free ports, or each in a network namespace of its own (see
// netns_lab.hpp). Setup failures throw std::runtime_error.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "resp_client.hpp"

namespace kv_test {

// Where one member listens: its peer address is host:peer_port, its RESP
// address host:client_port. A non-empty netns names the namespace it runs in.
struct member_address {
  std::string host;
  std::uint16_t peer_port = 0;
  std::uint16_t client_port = 0;
  std::string netns;
};

// A loopback port kept for this test process until it exits: bound with
// SO_REUSEADDR and never listened on, the socket deliberately left open. No
// other bind() and no outgoing connection's local port can take the port
// then, while a member (whose listeners set SO_REUSEADDR too) can listen on
// it, be killed and listen on it again. A probe socket closed at once, as
// this was before, left the port free between the probe and the member's
// bind: a parallel test's connection could take it meanwhile.
inline std::uint16_t reserve_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("reserve_port: socket");
  const int one = 1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("reserve_port: bind");
  }
  return ntohs(a.sin_port);
}

inline std::vector<member_address> loopback_members(int n) {
  std::vector<member_address> out;
  for (int i = 0; i < n; ++i) out.push_back({"127.0.0.1", reserve_port(), reserve_port(), {}});
  return out;
}

class process_cluster {
 public:
  // Data and logs go to a fresh directory under `scratch_parent`. Every
  // member gets the same --cluster list unless dial_lists gives each its own
  // (to reach the others through proxies, see link_proxies.hpp); every
  // member gets extra_args after the usual flags (--leader-sync thread).
  process_cluster(std::string binary, std::string protocol, const std::string& scratch_parent,
                  std::vector<member_address> members, int snapshot_every = 20,
                  std::vector<std::string> dial_lists = {}, std::vector<std::string> extra_args = {})
      : binary_{std::move(binary)},
        protocol_{std::move(protocol)},
        members_{std::move(members)},
        snapshot_every_{std::to_string(snapshot_every)},
        dial_lists_{std::move(dial_lists)},
        extra_args_{std::move(extra_args)},
        pid_(members_.size(), 0),
        paused_(members_.size(), false) {
    std::string tmpl = scratch_parent + "/cluster-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("process_cluster: mkdtemp in " + scratch_parent);
    dir_ = tmpl;
    for (std::size_t i = 0; i < members_.size(); ++i)
      cluster_flag_ += (i ? "," : "") + std::to_string(i + 1) + "=" + members_[i].host + ":" +
                       std::to_string(members_[i].peer_port);
  }
  ~process_cluster() {
    for (int i = 0; i < size(); ++i) kill9(i);
    // A REQUIRE that failed is unwinding: the members' logs say what they
    // saw (a port they could not bind, an assertion), and stay for a look.
    if (std::uncaught_exceptions() > 0) {
      print_log_tails();
      keep_dir_ = true;
    }
    if (!keep_dir_) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  process_cluster(const process_cluster&) = delete;
  process_cluster& operator=(const process_cluster&) = delete;

  void start(int i) {
    if (pid_[i] != 0) throw std::runtime_error("process_cluster: member already running");
    const member_address& m = members_[i];
    const std::string data = dir_ + "/node" + std::to_string(i + 1);
    const std::string log = data + ".log";
    const std::string id = std::to_string(i + 1);
    const std::string listen = m.host + ":" + std::to_string(m.client_port);
    const std::string& cluster = dial_lists_.empty() ? cluster_flag_ : dial_lists_[i];
    // The namespace is opened here, so that a missing one is an error of the
    // test's, not a member that silently never starts.
    int ns = -1;
    if (!m.netns.empty()) {
      ns = ::open(("/run/netns/" + m.netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0) throw std::runtime_error("process_cluster: cannot open network namespace /run/netns/" + m.netns);
    }
    // Built before fork(): the child of a process with threads must not allocate.
    std::vector<const char*> argv{binary_.c_str(), "--id", id.c_str(), "--cluster", cluster.c_str(), "--listen",
                                  listen.c_str(), "--data", data.c_str(), "--snapshot-every", snapshot_every_.c_str(),
                                  "--protocol", protocol_.c_str()};
    for (const std::string& a : extra_args_) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      if (ns >= 0) ::close(ns);
      throw std::runtime_error("process_cluster: fork");
    }
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0) {
        const char why[] = "process_cluster: setns into the member's network namespace failed\n";
        [[maybe_unused]] const auto n = ::write(2, why, sizeof why - 1);
        std::_Exit(126);
      }
      ::execv(argv[0], const_cast<char* const*>(argv.data()));
      std::_Exit(127);
    }
    if (ns >= 0) ::close(ns);
    pid_[i] = pid;
    paused_[i] = false;
  }
  void kill9(int i) {
    if (pid_[i] == 0) return;
    ::kill(pid_[i], SIGKILL);  // also ends a stopped process
    ::waitpid(pid_[i], nullptr, 0);
    pid_[i] = 0;
    paused_[i] = false;
  }
  void pause(int i) {
    if (pid_[i] != 0 && !paused_[i] && ::kill(pid_[i], SIGSTOP) == 0) paused_[i] = true;
  }
  void resume(int i) {
    if (pid_[i] != 0 && paused_[i] && ::kill(pid_[i], SIGCONT) == 0) paused_[i] = false;
  }

  [[nodiscard]] int size() const { return static_cast<int>(members_.size()); }
  [[nodiscard]] bool running(int i) const { return pid_[i] != 0; }
  [[nodiscard]] bool paused(int i) const { return paused_[i]; }
  [[nodiscard]] const member_address& member(int i) const { return members_[i]; }
  [[nodiscard]] std::uint16_t port(int i) const { return members_[i].client_port; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  // Keeps the data and logs after the cluster is gone (for a failed run).
  void keep_dir() { keep_dir_ = true; }

  // The last 2 KiB of every member's log, to stderr.
  void print_log_tails() const {
    for (int i = 0; i < size(); ++i) {
      const std::string log = dir_ + "/node" + std::to_string(i + 1) + ".log";
      std::FILE* f = std::fopen(log.c_str(), "rb");
      if (f == nullptr) continue;
      std::fseek(f, 0, SEEK_END);
      const long end = std::ftell(f);
      std::fseek(f, std::max(0L, end - 2048), SEEK_SET);
      std::string tail(static_cast<std::size_t>(std::min(end, 2048L)), '\0');
      tail.resize(std::fread(tail.data(), 1, tail.size(), f));
      std::fclose(f);
      std::fprintf(stderr, "---- %s (last %zu bytes)\n%s\n", log.c_str(), tail.size(), tail.c_str());
    }
  }

  // A new connection to member i's RESP port.
  [[nodiscard]] resp_client connect(int i, int timeout_ms = 5000) const {
    return resp_client{members_[i].host, members_[i].client_port, timeout_ms};
  }

  // INFO of member i as field -> value; empty if it does not answer in time.
  std::map<std::string, std::string> info(int i, int timeout_ms = 1000) {
    std::map<std::string, std::string> out;
    if (!running(i) || paused(i)) return out;
    resp_client c = connect(i, timeout_ms);
    auto r = c.command({"INFO"});
    if (!r || r->type != '$') return out;
    std::size_t at = 0;
    while (at < r->text.size()) {
      std::size_t end = r->text.find("\r\n", at);
      if (end == std::string::npos) end = r->text.size();
      const std::string line = r->text.substr(at, end - at);
      if (const auto colon = line.find(':'); colon != std::string::npos)
        out[line.substr(0, colon)] = line.substr(colon + 1);
      at = end + 2;
    }
    return out;
  }

  // For a failure message: per member, whether it runs or how it ended, and
  // the tail of its output.
  [[nodiscard]] std::string report() const {
    std::string out;
    for (int i = 0; i < size(); ++i) {
      out += "member " + std::to_string(i + 1) + " (" + members_[i].host + ":" + std::to_string(members_[i].peer_port) +
             (members_[i].netns.empty() ? "" : " in " + members_[i].netns) + "): ";
      siginfo_t ended{};  // left zero by waitid while the member runs
      if (pid_[i] == 0) {
        out += "not running";
      } else if (::waitid(P_PID, static_cast<id_t>(pid_[i]), &ended, WEXITED | WNOHANG | WNOWAIT) != 0 ||
                 ended.si_pid == 0) {
        out += paused_[i] ? "paused" : "running";
      } else if (ended.si_code == CLD_EXITED) {
        out += "exited with status " + std::to_string(ended.si_status);
      } else {
        out += "killed by signal " + std::to_string(ended.si_status);
      }
      std::string tail;
      if (FILE* f = std::fopen((dir_ + "/node" + std::to_string(i + 1) + ".log").c_str(), "r")) {
        std::fseek(f, 0, SEEK_END);
        const long size = std::ftell(f);
        std::fseek(f, std::max(0L, size - 2000), SEEK_SET);
        char buf[2048];
        tail.assign(buf, std::fread(buf, 1, sizeof buf, f));
        std::fclose(f);
      }
      out += "\n" + (tail.empty() ? std::string{"  (no output)\n"} : tail);
    }
    return out;
  }

  // The running member that says it leads, waiting up to `limit`; -1 if none.
  int wait_leader(std::chrono::milliseconds limit = std::chrono::milliseconds{15000}) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      for (int i = 0; i < size(); ++i)
        if (info(i)["role"] == "leader") return i;
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    } while (std::chrono::steady_clock::now() < deadline);
    return -1;
  }

 private:
  std::string binary_, protocol_;
  std::vector<member_address> members_;
  std::string snapshot_every_, dir_, cluster_flag_;
  std::vector<std::string> dial_lists_;
  std::vector<std::string> extra_args_;
  std::vector<pid_t> pid_;
  std::vector<bool> paused_;
  bool keep_dir_ = false;
};

}  // namespace kv_test
