// libFuzzer target quorum_fuzz_codec: the reader driven by a sequence of
// operations chosen by the input, varint and frame decoding, each checked
// against the properties in codec_properties.hpp (a broken one aborts).
#include <cstddef>
#include <cstdint>

#include "codec_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  quorum::fuzz::check_codec(data, size);
  return 0;
}
