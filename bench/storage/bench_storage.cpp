// file_log append+sync: group commit (N records per fdatasync) against one
// sync per record (N = 1), for 64-byte and 4 KiB records, in a scratch
// directory under $TMPDIR (a real disk, so fdatasync costs what it costs);
// memory_log append for reference. Reports records/s and bytes/s.
// file_log_append_run against file_log_append_each: the same records (a
// 2-byte head, as raft_log's entry header, and a body) buffered by one
// append_run per `run` records, or one append each after joining head and
// body in a reused buffer (what raft_log does for a Log without append_run).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "quorum/storage.hpp"

namespace {

using namespace quorum;
using namespace quorum::storage;

class scratch {
 public:
  scratch() {
    std::string templ = (std::filesystem::temp_directory_path() / "quorum-bench-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    path_ = templ;
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void file_log_group_commit(benchmark::State& st) {
  const auto per_sync = static_cast<std::size_t>(st.range(0));
  const auto size = static_cast<std::size_t>(st.range(1));
  scratch dir;
  file_log_options o;
  o.segment_bytes = std::uint64_t{8} << 20;
  if (st.range(2) == 0) o.preallocate_bytes = 0;  // every append grows the file: fdatasync writes its metadata too
  auto opened = file_log::open(dir.path(), o);
  if (!opened) {
    st.SkipWithError(opened.error().message.c_str());
    return;
  }
  file_log log = std::move(*opened);
  const byte_buffer record(size, std::byte{0x5a});
  for (auto _ : st) {
    for (std::size_t k = 0; k < per_sync; ++k)
      if (!log.append(record)) st.SkipWithError("append failed");
    if (!log.sync()) st.SkipWithError("sync failed");
    // Keep the directory small: old segments go at the next sync.
    if (log.last_index().value() % 4096 < per_sync && !log.compact(log.last_index()))
      st.SkipWithError("compact failed");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * per_sync));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * per_sync * size));
  st.counters["syncs"] = static_cast<double>(log.sync_count());
}

void memory_log_append(benchmark::State& st) {
  const auto size = static_cast<std::size_t>(st.range(0));
  memory_log log;
  const byte_buffer record(size, std::byte{0x5a});
  for (auto _ : st) {
    auto at = log.append(record);
    benchmark::DoNotOptimize(at);
    // Compact as a Raft node behind a snapshot does: the prefix, keeping a tail.
    if (at->value() % 4096 == 0 && !log.compact(*at - 1024)) st.SkipWithError("compact failed");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * size));
}

void file_log_append_buffered(benchmark::State& st) {
  const auto size = static_cast<std::size_t>(st.range(0));
  scratch dir;
  file_log_options o;
  o.segment_bytes = std::uint64_t{8} << 20;
  o.fsync = false;
  auto opened = file_log::open(dir.path(), o);
  if (!opened) {
    st.SkipWithError(opened.error().message.c_str());
    return;
  }
  file_log log = std::move(*opened);
  const byte_buffer record(size, std::byte{0x5a});
  for (auto _ : st) {
    auto at = log.append(record);
    benchmark::DoNotOptimize(at);
    if (at->value() % 16384 == 0) {
      if (!log.compact(at->next()) || !log.sync()) st.SkipWithError("compact failed");
    }
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * size));
}

// A log without fsync whose segments stay few: compact and sync (which then
// removes the dead segments) every 16 Ki records.
std::optional<file_log> open_buffered(benchmark::State& st, const scratch& dir) {
  file_log_options o;
  o.segment_bytes = std::uint64_t{8} << 20;
  o.fsync = false;
  auto opened = file_log::open(dir.path(), o);
  if (!opened) {
    st.SkipWithError(opened.error().message.c_str());
    return std::nullopt;
  }
  return std::optional<file_log>{std::move(*opened)};
}

void keep_small(benchmark::State& st, file_log& log, std::size_t run) {
  if (log.last_index().value() % 16384 < run && (!log.compact(log.last_index().next()) || !log.sync()))
    st.SkipWithError("compact failed");
}

void file_log_append_run(benchmark::State& st) {
  const auto run = static_cast<std::size_t>(st.range(0));
  const auto size = static_cast<std::size_t>(st.range(1));
  scratch dir;
  auto log = open_buffered(st, dir);
  if (!log) return;
  const byte_buffer head(2, std::byte{0x01}), body(size - 2, std::byte{0x5a});
  const std::vector<record_parts> parts(run, record_parts{head, body});
  for (auto _ : st) {
    auto at = log->append_run(parts);
    benchmark::DoNotOptimize(at);
    keep_small(st, *log, run);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * run));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * run * size));
}

void file_log_append_each(benchmark::State& st) {
  const auto run = static_cast<std::size_t>(st.range(0));
  const auto size = static_cast<std::size_t>(st.range(1));
  scratch dir;
  auto log = open_buffered(st, dir);
  if (!log) return;
  const byte_buffer head(2, std::byte{0x01}), body(size - 2, std::byte{0x5a});
  byte_buffer joined;
  for (auto _ : st) {
    for (std::size_t k = 0; k < run; ++k) {
      joined.assign(head.begin(), head.end());
      joined.insert(joined.end(), body.begin(), body.end());
      auto at = log->append(joined);
      benchmark::DoNotOptimize(at);
    }
    keep_small(st, *log, run);
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * run));
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * run * size));
}

}  // namespace

BENCHMARK(file_log_group_commit)
    ->ArgNames({"records_per_sync", "bytes", "preallocate"})
    ->ArgsProduct({{1, 8, 64, 512}, {64, 4096}, {1, 0}})
    ->MinTime(0.5)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(file_log_append_buffered)->ArgName("bytes")->Arg(64)->Arg(4096)->MinTime(0.3)->UseRealTime();
BENCHMARK(file_log_append_each)
    ->ArgNames({"run", "bytes"})
    ->ArgsProduct({{8, 64}, {64, 4096}})
    ->MinTime(0.3)
    ->UseRealTime();
BENCHMARK(file_log_append_run)
    ->ArgNames({"run", "bytes"})
    ->ArgsProduct({{8, 64}, {64, 4096}})
    ->MinTime(0.3)
    ->UseRealTime();
BENCHMARK(memory_log_append)->ArgName("bytes")->Arg(64)->Arg(4096)->MinTime(0.3)->UseRealTime();

BENCHMARK_MAIN();
