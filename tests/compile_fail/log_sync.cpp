// Compile-fail case (tests/compile_fail): a Log without sync(), the durability barrier.
// Built twice by check_compile.cmake: as is it must be rejected with the
// requirement's words; with -DQUORUM_EXPECT_COMPILE_OK it must compile.
#include "quorum/core/log.hpp"

struct candidate_log {
  [[nodiscard]] quorum::log_index first_index() const;
  [[nodiscard]] quorum::log_index last_index() const;
  quorum::result<quorum::log_index> append(quorum::byte_view);
  quorum::result<quorum::byte_view> read(quorum::log_index);
  quorum::result<void> truncate(quorum::log_index);
  quorum::result<void> compact(quorum::log_index);
  quorum::result<void> save_state(quorum::byte_view);
  [[nodiscard]] quorum::byte_view state() const;
#ifdef QUORUM_EXPECT_COMPILE_OK
  quorum::result<void> sync();
#endif
};

static_assert(quorum::check_log<candidate_log>());
