#include "golden/engines.h"

#include <stdexcept>

namespace esact {

void LinearRow(const int8_t* x, const QuantLinear& lin, int c0, int c1, int8_t* out) {
  for (int c = c0; c < c1; ++c) {
    int64_t acc = lin.bias[c];
    for (int k = 0; k < lin.w.rows; ++k) acc += int32_t{x[k]} * lin.w.at(k, c);
    out[c] = Requantize(acc, lin.rq);
  }
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

void AttendRow(const int8_t* q, const Matrix<int8_t>& k, const Matrix<int8_t>& v,
               const std::vector<int>& keys, int c0, int c1, Requant softmax_rq, Requant ctx_rq,
               int8_t* ctx) {
  const int n = static_cast<int>(keys.size());
  std::vector<int32_t> scores(n, 0);
  for (int s = 0; s < n; ++s) {
    for (int c = c0; c < c1; ++c) scores[s] += int32_t{q[c]} * k.at(keys[s], c);
  }
  std::vector<uint8_t> prob(n);
  if (n > 0) IntSoftmax(scores.data(), n, softmax_rq, prob.data());
  for (int c = c0; c < c1; ++c) {
    int64_t acc = 0;
    for (int s = 0; s < n; ++s) acc += int32_t{prob[s]} * v.at(keys[s], c);
    ctx[c] = Requantize(acc, ctx_rq);
  }
}

void ResidualLayerNorm(const int8_t* a, const int8_t* b, int d, const LnParams& ln, int8_t* out) {
  std::vector<int16_t> sum(d);
  for (int c = 0; c < d; ++c) sum[c] = static_cast<int16_t>(a[c] + b[c]);
  IntLayerNorm(sum.data(), d, ln, out);
}

}  // namespace esact
