// libFuzzer target: what quorum-kv reads from the network (examples/kv):
// client requests in RESP2 and the frames peers send each other. Both
// decoders must be total and bounded; what they accept must mean what its
// re-encoding means.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "peer_wire.hpp"
#include "resp.hpp"

namespace {

// Small limits, so that the fuzzer reaches every bound (an inline line
// within one argument's bound, as the defaults have it).
constexpr kv::resp::limits small{8, 64, 160, 48};

std::string as_array(const std::vector<std::string>& args) {
  std::string out;
  kv::resp::array_header(out, args.size());
  for (const auto& a : args) kv::resp::bulk(out, a);
  return out;
}

void check_resp(std::string_view in, const kv::resp::limits& lim) {
  const kv::resp::parsed p = kv::resp::parse(in, lim);
  switch (p.state) {
    case kv::resp::status::need_more:
      QUORUM_FUZZ_CHECK(p.consumed == 0);
      return;
    case kv::resp::status::error:
      QUORUM_FUZZ_CHECK(!p.error.empty());
      QUORUM_FUZZ_CHECK(p.error.find_first_of("\r\n") == std::string::npos);  // it goes out as one error line
      return;
    case kv::resp::status::command: break;
  }
  QUORUM_FUZZ_CHECK(p.consumed > 0 && p.consumed <= in.size());
  QUORUM_FUZZ_CHECK(p.args.size() <= lim.max_args);
  std::size_t total = 0;
  for (const auto& a : p.args) {
    QUORUM_FUZZ_CHECK(a.size() <= lim.max_bulk_bytes);
    total += a.size();
  }
  QUORUM_FUZZ_CHECK(total <= std::max(lim.max_command_bytes, lim.max_inline_bytes));
  // What was parsed is the prefix it consumed: the rest of the input changes nothing.
  const kv::resp::parsed alone = kv::resp::parse(in.substr(0, p.consumed), lim);
  QUORUM_FUZZ_CHECK(alone.state == kv::resp::status::command && alone.consumed == p.consumed && alone.args == p.args);
  // The same command as an array of bulk strings parses back to itself, whole.
  if (p.args.empty()) return;
  const std::string again = as_array(p.args);
  const kv::resp::parsed back = kv::resp::parse(again, kv::resp::limits{});
  QUORUM_FUZZ_CHECK(back.state == kv::resp::status::command && back.consumed == again.size() && back.args == p.args);
  // Every strict prefix of that array is incomplete, never an error or another command.
  for (std::size_t cut = 0; cut < again.size(); ++cut)
    QUORUM_FUZZ_CHECK(kv::resp::parse(std::string_view{again}.substr(0, cut), kv::resp::limits{}).state ==
                  kv::resp::status::need_more);
}

void check_peer_frame(quorum::byte_view body) {
  namespace wire = kv::wire;
  if (auto f = wire::decode_forward(body, small)) {
    QUORUM_FUZZ_CHECK(f->args.size() <= small.max_args);
    quorum::byte_buffer out;
    wire::encode(*f, out);
    auto back = wire::decode_forward(quorum::byte_view{out}.subspan(1), small);
    QUORUM_FUZZ_CHECK(back && back->origin == f->origin && back->id == f->id && back->args == f->args);
  }
  if (auto r = wire::decode_forward_reply(body)) {
    quorum::byte_buffer out;
    wire::encode(*r, out);
    auto back = wire::decode_forward_reply(quorum::byte_view{out}.subspan(1));
    QUORUM_FUZZ_CHECK(back && back->id == r->id && back->reply == r->reply);
  }
  if (auto q = wire::decode_read_index(body)) {
    quorum::byte_buffer out;
    wire::encode(*q, out);
    auto back = wire::decode_read_index(quorum::byte_view{out}.subspan(1));
    QUORUM_FUZZ_CHECK(back && back->origin == q->origin && back->id == q->id);
  }
  if (auto q = wire::decode_read_index_reply(body)) {
    quorum::byte_buffer out;
    wire::encode(*q, out);
    auto back = wire::decode_read_index_reply(quorum::byte_view{out}.subspan(1));
    QUORUM_FUZZ_CHECK(back && back->id == q->id && back->ok == q->ok && back->index == q->index &&
                      back->error == q->error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  check_resp(text, small);
  check_resp(text, kv::resp::limits{});
  check_peer_frame(quorum::byte_view{reinterpret_cast<const std::byte*>(data), size});
  return 0;
}
