// quorum-kv's log_syncer (examples/kv/log_syncer.hpp): the fdatasyncs run on
// its thread and come back on the io_context in submission order, the last
// ticket always among them, and a job that covers the one queued before it
// takes its place, so a stalled disk cannot pile up descriptors.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../../examples/kv/log_syncer.hpp"

namespace {

using quorum::storage::file_log;

struct scratch {
  std::string path;
  scratch() {
    std::string t = (std::filesystem::temp_directory_path() / "quorum-log-syncer-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("log_syncer: outcomes come back in order, the last ticket among them, and the log is durable after") {
  scratch dir;
  auto opened = file_log::open(dir.path);
  REQUIRE(opened);
  file_log& log = *opened;
  asio::io_context io;
  const auto work = asio::make_work_guard(io);  // run_one() waits for the thread's posts
  std::vector<quorum::sync_ticket> reported;
  kv::log_syncer syncer{io, [&](kv::log_syncer::job& j, const quorum::result<void>& r) {
                          CHECK(r);
                          CHECK(log.end_sync(j.sync, r));
                          reported.push_back(j.ticket);
                        }};
  const std::string record(100, 'x');
  constexpr std::uint64_t jobs = 200;
  for (std::uint64_t k = 1; k <= jobs; ++k) {
    REQUIRE(log.append(quorum::as_bytes(record)));
    auto s = log.begin_sync();
    REQUIRE(s);
    REQUIRE(s->needed());
    syncer.submit(kv::log_syncer::job{std::move(*s), quorum::sync_ticket{k, 0}});
  }
  const auto written = log.position();
  while (reported.empty() || reported.back().position != jobs) io.run_one();
  CHECK(reported.size() <= jobs);  // covered jobs were replaced, not run
  for (std::size_t k = 1; k < reported.size(); ++k) CHECK(reported[k - 1].position < reported[k].position);
  CHECK(log.durable_position() == written);
  MESSAGE(jobs, " syncs submitted, ", reported.size(), " run");
}
