// Strong ids: ordered like their integers, and never interchangeable with each
// other or with a raw integer (the reason they exist).
#include <doctest/doctest.h>

#include <concepts>
#include <cstdint>
#include <type_traits>
#include <unordered_set>

#include "quorum/core/ids.hpp"

namespace {

using quorum::ballot;
using quorum::log_index;
using quorum::node_id;
using quorum::term_id;

template <class A, class B>
concept can_compare_less = requires(const A& a, const B& b) { a < b; };
template <class A, class B>
concept can_add = requires(const A& a, const B& b) { a + b; };

// Distinct id types do not convert, compare or assign across.
static_assert(!std::is_convertible_v<term_id, log_index>);
static_assert(!std::is_convertible_v<log_index, term_id>);
static_assert(!std::is_convertible_v<node_id, term_id>);
static_assert(!std::is_constructible_v<term_id, log_index>);
static_assert(!std::is_constructible_v<node_id, term_id>);
static_assert(!std::is_assignable_v<term_id&, node_id>);
static_assert(!std::equality_comparable_with<term_id, log_index>);
static_assert(!std::equality_comparable_with<node_id, term_id>);
static_assert(!can_compare_less<term_id, log_index>);
static_assert(!can_compare_less<node_id, term_id>);
static_assert(!can_add<term_id, std::uint64_t>);  // only positions have arithmetic

// A raw integer needs an explicit construction and never compares implicitly.
static_assert(!std::is_convertible_v<std::uint64_t, node_id>);
static_assert(!std::is_convertible_v<std::uint64_t, log_index>);
static_assert(std::is_constructible_v<node_id, std::uint64_t>);
static_assert(!std::equality_comparable_with<node_id, std::uint64_t>);
static_assert(!can_compare_less<log_index, std::uint64_t>);

// Plain integers in memory.
static_assert(sizeof(node_id) == sizeof(std::uint64_t));
static_assert(sizeof(log_index) == sizeof(std::uint64_t));
static_assert(std::is_trivially_copyable_v<term_id>);
static_assert(std::is_trivially_copyable_v<log_index>);
static_assert(std::is_trivially_copyable_v<ballot>);
static_assert(std::totally_ordered<term_id>);
static_assert(std::totally_ordered<log_index>);
static_assert(std::totally_ordered<ballot>);

// Usable at compile time.
static_assert(log_index{3}.next() == log_index{4});
static_assert(term_id{2} > term_id{1});

}  // namespace

TEST_CASE("ids are zero by default and no_node is zero") {
  CHECK(node_id{}.value() == 0);
  CHECK(term_id{}.value() == 0);
  CHECK(log_index{}.value() == 0);
  CHECK(quorum::no_node == node_id{0});
  CHECK(node_id{7} != quorum::no_node);
}

TEST_CASE("ids order like their integers") {
  CHECK(term_id{1} < term_id{2});
  CHECK(term_id{2} <= term_id{2});
  CHECK(term_id{3} > term_id{2});
  CHECK(term_id{5} == term_id{5});
  CHECK((node_id{9} <=> node_id{4}) == std::strong_ordering::greater);
  CHECK(log_index{10} < log_index{11});
  CHECK(term_id{~std::uint64_t{0}} > term_id{0});
}

TEST_CASE("log_index arithmetic") {
  const log_index i{10};
  CHECK(i.next() == log_index{11});
  CHECK(i.prev() == log_index{9});
  CHECK(i + 5 == log_index{15});
  CHECK(i - 3 == log_index{7});
  CHECK(log_index{15} - log_index{10} == 5u);
  CHECK(i - i == 0u);
  CHECK(log_index{1}.prev() == log_index{0});
}

TEST_CASE("ballots order by round then by node") {
  const ballot a{1, node_id{2}};
  const ballot b{1, node_id{3}};
  const ballot c{2, node_id{1}};
  CHECK(a < b);
  CHECK(b < c);
  CHECK(a < c);
  CHECK(a == ballot{1, node_id{2}});
  CHECK(a != b);
  const ballot n = b.next_for(node_id{1});
  CHECK(n.round == 2);
  CHECK(n.node == node_id{1});
  CHECK(n > b);  // a proposer's next ballot beats the one it saw
  CHECK(ballot{} < a);
}

TEST_CASE("ids hash: usable as keys in unordered containers") {
  std::unordered_set<node_id> nodes{node_id{1}, node_id{2}, node_id{2}, node_id{3}};
  CHECK(nodes.size() == 3);
  CHECK(nodes.count(node_id{2}) == 1);
  CHECK(nodes.count(node_id{4}) == 0);

  std::unordered_set<log_index> positions;
  for (std::uint64_t i = 1; i <= 100; ++i) positions.insert(log_index{i});
  positions.insert(log_index{50});
  CHECK(positions.size() == 100);
  CHECK(positions.count(log_index{100}) == 1);
  CHECK(std::hash<term_id>{}(term_id{42}) == std::hash<term_id>{}(term_id{42}));
}
