// A Multi-Paxos snapshot image and the two ends of its transfer. The image is
// the state machine's bytes at a slot every slot up to which is chosen, with
// the slot and the journal position the owner's journal was kept from in
// front, with the configurations in force after the slot and those chosen
// but not in force yet, sealed by a CRC32C: the same bytes go to the
// SnapshotStore and, in chunks, to a peer, so damage on disk or on the wire is
// refused whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "quorum/codec/crc32c.hpp"
#include "quorum/codec/endian.hpp"
#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/config_history.hpp"

namespace quorum::paxos {

struct snapshot_meta {
  log_index slot{};          // every slot up to here is chosen and in the state
  log_index journal_from{};  // the owner's journal holds every record it still needs from here on
  // The configurations slots after `slot` need; empty in an image written
  // before reconfiguration existed (version 1): the bootstrap members hold.
  std::vector<stamped_configuration> configs{};
  friend bool operator==(const snapshot_meta&, const snapshot_meta&) = default;
};

struct snapshot_image {
  snapshot_meta meta;
  byte_view data;  // the state machine's bytes, viewing the image
};

inline constexpr std::uint8_t snapshot_version = 2;

// Layout: u8 version, varints slot and journal_from, the configurations
// (config_history.hpp; not in version 1), the state machine's bytes, u32
// CRC32C (little endian) of all before it. begin_image() clears
// out and writes the head, the state machine appends, seal_image() closes.
inline void begin_image(const snapshot_meta& m, byte_buffer& out) {
  out.clear();
  codec::writer w{out};
  w.u8(snapshot_version);
  w.varint(m.slot.value());
  w.varint(m.journal_from.value());
  encode_stamps(m.configs, out);
}

inline void seal_image(byte_buffer& out) {
  const std::uint32_t crc = codec::crc32c(byte_view{out});
  codec::writer{out}.u32(crc);
}

// Total: an image, or an error saying what is wrong with the bytes.
[[nodiscard]] inline result<snapshot_image> decode_image(byte_view b) {
  if (b.size() < 7) return fail(errc::truncated, "paxos snapshot: shorter than its head and checksum", b.size());
  const byte_view body = b.first(b.size() - 4);
  if (codec::load_le32(b.data() + body.size()) != codec::crc32c(body))
    return fail(errc::checksum_mismatch, "paxos snapshot: the image's checksum does not match");
  codec::reader r{body};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != 1 && *version != snapshot_version)
    return fail(errc::malformed, "paxos snapshot: unknown version", *version);
  auto slot = r.varint();
  if (!slot) return unexpected{slot.error()};
  auto from = r.varint();
  if (!from) return unexpected{from.error()};
  if (*slot == 0 || *from == 0) return fail(errc::malformed, "paxos snapshot: slot or journal position 0");
  snapshot_meta meta{log_index{*slot}, log_index{*from}};
  if (*version >= 2) {
    auto configs = decode_stamps(r, 1024);
    if (!configs) return unexpected{configs.error()};
    meta.configs = std::move(*configs);
  }
  return snapshot_image{std::move(meta), r.rest()};
}

// The receiving end: the chunks of one image, taken strictly in order into
// one buffer bounded by the caller's limit. A chunk that does not continue
// what is held is answered with where to resume.
class snapshot_receiver {
 public:
  enum class outcome : std::uint8_t { more, resume, complete, too_large };

  outcome accept(log_index slot, std::uint64_t offset, std::uint64_t total, byte_view data, std::size_t max_bytes) {
    if (total > max_bytes || total == 0) return outcome::too_large;
    if (slot != slot_ || total != total_) {
      clear();  // another image: only its first chunk starts it
      if (offset != 0) return outcome::resume;
      slot_ = slot;
      total_ = total;
    }
    if (offset != buffer_.size() || data.size() > total_ - offset) return outcome::resume;
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return buffer_.size() == total_ ? outcome::complete : outcome::more;
  }

  [[nodiscard]] std::uint64_t held() const noexcept { return buffer_.size(); }
  [[nodiscard]] byte_view image() const noexcept { return buffer_; }

  // Gives the memory back: images may be large.
  void clear() {
    byte_buffer{}.swap(buffer_);
    slot_ = log_index{};
    total_ = 0;
  }

 private:
  log_index slot_{};
  std::uint64_t total_{0};
  byte_buffer buffer_;
};

// The sending end, one per peer: which image, how far it was sent and how far
// the peer confirmed. At most a window of bytes is unconfirmed; a resume or a
// silent retransmit period sends again from what the peer confirmed.
struct snapshot_sender {
  log_index slot{};  // 0: no transfer
  std::uint64_t total{0};
  std::uint64_t next{0};
  std::uint64_t acked{0};
  bool progressed{false};  // an ack moved `acked` since the last retransmit period

  [[nodiscard]] bool active() const noexcept { return slot != log_index{}; }
  void start(log_index s, std::uint64_t size) { *this = snapshot_sender{s, size, 0, 0, true}; }
  void stop() { *this = snapshot_sender{}; }
};

}  // namespace quorum::paxos
