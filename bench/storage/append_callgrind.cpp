// Not Google Benchmark: a fixed workload for instruction counts under
// valgrind --tool=callgrind (bench/README.md). Appends `records` records of
// `bytes` bytes (a 2-byte head, as raft_log's entry header, and a body) to a
// file_log without fsync, either one append_run per `run` records or one
// append each after joining head and body in a reused buffer (what raft_log
// does for a Log without append_run), then syncs once.
//   quorum-storage-callgrind run|each RUN BYTES [RECORDS]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/storage.hpp"

using namespace quorum;
using namespace quorum::storage;

int main(int argc, char** argv) {
  if (argc < 4 || (std::string_view{argv[1]} != "run" && std::string_view{argv[1]} != "each")) {
    std::fprintf(stderr, "usage: %s run|each RUN BYTES [RECORDS]\n", argv[0]);
    return 2;
  }
  const bool by_run = std::string_view{argv[1]} == "run";
  const std::size_t run = std::strtoull(argv[2], nullptr, 10), bytes = std::strtoull(argv[3], nullptr, 10);
  const std::size_t records = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 65536;
  if (run == 0 || bytes < 2 || records % run != 0) {
    std::fprintf(stderr, "RUN > 0, BYTES >= 2, RECORDS a multiple of RUN\n");
    return 2;
  }
  std::string dir = (std::filesystem::temp_directory_path() / "quorum-cg-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return 1;
  int rc = 0;
  {
    file_log_options o;
    o.segment_bytes = std::uint64_t{64} << 20;
    o.fsync = false;
    auto log = file_log::open(dir, o);
    if (!log) return 1;
    const byte_buffer head(2, std::byte{0x01}), body(bytes - 2, std::byte{0x5a});
    const std::vector<record_parts> parts(run, record_parts{head, body});
    byte_buffer joined;
    for (std::size_t done = 0; done < records && rc == 0; done += run) {
      if (by_run) {
        if (!log->append_run(parts)) rc = 1;
        continue;
      }
      for (std::size_t k = 0; k < run; ++k) {
        joined.assign(head.begin(), head.end());
        joined.insert(joined.end(), body.begin(), body.end());
        if (!log->append(joined)) rc = 1;
      }
    }
    if (!log->sync()) rc = 1;
    std::printf("%s run %zu bytes %zu: %zu records, last index %llu\n", argv[1], run, bytes, records,
                static_cast<unsigned long long>(log->last_index().value()));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
