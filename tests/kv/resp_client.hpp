// A small blocking RESP2 client for tests: one TCP connection (to a loopback
// port unless an IPv4 host is given), every wait bounded by a timeout,
// replies parsed whole.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kv_test {

struct reply {
  char type = 0;  // '+', '-', ':', '$', '*'
  std::string text;  // simple, error and bulk contents
  long long integer = 0;
  bool null = false;
  std::vector<reply> elements;
  [[nodiscard]] bool is_error() const { return type == '-'; }
};

class resp_client {
 public:
  explicit resp_client(std::uint16_t port, int timeout_ms = 5000) : resp_client{"127.0.0.1", port, timeout_ms} {}
  // The send timeout also bounds connect().
  resp_client(const std::string& ipv4, std::uint16_t port, int timeout_ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (::inet_pton(AF_INET, ipv4.c_str(), &a.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) close();
  }
  ~resp_client() { close(); }
  resp_client(const resp_client&) = delete;
  resp_client& operator=(const resp_client&) = delete;

  [[nodiscard]] bool ok() const { return fd_ >= 0; }

  bool send_raw(const std::string& bytes) {
    std::size_t off = 0;
    while (ok() && off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        close();
        return false;
      }
      off += static_cast<std::size_t>(n);
    }
    return ok();
  }

  // nullopt: the connection failed or timed out (and is closed).
  std::optional<reply> command(const std::vector<std::string>& args) {
    // Appended piece by piece: g++ 12 -O3 warns (-Wrestrict, falsely) on "$" + std::string.
    std::string req = "*";
    req += std::to_string(args.size());
    req += "\r\n";
    for (const auto& a : args) {
      req += '$';
      req += std::to_string(a.size());
      req += "\r\n";
      req += a;
      req += "\r\n";
    }
    if (!send_raw(req)) return std::nullopt;
    return read_reply();
  }

  std::optional<reply> read_reply() {
    auto line = read_line();
    if (!line || line->empty()) return std::nullopt;
    reply r;
    r.type = (*line)[0];
    const std::string rest = line->substr(1);
    switch (r.type) {
      case '+':
      case '-': r.text = rest; return r;
      case ':': r.integer = std::stoll(rest); return r;
      case '$': {
        const long long n = std::stoll(rest);
        if (n < 0) {
          r.null = true;
          return r;
        }
        if (!fill(static_cast<std::size_t>(n) + 2)) return std::nullopt;
        r.text = buf_.substr(0, static_cast<std::size_t>(n));
        buf_.erase(0, static_cast<std::size_t>(n) + 2);
        return r;
      }
      case '*': {
        const long long n = std::stoll(rest);
        for (long long i = 0; i < n; ++i) {
          auto e = read_reply();
          if (!e) return std::nullopt;
          r.elements.push_back(std::move(*e));
        }
        return r;
      }
      default: close(); return std::nullopt;
    }
  }

  // True when the server closed the connection (a read returns end of stream).
  bool closed_by_peer() {
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool fill(std::size_t n) {
    while (buf_.size() < n) {
      char chunk[4096];
      const ssize_t got = ok() ? ::recv(fd_, chunk, sizeof chunk, 0) : -1;
      if (got <= 0) {
        close();
        return false;
      }
      buf_.append(chunk, static_cast<std::size_t>(got));
    }
    return true;
  }
  std::optional<std::string> read_line() {
    std::size_t nl;
    while ((nl = buf_.find("\r\n")) == std::string::npos)
      if (!fill(buf_.size() + 1)) return std::nullopt;
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 2);
    return line;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  std::string buf_;
};

}  // namespace kv_test
