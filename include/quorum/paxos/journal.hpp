// A Multi-Paxos node's view of its Log: the promised ballot in the hard
// state, and a journal of "accepted" and "chosen" records in arrival order,
// each a run of consecutive slots at one ballot (journal_record.hpp): writes
// are staged into the open run and sealed as one Log append at the next
// sync or read (over a Log whose records stay in place, the first write
// after a sync and every accepted run go to it at once instead, and a
// batch's later writes wait in the open run). Recovery replays the journal,
// the highest ballot per slot winning; an index from slot to record is kept
// in memory, values stay in the Log. Recent values are at hand without a
// Log read: over a Log that copies, in a record cache (record_cache.hpp);
// over one whose records stay in place, each open slot's index entry has a
// view of its value there (16 bytes beside the slot's 32), so applies and a
// leader's accepts walk them in one pass. Also tracks the chosen watermark. Slots up to base() are
// covered by a snapshot: neither indexed nor journalled. Slots applied and
// chosen are settled: their index entries are folded into stretches (a run
// of slots held in one record or in consecutive records, a few per record
// instead of 32 bytes per slot), so that a journal that is never compacted
// does not grow the index by a slot's entry per command.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/log.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/entry_batch.hpp"
#include "quorum/paxos/journal_record.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/record_cache.hpp"

namespace quorum::paxos {

inline constexpr std::uint8_t hard_state_version = 1;

inline void encode_promise(ballot b, byte_buffer& out) {
  codec::writer w{out};
  w.u8(hard_state_version);
  w.varint(b.round);
  w.varint(b.node.value());
}

// An empty blob is a new node: nothing promised.
[[nodiscard]] inline result<ballot> decode_promise(byte_view in) noexcept {
  if (in.empty()) return ballot{};
  codec::reader r{in};
  auto v = r.u8();
  if (!v) return unexpected{v.error()};
  if (*v != hard_state_version) return fail(errc::malformed, "paxos hard state: unknown version", *v);
  auto round = r.varint();
  if (!round) return unexpected{round.error()};
  auto node = r.varint();
  if (!node) return unexpected{node.error()};
  QUORUM_TRY(r.expect_end());
  if (*round > ballot::max_round) return fail(errc::malformed, "paxos hard state: ballot round out of range", *round);
  return ballot{*round, node_id{*node}};
}

namespace detail {

// A Log that writes a record given as two pieces without joining them first
// (storage::memory_log does): the journal hands it the head and the value.
template <class L>
concept appends_in_two_pieces = requires(L& l, byte_view a, byte_view b) {
  { l.append(a, b) } -> std::same_as<result<log_index>>;
};

// A Log that appends a record in two pieces and says where it now lies
// (storage::memory_log does): the journal's slot index views it there
// without reading it back.
template <class L>
concept appends_placed = requires(L& l, byte_view a, byte_view b, byte_view& placed) {
  { l.append(a, b, placed) } -> std::same_as<result<log_index>>;
};

// A Log that appends a record whose body comes in pieces, copied straight
// in, and says where it lies (storage::memory_log does): a run's values
// that lie apart go to it without being joined first.
struct gathered_piece_probe {
  byte_view operator()(std::size_t) const noexcept { return {}; }
};
template <class L>
concept appends_gathered = requires(L& l, byte_view h, std::size_t n, byte_view& placed) {
  { l.append_gathered(h, n, n, gathered_piece_probe{}, placed) } -> std::same_as<result<log_index>>;
};

}  // namespace detail

template <class L>
class journal {
  static_assert(check_log<L>());

 public:
  // The Log keeps what it holds where it is (core/log.hpp): records go to it
  // at once and the slot index views their values instead of a record cache
  // copying them.
  static constexpr bool in_place = log_records_stay_in_place<L>;

  // What a node knows of one slot: the highest ballot it accepted (or the
  // one a learned value was chosen at), the record that holds it (the slot
  // is that run's first + k), and whether the value is known chosen. 32
  // bytes: the index grows by one per slot.
  struct slot_state {
    ballot accepted{};
    log_index position{};          // 0: nothing accepted or learned
    std::uint64_t seq : 63 {0};    // its write's sequence number, the record cache's key (0: read from the Log)
    std::uint64_t chosen : 1 {0};  // the value is known chosen

    static slot_state of(ballot b, log_index at, std::uint64_t seq, bool chosen) noexcept {
      slot_state st;
      st.accepted = b;
      st.position = at;
      st.seq = seq;
      st.chosen = chosen;
      return st;
    }
  };
  static_assert(sizeof(slot_state) == 32);

  // Settled slots first..first + count - 1, all chosen: slot first + k was
  // accepted at bal, is held at position + k * step and was written as seq + k
  // (seq 0: read from the Log).
  struct stretch {
    log_index first;
    log_index position;
    ballot bal;
    std::uint64_t seq;
    std::uint64_t count;
    std::uint64_t step;  // 0: one record holds them all; 1: one record each

    [[nodiscard]] log_index last() const noexcept { return first + (count - 1); }
    [[nodiscard]] log_index position_of(log_index s) const noexcept { return position + (s - first) * step; }
    [[nodiscard]] slot_state state(log_index s) const noexcept {
      const std::uint64_t k = s - first;
      return slot_state::of(bal, position + k * step, seq == 0 ? 0 : seq + k, true);
    }
  };
  static_assert(sizeof(stretch) == 56);

  // Over a Log whose records stay in place: where an open slot's value lies
  // in the Log, and its kind (none: no view yet, a hole or the open run's
  // slot). 16 bytes a slot; the slot number and its ballot are the index's.
  struct value_view {
    static constexpr auto none = static_cast<entry_kind>(0xff);
    const std::byte* data{nullptr};
    std::uint32_t size{0};
    entry_kind kind{none};

    // A value over 4 GiB (never a command: max_command_bytes bounds those)
    // is not viewed: it is read from the Log.
    static value_view of(entry_kind k, const std::byte* at, std::size_t n) noexcept {
      if (n > std::uint32_t{0xffffffff}) [[unlikely]] return value_view{};
      return value_view{at, static_cast<std::uint32_t>(n), k};
    }
    [[nodiscard]] bool viewed() const noexcept { return kind != none; }
    [[nodiscard]] byte_view bytes() const noexcept { return byte_view{data, size}; }
  };
  static_assert(sizeof(value_view) == 16);

  // run_bytes: a staged run is sealed before it grows past this (a single
  // larger value makes a run of its own).
  explicit journal(L log, std::size_t cache_bytes = std::size_t{8} << 20, std::size_t run_bytes = std::size_t{64} << 10)
      : log_{std::move(log)}, cache_{cache_bytes}, run_bytes_{run_bytes} {}

  // Reads the promise and replays every record above the snapshot's slot
  // `base` (0: none); returns the promise. Changes nothing in the Log. An
  // acceptor never takes a slot more than max_slot_gap past what it holds,
  // so a journal's slots stay under base + (records + slots) * gap: a
  // damaged slot number cannot make recovery size its index by it.
  result<ballot> recover(std::uint64_t max_slot_gap, log_index base = {}) {
    auto promised = decode_promise(log_.state());
    if (!promised) return fail(errc::corrupt_log, "paxos: the hard state does not decode", promised.error().detail);
    slots_.clear();
    views_.clear();
    settled_.clear();
    head_ = 0;
    cache_.clear();
    run_.clear();
    run_seq_ = seq_;
    base_ = watermark_ = chosen_front_ = settled_end_ = base;
    uniform_from_ = base.next();
    applied_ = log_index{};
    highest_accepted_ = ballot{};
    std::uint64_t units = log_.last_index().value() + 2;
    for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
      auto rec = read_record(i);
      if (!rec) return unexpected{rec.error()};
      units += std::min<std::uint64_t>(rec->count - 1, all_slots.value());
    }
    const std::uint64_t cap = all_slots.value();
    const std::uint64_t gap = std::max<std::uint64_t>(max_slot_gap, 1);
    const std::uint64_t max_slot = units >= cap / gap ? cap : std::min(cap, base.value() + units * gap);
    for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
      auto rec = read_record(i);
      if (!rec) return unexpected{rec.error()};
      if (rec->first.value() + (rec->count - 1) > max_slot)
        return fail(errc::corrupt_log, "paxos: a journal slot is out of range", i.value());
      rec->for_each([&](const entry& e) { note(rec->kind, e, i, 0, in_place); });
      if (rec->kind == record_kind::accepted && rec->bal > highest_accepted_)
        highest_accepted_ = rec->bal;
    }
    advance();
    dirty_ = true;  // what survived a restart may not have been synced yet
    return *promised;
  }

  // The highest ballot of any accept recover() replayed (ballot{} if none).
  [[nodiscard]] ballot highest_accepted() const noexcept { return highest_accepted_; }
  // The highest slot this node holds anything for.
  [[nodiscard]] log_index known_end() const noexcept { return settled_end_ + (slots_.size() - head_); }
  // Every slot up to here is in the snapshot, no longer in the journal.
  [[nodiscard]] log_index base() const noexcept { return base_; }
  [[nodiscard]] std::size_t indexed_slots() const noexcept { return static_cast<std::size_t>(known_end() - base_); }
  // Settled slots' stretches and open slots' entries: the index's size.
  [[nodiscard]] std::size_t index_entries() const noexcept { return settled_.size() + (slots_.size() - head_); }
  // Every slot up to here is known chosen (and its value is held).
  [[nodiscard]] log_index watermark() const noexcept { return watermark_; }
  // What is known of slot s; nothing for a slot the snapshot covers or past known_end().
  [[nodiscard]] std::optional<slot_state> at(log_index s) const noexcept {
    if (open(s)) [[likely]] {
      slot_state st = slots_[offset(s)];
      if (s <= chosen_through()) st.chosen = true;
      return st;
    }
    return settled_at(s);
  }
  // Whether slot s's value is known chosen (s past base()).
  // (Open slots up to chosen_through() are chosen whether or not their state says so: learn_chosen() may
  // move the watermark over a uniform stretch, and mark_chosen() the chosen front, without marking each slot.)
  [[nodiscard]] bool chosen(log_index s) const noexcept {
    return open(s) ? s <= chosen_through() || slots_[offset(s)].chosen != 0 : s <= settled_end_;
  }
  [[nodiscard]] bool dirty() const noexcept { return dirty_; }

  // Journals an accept (phase 2b) or a value learned chosen; nothing for a
  // slot the snapshot covers. Staged: it extends the open run when it is
  // that run's next slot, of its kind and ballot; else the open run is
  // sealed and a new one starts.
  result<void> write(record_kind k, const entry& e) {
    if (e.slot <= base_) return {};
    // The first write since the last sync (one at a time) goes to the Log at
    // once; those after it in one batch are staged into one run.
    if constexpr (in_place)
      if (!dirty_) return place(k, std::span<const entry>{&e, 1});
    if (!run_.extends(k, e, run_bytes_)) {
      if (!run_.empty()) QUORUM_TRY(seal());
      start_run(k, e);
    }
    // Over a Log whose records stay in place the run keeps the value until
    // seal() appends it, and the index views it in the Log from then on;
    // otherwise the cache holds it, the open run's values back to back.
    if constexpr (in_place) run_.add_with_value(e);
    else run_.add(e);
    dirty_ = true;
    if (e.slot == known_end().next()) {  // the usual case, note()'s first, without the call
      extend_uniform(e.slot, e.bal);
      slots_.push_back(slot_state::of(e.bal, run_position_, seq_, k == record_kind::chosen));
      if constexpr (in_place) view_room()[slots_.size() - 1] = value_view{};  // no view until seal() places the run
    } else {
      note(k, e, run_position_, seq_, false);
    }
    if constexpr (!in_place) cache_.add(seq_, e, run_seq_);
    ++seq_;
    return {};
  }

  // Journals consecutive slots at one ballot (an accept's run) as write()
  // of each would, with the per-slot work done in one pass.
  result<void> write_run(record_kind k, std::span<const entry> es) {
    if (es.size() == 1) return write(k, es.front());
    while (!es.empty() && es.front().slot <= base_) es = es.subspan(1);
    if constexpr (in_place) {
      if (!es.empty() && !run_.empty()) QUORUM_TRY(seal());  // the Log keeps the order of the writes
      while (!es.empty()) {
        QUORUM_ASSERT(es.back().slot == es.front().slot + (es.size() - 1) && es.back().bal == es.front().bal);
        run_.start(k, es.front());
        const std::byte* contiguous = nullptr;
        const std::size_t n = run_.add_all(es, run_bytes_, contiguous);
        if (n == 1) run_.clear();  // a value that fills a run alone is one slot's record: place() heads it
        QUORUM_TRY(place(k, es.first(n), contiguous));
        es = es.subspan(n);
      }
      return {};
    }
    while (!es.empty()) {
      QUORUM_ASSERT(es.back().slot == es.front().slot + (es.size() - 1) && es.back().bal == es.front().bal);
      if (!run_.extends(k, es.front(), run_bytes_)) {
        QUORUM_TRY(seal());
        start_run(k, es.front());
      }
      const std::span<const entry> part = es.first(run_.add_all(es, run_bytes_));
      dirty_ = true;
      note_run(k, part, run_position_, seq_, nullptr);
      cache_.add(seq_, part, run_seq_);
      seq_ += part.size();
      es = es.subspan(part.size());
    }
    return {};
  }

  // Writes the open run to the Log as one record (a run of one slot as a
  // version-1 record: smaller, and encoded on the stack).
  result<void> seal() {
    if (run_.empty()) return {};
    std::byte single[max_record_head_bytes];
    const byte_view head = run_.count() == 1 ? byte_view{single, encode_record_head(run_.kind(), run_.front(), single)}
                                             : run_.head();
    if constexpr (in_place) return seal_placed(head);
    const byte_view values = cache_.values_from(run_seq_);
    QUORUM_ASSERT(values.size() == run_.values_bytes());
    result<log_index> at = append(head, values);
    run_.clear();
    run_seq_ = seq_;
    cache_.trim();
    if (!at) return unexpected{at.error()};
    if (*at != run_position_)
      return fail(errc::corrupt_log, "paxos: the Log put a journal record elsewhere", at->value());
    return {};
  }

  void mark_chosen(log_index s) { mark_chosen(s, s); }

  // Slots first..last (each holding a value) are known chosen. A run that
  // continues the chosen prefix (the usual case at a leader: runs reach
  // their quorums in order) moves chosen_front_ and marks no slot.
  void mark_chosen(log_index first, log_index last) {
    QUORUM_ASSERT(first <= last && last <= known_end());
    if (first <= chosen_through().next()) {
      if (last > chosen_front_) chosen_front_ = last;
      return;
    }
    mark_each(first, last);
  }

  // Slots up to `top` that hold a value accepted at b are chosen (the caller
  // knows that b's proposer had every slot up to top chosen): one pass that
  // marks them and moves the watermark over those that follow it.
  void learn_chosen(log_index top, ballot b) noexcept {
    top = std::min(top, known_end());
    watermark_ = chosen_through();
    if (top > watermark_ && b == uniform_bal_ && uniform_from_ <= watermark_.next()) {
      // The usual case: every slot past the watermark holds a value accepted
      // at b (the uniform stretch), so all up to top are chosen, and the
      // watermark says so without a mark on each.
      watermark_ = top;
    } else if (top > watermark_) {
      // Slots past the watermark are open (settled ones never are), so the
      // pass walks the index directly: first while each slot follows the
      // watermark (the usual case, all of them), then marking only.
      slot_state* st = slots_.data() + offset(watermark_.next());
      const std::size_t n = static_cast<std::size_t>(top - watermark_);
      const auto learn = [&](slot_state& x) {
        if (!x.chosen && x.position != log_index{} && x.accepted == b) x.chosen = true;
        return x.chosen != 0;
      };
      std::size_t k = 0;
      while (k < n && learn(st[k])) ++k;
      watermark_ = watermark_ + k;
      for (; k < n; ++k) learn(st[k]);
    }
    advance();
  }

  // Every slot up to here is known chosen: the watermark, or past it the
  // chosen front that the next advance() moves it to.
  [[nodiscard]] log_index chosen_through() const noexcept { return std::max(watermark_, chosen_front_); }

  // Moves the watermark over slots known chosen; true if it moved.
  bool advance() noexcept {
    const log_index before = watermark_;
    watermark_ = chosen_through();
    while (watermark_ < known_end() && slots_[offset(watermark_.next())].chosen) watermark_ = watermark_.next();
    return watermark_ != before;
  }

  // The value held for slot s if the record cache has it (in place: if the
  // index views it); its data views the cache until the next write.
  [[nodiscard]] std::optional<entry> cached(log_index s) const noexcept {
    if constexpr (in_place) {
      if (!open(s)) return std::nullopt;
      const value_view& v = views_[offset(s)];
      if (!v.viewed()) return std::nullopt;
      return entry{s, slots_[offset(s)].accepted, v.kind, v.bytes()};
    }
    const std::optional<slot_state> st = at(s);
    if (!st || st->seq == 0) return std::nullopt;
    const std::optional<cached_value> v = cache_.find(st->seq);
    if (!v) return std::nullopt;
    return entry{s, st->accepted, v->kind, v->data};
  }

  // Calls f(value) for slots s, s + 1, ... up to `last`, in order, while
  // their values are in the record cache and f returns true; returns how
  // many f accepted. One pass over the slots and the cache together (values
  // written in slot order are held in that order). The values view the
  // cache: f must not write to the journal.
  template <class F>
  std::uint64_t visit_cached(log_index s, log_index last, F&& f) const {
    if (!open(s)) return 0;
    last = std::min(last, known_end());
    if (last < s) return 0;
    if constexpr (in_place) {
      const value_view* v = views_.data() + offset(s);
      const slot_state* st = slots_.data() + offset(s);
      const std::size_t n = static_cast<std::size_t>(last - s) + 1;
      std::size_t k = 0;
      while (k < n && v[k].viewed() && f(entry{s + k, st[k].accepted, v[k].kind, v[k].bytes()})) ++k;
      return k;
    }
    const slot_state* st = slots_.data() + offset(s);
    const std::uint64_t seq = st->seq;
    if (seq == 0) return 0;
    return cache_.visit(seq, static_cast<std::size_t>(last - s) + 1, [&](std::size_t k, const cached_value& v) {
      return st[k].seq == seq + k && f(entry{s + k, st[k].accepted, v.kind, v.data});
    });
  }

  // The value this node holds for slot s; its data views the Log until the next non-const call.
  result<entry> read(log_index s) {
    const std::optional<slot_state> st = at(s);
    if (!st || st->position == log_index{})
      return fail(errc::not_found, "paxos: no value held for the slot", s.value());
    if constexpr (in_place) {
      if (auto v = cached(s)) return *v;
      QUORUM_TRY(seal());
      if (auto v = cached(s)) return *v;  // an open run's value: viewed now
    } else {
      if (st->seq != 0)
        if (auto hit = cache_.find(st->seq)) return entry{s, st->accepted, hit->kind, hit->data};
      QUORUM_TRY(seal());
    }
    auto rec = read_record(st->position);
    if (!rec) return unexpected{rec.error()};
    if (s < rec->first || s - rec->first >= rec->count)
      return fail(errc::corrupt_log, "paxos: a journal record does not hold the slot indexed in it",
                  st->position.value());
    return rec->at(static_cast<std::size_t>(s - rec->first));
  }

  // A promise's body: the values held from `first` on, as many as fit (out
  // views the cache: valid until the next write).
  // Returns the last slot the batch speaks for (all_slots: every one).
  result<log_index> collect_held(log_index first, entry_batch& out, std::size_t max_entries, std::size_t max_bytes) {
    out.clear();
    for (log_index s = std::max(first, base_.next()); s <= known_end(); s = s.next()) {
      if (at(s)->position == log_index{}) continue;
      if (auto c = cached(s)) {
        if (!out.fits(*c, max_entries, max_bytes)) return s.prev();
        out.add_view(*c);
        continue;
      }
      auto e = read(s);
      if (!e) return unexpected{e.error()};
      if (!out.fits(*e, max_entries, max_bytes)) return s.prev();
      out.add(*e);
    }
    return all_slots;
  }

  // The values of slots first..last, as many as fit, stopping before a slot
  // where stop(slot) holds; each at ballot `as` unless that is 0 (out views
  // the cache: valid until the next write).
  template <class Stop>
  result<void> collect_range(log_index first, log_index last, entry_batch& out, std::size_t max_entries,
                             std::size_t max_bytes, ballot as, Stop&& stop) {
    out.clear();
    // Slots of the open run are in the cache once it is sealed: a leader's
    // batch of proposals, collected for its accepts.
    if constexpr (in_place)
      if (!run_.empty() && last >= run_.first()) QUORUM_TRY(seal());
    if (first == last && !stop(first)) [[likely]] {  // one at a time: no pass to set up
      if (auto c = cached(first)) {
        if (as.round != 0) c->bal = as;
        out.add_view(*c);
        return {};
      }
    }
    return collect_stretches(first, last, out, max_entries, max_bytes, as, stop);
  }

 private:
  // collect_range() past one cached slot: out of line, so that the one-slot
  // case stays small enough to inline into its callers.
  template <class Stop>
  [[gnu::noinline]] result<void> collect_stretches(log_index first, log_index last, entry_batch& out,
                                                   std::size_t max_entries, std::size_t max_bytes, ballot as,
                                                   Stop& stop) {
    bool full = false;
    for (log_index s = first; s <= last && !full && !stop(s);) {
      // The usual case: a stretch of cached values, viewed in one pass
      // (over a Log that keeps records in place, checked in one pass and
      // added as one piece).
      std::uint64_t n = 0;
      if constexpr (in_place) {
        const value_view* v = open(s) ? views_.data() + offset(s) : nullptr;
        const std::size_t most = v == nullptr ? 0 : static_cast<std::size_t>(std::min(last, known_end()) - s) + 1;
        std::size_t bytes = 0;
        for (; n < most && v[n].viewed() && !stop(s + n); ++n) {
          const std::size_t count = out.size() + n;
          if (count >= max_entries || (count != 0 && out.bytes() + bytes + v[n].size > max_bytes)) {
            full = true;
            break;
          }
          bytes += v[n].size;
        }
        if (n != 0) {
          const slot_state* st = slots_.data() + offset(s);
          const bool restamp = as.round != 0;
          out.add_views(static_cast<std::size_t>(n), bytes, [&](std::size_t k) {
            return entry{s + k, restamp ? as : st[k].accepted, v[k].kind, v[k].bytes()};
          });
        }
      } else {
        n = visit_cached(s, last, [&](const entry& e) {
          if (stop(e.slot)) return false;
          if (!out.fits(e, max_entries, max_bytes)) {
            full = true;
            return false;
          }
          out.add_view(e, as);
          return true;
        });
      }
      s = s + n;
      if (n != 0 || full || s > last || stop(s)) continue;
      auto e = read(s);
      if (!e) return unexpected{e.error()};
      if (!out.fits(*e, max_entries, max_bytes)) break;
      if (as.round != 0) e->bal = as;
      out.add(*e);
      s = s.next();
    }
    return {};
  }

 public:
  // The open run is sealed first: after a crash the Log holds a prefix of
  // the calls in their order, as the node made them.
  result<void> save_promise(ballot b) {
    QUORUM_TRY(seal());
    buf_.clear();
    encode_promise(b, buf_);
    QUORUM_TRY(log_.save_state(buf_));
    dirty_ = true;
    return {};
  }

  result<void> sync() {
    if (!run_.empty()) QUORUM_TRY(seal());
    QUORUM_TRY(log_.sync());
    dirty_ = false;
    return {};
  }

  // The first journal position a compaction to slot `through` must keep:
  // the record of every slot above it that holds a value. Past the end when
  // none does (where the open run, if any, will land: compacting there
  // keeps its position).
  [[nodiscard]] log_index needed_from(log_index through) const noexcept {
    log_index first = log_.last_index().next();
    const log_index from = std::max(through, base_).next();
    for (auto t = first_stretch_to(from); t != settled_.end(); ++t)
      first = std::min(first, t->position_of(std::max(from, t->first)));
    for (log_index s = std::max(from, settled_end_.next()); s <= known_end(); s = s.next()) {
      const slot_state& st = slots_[offset(s)];
      if (st.position != log_index{} && st.position < first) first = st.position;
    }
    return first;
  }

  // Forgets slots up to `through` (a snapshot covers them: they are chosen)
  // and moves the watermark to at least there.
  void drop_through(log_index through) {
    if (through <= base_) return;
    if (through >= known_end()) {
      settled_.clear();
      slots_.clear();  // views_ keeps its room
      head_ = 0;
      settled_end_ = through;
    } else if (through < settled_end_) {
      const auto t = first_stretch_to(through.next());
      settled_.erase(settled_.begin(), t);
      stretch& f = settled_.front();
      if (f.first <= through) {
        const std::uint64_t k = through.next() - f.first;
        f.position = f.position_of(through.next());
        if (f.seq != 0) f.seq += k;
        f.count -= k;
        f.first = through.next();
      }
    } else {
      settled_.clear();
      head_ += static_cast<std::size_t>(through - settled_end_);
      settled_end_ = through;
      compact_open();
    }
    base_ = through;
    if (watermark_ < through) watermark_ = through;
    advance();
  }

  // Slot s is applied: values written up to its own will not be read again
  // soon, and leave the cache (but for the open run's).
  // Settled slots, applied and chosen, are folded into stretches, a batch at a time.
  void applied_through(log_index s) {
    if (s == applied_) return;  // called after every message: usually nothing new
    applied_ = s;
    if constexpr (!in_place)
      if (const std::uint64_t seq = seq_of(s); seq != 0) cache_.release_before(std::min(seq + 1, run_seq_));
    settle_through(std::min({s, watermark_, known_end()}));
  }

  [[nodiscard]] L& policy() noexcept { return log_; }
  [[nodiscard]] const L& policy() const noexcept { return log_; }

 private:
  // The record at position i, decoded (either version); its entries view the Log until its next call.
  result<record_run> read_record(log_index i) {
    auto bytes = log_.read(i);
    if (!bytes) return unexpected{bytes.error()};
    auto rec = decode_run(*bytes);
    if (!rec) return fail(errc::corrupt_log, "paxos: a journal record does not decode", i.value());
    return *rec;
  }

  // A small record is joined on the stack and handed over whole (one call
  // into the Log's buffer instead of two, which for small values costs more
  // than the copy); a larger one goes in two pieces where the Log takes
  // them, else joined in buf_.
  result<log_index> append(byte_view head, byte_view value) {
    if (head.size() + value.size() <= small_record_bytes) {
      std::array<std::byte, small_record_bytes> joined;
      if (!head.empty())
        std::memcpy(joined.data(), head.data(), head.size());  // a run's record comes whole, head empty
      if (!value.empty()) std::memcpy(joined.data() + head.size(), value.data(), value.size());
      return log_.append(byte_view{joined.data(), head.size() + value.size()});
    }
    if constexpr (detail::appends_in_two_pieces<L>) {
      return log_.append(head, value);
    } else {
      buf_.assign(head.begin(), head.end());
      buf_.insert(buf_.end(), value.begin(), value.end());
      return log_.append(buf_);
    }
  }

  static constexpr std::size_t small_record_bytes = 256;

  // Over a Log whose records stay in place: es (consecutive slots at one
  // ballot, one record's worth; for more than one, run_ started and holds
  // their heads; for one, no run open) goes to the Log at once, and the
  // slot index views the values there instead of copying them. contiguous:
  // where es's values lie back to back, if run_.add_all() found they do.
  result<void> place(record_kind k, std::span<const entry> es, const std::byte* contiguous = nullptr) {
    QUORUM_ASSERT(run_.empty() || es.size() > 1);
    std::byte single[max_record_head_bytes];
    byte_view head;
    byte_view values;
    bool apart = false;  // the values lie apart and the Log gathers them
    if (es.size() == 1) {
      head = byte_view{single, encode_record_head(k, es.front(), single)};
      values = es.front().data;
    } else {
      head = run_.head();
      if (contiguous != nullptr) values = byte_view{contiguous, run_.values_bytes()};
      else if constexpr (detail::appends_gathered<L>) apart = true;
      else values = back_to_back(es);
    }
    const std::size_t values_bytes = apart ? run_.values_bytes() : values.size();
    byte_view rec;
    result<log_index> placed_at{log_index{}};
    if constexpr (detail::appends_gathered<L>) {
      if (apart) {
        const entry* const from = es.data();
        placed_at = log_.append_gathered(head, es.size(), values_bytes, [from](std::size_t i) { return from[i].data; },
                                         rec);
      }
    }
    if (!apart) placed_at = append_placed(head, values, rec);
    if (es.size() > 1) run_.clear();
    if (!placed_at) return unexpected{placed_at.error()};
    const log_index at = *placed_at;
    if (rec.size() != head.size() + values_bytes)
      return fail(errc::corrupt_log, "paxos: the Log holds another record than the one appended", at.value());
    dirty_ = true;
    const std::byte* values_at = rec.data() + head.size();
    if (es.size() == 1 && es.front().slot == known_end().next()) {  // the usual case, note()'s first, without the call
      const entry& e = es.front();
      extend_uniform(e.slot, e.bal);
      slots_.push_back(slot_state::of(e.bal, at, seq_, k == record_kind::chosen));
      view_room()[slots_.size() - 1] = value_view::of(e.kind, values_at, e.data.size());
    } else {
      note_run(k, es, at, seq_, values_at);
    }
    seq_ += es.size();
    run_seq_ = seq_;  // no open run: applies release the cache up to here
    return {};
  }

  // seal() over a Log whose records stay in place: the open run, its values
  // held by run_, goes to the Log as one record, and the index views them there.
  result<void> seal_placed(byte_view head) {
    byte_view rec;
    const result<log_index> at = append_placed(head, run_.values(), rec);
    const bool whole = rec.size() == head.size() + run_.values_bytes();
    if (at && *at == run_position_ && whole) view_run(rec.data() + head.size());
    run_.clear();
    run_seq_ = seq_;
    if (!at) return unexpected{at.error()};
    if (*at != run_position_)
      return fail(errc::corrupt_log, "paxos: the Log put a journal record elsewhere", at->value());
    if (!whole)
      return fail(errc::corrupt_log, "paxos: the Log holds another record than the one appended", at->value());
    return {};
  }

  // The values of es as one piece: where they lie back to back already (a
  // message's entries often do), else joined in join_.
  [[nodiscard]] byte_view back_to_back(std::span<const entry> es) {
    const std::byte* next = es.front().data.data();
    std::size_t total = 0;
    bool adjacent = true;
    for (const entry& e : es) {
      adjacent = adjacent && (e.data.empty() || e.data.data() == next);
      if (!e.data.empty()) next = e.data.data() + e.data.size();
      total += e.data.size();
    }
    if (adjacent) return byte_view{next - total, total};
    // Sized once (its size is its capacity), then plain copies: much cheaper
    // than an insert per value.
    if (join_.size() < total) join_.resize(std::max(total, join_.size() * 2));
    std::byte* out = join_.data();
    for (const entry& e : es) {
      if (!e.data.empty()) std::memcpy(out, e.data.data(), e.data.size());
      out += e.data.size();
    }
    return byte_view{join_.data(), total};
  }

  // Appends head and value as one record; `placed` views it where it now
  // stays (read back from the Log when the Log does not say).
  // Always in line: called out of line (as GCC chose once seal_placed
  // called it too), a commit one at a time cost 3% more instructions.
  [[gnu::always_inline]] result<log_index> append_placed(byte_view head, byte_view value, byte_view& placed) {
    if constexpr (detail::appends_placed<L>) {
      return log_.append(head, value, placed);
    } else {
      result<log_index> at = append(head, value);
      if (!at) return at;
      auto bytes = log_.read(*at);
      if (!bytes) return unexpected{bytes.error()};
      placed = *bytes;
      return at;
    }
  }

  // Marks slots first..last (past the chosen prefix, so open) chosen one by one.
  void mark_each(log_index first, log_index last) {
    slot_state* st = slots_.data() + offset(first);
    const std::size_t n = static_cast<std::size_t>(last - first) + 1;
    for (std::size_t k = 0; k < n; ++k) {
      QUORUM_ASSERT(st[k].position != log_index{});
      st[k].chosen = true;
    }
  }

  // Open slots: settled_end_ + 1 on.
  [[nodiscard]] std::size_t offset(log_index s) const noexcept {
    return head_ + static_cast<std::size_t>(s.value() - settled_end_.value() - 1);
  }

  // The first stretch that holds a slot at or after s.
  [[nodiscard]] typename std::vector<stretch>::const_iterator first_stretch_to(log_index s) const noexcept {
    return std::partition_point(settled_.begin(), settled_.end(), [&](const stretch& t) { return t.last() < s; });
  }

  [[nodiscard]] bool open(log_index s) const noexcept { return s > settled_end_ && s <= known_end(); }

  // Slot s's write sequence number; 0 when not cached or nothing is held.
  [[nodiscard]] std::uint64_t seq_of(log_index s) const noexcept {
    if (open(s)) [[likely]]
      return slots_[offset(s)].seq;
    const std::optional<slot_state> st = settled_at(s);
    return st ? st->seq : 0;
  }

  // A slot that is not open: settled (the last stretch first, where the
  // recent slots are), or nothing.
  [[nodiscard, gnu::noinline]] std::optional<slot_state> settled_at(log_index s) const noexcept {
    if (s <= base_ || s > settled_end_) return std::nullopt;
    QUORUM_ASSERT(!settled_.empty());
    if (settled_.back().first <= s) return settled_.back().state(s);
    return first_stretch_to(s)->state(s);
  }

  // Folding a slot costs a compare or two; done in batches so that the
  // apply path pays it once per batch, not once per call.
  static constexpr std::uint64_t settle_batch = 256;
  // Open entries dropped at the front stay until they outnumber the live ones.
  static constexpr std::size_t compact_open_after = 1024;

  // Folds the open slots up to s into stretches: each slot extends the
  // last stretch when it continues it (the next slot, at its ballot, at its
  // next position and write), else starts one.
  void settle_through(log_index s) {
    if (s > settled_end_ && s - settled_end_ >= settle_batch) fold_through(s);
  }

  [[gnu::noinline]] void fold_through(log_index s) {
    const slot_state* st = slots_.data() + head_;
    const std::size_t n = static_cast<std::size_t>(s - settled_end_);
    for (std::size_t k = 0; k < n;) {
      const log_index t = settled_end_ + (k + 1);
      QUORUM_ASSERT(t <= watermark_ && st[k].position != log_index{});
      if (settled_.empty() || settled_.back().last().next() != t || settled_.back().bal != st[k].accepted) {
        settled_.push_back(stretch{t, st[k].position, st[k].accepted, st[k].seq, 1, 0});
        ++k;
        continue;
      }
      stretch& b = settled_.back();
      if (b.count == 1) {
        const std::uint64_t seq = b.seq == 0 ? 0 : b.seq + 1;
        if (st[k].seq != seq || (st[k].position != b.position && st[k].position != b.position.next())) {
          settled_.push_back(stretch{t, st[k].position, st[k].accepted, st[k].seq, 1, 0});
          ++k;
          continue;
        }
        b.step = st[k].position == b.position ? 0 : 1;
        b.count = 2;
        ++k;
      }
      // The usual case, in a tight loop: the rest of one record (the same
      // position: the same run, so the same ballot), or records of one slot each.
      const std::uint64_t seq_step = b.seq == 0 ? 0 : 1;
      std::uint64_t next_seq = b.seq == 0 ? 0 : b.seq + b.count;
      const std::size_t from = k;
      if (b.step == 0) {
        // Slots of one record: a record's slots were written together, as
        // consecutive writes (or all replayed, seq 0), so the same position
        // implies the sequence number follows.
        // Four slots a step with one branch (the compares joined with &, not
        // &&, as integers), then the rest one at a time.
        const log_index p = b.position;
        const auto same = [&](std::size_t i) { return static_cast<unsigned>(st[i].position == p); };
        while (n - k >= 4 && (same(k) & same(k + 1) & same(k + 2) & same(k + 3)) != 0) k += 4;
        while (k < n && st[k].position == p) ++k;
        QUORUM_ASSERT(k == from || st[k - 1].seq == (b.seq == 0 ? 0 : b.seq + b.count + (k - 1 - from)));
      } else {
        log_index next_position = b.position + b.count;
        while (k < n && st[k].position == next_position && st[k].seq == next_seq && st[k].accepted == b.bal) {
          ++k;
          next_seq += seq_step;
          next_position = next_position.next();
        }
      }
      b.count += k - from;
      if (k < n) {  // slot k does not continue it: it starts the next
        settled_.push_back(stretch{settled_end_ + (k + 1), st[k].position, st[k].accepted, st[k].seq, 1, 0});
        ++k;
      }
    }
    head_ += n;
    settled_end_ = s;
    compact_open();
  }

  void compact_open() {
    if (head_ < compact_open_after || head_ < slots_.size() - head_) return;
    if constexpr (in_place)
      std::copy(views_.begin() + static_cast<std::ptrdiff_t>(head_),
                views_.begin() + static_cast<std::ptrdiff_t>(slots_.size()), views_.begin());
    slots_.drop_front(head_);
    head_ = 0;
  }

  // The usual case, slots past every one held, in one pass. values: where
  // es's values now lie back to back in the Log (in place), else nullptr.
  void note_run(record_kind k, std::span<const entry> es, log_index position, std::uint64_t seq,
                const std::byte* values) {
    if (es.front().slot != known_end().next()) {
      for (const entry& e : es) {
        if constexpr (in_place) {
          note(k, entry{e.slot, e.bal, e.kind, byte_view{values, e.data.size()}}, position, seq++, true);
          values += e.data.size();
        } else {
          note(k, e, position, seq++, false);
        }
      }
      return;
    }
    extend_uniform(es.front().slot, es.front().bal);  // es: one ballot
    const std::size_t old = slots_.size();
    slot_state* st = slots_.append(es.size());  // each written once, below
    const bool chosen = k == record_kind::chosen;
    if constexpr (in_place) {  // both in one pass
      value_view* v = view_room() + old;
      for (std::size_t i = 0; i < es.size(); ++i) {
        const entry& e = es[i];
        st[i] = slot_state::of(e.bal, position, seq + i, chosen);
        v[i] = value_view::of(e.kind, values, e.data.size());
        values += e.data.size();
      }
    } else {
      for (std::size_t i = 0; i < es.size(); ++i) st[i] = slot_state::of(es[i].bal, position, seq + i, chosen);
    }
  }

  // e's value where the Log keeps it (e.data views it there).
  static value_view view_of(const entry& e) noexcept { return value_view::of(e.kind, e.data.data(), e.data.size()); }

  // views_ with room for every slot of slots_ (its size is its capacity:
  // entries past slots_.size() are stale, and each slot added sets its own).
  value_view* view_room() {
    if (views_.size() < slots_.size()) [[unlikely]]
      grow_views();
    return views_.data();
  }
  [[gnu::noinline]] void grow_views() { views_.resize(std::max(slots_.size(), views_.size() * 2)); }

  // After seal() placed the open run at run_position_ (its values back to
  // back from `values`): its slots that still name that record view it.
  void view_run(const std::byte* values) {
    const log_index first = run_.first();
    if (first > settled_end_ && first + (run_.count() - 1) <= known_end()) {  // the usual case: all indexed
      const slot_state* st = slots_.data() + offset(first);
      value_view* v = views_.data() + offset(first);
      run_.for_each_head([&](std::size_t k, entry_kind kind, std::size_t size) {
        if (st[k].position == run_position_) v[k] = value_view::of(kind, values, size);
        values += size;
      });
      return;
    }
    run_.for_each_head([&](std::size_t k, entry_kind kind, std::size_t size) {
      const log_index s = first + k;
      if (open(s) && slots_[offset(s)].position == run_position_)
        views_[offset(s)] = value_view::of(kind, values, size);
      values += size;
    });
  }

  void start_run(record_kind k, const entry& e) {
    run_.start(k, e);
    run_position_ = log_.last_index().next();  // every append goes through here: it lands there
    run_seq_ = seq_;
  }

  // Slot s, the next past known_end(), is about to hold a value at b.
  void extend_uniform(log_index s, ballot b) noexcept {
    QUORUM_ASSERT(s == known_end().next() && uniform_from_ <= s);  // nothing shrinks known_end()
    if (b != uniform_bal_) {
      uniform_bal_ = b;
      uniform_from_ = s;
    }
  }

  // seq: the write's sequence number (0: replayed from the Log). placed:
  // e.data views the value where the Log keeps it (in place), else the
  // slot has no view until seal() places its run.
  void note(record_kind k, const entry& e, log_index position, std::uint64_t seq, bool placed) {
    if (e.slot <= settled_end_) return;  // the snapshot has it, or it is chosen and settled
    const std::size_t i = offset(e.slot);
    if (i == slots_.size()) {  // the usual case: the next slot, written as it is added
      extend_uniform(e.slot, e.bal);
      slots_.push_back(slot_state::of(e.bal, position, seq, k == record_kind::chosen));
      if constexpr (in_place) view_room()[i] = placed ? view_of(e) : value_view{};
      return;
    }
    // A hole, or a slot held already: the uniform stretch starts again past
    // the end (a conservative reset; only its fast path is lost).
    uniform_from_ = std::max(e.slot, known_end()).next();
    if (i > slots_.size()) {
      const std::size_t old = slots_.size();
      slots_.resize(i + 1);
      if constexpr (in_place) {
        value_view* v = view_room();
        std::fill(v + old, v + i + 1, value_view{});  // holes: no view
      }
    }
    slot_state& st = slots_[i];
    if (st.chosen || e.slot <= chosen_through()) return;  // a chosen value never changes: later records add nothing
    if (k == record_kind::chosen || st.position == log_index{} || e.bal > st.accepted) {
      st.accepted = e.bal;
      st.position = position;
      st.seq = seq;
      if constexpr (in_place) views_[i] = placed ? view_of(e) : value_view{};
    }
    if (k == record_kind::chosen) st.chosen = true;
  }

  [[no_unique_address]] L log_;
  std::vector<stretch> settled_;    // slots base_ + 1 .. settled_end_, in order
  log_index settled_end_{};
  // The open slots' states: a vector's room that appends a run without
  // zeroing it first (std::vector::resize() would write each state twice:
  // about 20 instructions of a command in a batch). The room only grows.
  class open_states {
   public:
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] slot_state* data() noexcept { return room_.data(); }
    [[nodiscard]] const slot_state* data() const noexcept { return room_.data(); }
    slot_state& operator[](std::size_t i) noexcept { return room_[i]; }
    const slot_state& operator[](std::size_t i) const noexcept { return room_[i]; }
    // n more states at the end, stale until the caller writes each one.
    slot_state* append(std::size_t n) {
      if (room_.size() - size_ < n) [[unlikely]]
        grow(size_ + n);
      slot_state* at = room_.data() + size_;
      size_ += n;
      return at;
    }
    void push_back(const slot_state& st) { *append(1) = st; }
    // Grows to n states; those added are empty (holes: nothing held).
    void resize(std::size_t n) {
      QUORUM_ASSERT(n >= size_);  // only note() calls it, for a slot past the end
      slot_state* added = append(n - size_);
      std::fill(added, room_.data() + n, slot_state{});
    }
    void drop_front(std::size_t n) noexcept {
      std::copy(room_.data() + n, room_.data() + size_, room_.data());
      size_ -= n;
    }
    void clear() noexcept { size_ = 0; }

   private:
    [[gnu::noinline]] void grow(std::size_t n) { room_.resize(std::max({n, 2 * room_.size(), std::size_t{64}})); }

    std::vector<slot_state> room_;  // its size is its capacity: past size_, stale
    std::size_t size_{0};
  };
  open_states slots_;  // [head_ + slot - settled_end_ - 1]: open slots
  std::size_t head_{0};
  log_index applied_{};  // applied_through()'s last
  ballot highest_accepted_{};  // recover()'s
  log_index base_{};
  log_index watermark_{};
  // Slots up to here are known chosen, marked or not (mark_chosen()); the
  // watermark moves here at the next advance().
  log_index chosen_front_{};
  // The uniform stretch: every open slot from uniform_from_ on holds a value
  // accepted (or learned) at uniform_bal_. Appends at the end extend it; any
  // other change to the index restarts it past the end.
  log_index uniform_from_{1};
  ballot uniform_bal_{};
  bool dirty_{false};
  byte_buffer buf_;
  byte_buffer join_;  // place(): values that did not lie back to back
  record_cache cache_;  // over a Log that copies: values by write sequence number
  // Over a Log whose records stay in place: views_[i] is slots_[i]'s value
  // where the Log keeps it (none yet for a hole, and for the open run's
  // slots until seal() places it). Never shorter than slots_ (view_room()).
  std::vector<value_view> views_;
  run_builder run_;           // the open run: written at the next seal()
  log_index run_position_{};  // where it will land
  std::uint64_t seq_{1};      // the next write's sequence number
  std::uint64_t run_seq_{1};  // the open run's first (seq_ when none is open)
  std::size_t run_bytes_;
};

}  // namespace quorum::paxos
