// The exceptions of quorum::hashing. Placement is configuration, not a protocol
// path, so bad input throws: std::invalid_argument for a bad parameter or node
// set, std::out_of_range for a lookup that has nothing to find.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace quorum::hashing {

// jump_hash with buckets <= 0.
struct invalid_buckets : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A node name that is already present (insert) or empty.
struct duplicate_node : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A weight that is zero, negative, NaN or infinite.
struct invalid_weight : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A size or factor outside its domain: a Maglev table size that is not prime
// (or too small for the nodes), a bounded-load factor c <= 1, an anchor capacity of 0.
struct invalid_parameter : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// find() on a placement with no nodes. try_find() returns nullptr instead.
struct empty_placement : std::out_of_range {
  using std::out_of_range::out_of_range;
};

// A name that is not present where one must be, or a full fixed-capacity set.
struct unknown_node : std::out_of_range {
  using std::out_of_range::out_of_range;
};

namespace detail {

[[noreturn]] inline void throw_empty(std::string_view where) {
  throw empty_placement(std::string(where) + ": no nodes to place the key on");
}

[[noreturn]] inline void throw_duplicate(std::string_view where, std::string_view name) {
  throw duplicate_node(std::string(where) + ": node \"" + std::string(name) +
                       "\" is already present");
}

// A zero weight would silently drop a node; the upper bound keeps sums of
// weights finite.
inline void check_weight(std::string_view where, std::string_view name, double weight) {
  if (!(weight > 0) || !(weight <= 1e300))
    throw invalid_weight(std::string(where) + ": weight of node \"" + std::string(name) +
                         "\" must be positive and at most 1e300, got " + std::to_string(weight));
}

inline void check_name(std::string_view where, std::string_view name) {
  if (name.empty()) throw duplicate_node(std::string(where) + ": node name must not be empty");
}

}  // namespace detail

}  // namespace quorum::hashing
