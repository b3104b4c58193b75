// The KV state and its wire: commands classified with Redis's arity rules,
// writes through the log entry format, INCR's integer rule, snapshots that
// restore the same state, and decoders that refuse damaged bytes.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "../../examples/kv/peer_wire.hpp"
#include "../../examples/kv/store.hpp"

using namespace kv;

namespace {

std::string apply(store& s, std::uint64_t tag, std::vector<std::string> args) {
  quorum::byte_buffer entry;
  encode_write(tag, args, entry);
  auto w = decode_write(entry);
  REQUIRE(w);
  CHECK(w->tag == tag);
  return s.apply(w->args);
}

std::string read(const store& s, std::vector<std::string> args) { return s.read(args); }

}  // namespace

// encode_write lays the entry out by hand (one resize): byte for byte what
// the codec writer writes field by field, appended after what out holds.
TEST_CASE("a write's entry is the codec writer's u64, varint count and prefixed strings") {
  const std::vector<std::vector<std::string>> cases{
      {"SET", "key:000000012345", "xyz"},
      {"DEL", ""},
      {"SET", std::string(127, 'a'), std::string(128, 'b')},
      {"SET", "k", std::string(70000, 'c')},
  };
  for (const std::uint64_t tag : {std::uint64_t{0}, std::uint64_t{0x0123456789abcdef}, ~std::uint64_t{0}}) {
    for (const auto& args : cases) {
      quorum::byte_buffer by_hand{std::byte{7}}, by_writer{std::byte{7}};
      encode_write(tag, args, by_hand);
      quorum::codec::writer w{by_writer};
      w.u64(tag);
      w.varint(args.size());
      for (const auto& a : args) w.prefixed_string(a);
      CHECK(by_hand == by_writer);
    }
  }
}

TEST_CASE("commands are classified case-insensitively with Redis's arity") {
  std::vector<std::string> get{"get", "k"};
  auto c = classify(get);
  REQUIRE(c);
  CHECK(c->kind == command_kind::read);
  CHECK(get[0] == "GET");
  std::vector<std::string> set{"Set", "k"};
  REQUIRE(!classify(set));
  CHECK(classify(set).error() == "ERR wrong number of arguments for 'set' command");
  std::vector<std::string> set_nx{"SET", "lock", "me", "NX", "PX", "30000"};
  REQUIRE(!classify(set_nx));
  CHECK(classify(set_nx).error() ==
        "ERR syntax error: SET options (NX) are not supported; SET takes a key and a value");
  std::vector<std::string> del{"DEL"};
  CHECK(!classify(del));
  std::vector<std::string> del2{"DEL", "a", "b"};
  CHECK(classify(del2)->kind == command_kind::write);
  std::vector<std::string> ping{"ping"};
  CHECK(classify(ping)->kind == command_kind::local);
  std::vector<std::string> flush{"FLUSHALL"};
  CHECK(classify(flush).error() == "ERR unknown command 'FLUSHALL'");
}

TEST_CASE("an error echoes at most 128 bytes of a client's argument") {
  std::vector<std::string> long_name{std::string(1000, 'X')};
  CHECK(classify(long_name).error() == "ERR unknown command '" + std::string(max_echoed_bytes, 'X') + "'");
  std::vector<std::string> long_option{"SET", "k", "v", std::string(1000, 'o')};
  CHECK(classify(long_option).error() == "ERR syntax error: SET options (" + std::string(max_echoed_bytes, 'o') +
                                             ") are not supported; SET takes a key and a value");
}

TEST_CASE("SET, GET, DEL, EXISTS and MGET") {
  store s;
  CHECK(apply(s, 1, {"SET", "a", "1"}) == "+OK\r\n");
  CHECK(apply(s, 2, {"SET", "b", "two"}) == "+OK\r\n");
  CHECK(read(s, {"GET", "a"}) == "$1\r\n1\r\n");
  CHECK(read(s, {"GET", "zz"}) == "$-1\r\n");
  CHECK(read(s, {"MGET", "a", "zz", "b"}) == "*3\r\n$1\r\n1\r\n$-1\r\n$3\r\ntwo\r\n");
  CHECK(read(s, {"EXISTS", "a", "b", "a", "zz"}) == ":3\r\n");
  CHECK(apply(s, 3, {"DEL", "a", "zz"}) == ":1\r\n");
  CHECK(read(s, {"EXISTS", "a"}) == ":0\r\n");
}

TEST_CASE("an MGET whose values pass the reply limit is refused, and one at the limit is served") {
  CHECK(default_max_reply_bytes == std::size_t{64} << 20);
  store s{10};
  apply(s, 1, {"SET", "a", "12345"});
  apply(s, 2, {"SET", "b", "1234"});
  CHECK(read(s, {"MGET", "a", "b", "zz"}) == "*3\r\n$5\r\n12345\r\n$4\r\n1234\r\n$-1\r\n");  // 9 bytes
  CHECK(read(s, {"MGET", "a", "a"}) == "*2\r\n$5\r\n12345\r\n$5\r\n12345\r\n");              // 10 bytes
  CHECK(read(s, {"MGET", "a", "b", "b"}) ==
        "-ERR MGET would reply with 13 bytes of values, over the limit of 10; ask for fewer keys\r\n");
  CHECK(read(s, {"GET", "a"}) == "$5\r\n12345\r\n");  // the store is as it was
}

TEST_CASE("INCR follows Redis's integer rule") {
  store s;
  CHECK(apply(s, 1, {"INCR", "n"}) == ":1\r\n");
  CHECK(apply(s, 2, {"INCR", "n"}) == ":2\r\n");
  apply(s, 3, {"SET", "n", "-7"});
  CHECK(apply(s, 4, {"INCR", "n"}) == ":-6\r\n");
  for (const char* bad : {"abc", "01", "+1", " 1", "1.5", "", "-0", "99999999999999999999"}) {
    apply(s, 5, {"SET", "x", bad});
    CHECK_MESSAGE(apply(s, 6, {"INCR", "x"}) == "-ERR value is not an integer or out of range\r\n", bad);
    CHECK(read(s, {"GET", "x"}) == "$" + std::to_string(std::string{bad}.size()) + "\r\n" + bad + "\r\n");
  }
  apply(s, 7, {"SET", "max", "9223372036854775807"});
  CHECK(apply(s, 8, {"INCR", "max"}) == "-ERR increment or decrement would overflow\r\n");
  CHECK(parse_strict_integer("-9223372036854775808") == std::numeric_limits<long long>::min());
}

TEST_CASE("a snapshot restores the same state and a damaged image changes nothing") {
  store s;
  for (int i = 0; i < 100; ++i) apply(s, 1, {"SET", "k" + std::to_string(i), std::string(i, 'v')});
  quorum::byte_buffer image;
  s.snapshot(image);
  store t;
  REQUIRE(t.restore(image));
  CHECK(t.size() == 100);
  for (int i = 0; i < 100; i += 7)
    CHECK(read(t, {"GET", "k" + std::to_string(i)}) == read(s, {"GET", "k" + std::to_string(i)}));
  for (std::size_t cut = 0; cut < image.size(); cut += 13) {
    store u;
    apply(u, 1, {"SET", "keep", "me"});
    CHECK(!u.restore(quorum::byte_view{image}.first(cut)));
    CHECK(u.size() == 1);
  }
}

TEST_CASE("a prefetch hint finds a write's first key without decoding the rest, and changes nothing") {
  const auto key_of = [](std::vector<std::string> args) {
    quorum::byte_buffer entry;
    encode_write(7, args, entry);
    const auto k = first_key(entry);
    return k ? std::optional<std::string>{std::string{*k}} : std::nullopt;
  };
  CHECK(key_of({"SET", "key:000000012345", "xxx"}) == "key:000000012345");
  CHECK(key_of({"INCR", "counter"}) == "counter");
  CHECK(key_of({"DEL", "a", "b"}) == "a");
  CHECK(key_of({"SET", "", "v"}) == "");
  CHECK(key_of({"PING"}) == std::nullopt);  // no key: nothing to load
  quorum::byte_buffer entry;
  encode_write(7, std::vector<std::string>{"SET", "k", "v"}, entry);
  for (std::size_t cut = 0; cut + 2 < entry.size(); ++cut)  // the key's length or bytes cut off
    CHECK(!first_key(quorum::byte_view{entry}.first(cut)));

  store s;
  s.prefetch("k");  // an empty table: nothing to load
  CHECK(apply(s, 1, {"SET", "k", "v"}) == "+OK\r\n");
  s.prefetch("k");
  s.prefetch("absent");
  CHECK(s.size() == 1);
  CHECK(read(s, {"GET", "k"}) == "$1\r\nv\r\n");
  CHECK(read(s, {"GET", "absent"}) == "$-1\r\n");
}

TEST_CASE("log entries and peer messages refuse damaged bytes") {
  quorum::byte_buffer entry;
  encode_write(9, std::vector<std::string>{"SET", "k", "v"}, entry);
  for (std::size_t cut = 0; cut < entry.size(); ++cut) CHECK(!decode_write(quorum::byte_view{entry}.first(cut)));
  entry.push_back(std::byte{0});
  CHECK(!decode_write(entry));

  quorum::byte_buffer f;
  wire::encode(wire::forward{quorum::node_id{2}, 77, {"SET", "k", "v"}}, f);
  CHECK(f[0] == std::byte{2});
  auto d = wire::decode_forward(quorum::byte_view{f}.subspan(1));
  REQUIRE(d);
  CHECK(d->origin == quorum::node_id{2});
  CHECK(d->id == 77);
  CHECK(d->args == std::vector<std::string>{"SET", "k", "v"});
  for (std::size_t cut = 1; cut < f.size(); ++cut)
    CHECK(!wire::decode_forward(quorum::byte_view{f}.subspan(1, cut - 1)));
  resp::limits small;
  small.max_args = 2;
  CHECK(!wire::decode_forward(quorum::byte_view{f}.subspan(1), small));

  quorum::byte_buffer r;
  wire::encode(wire::forward_reply{5, "+OK\r\n"}, r);
  auto dr = wire::decode_forward_reply(quorum::byte_view{r}.subspan(1));
  REQUIRE(dr);
  CHECK(dr->reply == "+OK\r\n");
  CHECK(!wire::decode_forward_reply(quorum::byte_view{r}.subspan(1, r.size() - 2)));

  // A follower's request for a read index, and both kinds of answer.
  quorum::byte_buffer q;
  wire::encode(wire::read_index{quorum::node_id{3}, 300}, q);
  CHECK(q[0] == std::byte{4});
  auto dq = wire::decode_read_index(quorum::byte_view{q}.subspan(1));
  REQUIRE(dq);
  CHECK(dq->origin == quorum::node_id{3});
  CHECK(dq->id == 300);
  for (std::size_t cut = 1; cut < q.size(); ++cut)
    CHECK(!wire::decode_read_index(quorum::byte_view{q}.subspan(1, cut - 1)));
  q.push_back(std::byte{0});
  CHECK(!wire::decode_read_index(quorum::byte_view{q}.subspan(1)));
  for (const wire::read_index_reply& sent : {wire::read_index_reply{8, true, quorum::log_index{123456}, {}},
                                             wire::read_index_reply{9, false, {}, "-TRYAGAIN no leader\r\n"}}) {
    quorum::byte_buffer a;
    wire::encode(sent, a);
    CHECK(a[0] == std::byte{5});
    auto got = wire::decode_read_index_reply(quorum::byte_view{a}.subspan(1));
    REQUIRE(got);
    CHECK(got->id == sent.id);
    CHECK(got->ok == sent.ok);
    CHECK(got->index == sent.index);
    CHECK(got->error == sent.error);
    for (std::size_t cut = 1; cut < a.size(); ++cut)
      CHECK(!wire::decode_read_index_reply(quorum::byte_view{a}.subspan(1, cut - 1)));
  }
  const std::byte bad_flag[] = {std::byte{1}, std::byte{2}, std::byte{0}};
  CHECK(!wire::decode_read_index_reply(quorum::byte_view{bad_flag}));
}
