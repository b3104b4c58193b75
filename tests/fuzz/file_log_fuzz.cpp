// libFuzzer target: file_log's recovery. The input scripts a log (appends of
// chosen sizes, hard-state saves, truncations, compactions, syncs, over small
// segments), then damages the files it left (bits flipped, bytes zeroed,
// a tail cut, a segment removed, garbage added). Opening the directory must
// never crash; when it succeeds, the log must be the script's state after
// some prefix of its operations (nothing invented, nothing out of order; it
// may start later, where a compaction's segments are gone), and it must take
// an append and a sync and reopen with them; when the damage was only a cut
// of the last segment's tail, that prefix is the operations wholly before
// the cut, and the open must succeed.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "fuzz_check.hpp"
#include "quorum/storage.hpp"

namespace {

using namespace quorum;
using namespace quorum::storage;

file_log_options options() {
  file_log_options o;
  o.segment_bytes = 512;
  o.max_record_bytes = 200;
  o.max_state_bytes = 32;
  o.write_buffer_bytes = 0;  // every call reaches the file
  o.fsync = false;           // recovery is what is fuzzed, not the disk
  return o;
}

const std::string& scratch() {
  static const std::string dir = [] {
    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    return std::string{base} + "/quorum-fuzz-file-log-" + std::to_string(::getpid());
  }();
  return dir;
}

using image = std::map<std::string, byte_buffer>;  // file name -> bytes

image read_dir(const std::string& dir) {
  image out;
  for (const auto& e : std::filesystem::directory_iterator{dir}) {
    std::ifstream f{e.path(), std::ios::binary};
    std::string s{std::istreambuf_iterator<char>{f}, {}};
    out[e.path().filename().string()] = byte_buffer(reinterpret_cast<const std::byte*>(s.data()),
                                                    reinterpret_cast<const std::byte*>(s.data()) + s.size());
  }
  return out;
}

void write_dir(const std::string& dir, const image& files) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : files) {
    std::ofstream f{dir + "/" + name, std::ios::binary};
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

// got holds what model held after some operations: the same last index and
// hard state, and the same records over got's range, which may start later
// than model's (a compaction's old segments may be gone already).
bool consistent(file_log& got, const memory_log& model) {
  if (got.last_index() != model.last_index() || got.first_index() < model.first_index()) return false;
  const byte_view a = got.state(), b = model.state();
  if (!std::equal(a.begin(), a.end(), b.begin(), b.end())) return false;
  for (log_index i = got.first_index(); i <= got.last_index(); i = i.next()) {
    auto x = got.read(i);
    auto y = model.read(i);
    if (!x || !y || !std::equal(x->begin(), x->end(), y->begin(), y->end())) return false;
  }
  return true;
}

// What a log holds, to compare it with itself after a reopen.
struct contents {
  log_index first;
  std::vector<byte_buffer> records;
  byte_buffer state;
  explicit contents(file_log& l) : first{l.first_index()}, state(l.state().begin(), l.state().end()) {
    for (log_index i = l.first_index(); i <= l.last_index(); i = i.next()) {
      auto r = l.read(i);
      QUORUM_FUZZ_CHECK(r.has_value());  // every recovered record reads
      records.emplace_back(r->begin(), r->end());
    }
  }
  bool operator==(const contents&) const = default;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in{data, size};
  const std::string& dir = scratch();
  std::filesystem::remove_all(dir);

  // The script, and the model after each prefix of it.
  std::vector<memory_log> models(1);
  std::vector<stream_position> ends{stream_position{1, 0}};
  {
    auto opened = file_log::open(dir, options());
    QUORUM_FUZZ_CHECK(opened.has_value());  // a new log opens
    file_log log = std::move(*opened);
    ends.front() = log.position();
    const int ops = in.ConsumeIntegralInRange<int>(1, 40);
    for (int k = 0; k < ops; ++k) {
      memory_log next = models.back();
      switch (in.ConsumeIntegralInRange<int>(0, 5)) {
        case 0:
        case 1: {
          const std::string rec = in.ConsumeRandomLengthString(150);
          QUORUM_FUZZ_CHECK(log.append(as_bytes(rec)).has_value());
          (void)next.append(as_bytes(rec));
          break;
        }
        case 2: {
          const std::string st = in.ConsumeRandomLengthString(24);
          QUORUM_FUZZ_CHECK(log.save_state(as_bytes(st)).has_value());
          (void)next.save_state(as_bytes(st));
          break;
        }
        case 3: {
          if (log.last_index() < log.first_index()) continue;
          const auto to = in.ConsumeIntegralInRange<std::uint64_t>(log.first_index().value(), log.last_index().value());
          QUORUM_FUZZ_CHECK(log.truncate(log_index{to}).has_value());
          (void)next.truncate(log_index{to});
          break;
        }
        case 4: {
          const auto to =
              in.ConsumeIntegralInRange<std::uint64_t>(log.first_index().value(), log.last_index().value() + 1);
          QUORUM_FUZZ_CHECK(log.compact(log_index{to}).has_value());
          (void)next.compact(log_index{to});
          break;
        }
        case 5:
          QUORUM_FUZZ_CHECK(log.sync().has_value());
          break;
      }
      models.push_back(std::move(next));
      ends.push_back(log.position());
    }
  }
  image files = read_dir(dir);

  // The damage.
  bool only_a_cut = true;
  std::uint64_t cut_seq = 0;
  std::size_t cut_at = 0;
  const int damages = in.ConsumeIntegralInRange<int>(0, 3);
  for (int d = 0; d < damages && !files.empty(); ++d) {
    auto it = files.begin();
    std::advance(it, in.ConsumeIntegralInRange<std::size_t>(0, files.size() - 1));
    byte_buffer& b = it->second;
    const int what = in.ConsumeIntegralInRange<int>(0, 4);
    std::uint64_t seq = 0;
    const bool last = std::next(it) == files.end() && storage::detail::parse_segment_name(it->first, seq);
    if (what == 0 && last) {  // the tail of the last segment cut off (a torn write)
      const auto at = in.ConsumeIntegralInRange<std::size_t>(0, b.size());
      b.resize(at);
      if (cut_seq == 0 || at < cut_at) cut_at = at;
      cut_seq = seq;
      continue;
    }
    only_a_cut = false;
    if (what == 1 && !b.empty()) {
      const auto bit = in.ConsumeIntegralInRange<std::size_t>(0, b.size() * 8 - 1);
      b[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    } else if (what == 2 && !b.empty()) {
      const auto from = in.ConsumeIntegralInRange<std::size_t>(0, b.size() - 1);
      const auto n = in.ConsumeIntegralInRange<std::size_t>(1, b.size() - from);
      std::fill(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + n),
                std::byte{0});
    } else if (what == 3) {
      files.erase(it);
    } else {
      const std::string junk = in.ConsumeRandomLengthString(64);
      b.insert(b.end(), reinterpret_cast<const std::byte*>(junk.data()),
               reinterpret_cast<const std::byte*>(junk.data()) + junk.size());
    }
  }
  write_dir(dir, files);

  auto opened = file_log::open(dir, options());
  if (!opened) {
    QUORUM_FUZZ_CHECK(!opened.error().message.empty());
    QUORUM_FUZZ_CHECK(!only_a_cut);  // a torn tail is recovered, never refused
    return 0;
  }
  file_log log = std::move(*opened);
  if (only_a_cut) {
    std::size_t k = models.size() - 1;
    if (cut_seq != 0) {  // the operations whose frames end at or before the cut
      k = 0;
      const auto before_cut = [&](const stream_position& p) {
        return p.seq < cut_seq || (p.seq == cut_seq && p.offset <= cut_at);
      };
      while (k + 1 < models.size() && before_cut(ends[k + 1])) ++k;
    }
    QUORUM_FUZZ_CHECK(consistent(log, models[k]));
  } else {
    std::size_t k = 0;
    while (k < models.size() && !consistent(log, models[k])) ++k;
    QUORUM_FUZZ_CHECK(k < models.size());  // nothing invented, nothing out of order
  }
  // It goes on: an append and a sync, and a reopen shows them.
  contents expected{log};
  const std::string more = "more";
  QUORUM_FUZZ_CHECK(log.append(as_bytes(more)).has_value());
  expected.records.emplace_back(reinterpret_cast<const std::byte*>(more.data()),
                                reinterpret_cast<const std::byte*>(more.data()) + more.size());
  QUORUM_FUZZ_CHECK(log.sync().has_value());
  { file_log gone = std::move(log); }
  auto again = file_log::open(dir, options());
  QUORUM_FUZZ_CHECK(again.has_value());
  QUORUM_FUZZ_CHECK(contents{*again} == expected);
  return 0;
}
