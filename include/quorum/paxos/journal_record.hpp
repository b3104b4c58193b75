// The records of a Multi-Paxos journal (journal.hpp) and their encoding.
// Version 2: one record holds a run of consecutive slots accepted, or
// learned chosen, at one ballot, so that an accept of 64 slots costs one Log
// append. Version 1 holds one slot: still written for a run of one (it is
// smaller), and read, so a journal written before runs keeps working.
// Decoders are total.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/message.hpp"

namespace quorum::paxos {

enum class record_kind : std::uint8_t { accepted = 1, chosen = 2 };

// The first byte of a record: its kind in version 1 (1, 2), its kind plus
// run_tag_offset in version 2 (3, 4).
inline constexpr std::uint8_t run_tag_offset = 2;

// ---- version 1: one slot ----------------------------------------------------

// Layout: u8 record kind, varints slot round node, u8 entry kind, then the
// value to the end of the record (the Log delimits records). The journal
// still writes a run of one slot so: it is the smaller record.
inline constexpr std::size_t max_record_head_bytes = 2 + 3 * codec::max_varint_bytes;

// Writes everything before the value at out (room for max_record_head_bytes);
// returns its size. Encoded on the stack, so a write costs no buffer.
inline std::size_t encode_record_head(record_kind k, const entry& e, std::byte* out) noexcept {
  std::size_t n = 0;
  out[n++] = static_cast<std::byte>(k);
  n += codec::encode_varint(e.slot.value(), out + n);
  n += codec::encode_varint(e.bal.round, out + n);
  n += codec::encode_varint(e.bal.node.value(), out + n);
  out[n++] = static_cast<std::byte>(e.kind);
  return n;
}

inline void encode_record(record_kind k, const entry& e, byte_buffer& out) {
  std::byte head[max_record_head_bytes];
  const std::size_t n = encode_record_head(k, e, head);
  out.insert(out.end(), head, head + n);
  codec::writer{out}.raw(e.data);
}

// ---- version 2: a run -------------------------------------------------------

// Layout: u8 record kind + run_tag_offset, varints first-slot round node
// count, then per slot u8 entry kind and varint value length, then the values
// back to back. The heads come first so that the values, collected as they
// arrive, are handed to the Log as one piece.
inline constexpr std::size_t max_run_prefix_bytes = 1 + 4 * codec::max_varint_bytes;
inline constexpr std::size_t max_run_entry_head_bytes = 1 + codec::max_varint_bytes;

// One decoded record (either version): `count` slots from `first` at `bal`.
// Entries view the bytes it was decoded from.
class record_run {
 public:
  record_kind kind{record_kind::accepted};
  log_index first{};
  ballot bal{};
  std::size_t count{0};

  record_run() = default;
  record_run(record_kind k, log_index f, ballot b, std::size_t n, byte_view heads, byte_view values,
             entry_kind single) noexcept
      : kind{k}, first{f}, bal{b}, count{n}, heads_{heads}, values_{values}, single_{single} {}

  // Visits every entry in slot order.
  template <class F>
  void for_each(F&& f) const {
    if (heads_.empty()) return static_cast<void>(f(entry{first, bal, single_, values_}));
    std::size_t h = 0;
    std::size_t v = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const auto kind_byte = static_cast<entry_kind>(heads_[h++]);
      const codec::varint_parse p = codec::parse_varint(heads_.subspan(h));  // checked by decode_run
      h += p.size;
      const auto size = static_cast<std::size_t>(p.value);
      f(entry{first + k, bal, kind_byte, values_.subspan(v, size)});
      v += size;
    }
  }

  // The entry of slot first + k (k < count): a walk over the heads before it.
  [[nodiscard]] entry at(std::size_t k) const {
    entry out{};
    std::size_t i = 0;
    for_each([&](const entry& e) {
      if (i++ == k) out = e;
    });
    return out;
  }

 private:
  byte_view heads_{};  // version 2: the per-slot heads; empty for version 1
  byte_view values_{};
  entry_kind single_{entry_kind::normal};  // version 1: the one slot's kind
};

namespace detail {

// The varint at `at`, which moves past it; the error names the offset.
[[nodiscard]] inline result<std::uint64_t> read_varint(byte_view in, std::size_t& at) noexcept {
  const codec::varint_parse p = codec::parse_varint(in.subspan(at));
  if (!p.ok())
    return fail(p.code,
                p.code == errc::truncated ? "varint: input ends inside the value" : "varint: overlong or over 64 bits",
                at);
  at += p.size;
  return p.value;
}

[[nodiscard]] inline result<record_run> decode_single(byte_view in, record_kind k) noexcept {
  std::size_t at = 1;
  std::uint64_t f[3];
  for (auto& x : f) {
    auto v = read_varint(in, at);
    if (!v) return unexpected{v.error()};
    x = *v;
  }
  if (f[0] == 0 || f[0] > all_slots.value()) return fail(errc::malformed, "paxos record: slot out of range", f[0]);
  if (f[1] == 0) return fail(errc::malformed, "paxos record: ballot round 0");
  if (f[1] > ballot::max_round) return fail(errc::malformed, "paxos record: ballot round out of range", f[1]);
  if (at >= in.size()) return fail(errc::truncated, "u8: input ends", at);
  const auto kind = static_cast<std::uint8_t>(in[at]);
  if (kind > max_entry_kind) return fail(errc::malformed, "paxos record: unknown entry kind", kind);
  return record_run{k, log_index{f[0]}, ballot{f[1], node_id{f[2]}}, 1, {}, in.subspan(at + 1),
                    static_cast<entry_kind>(kind)};
}

[[nodiscard]] inline result<record_run> decode_run_v2(byte_view in, record_kind k) noexcept {
  std::size_t at = 1;
  std::uint64_t f[4];
  for (auto& x : f) {
    auto v = read_varint(in, at);
    if (!v) return unexpected{v.error()};
    x = *v;
  }
  if (f[0] == 0 || f[0] > all_slots.value()) return fail(errc::malformed, "paxos record: slot out of range", f[0]);
  if (f[1] == 0) return fail(errc::malformed, "paxos record: ballot round 0");
  if (f[1] > ballot::max_round) return fail(errc::malformed, "paxos record: ballot round out of range", f[1]);
  // Each slot's head takes at least two bytes: a larger count is a lie.
  if (f[3] == 0 || f[3] > (in.size() - at) / 2)
    return fail(errc::malformed, "paxos record: run count out of range", f[3]);
  if (f[3] - 1 > all_slots.value() - f[0]) return fail(errc::malformed, "paxos record: run past the last slot", f[0]);
  const std::size_t heads_begin = at;
  std::uint64_t values = 0;
  for (std::uint64_t n = 0; n < f[3]; ++n) {
    if (at >= in.size()) return fail(errc::truncated, "u8: input ends", at);
    const auto kind = static_cast<std::uint8_t>(in[at]);
    if (kind > max_entry_kind) return fail(errc::malformed, "paxos record: unknown entry kind", kind);
    ++at;
    auto length = read_varint(in, at);
    if (!length) return unexpected{length.error()};
    if (*length > in.size()) return fail(errc::malformed, "paxos record: value length past the record", at);
    values += *length;  // at most count * size, far from overflow
  }
  if (values != in.size() - at) return fail(errc::malformed, "paxos record: values do not match their lengths", at);
  return record_run{k, log_index{f[0]}, ballot{f[1], node_id{f[2]}}, static_cast<std::size_t>(f[3]),
                    in.subspan(heads_begin, at - heads_begin), in.subspan(at), entry_kind::normal};
}

}  // namespace detail

// Total: any bytes give a record of either version (its entries viewing
// `in`) or an error naming the offset or the bad value.
[[nodiscard]] inline result<record_run> decode_run(byte_view in) noexcept {
  if (in.empty()) return fail(errc::truncated, "u8: input ends", 0);
  const auto tag = static_cast<std::uint8_t>(in[0]);
  if (tag == 1 || tag == 2) return detail::decode_single(in, static_cast<record_kind>(tag));
  if (tag == 1 + run_tag_offset || tag == 2 + run_tag_offset)
    return detail::decode_run_v2(in, static_cast<record_kind>(tag - run_tag_offset));
  return fail(errc::malformed, "paxos record: unknown record kind", tag);
}

// Builds the head of a version-2 record entry by entry, in a buffer reused
// from one run to the next (its size is its capacity: a plain store into
// room made once is much cheaper than vector::insert per slot). add() does
// not copy the values: a journal over a Log that copies keeps them in its
// record cache, which holds the open run whole, and hands them to the Log
// from there. add_with_value() copies them here instead, back to back, for
// a journal over a Log whose records stay in place: its cache only views
// records once they are in the Log.
class run_builder {
 public:
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t count() const noexcept { return count_; }
  [[nodiscard]] record_kind kind() const noexcept { return kind_; }
  [[nodiscard]] log_index first() const noexcept { return first_; }
  // The record's size so far, without its prefix.
  [[nodiscard]] std::size_t bytes() const noexcept { return heads_end_ - max_run_prefix_bytes + values_bytes_; }

  // Whether e is the run's next slot, of its kind and ballot, and still fits in max_bytes.
  [[nodiscard]] bool extends(record_kind k, const entry& e, std::size_t max_bytes) const noexcept {
    return count_ != 0 && k == kind_ && e.bal == bal_ && e.slot == first_ + count_ &&
           bytes() + max_run_entry_head_bytes + e.data.size() <= max_bytes;
  }

  void start(record_kind k, const entry& e) noexcept {
    kind_ = k;
    first_ = e.slot;
    bal_ = e.bal;
    clear();
  }

  // Empties the run (sealed).
  void clear() noexcept {
    count_ = 0;
    heads_end_ = max_run_prefix_bytes;  // room for the prefix, written when the count is known
    values_bytes_ = 0;
  }

  void add(const entry& e) {
    if (heads_.size() - heads_end_ < max_run_entry_head_bytes) [[unlikely]]
      heads_.resize(std::max(heads_.size() * 2, heads_end_ + 64 * max_run_entry_head_bytes));
    std::byte* out = heads_.data() + heads_end_;
    const std::size_t size = e.data.size();
    out[0] = static_cast<std::byte>(e.kind);
    // A value under 128 bytes (a typical command) has a one-byte length.
    if (size < 0x80) [[likely]] {
      out[1] = static_cast<std::byte>(size);
      heads_end_ += 2;
    } else {
      heads_end_ += 1 + codec::encode_varint(size, out + 1);
    }
    values_bytes_ += size;
    ++count_;
  }

  // add(), and e's value is copied after those added so before: values()
  // views them all.
  void add_with_value(const entry& e) {
    const std::size_t size = e.data.size();
    if (values_.size() - values_bytes_ < size) [[unlikely]]
      values_.resize(std::max(values_.size() * 2, values_bytes_ + std::max<std::size_t>(size, 4096)));
    copy_bytes(values_.data() + values_bytes_, e.data);
    add(e);
  }

  // The values add_with_value() copied, back to back. Valid until the next add.
  [[nodiscard]] byte_view values() const noexcept { return byte_view{values_.data(), values_bytes_}; }

  // Calls f(k, kind, size) for each slot added, in order.
  template <class F>
  void for_each_head(F&& f) const {
    std::size_t at = max_run_prefix_bytes;
    for (std::size_t k = 0; k < count_; ++k) {
      const auto kind = static_cast<entry_kind>(heads_[at]);
      const auto first = static_cast<std::uint8_t>(heads_[at + 1]);
      std::size_t size = first;
      if (first < 0x80) [[likely]] {
        at += 2;
      } else {
        const codec::varint_parse p = codec::parse_varint(byte_view{heads_.data() + at + 1, heads_end_ - at - 1});
        size = static_cast<std::size_t>(p.value);  // written by add(): well formed
        at += 1 + p.size;
      }
      f(k, kind, size);
    }
  }

  // Adds es[0] (which extends() the run, or starts it) and the slots after
  // it while they fit in max_bytes (es: consecutive slots at the run's
  // ballot); returns how many were added.
  std::size_t add_all(std::span<const entry> es, std::size_t max_bytes) {
    const std::byte* unused = nullptr;
    return add_all(es, max_bytes, unused);
  }

  // add_all(), and where the values it added lie back to back in memory (a
  // message's and a leader's staged batch do), nullptr where they do not:
  // found in the same pass, so that nothing walks the entries again to ask.
  std::size_t add_all(std::span<const entry> es, std::size_t max_bytes, const std::byte*& contiguous) {
    // Room for every head at once, then one pass with the counts in locals:
    // each store through a std::byte pointer may alias this object's members,
    // which add() would otherwise reload and store again per slot.
    const std::size_t room = es.size() * max_run_entry_head_bytes;
    if (heads_.size() - heads_end_ < room) heads_.resize(std::max(heads_.size() * 2, heads_end_ + room));
    std::byte* const out = heads_.data();
    std::size_t end = heads_end_;
    std::size_t values = values_bytes_;
    std::size_t n = 0;
    const std::byte* next = es.front().data.data();  // where the next value lies if they are back to back
    bool adjacent = true;
    for (const entry& e : es) {
      const std::size_t size = e.data.size();
      if (n != 0 && end - max_run_prefix_bytes + values + max_run_entry_head_bytes + size > max_bytes) break;
      if (size != 0) {  // an empty value (a no-op) lies anywhere
        adjacent = adjacent && e.data.data() == next;
        next = e.data.data() + size;
      }
      out[end] = static_cast<std::byte>(e.kind);
      if (size < 0x80) [[likely]] {
        out[end + 1] = static_cast<std::byte>(size);
        end += 2;
      } else {
        end += 1 + codec::encode_varint(size, out + end + 1);
      }
      values += size;
      ++n;
    }
    contiguous = adjacent ? next - (values - values_bytes_) : nullptr;
    heads_end_ = end;
    values_bytes_ = values;
    count_ += n;
    return n;
  }

  // The record up to its values: the prefix is written just before the
  // heads, in the room left for it. Valid until the next start().
  [[nodiscard]] byte_view head() noexcept {
    std::byte prefix[max_run_prefix_bytes];
    std::size_t n = 0;
    prefix[n++] = static_cast<std::byte>(static_cast<std::uint8_t>(kind_) + run_tag_offset);
    n += codec::encode_varint(first_.value(), prefix + n);
    n += codec::encode_varint(bal_.round, prefix + n);
    n += codec::encode_varint(bal_.node.value(), prefix + n);
    n += codec::encode_varint(count_, prefix + n);
    std::byte* at = heads_.data() + (max_run_prefix_bytes - n);
    std::memcpy(at, prefix, n);
    return byte_view{at, heads_end_ - (max_run_prefix_bytes - n)};
  }
  // The run's first slot, without its value.
  [[nodiscard]] entry front() const noexcept {
    return entry{first_, bal_, static_cast<entry_kind>(heads_[max_run_prefix_bytes]), byte_view{}};
  }
  // The bytes of the values that follow head(), when they are all this long.
  [[nodiscard]] std::size_t values_bytes() const noexcept { return values_bytes_; }

 private:
  record_kind kind_{record_kind::accepted};
  log_index first_{};
  ballot bal_{};
  std::size_t count_{0};
  byte_buffer heads_ = byte_buffer(max_run_prefix_bytes + 64 * max_run_entry_head_bytes);
  std::size_t heads_end_{max_run_prefix_bytes};
  std::size_t values_bytes_{0};
  byte_buffer values_;  // add_with_value(): the values, in [0, values_bytes_)
};

// The version-2 record of es (consecutive slots at one ballot, at least one), appended to out.
inline void encode_run(record_kind k, std::span<const entry> es, byte_buffer& out) {
  run_builder b;
  b.start(k, es.front());
  for (const entry& e : es) b.add(e);
  const byte_view head = b.head();
  out.insert(out.end(), head.begin(), head.end());
  for (const entry& e : es) out.insert(out.end(), e.data.begin(), e.data.end());
}

}  // namespace quorum::paxos
