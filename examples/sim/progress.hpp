// The live progress line of quorum-sim: seeds done of total, simulated events
// per second, violations so far. Drawn in place on stderr, only when stderr is
// a terminal (a pipe or a log file gets none), and at most ten times a second.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace quorum_sim {

class progress_meter {
 public:
  using clock = std::chrono::steady_clock;

  explicit progress_meter(std::FILE* out) : out_{out}, enabled_{::isatty(::fileno(out)) == 1} {}

  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  // `total` is 0 when the range covers all 2^64 seeds (it does not fit).
  void update(std::uint64_t done, std::uint64_t total, std::uint64_t events, std::uint64_t violations) {
    if (!enabled_) return;
    const auto now = clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds{100}) return;
    drawn_ = true;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    // A rate over the first few milliseconds is noise; show it once it means something.
    char rate[32] = "--";
    if (seconds >= 0.05) std::snprintf(rate, sizeof rate, "%.0f", static_cast<double>(events) / seconds);
    char of[24] = "2^64";
    if (total != 0) std::snprintf(of, sizeof of, "%llu", static_cast<unsigned long long>(total));
    std::fprintf(out_, "\r\033[K  seeds %llu/%s  %s events/s  violations %llu",
                 static_cast<unsigned long long>(done), of, rate, static_cast<unsigned long long>(violations));
    std::fflush(out_);
  }

  // Erases the line so the report that follows starts clean.
  void finish() {
    if (!enabled_ || !drawn_) return;
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
    drawn_ = false;
  }

 private:
  std::FILE* out_;
  bool enabled_;
  bool drawn_{false};
  clock::time_point start_{clock::now()};
  clock::time_point last_{};
};

}  // namespace quorum_sim
