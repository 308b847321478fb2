// The row-level rules the compute engines implement (docs/spls.md section 7): one
// function per engine operation, used by the layer model (golden/layer.cc) and by the
// engine tests, so both check against the same definition.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/layer.h"

namespace esact {

// esact_gemm: out[c] = Requantize(x . W[:, c] + bias[c], rq) for c in [c0, c1). x has
// lin.w.rows entries; out is a full output row (only [c0, c1) is written). The sum is
// exact whatever the bias (the products summed in int32, the bias added in int64); the
// bias bound (MaxLinearBias) keeps it inside int32, where the RTL accumulates it. Throws
// std::invalid_argument if lin.w.rows > kMaxLayerDim (int32 then no longer holds the
// products' sum).
void LinearRow(const int8_t* x, const QuantLinear& lin, int c0, int c1, int8_t* out);

// esact_gemm over a row list: the rows of x named in `rows` (any order, no repeats)
// through the linear layer; every other output row is zero.
Matrix<int8_t> LinearRows(const Matrix<int8_t>& x, const QuantLinear& lin,
                          const std::vector<int>& rows);

// esact_attn: the context of one query row over columns [c0, c1) (one head): scores
// q . k[j] over the head's columns for j in keys (in order), IntSoftmax with softmax_rq,
// then ctx[c] = Requantize(sum_j p_j * v[j][c], ctx_rq). An empty key list gives
// Requantize(0) (a padded or never-anchored row). Throws std::invalid_argument for more
// than kMaxLayerDim keys (the sums are int32).
void AttendRow(const int8_t* q, const Matrix<int8_t>& k, const Matrix<int8_t>& v,
               const std::vector<int>& keys, int c0, int c1, Requant softmax_rq, Requant ctx_rq,
               int8_t* ctx);

// esact_vec: out = IntLayerNorm(r) of the residual r_i = ResidualAdd(a_i, b_i, rs).
void ResidualLayerNorm(const int8_t* a, const int8_t* b, int d, ResidualScale rs,
                       const LnParams& ln, int8_t* out);

}  // namespace esact
