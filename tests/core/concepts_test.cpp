// The policy concepts: the standard steady clock models Clock as it is, small
// user types model Transport and Log, near misses do not, and an empty policy
// stored with [[no_unique_address]] costs zero bytes (DESIGN.md principle 3).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "quorum/core/concepts.hpp"

namespace {

using quorum::byte_view;
using quorum::log_index;
using quorum::node_id;
using quorum::result;

// --- Clock -----------------------------------------------------------------

struct manual_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock, duration>;
  [[nodiscard]] time_point now() const noexcept { return current; }
  time_point current{};
};

struct clock_without_now {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<clock_without_now, duration>;
};

struct clock_with_wrong_now {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<clock_with_wrong_now, duration>;
  [[nodiscard]] std::int64_t now() const noexcept { return 0; }  // a raw count is not a time_point
};

static_assert(quorum::Clock<std::chrono::steady_clock>);
static_assert(quorum::check_clock<std::chrono::steady_clock>());
static_assert(quorum::Clock<std::chrono::system_clock>);
static_assert(quorum::Clock<manual_clock>);
static_assert(quorum::check_clock<manual_clock>());
static_assert(!quorum::Clock<clock_without_now>);
static_assert(!quorum::Clock<clock_with_wrong_now>);
static_assert(!quorum::Clock<int>);

// --- Transport ---------------------------------------------------------------

struct ping {
  std::uint64_t sequence{0};
};
struct pong {};

struct recording_transport {
  void send(node_id to, const ping& m) { sent.emplace_back(to, m.sequence); }
  std::vector<std::pair<node_id, std::uint64_t>> sent;
};

// A handle over something shared: the shape DESIGN.md recommends for policies
// that cannot be copied.
struct transport_handle {
  recording_transport* target;
  void send(node_id to, const ping& m) const { target->send(to, m); }
};

// Accepting any message is fine too: a transport that encodes generically.
struct counting_transport {
  template <class Message>
  void send(node_id, const Message&) noexcept {
    ++count;
  }
  std::uint64_t count{0};
};

struct transport_to_uint {
  void send(std::uint64_t, const ping&) {}  // takes a raw integer, not a node_id
};
struct transport_send_is_mutating_message {
  void send(node_id, ping&) {}  // would let the transport change the protocol's message
};

static_assert(quorum::Transport<recording_transport, ping>);
static_assert(quorum::check_transport<recording_transport, ping>());
static_assert(quorum::Transport<transport_handle, ping>);
static_assert(quorum::Transport<counting_transport, ping>);
static_assert(quorum::Transport<counting_transport, pong>);
static_assert(!quorum::Transport<recording_transport, pong>);
static_assert(!quorum::Transport<transport_to_uint, ping>);
static_assert(!quorum::Transport<transport_send_is_mutating_message, ping>);

// --- Log ---------------------------------------------------------------------

// A user's minimal in-memory log: enough to model the concept and to be driven
// through it below.
class vector_log {
 public:
  [[nodiscard]] log_index first_index() const { return first_; }
  [[nodiscard]] log_index last_index() const { return first_ + records_.size() - 1; }
  result<log_index> append(byte_view b) {
    records_.emplace_back(b.begin(), b.end());
    return last_index();
  }
  result<byte_view> read(log_index i) {
    if (i < first_ || i > last_index()) return quorum::fail(quorum::errc::out_of_range, "", i.value());
    return byte_view{records_[i - first_]};
  }
  result<void> truncate(log_index i) {
    records_.resize(i - first_);
    return {};
  }
  result<void> compact(log_index i) {
    records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(i - first_));
    first_ = i;
    return {};
  }
  result<void> save_state(byte_view b) {
    state_.assign(b.begin(), b.end());
    return {};
  }
  [[nodiscard]] byte_view state() const { return state_; }
  result<void> sync() {
    ++syncs;
    return {};
  }
  int syncs{0};

 private:
  log_index first_{1};
  std::vector<quorum::byte_buffer> records_;
  quorum::byte_buffer state_;
};

struct log_without_sync {
  [[nodiscard]] log_index first_index() const;
  [[nodiscard]] log_index last_index() const;
  result<log_index> append(byte_view);
  result<byte_view> read(log_index);
  result<void> truncate(log_index);
  result<void> compact(log_index);
  result<void> save_state(byte_view);
  [[nodiscard]] byte_view state() const;
};

struct log_with_mutable_bounds {  // bounds must be readable through a const log
  log_index first_index();
  log_index last_index();
  result<log_index> append(byte_view);
  result<byte_view> read(log_index);
  result<void> truncate(log_index);
  result<void> compact(log_index);
  result<void> save_state(byte_view);
  [[nodiscard]] byte_view state() const;
  result<void> sync();
};

struct log_append_unchecked {  // append must be able to report errc::too_large
  [[nodiscard]] log_index first_index() const;
  [[nodiscard]] log_index last_index() const;
  log_index append(byte_view);
  result<byte_view> read(log_index);
  result<void> truncate(log_index);
  result<void> compact(log_index);
  result<void> save_state(byte_view);
  [[nodiscard]] byte_view state() const;
  result<void> sync();
};

static_assert(quorum::Log<vector_log>);
static_assert(quorum::check_log<vector_log>());
static_assert(!quorum::Log<log_without_sync>);
static_assert(!quorum::Log<log_with_mutable_bounds>);
static_assert(!quorum::Log<log_append_unchecked>);

// Generic code written only against the concept's expressions.
template <quorum::Log L>
result<log_index> append_all_and_sync(L& log, const std::vector<std::string>& records) {
  log_index last{};
  for (const auto& r : records) {
    auto at = log.append(quorum::as_bytes(r));
    if (!at) return quorum::unexpected{at.error()};
    last = at.value();
  }
  QUORUM_TRY(log.sync());
  return last;
}

// --- zero-size policies ------------------------------------------------------

struct empty_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<empty_clock, duration>;
  [[nodiscard]] time_point now() const noexcept { return time_point{duration{1}}; }
};
struct empty_transport {
  void send(node_id, const ping&) noexcept {}
};
static_assert(quorum::Clock<empty_clock>);
static_assert(quorum::Transport<empty_transport, ping>);

// The way a protocol object stores its policies.
template <quorum::Clock C, quorum::Transport<ping> T>
struct policy_holder {
  [[no_unique_address]] C clock;
  [[no_unique_address]] T transport;
  std::uint64_t state{0};
};

struct clock_and_counter {
  [[no_unique_address]] empty_clock clock;
  std::uint64_t counter;
};
struct transport_and_counter {
  [[no_unique_address]] empty_transport transport;
  std::uint64_t counter;
};
struct counter_without_attribute {  // the control: without the attribute it costs
  empty_clock clock;
  std::uint64_t counter;
};

static_assert(std::is_empty_v<std::chrono::steady_clock>);
static_assert(sizeof(clock_and_counter) == sizeof(std::uint64_t));
static_assert(sizeof(transport_and_counter) == sizeof(std::uint64_t));
static_assert(sizeof(policy_holder<empty_clock, empty_transport>) == sizeof(std::uint64_t));
static_assert(sizeof(policy_holder<std::chrono::steady_clock, empty_transport>) ==
              sizeof(std::uint64_t));
static_assert(sizeof(counter_without_attribute) > sizeof(std::uint64_t));
// A handle policy costs exactly its own size, nothing more.
static_assert(sizeof(policy_holder<empty_clock, transport_handle>) ==
              sizeof(std::uint64_t) + sizeof(transport_handle));

}  // namespace

TEST_CASE("steady_clock is used through the Clock concept as it is") {
  std::chrono::steady_clock c;
  const auto a = c.now();
  const auto b = c.now();
  CHECK(!(b < a));  // never decreases
  const std::chrono::steady_clock::duration d = b - a;
  CHECK(d.count() >= 0);
  CHECK(a < a + std::chrono::seconds{1});
}

TEST_CASE("a manual clock moves only when told") {
  manual_clock c;
  const auto t0 = c.now();
  c.current += std::chrono::milliseconds{5};
  CHECK(c.now() - t0 == std::chrono::milliseconds{5});
  CHECK(c.now() == c.now());
}

TEST_CASE("transports receive what is sent directly or through a handle") {
  recording_transport net;
  transport_handle h{&net};
  h.send(node_id{2}, ping{7});
  net.send(node_id{3}, ping{8});
  REQUIRE(net.sent.size() == 2);
  CHECK(net.sent[0].first == node_id{2});
  CHECK(net.sent[0].second == 7);
  CHECK(net.sent[1].first == node_id{3});

  counting_transport counter;
  counter.send(node_id{1}, ping{});
  counter.send(node_id{1}, pong{});
  CHECK(counter.count == 2);
}

TEST_CASE("a user log is driven through the concept's expressions") {
  vector_log log;
  CHECK(log.first_index() == log_index{1});
  CHECK(log.last_index() == log_index{0});  // empty: last = first - 1

  auto last = append_all_and_sync(log, {"a", "bb", "ccc"});
  REQUIRE(last);
  CHECK(last.value() == log_index{3});
  CHECK(log.syncs == 1);  // one sync covers the group
  CHECK(quorum::as_chars(log.read(log_index{2}).value()) == "bb");
  CHECK(log.read(log_index{4}).error().code == quorum::errc::out_of_range);

  REQUIRE(log.truncate(log_index{3}));
  CHECK(log.last_index() == log_index{2});
  REQUIRE(log.compact(log_index{2}));
  CHECK(log.first_index() == log_index{2});
  CHECK(log.read(log_index{1}).error().code == quorum::errc::out_of_range);
  CHECK(quorum::as_chars(log.read(log_index{2}).value()) == "bb");

  REQUIRE(log.save_state(quorum::as_bytes("term=3")));
  CHECK(quorum::as_chars(std::as_const(log).state()) == "term=3");
}

TEST_CASE("empty policies add no bytes at run time either") {
  policy_holder<empty_clock, empty_transport> holder;
  holder.state = 41;
  holder.transport.send(node_id{1}, ping{});
  ++holder.state;
  CHECK(holder.state == 42);
  CHECK(holder.clock.now().time_since_epoch().count() == 1);
  std::vector<policy_holder<empty_clock, empty_transport>> many(1000);
  CHECK(reinterpret_cast<const char*>(&many[1]) - reinterpret_cast<const char*>(&many[0]) == 8);
}
