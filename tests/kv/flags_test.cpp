// quorum-kv's command line: the example parses, and each mistake is a
// usage error that names the flag.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../../examples/kv/flags.hpp"

namespace {

std::optional<std::string> parse(std::vector<std::string> args, kv::flags& f) {
  args.insert(args.begin(), "quorum-kv");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return kv::parse_flags(static_cast<int>(argv.size()), argv.data(), f);
}

std::string error_of(std::vector<std::string> args) {
  kv::flags f;
  auto e = parse(std::move(args), f);
  return e ? *e : std::string{"(no error)"};
}

const std::string cluster = "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003";

}  // namespace

TEST_CASE("the issue's command line parses") {
  kv::flags f;
  REQUIRE(!parse({"--id", "1", "--cluster", cluster, "--listen", "127.0.0.1:6381", "--data", "./data1", "--protocol",
                  "paxos", "--snapshot-every=500"},
                 f));
  CHECK(f.id == quorum::node_id{1});
  REQUIRE(f.cluster.size() == 3);
  CHECK(f.cluster[2].id == quorum::node_id{3});
  CHECK(f.cluster[2].host == "127.0.0.1");
  CHECK(f.cluster[2].port == 7003);
  CHECK(f.listen_port == 6381);
  CHECK(f.data_dir == "./data1");
  CHECK(f.protocol == "paxos");
  CHECK(f.snapshot_every == 500);
  kv::flags d;
  REQUIRE(!parse({"--id", "2", "--cluster", cluster, "--listen", "127.0.0.1:6382", "--data", "d"}, d));
  CHECK(d.protocol == "raft");
  CHECK_FALSE(d.leader_sync_thread);
  kv::flags t;
  REQUIRE(!parse({"--id", "2", "--cluster", cluster, "--listen", "127.0.0.1:6382", "--data", "d", "--leader-sync",
                  "thread"},
                 t));
  CHECK(t.leader_sync_thread);
  CHECK(d.write_pacing_us == 100);
  kv::flags w;
  REQUIRE(!parse({"--id", "2", "--cluster", cluster, "--listen", "127.0.0.1:6382", "--data", "d", "--write-pacing-us",
                  "0"},
                 w));
  CHECK(w.write_pacing_us == 0);
  kv::flags most;
  REQUIRE(!parse({"--id", "2", "--cluster", cluster, "--listen", "127.0.0.1:6382", "--data", "d",
                  "--write-pacing-us=100000"},
                 most));
  CHECK(most.write_pacing_us == 100000);
  CHECK(d.max_client_output_mb == 256);
  kv::flags out;
  REQUIRE(!parse(
      {"--id", "2", "--cluster", cluster, "--listen", "127.0.0.1:6382", "--data", "d", "--max-client-output-mb", "1"},
      out));
  CHECK(out.max_client_output_mb == 1);
}

TEST_CASE("mistakes are usage errors naming the flag") {
  const std::vector<std::string> ok{"--cluster", cluster, "--listen", "127.0.0.1:6381", "--data", "d"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = ok;
    all.insert(all.end(), extra.begin(), extra.end());
    return error_of(all);
  };
  CHECK(error_of(ok) == "missing --id");
  CHECK(with({"--id", "4"}) == "--id 4 is not in --cluster");
  CHECK(with({"--id", "0"}).starts_with("--id: expected a positive integer"));
  CHECK(with({"--id", "1x"}).starts_with("--id: expected a positive integer"));
  CHECK(with({"--id", "1", "--protocol", "zab"}) == "--protocol: expected raft or paxos, got 'zab'");
  CHECK(with({"--id", "1", "--speed", "3"}) == "unknown flag '--speed'");
  CHECK(with({"--id", "1", "--leader-sync", "async"}) == "--leader-sync: expected inline or thread, got 'async'");
  CHECK(with({"--id", "1", "--protocol", "paxos", "--leader-sync", "thread"}) ==
        "--leader-sync thread: only with --protocol raft");
  CHECK(with({"--id", "1", "--write-pacing-us", "100001"}) == "--write-pacing-us: expected 0 to 100000, got '100001'");
  CHECK(with({"--id", "1", "--write-pacing-us", "-1"}) == "--write-pacing-us: expected 0 to 100000, got '-1'");
  CHECK(with({"--id", "1", "--max-client-output-mb", "0"}) == "--max-client-output-mb: expected 1 to 65536, got '0'");
  CHECK(with({"--id", "1", "--max-client-output-mb", "65537"}) ==
        "--max-client-output-mb: expected 1 to 65536, got '65537'");
  CHECK(with({"--id"}) == "--id: missing value");
  CHECK(error_of({"--id", "1", "--cluster", "1=127.0.0.1:7001,1=127.0.0.1:7002", "--listen", "h:1", "--data", "d"}) ==
        "--cluster: id 1 given twice");
  CHECK(error_of({"--id", "1", "--cluster", "1=127.0.0.1", "--listen", "h:1", "--data", "d"})
            .starts_with("--cluster: '1=127.0.0.1'"));
  CHECK(error_of({"--id", "1", "--cluster", "1=h:99999", "--listen", "h:1", "--data", "d"})
            .find("over 65535") != std::string::npos);
  CHECK(error_of({"--id", "1", "--cluster", cluster, "--listen", "nowhere", "--data", "d"}).starts_with("--listen:"));
}
