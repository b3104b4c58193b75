// What quorum-kv servers say to each other over the peer connections: every
// frame starts with a channel byte. Channel 1 carries the protocol's own
// messages; 2 and 3 let a follower hand a client's command to the leader and
// get the reply back; 4 and 5 let it ask the leader for a read index (one for
// a turn's reads) and serve the reads itself once it has applied that far.
// Decoding is total and bounded like the RESP parser.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <quorum/codec/reader.hpp>
#include <quorum/codec/writer.hpp>
#include <quorum/core/bytes.hpp>
#include <quorum/core/ids.hpp>
#include <quorum/core/result.hpp>

#include "resp.hpp"

namespace kv::wire {

enum class channel : std::uint8_t {
  protocol = 1,
  forward = 2,
  forward_reply = 3,
  read_index = 4,
  read_index_reply = 5
};

// A client's command that a follower hands to the leader; the reply goes to `origin`.
struct forward {
  quorum::node_id origin;
  std::uint64_t id = 0;  // the origin's number for it
  std::vector<std::string> args;
};

struct forward_reply {
  std::uint64_t id = 0;
  std::string reply;  // RESP, as the client will read it
};

// A follower asks the leader for an index its reads may be served at.
struct read_index {
  quorum::node_id origin;
  std::uint64_t id = 0;  // the origin's number for its group of reads
};

// The leader's answer: an index every read asked before the request may be
// served at once applied (as linearizable), or a RESP error for the clients.
struct read_index_reply {
  std::uint64_t id = 0;
  bool ok = false;
  quorum::log_index index{};
  std::string error;  // when !ok
};

inline void put_channel(quorum::byte_buffer& out, channel c) { out.push_back(static_cast<std::byte>(c)); }

inline void encode(const forward& f, quorum::byte_buffer& out) {
  put_channel(out, channel::forward);
  quorum::codec::writer w{out};
  w.varint(f.origin.value());
  w.varint(f.id);
  w.varint(f.args.size());
  for (const std::string& a : f.args) w.prefixed_string(a);
}

inline void encode(const forward_reply& r, quorum::byte_buffer& out) {
  put_channel(out, channel::forward_reply);
  quorum::codec::writer w{out};
  w.varint(r.id);
  w.prefixed_string(r.reply);
}

inline void encode(const read_index& q, quorum::byte_buffer& out) {
  put_channel(out, channel::read_index);
  quorum::codec::writer w{out};
  w.varint(q.origin.value());
  w.varint(q.id);
}

inline void encode(const read_index_reply& r, quorum::byte_buffer& out) {
  put_channel(out, channel::read_index_reply);
  quorum::codec::writer w{out};
  w.varint(r.id);
  w.u8(r.ok ? 1 : 0);
  if (r.ok) w.varint(r.index.value());
  else w.prefixed_string(r.error);
}

// body: the frame after its channel byte. Decodes into f, whose argument
// strings keep their room from the last command decoded into it.
inline quorum::result<void> decode_forward(quorum::byte_view body, forward& f, const resp::limits& lim = {}) {
  quorum::codec::reader r{body};
  const auto origin = r.varint();
  if (!origin) return quorum::unexpected{origin.error()};
  f.origin = quorum::node_id{*origin};
  const auto id = r.varint();
  if (!id) return quorum::unexpected{id.error()};
  f.id = *id;
  const auto n = r.count(lim.max_args);
  if (!n) return quorum::unexpected{n.error()};
  if (*n == 0) return quorum::fail(quorum::errc::malformed, "forward: no command");
  f.args.resize(*n);
  std::size_t total = 0;
  for (std::string& arg : f.args) {
    const auto a = r.prefixed_string(lim.max_bulk_bytes);
    if (!a) return quorum::unexpected{a.error()};
    total += a->size();
    if (total > lim.max_command_bytes) return quorum::fail(quorum::errc::too_large, "forward: command too large");
    arg.assign(*a);
  }
  return r.expect_end();
}

inline quorum::result<forward> decode_forward(quorum::byte_view body, const resp::limits& lim = {}) {
  forward f;
  QUORUM_TRY(decode_forward(body, f, lim));
  return f;
}

inline quorum::result<forward_reply> decode_forward_reply(quorum::byte_view body) {
  quorum::codec::reader r{body};
  forward_reply f;
  const auto id = r.varint();
  if (!id) return quorum::unexpected{id.error()};
  f.id = *id;
  const auto reply = r.prefixed_string(body.size());
  if (!reply) return quorum::unexpected{reply.error()};
  f.reply = *reply;
  QUORUM_TRY(r.expect_end());
  return f;
}

inline quorum::result<read_index> decode_read_index(quorum::byte_view body) {
  quorum::codec::reader r{body};
  read_index q;
  const auto origin = r.varint();
  if (!origin) return quorum::unexpected{origin.error()};
  q.origin = quorum::node_id{*origin};
  const auto id = r.varint();
  if (!id) return quorum::unexpected{id.error()};
  q.id = *id;
  QUORUM_TRY(r.expect_end());
  return q;
}

inline quorum::result<read_index_reply> decode_read_index_reply(quorum::byte_view body) {
  quorum::codec::reader r{body};
  read_index_reply q;
  const auto id = r.varint();
  if (!id) return quorum::unexpected{id.error()};
  q.id = *id;
  const auto ok = r.u8();
  if (!ok) return quorum::unexpected{ok.error()};
  if (*ok > 1) return quorum::fail(quorum::errc::malformed, "read index reply: bad flag");
  q.ok = *ok == 1;
  if (q.ok) {
    const auto index = r.varint();
    if (!index) return quorum::unexpected{index.error()};
    q.index = quorum::log_index{*index};
  } else {
    const auto e = r.prefixed_string(body.size());
    if (!e) return quorum::unexpected{e.error()};
    q.error = *e;
  }
  QUORUM_TRY(r.expect_end());
  return q;
}

}  // namespace kv::wire
