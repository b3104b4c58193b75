// ketama_ring in libketama mode: RJ's libketama python test (hashi("test"),
// 320 points for two servers weighted 600/400, "test" on :11211) and its
// test.sh, whose MD5 over a million lookups pins every key, point and server.
#include <doctest/doctest.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "quorum/hashing/ketama.hpp"
#include "quorum/hashing/md5.hpp"

using namespace quorum::hashing;

namespace {

// libketama's ketama.servers.
ketama_ring<std::string> libketama_servers() {
  ketama_ring<std::string> ring{ketama_mode::libketama};
  ring.insert("10.0.1.1:11211", 600);
  ring.insert("10.0.1.2:11211", 300);
  ring.insert("10.0.1.3:11211", 200);
  ring.insert("10.0.1.4:11211", 350);
  ring.insert("10.0.1.5:11211", 1000);
  ring.insert("10.0.1.6:11211", 800);
  ring.insert("10.0.1.7:11211", 950);
  ring.insert("10.0.1.8:11211", 100);
  return ring;
}

void append_number(std::string& out, std::uint32_t v) {
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v);
  static_cast<void>(ec);  // 16 chars hold any uint32
  out.append(digits, end);
}

}  // namespace

TEST_CASE("ketama libketama: the python binding's test") {
  ketama_ring<std::string> ring{ketama_mode::libketama};
  ring.insert("127.0.0.1:11211", 600);
  ring.insert("127.0.0.1:11212", 400);
  CHECK(ring.hash_key("test") == 3446378249u);
  CHECK(ring.point_count() == 320);
  CHECK(ring.find("test") == "127.0.0.1:11211");
}

TEST_CASE("ketama libketama: test.sh - a million keys hash to the published MD5") {
  const auto ring = libketama_servers();
  // ketama_test prints "<key hash> <point> <server>" for keys "0".."999999"
  // after one empty line; test.sh compares the MD5 of that output.
  md5_context output;
  output.update("\n");
  std::string line;  // the output not yet hashed
  std::string key;
  for (std::uint32_t i = 0; i < 1'000'000; ++i) {
    key.clear();
    append_number(key, i);
    const std::uint32_t h = ring.hash_key(key);
    const ketama_point p = ring.point_for(h);
    append_number(line, h);
    line += ' ';
    append_number(line, p.value);
    line += ' ';
    line += ring.name_at(p.node);
    line += '\n';
    if (line.size() > 60'000) {  // hashed in chunks: whole blocks go through MD5 in place
      output.update(line);
      line.clear();
    }
  }
  output.update(line);
  const auto hex = to_hex(output.digest());
  CHECK(std::string_view{hex.data(), hex.size()} == "5672b131391f5aa2b280936aec1eea74");
}

TEST_CASE("ketama libketama: point strings always carry the port, unlike libmemcached's") {
  ketama_ring<std::string> ketama{ketama_mode::libketama};
  ketama_ring<std::string> memcached{ketama_mode::libmemcached};
  for (auto* ring : {&ketama, &memcached}) {
    ring->insert("10.0.1.1:11211", 600);
    ring->insert("10.0.1.2:11211", 300);
  }
  CHECK(ketama.point_count() == memcached.point_count());
  // The first point of 10.0.1.1 is word 0 of md5("10.0.1.1:11211-0") in
  // libketama and of md5("10.0.1.1-0") in libmemcached.
  const auto contains = [](const ketama_ring<std::string>& r, std::uint32_t v) {
    for (const std::uint32_t p : r.point_values())
      if (p == v) return true;
    return false;
  };
  CHECK(contains(ketama, md5_words("10.0.1.1:11211-0")[0]));
  CHECK(!contains(ketama, md5_words("10.0.1.1-0")[0]));
  CHECK(contains(memcached, md5_words("10.0.1.1-0")[0]));
  CHECK(!contains(memcached, md5_words("10.0.1.1:11211-0")[0]));
}
