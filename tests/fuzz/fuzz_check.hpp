// The fuzzers' check: a broken property prints what broke and where, and
// aborts, which libFuzzer (and a seeded replay in a test) reports.
#pragma once

#include <cstdio>
#include <cstdlib>

#define QUORUM_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::quorum::fuzz::check_failed(#cond, __FILE__, __LINE__))

namespace quorum::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "property broken: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace quorum::fuzz
