// QUORUM_ASSERT: checks a protocol invariant (DESIGN.md principle 8).
// On by default; a release build may turn it off with QUORUM_ASSERT_LEVEL=0,
// or route failures elsewhere by defining QUORUM_ASSERT_HANDLER(expr, file, line).
#pragma once

#include <cstdio>
#include <cstdlib>

#ifndef QUORUM_ASSERT_LEVEL
#define QUORUM_ASSERT_LEVEL 1
#endif

namespace quorum::detail {

[[noreturn]] inline void assertion_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "quorum: invariant violated: %s (%s:%d)\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace quorum::detail

#ifndef QUORUM_ASSERT_HANDLER
#define QUORUM_ASSERT_HANDLER(expr, file, line) ::quorum::detail::assertion_failed(expr, file, line)
#endif

#if QUORUM_ASSERT_LEVEL > 0
#define QUORUM_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : QUORUM_ASSERT_HANDLER(#cond, __FILE__, __LINE__))
#else
// Still type-checks the expression so an assertion cannot rot in release builds.
#define QUORUM_ASSERT(cond) static_cast<void>(sizeof(static_cast<bool>(cond)))
#endif
