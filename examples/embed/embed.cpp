// A 3-node Raft group in one process. The transport and the state machine are
// written here; the log is quorum's memory_log, the clock std::chrono::steady_clock.
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <quorum/raft.hpp>
#include <quorum/storage/memory_log.hpp>

using namespace quorum;
using network = std::deque<std::pair<node_id, byte_buffer>>;  // messages in flight

struct queue_transport {  // a message is valid only during send(): encode it and queue it
  network* net;
  void send(node_id to, const raft::message& m) { raft::encode(m, net->emplace_back(to, byte_buffer{}).second); }
};

struct kv_store {  // the state machine: each committed "key=value" command sets a key
  std::map<std::string, std::string> data;
  void apply(log_index, byte_view command) {
    const std::string_view kv = as_chars(command);
    data[std::string{kv.substr(0, kv.find('='))}] = kv.substr(kv.find('=') + 1);
  }
};

struct policies {
  using transport = queue_transport;
  using log = storage::memory_log;
  using clock = std::chrono::steady_clock;
  using state_machine = kv_store;
};
using node = raft::node<policies>;

int main() {
  network net;
  const node_id members[] = {node_id{1}, node_id{2}, node_id{3}};
  std::deque<node> nodes;  // a deque never moves its elements: nodes stay put
  for (node_id id : members)
    nodes.emplace_back(id, members, queue_transport{&net}, storage::memory_log{}, policies::clock{}, kv_store{});
  auto deliver = [&] {  // hands every message to its node, until none is left in flight
    for (; !net.empty(); net.pop_front()) nodes[net.front().first.value() - 1].receive(net.front().second);
  };
  node* leader = nullptr;
  while (leader == nullptr) {  // a server calls tick() on a timer, e.g. every 10 ms
    for (node& n : nodes) n.tick();
    deliver();
    for (node& n : nodes) if (n.role() == raft::role::leader) leader = &n;
  }
  for (const char* command : {"color=blue", "size=large", "color=green"})
    if (!leader->propose(as_bytes(command))) return 1;  // only a leader accepts proposals
  deliver();
  for (node& n : nodes) {
    std::cout << "node " << n.id().value() << " (" << raft::to_string(n.role()) << "):";
    for (const auto& [key, value] : n.state_machine().data) std::cout << ' ' << key << '=' << value;
    std::cout << '\n';
  }
}
