// The client side of quorum-kv: a TCP listener for RESP clients. Each
// connection parses requests as they arrive, numbers them, and writes the
// replies back in request order whenever they come. Like Redis, a connection
// sees its own writes: a read waits until the writes before it on the same
// connection are answered (writes may pipeline freely; the log keeps their
// order). Bad input gets a RESP error and the connection is closed, as Redis
// does; other clients go on.
#pragma once

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include <asio.hpp>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "resp.hpp"

namespace kv {

// Where a reply goes: a client connection and the request's number on it.
struct reply_slot {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
};

struct client_limits {
  std::size_t max_clients = 1024;
  std::size_t max_pipeline = 1024;  // requests awaiting replies per connection; reading pauses beyond
  std::size_t read_chunk_bytes = std::size_t{16} << 10;
  // Replies a connection may have waiting to be sent (in request order, in its
  // buffers, or with the kernel refusing more): past it the client is not
  // reading what it asked for, and its connection is closed, as Redis's
  // client-output-buffer-limit does; the server's memory stays bounded.
  std::size_t max_output_bytes = std::size_t{256} << 20;
  resp::limits resp;
};

class client_port {
  struct session {
    explicit session(asio::ip::tcp::socket s) : socket{std::move(s)} {}
    std::uint64_t id = 0;
    asio::ip::tcp::socket socket;
    std::string in;
    resp::parsed request;  // every request is parsed into this one: its strings keep their room
    std::unique_ptr<char[]> chunk;  // what recv fills; not zeroed, unlike growing `in` would be
    struct pending {
      std::optional<std::string> reply;
      bool write = false;
    };
    std::deque<pending> replies;  // front: request number first_seq
    std::uint64_t first_seq = 0;
    std::size_t waiting_bytes = 0;  // of the replies given but waiting for earlier ones
    std::size_t writes_outstanding = 0;
    bool parsing = false, held = false;  // held: a read waits for this connection's writes
    std::string out, writing;
    bool known = false;    // added to the epoll set
    bool watched = false;  // ... with EPOLLIN: reported while it has unread bytes
    bool writing_now = false, closing = false, closed = false;
    bool flush_due = false;  // on flush_queue_: its replies leave at the end of this turn
    bool resume_due = false;  // a handler that parses on is posted
  };

 public:
  // on_command(args, slot): every parsed request (args non-empty); reply(slot, ...) answers it, now or later.
  using command_handler = std::function<void(std::vector<std::string>& args, reply_slot slot)>;
  enum class ordering { free, write, read };
  // Called on each request before on_command; may normalise args (e.g. upper-case the name).
  using order_of = std::function<ordering(std::vector<std::string>& args)>;

  client_port(asio::io_context& io, client_limits lim, order_of order, command_handler h)
      : io_{io}, acceptor_{io}, ready_{io}, lim_{lim}, order_{std::move(order)}, handler_{std::move(h)} {}

  // Binds host:port and starts accepting; an error message when it cannot.
  std::optional<std::string> listen(const std::string& host, std::uint16_t port) {
    asio::error_code ec;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return std::string{"epoll_create1: "} + std::strerror(errno);
    if (ready_.assign(ep, ec); ec) {
      ::close(ep);
      return "epoll descriptor: " + ec.message();
    }
    asio::ip::tcp::resolver resolver{io_};
    auto found = resolver.resolve(host, std::to_string(port), ec);
    if (ec || found.empty()) return "cannot resolve " + host;
    const auto endpoint = found.begin()->endpoint();
    if (acceptor_.open(endpoint.protocol(), ec); ec) return ec.message();
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (acceptor_.bind(endpoint, ec); ec) return "bind " + host + ":" + std::to_string(port) + ": " + ec.message();
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) return ec.message();
    accept();
    return std::nullopt;
  }

  // Answers request `slot`; dropped if that client is gone.
  void reply(reply_slot slot, std::string text) {
    const auto it = sessions_.find(slot.client);
    if (it == sessions_.end()) return;
    session& s = *it->second;
    if (slot.seq < s.first_seq || slot.seq - s.first_seq >= s.replies.size()) return;
    auto& p = s.replies[slot.seq - s.first_seq];
    if (p.reply) return;  // answered already
    p.reply = std::move(text);
    s.waiting_bytes += p.reply->size();
    if (p.write) --s.writes_outstanding;
    while (!s.replies.empty() && s.replies.front().reply) {
      s.waiting_bytes -= s.replies.front().reply->size();
      s.out += *s.replies.front().reply;
      s.replies.pop_front();
      ++s.first_seq;
    }
    const auto keep = it->second;
    if (s.waiting_bytes + s.out.size() + s.writing.size() > lim_.max_output_bytes) {
      std::fprintf(stderr, "quorum-kv: a client's unsent replies passed %zu bytes; its connection is closed\n",
                   lim_.max_output_bytes);
      end(keep);
      return;
    }
    flush_later(keep);
    if (keep->held && keep->writes_outstanding == 0 && !keep->parsing && !keep->closed) resume_later(keep);
  }

  // Writes the replies given so far in this turn now, not at its end.
  void flush() {
    auto due = std::move(flush_queue_);
    flush_queue_.clear();
    for (const auto& d : due) {
      d->flush_due = false;
      write(d);  // may end the session
    }
  }

  [[nodiscard]] std::size_t clients() const noexcept { return sessions_.size(); }

  void close() {
    asio::error_code ec;
    acceptor_.close(ec);
    for (auto& [id, s] : sessions_) {
      s->closed = true;
      s->socket.close(ec);
    }
    sessions_.clear();
    ready_.close(ec);
  }

 private:
  // Replies given during one turn of the event loop (a whole commit batch)
  // leave in one send per connection, not one send per reply.
  void flush_later(const std::shared_ptr<session>& s) {
    if (s->flush_due) return;
    s->flush_due = true;
    flush_queue_.push_back(s);
    if (flush_queue_.size() > 1) return;  // the handler is posted already (or flush() emptied the queue since)
    asio::post(io_, [this] { flush(); });
  }

  // A connection whose read waited for its writes (or whose pipeline was at
  // its bound) goes on in a handler of its own: reply() is called from inside
  // the protocol node (a write's reply is given as it applies), and flush()
  // between a turn's two batches; the requests that follow must not run there.
  void resume_later(const std::shared_ptr<session>& s) {
    if (s->resume_due) return;
    s->resume_due = true;
    asio::post(io_, [this, s] {
      s->resume_due = false;
      if (s->closed || s->closing || s->parsing || (s->held && s->writes_outstanding != 0)) return;
      parse(s);
      watch(s);
    });
  }

  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket sock) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (sessions_.size() >= lim_.max_clients) {
          std::string refuse;
          resp::error(refuse, "ERR max number of clients reached");
          asio::error_code ignored;
          asio::write(sock, asio::buffer(refuse), ignored);
        } else {
          asio::error_code e2;
          sock.set_option(asio::ip::tcp::no_delay(true), e2);
          sock.non_blocking(true, e2);  // recv in on_ready() must never wait
          if (!e2) {
            auto s = std::make_shared<session>(std::move(sock));
            s->id = ++last_id_;
            sessions_.emplace(s->id, s);
            watch(s);
            if (!s->watched) end(s);  // epoll_ctl refused it: nothing would ever read it
          }
        }
      }
      accept();
    });
  }

  // Waits (once per turn, not per request) for any client socket to be readable.
  void arm() {
    if (armed_ || !ready_.is_open()) return;
    armed_ = true;
    ready_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& ec) {
      armed_ = false;
      if (ec) return;  // closed
      epoll_event ev[64];
      const int n = ::epoll_wait(ready_.native_handle(), ev, 64, 0);
      for (int k = 0; k < n; ++k) {
        // A copy: epoll_event is packed on x86-64, so its u64 is misaligned
        // and find() must not bind a reference to it.
        const std::uint64_t id = ev[k].data.u64;
        const auto it = sessions_.find(id);
        if (it != sessions_.end()) on_ready(std::shared_ptr<session>{it->second});
      }
      arm();
    });
  }

  // Whether the socket should be read: not while a read waits for writes, the
  // pipeline is full or the connection is closing. Level-triggered, so a
  // socket not wanted now leaves the set's interest (or it would be reported
  // on every turn) and rejoins it when wanted; an epoll_ctl only on a change.
  void watch(const std::shared_ptr<session>& s) {
    if (s->closed) return;
    const bool want = !s->closing && !s->held && s->replies.size() < lim_.max_pipeline;
    if (want == s->watched && (want || s->known)) return;
    epoll_event ev{};
    ev.events = want ? std::uint32_t{EPOLLIN} : std::uint32_t{0};
    ev.data.u64 = s->id;
    const int fd = s->socket.native_handle();
    if (::epoll_ctl(ready_.native_handle(), s->known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) return;
    s->known = true;
    s->watched = want;
    if (want) arm();
  }

  // One read of a socket the set reported: what it holds is parsed at once.
  void on_ready(const std::shared_ptr<session>& s) {
    if (s->closed || !s->watched) return;
    if (!s->chunk) s->chunk = std::make_unique_for_overwrite<char[]>(lim_.read_chunk_bytes);
    const ssize_t n = ::recv(s->socket.native_handle(), s->chunk.get(), lim_.read_chunk_bytes, 0);
    // Readiness reported, then the bytes taken by nobody: rare.
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {  // end of stream or an error
      end(s);
      return;
    }
    s->in.append(s->chunk.get(), static_cast<std::size_t>(n));
    parse(s);
    watch(s);
  }

  // Runs every complete request in the buffer, up to the pipeline bound.
  void parse(const std::shared_ptr<session>& s) {
    if (s->parsing) return;  // a reply given inside the handler: the loop below goes on
    s->parsing = true;
    s->held = false;
    std::size_t off = 0;
    while (!s->closing && !s->closed && s->replies.size() < lim_.max_pipeline) {
      resp::parsed& p = s->request;
      resp::parse(std::string_view{s->in}.substr(off), p, lim_.resp);
      if (p.state == resp::status::need_more) break;
      if (p.state == resp::status::error) {
        std::string text;
        resp::error(text, "ERR " + p.error);
        s->replies.push_back({});
        s->closing = true;  // after this reply: the stream cannot be resynchronised
        off = s->in.size();
        s->parsing = false;
        reply(reply_slot{s->id, s->first_seq + s->replies.size() - 1}, std::move(text));
        return;
      }
      if (p.args.empty()) {
        off += p.consumed;
        continue;
      }
      const ordering o = order_(p.args);
      if (o == ordering::read && s->writes_outstanding > 0) {
        s->held = true;  // parsed again once the writes are answered
        break;
      }
      off += p.consumed;
      s->replies.push_back({std::nullopt, o == ordering::write});
      if (o == ordering::write) ++s->writes_outstanding;
      handler_(p.args, reply_slot{s->id, s->first_seq + s->replies.size() - 1});
    }
    s->in.erase(0, off);
    s->parsing = false;
  }

  // Replies leave by a direct non-blocking send: they nearly always fit in
  // the socket's buffer. Only what the kernel cannot take goes to async_write
  // (which allocated a handler per reply: about one memalign per SET).
  void write(const std::shared_ptr<session>& s) {
    if (s->writing_now || s->closed) return;
    if (s->out.empty()) {
      if (s->closing && s->replies.empty()) end(s);
      return;
    }
    asio::error_code ec;
    std::size_t n = s->socket.write_some(asio::buffer(s->out), ec);  // the socket is non-blocking (accept())
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      n = 0;
    } else if (ec) {
      end(s);
      return;
    }
    if (n == s->out.size()) {
      s->out.clear();
      if (s->closing && s->replies.empty()) end(s);
      else if (!s->watched && !s->held && !s->closing) resume_later(s);  // a pipeline paused at its bound may go on
      return;
    }
    s->writing.assign(s->out, n);
    s->out.clear();
    s->writing_now = true;
    asio::async_write(s->socket, asio::buffer(s->writing), [this, s](const asio::error_code& e, std::size_t) {
      s->writing_now = false;
      s->writing.clear();
      if (s->closed) return;
      if (e) {
        end(s);
        return;
      }
      write(s);
      if (!s->closing && !s->held && !s->closed) {  // a paused pipeline may go on
        parse(s);
        watch(s);
      }
    });
  }

  void end(const std::shared_ptr<session>& s) {
    s->closed = true;
    if (s->known) ::epoll_ctl(ready_.native_handle(), EPOLL_CTL_DEL, s->socket.native_handle(), nullptr);
    asio::error_code ignored;
    s->socket.close(ignored);
    sessions_.erase(s->id);
  }

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::posix::stream_descriptor ready_;  // the client sockets' epoll set
  bool armed_ = false;                     // a wait on ready_ is pending
  client_limits lim_;
  order_of order_;
  command_handler handler_;
  std::unordered_map<std::uint64_t, std::shared_ptr<session>> sessions_;
  std::vector<std::shared_ptr<session>> flush_queue_;
  std::uint64_t last_id_ = 0;
};

}  // namespace kv
