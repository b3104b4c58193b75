// jump_hash: Guava's published vectors, the bad-bucket error, balance, and the
// defining property that growing n -> n+1 moves only keys that land on the new bucket.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/jump.hpp"

using namespace quorum::hashing;

TEST_CASE("jump_hash: Guava's vectors for keys 0..19 with 100 buckets") {
  constexpr std::array<std::int32_t, 20> want{0,  55, 62, 8,  45, 59, 86, 97, 82, 59,
                                              73, 37, 17, 56, 86, 21, 90, 37, 38, 83};
  for (std::uint64_t key = 0; key < want.size(); ++key) CHECK(jump_hash(key, 100) == want[key]);
}

TEST_CASE("jump_hash: Guava's large-key and many-bucket vectors") {
  CHECK(jump_hash(std::uint64_t{10863919174838991ULL}, 11) == 6);
  CHECK(jump_hash(std::uint64_t{2016238256797177309ULL}, 11) == 3);
  CHECK(jump_hash(std::uint64_t{1673758223894951030ULL}, 11) == 5);
  CHECK(jump_hash(std::uint64_t{2}, 100001) == 80343);
  CHECK(jump_hash(std::uint64_t{2201}, 100001) == 22152);
  CHECK(jump_hash(std::uint64_t{2202}, 100001) == 15018);
  static_assert(jump_hash(std::uint64_t{2202}, 100001) == 15018);  // constexpr too
}

TEST_CASE("jump_hash: buckets <= 0 is an invalid_buckets error") {
  CHECK_THROWS_AS((void)jump_hash(std::uint64_t{1}, 0), invalid_buckets);
  CHECK_THROWS_AS((void)jump_hash(std::uint64_t{1}, -5), std::invalid_argument);
  CHECK_THROWS_WITH((void)jump_hash(std::uint64_t{1}, -5),
                    "jump_hash: buckets must be positive, got -5");
  CHECK(jump_hash(std::uint64_t{123456789}, 1) == 0);
}

TEST_CASE("jump_hash: string keys go through the hash policy") {
  const std::int32_t b = jump_hash(std::string_view{"user:42"}, 1000);
  CHECK(b == jump_hash(xxh64(std::string_view{"user:42"}), 1000));
  CHECK(jump_hash(std::string_view{"user:42"}, 1000, xxh64_hash{9}) ==
        jump_hash(xxh64(std::string_view{"user:42"}, 9), 1000));
}

TEST_CASE("jump_hash: growing by one bucket moves only keys onto the new bucket, about 1/(n+1)") {
  quorum::seeded_random rng{3};
  constexpr int keys = 100'000;
  for (std::int32_t n : {1, 10, 99}) {
    int moved = 0;
    int out_of_range = 0;
    int moved_elsewhere = 0;
    std::vector<int> load(static_cast<std::size_t>(n) + 1);
    for (int i = 0; i < keys; ++i) {
      const std::uint64_t key = rng();
      const std::int32_t before = jump_hash(key, n);
      const std::int32_t after = jump_hash(key, n + 1);
      out_of_range += before < 0 || before >= n;
      if (before != after) {
        moved_elsewhere += after != n;
        ++moved;
      }
      ++load[static_cast<std::size_t>(after)];
    }
    REQUIRE(out_of_range == 0);
    REQUIRE(moved_elsewhere == 0);
    const double ideal = static_cast<double>(keys) / (n + 1);
    CHECK(moved == doctest::Approx(ideal).epsilon(0.1));
    for (int l : load) CHECK(l == doctest::Approx(ideal).epsilon(0.15));
  }
}
