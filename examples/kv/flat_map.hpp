// The store's table: string keys to string values, open addressing with
// linear probing over 32-byte slots that keep each key's hash. A key and
// value that fit together in 21 bytes (redis-benchmark's 16-byte keys with
// short values, counters) live in the slot itself, so reading or
// overwriting them touches one cache line; longer ones live in one heap
// block, key and value together, that an overwrite reuses when the value
// fits (std::unordered_map<std::string, std::string> touches a bucket, a node
// and, past 15 bytes, the key's own block). Erase shifts the following run
// back (no tombstones), so probes stay short under any mix of inserts and
// erases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

#include <sys/mman.h>

namespace kv {

class flat_map {
  struct block {
    std::uint32_t key_size;
    std::uint32_t value_size;
    std::uint32_t value_room;  // bytes reserved for the value
    // The key, then the value, follow the header in the same allocation.
    [[nodiscard]] char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
    [[nodiscard]] const char* bytes() const noexcept { return reinterpret_cast<const char*>(this + 1); }
    [[nodiscard]] std::string_view key() const noexcept { return {bytes(), key_size}; }
    [[nodiscard]] std::string_view value() const noexcept { return {bytes() + key_size, value_size}; }
  };
  enum kind : std::uint8_t { empty_slot, small_slot, large_slot };
  // Aligned to its size: a slot never straddles two cache lines.
  struct alignas(32) slot {
    std::uint64_t hash = 0;
    kind held = empty_slot;
    std::uint8_t key_size = 0, value_size = 0;  // small_slot only
    char bytes[21]{};                           // small_slot: key, then value; large_slot: a block*
  };
  static_assert(sizeof(slot) == 32 && std::is_trivially_copyable_v<slot>);
  static constexpr std::size_t small_room = sizeof(slot::bytes);

  // The slots, zeroed (all empty). Arrays of 2 MiB and more are aligned to
  // and advised as huge pages: a lookup at a random key then costs a cache
  // miss but rarely a page-table walk as well (one TLB entry covers 2 MiB).
  class slot_array {
   public:
    slot_array() = default;
    explicit slot_array(std::size_t n) : size_{n} {
      const std::size_t bytes = n * sizeof(slot);
      const std::size_t align = bytes >= huge_page ? huge_page : alignof(slot);
      data_ = static_cast<slot*>(std::aligned_alloc(align, (bytes + align - 1) / align * align));
      if (data_ == nullptr) throw std::bad_alloc{};
#ifdef MADV_HUGEPAGE
      if (align == huge_page) ::madvise(data_, bytes, MADV_HUGEPAGE);  // advice only: no huge pages is fine
#endif
      std::memset(static_cast<void*>(data_), 0, bytes);  // slot{} is all zero bytes
    }
    slot_array(const slot_array&) = delete;
    slot_array& operator=(const slot_array&) = delete;
    ~slot_array() { std::free(data_); }
    void swap(slot_array& o) noexcept {
      std::swap(data_, o.data_);
      std::swap(size_, o.size_);
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    slot& operator[](std::size_t i) noexcept { return data_[i]; }
    const slot& operator[](std::size_t i) const noexcept { return data_[i]; }
    slot* begin() noexcept { return data_; }
    slot* end() noexcept { return data_ + size_; }
    [[nodiscard]] const slot* begin() const noexcept { return data_; }
    [[nodiscard]] const slot* end() const noexcept { return data_ + size_; }

   private:
    static constexpr std::size_t huge_page = std::size_t{2} << 20;
    slot* data_ = nullptr;
    std::size_t size_ = 0;
  };

 public:
  flat_map() = default;
  flat_map(const flat_map&) = delete;
  flat_map& operator=(const flat_map&) = delete;
  flat_map(flat_map&& o) noexcept { swap(o); }
  flat_map& operator=(flat_map&& o) noexcept {
    if (this != &o) {
      clear();
      swap(o);
    }
    return *this;
  }
  ~flat_map() { clear(); }

  void swap(flat_map& o) noexcept {
    slots_.swap(o.slots_);
    std::swap(size_, o.size_);
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  // The value stored under key (valid until the next change), or nothing.
  [[nodiscard]] std::optional<std::string_view> find(std::string_view key) const noexcept {
    const std::size_t i = position(key, hash_of(key));
    if (i == npos) return std::nullopt;
    return value_of(slots_[i]);
  }
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return position(key, hash_of(key)) != npos; }

  // Starts loading the slot where key's probe begins (a hint for a coming assign or find).
  void prefetch(std::string_view key) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[index_of(hash_of(key))], 1);
  }

  // Sets key to value; true when the key is new. value may view a stored value.
  bool assign(std::string_view key, std::string_view value) {
    if (key.size() > UINT32_MAX || value.size() > UINT32_MAX - 8) throw std::length_error{"kv::flat_map: too large"};
    const std::uint64_t h = hash_of(key);
    if (const std::size_t i = position(key, h); i != npos) {
      overwrite(slots_[i], value);
      return false;
    }
    slot fresh = make_slot(h, key, value);  // before growing moves the slots value may view
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();  // load stays at most 3/4
    std::size_t i = index_of(h);
    while (slots_[i].held != empty_slot) i = (i + 1) & mask();
    slots_[i] = fresh;
    ++size_;
    return true;
  }

  // Removes key; true when it was there.
  bool erase(std::string_view key) noexcept {
    std::size_t i = position(key, hash_of(key));
    if (i == npos) return false;
    release(slots_[i]);
    slots_[i] = slot{};
    --size_;
    // Backward shift: move later members of the run into the hole when their home allows it.
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (slots_[j].held == empty_slot) break;
      const std::size_t home = index_of(slots_[j].hash);
      // j may move to i when home is not cyclically in (i, j].
      const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      slots_[j] = slot{};
      i = j;
    }
    return true;
  }

  void clear() noexcept {
    for (slot& s : slots_) release(s);
    slot_array none;
    slots_.swap(none);
    size_ = 0;
  }

  // Calls f(key, value) for every entry, in slot order.
  template <class F>
  void for_each(F&& f) const {
    for (const slot& s : slots_)
      if (s.held != empty_slot) f(key_of(s), value_of(s));
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  static std::uint64_t hash_of(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  // Fibonacci hashing spreads the high bits too over the table.
  [[nodiscard]] std::size_t index_of(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ull) >> 32) & mask();
  }

  static block* large_of(const slot& s) noexcept {
    block* b = nullptr;
    std::memcpy(&b, s.bytes, sizeof b);
    return b;
  }
  static std::string_view key_of(const slot& s) noexcept {
    return s.held == small_slot ? std::string_view{s.bytes, s.key_size} : large_of(s)->key();
  }
  static std::string_view value_of(const slot& s) noexcept {
    return s.held == small_slot ? std::string_view{s.bytes + s.key_size, s.value_size} : large_of(s)->value();
  }
  static void release(slot& s) noexcept {
    if (s.held == large_slot) std::free(large_of(s));
  }

  [[nodiscard]] std::size_t position(std::string_view key, std::uint64_t h) const noexcept {
    if (slots_.empty()) return npos;
    for (std::size_t i = index_of(h);; i = (i + 1) & mask()) {
      const slot& s = slots_[i];
      if (s.held == empty_slot) return npos;
      if (s.hash == h && key_of(s) == key) return i;
    }
  }

  static slot make_slot(std::uint64_t h, std::string_view key, std::string_view value) {
    slot s;
    s.hash = h;
    if (key.size() + value.size() <= small_room) {
      s.held = small_slot;
      s.key_size = static_cast<std::uint8_t>(key.size());
      s.value_size = static_cast<std::uint8_t>(value.size());
      if (!key.empty()) std::memcpy(s.bytes, key.data(), key.size());
      if (!value.empty()) std::memcpy(s.bytes + key.size(), value.data(), value.size());
    } else {
      s.held = large_slot;
      block* b = make_block(key, value);
      std::memcpy(s.bytes, &b, sizeof b);
    }
    return s;
  }

  // Replaces s's value in place when it fits, else rebuilds the entry (value may view s's own bytes).
  static void overwrite(slot& s, std::string_view value) {
    if (s.held == small_slot && s.key_size + value.size() <= small_room) {
      if (!value.empty()) std::memmove(s.bytes + s.key_size, value.data(), value.size());
      s.value_size = static_cast<std::uint8_t>(value.size());
      return;
    }
    if (s.held == large_slot) {
      block* b = large_of(s);
      if (value.size() <= b->value_room) {
        if (!value.empty()) std::memmove(b->bytes() + b->key_size, value.data(), value.size());
        b->value_size = static_cast<std::uint32_t>(value.size());
        return;
      }
    }
    const slot next = make_slot(s.hash, key_of(s), value);
    release(s);
    s = next;
  }

  // Room for the value rounds up to 8 bytes, so values that grow a little (INCR) stay in place.
  static block* make_block(std::string_view key, std::string_view value) {
    const std::size_t room = (value.size() + 7) & ~std::size_t{7};
    void* p = std::malloc(sizeof(block) + key.size() + room);
    if (p == nullptr) throw std::bad_alloc{};
    block* b = static_cast<block*>(p);
    b->key_size = static_cast<std::uint32_t>(key.size());
    b->value_size = static_cast<std::uint32_t>(value.size());
    b->value_room = static_cast<std::uint32_t>(room);
    if (!key.empty()) std::memcpy(b->bytes(), key.data(), key.size());
    if (!value.empty()) std::memcpy(b->bytes() + key.size(), value.data(), value.size());
    return b;
  }

  void grow() {
    slot_array old(slots_.empty() ? 16 : slots_.size() * 2);
    old.swap(slots_);
    for (const slot& s : old) {
      if (s.held == empty_slot) continue;
      std::size_t i = index_of(s.hash);
      while (slots_[i].held != empty_slot) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  slot_array slots_;  // size 0 or a power of two
  std::size_t size_ = 0;
};

}  // namespace kv
