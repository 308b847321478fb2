// The shape of every validation result in the golden model: the first broken rule, named by
// its layer-file field (docs/layer-format.md) with a reason, e.g.
// {"params.q.rq.shift", "60 out of range [0, 47]"}. CheckSplsConfig (spls.h) and CheckLayer
// (layer.h) build them; ValidateLayer prints them as "field: reason", ReadLayerFile as
// "<path>: field: reason".
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace esact {

struct FieldProblem {
  std::string field;  // empty: no problem
  std::string reason;
  explicit operator bool() const { return !field.empty(); }
  std::string Message() const { return field + ": " + reason; }
};

// The rule forms, each with its one wording.
inline FieldProblem CheckRange(const std::string& field, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return {};
  return {field, fmt::format("{} out of range [{}, {}]", value, lo, hi)};
}

inline FieldProblem CheckAtLeast(const std::string& field, int64_t value, int64_t lo) {
  if (value >= lo) return {};
  return {field, fmt::format("{} is below the minimum {}", value, lo)};
}

// value must equal the dimension named dim_name.
inline FieldProblem CheckEqual(const std::string& field, int64_t value, const std::string& dim_name,
                               int64_t dim) {
  if (value == dim) return {};
  return {field, fmt::format("{} does not equal {} ({})", value, dim_name, dim)};
}

}  // namespace esact
