// The key-value state every replica holds, and the commands that reach it:
// which are reads, writes or local; the log entry a write travels in (a tag
// that names the request, then the arguments); applying an entry; serving a
// read; and the snapshot image. Deterministic: same entries, same state.
#pragma once

#include <charconv>
#include <cstring>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <quorum/codec/endian.hpp>
#include <quorum/codec/reader.hpp>
#include <quorum/codec/varint.hpp>
#include <quorum/codec/writer.hpp>
#include <quorum/core/bytes.hpp>
#include <quorum/core/result.hpp>

#include "flat_map.hpp"
#include "resp.hpp"

namespace kv {

enum class command_kind { local, read, write };

struct command_info {
  command_kind kind;
  int arity;  // as Redis counts it: n exactly, or -n for at least n (the name included)
};

// At most this much of a client's argument is echoed in an error (as Redis:
// a 512 KiB command name gets a short error, not a 512 KiB one).
inline constexpr std::size_t max_echoed_bytes = 128;
inline std::string echoed(std::string_view arg) { return std::string{arg.substr(0, max_echoed_bytes)}; }

// Upper-cases args[0] in place and looks it up; an error reply text when
// unknown or the arity is wrong (for resp::error, which keeps it one line).
inline quorum::result<command_info, std::string> classify(std::vector<std::string>& args) {
  for (char& c : args[0])
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  const std::string& name = args[0];
  std::optional<command_info> info;
  switch (name.size()) {  // by length first: one comparison for the common commands
    case 3:
      if (name == "SET") info = {command_kind::write, 3};
      else if (name == "GET") info = {command_kind::read, 2};
      else if (name == "DEL") info = {command_kind::write, -2};
      break;
    case 4:
      if (name == "PING") info = {command_kind::local, -1};
      else if (name == "INFO") info = {command_kind::local, -1};
      else if (name == "MGET") info = {command_kind::read, -2};
      else if (name == "INCR") info = {command_kind::write, 2};
      break;
    case 6:
      if (name == "EXISTS") info = {command_kind::read, -2};
      break;
    case 7:
      if (name == "COMMAND") info = {command_kind::local, -1};  // redis-cli asks at start
      break;
    default: break;
  }
  if (!info) return quorum::unexpected<std::string>{"ERR unknown command '" + echoed(name) + "'"};
  const auto n = static_cast<int>(args.size());
  // Redis's SET takes options after the value; none is replicated here, and
  // a client that sends one (a lock's NX PX, say) must learn that, not that it miscounted.
  if (name == "SET" && n > 3)
    return quorum::unexpected<std::string>{"ERR syntax error: SET options (" + echoed(args[3]) +
                                           ") are not supported; SET takes a key and a value"};
  if ((info->arity > 0 && n != info->arity) || (info->arity < 0 && n < -info->arity)) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return quorum::unexpected<std::string>{"ERR wrong number of arguments for '" + lower + "' command"};
  }
  return *info;
}

// A write's log entry: u64 tag (who asked: unique per request of a server
// incarnation), varint count, then the arguments, length-prefixed.
// The codec writer's u64, varint and prefixed_string, laid out after one
// resize of out for the whole entry (the writer grows the buffer per field:
// four times for a SET, most of encoding's cost on a leader's profile).
inline void encode_write(std::uint64_t tag, std::span<const std::string> args, quorum::byte_buffer& out) {
  std::size_t size = 8 + quorum::codec::varint_size(args.size());
  for (const std::string& a : args) size += quorum::codec::varint_size(a.size()) + a.size();
  const std::size_t at = out.size();
  out.resize(at + size);
  std::byte* p = out.data() + at;
  quorum::codec::store_le64(p, tag);
  p += 8;
  p += quorum::codec::encode_varint(args.size(), p);
  for (const std::string& a : args) {
    p += quorum::codec::encode_varint(a.size(), p);
    if (!a.empty()) std::memcpy(p, a.data(), a.size());
    p += a.size();
  }
}

struct decoded_write {
  std::uint64_t tag = 0;
  std::vector<std::string_view> args;  // views into the entry
};

// Decodes into d, reusing d.args's storage (a replica decodes every entry into one).
inline quorum::result<void> decode_write(quorum::byte_view entry, decoded_write& d) {
  quorum::codec::reader r{entry};
  d.args.clear();
  const auto tag = r.u64();
  if (!tag) return quorum::unexpected{tag.error()};
  d.tag = *tag;
  const auto n = r.count(resp::limits{}.max_args);
  if (!n) return quorum::unexpected{n.error()};
  for (std::size_t i = 0; i < *n; ++i) {
    const auto a = r.prefixed_string(entry.size());
    if (!a) return quorum::unexpected{a.error()};
    d.args.push_back(*a);
  }
  return r.expect_end();
}

inline quorum::result<decoded_write> decode_write(quorum::byte_view entry) {
  decoded_write d;
  QUORUM_TRY(decode_write(entry, d));
  return d;
}

// The first key a write's entry names (its second argument), read without
// decoding the rest: what a prefetch hint loads. Nothing when malformed.
inline std::optional<std::string_view> first_key(quorum::byte_view entry) noexcept {
  quorum::codec::reader r{entry};
  if (!r.u64()) return std::nullopt;
  const auto n = r.count(resp::limits{}.max_args);
  if (!n || *n < 2 || !r.prefixed_string(entry.size())) return std::nullopt;
  const auto key = r.prefixed_string(entry.size());
  if (!key) return std::nullopt;
  return *key;
}

// Redis's integer rule for INCR: optional '-', no '+', no leading zeros, fits 64 bits.
inline std::optional<long long> parse_strict_integer(std::string_view s) {
  if (s.empty() || s.size() > 20 || s == "-" || s.front() == '+') return std::nullopt;
  const std::string_view digits = s.front() == '-' ? s.substr(1) : s;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  if (s == "-0") return std::nullopt;
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The most value bytes one MGET reply may hold: 4,095 names of one 512 KiB
// value would otherwise make a 20 KiB request build a 2 GiB reply.
inline constexpr std::size_t default_max_reply_bytes = std::size_t{64} << 20;

class store {
 public:
  store() = default;
  explicit store(std::size_t max_reply_bytes) noexcept : max_reply_bytes_{max_reply_bytes} {}

  // Applies a committed write; returns its RESP reply.
  std::string apply(std::span<const std::string_view> args) {
    std::string out;
    if (args.empty()) {
      resp::error(out, "ERR empty command in the log");
      return out;
    }
    const std::string_view name = args[0];
    if (name == "SET" && args.size() == 3) {
      data_.assign(args[1], args[2]);
      resp::simple(out, "OK");
    } else if (name == "DEL" && args.size() >= 2) {
      long long removed = 0;
      for (std::size_t i = 1; i < args.size(); ++i) removed += data_.erase(args[i]) ? 1 : 0;
      resp::integer(out, removed);
    } else if (name == "INCR" && args.size() == 2) {
      incr(args[1], out);
    } else {
      resp::error(out, "ERR not a write command");
    }
    return out;
  }

  // Serves a read from the state as it is now; returns its RESP reply.
  [[nodiscard]] std::string read(std::span<const std::string> args) const {
    std::string out;
    const std::string& name = args[0];
    if (name == "GET") {
      const auto v = data_.find(args[1]);
      if (!v) resp::null_bulk(out);
      else resp::bulk(out, *v);
    } else if (name == "MGET") {
      std::size_t bytes = 0;
      for (std::size_t i = 1; i < args.size(); ++i)
        if (const auto v = data_.find(args[i])) bytes += v->size();
      if (bytes > max_reply_bytes_) {
        resp::error(out, "ERR MGET would reply with " + std::to_string(bytes) + " bytes of values, over the limit of " +
                             std::to_string(max_reply_bytes_) + "; ask for fewer keys");
        return out;
      }
      resp::array_header(out, args.size() - 1);
      for (std::size_t i = 1; i < args.size(); ++i) {
        const auto v = data_.find(args[i]);
        if (!v) resp::null_bulk(out);
        else resp::bulk(out, *v);
      }
    } else if (name == "EXISTS") {
      long long n = 0;
      for (std::size_t i = 1; i < args.size(); ++i) n += data_.contains(args[i]) ? 1 : 0;
      resp::integer(out, n);
    } else {
      resp::error(out, "ERR not a read command");
    }
    return out;
  }

  // Image: varint count, then key and value, each length-prefixed.
  void snapshot(quorum::byte_buffer& out) const {
    quorum::codec::writer w{out};
    w.varint(data_.size());
    data_.for_each([&](std::string_view k, std::string_view v) {
      w.prefixed_string(k);
      w.prefixed_string(v);
    });
  }

  // Replaces the state; on a malformed image the state is left as it was.
  quorum::result<void> restore(quorum::byte_view image) {
    quorum::codec::reader r{image};
    const auto n = r.count(image.size());  // each pair takes at least 2 bytes: bounded by the image
    if (!n) return quorum::unexpected{n.error()};
    flat_map next;
    for (std::size_t i = 0; i < *n; ++i) {
      const auto k = r.prefixed_string(image.size());
      if (!k) return quorum::unexpected{k.error()};
      const auto v = r.prefixed_string(image.size());
      if (!v) return quorum::unexpected{v.error()};
      next.assign(*k, *v);
    }
    QUORUM_TRY(r.expect_end());
    data_ = std::move(next);
    return {};
  }

  [[nodiscard]] std::size_t size() const noexcept { return data_.size(); }
  // Starts loading the table slot where key lives, for an apply or read of it soon after.
  void prefetch(std::string_view key) const noexcept { data_.prefetch(key); }

 private:
  void incr(std::string_view key, std::string& out) {
    const auto old = data_.find(key);
    long long v = 0;
    if (old) {
      const auto parsed = parse_strict_integer(*old);
      if (!parsed) {
        resp::error(out, "ERR value is not an integer or out of range");
        return;
      }
      v = *parsed;
    }
    if (v == std::numeric_limits<long long>::max()) {
      resp::error(out, "ERR increment or decrement would overflow");
      return;
    }
    ++v;
    data_.assign(key, std::to_string(v));
    resp::integer(out, v);
  }

  flat_map data_;
  std::size_t max_reply_bytes_ = default_max_reply_bytes;
};

}  // namespace kv
