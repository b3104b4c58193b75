// The Clock concept: where a protocol learns what time it is. Protocols never
// read a clock of their own (DESIGN.md principle 1); tick() asks this policy.
//
// Requirements, for a type C, a value c of type C&, a time point t and a
// duration d:
//
//   expression        type                      semantics
//   ----------------  ------------------------  -------------------------------------
//   C::time_point     a type                    a point on this clock's time line
//   C::duration       a type                    a length of time; t - t yields one
//   c.now()           C::time_point             the current time; never decreases
//   t + d             C::time_point             the point d after t
//   t - t             convertible to duration   the time between two points
//   t < t             convertible to bool       total order on the time line
//
// Exemplar:
//   struct manual_clock {
//     using duration = std::chrono::nanoseconds;
//     using time_point = std::chrono::time_point<manual_clock, duration>;
//     time_point now() const noexcept { return current; }
//     time_point current{};
//   };
//
// Models: std::chrono::steady_clock (as it is), quorum::sim::sim_clock.
#pragma once

#include <concepts>

namespace quorum {

namespace detail {

template <class C>
concept clock_has_types = requires {
  typename C::time_point;
  typename C::duration;
};

template <class C>
concept clock_has_now = clock_has_types<C> && requires(C& c) {
  { c.now() } -> std::same_as<typename C::time_point>;
};

template <class C>
concept clock_has_arithmetic =
    clock_has_types<C> && requires(typename C::time_point t, typename C::duration d) {
      { t + d } -> std::same_as<typename C::time_point>;
      { t - t } -> std::convertible_to<typename C::duration>;
      { t < t } -> std::convertible_to<bool>;
    };

}  // namespace detail

template <class C>
concept Clock = detail::clock_has_types<C> && detail::clock_has_now<C> &&
                detail::clock_has_arithmetic<C>;

// Checks C against Clock and names the first requirement it misses.
// Protocols call it where they are instantiated: static_assert(check_clock<C>()).
template <class C>
consteval bool check_clock() {
  static_assert(detail::clock_has_types<C>,
                "quorum::Clock: the type must declare nested types 'time_point' and 'duration'");
  static_assert(detail::clock_has_now<C>,
                "quorum::Clock: the type must have 'now()' returning its 'time_point'");
  static_assert(detail::clock_has_arithmetic<C>,
                "quorum::Clock: 'time_point + duration' must give a time_point, "
                "'time_point - time_point' a duration, and time points must compare with '<'");
  return Clock<C>;
}

}  // namespace quorum
