// error::message() and to_string(errc): what a user or an operator reads.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "quorum/core/error.hpp"

using quorum::errc;
using quorum::error;

TEST_CASE("error::message joins code and explanation and detail") {
  CHECK(error{errc::truncated, "the bytes end before the value", 12}.message() ==
        "truncated: the bytes end before the value (12)");
  CHECK(error{errc::corrupt_log, "bad record", 4096}.message() == "corrupt log: bad record (4096)");
}

TEST_CASE("error::message leaves out what is not there") {
  CHECK(error{errc::busy, "", 0}.message() == "busy");
  CHECK(error{errc::busy, nullptr, 0}.message() == "busy");
  CHECK(error{errc::not_leader, "", 3}.message() == "not leader (3)");
  CHECK(error{errc::timeout, "no quorum", 0}.message() == "timeout: no quorum");
}

TEST_CASE("every errc has its own name") {
  std::set<std::string> names;
  const auto first = static_cast<int>(errc::truncated);
  const auto last = static_cast<int>(errc::not_found);
  for (int c = first; c <= last; ++c) {
    const std::string name = quorum::to_string(static_cast<errc>(c));
    CHECK(name != "unknown error");
    CHECK(!name.empty());
    names.insert(name);
  }
  CHECK(names.size() == static_cast<std::size_t>(last - first + 1));
  // A value from a newer peer or a corrupt byte still prints something.
  CHECK(std::string{quorum::to_string(static_cast<errc>(200))} == "unknown error");
}

TEST_CASE("errors compare by code and detail but not by wording") {
  CHECK(error{errc::stale, "old term", 4} == error{errc::stale, "other words", 4});
  CHECK(error{errc::stale, "x", 4} != error{errc::stale, "x", 5});
  CHECK(error{errc::stale, "x", 4} != error{errc::busy, "x", 4});
}
