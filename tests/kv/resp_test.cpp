// The RESP2 request parser: every request shape redis-cli sends, every limit,
// and fuzz-style runs where any bytes must give a command, "need more" or an
// error, never a crash, and feeding bytes one at a time changes nothing.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../../examples/kv/resp.hpp"

using namespace kv;
using resp::status;

namespace {

// Appends piece by piece: `"literal" + std::string` trips g++ 12's false
// -Wrestrict at -O2 (GCC bug 105329).
std::string array(const std::vector<std::string>& args) {
  std::string s = "*";
  s.append(std::to_string(args.size())).append("\r\n");
  for (const auto& a : args) s.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  return s;
}

struct rng {
  std::uint64_t x;
  std::uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

}  // namespace

TEST_CASE("an array of bulk strings is a command and the bytes after it are left alone") {
  const std::string one = array({"SET", "key", "va\r\nlue"});
  auto p = resp::parse(one + "*1\r\n$4\r\nPING\r\n");
  REQUIRE(p.state == status::command);
  CHECK(p.consumed == one.size());
  CHECK(p.args == std::vector<std::string>{"SET", "key", "va\r\nlue"});
  auto empty_value = resp::parse(array({"SET", "k", ""}));
  REQUIRE(empty_value.state == status::command);
  CHECK(empty_value.args[2].empty());
}

TEST_CASE("every proper prefix of a request needs more") {
  const std::string req = array({"MGET", "a", "bb", "ccc"});
  for (std::size_t n = 0; n < req.size(); ++n) {
    const auto p = resp::parse(req.substr(0, n));
    CHECK_MESSAGE(p.state == status::need_more, "prefix of ", n, " bytes");
  }
  CHECK(resp::parse(req).state == status::command);
}

TEST_CASE("inline commands, as a terminal sends them") {
  auto p = resp::parse("set  k \"hello world\\n\"\r\n");
  REQUIRE(p.state == status::command);
  CHECK(p.args == std::vector<std::string>{"set", "k", "hello world\n"});
  p = resp::parse("PING\n");
  REQUIRE(p.state == status::command);
  CHECK(p.consumed == 5);
  CHECK(p.args == std::vector<std::string>{"PING"});
  p = resp::parse("get 'a b'\r\n");
  CHECK(p.args == std::vector<std::string>{"get", "a b"});
  p = resp::parse("\r\n");  // an empty line: consumed, nothing to run
  CHECK(p.state == status::command);
  CHECK(p.args.empty());
  CHECK(p.consumed == 2);
  CHECK(resp::parse("GET k").state == status::need_more);
  CHECK(resp::parse("get \"unclosed\r\n").state == status::error);
  CHECK(resp::parse("get \"a\"b\r\n").state == status::error);
}

TEST_CASE("malformed arrays are errors") {
  CHECK(resp::parse("*x\r\n").state == status::error);
  CHECK(resp::parse("*1\r\n+PING\r\n").state == status::error);
  CHECK(resp::parse("*1\r\n$-3\r\n").state == status::error);
  CHECK(resp::parse("*1\r\n$4\r\nPINGxx").state == status::error);  // no CRLF after the data
  CHECK(resp::parse("*1\r\n$4x\r\nPING\r\n").state == status::error);
  CHECK(resp::parse("*99999999999999999999\r\n").state == status::error);
  CHECK(resp::parse("*" + std::string(40, '1')).state == status::error);  // a header line that never ends
  const auto zero = resp::parse("*0\r\n");
  CHECK(zero.state == status::command);
  CHECK(zero.args.empty());
}

// Found by the kv_wire fuzzer: the error quoted the raw byte, and a CR or LF
// there cut the "-ERR ..." reply line short.
TEST_CASE("an error names a control byte of the request in hex, never raw") {
  const auto cr = resp::parse("*4\r\n\r\n");
  REQUIRE(cr.state == status::error);
  CHECK(cr.error == "Protocol error: expected '$', got '\\x0d'");
  const auto nul = resp::parse(std::string{"*1\r\n\0", 5});
  REQUIRE(nul.state == status::error);
  CHECK(nul.error == "Protocol error: expected '$', got '\\x00'");
  CHECK(resp::parse("*1\r\n+PING\r\n").error == "Protocol error: expected '$', got '+'");
}

TEST_CASE("limits are enforced from the headers, before the data arrives") {
  resp::limits lim;
  lim.max_args = 3;
  lim.max_bulk_bytes = 10;
  lim.max_command_bytes = 15;
  lim.max_inline_bytes = 20;
  CHECK(resp::parse("*4\r\n", lim).state == status::error);
  CHECK(resp::parse("*1\r\n$11\r\n", lim).state == status::error);
  CHECK(resp::parse("*2\r\n$10\r\n0123456789\r\n$6\r\n", lim).state == status::error);  // 16 bytes in all
  CHECK(resp::parse(std::string(21, 'a'), lim).state == status::error);               // an inline line too long
  CHECK(resp::parse("a b c d\r\n", lim).state == status::error);                       // inline: too many args
  CHECK(resp::parse(array({"SET", "k", "0123456789"}), lim).state == status::command);
  const auto p = resp::parse("*1\r\n$9999999999\r\n");
  CHECK(p.state == status::error);
  CHECK(p.error.find("bulk length") != std::string::npos);
}

TEST_CASE("fuzz: random bytes give a verdict, and the verdict is stable") {
  rng r{0x243f6a8885a308d3ULL};
  const char alphabet[] = {'*', '$', '\r', '\n', '0', '1', '2', '9', '-', ' ', '"', '\'', '\\', 'a', 'S', '\0'};
  std::size_t commands = 0, errors = 0, more = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in(r.next() % 40, '\0');
    for (char& c : in) c = r.next() % 4 == 0 ? static_cast<char>(r.next()) : alphabet[r.next() % sizeof alphabet];
    const auto p = resp::parse(in);
    switch (p.state) {
      case status::command:
        ++commands;
        CHECK(p.consumed > 0);
        CHECK(p.consumed <= in.size());
        // The same command from exactly its own bytes.
        CHECK(resp::parse(in.substr(0, p.consumed)).args == p.args);
        break;
      case status::error: ++errors; break;
      case status::need_more:
        ++more;
        CHECK(p.consumed == 0);
        break;
    }
  }
  // The generator reaches all three verdicts.
  CHECK(commands > 100);
  CHECK(errors > 100);
  CHECK(more > 100);
}

TEST_CASE("fuzz: well-formed requests with random contents round-trip, whole and cut anywhere") {
  rng r{42};
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::string> args(1 + r.next() % 5);
    for (auto& a : args) {
      a.resize(r.next() % 30);
      for (char& c : a) c = static_cast<char>(r.next());
    }
    const std::string req = array(args);
    const auto whole = resp::parse(req + array({"PING"}));
    REQUIRE(whole.state == status::command);
    CHECK(whole.args == args);
    CHECK(whole.consumed == req.size());
    const std::size_t cut = r.next() % req.size();
    CHECK(resp::parse(req.substr(0, cut)).state == status::need_more);
  }
}

TEST_CASE("one parsed value reused across requests gives what a fresh parse gives") {
  rng r{7};
  resp::parsed reused;
  for (int i = 0; i < 3000; ++i) {
    std::string req;
    switch (r.next() % 4) {
      case 0: {
        std::vector<std::string> args(1 + r.next() % 6);
        for (auto& a : args) a.assign(r.next() % 40, static_cast<char>('a' + r.next() % 26));
        req = array(args);
        break;
      }
      case 1: req = "*0\r\n"; break;
      case 2: req = "get \"a b\" c\r\n"; break;
      default: req = array({"SET", "key:000000012345", "xyz"}).substr(0, r.next() % 20); break;  // a prefix, or garbage
    }
    if (r.next() % 10 == 0) req = "*2\r\n$x\r\n";  // an error in between
    resp::parse(req, reused);
    const auto fresh = resp::parse(req);
    REQUIRE(reused.state == fresh.state);
    CHECK(reused.consumed == fresh.consumed);
    if (fresh.state == status::command) CHECK(reused.args == fresh.args);
    if (fresh.state == status::error) CHECK(reused.error == fresh.error);
  }
}

TEST_CASE("reply encoders write RESP2") {
  std::string out;
  resp::simple(out, "OK");
  resp::error(out, "ERR bad");
  resp::integer(out, -5);
  resp::bulk(out, "a\r\nb");
  resp::null_bulk(out);
  resp::array_header(out, 2);
  CHECK(out == "+OK\r\n-ERR bad\r\n:-5\r\n$4\r\na\r\nb\r\n$-1\r\n*2\r\n");
}

TEST_CASE("an error that echoes CR or LF stays one line") {
  std::string out;
  resp::error(out, "ERR unknown command 'FO\r\n+OK\r\n'");
  CHECK(out == "-ERR unknown command 'FO  +OK  '\r\n");
  out.clear();
  resp::error(out, std::string_view{"a\nb\rc\0d", 7});
  CHECK(out == std::string{"-a b c\0d\r\n", 10});
}
