// Heap allocations made by this process: the Raft bench binaries replace the
// global operator new (alloc_counter.cpp) and report allocations per entry as
// the difference of two readings around the part they measure.
#pragma once

#include <cstdint>

namespace quorum_bench {

// Calls to the replaced operator new (every form) since the process started.
[[nodiscard]] std::uint64_t heap_allocations() noexcept;

}  // namespace quorum_bench
