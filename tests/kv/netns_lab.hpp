// A small network for partition tests: one Linux network namespace per
// member, each joined by a veth pair to a bridge in the test's own namespace
// (which keeps an address on it, so clients reach every member and are never
// partitioned). A link i<->j is cut with a blackhole route to the other's
// address on both sides: packets vanish silently, as in a real partition, and
// established TCP connections stall until the route is removed.
// Needs root and iproute2 (`ip`); available() says why not otherwise.
// Addresses come from 198.18.0.0/15, which RFC 2544 sets aside for tests.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace kv_test {

class netns_lab {
 public:
  // nullopt when namespaces work here; otherwise the reason they do not.
  static std::optional<std::string> unavailable() {
    if (::geteuid() != 0) return "not root (network namespaces need CAP_SYS_ADMIN)";
    if (std::system("ip -V >/dev/null 2>&1") != 0) return "iproute2 ('ip') is not installed";
    const std::string probe = "qkvprobe" + std::to_string(::getpid());
    if (std::system(("ip netns add " + probe + " >/dev/null 2>&1").c_str()) != 0)
      return "'ip netns add' fails here (no permission for network namespaces)";
    quiet("ip netns del " + probe);
    return std::nullopt;
  }

  explicit netns_lab(int members) : members_{members} {
    const auto pid = static_cast<unsigned>(::getpid());
    prefix_ = "qkv" + std::to_string(pid);
    subnet_ = "198.18." + std::to_string(pid % 250) + ".";
    bridge_ = prefix_ + "b";
    try {
      build();
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
      const std::string ns = name(i), host = prefix_ + "h" + std::to_string(i), inner = prefix_ + "n" + std::to_string(i);
      run("ip netns add " + ns);
      ++created_;
      run("ip link add " + host + " type veth peer name " + inner);
      run("ip link set " + inner + " netns " + ns);
      run("ip link set " + host + " master " + bridge_ + " up");
      run("ip -n " + ns + " addr add " + address(i) + "/24 dev " + inner);
      run("ip -n " + ns + " link set " + inner + " up");
      run("ip -n " + ns + " link set lo up");
    }
  }
  void teardown() {
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
};

}  // namespace kv_test
