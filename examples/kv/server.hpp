// quorum-kv's server: the glue between RESP clients, the peer network and a
// quorum::raft::node or quorum::paxos::node (the same verbs; protocols.hpp).
// Writes are proposed and answered when applied (after commit, durable on a
// majority); a follower hands a write to the leader and relays the reply.
// Reads are linearizable: the reads of one event-loop turn share one read of
// the node at the leader, or one read index asked of the leader at a follower,
// which then serves them from its own state (read_groups.hpp). Everything runs on one
// io_context thread, driven by run(); proposals that arrive in one turn of it
// share one fsync (group commit: a turn runs every handler that is ready,
// the sockets polled until none is, and then closes the batch). A leader may
// hold a turn's writes a little longer so that more join them (write_pacer.hpp).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <quorum/storage/file_log.hpp>
#include <quorum/storage/file_snapshot_store.hpp>
#include <quorum/transport/asio.hpp>

#include "client_port.hpp"
#include "peer_wire.hpp"
#include "protocols.hpp"
#include "read_groups.hpp"
#include "sending_log.hpp"
#include "store.hpp"
#include "write_pacer.hpp"

namespace kv {

struct server_config {
  quorum::node_id self;
  std::vector<quorum::transport::peer_address> cluster;  // every member, this one included
  std::string client_host;
  std::uint16_t client_port = 0;
  std::string data_dir;
  std::uint64_t snapshot_every = 10000;  // applied entries between snapshots
  bool leader_sync_thread = false;       // Raft: the leader's fdatasync on a log_syncer thread
  std::chrono::milliseconds tick{10};
  std::chrono::microseconds write_pacing{100};  // the longest a write waits for others to join its batch (write_pacer)
  std::chrono::milliseconds request_timeout{3000};
  client_limits clients;
};

template <class Protocol>
class server;

// The state machine policy: the store, plus a handle to the server that
// waits for results. Callbacks never call back into the node.
template <class Protocol>
struct state_machine {
  server<Protocol>* owner = nullptr;
  store data;
  decoded_write decoded;  // every entry decodes into this one
  void apply(quorum::log_index i, quorum::byte_view entry);
  // A hint from the node: this entry applies soon; its key's slot starts loading now.
  void prefetch(quorum::byte_view entry) const noexcept {
    if (const auto key = first_key(entry)) data.prefetch(*key);
  }
  void snapshot(quorum::byte_buffer& out) const { data.snapshot(out); }
  void restore(quorum::log_index i, quorum::byte_view image);
  void read_ready(std::uint64_t id, quorum::log_index index);
  void read_failed(std::uint64_t id, const quorum::error& e);
};

// The Transport policy: channel byte, then the protocol's message, in one frame.
template <class Message>
struct peer_transport {
  quorum::transport::tcp_network* net = nullptr;
  void send(quorum::node_id to, const Message& m) {
    net->send(to, [&](quorum::byte_buffer& out) {
      wire::put_channel(out, wire::channel::protocol);
      encode(m, out);  // raft::encode or paxos::encode, by argument-dependent lookup
    });
  }
};

template <class Protocol>
struct policies {
  using transport = peer_transport<typename Protocol::message>;
  using log = sending_log;
  using clock = std::chrono::steady_clock;
  using state_machine = kv::state_machine<Protocol>;
  using snapshot_store = quorum::storage::file_snapshot_store;
};

template <class Protocol>
class server {
  using node_type = typename Protocol::template node<policies<Protocol>>;
  using clock = std::chrono::steady_clock;

  // Where an answer goes: a local client, or a peer that forwarded the request.
  struct destination {
    std::optional<reply_slot> local;
    quorum::node_id origin{};
    std::uint64_t forward_id = 0;
  };
  struct pending_write {
    destination to;
    quorum::log_index index;
    std::uint64_t tag = 0;
    clock::time_point deadline;
  };
  using reads = read_groups<destination, clock::time_point>;
  struct pending_forward {
    reply_slot to;
    quorum::node_id leader;  // where it went
    clock::time_point deadline;
    bool answered = false;
  };

 public:
  // Opens the data directory, binds both ports; an error message when something cannot start.
  static std::optional<std::string> start(asio::io_context& io, server_config cfg, std::unique_ptr<server>& out) {
    out.reset(new server{io, std::move(cfg)});
    return out->open();
  }

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Runs the io_context until it runs out of work (after stop()). A turn is
  // every handler ready to run, the reactor polled again until nothing more
  // is (so every request the sockets hold joins the batch: under -P 1 the 50
  // clients' writes share one fsync instead of those read before the first
  // poll), at most max_turn_handlers of them; then the turn's batch closes.
  void run() {
    while (io_.run_one() != 0) {
      for (std::size_t k = 1; k < max_turn_handlers && io_.poll_one() != 0; ++k) {
      }
      end_turn();
    }
  }

  void stop() {
    tick_timer_.cancel();
    hold_timer_.cancel();
    cork_timer_.cancel();
    clients_.close();
    if (net_) net_->close();
  }

  // Called by the state machine (inside the node: nothing here calls the node).
  // Entries apply in order: a write proposed at an index up to i that did not
  // apply as itself was replaced by another leader's entry and never will.
  void on_applied(quorum::log_index i, std::uint64_t tag, std::string reply) {
    const in_callback scope{*this};
    // Each pending write leaves writes_ before its reply goes out: a reply
    // may run more requests of a waiting client, which add to writes_.
    while (!writes_.empty() && writes_.front().index <= i) {
      pending_write w = std::move(writes_.front());
      writes_.pop_front();
      if (w.index == i && w.tag == tag) {
        if (w.to.local) pacer_.answered();
        deliver(w.to, std::move(reply));
      } else {
        deliver(w.to, lost_reply);
      }
    }
  }
  // A snapshot replaced the state up to i: a pending write there may be in it or not.
  void on_restored(quorum::log_index i) {
    const in_callback scope{*this};
    while (!writes_.empty() && writes_.front().index <= i) {
      pending_write w = std::move(writes_.front());
      writes_.pop_front();
      deliver(w.to, unknown_write_reply);
    }
  }
  // The leader's read of a group: its clients get values, the followers that
  // asked get the read index.
  void on_read_ready(std::uint64_t id, quorum::log_index index) {
    const in_callback scope{*this};
    const auto it = reads_.find(id);
    if (it == reads_.end()) return;
    const store& data = node_->state_machine().data;
    for (const auto& r : it->second.items()) {
      if (r.index_only) send_read_index(r.to, wire::read_index_reply{r.to.forward_id, true, index, {}});
      else deliver(r.to, data.read(r.args));
    }
    reads_.erase(it);
  }
  void on_read_failed(std::uint64_t id, const quorum::error& e) {
    const in_callback scope{*this};
    const auto it = reads_.find(id);
    if (it == reads_.end()) return;
    fail_reads(it->second, error_reply(e));
    reads_.erase(it);
  }

 private:
  // Marks the time spent inside a callback of the node. A request that would
  // run then (a reply that lets a waiting connection go on) would call the
  // node from inside itself: execute() refuses that loudly, always, because
  // the node's state mid-call is not one its methods may be entered from.
  struct in_callback {
    explicit in_callback(server& s) noexcept : s_{s} { ++s_.callback_depth_; }
    in_callback(const in_callback&) = delete;
    in_callback& operator=(const in_callback&) = delete;
    ~in_callback() { --s_.callback_depth_; }
    server& s_;
  };

  server(asio::io_context& io, server_config cfg)
      : io_{io},
        cfg_{std::move(cfg)},
        tick_timer_{io},
        hold_timer_{io},
        pacer_{cfg_.write_pacing},
        cork_timer_{io},
        clients_{io, cfg_.clients, order_of,
                 [this](std::vector<std::string>& args, reply_slot slot) {
                   open_batch();
                   execute(args, destination{slot, {}, 0});
                 }} {
    std::random_device rd;
    tag_ = (std::uint64_t{rd()} << 32 | rd()) & ~(std::uint64_t{0xffff} << 48);  // fresh per incarnation
  }

  static client_port::ordering order_of(std::vector<std::string>& args) {
    const auto info = classify(args);
    if (!info || info->kind == command_kind::local) return client_port::ordering::free;
    return info->kind == command_kind::write ? client_port::ordering::write : client_port::ordering::read;
  }

  std::optional<std::string> open() {
    const std::string dir = cfg_.data_dir;
    auto log = quorum::storage::file_log::open(dir + "/log");
    if (!log) return "cannot open the log: " + log.error().message;
    auto snaps = quorum::storage::file_snapshot_store::open(dir + "/snapshot");
    if (!snaps) return "cannot open the snapshot store: " + snaps.error().message;
    auto net = quorum::transport::tcp_network::create(io_, cfg_.self, cfg_.cluster);
    if (!net) return "peer network: " + net.error().message();
    net_ = std::move(*net);
    const quorum::transport::peer_address* me = nullptr;
    std::vector<quorum::node_id> members;
    for (const auto& p : cfg_.cluster) {
      members.push_back(p.id);
      if (p.id == cfg_.self) me = &p;
    }
    if (me == nullptr) return "--id is not in --cluster";
    if (auto r = net_->listen(me->host, me->port); !r) return "peer listen " + me->host + ":" +
                                                              std::to_string(me->port) + ": " + r.error().message();
    node_ = std::make_unique<node_type>(cfg_.self, members, peer_transport<typename Protocol::message>{net_.get()},
                                        sending_log{std::move(*log), *net_}, clock{},
                                        state_machine<Protocol>{this, {}, {}}, std::move(*snaps), Protocol::options());
    if (!node_->status()) return std::string{Protocol::name} + ": " + node_->status().error().message();
    if constexpr (requires(node_type& n) { n.log_synced(quorum::sync_ticket{}); }) {
      // --leader-sync thread: a Raft leader's fdatasync runs on a thread of its own (sending_log.hpp).
      if (cfg_.leader_sync_thread) {
        syncer_ = std::make_unique<log_syncer>(io_, [this](log_syncer::job& j, const quorum::result<void>& r) {
          const auto ended = node_->log().end_sync(j.sync, r);
          open_batch();
          node_->log_synced(j.ticket, ended);
        });
        node_->log().attach(syncer_.get());
      }
    }
    net_->on_frame([this](quorum::byte_view frame) { on_peer_frame(frame); });
    if (auto e = clients_.listen(cfg_.client_host, cfg_.client_port)) return "client listen: " + *e;
    schedule_tick();
    return std::nullopt;
  }

  void schedule_tick() {
    tick_timer_.expires_after(cfg_.tick);
    tick_timer_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      node_->tick();
      serve_applied_reads();
      expire();
      maybe_snapshot();
      schedule_tick();
    });
  }

  // Holds every flush of the node until the turn ends (run()). Then, in two
  // steps: the turn's reads go to the node as one and the batch closes (the
  // node syncs what it received, acknowledges, and applies what the turn's
  // acknowledgements committed), and those replies leave at once; then the
  // turn's writes are proposed as one more batch (sent, synced once). Had
  // the writes joined the first batch, the replies of entries already
  // committed would wait for the fsync of the new ones: one more disk wait
  // in every request's round trip at -P 1 (the leader's turn has both).
  // The writes stay for a later turn while the pacer holds them.
  void open_batch() {
    if (batch_) return;
    // A pacing leader corks its peer network for the turn: a commit
    // announcement then leaves with the next batch's entries (which carry
    // the commit index too) rather than in a write, and a wake-up at each
    // follower, of its own. end_turn uncorks, or leaves it to cork_timer_.
    if (pacer_.limit().count() > 0 && !cork_expired_ && leading()) net_->cork();
    now_ = clock::now();
    batch_.emplace(*node_);
  }
  void end_turn() {
    if (!batch_) return;
    ask_reads();
    batch_.reset();
    if (!turn_writes_.empty() && hold_writes()) {
      clients_.flush();
      cork_timer_.cancel();  // the proposal that ends the hold uncorks
    } else if (!turn_writes_.empty()) {
      pacer_.proposed();
      cork_expired_ = false;
      net_->uncork();  // the sync below sends what waited with the new entries
      clients_.flush();  // (replies to followers are on the network queue: the sync below sends them first)
      batch_.emplace(*node_);
      propose_turn_writes();
      batch_.reset();
      net_->flush();  // what waited, should nothing have been synced (no write proposed): an empty queue costs no call
    }
    // Writes held: corked until they are proposed. None, but clients just
    // answered: corked until they write or the pacing limit passes, counted
    // from the first such turn; if it passes, no more corking until the next
    // proposal (the clients went elsewhere: reads must not wait on them).
    // Else the turn's frames go now.
    if (net_->corked() && turn_writes_.empty()) {
      if (!leading() || pacer_.awaited() == 0) {
        net_->uncork();
        net_->flush();  // now: the next turn may cork again before a posted flush would run
      } else if (cork_timer_.expiry() <= clock::now()) {  // not armed yet
        cork_timer_.expires_after(cfg_.write_pacing);
        cork_timer_.async_wait([this](const asio::error_code& ec) {
          if (ec || !net_->corked()) return;  // cancelled, or a proposal sent the frames
          cork_expired_ = true;
          net_->uncork();
          net_->flush();
        });
      }
    }
    serve_applied_reads();
  }
  // Holds the turn's writes if the pacer says so (a leader's only), and
  // wakes a turn when the hold ends.
  bool hold_writes() {
    if (!leading()) return false;
    const auto until = pacer_.hold_until(clock::now(), !writes_.empty());
    if (!until) return false;
    // A hold keeps its deadline, and a new hold's lies past every earlier
    // one: a timer already set for it is waiting, any other is re-set.
    if (*until != hold_timer_.expiry()) {
      hold_timer_.expires_at(*until);
      hold_timer_.async_wait([this](const asio::error_code& ec) {
        if (!ec) open_batch();  // a turn, so that end_turn looks again
      });
    }
    return true;
  }
  // A bound on a turn, so a stream of ready handlers cannot hold a batch open for long.
  static constexpr std::size_t max_turn_handlers = 4096;

  void on_peer_frame(quorum::byte_view frame) {
    if (frame.empty()) return;
    const auto body = frame.subspan(1);
    switch (static_cast<wire::channel>(frame[0])) {
      case wire::channel::protocol:
        open_batch();
        node_->receive(body);
        return;
      case wire::channel::forward: {
        // A peer that sends garbage is a bug there.
        if (!wire::decode_forward(body, forwarded_, cfg_.clients.resp)) return;
        open_batch();
        execute(forwarded_.args, destination{std::nullopt, forwarded_.origin, forwarded_.id});
        return;
      }
      case wire::channel::read_index: {
        const auto q = wire::decode_read_index(body);
        if (!q) return;
        const destination to{std::nullopt, q->origin, q->id};
        if (!leading()) return send_read_index(to, wire::read_index_reply{q->id, false, {}, "-TRYAGAIN no leader\r\n"});
        open_batch();
        reads_.add_index_request(to);
        return;
      }
      case wire::channel::read_index_reply: {
        auto q = wire::decode_read_index_reply(body);
        if (!q) return;
        const auto it = reads_.find(q->id);
        if (it == reads_.end() || it->second.asked_of == quorum::no_node) return;  // answered already (timed out)
        if (!q->ok) {
          fail_reads(it->second, q->error);
          reads_.erase(it);
          return;
        }
        reads_.await_apply(it, q->index);
        serve_applied_reads();
        return;
      }
      case wire::channel::forward_reply: {
        auto r = wire::decode_forward_reply(body);
        if (!r) return;
        if (r->id < first_forward_ || r->id - first_forward_ >= forwards_.size()) return;  // not ours (any more)
        pending_forward& f = forwards_[r->id - first_forward_];
        if (f.answered) return;  // timed out
        f.answered = true;
        clients_.reply(f.to, std::move(r->reply));
        drop_answered_forwards();
        return;
      }
    }
  }

  void execute(std::vector<std::string>& args, destination to) {
    if (callback_depth_ != 0) {
      std::fprintf(stderr, "quorum-kv: bug: a request ran inside a callback of the %s node (re-entrancy)\n",
                   Protocol::name);
      std::abort();
    }
    auto info = classify(args);
    if (!info) {
      std::string text;
      resp::error(text, info.error());
      return deliver(to, std::move(text));
    }
    if (info->kind == command_kind::local) return deliver(to, local(args));
    if (leading()) {
      if (info->kind == command_kind::write) write(args, std::move(to));
      else reads_.add(std::move(to), args);
      return;
    }
    const quorum::node_id leader = node_->leader();
    if (info->kind == command_kind::read && to.local && leader != quorum::no_node && leader != cfg_.self)
      return reads_.add(std::move(to), args);  // served here, at an index the leader gives
    if (!to.local || leader == quorum::no_node || leader == cfg_.self)  // a forwarded request is never forwarded again
      return deliver(to, "-TRYAGAIN no leader\r\n");
    const std::uint64_t id = first_forward_ + forwards_.size();
    forwards_.push_back(pending_forward{*to.local, leader, now_ + cfg_.request_timeout});
    net_->send(leader, [&](quorum::byte_buffer& out) { wire::encode(wire::forward{cfg_.self, id, args}, out); });
  }

  // A write is proposed at the end of its turn (end_turn), after the node
  // has applied what the turn's messages committed: its entry waits in
  // turn_entries_ (one buffer for the turn: no allocation per write).
  void write(const std::vector<std::string>& args, destination to) {
    const std::uint64_t tag = ++tag_;
    pacer_.arrived();
    const std::size_t at = turn_entries_.size();
    encode_write(tag, args, turn_entries_);
    turn_writes_.push_back(turn_write{std::move(to), at, turn_entries_.size() - at, tag});
  }

  void propose_turn_writes() {
    for (turn_write& t : turn_writes_) {
      auto p = node_->propose(quorum::byte_view{turn_entries_.data() + t.offset, t.size});
      if (!p) {  // e.g. leadership lost earlier in this turn: nothing was proposed
        deliver(t.to, error_reply(p.error()));
        continue;
      }
      pending_write w{std::move(t.to), p->index, t.tag, now_ + cfg_.request_timeout};
      // Indices grow while this node leads; one that leads again after its log
      // was cut back may propose below an older pending write: keep the order.
      if (writes_.empty() || writes_.back().index <= w.index) {
        writes_.push_back(std::move(w));
      } else {
        const auto at = std::upper_bound(writes_.begin(), writes_.end(), w.index,
                                         [](quorum::log_index x, const pending_write& e) { return x < e.index; });
        writes_.insert(at, std::move(w));
      }
    }
    turn_writes_.clear();
    turn_entries_.clear();
  }

  // Every read asked in this turn (and every follower's request for a read
  // index) shares one read of the node: one confirmation round, as Raft's
  // ReadIndex batches. Each was asked before that read began, so it is as
  // linearizable as a read of its own, and a turn of 800 pipelined GETs costs
  // one round, not 800. A follower asks the leader once for the whole turn.
  void ask_reads() {
    if (!reads_.gathering()) return;
    const std::uint64_t id = ++last_read_;
    auto& g = reads_.close(id, now_ + cfg_.request_timeout);
    if (leading()) {
      if (auto r = node_->read(id); !r) on_read_failed(id, r.error());
      return;
    }
    // No longer leading (or never, this turn): a follower's request cannot be
    // answered here; this node's own reads go to the leader.
    const quorum::node_id leader = node_->leader();
    const bool ask = leader != quorum::no_node && leader != cfg_.self;
    bool own = false;
    for (std::size_t k = 0; k < g.count; ++k) {
      auto& r = g.reads[k];
      if (r.index_only)
        send_read_index(r.to, wire::read_index_reply{r.to.forward_id, false, {}, "-TRYAGAIN no leader\r\n"});
      else if (!ask) deliver(r.to, "-TRYAGAIN no leader\r\n");
      else own = true;
      if (r.index_only || !ask) r = {};  // answered: fail_reads() and serving skip it
    }
    if (!own) return reads_.erase(reads_.find(id));
    g.asked_of = leader;
    net_->send(leader, [&](quorum::byte_buffer& out) { wire::encode(wire::read_index{cfg_.self, id}, out); });
  }

  // At a follower: groups whose read index the local state has reached.
  void serve_applied_reads() {
    reads_.serve_applied(node_->applied_index(), [&](const typename reads::group& g) {
      const store& data = node_->state_machine().data;
      for (const auto& r : g.items())
        if (answerable(r)) deliver(r.to, data.read(r.args));
    });
  }

  void fail_reads(const typename reads::group& g, const std::string& reply) {
    for (const auto& r : g.items()) {
      if (r.index_only) send_read_index(r.to, wire::read_index_reply{r.to.forward_id, false, {}, reply});
      else if (answerable(r)) deliver(r.to, reply);
    }
  }
  // A read not answered yet: a local client's, a follower's, or (from an older node) a forwarded one.
  static bool answerable(const typename reads::read& r) { return r.to.local || r.to.origin != quorum::no_node; }

  void send_read_index(const destination& to, const wire::read_index_reply& r) {
    net_->send(to.origin, [&](quorum::byte_buffer& out) { wire::encode(r, out); });
  }

  [[nodiscard]] bool leading() const { return node_->role() == decltype(node_->role())::leader; }

  std::string local(const std::vector<std::string>& args) {
    std::string out;
    if (args[0] == "PING") {
      if (args.size() == 1) resp::simple(out, "PONG");
      else resp::bulk(out, args[1]);
    } else if (args[0] == "COMMAND") {
      resp::array_header(out, 0);  // redis-cli asks for command docs; it works without them
    } else {
      resp::bulk(out, info());
    }
    return out;
  }

  std::string info() {
    auto& n = *node_;
    std::string s = std::string{"# Replication\r\nprotocol:"} + Protocol::name + "\r\n";
    s += "node_id:" + std::to_string(cfg_.self.value()) + "\r\n";
    s += std::string{"role:"} + to_string(n.role()) + "\r\n";
    s += "leader:" + std::to_string(n.leader().value()) + "\r\n";
    s += Protocol::term_info(n);
    s += "commit_index:" + std::to_string(n.commit_index().value()) + "\r\n";
    s += "applied_index:" + std::to_string(n.applied_index().value()) + "\r\n";
    s += "snapshot_index:" + std::to_string(n.snapshot_index().value()) + "\r\n";
    s += "last_index:" + std::to_string(n.last_index().value()) + "\r\n";
    s += "keys:" + std::to_string(n.state_machine().data.size()) + "\r\n";
    s += std::string{"leader_sync:"} + (syncer_ ? "thread" : "inline") + "\r\n";
    s += "write_pacing_us:" + std::to_string(pacer_.limit().count()) + "\r\n";
    s += "write_turns_held:" + std::to_string(pacer_.held_turns()) + "\r\n";
    if constexpr (requires { n.stats().syncs_started; })
      s += "syncs_started:" + std::to_string(n.stats().syncs_started) + "\r\n";
    const auto& t = net_->stats();
    s += "peer_frames_dropped:" + std::to_string(t.dropped_queue_full + t.dropped_too_large) + "\r\n";
    s += "peer_bad_frames:" + std::to_string(t.bad_frames) + "\r\n";
    return s;
  }

  static std::string error_reply(const quorum::error& e) {
    switch (e.code) {
      case quorum::errc::not_leader: return "-TRYAGAIN no leader\r\n";
      case quorum::errc::busy: return "-TRYAGAIN busy, retry\r\n";
      case quorum::errc::too_large: return "-ERR request too large\r\n";
      case quorum::errc::timeout: return "-TRYAGAIN read not confirmed, retry\r\n";
      default: return "-ERR " + e.message() + "\r\n";
    }
  }

  void deliver(const destination& to, std::string reply) {
    if (to.local) {
      clients_.reply(*to.local, std::move(reply));
      return;
    }
    net_->send(to.origin,
               [&](quorum::byte_buffer& out) { wire::encode(wire::forward_reply{to.forward_id, reply}, out); });
  }

  static constexpr const char* lost_reply = "-TRYAGAIN leadership changed, the write was not applied\r\n";
  static constexpr const char* unknown_write_reply = "-TIMEOUT the write may or may not have been applied\r\n";

  // Deadlines: a reply that cannot come in time says the outcome is unknown.
  void expire() {
    const auto now = clock::now();
    // A write whose index applied without its tag (a no-op or configuration took it) is lost.
    while (!writes_.empty() && writes_.front().index <= node_->applied_index()) {
      pending_write w = std::move(writes_.front());
      writes_.pop_front();
      deliver(w.to, lost_reply);
    }
    // Deadlines mostly grow along writes_, not always (see write()): look at all.
    std::vector<destination> late;
    std::size_t kept = 0;
    for (std::size_t k = 0; k < writes_.size(); ++k) {
      if (writes_[k].deadline <= now) {
        late.push_back(std::move(writes_[k].to));
      } else {
        if (kept != k) writes_[kept] = std::move(writes_[k]);
        ++kept;
      }
    }
    writes_.erase(writes_.begin() + static_cast<std::ptrdiff_t>(kept), writes_.end());
    for (const destination& d : late) deliver(d, unknown_write_reply);
    reads_.expire(now, node_->leader(),
                  [&](const typename reads::group& g) { fail_reads(g, "-TRYAGAIN read timed out\r\n"); });
    // A forward to a node that is no longer the leader will likely never be
    // answered: say so now rather than at the deadline.
    for (pending_forward& f : forwards_) {
      if (f.answered || (f.deadline > now && f.leader == node_->leader())) continue;
      f.answered = true;
      clients_.reply(f.to, "-TIMEOUT no answer from the leader; a write may or may not have been applied\r\n");
    }
    drop_answered_forwards();
  }

  void drop_answered_forwards() {
    while (!forwards_.empty() && forwards_.front().answered) {
      forwards_.pop_front();
      ++first_forward_;
    }
  }

  // A snapshot copies the whole map, so it waits for at least as many new
  // entries as the map has keys: its cost stays O(1) per entry however big
  // the state grows (as Redis rewrites its AOF only once it has doubled).
  void maybe_snapshot() {
    const std::uint64_t due = std::max<std::uint64_t>(cfg_.snapshot_every, node_->state_machine().data.size());
    if (node_->applied_index().value() - node_->snapshot_index().value() < due) return;
    if (auto r = node_->take_snapshot(); !r)
      std::fprintf(stderr, "quorum-kv: snapshot failed: %s\n", r.error().message().c_str());
  }

  asio::io_context& io_;
  server_config cfg_;
  asio::steady_timer tick_timer_;
  asio::steady_timer hold_timer_;  // ends a hold of the pacer's
  write_pacer pacer_;
  asio::steady_timer cork_timer_;  // uncorks the peer network when no write came to take the frames along
  bool cork_expired_ = false;      // cork_timer_ had to uncork: no corking until the next proposal
  client_port clients_;
  std::unique_ptr<quorum::transport::tcp_network> net_;
  std::unique_ptr<node_type> node_;
  std::unique_ptr<log_syncer> syncer_;  // after node_: stopped first, while the log it serves still exists
  std::optional<typename node_type::batch_guard> batch_;
  // This turn's writes, proposed at its end (propose_turn_writes).
  struct turn_write {
    destination to;
    std::size_t offset = 0, size = 0;  // the entry, in turn_entries_
    std::uint64_t tag = 0;
  };
  std::vector<turn_write> turn_writes_;
  quorum::byte_buffer turn_entries_;
  wire::forward forwarded_;  // every forwarded command decodes into this one
  std::uint64_t tag_ = 0, last_read_ = 0;
  int callback_depth_ = 0;  // in_callback scopes open
  std::deque<pending_write> writes_;  // by proposal index; several at one index when a log was cut back
  clock::time_point now_;             // when this event-loop turn's batch opened
  reads reads_;
  // Forwards by id, from first_forward_ on: ids grow by one, so a reply finds
  // its entry by subtraction (no tree node per forwarded write); answered
  // ones leave from the front.
  std::deque<pending_forward> forwards_;
  std::uint64_t first_forward_ = 1;
};

template <class Protocol>
void state_machine<Protocol>::apply(quorum::log_index i, quorum::byte_view entry) {
  if (!decode_write(entry, decoded)) {  // written by a leader of this program: cannot happen short of a bug
    if (owner != nullptr) owner->on_applied(i, 0, "-ERR undecodable log entry\r\n");
    return;
  }
  std::string reply = data.apply(decoded.args);
  if (owner != nullptr) owner->on_applied(i, decoded.tag, std::move(reply));
}
template <class Protocol>
void state_machine<Protocol>::restore(quorum::log_index i, quorum::byte_view image) {
  if (auto r = data.restore(image); !r) {  // the image passed its CRC: this is a bug, not bad input
    std::fprintf(stderr, "quorum-kv: a snapshot image does not decode: %s\n", r.error().message().c_str());
    std::abort();
  }
  if (owner != nullptr) owner->on_restored(i);
}
template <class Protocol>
void state_machine<Protocol>::read_ready(std::uint64_t id, quorum::log_index index) {
  if (owner != nullptr) owner->on_read_ready(id, index);
}
template <class Protocol>
void state_machine<Protocol>::read_failed(std::uint64_t id, const quorum::error& e) {
  if (owner != nullptr) owner->on_read_failed(id, e);
}

}  // namespace kv
