// result<T, E>: a value or an error, in the manner of C++23's std::expected
// (not available in C++20). Used by every fallible operation in quorum.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "quorum/core/assert.hpp"
#include "quorum/core/error.hpp"

namespace quorum {

template <class E>
struct unexpected {
  E value;
};
template <class E>
unexpected(E) -> unexpected<E>;

[[nodiscard]] constexpr unexpected<error> fail(errc code, const char* what = "",
                                               std::uint64_t detail = 0) noexcept {
  return unexpected<error>{error{code, what, detail}};
}

template <class T, class E = error>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use a pointer");

 public:
  using value_type = T;
  using error_type = E;

  constexpr result() requires std::is_default_constructible_v<T> : ok_{true} { std::construct_at(&value_); }
  constexpr result(const T& v) : ok_{true} { std::construct_at(&value_, v); }        // NOLINT(implicit)
  constexpr result(T&& v) : ok_{true} { std::construct_at(&value_, std::move(v)); }  // NOLINT(implicit)
  template <class G>
  constexpr result(unexpected<G> u) : ok_{false} {  // NOLINT(implicit)
    std::construct_at(&error_, std::move(u.value));
  }
  result(const result& o) requires(std::is_copy_constructible_v<T>&& std::is_copy_constructible_v<E>)
      : ok_{o.ok_} {
    if (ok_) std::construct_at(&value_, o.value_);
    else std::construct_at(&error_, o.error_);
  }
  result(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_{o.ok_} {
    if (ok_) std::construct_at(&value_, std::move(o.value_));
    else std::construct_at(&error_, std::move(o.error_));
  }
  result& operator=(const result& o)
    requires(std::is_copy_constructible_v<T>&& std::is_copy_constructible_v<E>)
  {
    if (this != &o) {
      destroy();
      ok_ = o.ok_;
      if (ok_) std::construct_at(&value_, o.value_);
      else std::construct_at(&error_, o.error_);
    }
    return *this;
  }
  result& operator=(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      destroy();
      ok_ = o.ok_;
      if (ok_) std::construct_at(&value_, std::move(o.value_));
      else std::construct_at(&error_, std::move(o.error_));
    }
    return *this;
  }
  ~result() { destroy(); }

  [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }

  [[nodiscard]] constexpr T& value() & noexcept { QUORUM_ASSERT(ok_); return value_; }
  [[nodiscard]] constexpr const T& value() const& noexcept { QUORUM_ASSERT(ok_); return value_; }
  [[nodiscard]] constexpr T&& value() && noexcept { QUORUM_ASSERT(ok_); return std::move(value_); }
  [[nodiscard]] constexpr const E& error() const& noexcept { QUORUM_ASSERT(!ok_); return error_; }

  constexpr T& operator*() & noexcept { return value(); }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T* operator->() noexcept { return &value(); }
  constexpr const T* operator->() const noexcept { return &value(); }

  template <class U>
  [[nodiscard]] constexpr T value_or(U&& fallback) const& {
    return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void destroy() noexcept {
    if (ok_) value_.~T();
    else error_.~E();
  }
  union {
    T value_;
    E error_;
  };
  bool ok_;
};

template <class E>
class [[nodiscard]] result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  constexpr result() noexcept = default;
  template <class G>
  constexpr result(unexpected<G> u) : error_{std::move(u.value)}, ok_{false} {}  // NOLINT

  [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }
  constexpr void value() const noexcept { QUORUM_ASSERT(ok_); }
  [[nodiscard]] constexpr const E& error() const& noexcept { QUORUM_ASSERT(!ok_); return error_; }

 private:
  E error_{};
  bool ok_{true};
};

// Propagates an error from an expression that yields a result, in functions
// that themselves return a result.
#define QUORUM_TRY(expr)                                                \
  do {                                                                  \
    if (auto quorum_try_result_ = (expr); !quorum_try_result_)          \
      return ::quorum::unexpected{quorum_try_result_.error()};          \
  } while (false)

}  // namespace quorum
