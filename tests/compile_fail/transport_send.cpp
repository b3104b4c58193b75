// Compile-fail case (tests/compile_fail): a Transport that cannot send the protocol's Message type.
// Built twice by check_compile.cmake: as is it must be rejected with the
// requirement's words; with -DQUORUM_EXPECT_COMPILE_OK it must compile.
#include "quorum/core/ids.hpp"
#include "quorum/core/transport.hpp"

struct vote_request {};
struct heartbeat {};

struct candidate_transport {
  void send(quorum::node_id to, const heartbeat& m);
#ifdef QUORUM_EXPECT_COMPILE_OK
  void send(quorum::node_id to, const vote_request& m);
#endif
};

static_assert(quorum::check_transport<candidate_transport, vote_request>());
