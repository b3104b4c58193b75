// quorum::transport: a protocol's messages over TCP with standalone Asio, in
// the codec's frames. Optional: only code that includes this header needs
// Asio; the core and the protocols never include it (DESIGN.md, "Layout").
//
// tcp_network owns the sockets: one outbound connection per peer (connected
// on demand, reconnected with bounded exponential back-off), a bounded send
// queue per peer that drops and counts when full, and a listener whose frames
// are decoded with a size limit; a bad frame is logged and its connection
// closed. Everything runs on one io_context thread, and the frame handler
// (where the user calls node.receive) is called from it. asio_transport is
// the small handle a protocol's policies hold: it models quorum::Transport.
//
// When frames leave: send() only queues; flush() hands every peer's queue to
// the kernel at once with one non-blocking write per peer, and a flush is
// posted for the end of the turn whenever something was queued. A server
// calls flush() just before its Log syncs, so that followers receive a
// leader's appends while the leader's own fsync runs (Raft thesis §10.2.1)
// instead of after it; frames queued in one turn share one write.
#pragma once

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include <asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quorum/codec/frame.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/core/transport.hpp"

namespace quorum::transport {

struct tcp_options {
  // A frame's payload, sent or received, is at most this large; a larger
  // inbound length closes the connection before any payload is buffered.
  std::size_t max_frame_bytes = codec::default_max_frame_bytes;
  // Bytes of frames waiting for one peer (a second buffer of the same bound
  // may be in the kernel's hands). A frame that does not fit is dropped and
  // counted; an empty queue always takes one frame.
  std::size_t max_queue_bytes = std::size_t{8} << 20;
  // Reconnect back-off: starts at the minimum, doubles per failure, capped.
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{1000};
  // Inbound connections open at once; more are refused (closed at accept).
  std::size_t max_inbound_connections = 64;
  // Bytes asked of the kernel per read.
  std::size_t read_chunk_bytes = std::size_t{64} << 10;
};

struct tcp_stats {
  std::uint64_t frames_queued = 0;
  std::uint64_t dropped_queue_full = 0;   // the peer's queue had no room
  std::uint64_t dropped_too_large = 0;    // the payload was over max_frame_bytes
  std::uint64_t dropped_unknown_peer = 0; // send() to an id that is not configured
  std::uint64_t bytes_written = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t disconnects = 0;          // an outbound connection failed while in use
  std::uint64_t accepted = 0;
  std::uint64_t refused_inbound = 0;      // over max_inbound_connections
  std::uint64_t frames_received = 0;
  std::uint64_t bad_frames = 0;           // oversized or damaged: the connection was closed
};

struct peer_address {
  node_id id;
  std::string host;  // a numeric address or a name the resolver knows
  std::uint16_t port = 0;
};

// "host:port" (the last colon splits, so "[::1]:7001" and "::1:7001" work).
[[nodiscard]] inline result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size())
    return fail(errc::invalid_argument, "address: expected host:port");
  std::uint32_t port = 0;
  for (char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9') return fail(errc::invalid_argument, "address: the port is not a number");
    port = port * 10 + static_cast<std::uint32_t>(c - '0');
    if (port > 65535) return fail(errc::invalid_argument, "address: the port is over 65535");
  }
  std::string host{s.substr(0, colon)};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair{std::move(host), static_cast<std::uint16_t>(port)};
}

using frame_handler = std::function<void(byte_view payload)>;
using log_handler = std::function<void(const std::string& line)>;

class tcp_network {
  struct peer {
    node_id id;
    asio::ip::tcp::endpoint endpoint;
    asio::ip::tcp::socket socket;
    asio::steady_timer retry;
    byte_buffer pending;    // queued frames; the first `sent` bytes are in the kernel's hands
    std::size_t sent = 0;
    std::chrono::milliseconds backoff;
    bool connected = false;
    bool connecting = false;
    bool waiting = false;            // for the back-off timer
    bool awaiting_writable = false;  // the kernel's buffer was full: a wait for room is pending
    bool reported_down = false;      // one log line per outage, not one per retry
    [[nodiscard]] std::size_t unsent() const noexcept { return pending.size() - sent; }
  };

  struct inbound {
    explicit inbound(asio::ip::tcp::socket s) : socket{std::move(s)} {}
    asio::ip::tcp::socket socket;
    byte_buffer buffer;
    std::size_t used = 0;
    std::string remote;
  };

  // Lives as long as any pending handler (each holds a shared_ptr), so a
  // handler that completes after close() finds `closed` set, not freed memory.
  struct state {
    state(asio::io_context& io, tcp_options o) : io{io}, opts{o}, acceptor{io} {}
    asio::io_context& io;
    tcp_options opts;
    tcp_stats stats;
    asio::ip::tcp::acceptor acceptor;
    std::vector<std::unique_ptr<peer>> peers;
    std::vector<std::shared_ptr<inbound>> inbounds;
    frame_handler on_frame;
    log_handler on_log;
    bool closed = false;
    bool flush_posted = false;
    bool corked = false;  // cork(): the posted end-of-turn flush writes nothing
  };

 public:
  // Resolves every peer address now (so a bad name fails at startup, not at
  // the first send); the peer named `self` is skipped.
  static result<std::unique_ptr<tcp_network>> create(asio::io_context& io, node_id self,
                                                     std::span<const peer_address> peers, tcp_options opts = {}) {
    if (opts.max_frame_bytes == 0 || opts.max_frame_bytes > codec::max_frame_length_field)
      return fail(errc::invalid_config, "tcp_network: max_frame_bytes out of range");
    if (opts.reconnect_min.count() <= 0 || opts.reconnect_max < opts.reconnect_min)
      return fail(errc::invalid_config, "tcp_network: reconnect back-off bounds are inconsistent");
    if (opts.read_chunk_bytes == 0) return fail(errc::invalid_config, "tcp_network: read_chunk_bytes is 0");
    std::unique_ptr<tcp_network> net{new tcp_network{io, opts}};
    asio::ip::tcp::resolver resolver{io};
    for (const peer_address& a : peers) {
      if (a.id == self) continue;
      asio::error_code ec;
      auto found = resolver.resolve(a.host, std::to_string(a.port), ec);
      if (ec || found.empty())
        return fail(errc::invalid_argument, "tcp_network: a peer address does not resolve", a.id.value());
      auto p = std::make_unique<peer>(peer{a.id, found.begin()->endpoint(), asio::ip::tcp::socket{io},
                                           asio::steady_timer{io}, {}, 0, opts.reconnect_min});
      net->st_->peers.push_back(std::move(p));
    }
    return net;
  }

  tcp_network(const tcp_network&) = delete;
  tcp_network& operator=(const tcp_network&) = delete;
  ~tcp_network() { close(); }

  // Called from the io_context thread for every well-formed inbound frame;
  // the payload is valid only during the call.
  void on_frame(frame_handler h) { st_->on_frame = std::move(h); }
  // Where error lines go (default: standard error).
  void on_log(log_handler h) { st_->on_log = std::move(h); }

  // Binds and starts accepting. Port 0 lets the system pick (see local_port).
  result<void> listen(const std::string& host, std::uint16_t port) {
    asio::error_code ec;
    asio::ip::tcp::resolver resolver{st_->io};
    auto found = resolver.resolve(host, std::to_string(port), ec);
    if (ec || found.empty()) return fail(errc::invalid_argument, "tcp_network: the listen address does not resolve");
    auto& acc = st_->acceptor;
    const auto endpoint = found.begin()->endpoint();
    if (acc.open(endpoint.protocol(), ec); ec) return fail(errc::io_error, "tcp_network: socket()", ec.value());
    acc.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (acc.bind(endpoint, ec); ec) return fail(errc::io_error, "tcp_network: bind()", ec.value());
    if (acc.listen(asio::socket_base::max_listen_connections, ec); ec)
      return fail(errc::io_error, "tcp_network: listen()", ec.value());
    accept(st_);
    return {};
  }

  [[nodiscard]] std::uint16_t local_port() const {
    asio::error_code ec;
    const auto e = st_->acceptor.local_endpoint(ec);
    return ec ? 0 : e.port();
  }

  // Queues one frame for `to`; encode(byte_buffer&) appends its payload.
  // Never blocks, never writes and never calls the frame handler: the frame
  // leaves at the next flush() or at the end of this turn of the io_context.
  template <class Encode>
  void send(node_id to, Encode&& encode) {
    if (st_->closed) return;
    peer* p = find(to);
    if (p == nullptr) {
      ++st_->stats.dropped_unknown_peer;
      return;
    }
    byte_buffer& q = p->pending;
    const std::size_t mark = q.size();
    codec::writer w{q};
    const auto frame = codec::begin_frame(w);
    std::forward<Encode>(encode)(q);
    if (!codec::end_frame(w, frame, st_->opts.max_frame_bytes)) {  // end_frame rewound q
      ++st_->stats.dropped_too_large;
      return;
    }
    if (mark > p->sent && p->unsent() > st_->opts.max_queue_bytes) {
      q.resize(mark);
      ++st_->stats.dropped_queue_full;
      return;
    }
    ++st_->stats.frames_queued;
    if (p->connected) post_flush(st_);
    else if (!p->connecting && !p->waiting) connect(st_, *p);
  }

  // Hands every peer's queued frames to the kernel now: one non-blocking
  // write per peer with something queued. What the kernel cannot take yet
  // goes when the socket has room. Never blocks, never calls the frame handler.
  void flush() {
    if (st_->closed) return;
    for (auto& p : st_->peers) write_queued(st_, *p);
  }

  // While corked, the end-of-turn flush leaves the queues alone: frames wait
  // for an explicit flush(). An application that will send more to the same
  // peers shortly (quorum-kv's leader, holding its next batch for a few
  // microseconds) so sends one write per peer instead of two. uncork() only
  // ends that: it sends nothing, so the caller flushes now or lets its next
  // flush() (before a sync, say) take everything. The application bounds
  // how long it stays corked.
  void cork() noexcept { st_->corked = true; }
  void uncork() noexcept { st_->corked = false; }
  [[nodiscard]] bool corked() const noexcept { return st_->corked; }

  // Sends an already encoded payload.
  void send_bytes(node_id to, byte_view payload) {
    send(to, [&](byte_buffer& out) { out.insert(out.end(), payload.begin(), payload.end()); });
  }

  [[nodiscard]] const tcp_stats& stats() const noexcept { return st_->stats; }
  [[nodiscard]] std::size_t queued_bytes(node_id to) const {
    const peer* p = const_cast<tcp_network*>(this)->find(to);
    return p == nullptr ? 0 : p->unsent();
  }
  [[nodiscard]] bool connected(node_id to) const {
    const peer* p = const_cast<tcp_network*>(this)->find(to);
    return p != nullptr && p->connected;
  }

  // Closes every socket and cancels every timer; later sends are dropped.
  void close() {
    if (!st_ || st_->closed) return;
    st_->closed = true;
    asio::error_code ec;
    st_->acceptor.close(ec);
    for (auto& p : st_->peers) {
      p->socket.close(ec);
      p->retry.cancel();
    }
    for (auto& c : st_->inbounds) c->socket.close(ec);
    st_->inbounds.clear();
  }

 private:
  tcp_network(asio::io_context& io, tcp_options opts) : st_{std::make_shared<state>(io, opts)} {}

  peer* find(node_id id) {
    for (auto& p : st_->peers)
      if (p->id == id) return p.get();
    return nullptr;
  }

  static void log(state& st, const std::string& line) {
    if (st.on_log) st.on_log(line);
    else std::cerr << line << '\n';
  }

  static std::string describe(const asio::ip::tcp::endpoint& e) {
    return e.address().to_string() + ":" + std::to_string(e.port());
  }

  // One flush at the end of the turn for everything queued in it.
  static void post_flush(const std::shared_ptr<state>& st) {
    if (st->flush_posted) return;
    st->flush_posted = true;
    asio::post(st->io, [st] {
      st->flush_posted = false;
      if (st->closed || st->corked) return;
      for (auto& p : st->peers) write_queued(st, *p);
    });
  }

  static void connect(const std::shared_ptr<state>& st, peer& p) {
    p.connecting = true;
    asio::error_code ignored;
    p.socket.close(ignored);
    p.socket = asio::ip::tcp::socket{st->io};
    p.socket.async_connect(p.endpoint, [st, pp = &p](const asio::error_code& ec) {
      pp->connecting = false;
      if (st->closed) return;
      if (ec) {
        ++st->stats.connect_failures;
        if (!pp->reported_down) log(*st, "quorum transport: cannot connect to node " + std::to_string(pp->id.value()) +
                                             " at " + describe(pp->endpoint) + ": " + ec.message() + "; retrying");
        pp->reported_down = true;
        retry_later(st, *pp);
        return;
      }
      asio::error_code e2;
      pp->socket.set_option(asio::ip::tcp::no_delay(true), e2);
      pp->socket.non_blocking(true, e2);  // write_queued's writes return would_block, never wait
      if (e2) {
        lost(st, *pp, e2);
        return;
      }
      pp->connected = true;
      pp->reported_down = false;
      pp->backoff = st->opts.reconnect_min;
      ++st->stats.connects;
      write_queued(st, *pp);
    });
  }

  static void retry_later(const std::shared_ptr<state>& st, peer& p) {
    p.waiting = true;
    p.retry.expires_after(p.backoff);
    p.backoff = std::min(p.backoff * 2, st->opts.reconnect_max);
    p.retry.async_wait([st, pp = &p](const asio::error_code&) {
      pp->waiting = false;
      if (st->closed) return;
      if (pp->unsent() > 0) connect(st, *pp);  // otherwise the next send() connects
    });
  }

  // Writes what the peer's queue holds until the kernel takes it all or has
  // no room; then one wait for room, whose handler writes on.
  static void write_queued(const std::shared_ptr<state>& st, peer& p) {
    if (!p.connected || p.awaiting_writable) return;
    while (p.unsent() > 0) {
      asio::error_code ec;
      const std::size_t n = p.socket.write_some(asio::buffer(p.pending.data() + p.sent, p.unsent()), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        // Drop the written prefix once it is half the buffer: a receiver that
        // never quite catches up would otherwise keep the queue from ever
        // emptying, and the prefix would grow without bound.
        if (p.sent >= p.pending.size() / 2) {
          p.pending.erase(p.pending.begin(), p.pending.begin() + static_cast<std::ptrdiff_t>(p.sent));
          p.sent = 0;
        }
        p.awaiting_writable = true;
        p.socket.async_wait(asio::socket_base::wait_write, [st, pp = &p](const asio::error_code& e) {
          pp->awaiting_writable = false;
          if (st->closed) return;
          if (e == asio::error::operation_aborted) return;  // lost() closed the socket: already handled
          if (e) return lost(st, *pp, e);
          write_queued(st, *pp);
        });
        return;
      }
      if (ec) return lost(st, p, ec);
      p.sent += n;
      st->stats.bytes_written += n;
    }
    p.pending.clear();
    p.sent = 0;
  }

  // What was queued is lost with the connection (a frame may have been cut
  // in the middle): the protocols retransmit. Reconnects after the back-off.
  static void lost(const std::shared_ptr<state>& st, peer& p, const asio::error_code& ec) {
    ++st->stats.disconnects;
    log(*st, "quorum transport: connection to node " + std::to_string(p.id.value()) + " lost: " + ec.message());
    p.connected = false;
    p.pending.clear();
    p.sent = 0;
    asio::error_code ignored;
    p.socket.close(ignored);
    if (!p.waiting) retry_later(st, p);
  }

  static void accept(const std::shared_ptr<state>& st) {
    st->acceptor.async_accept([st](const asio::error_code& ec, asio::ip::tcp::socket s) {
      if (st->closed) return;
      if (!ec) {
        if (st->inbounds.size() >= st->opts.max_inbound_connections) {
          ++st->stats.refused_inbound;
          log(*st, "quorum transport: refusing an inbound connection: max_inbound_connections reached");
        } else {
          ++st->stats.accepted;
          auto c = std::make_shared<inbound>(std::move(s));
          asio::error_code e2;
          const auto remote = c->socket.remote_endpoint(e2);
          c->remote = e2 ? std::string{"?"} : describe(remote);
          st->inbounds.push_back(c);
          read(st, c);
        }
      }
      accept(st);
    });
  }

  static void drop(state& st, const std::shared_ptr<inbound>& c) {
    asio::error_code ignored;
    c->socket.close(ignored);
    std::erase(st.inbounds, c);
  }

  static void read(const std::shared_ptr<state>& st, const std::shared_ptr<inbound>& c) {
    const std::size_t want = c->used + st->opts.read_chunk_bytes;
    if (c->buffer.size() < want) c->buffer.resize(want);
    auto space = asio::buffer(c->buffer.data() + c->used, c->buffer.size() - c->used);
    c->socket.async_read_some(space, [st, c](const asio::error_code& ec, std::size_t n) {
      if (st->closed) return;
      if (ec) {  // end of stream or a reset: the peer reconnects when it has something to say
        drop(*st, c);
        return;
      }
      c->used += n;
      if (!deliver(*st, *c)) {
        drop(*st, c);
        return;
      }
      if (!st->closed) read(st, c);
    });
  }

  // Hands every complete frame to the handler; false when the stream is bad.
  static bool deliver(state& st, inbound& c) {
    std::size_t off = 0;
    while (!st.closed) {
      auto f = codec::decode_frame(byte_view{c.buffer.data() + off, c.used - off}, st.opts.max_frame_bytes);
      if (!f) {
        if (f.error().code == errc::truncated) break;
        ++st.stats.bad_frames;
        log(st, "quorum transport: closing the connection from " + c.remote + ": " + f.error().message());
        return false;
      }
      ++st.stats.frames_received;
      if (st.on_frame) st.on_frame(f->payload);
      off += f->consumed;
    }
    if (off > 0) {
      std::memmove(c.buffer.data(), c.buffer.data() + off, c.used - off);
      c.used -= off;
    }
    return true;
  }

  std::shared_ptr<state> st_;
};

// The Transport a protocol's policies hold: a pointer to the network, so a
// node that is moved or copied keeps sending through the same sockets.
// Message is encoded by the protocol's encode(const Message&, byte_buffer&),
// found by argument-dependent lookup (quorum::raft::encode, quorum::paxos::encode).
template <class Message>
class asio_transport {
 public:
  explicit asio_transport(tcp_network& net) noexcept : net_{&net} {}
  void send(node_id to, const Message& m) {
    net_->send(to, [&](byte_buffer& out) { encode(m, out); });
  }
  [[nodiscard]] tcp_network& network() const noexcept { return *net_; }

 private:
  tcp_network* net_;
};

}  // namespace quorum::transport
