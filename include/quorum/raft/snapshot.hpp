// A Raft snapshot image: the metadata (last included index and term, and the
// configuration in force there, §7) in front of the state machine's bytes,
// sealed by a CRC32C. The same bytes are saved in the SnapshotStore and sent
// to followers in chunks, so an image damaged on disk or on the wire is
// refused whole, never restored.
#pragma once

#include <cstdint>

#include "quorum/codec/crc32c.hpp"
#include "quorum/codec/endian.hpp"
#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/raft/configuration.hpp"

namespace quorum::raft {

struct snapshot_meta {
  log_index index{};         // the last entry the snapshot covers
  term_id term{};            // its term
  log_index config_index{};  // the entry that set `config` (0: the bootstrap one)
  raft::membership config;

  friend bool operator==(const snapshot_meta&, const snapshot_meta&) = default;
};

struct snapshot_image {
  snapshot_meta meta;
  byte_view data;  // the state machine's bytes, viewing the image
};

inline constexpr std::uint8_t snapshot_version = 1;

// Layout: u8 version, varints index term config_index, varint length and the
// configuration, then the state machine's bytes, then u32 CRC32C (little
// endian) of everything before it. Clears out and writes the header; the
// state machine appends its bytes; seal_image() then appends the checksum.
inline void begin_image(const snapshot_meta& m, byte_buffer& out, byte_buffer& scratch) {
  out.clear();
  codec::writer w{out};
  w.u8(snapshot_version);
  w.varint(m.index.value());
  w.varint(m.term.value());
  w.varint(m.config_index.value());
  scratch.clear();
  encode(m.config, scratch);
  w.prefixed_bytes(scratch);
}

inline void seal_image(byte_buffer& out) {
  const std::uint32_t crc = codec::crc32c(byte_view{out});
  codec::writer{out}.u32(crc);
}

// Total: an image, or an error saying what is wrong with the bytes.
[[nodiscard]] inline result<snapshot_image> decode_image(byte_view b) {
  if (b.size() < 5) return fail(errc::truncated, "raft snapshot: shorter than its checksum", b.size());
  const byte_view body = b.first(b.size() - 4);
  if (codec::load_le32(b.data() + body.size()) != codec::crc32c(body))
    return fail(errc::checksum_mismatch, "raft snapshot: the image's checksum does not match");
  codec::reader r{body};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != snapshot_version) return fail(errc::malformed, "raft snapshot: unknown version", *version);
  std::uint64_t f[3];
  for (auto& v : f) {
    auto x = r.varint();
    if (!x) return unexpected{x.error()};
    v = *x;
  }
  auto config_bytes = r.prefixed_bytes(body.size());
  if (!config_bytes) return unexpected{config_bytes.error()};
  auto config = decode_membership(*config_bytes);
  if (!config) return unexpected{config.error()};
  snapshot_image img;
  img.meta.index = log_index{f[0]};
  img.meta.term = term_id{f[1]};
  img.meta.config_index = log_index{f[2]};
  img.meta.config = std::move(*config);
  if (img.meta.index == log_index{} || img.meta.term == term_id{} || img.meta.config_index > img.meta.index)
    return fail(errc::malformed, "raft snapshot: index, term or configuration index out of order");
  if (img.meta.term.value() > max_term) return fail(errc::malformed, "raft snapshot: term out of range", f[1]);
  img.data = r.rest();
  return img;
}

}  // namespace quorum::raft
