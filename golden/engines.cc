#include "golden/engines.h"

#include <algorithm>
#include <stdexcept>

namespace esact {

// Every int8 x int8 product has magnitude <= 2^14, so a sum of at most kMaxLayerDim of them
// is exact in int32: LinearRow sums the products there and adds the bias in int64, exact
// whatever the bias.
static_assert(kInt8ProductMax * kMaxLayerDim < kLinearAccLimit);

void LinearRow(const int8_t* x, const QuantLinear& lin, int c0, int c1, int8_t* out) {
  if (lin.w.rows > kMaxLayerDim) throw std::invalid_argument("LinearRow: W has too many rows");
  if (c1 <= c0) return;  // no column to compute
  // W is walked along its rows (contiguous), not down its columns, so that the inner loop
  // over the output columns vectorizes.
  std::vector<int32_t> sum(c1 - c0, 0);
  for (int k = 0; k < lin.w.rows; ++k) {
    const int32_t xk = x[k];
    const int8_t* w_row = lin.w.row(k) + c0;
    for (int c = 0; c < c1 - c0; ++c) sum[c] += xk * w_row[c];
  }
  for (int c = c0; c < c1; ++c) out[c] = Requantize(lin.bias[c] + int64_t{sum[c - c0]}, lin.rq);
}

Matrix<int8_t> LinearRows(const Matrix<int8_t>& x, const QuantLinear& lin,
                          const std::vector<int>& rows) {
  if (x.cols != lin.w.rows) throw std::invalid_argument("LinearRows: x.cols != W rows");
  Matrix<int8_t> out(x.rows, lin.w.cols);
  for (int r : rows) {
    if (r < 0 || r >= x.rows) throw std::invalid_argument("LinearRows: row out of range");
    LinearRow(x.row(r), lin, 0, lin.w.cols, out.row(r));
  }
  return out;
}

// A probability (uint8) times an int8 V entry has magnitude < 2^15, so AttendRow's sum over
// at most kMaxLayerDim keys is exact in int32.
static_assert(int64_t{255} * 128 * kMaxLayerDim < kLinearAccLimit);

void AttendRow(const int8_t* q, const Matrix<int8_t>& k, const Matrix<int8_t>& v,
               const std::vector<int>& keys, int c0, int c1, Requant softmax_rq, Requant ctx_rq,
               int8_t* ctx) {
  const int n = static_cast<int>(keys.size());
  if (n > kMaxLayerDim) throw std::invalid_argument("AttendRow: too many keys");
  std::vector<int32_t> scores(n);
  for (int s = 0; s < n; ++s) {
    const int8_t* k_row = k.row(keys[s]);
    int32_t dot = 0;  // a local sum, so that the loop vectorizes as a reduction
    for (int c = c0; c < c1; ++c) dot += int32_t{q[c]} * k_row[c];
    scores[s] = dot;
  }
  std::vector<uint8_t> prob(n);
  if (n > 0) IntSoftmax(scores.data(), n, softmax_rq, prob.data());
  // The selected rows of V are walked along (contiguous), not down V's columns, so that the
  // inner loop over the columns vectorizes.
  std::vector<int32_t> acc(std::max(0, c1 - c0), 0);
  for (int s = 0; s < n; ++s) {
    const int32_t p = prob[s];
    const int8_t* v_row = v.row(keys[s]) + c0;
    for (int c = 0; c < c1 - c0; ++c) acc[c] += p * v_row[c];
  }
  for (int c = c0; c < c1; ++c) ctx[c] = Requantize(acc[c - c0], ctx_rq);
}

void ResidualLayerNorm(const int8_t* a, const int8_t* b, int d, ResidualScale rs,
                       const LnParams& ln, int8_t* out) {
  std::vector<int16_t> sum(d);
  for (int c = 0; c < d; ++c) sum[c] = ResidualAdd(a[c], b[c], rs);
  IntLayerNorm(sum.data(), d, ln, out);
}

}  // namespace esact
