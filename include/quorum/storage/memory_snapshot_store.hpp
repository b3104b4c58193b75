// memory_snapshot_store: the exemplar SnapshotStore, one image in memory.
// Copies share nothing, so a test can keep a "durable" copy beside a live one.
#pragma once

#include <utility>

#include "quorum/core/bytes.hpp"
#include "quorum/core/result.hpp"
#include "quorum/core/snapshot_store.hpp"

namespace quorum::storage {

class memory_snapshot_store {
 public:
  result<void> save(byte_view image) {
    image_.assign(image.begin(), image.end());
    ++saves_;
    return {};
  }
  result<byte_view> load() { return byte_view{image_}; }

  [[nodiscard]] byte_view image() const noexcept { return image_; }
  [[nodiscard]] std::uint64_t saves() const noexcept { return saves_; }

 private:
  byte_buffer image_;
  std::uint64_t saves_{0};
};

static_assert(check_snapshot_store<memory_snapshot_store>());

}  // namespace quorum::storage
