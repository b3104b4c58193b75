// A Raft log entry: its term, its kind and its bytes, and the record format
// it is stored under in the Log (entry i at position i). The same three fields
// travel inside append_entries messages (message.hpp), as views, never copies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum::raft {

// normal: a command for the StateMachine. noop: the entry a new leader
// appends so that it can commit its term (§5.4.2, §8); never handed to the
// application. config: reserved for membership change.
enum class entry_kind : std::uint8_t { normal = 0, noop = 1, config = 2 };

inline constexpr std::uint8_t max_entry_kind = 2;

struct entry_view {
  term_id term{};
  entry_kind kind{entry_kind::normal};
  byte_view data{};
};

// Record layout: u8 kind, varint term, then the data to the end of the record
// (the Log already delimits records, so no length prefix is needed).
inline void encode_entry_record(const entry_view& e, byte_buffer& out) {
  codec::writer w{out};
  w.u8(static_cast<std::uint8_t>(e.kind));
  w.varint(e.term.value());
  w.raw(e.data);
}

// Total: any record gives an entry (data viewing into the record) or an error.
[[nodiscard]] inline result<entry_view> decode_entry_record(byte_view record) noexcept {
  codec::reader r{record};
  auto kind = r.u8();
  if (!kind) return unexpected{kind.error()};
  if (*kind > max_entry_kind) return fail(errc::malformed, "raft entry: unknown kind", *kind);
  auto term = r.varint();
  if (!term) return unexpected{term.error()};
  if (*term == 0) return fail(errc::malformed, "raft entry: term 0 is before every term");
  return entry_view{term_id{*term}, static_cast<entry_kind>(*kind), r.rest()};
}

}  // namespace quorum::raft
