// result<T> and result<void>: values and errors, copies and moves between the
// two states (ASan checks nothing leaks or is freed twice), and QUORUM_TRY.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "quorum/core/result.hpp"

using quorum::errc;
using quorum::fail;
using quorum::result;

namespace {

struct no_default {
  explicit no_default(int v) : value{v} {}
  int value;
};

static_assert(std::is_default_constructible_v<result<int>>);
static_assert(!std::is_default_constructible_v<result<no_default>>);
static_assert(std::is_nothrow_move_constructible_v<result<std::string>>);
static_assert(std::is_move_constructible_v<result<std::unique_ptr<int>>>);
// A move-only value makes the result move-only, visibly to traits, not deep in a copy.
static_assert(!std::is_copy_constructible_v<result<std::unique_ptr<int>>>);
static_assert(!std::is_copy_assignable_v<result<std::unique_ptr<int>>>);
static_assert(std::is_same_v<result<int>::error_type, quorum::error>);
static_assert(std::is_same_v<result<void>::value_type, void>);

result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return fail(errc::malformed, "not a digit", static_cast<unsigned char>(c));
  return c - '0';
}

result<void> check_even(int v) {
  if (v % 2 != 0) return fail(errc::invalid_argument, "odd", static_cast<std::uint64_t>(v));
  return {};
}

int try_calls = 0;

// QUORUM_TRY returns early with the error and does not evaluate what follows.
result<std::string> describe(char c) {
  QUORUM_TRY(parse_digit(c));
  ++try_calls;
  QUORUM_TRY(check_even(c - '0'));
  ++try_calls;
  return std::string{"even digit "} + c;
}

result<void> validate_all(const char* s) {
  for (; *s != '\0'; ++s) QUORUM_TRY(parse_digit(*s));
  return {};
}

}  // namespace

TEST_CASE("result holds a value") {
  result<int> r = 42;
  REQUIRE(r.has_value());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == 42);
  CHECK(*r == 42);
  *r = 7;
  CHECK(r.value() == 7);
  CHECK(r.value_or(-1) == 7);

  result<std::string> s = std::string{"hello"};
  CHECK(s->size() == 5);
  CHECK(std::move(s).value() == "hello");

  result<int> d;
  REQUIRE(d.has_value());
  CHECK(d.value() == 0);
}

TEST_CASE("result holds an error") {
  result<int> r = fail(errc::too_large, "record over the limit", 1024);
  REQUIRE(!r.has_value());
  CHECK(!r);
  CHECK(r.error().code == errc::too_large);
  CHECK(r.error().detail == 1024);
  CHECK(std::string{r.error().what} == "record over the limit");
  CHECK(r.value_or(-1) == -1);
  CHECK(r.error().message() == "too large: record over the limit (1024)");
}

TEST_CASE("result copies and moves in both states") {
  const result<std::string> v = std::string(100, 'x');  // heap-allocated: ASan sees misuse
  const result<std::string> e = fail(errc::not_found);

  result<std::string> a = v;
  CHECK(a.value() == std::string(100, 'x'));
  CHECK(v.value() == std::string(100, 'x'));
  result<std::string> b = e;
  CHECK(b.error().code == errc::not_found);

  a = e;  // value -> error
  REQUIRE(!a);
  CHECK(a.error().code == errc::not_found);
  b = v;  // error -> value
  REQUIRE(b);
  CHECK(b.value() == std::string(100, 'x'));

  result<std::string> c = std::move(b);
  CHECK(c.value() == std::string(100, 'x'));
  c = result<std::string>{fail(errc::busy)};
  CHECK(c.error().code == errc::busy);
  c = result<std::string>{std::string(50, 'y')};
  CHECK(c.value() == std::string(50, 'y'));

  auto& self = c;
  c = self;  // self-assignment keeps the value
  CHECK(c.value() == std::string(50, 'y'));
}

TEST_CASE("result of a move-only type") {
  result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  result<std::unique_ptr<int>> moved = std::move(r);
  REQUIRE(moved);
  CHECK(**moved == 5);
  std::unique_ptr<int> owned = std::move(moved).value();
  CHECK(*owned == 5);
  result<std::unique_ptr<int>> e = fail(errc::io_error, "disk", 5);
  e = std::move(moved);
  CHECK(e.has_value());
}

TEST_CASE("result<void>") {
  result<void> ok;
  CHECK(ok.has_value());
  CHECK(static_cast<bool>(ok));
  ok.value();  // does not assert

  result<void> bad = fail(errc::checksum_mismatch, "record 3", 3);
  REQUIRE(!bad);
  CHECK(bad.error().code == errc::checksum_mismatch);
  CHECK(bad.error().detail == 3);

  result<void> copy = bad;
  CHECK(copy.error() == bad.error());
  copy = ok;
  CHECK(copy.has_value());
}

TEST_CASE("QUORUM_TRY propagates the first error and continues on success") {
  try_calls = 0;
  auto good = describe('4');
  REQUIRE(good);
  CHECK(good.value() == "even digit 4");
  CHECK(try_calls == 2);

  try_calls = 0;
  auto not_digit = describe('x');
  REQUIRE(!not_digit);
  CHECK(not_digit.error().code == errc::malformed);
  CHECK(not_digit.error().detail == static_cast<unsigned char>('x'));
  CHECK(try_calls == 0);

  try_calls = 0;
  auto odd = describe('7');
  REQUIRE(!odd);
  CHECK(odd.error().code == errc::invalid_argument);
  CHECK(odd.error().detail == 7);
  CHECK(try_calls == 1);

  CHECK(validate_all("0123456789").has_value());
  auto r = validate_all("12a4");
  REQUIRE(!r);
  CHECK(r.error().detail == static_cast<unsigned char>('a'));
}
