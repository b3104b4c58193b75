// Partitions without root: a TCP proxy on loopback for every ordered pair of
// members (i dials j through proxy i->j), so each link can be cut alone.
// Member i is started with a --cluster list in which every other member's
// address is its proxy (cluster_flag(i)); peer frames name their sender, so
// the members never notice. Cutting i<->j closes the connections on both
// directed links and closes new ones as soon as they are accepted, until
// heal(). One thread moves the bytes with poll(); each direction holds at
// most one read's worth and stops reading while it waits to write, so a
// paused (SIGSTOP) member stalls only its own links.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kv_cluster.hpp"

namespace kv_test {

class link_proxies {
 public:
  explicit link_proxies(const std::vector<member_address>& members) : members_{members} {
    const int n = static_cast<int>(members_.size());
    links_.resize(static_cast<std::size_t>(n * n));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (i != j) open_listener(link(i, j), members_[j].peer_port);
    thread_ = std::thread{[this] { loop(); }};
  }
  ~link_proxies() {
    stop_ = true;
    thread_.join();
    for (auto& p : pipes_) close_pipe(p);
    for (auto& l : links_)
      if (l.listener >= 0) ::close(l.listener);
  }
  link_proxies(const link_proxies&) = delete;
  link_proxies& operator=(const link_proxies&) = delete;

  // The --cluster list member i is started with.
  [[nodiscard]] std::string cluster_flag(int i) const {
    std::string out;
    for (int j = 0; j < static_cast<int>(members_.size()); ++j) {
      const std::uint16_t port = i == j ? members_[j].peer_port : links_[link(i, j)].port;
      if (j) out += ',';  // appended piece by piece: g++ 12 -O3 warns (-Wrestrict, falsely) on "," + std::string
      out += std::to_string(j + 1);
      out += "=127.0.0.1:";
      out += std::to_string(port);
    }
    return out;
  }

  // Members i and j stop hearing each other (both directions).
  void cut(int i, int j) {
    std::lock_guard lock{mu_};
    links_[link(i, j)].cut = true;
    links_[link(j, i)].cut = true;
  }
  void heal() {
    std::lock_guard lock{mu_};
    for (auto& l : links_) l.cut = false;
  }

 private:
  struct link_state {
    int listener = -1;
    std::uint16_t port = 0;
    std::uint16_t target = 0;
    bool cut = false;
  };
  // One proxied connection: a (from the dialling member) and b (to the target).
  struct pipe {
    std::size_t link;
    int a = -1, b = -1;
    std::string a_to_b, b_to_a;  // bytes read from one side, not yet written to the other
  };

  [[nodiscard]] std::size_t link(int i, int j) const {
    return static_cast<std::size_t>(i) * members_.size() + static_cast<std::size_t>(j);
  }

  void open_listener(std::size_t l, std::uint16_t target) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
      throw std::runtime_error("link_proxies: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    links_[l] = {fd, ntohs(a.sin_port), target, false};
  }

  static void close_pipe(pipe& p) {
    if (p.a >= 0) ::close(p.a);
    if (p.b >= 0) ::close(p.b);
    p.a = p.b = -1;
  }

  void accept_on(std::size_t l) {
    const int a = ::accept4(links_[l].listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (a < 0) return;
    if (links_[l].cut) {  // refused: the dialler sees the connection close at once
      ::close(a);
      return;
    }
    // A blocking connect on loopback: refused at once if the target is down.
    const int b = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(links_[l].target);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (b < 0 || ::connect(b, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(a);
      if (b >= 0) ::close(b);
      return;
    }
    ::fcntl(b, F_SETFL, ::fcntl(b, F_GETFL) | O_NONBLOCK);
    pipes_.push_back({l, a, b, {}, {}});
  }

  // Reads from `from` (when `pending` is empty) and writes what it can to
  // `to`; false when either side closed or failed.
  static bool pump(int from, int to, std::string& pending, short from_events) {
    if (pending.empty() && (from_events & (POLLIN | POLLHUP | POLLERR))) {
      char buf[65536];
      const ssize_t n = ::recv(from, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
      if (n > 0) pending.assign(buf, static_cast<std::size_t>(n));
    }
    if (!pending.empty()) {  // non-blocking: whatever fits now
      const ssize_t n = ::send(to, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (n > 0) pending.erase(0, static_cast<std::size_t>(n));
    }
    return true;
  }

  void loop() {
    std::vector<pollfd> fds;
    std::unique_lock lock{mu_, std::defer_lock};
    while (!stop_) {
      lock.lock();
      for (auto& p : pipes_)
        if (links_[p.link].cut) close_pipe(p);
      pipes_.remove_if([](const pipe& p) { return p.a < 0; });
      fds.clear();
      for (const auto& l : links_) fds.push_back({l.listener, static_cast<short>(l.listener >= 0 ? POLLIN : 0), 0});
      for (const auto& p : pipes_) {
        fds.push_back({p.a, static_cast<short>((p.a_to_b.empty() ? POLLIN : 0) | (p.b_to_a.empty() ? 0 : POLLOUT)), 0});
        fds.push_back({p.b, static_cast<short>((p.b_to_a.empty() ? POLLIN : 0) | (p.a_to_b.empty() ? 0 : POLLOUT)), 0});
      }
      lock.unlock();
      ::poll(fds.data(), fds.size(), 20);
      lock.lock();
      for (std::size_t l = 0; l < links_.size(); ++l)
        if (fds[l].revents & POLLIN) accept_on(l);
      std::size_t k = links_.size();
      for (auto& p : pipes_) {
        if (k + 1 >= fds.size()) break;  // accepted during this round: polled next round
        const short ra = fds[k].revents, rb = fds[k + 1].revents;
        k += 2;
        if (!pump(p.a, p.b, p.a_to_b, ra) || !pump(p.b, p.a, p.b_to_a, rb)) close_pipe(p);
      }
      lock.unlock();
    }
  }

  std::vector<member_address> members_;
  std::vector<link_state> links_;
  std::list<pipe> pipes_;
  std::mutex mu_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kv_test
