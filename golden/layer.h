// The BERT-style post-LN int8 encoder layer (D9, D10), dense and SPLS, its fp32 twin, and
// the operation accounting (docs/spls.md, sections "Integer layer" and "Accounting").
//
//   Q, K, V = requant(x W + b)            per head h: columns [h*dh, (h+1)*dh)
//   ctx     = requant(softmax(Q K^T) V)   over the row's selected keys
//   a       = requant(ctx W_O + b_O)      in the scale of x
//   h       = LN1(x + a)                  int16 residual
//   f       = requant(GELU(requant(h W_1 + b_1)) W_2 + b_2)   in the scale of h
//   y       = LN2(h + f)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "golden/matrix.h"
#include "golden/quant.h"
#include "golden/spls.h"

namespace esact {

struct QuantLinear {
  Matrix<int8_t> w;           // in x out
  std::vector<int32_t> bias;  // out
  Requant rq;
};

struct LayerParams {
  int d_model = 0;
  int n_heads = 0;
  int d_ff = 0;
  QuantLinear q, k, v, o, ffn1, ffn2;
  Requant softmax_rq;  // (max - score) -> softmax exponent (kSoftmaxFracBits frac bits of log2)
  Requant ctx_rq;      // sum_j p_j * V_j -> int8 context
  LnParams ln1, ln2;
  GeluLut gelu_lut{};
  int pred_q_shift = 0;  // power-of-two rescale of the predicted Q^ (D1)
  int pred_k_shift = 0;  // and of K^
  float x_scale = 1.0f;  // real = scale * int8, input
  float y_scale = 1.0f;  // and output, for comparison with the fp32 path
  int d_head() const { return n_heads > 0 ? d_model / n_heads : 0; }
};

// Offline HLog weights of the predictor for a given HLog configuration.
PredictorWeights MakePredictorWeights(const LayerParams& p, const SplsConfig& cfg);

enum Component : int {
  kCompQ,
  kCompK,
  kCompV,
  kCompScores,
  kCompPv,
  kCompOut,
  kCompFfn1,
  kCompFfn2,
  kNumComponents
};
const char* ComponentName(int c);

struct OpCounts {
  std::array<int64_t, kNumComponents> dense{};     // MACs of the dense layer (valid rows)
  std::array<int64_t, kNumComponents> executed{};  // MACs this run performed
  int64_t predictor_ops = 0;                       // HLog products (each at most two shift-adds)
  int64_t DenseTotal() const;
  int64_t ExecutedTotal() const;
  double RemovedFraction() const;  // 1 - executed / dense (predictor not included)
};

// Every intermediate the engines produce, n_tokens rows each. Entries a run does not
// compute (skipped rows or columns, padded rows) are zero, except where the layer takes
// an anchor's row: ctx of a reused row, a of a token-reused row, f under FfnPolicy::kReuse.
struct LayerResult {
  SplsDecision decision;
  Matrix<int8_t> q, k, v;  // n_tokens x d_model
  Matrix<int8_t> ctx;      // n_tokens x d_model
  Matrix<int8_t> attn;     // output projection a
  Matrix<int8_t> h;        // LN1 output
  Matrix<int8_t> ffn_act;  // GELU(requant(h W_1 + b_1)), n_tokens x d_ff
  Matrix<int8_t> ffn_out;  // f
  Matrix<int8_t> y;        // layer output
  OpCounts ops;
};

// Runs the int8 layer on rows [0, n_valid) of x (n_tokens x d_model); dense when
// cfg.enabled is false. Throws std::invalid_argument on an inconsistent configuration.
LayerResult RunLayer(const LayerParams& p, const Matrix<int8_t>& x, int n_valid,
                     const SplsConfig& cfg);

// Checks a parameter set and a run configuration; returns "" or the first problem.
std::string ValidateLayer(const LayerParams& p, int n_tokens, int n_valid, const SplsConfig& cfg);

// ---- fp32 path -------------------------------------------------------------------------
struct FloatLinear {
  Matrix<float> w;  // in x out
  std::vector<float> bias;
};

struct FloatLayer {
  int d_model = 0;
  int n_heads = 0;
  int d_ff = 0;
  FloatLinear q, k, v, o, ffn1, ffn2;
  std::vector<float> ln1_gamma, ln1_beta, ln2_gamma, ln2_beta;
  float ln_eps = 1e-12f;
};

// Dense fp32 layer (exact GELU, exp softmax) on rows [0, n_valid); padded rows are zero.
Matrix<float> RunLayerFloat(const FloatLayer& f, const Matrix<float>& x, int n_valid);

// Post-training quantization: symmetric per-tensor scales calibrated by running the fp32
// layer on calib_x (n_valid rows), int8 weights, int32 biases, Requant factors, LN params,
// GELU LUT and the predictor's power-of-two shifts.
LayerParams QuantizeLayer(const FloatLayer& f, const Matrix<float>& calib_x, int n_valid);

Matrix<int8_t> QuantizeTensor(const Matrix<float>& x, float scale);
Matrix<float> DequantizeTensor(const Matrix<int8_t>& x, float scale);

}  // namespace esact
