// A user's program: checks its own policy types against quorum's concepts at
// compile time and makes a trivial use of the library at run time.
#include <quorum/quorum.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

struct message {
  int payload{0};
};

struct user_transport {
  std::vector<quorum::node_id>* sent_to;
  void send(quorum::node_id to, const message&) const { sent_to->push_back(to); }
};

struct user_log {
  [[nodiscard]] quorum::log_index first_index() const { return quorum::log_index{1}; }
  [[nodiscard]] quorum::log_index last_index() const { return quorum::log_index{count}; }
  quorum::result<quorum::log_index> append(quorum::byte_view) { return quorum::log_index{++count}; }
  quorum::result<quorum::byte_view> read(quorum::log_index) {
    return quorum::fail(quorum::errc::out_of_range);
  }
  quorum::result<void> truncate(quorum::log_index) { return {}; }
  quorum::result<void> compact(quorum::log_index) { return {}; }
  quorum::result<void> save_state(quorum::byte_view) { return {}; }
  [[nodiscard]] quorum::byte_view state() const { return {}; }
  quorum::result<void> sync() { return {}; }
  std::uint64_t count{0};
};

static_assert(quorum::check_clock<std::chrono::steady_clock>());
static_assert(quorum::check_transport<user_transport, message>());
static_assert(quorum::check_log<user_log>());

}  // namespace

int main() {
  int failures = 0;
  auto expect = [&failures](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "FAILED: %s\n", what);
      ++failures;
    }
  };

#ifdef QUORUM_EXPECTED_VERSION_STRING
  expect(std::strcmp(QUORUM_VERSION_STRING, QUORUM_EXPECTED_VERSION_STRING) == 0,
         "the headers' version is the package's version");
#endif

  std::vector<quorum::node_id> sent_to;
  user_transport transport{&sent_to};
  transport.send(quorum::node_id{2}, message{});
  expect(sent_to.size() == 1 && sent_to[0] == quorum::node_id{2}, "the transport was called");

  user_log log;
  const auto at = log.append(quorum::as_bytes("x"));
  expect(at.has_value() && at.value() == quorum::log_index{1}, "append lands at index 1");
  expect(!log.read(quorum::log_index{1}).has_value(), "read reports an error value");

  quorum::seeded_random a{7};
  quorum::seeded_random b{7};
  expect(a() == b(), "the same seed gives the same stream");
  expect(a.below(10) < 10, "below() stays below its bound");

  if (failures != 0) return 1;
  std::printf("quorum %s consumed: ok\n", QUORUM_VERSION_STRING);
  return 0;
}
