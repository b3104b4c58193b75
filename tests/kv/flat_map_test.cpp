// kv::flat_map, the store's table, against std::unordered_map as the model:
// insert, overwrite in place and with a larger value, erase with backward
// shift, growth, and long random mixes over small and large key sets.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>

#include "../../examples/kv/flat_map.hpp"

using kv::flat_map;

namespace {

// Every entry of m is in the model with the same value, and the sizes agree.
void check_same(const flat_map& m, const std::unordered_map<std::string, std::string>& model) {
  REQUIRE(m.size() == model.size());
  std::size_t seen = 0;
  m.for_each([&](std::string_view k, std::string_view v) {
    ++seen;
    const auto it = model.find(std::string{k});
    REQUIRE(it != model.end());
    CHECK(it->second == v);
  });
  CHECK(seen == model.size());
  for (const auto& [k, v] : model) {
    const auto found = m.find(k);
    REQUIRE(found);
    CHECK(*found == v);
  }
}

}  // namespace

TEST_CASE("an empty map finds nothing and erases nothing") {
  flat_map m;
  CHECK(m.empty());
  CHECK(!m.find("a"));
  CHECK(!m.contains(""));
  CHECK(!m.erase("a"));
  int calls = 0;
  m.for_each([&](std::string_view, std::string_view) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("insert, overwrite smaller and larger, erase") {
  flat_map m;
  CHECK(m.assign("key", "v"));
  CHECK(m.size() == 1);
  CHECK(*m.find("key") == "v");
  CHECK(!m.assign("key", "1234567"));
  CHECK(*m.find("key") == "1234567");
  CHECK(!m.assign("key", std::string(100, 'x')));  // a new block
  CHECK(*m.find("key") == std::string(100, 'x'));
  CHECK(!m.assign("key", ""));
  REQUIRE(m.find("key"));
  CHECK(m.find("key")->empty());
  CHECK(m.size() == 1);
  CHECK(m.assign("", "empty key"));
  CHECK(*m.find("") == "empty key");
  CHECK(m.erase("key"));
  CHECK(!m.erase("key"));
  CHECK(!m.find("key"));
  CHECK(m.size() == 1);
  CHECK(*m.find("") == "empty key");
}

TEST_CASE("a value may be assigned from a view of the stored value itself") {
  flat_map m;
  m.assign("k", "abcdefgh");
  m.assign("k", m.find("k")->substr(2));  // overlapping, in place
  CHECK(*m.find("k") == "cdefgh");
  m.assign("other", std::string(40, 'z'));
  m.assign("k", *m.find("other"));
  CHECK(*m.find("k") == std::string(40, 'z'));
}

TEST_CASE("entries move between the slot and a heap block as their size crosses 21 bytes") {
  flat_map m;
  const std::string k16 = "key:000000012345";
  CHECK(m.assign(k16, "xyz"));  // 19 bytes: in the slot
  CHECK(!m.assign(k16, "12345"));  // 21
  CHECK(*m.find(k16) == "12345");
  CHECK(!m.assign(k16, "123456"));  // 22: to a block
  CHECK(*m.find(k16) == "123456");
  CHECK(!m.assign(k16, "1234567890123"));  // fits the block's room (16)
  CHECK(*m.find(k16) == "1234567890123");
  CHECK(!m.assign(k16, "a"));  // stays in its block
  CHECK(*m.find(k16) == "a");
  const std::string k21(21, 'k'), k22(22, 'k');
  CHECK(m.assign(k21, ""));
  CHECK(m.assign(k22, ""));
  CHECK(m.find(k21)->empty());
  CHECK(m.find(k22)->empty());
  CHECK(!m.assign(k21, "v"));  // 22: to a block
  CHECK(*m.find(k21) == "v");
  CHECK(m.erase(k21));
  CHECK(m.erase(k22));
  CHECK(*m.find(k16) == "a");
  CHECK(m.size() == 1);
}

TEST_CASE("a value viewing another entry survives the growth its insert causes") {
  flat_map m;
  m.assign("src", "small value");
  for (int i = 0; m.size() < 12; ++i) m.assign("k" + std::to_string(i), "v");  // 12 of 16 slots: the next insert grows
  const std::string_view v = *m.find("src");  // in the slot, which growth moves
  CHECK(m.assign("new", v));
  CHECK(*m.find("new") == "small value");
  CHECK(*m.find("src") == "small value");
}

TEST_CASE("keys that differ only after a zero byte stay apart") {
  flat_map m;
  const std::string a{"a\0b", 3}, b{"a\0c", 3};
  m.assign(a, "1");
  m.assign(b, "2");
  CHECK(*m.find(a) == "1");
  CHECK(*m.find(b) == "2");
  CHECK(!m.find("a"));
}

TEST_CASE("growth keeps every entry, through many keys") {
  flat_map m;
  std::unordered_map<std::string, std::string> model;
  for (int i = 0; i < 100000; ++i) {
    const std::string k = "key:" + std::to_string(i * 7919);
    CHECK(m.assign(k, std::to_string(i)) == model.insert_or_assign(k, std::to_string(i)).second);
  }
  check_same(m, model);
  for (int i = 0; i < 100000; i += 2) {
    const std::string k = "key:" + std::to_string(i * 7919);
    CHECK(m.erase(k));
    model.erase(k);
  }
  check_same(m, model);
}

TEST_CASE("random mixes of assign and erase agree with std::unordered_map") {
  for (const std::uint32_t keys : {8u, 64u, 5000u}) {
    CAPTURE(keys);
    std::mt19937 rng{keys};
    flat_map m;
    std::unordered_map<std::string, std::string> model;
    for (int step = 0; step < 60000; ++step) {
      const std::string k = "k" + std::to_string(rng() % keys);
      switch (rng() % 4) {
        case 0: {
          CHECK(m.erase(k) == (model.erase(k) == 1));
          break;
        }
        case 1: {
          const auto f = m.find(k);
          const auto it = model.find(k);
          REQUIRE(f.has_value() == (it != model.end()));
          if (f) CHECK(*f == it->second);
          break;
        }
        default: {
          const std::string v(rng() % 40, static_cast<char>('a' + rng() % 26));
          CHECK(m.assign(k, v) == model.insert_or_assign(k, v).second);
        }
      }
    }
    check_same(m, model);
  }
}

TEST_CASE("move hands over every entry and clear empties") {
  flat_map m;
  for (int i = 0; i < 100; ++i) m.assign(std::to_string(i), std::to_string(i * i));
  flat_map n{std::move(m)};
  CHECK(n.size() == 100);
  CHECK(*n.find("9") == "81");
  flat_map o;
  o.assign("x", "y");
  o = std::move(n);
  CHECK(o.size() == 100);
  CHECK(!o.find("x"));
  o.clear();
  CHECK(o.empty());
  CHECK(!o.find("9"));
  o.assign("again", "1");
  CHECK(*o.find("again") == "1");
}
