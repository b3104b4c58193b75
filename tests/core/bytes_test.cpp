// The byte vocabulary's helpers: views of text and back, and copy_bytes,
// whose fixed-size moves for 16 to 64 bytes overlap in the middle: every
// length around those bounds must copy exactly its bytes and touch nothing
// past them.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "quorum/core/bytes.hpp"

TEST_CASE("bytes: as_bytes and as_chars view the same characters") {
  const std::string s = "color=blue";
  const quorum::byte_view b = quorum::as_bytes(s);
  CHECK(b.size() == s.size());
  CHECK(quorum::as_chars(b) == s);
  CHECK(quorum::to_buffer(b).size() == s.size());
}

TEST_CASE("bytes: copy_bytes copies every length exactly and writes nothing past it") {
  for (const std::size_t n : std::vector<std::size_t>{0, 1, 7, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100, 4096}) {
    CAPTURE(n);
    std::vector<std::byte> in(n);
    for (std::size_t k = 0; k < n; ++k) in[k] = static_cast<std::byte>(k * 7 + 1);
    constexpr std::size_t guard = 32;
    std::vector<std::byte> out(guard + n + guard, std::byte{0xAB});
    quorum::copy_bytes(out.data() + guard, quorum::byte_view{in});
    for (std::size_t k = 0; k < guard; ++k) {
      CHECK(out[k] == std::byte{0xAB});
      CHECK(out[guard + n + k] == std::byte{0xAB});
    }
    CHECK(std::vector<std::byte>(out.begin() + guard, out.begin() + static_cast<std::ptrdiff_t>(guard + n)) == in);
  }
}
