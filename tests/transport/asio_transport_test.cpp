// tcp_network and asio_transport on loopback: frames arrive, a peer that
// comes up late gets what was queued, a full queue drops and counts, and bad
// bytes close only the connection that sent them.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include <quorum/raft/message.hpp>
#include <quorum/transport/asio.hpp>

using namespace quorum;
using namespace std::chrono_literals;
using transport::peer_address;
using transport::tcp_network;

namespace {

// Runs the io_context until done() or the deadline; true if done() held.
template <class Done>
bool run_until(asio::io_context& io, Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

std::unique_ptr<tcp_network> make(asio::io_context& io, node_id self, std::vector<peer_address> peers,
                                  transport::tcp_options o = {}) {
  auto n = tcp_network::create(io, self, peers, o);
  REQUIRE(n);
  return std::move(*n);
}

// A port nobody listens on (yet), kept for the test while this lives: bound
// with SO_REUSEADDR and never listened on, so no other bind() and no
// outgoing connection's local port can take it, while a transport (whose
// listener sets SO_REUSEADDR too) can listen on it. A port probed and
// released at once could be taken by a parallel test in between.
struct reserved_port {
  asio::ip::tcp::acceptor holder;
  std::uint16_t port;

  explicit reserved_port(asio::io_context& io) : holder{io}, port{0} {
    const asio::ip::tcp::endpoint at{asio::ip::make_address("127.0.0.1"), 0};
    holder.open(at.protocol());
    holder.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    holder.bind(at);
    port = holder.local_endpoint().port();
  }
};

struct inbox {
  std::vector<std::string> frames;
  void attach(tcp_network& n) {
    n.on_frame([this](byte_view b) { frames.emplace_back(as_chars(b)); });
  }
};

// Node 1 sending to node 2 on loopback, the connection up: its first frame,
// "connect", has arrived.
struct connected_pair {
  asio::io_context io;
  std::unique_ptr<tcp_network> a;
  inbox in;
  std::unique_ptr<tcp_network> b = make(io, node_id{2}, {});

  connected_pair() {
    REQUIRE(b->listen("127.0.0.1", 0));
    in.attach(*b);
    a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", b->local_port()}});
    a->send_bytes(node_id{2}, as_bytes("connect"));
    REQUIRE(run_until(io, [&] { return in.frames.size() == 1; }));
    REQUIRE(a->connected(node_id{2}));
  }

  // "one" and "two" are queued (2 frames of 3 bytes); flush() writes both at
  // once, whatever the cork says, and they arrive after "connect".
  void flush_sends_one_and_two() {
    constexpr std::uint64_t two_frames = 2 * (codec::frame_header_bytes + 3);
    CHECK(a->queued_bytes(node_id{2}) == two_frames);
    const std::uint64_t written = a->stats().bytes_written;
    a->flush();
    CHECK(a->queued_bytes(node_id{2}) == 0);
    CHECK(a->stats().bytes_written == written + two_frames);
    REQUIRE(run_until(io, [&] { return in.frames.size() == 3; }));
    CHECK(in.frames[1] == "one");
    CHECK(in.frames[2] == "two");
  }
};

}  // namespace

TEST_CASE("two transports exchange Raft messages on loopback") {
  asio::io_context io;
  auto b_listen = make(io, node_id{2}, {});
  REQUIRE(b_listen->listen("127.0.0.1", 0));
  auto a_listen = make(io, node_id{1}, {});
  REQUIRE(a_listen->listen("127.0.0.1", 0));
  auto a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", b_listen->local_port()}});
  auto b = make(io, node_id{2}, {{node_id{1}, "127.0.0.1", a_listen->local_port()}});

  std::vector<raft::message> got_b, got_a;
  std::vector<raft::entry_view> scratch;
  b_listen->on_frame([&](byte_view p) {
    auto m = raft::decode(p, scratch);
    REQUIRE(m);
    got_b.push_back(*m);
  });
  a_listen->on_frame([&](byte_view p) {
    auto m = raft::decode(p, scratch);
    REQUIRE(m);
    got_a.push_back(*m);
  });
  transport::asio_transport<raft::message> ta{*a}, tb{*b};
  static_assert(Transport<transport::asio_transport<raft::message>, raft::message>);

  for (std::uint64_t t = 1; t <= 100; ++t) {
    raft::message m;
    m.type = raft::message_type::heartbeat;
    m.from = node_id{1};
    m.to = node_id{2};
    m.term = term_id{t};
    ta.send(node_id{2}, m);
  }
  raft::message reply;
  reply.type = raft::message_type::heartbeat_response;
  reply.from = node_id{2};
  reply.term = term_id{7};
  tb.send(node_id{1}, reply);

  REQUIRE(run_until(io, [&] { return got_b.size() == 100 && got_a.size() == 1; }));
  for (std::size_t i = 0; i < got_b.size(); ++i) CHECK(got_b[i].term == term_id{i + 1});  // in order
  CHECK(got_a[0].type == raft::message_type::heartbeat_response);
  CHECK(got_a[0].term == term_id{7});
  CHECK(a->stats().frames_queued == 100);
  CHECK(b_listen->stats().frames_received == 100);
  CHECK(a->stats().dropped_queue_full == 0);
}

TEST_CASE("a peer that is down gets the queued messages once it comes up") {
  asio::io_context io;
  const reserved_port down{io};
  const std::uint16_t port = down.port;
  transport::tcp_options o;
  o.reconnect_min = 5ms;
  o.reconnect_max = 40ms;
  auto a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", port}}, o);
  a->on_log([](const std::string&) {});  // the refusals are expected here
  a->send_bytes(node_id{2}, as_bytes("while down"));
  // Several attempts fail while nobody listens; the back-off keeps retrying.
  REQUIRE(run_until(io, [&] { return a->stats().connect_failures >= 3; }));
  CHECK(!a->connected(node_id{2}));

  auto b = make(io, node_id{2}, {});
  REQUIRE(b->listen("127.0.0.1", port));
  inbox in;
  in.attach(*b);
  REQUIRE(run_until(io, [&] { return in.frames.size() == 1; }));
  CHECK(in.frames[0] == "while down");
  a->send_bytes(node_id{2}, as_bytes("after"));
  REQUIRE(run_until(io, [&] { return in.frames.size() == 2; }));
  CHECK(in.frames[1] == "after");
  CHECK(a->stats().connects == 1);

  // The receiver goes away and comes back: the sender reconnects.
  b.reset();
  auto lost = [&] {
    a->send_bytes(node_id{2}, as_bytes("lost?"));
    return a->stats().disconnects + a->stats().connect_failures >= 4;
  };
  REQUIRE(run_until(io, lost));
  auto b2 = make(io, node_id{2}, {});
  REQUIRE(b2->listen("127.0.0.1", port));
  inbox in2;
  in2.attach(*b2);
  REQUIRE(run_until(io, [&] {
    a->send_bytes(node_id{2}, as_bytes("back"));
    return !in2.frames.empty();
  }));
  CHECK(a->stats().connects == 2);
}

TEST_CASE("a full send queue drops and counts while an empty one always takes a frame") {
  asio::io_context io;
  transport::tcp_options o;
  o.max_queue_bytes = 100;
  o.reconnect_min = 1000ms;  // nobody listens: everything stays queued during the test
  o.reconnect_max = 1000ms;
  const reserved_port nobody{io};
  auto a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", nobody.port}}, o);
  a->on_log([](const std::string&) {});
  const std::string payload(40, 'x');  // 48 bytes with the frame header
  a->send_bytes(node_id{2}, as_bytes(payload));
  a->send_bytes(node_id{2}, as_bytes(payload));
  CHECK(a->queued_bytes(node_id{2}) == 96);
  a->send_bytes(node_id{2}, as_bytes(payload));
  CHECK(a->queued_bytes(node_id{2}) == 96);
  CHECK(a->stats().dropped_queue_full == 1);
  CHECK(a->stats().frames_queued == 2);

  const reserved_port nobody_big{io};
  auto big = make(io, node_id{1}, {{node_id{3}, "127.0.0.1", nobody_big.port}}, o);
  big->on_log([](const std::string&) {});
  big->send_bytes(node_id{3}, as_bytes(std::string(500, 'y')));  // over the bound, but the queue was empty
  CHECK(big->stats().frames_queued == 1);
  big->send_bytes(node_id{3}, as_bytes("z"));
  CHECK(big->stats().dropped_queue_full == 1);

  big->send_bytes(node_id{9}, as_bytes("nobody"));
  CHECK(big->stats().dropped_unknown_peer == 1);
}

TEST_CASE("a frame over max_frame_bytes is never queued") {
  asio::io_context io;
  transport::tcp_options o;
  o.max_frame_bytes = 16;
  const reserved_port nobody{io};
  auto a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", nobody.port}}, o);
  a->send_bytes(node_id{2}, as_bytes(std::string(17, 'q')));
  CHECK(a->stats().dropped_too_large == 1);
  CHECK(a->queued_bytes(node_id{2}) == 0);
}

namespace {

// Connects a raw socket to `port`, writes bytes, and waits until the server closes it.
bool closed_after_writing(asio::io_context& io, std::uint16_t port, const std::string& bytes) {
  asio::ip::tcp::socket s{io};
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(bytes));
  bool closed = false;
  char c;
  s.async_read_some(asio::buffer(&c, 1), [&](const asio::error_code& ec, std::size_t) { closed = bool(ec); });
  return run_until(io, [&] { return closed; });
}

std::string frame_of(const std::string& payload) {
  byte_buffer out;
  REQUIRE(codec::encode_frame(out, as_bytes(payload)));
  return std::string{as_chars(out)};
}

}  // namespace

TEST_CASE("garbage and an oversized length close that connection and the receiver keeps working") {
  asio::io_context io;
  transport::tcp_options o;
  o.max_frame_bytes = 1024;
  auto b = make(io, node_id{2}, {}, o);
  REQUIRE(b->listen("127.0.0.1", 0));
  std::vector<std::string> errors;
  b->on_log([&](const std::string& line) { errors.push_back(line); });
  inbox in;
  in.attach(*b);
  const std::uint16_t port = b->local_port();

  // A good frame, then bytes whose CRC cannot match: the good one is delivered first.
  CHECK(closed_after_writing(io, port, frame_of("good") + std::string("\x04\0\0\0\0\0\0\0abcd", 12)));
  CHECK(in.frames == std::vector<std::string>{"good"});
  // A length prefix of 4 GiB: refused from the first four bytes, before any payload.
  CHECK(closed_after_writing(io, port, std::string("\xff\xff\xff\xff\0\0\0\0", 8)));
  // Just over the configured limit.
  CHECK(closed_after_writing(io, port, std::string("\x01\x04\0\0\0\0\0\0", 8)));
  CHECK(b->stats().bad_frames == 3);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].find("checksum") != std::string::npos);
  CHECK(errors[1].find("too large") != std::string::npos);

  // A well-behaved sender still gets through.
  auto a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", port}}, o);
  a->send_bytes(node_id{2}, as_bytes("still here"));
  REQUIRE(run_until(io, [&] { return in.frames.size() == 2; }));
  CHECK(in.frames[1] == "still here");
}

TEST_CASE("random bytes never crash the receiver") {
  asio::io_context io;
  auto b = make(io, node_id{2}, {});
  REQUIRE(b->listen("127.0.0.1", 0));
  b->on_log([](const std::string&) {});
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int round = 0; round < 20; ++round) {
    std::string junk(1 + round * 37, '\0');
    for (char& c : junk) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      c = static_cast<char>(x);
    }
    junk.append(std::string(32, '\0'));
    junk.replace(0, 4, std::string("\x10\0\0\0", 4));  // a small length: the CRC check, not the size limit, rejects it
    CHECK(closed_after_writing(io, b->local_port(), junk));
  }
  CHECK(b->stats().bad_frames == 20);
  CHECK(b->stats().frames_received == 0);
}

// send() only queues; flush() hands the queue to the kernel then and there,
// with no turn of the io_context (a server calls it just before its fsync,
// so followers get the appends while the leader's disk works). Without a
// flush, what was queued goes at the end of the turn, in one write.
TEST_CASE("flush writes queued frames at once, otherwise they go at the end of the turn") {
  connected_pair p;
  auto& io = p.io;
  auto& a = p.a;
  auto& in = p.in;

  const std::uint64_t written = a->stats().bytes_written;
  a->send_bytes(node_id{2}, as_bytes("one"));
  a->send_bytes(node_id{2}, as_bytes("two"));
  CHECK(a->stats().bytes_written == written);  // queued, not written
  p.flush_sends_one_and_two();

  a->send_bytes(node_id{2}, as_bytes("three"));
  CHECK(a->queued_bytes(node_id{2}) > 0);
  io.restart();
  io.poll();  // the turn ends: its posted flush writes
  CHECK(a->queued_bytes(node_id{2}) == 0);
  REQUIRE(run_until(io, [&] { return in.frames.size() == 4; }));
  CHECK(in.frames[3] == "three");
}

// A receiver that does not read fills the kernel's buffers: the rest stays
// queued (bounded), waits for room, and arrives complete and in order.
TEST_CASE("what the kernel cannot take waits for room and arrives in order") {
  asio::io_context io;
  auto b = make(io, node_id{2}, {});
  REQUIRE(b->listen("127.0.0.1", 0));
  std::vector<std::string> got;
  b->on_frame([&](byte_view p) { got.emplace_back(as_chars(p)); });
  transport::tcp_options o;
  o.max_queue_bytes = std::size_t{64} << 20;
  auto a = make(io, node_id{1}, {{node_id{2}, "127.0.0.1", b->local_port()}}, o);
  a->send_bytes(node_id{2}, as_bytes("hello"));
  REQUIRE(run_until(io, [&] { return got.size() == 1; }));
  // 64 frames of 256 KiB at once: far more than loopback's socket buffers.
  constexpr int frames = 64;
  for (int k = 0; k < frames; ++k) {
    std::string payload(std::size_t{256} << 10, static_cast<char>('a' + k % 26));
    payload += std::to_string(k);
    a->send_bytes(node_id{2}, as_bytes(payload));
  }
  a->flush();
  CHECK(a->queued_bytes(node_id{2}) > 0);  // the kernel took only part
  REQUIRE(run_until(io, [&] { return got.size() == 1 + frames; }, 20000ms));
  for (int k = 0; k < frames; ++k) {
    CHECK(got[1 + static_cast<std::size_t>(k)].size() == (std::size_t{256} << 10) + std::to_string(k).size());
    CHECK(got[1 + static_cast<std::size_t>(k)].ends_with(std::to_string(k)));
  }
  CHECK(a->queued_bytes(node_id{2}) == 0);
  CHECK(a->stats().dropped_queue_full == 0);
}

// cork(): the end-of-turn flush leaves the queue alone, so frames of several
// turns leave in one write, when flush() sends them; uncork() sends nothing
// itself, and the turns' flushes work again after it.
TEST_CASE("a corked network keeps its frames past the end of the turn until uncork or flush") {
  connected_pair p;
  auto& io = p.io;
  auto& a = p.a;
  auto& in = p.in;

  a->cork();
  CHECK(a->corked());
  a->send_bytes(node_id{2}, as_bytes("one"));
  io.restart();
  io.poll();  // the turn ends: corked, nothing is written
  a->send_bytes(node_id{2}, as_bytes("two"));
  io.restart();
  io.poll();
  p.flush_sends_one_and_two();  // corked or not

  a->send_bytes(node_id{2}, as_bytes("three"));
  a->uncork();
  CHECK_FALSE(a->corked());
  CHECK(a->queued_bytes(node_id{2}) > 0);  // uncork() sends nothing itself
  io.restart();
  io.poll();  // the turn's flush works again
  CHECK(a->queued_bytes(node_id{2}) == 0);
  REQUIRE(run_until(io, [&] { return in.frames.size() == 4; }));
  CHECK(in.frames[3] == "three");
}
