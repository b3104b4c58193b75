// The stage that holds a batch()'s proposals until they are journalled as
// one run: every value stays intact and in place as the buffer grows (its
// views move with it), and clear() keeps the room for the next batch.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "quorum/paxos/proposal_stage.hpp"

using namespace quorum;
using namespace quorum::paxos;

TEST_CASE("proposal stage: values survive the buffer growing, at consecutive slots and one ballot") {
  proposal_stage stage;
  const ballot b{7, node_id{2}};
  std::vector<std::string> commands;
  // Sizes across copy_bytes's cases (empty, under 16, 16-32, 33-64, larger),
  // and enough of them to grow the buffer past 4 KiB several times.
  for (std::size_t k = 0; k < 600; ++k) {
    const std::size_t size = (k * 37) % 150;
    std::string c(size, '\0');
    for (std::size_t i = 0; i < size; ++i) c[i] = static_cast<char>('a' + (k + i) % 26);
    commands.push_back(std::move(c));
    stage.add(log_index{100 + k}, b, as_bytes(commands.back()));
  }
  REQUIRE(stage.size() == commands.size());
  std::size_t bytes = 0;
  for (const std::string& c : commands) bytes += c.size();
  CHECK(stage.bytes() == bytes);
  const auto es = stage.entries();
  for (std::size_t k = 0; k < es.size(); ++k) {
    CHECK(es[k].slot == log_index{100 + k});
    CHECK(es[k].bal == b);
    CHECK(es[k].kind == entry_kind::normal);
    CHECK(std::string(as_chars(es[k].data)) == commands[k]);
  }
  // Back to back: one copy moves the whole batch into a record.
  for (std::size_t k = 1; k < es.size(); ++k)
    if (!es[k].data.empty() && !es[k - 1].data.empty())
      CHECK(es[k].data.data() == es[k - 1].data.data() + es[k - 1].data.size());

  stage.clear();
  CHECK(stage.empty());
  CHECK(stage.bytes() == 0);
  stage.add(log_index{1}, b, as_bytes(std::string{"again"}));
  REQUIRE(stage.size() == 1);
  CHECK(std::string(as_chars(stage.entries()[0].data)) == "again");
}
