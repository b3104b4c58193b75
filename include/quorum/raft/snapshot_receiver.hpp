// A follower's side of a snapshot transfer: the chunks of one image,
// accepted strictly in order into one bounded buffer. A chunk that does not
// continue what is held is answered with where to resume, so a leader that
// lost chunks (or a follower that restarted) picks up from there (§7).
#pragma once

#include <cstdint>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::raft {

class snapshot_receiver {
 public:
  enum class outcome : std::uint8_t {
    more,       // in order: send the next chunk
    resume,     // out of order: resume at held()
    complete,   // image() is the whole image
    too_large,  // over the receiver's limit: refused
  };

  outcome accept(log_index index, term_id term, std::uint64_t offset, std::uint64_t total, byte_view data,
                 std::size_t max_bytes) {
    if (total > max_bytes) return outcome::too_large;
    if (index != index_ || term != term_ || total != total_) {
      // Another image (or the first): only its beginning can start it.
      clear();
      if (offset != 0) return outcome::resume;
      index_ = index;
      term_ = term;
      total_ = total;
    }
    if (offset != buffer_.size() || data.size() > total_ - offset) return outcome::resume;
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    return buffer_.size() == total_ ? outcome::complete : outcome::more;
  }

  [[nodiscard]] std::uint64_t held() const noexcept { return buffer_.size(); }
  [[nodiscard]] byte_view image() const noexcept { return buffer_; }

  // Forgets the image and gives its memory back: snapshots may be large.
  void clear() {
    byte_buffer{}.swap(buffer_);
    index_ = log_index{};
    term_ = term_id{};
    total_ = 0;
  }

 private:
  log_index index_{};
  term_id term_{};
  std::uint64_t total_{0};
  byte_buffer buffer_;
};

}  // namespace quorum::raft
