// trace_writer: DESIGN.md's JSON Lines, one object per event with the table's
// fields, strings escaped so any value yields valid JSON, flushed on destruction.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "quorum/sim/trace.hpp"

using namespace std::chrono_literals;
using quorum::node_id;
using quorum::sim::trace_handle;
using quorum::sim::trace_stamp;
using quorum::sim::trace_writer;

namespace {

std::string slurp(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  return out;
}

}  // namespace

TEST_CASE("trace_writer writes every event kind with its fields") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    trace_writer w{f};
    const trace_stamp at{7, 1500ns, node_id{2}};
    w.propose(at, "x");
    w.ack(at, 3, "x");
    w.apply(at, 3, "x");
    w.apply(at, 4, "noop", 9);
    w.leader(at, quorum::term_id{5});
    w.leader(at, quorum::ballot{4, node_id{2}});
    w.crash(at);
    w.restart(at);
    w.restore(at, 12);
    w.vote(at, 17, true);
    w.vote(at, 18, false);
    w.decide(at, 17, true);
    w.outcome(at, 18, false);
    CHECK(w.lines() == 13);
  }  // the destructor flushes
  const std::string h = R"({"seed":7,"time":1500,"node":2,"event":)";
  CHECK(slurp(f) ==
        h + R"("propose","value":"x"})" "\n" +
        h + R"("ack","index":3,"value":"x"})" "\n" +
        h + R"("apply","index":3,"value":"x"})" "\n" +
        h + R"("apply","index":4,"value":"noop","term":9})" "\n" +
        h + R"("leader","term":5})" "\n" +
        h + R"("leader","ballot":{"round":4,"node":2}})" "\n" +
        h + R"("crash"})" "\n" +
        h + R"("restart"})" "\n" +
        h + R"("restore","index":12})" "\n" +
        h + R"("vote","txn":17,"vote":"yes"})" "\n" +
        h + R"("vote","txn":18,"vote":"no"})" "\n" +
        h + R"("decide","txn":17,"decision":"commit"})" "\n" +
        h + R"("outcome","txn":18,"decision":"abort"})" "\n");
  std::fclose(f);
}

TEST_CASE("trace_writer escapes quotes, backslashes, control and non-ASCII bytes") {
  std::string out;
  trace_writer::escape(out, std::string{"a\"b\\c\nd\te\x01\x7f\xc3\xa9", 13});
  CHECK(out == R"(a\"b\\c\nd\u0009e\u0001\u007f\u00c3\u00a9)");
  std::string empty;
  trace_writer::escape(empty, "");
  CHECK(empty.empty());
}

TEST_CASE("trace_handle stamps seed, time and node and is inert without a writer") {
  quorum::sim::sim_time_source time;
  const trace_handle none{};
  none.apply(1, "v");  // no writer: nothing happens, nothing crashes
  CHECK_FALSE(none.enabled());

  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    trace_writer w{f};
    const trace_handle h{&w, time, 99, node_id{3}};
    CHECK(h.enabled());
    time.advance_to(42ms);
    h.propose("v\"1");
  }
  CHECK(slurp(f) == R"({"seed":99,"time":42000000,"node":3,"event":"propose","value":"v\"1"})" "\n");
  std::fclose(f);
}
