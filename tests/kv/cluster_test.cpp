// quorum-kv for real: three processes on loopback, driven through a small
// RESP client. Writes and INCRs through every node; the leader killed with
// SIGKILL and writes go on; it restarts and catches up; then every node is
// killed at once and restarted, and no acknowledged write may be missing.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "kv_cluster.hpp"
#include "resp_client.hpp"

#ifndef QUORUM_KV_BINARY
#error "QUORUM_KV_BINARY names the quorum-kv executable"
#endif
#ifndef KV_TEST_DIR
#error "KV_TEST_DIR names a scratch directory"
#endif

using namespace std::chrono_literals;
using kv_test::reply;
using kv_test::resp_client;
using steady = std::chrono::steady_clock;

namespace {

// Three members on loopback ports.
class cluster : public kv_test::process_cluster {
 public:
  explicit cluster(std::string protocol, std::vector<std::string> extra_args = {})
      : process_cluster{QUORUM_KV_BINARY, std::move(protocol), KV_TEST_DIR, kv_test::loopback_members(3), 20, {},
                        std::move(extra_args)} {}
};

// Runs args on node `first`, then the others in turn, until a reply that is
// not TRYAGAIN or TIMEOUT (no leader yet, leader changed, outcome unknown),
// for up to 20 s. Retrying SET is safe (same value); a retried INCR may count
// twice, which is what its checks allow for.
reply until_answered(cluster& c, int first, const std::vector<std::string>& args) {
  const auto deadline = steady::now() + 20s;
  for (int attempt = 0; steady::now() < deadline; ++attempt) {
    const int n = (first + attempt) % 3;
    if (!c.running(n)) continue;
    resp_client client{c.port(n)};
    auto r = client.command(args);
    if (r && !(r->is_error() && (r->text.starts_with("TRYAGAIN") || r->text.starts_with("TIMEOUT")))) return *r;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("no answer within 20 s to ", args[0]);
  return {};
}

struct history {
  std::map<std::string, std::string> acknowledged;  // key -> value of every acknowledged SET
  std::vector<long long> increments;                // every acknowledged INCR value, in order
};

void write_some(cluster& c, history& h, int from, int to) {
  for (int i = from; i < to; ++i) {
    const std::string key = "key" + std::to_string(i), value = "value" + std::to_string(i);
    const reply set = until_answered(c, i % 3, {"SET", key, value});
    REQUIRE(set.type == '+');
    CHECK(set.text == "OK");
    h.acknowledged[key] = value;
    const reply incr = until_answered(c, (i + 1) % 3, {"INCR", "counter"});
    REQUIRE(incr.type == ':');
    // A single client's INCRs are sequential: each acknowledged value is larger than the last.
    if (!h.increments.empty()) CHECK(incr.integer > h.increments.back());
    h.increments.push_back(incr.integer);
  }
}

void check_everything(cluster& c, const history& h) {
  for (int n = 0; n < 3; ++n) {
    for (const auto& kv : h.acknowledged) {
      const std::string& key = kv.first;
      const reply r = until_answered(c, n, {"GET", key});
      REQUIRE(r.type == '$');
      CHECK_MESSAGE(r.text == kv.second, "node ", n + 1, " key ", key);
    }
    const reply counter = until_answered(c, n, {"GET", "counter"});
    REQUIRE(counter.type == '$');
    CHECK(std::stoll(counter.text) >= h.increments.back());
  }
}

void survives_kill9(const std::string& protocol, const std::vector<std::string>& extra_args = {}) {
  cluster c{protocol, extra_args};
  for (int i = 0; i < 3; ++i) c.start(i);
  const int first_leader = c.wait_leader();
  REQUIRE(first_leader >= 0);
  CHECK(c.info(first_leader)["protocol"] == protocol);

  const bool on_thread = !extra_args.empty();
  CHECK(c.info(first_leader)["leader_sync"] == (on_thread ? "thread" : "inline"));

  history h;
  write_some(c, h, 0, 30);
  if (protocol == "raft") {  // the leader's syncs were started and finished on the thread, or all inline
    const std::string started = c.info(first_leader)["syncs_started"];
    REQUIRE_FALSE(started.empty());
    CHECK((std::stoull(started) > 0) == on_thread);
  }

  // A pipeline through a follower (forwarded) comes back in request order.
  {
    const int follower = (first_leader + 1) % 3;
    resp_client p{c.port(follower)};
    REQUIRE(p.send_raw("*3\r\n$3\r\nSET\r\n$4\r\npipe\r\n$2\r\n41\r\n*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n"
                       "*2\r\n$3\r\nGET\r\n$4\r\npipe\r\nPING\r\n"));
    auto a = p.read_reply(), b = p.read_reply(), g = p.read_reply(), ping = p.read_reply();
    REQUIRE((a && b && g && ping));
    CHECK(a->text == "OK");
    CHECK(b->integer == 42);
    CHECK(g->text == "42");
    CHECK(ping->text == "PONG");
    h.acknowledged["pipe"] = "42";
  }

  // The leader dies without warning; the other two elect a new one and go on.
  const auto killed_at = steady::now();
  c.kill9(first_leader);
  write_some(c, h, 30, 31);
  const auto recovery = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - killed_at);
  MESSAGE("first write acknowledged ", recovery.count(), " ms after SIGKILL of the leader");
  write_some(c, h, 31, 60);
  const int second_leader = c.wait_leader();
  REQUIRE(second_leader >= 0);
  CHECK(second_leader != first_leader);

  // It comes back from its own disk and catches up.
  c.start(first_leader);
  const auto target = std::stoull(c.info(second_leader)["commit_index"]);
  const auto deadline = steady::now() + 15s;
  while (steady::now() < deadline) {
    auto i = c.info(first_leader);
    if (!i["applied_index"].empty() && std::stoull(i["applied_index"]) >= target) break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(std::stoull(c.info(first_leader)["applied_index"]) >= target);
  write_some(c, h, 60, 70);

  // Snapshots were taken (every 20 entries) and the log compacted behind them.
  CHECK(std::stoull(c.info(second_leader)["snapshot_index"]) > 0);

  // Everyone dies at once: only what was durable on disk survives, and that must be every acknowledged write.
  for (int i = 0; i < 3; ++i) c.kill9(i);
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(c.wait_leader() >= 0);
  check_everything(c, h);
}

}  // namespace

TEST_CASE("raft: a 3-node cluster keeps every acknowledged write through kill -9 of the leader and of everyone") {
  survives_kill9("raft");
}

TEST_CASE("raft, --leader-sync thread: every acknowledged write survives kill -9 of the leader and of everyone") {
  survives_kill9("raft", {"--leader-sync", "thread"});
}

TEST_CASE("paxos: a 3-node cluster keeps every acknowledged write through kill -9 of the leader and of everyone") {
  survives_kill9("paxos");
}

TEST_CASE("bad RESP gets an error and a closed connection and the server keeps serving") {
  cluster c{"raft"};
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(c.wait_leader() >= 0);
  for (const std::string& bad : {std::string{"*1\r\n$-5\r\n"}, std::string{"*1\r\n$999999999\r\n"},
                                std::string{"*2\r\n+x\r\n"}, std::string{"\"unbalanced\r\n"}}) {
    resp_client client{c.port(0)};
    REQUIRE(client.send_raw(bad));
    auto r = client.read_reply();
    REQUIRE(r);
    CHECK(r->is_error());
    CHECK(r->text.starts_with("ERR Protocol error"));
    CHECK(client.closed_by_peer());
  }
  resp_client ok{c.port(0)};
  auto unknown = ok.command({"FLUSHALL"});
  REQUIRE(unknown);
  CHECK(unknown->text == "ERR unknown command 'FLUSHALL'");
  auto pong = ok.command({"PING"});
  REQUIRE(pong);
  CHECK(pong->text == "PONG");
  // An unknown command whose name holds CRLF: its error stays one reply, so
  // the "+OK" inside it is not read as the reply to the PING after it.
  REQUIRE(ok.send_raw("*1\r\n$9\r\nFO\r\n+OK\r\n\r\n*1\r\n$4\r\nPING\r\n"));
  const auto injected = ok.read_reply();
  REQUIRE(injected);
  CHECK(injected->is_error());
  CHECK(injected->text == "ERR unknown command 'FO  +OK  '");
  pong = ok.read_reply();
  REQUIRE(pong);
  CHECK(pong->text == "PONG");
  const reply set = until_answered(c, 0, {"SET", "still", "works"});
  CHECK(set.text == "OK");
}

// A client that asks for more than it reads: 512 pipelined GETs of a 64 KiB
// value (32 MiB of replies) against a 1 MiB --max-client-output-mb. Its
// connection is closed before the replies pile up; the server goes on.
TEST_CASE("a client's unsent replies are bounded: past --max-client-output-mb its connection is closed") {
  cluster c{"raft", {"--max-client-output-mb", "1"}};
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(c.wait_leader() >= 0);
  const std::string big(64 << 10, 'b');
  REQUIRE(until_answered(c, 0, {"SET", "big", big}).text == "OK");
  const int leader = c.wait_leader();
  REQUIRE(leader >= 0);
  resp_client greedy{c.port(leader), 30000};
  std::string gets;
  constexpr int asked = 512;
  for (int i = 0; i < asked; ++i) gets += "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
  REQUIRE(greedy.send_raw(gets));
  const auto start = steady::now();
  int answered = 0;
  while (const auto r = greedy.read_reply()) {  // until the connection ends
    REQUIRE(r->text == big);
    ++answered;
  }
  CHECK(steady::now() - start < 15s);  // ended by the server, not by the client's 30 s timeout
  CHECK(answered < asked);
  CHECK(answered <= 16);  // 1 MiB holds 16 replies of 64 KiB and a bit: none past that is kept
  resp_client next{c.port(leader)};
  const auto get = next.command({"GET", "big"});
  REQUIRE(get);
  CHECK(get->text == big);
  CHECK(c.running(leader));
}

namespace {

// A read pipelined behind a write on one connection waits for the write's
// reply; that reply is given while the node applies the write, from inside
// its state machine callback. Running the waiting read right there would call
// the node from inside itself: quorum-kv aborts on that (a guard in
// server.hpp), so a connection that breaks here is the bug.
void pipelined_reads_behind_writes(const std::string& protocol) {
  cluster c{protocol};
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(c.wait_leader() >= 0);
  REQUIRE(until_answered(c, 0, {"SET", "warm", "up"}).text == "OK");  // a leader that has committed
  const int leader = c.wait_leader();
  REQUIRE(leader >= 0);
  for (const int target : {leader, (leader + 1) % 3}) {  // locally, and forwarded by a follower
    resp_client client{c.port(target)};
    std::string burst;
    const auto command = [&](std::initializer_list<std::string> args) {
      burst.append(1, '*').append(std::to_string(args.size())).append("\r\n");
      for (const auto& a : args)
        burst.append(1, '$').append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
    };
    const auto numbered = [](char prefix, int i) { return std::string(1, prefix).append(std::to_string(i)); };
    constexpr int rounds = 50;
    for (int i = 0; i < rounds; ++i) {
      const std::string key = numbered('p', target).append(1, '-').append(std::to_string(i));
      command({"SET", key, numbered('v', i)});
      command({"GET", key});
      command({"SET", key, numbered('w', i)});
      command({"SET", std::string{key}.append(1, 'x'), "y"});
      command({"GET", key});
    }
    REQUIRE(client.send_raw(burst));
    for (int i = 0; i < rounds; ++i) {
      const auto set1 = client.read_reply();
      const auto get1 = client.read_reply();
      const auto set2 = client.read_reply();
      const auto set3 = client.read_reply();
      const auto get2 = client.read_reply();
      REQUIRE(set1);
      REQUIRE(get1);
      REQUIRE(set2);
      REQUIRE(set3);
      REQUIRE(get2);
      CHECK(set1->text == "OK");
      // A read sees the writes before it on its connection; it may see the
      // one after it too (that write is not held back for it).
      CHECK((get1->text == numbered('v', i) || get1->text == numbered('w', i)));
      CHECK(set2->text == "OK");
      CHECK(set3->text == "OK");
      CHECK(get2->text == numbered('w', i));
    }
    const auto pong = client.command({"PING"});
    REQUIRE(pong);
    CHECK(pong->text == "PONG");
  }
  for (int i = 0; i < 3; ++i) CHECK(!c.info(i).empty());  // every member still runs
}

}  // namespace

TEST_CASE("raft: reads pipelined behind writes wait for them without re-entering the node") {
  pipelined_reads_behind_writes("raft");
}

TEST_CASE("paxos: reads pipelined behind writes wait for them without re-entering the node") {
  pipelined_reads_behind_writes("paxos");
}

namespace {

// Replies leave by a direct non-blocking send, and a connection stops being
// read while it has max_pipeline (1,024) requests unanswered. A pipeline of
// 2,500 writes in one send must pause at that bound and go on once replies
// leave (nothing else would wake it: the socket is not read meanwhile); and
// 4 MiB of replies the client does not read at once overflow the socket's
// buffer, so the rest must follow when it drains, in order.
void long_pipelines_and_large_replies(const std::string& protocol) {
  cluster c{protocol};
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(c.wait_leader() >= 0);
  REQUIRE(until_answered(c, 0, {"SET", "warm", "up"}).text == "OK");
  const int leader = c.wait_leader();
  REQUIRE(leader >= 0);
  const auto command = [](std::string& out, std::initializer_list<std::string> args) {
    out.append(1, '*').append(std::to_string(args.size())).append("\r\n");
    for (const auto& a : args)
      out.append(1, '$').append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  };
  for (const int target : {leader, (leader + 1) % 3}) {  // locally, and forwarded by a follower
    resp_client client{c.port(target), 20000};
    const std::string counter = "count" + std::to_string(target);
    std::string burst;
    constexpr int writes = 2500;
    for (int i = 0; i < writes; ++i) command(burst, {"INCR", counter});
    command(burst, {"GET", counter});
    REQUIRE(client.send_raw(burst));
    int in_order = 0;
    for (int i = 1; i <= writes; ++i) {
      const auto r = client.read_reply();
      REQUIRE(r);
      if (r->integer == i) ++in_order;
    }
    CHECK(in_order == writes);
    const auto total = client.read_reply();
    REQUIRE(total);
    CHECK(total->text == std::to_string(writes));

    const std::string big(64 << 10, static_cast<char>('a' + target));
    const auto set = client.command({"SET", "big" + counter, big});
    REQUIRE(set);
    CHECK(set->text == "OK");
    std::string gets;
    constexpr int reads = 64;
    for (int i = 0; i < reads; ++i) command(gets, {"GET", "big" + counter});
    command(gets, {"PING"});
    REQUIRE(client.send_raw(gets));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server meets a full socket buffer
    int whole = 0;
    for (int i = 0; i < reads; ++i) {
      const auto r = client.read_reply();
      REQUIRE(r);
      if (r->text == big) ++whole;
    }
    CHECK(whole == reads);
    const auto pong = client.read_reply();
    REQUIRE(pong);
    CHECK(pong->text == "PONG");
  }
}

}  // namespace

TEST_CASE("raft: a pipeline past the per-connection bound and replies past the socket buffer arrive whole, in order") {
  long_pipelines_and_large_replies("raft");
}

TEST_CASE("paxos: a pipeline past the per-connection bound and replies past the socket buffer arrive whole, in order") {
  long_pipelines_and_large_replies("paxos");
}

namespace {

// A follower serves reads itself, at a read index the leader confirmed after
// the read arrived: a write acknowledged by the leader is seen by a read asked
// of a follower right after, however far that follower's own apply lags.
void follower_reads_see_acknowledged_writes(const std::string& protocol) {
  cluster c{protocol};
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(c.wait_leader() >= 0);
  REQUIRE(until_answered(c, 0, {"SET", "warm", "up"}).text == "OK");
  const int leader = c.wait_leader();
  REQUIRE(leader >= 0);
  resp_client writer{c.port(leader)};
  resp_client readers[2] = {resp_client{c.port((leader + 1) % 3)}, resp_client{c.port((leader + 2) % 3)}};
  for (int i = 0; i < 300; ++i) {
    const std::string value = std::to_string(i);
    const auto set = writer.command({"SET", "k", value});
    REQUIRE(set);
    REQUIRE(set->text == "OK");
    const auto get = readers[i % 2].command({"GET", "k"});
    REQUIRE(get);
    CHECK(get->text == value);
  }
}

}  // namespace

TEST_CASE("raft: a read at a follower sees every write acknowledged before it") {
  follower_reads_see_acknowledged_writes("raft");
}

TEST_CASE("paxos: a read at a follower sees every write acknowledged before it") {
  follower_reads_see_acknowledged_writes("paxos");
}

namespace {

// Closed-loop writers, as redis-benchmark's clients: each sends an INCR,
// waits for the reply, sends the next. With the write pacer on (the
// default), the leader holds some turns' writes for the batch in flight or
// for the clients it just answered; with --write-pacing-us 0 it never does.
// Either way every acknowledged INCR value is unique and none is lost.
void closed_loop_writers(const std::string& protocol, bool paced) {
  std::vector<std::string> extra;
  if (!paced) extra = {"--write-pacing-us", "0"};
  cluster c{protocol, extra};
  for (int i = 0; i < 3; ++i) c.start(i);
  REQUIRE(until_answered(c, 0, {"SET", "warm", "up"}).text == "OK");
  const int leader = c.wait_leader();
  REQUIRE(leader >= 0);
  CHECK(c.info(leader)["write_pacing_us"] == (paced ? "100" : "0"));

  constexpr int writers = 8, each = 150;
  std::vector<std::vector<long long>> seen(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      resp_client client{c.port(leader)};
      for (int i = 0; i < each; ++i) {
        const auto r = client.command({"INCR", "paced"});
        if (r && r->type == ':') seen[w].push_back(r->integer);  // an error (leadership moved) acknowledges nothing
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<long long> all;
  for (const auto& s : seen) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.size() > writers * each / 2);  // a healthy cluster answers (nearly) all of them
  const reply total = until_answered(c, leader, {"GET", "paced"});
  REQUIRE(total.type == '$');
  CHECK(std::stoll(total.text) >= static_cast<long long>(all.size()));
  if (!all.empty()) CHECK(std::stoll(total.text) >= all.back());

  unsigned long long held = 0;
  for (int n = 0; n < 3; ++n) held += std::stoull(c.info(n)["write_turns_held"]);
  MESSAGE(protocol, std::string{paced ? " paced" : " unpaced"}, ": ", all.size(), " INCRs acknowledged, ", held,
          " turns held");
  if (paced) CHECK(held > 0);
  else CHECK(held == 0);
}

}  // namespace

TEST_CASE("raft: closed-loop writers, paced and not: every acknowledged INCR unique, none lost") {
  closed_loop_writers("raft", true);
  closed_loop_writers("raft", false);
}

TEST_CASE("paxos: closed-loop writers, paced and not: every acknowledged INCR unique, none lost") {
  closed_loop_writers("paxos", true);
  closed_loop_writers("paxos", false);
}
