// A small network for partition tests: one Linux network namespace per
// member, each joined by a veth pair to a bridge in the test's own namespace
// (which keeps an address on it, so clients reach every member and are never
// partitioned). A link i<->j is cut with a blackhole route to the other's
// address on both sides: packets vanish silently, as in a real partition, and
// established TCP connections stall until the route is removed.
// Needs root and iproute2 (`ip`); unavailable() says why not otherwise.
// Addresses come from 198.18.0.0/15, which RFC 2544 sets aside for tests.
//
// CTest runs the partition test and the Jepsen test side by side, each with
// a lab of its own, so set-up is serialised across processes by a lock file:
// two `ip netns add` racing on a machine where none ran before can both turn
// /run/netns into a mount point (one hiding the other's namespaces), and two
// labs must never pick the same /24. A lab is handed over only once every
// member reaches every other and the test's namespace reaches them all.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kv_test {

class netns_lab {
 public:
  // nullopt when namespaces work here; otherwise the reason they do not.
  static std::optional<std::string> unavailable() {
    if (::geteuid() != 0) return "not root (network namespaces need CAP_SYS_ADMIN)";
    if (std::system("ip -V >/dev/null 2>&1") != 0) return "iproute2 ('ip') is not installed";
    const setup_lock lock;
    const std::string probe = "qkvprobe" + std::to_string(::getpid());
    if (std::system(("ip netns add " + probe + " >/dev/null 2>&1").c_str()) != 0)
      return "'ip netns add' fails here (no permission for network namespaces)";
    quiet("ip netns del " + probe);
    return std::nullopt;
  }

  explicit netns_lab(int members) : members_{members} {
    const auto pid = static_cast<unsigned>(::getpid());
    prefix_ = "qkv" + std::to_string(pid);
    bridge_ = prefix_ + "b";
    try {
      {
        const setup_lock lock;
        subnet_ = "198.18." + std::to_string(free_octet(pid % 250)) + ".";
        build();
      }
      wait_reachable(std::chrono::seconds{10});
    } catch (...) {
      teardown();
      throw;
    }
  }
  ~netns_lab() { teardown(); }
  netns_lab(const netns_lab&) = delete;
  netns_lab& operator=(const netns_lab&) = delete;

  [[nodiscard]] std::string name(int i) const { return prefix_ + "-" + std::to_string(i); }
  [[nodiscard]] std::string address(int i) const { return subnet_ + std::to_string(i + 1); }

  // Members i and j stop hearing each other (both directions).
  void cut(int i, int j) {
    if (i == j || !cuts_.insert(std::minmax(i, j)).second) return;
    run("ip -n " + name(i) + " route add blackhole " + address(j) + "/32");
    run("ip -n " + name(j) + " route add blackhole " + address(i) + "/32");
  }
  // Every member hears every other again.
  void heal() {
    for (const auto& [i, j] : cuts_) {
      quiet("ip -n " + name(i) + " route del blackhole " + address(j) + "/32");
      quiet("ip -n " + name(j) + " route del blackhole " + address(i) + "/32");
    }
    cuts_.clear();
  }

 private:
  void build() {
    run("ip link add " + bridge_ + " type bridge");
    run("ip addr add " + subnet_ + "254/24 dev " + bridge_);
    run("ip link set " + bridge_ + " up");
    for (int i = 0; i < members_; ++i) {
      const std::string ns = name(i), host = prefix_ + "h" + std::to_string(i),
                        inner = prefix_ + "n" + std::to_string(i);
      run("ip netns add " + ns);
      ++created_;
      run("ip link add " + host + " type veth peer name " + inner);
      run("ip link set " + inner + " netns " + ns);
      run("ip link set " + host + " master " + bridge_ + " up");
      run("ip -n " + ns + " addr add " + address(i) + "/24 dev " + inner);
      run("ip -n " + ns + " link set " + inner + " up");
      run("ip -n " + ns + " link set lo up");
      const int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("netns_lab: cannot open /run/netns/" + ns + " after creating it");
      ns_fds_.push_back(fd);
    }
  }

  // Holds an exclusive lock on a file shared by every process using a lab.
  class setup_lock {
   public:
    setup_lock() : fd_{::open("/run/quorum-kv-netns-lab.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600)} {
      if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
        throw std::runtime_error("netns_lab: cannot lock /run/quorum-kv-netns-lab.lock");
    }
    ~setup_lock() { ::close(fd_); }
    setup_lock(const setup_lock&) = delete;
    setup_lock& operator=(const setup_lock&) = delete;

   private:
    int fd_;
  };

  // A third octet for 198.18.X.0/24 that no address or route here uses yet,
  // starting the search at `hint`. Called under the set-up lock.
  static unsigned free_octet(unsigned hint) {
    const std::string used = output("ip -o -4 addr show; ip -4 route show table all");
    for (unsigned k = 0; k < 250; ++k) {
      const unsigned octet = (hint + k) % 250;
      if (used.find("198.18." + std::to_string(octet) + ".") == std::string::npos) return octet;
    }
    throw std::runtime_error("netns_lab: every 198.18.X.0/24 is in use here");
  }

  // Every member reaches every other, and this namespace reaches every member,
  // within `limit`; otherwise throws naming the first link that does not work.
  void wait_reachable(std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      std::string broken;
      for (int from = -1; from < members_ && broken.empty(); ++from)
        for (int to = 0; to < members_ && broken.empty(); ++to)
          if (from != to) {
            const int ns = from < 0 ? -1 : ns_fds_[static_cast<std::size_t>(from)];
            if (const auto why = unreachable(ns, address(to)))
              broken = (from < 0 ? std::string{"the test's namespace"} : name(from)) + " -> " + address(to) + ": " +
                       *why;
          }
      if (broken.empty()) return;
      if (std::chrono::steady_clock::now() >= deadline)
        throw std::runtime_error("netns_lab: " + broken + "\n" + state());
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }

  // Whether a TCP connection from the namespace `ns_fd` (-1: this one) to
  // port 9 of `address` is answered (a refusal is an answer: the host is
  // reached); the reason when it is not. Runs in a child, which may enter
  // another namespace without moving this process.
  static std::optional<std::string> unreachable(int ns_fd, const std::string& address) {
    sockaddr_in a{};  // filled here: the child makes system calls only
    a.sin_family = AF_INET;
    a.sin_port = htons(9);
    if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) return "bad address";
    const pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
      if (ns_fd >= 0 && ::setns(ns_fd, CLONE_NEWNET) != 0) std::_Exit(100);
      const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (s < 0) std::_Exit(101);
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) std::_Exit(0);
      if (errno == ECONNREFUSED) std::_Exit(0);
      if (errno != EINPROGRESS) std::_Exit(std::min(errno, 99));
      pollfd p{s, POLLOUT, 0};
      if (::poll(&p, 1, 1000) != 1) std::_Exit(102);
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      std::_Exit(err == 0 || err == ECONNREFUSED ? 0 : std::min(err, 99));
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return "the probe did not finish";
    switch (const int code = WEXITSTATUS(status)) {
      case 0: return std::nullopt;
      case 100: return "setns failed";
      case 101: return "no socket";
      case 102: return "no answer within 1 s";
      default: return std::string{"connect: "} + std::strerror(code);
    }
  }
  // Addresses and routes here and in each member's namespace, for an error.
  [[nodiscard]] std::string state() const {
    std::string cmd = "ip -o -4 addr show; ip -4 route show";
    for (int i = 0; i < members_; ++i)
      cmd += "; echo '[" + name(i) + "]'; ip -n " + name(i) + " -o -4 addr show; ip -n " + name(i) + " -4 route show";
    return output(cmd);
  }
  static std::string output(const std::string& cmd) {
    std::string out;
    if (FILE* f = ::popen(("(" + cmd + ") 2>&1").c_str(), "r")) {
      std::array<char, 4096> buf{};
      for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), f)) > 0;) out.append(buf.data(), n);
      ::pclose(f);
    }
    return out;
  }
  void teardown() {
    for (const int fd : ns_fds_) ::close(fd);  // a namespace with an open descriptor outlives its deletion
    ns_fds_.clear();
    heal();
    for (int i = 0; i < created_; ++i) quiet("ip netns del " + name(i));  // takes its end of the veth pair with it
    quiet("ip link del " + bridge_);
  }
  static void run(const std::string& cmd) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("netns_lab: failed: " + cmd);
  }
  static void quiet(const std::string& cmd) {
    [[maybe_unused]] const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  }

  int members_;
  int created_ = 0;
  std::string prefix_, subnet_, bridge_;
  std::set<std::pair<int, int>> cuts_;
  std::vector<int> ns_fds_;
};

}  // namespace kv_test
