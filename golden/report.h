// Human-readable summaries of golden-model runs (used by esact-sim and the benchmarks).
#pragma once

#include <cstdint>
#include <string>

#include "golden/layer.h"

namespace esact {

// One line per component: dense MACs, executed MACs, removed fraction; then the totals
// and the predictor's HLog products.
std::string FormatOpTable(const OpCounts& ops);

// Reuse in a decision over the valid rows: (head, row) pairs that take an anchor's row,
// and tokens that take an anchor's row in every head (esact_top's ROWS_REUSED and
// TOKENS_REUSED counters).
struct ReuseCounts {
  int64_t rows = 0;
  int64_t tokens = 0;
};
ReuseCounts CountReuse(const SplsDecision& d, int n_valid);

// Per head: anchors, reused rows and needed K/V columns; then token-level reuse.
std::string FormatDecisionSummary(const SplsDecision& d, int n_valid);

// The first difference between two decisions, in the order the engines use them: SPA
// sets row by row, then the reuse map, the needed-K/V masks, the token anchors (e.g.
// "first SPA difference: head 1 row 7: got {2 5}, want {2 6}"); "" when they agree.
std::string FirstDecisionDifference(const SplsDecision& got, const SplsDecision& want);

// Cosine similarity of two equally sized tensors over their first n rows.
double Cosine(const Matrix<float>& a, const Matrix<float>& b, int n_rows);

}  // namespace esact
