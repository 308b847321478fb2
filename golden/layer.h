// The BERT-style post-LN int8 encoder layer (D9, D10), dense and SPLS, its floating-point
// twin, and the operation accounting (docs/spls.md, sections "Integer layer" and
// "Accounting").
//
//   Q, K, V = requant(x W + b)            per head h: columns [h*dh, (h+1)*dh)
//   ctx     = requant(softmax(Q K^T) V)   over the row's selected keys
//   a       = requant(ctx W_O + b_O)      its own scale
//   h       = LN1(res1(x, a))             residual in a common wider scale (ResidualAdd)
//   f       = requant(GELU(requant(h W_1 + b_1)) W_2 + b_2)   its own scale
//   y       = LN2(res2(h, f))
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "golden/field_check.h"
#include "golden/matrix.h"
#include "golden/quant.h"
#include "golden/spls.h"

namespace esact {

// Bound on every dimension (d_model, d_ff, n_tokens) and element count of a layer: a
// validation limit, and what the layer-file reader allows before it allocates.
constexpr int kMaxLayerDim = 65536;

// The RTL accumulates a linear layer in int32. Every int8 x int8 product has magnitude
// <= 2^14, so every QuantLinear keeps |bias| + 2^14 * in_features < 2^31; then no sum of
// the bias and in_features products can leave int32. (The golden model adds the bias in
// int64 to the products' int32 sum, exact for in_features <= kMaxLayerDim, so it is exact
// either way.)
constexpr int64_t kInt8ProductMax = int64_t{1} << 14;
constexpr int64_t kLinearAccLimit = int64_t{1} << 31;  // exclusive bound on |accumulator|
// The largest |bias| a linear layer with in_features inputs may hold: 2^31 - 1 - 2^14 * in.
constexpr int64_t MaxLinearBias(int in_features) {
  return kLinearAccLimit - 1 - kInt8ProductMax * in_features;
}

struct QuantLinear {
  Matrix<int8_t> w;           // in x out
  std::vector<int32_t> bias;  // out; |bias[o]| <= MaxLinearBias(in)
  Requant rq;
};

struct LayerParams {
  int d_model = 0;
  int n_heads = 0;
  int d_ff = 0;
  QuantLinear q, k, v, o, ffn1, ffn2;
  Requant softmax_rq;  // (max - score) -> softmax exponent (kSoftmaxFracBits frac bits of log2)
  Requant ctx_rq;      // sum_j p_j * V_j -> int8 context
  ResidualScale res1, res2;  // x + a and h + f
  LnParams ln1, ln2;
  GeluLut gelu_lut{};
  int pred_q_shift = 0;  // power-of-two rescale of the predicted Q^ (D1)
  int pred_k_shift = 0;  // and of K^
  float x_scale = 1.0f;  // real = scale * int8, input
  float y_scale = 1.0f;  // and output, for comparison with the floating-point path
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

// Fills ops.dense: the MACs of the dense layer on n_valid rows.
void CountDenseOps(const LayerParams& p, int n_valid, OpCounts& ops);

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

// Runs the int8 layer on rows [0, n_valid) of x (n_tokens x d_model): Predict's decision,
// or DenseDecision when cfg.enabled is false, through RunLayerWithDecision. Throws
// std::invalid_argument ("field: reason") unless CheckLayer(p, x.rows, n_valid, cfg) and
// CheckLayerInput(p, x.rows, x) pass.
LayerResult RunLayer(const LayerParams& p, const Matrix<int8_t>& x, int n_valid,
                     const SplsConfig& cfg);

// Runs the int8 layer under a given decision (e.g. one the RTL produced); r.decision is a
// copy of it and r.ops.predictor_ops is 0 (RunLayer adds the predictor's count). Throws
// std::invalid_argument unless CheckLayerParams(p, x.rows, n_valid) and CheckLayerInput
// pass and the decision is well formed: n_heads heads; spa, reuse and needed_kv of n_tokens
// entries each; for valid rows, reuse in [0, n_valid) and pointing at an anchor (reuse of
// the target is the target), spa ascending within [0, n_valid), non-empty for anchors, and
// every column an anchor selects needed; padded rows with reuse -1, an empty spa and not
// needed; token_anchor of n_tokens entries, -1 for padded rows, and for a valid row either
// itself or the row every head's reuse maps it to.
LayerResult RunLayerWithDecision(const LayerParams& p, const Matrix<int8_t>& x, int n_valid,
                                 const SplsDecision& decision, FfnPolicy ffn);

// ---- Validation: the one rule set --------------------------------------------------------
// Shared by ValidateLayer, RunLayer, RunLayerWithDecision and ReadLayerFile. Each returns
// the first problem, with fields named as in the layer file (docs/layer-format.md), in the
// file's order, or an empty FieldProblem.

// params.d_model in [1, kMaxLayerDim]; params.n_heads in [1, d_model], dividing d_model;
// params.d_ff in [1, kMaxLayerDim]; n_tokens in [1, kMaxLayerDim]; n_valid in
// [1, n_tokens]; per linear (q, k, v, o, ffn1, ffn2) the weight shape, the bias size and
// |bias| <= MaxLinearBias(in); every Requant with mult in [0, kRequantMaxMult] and shift in
// [0, kRequantMaxShift]; residual mults in [0, kResidualMaxMult]; LayerNorm gamma and beta of
// d_model entries; predictor shifts in [0, kPredMaxShift]; x_scale and y_scale finite and positive.
FieldProblem CheckLayerParams(const LayerParams& p, int n_tokens, int n_valid);
// CheckLayerParams, then CheckSplsConfig(cfg, n_tokens) (spls.h).
FieldProblem CheckLayer(const LayerParams& p, int n_tokens, int n_valid, const SplsConfig& cfg);
// The layer input: x.rows = n_tokens, x.cols = params.d_model.
FieldProblem CheckLayerInput(const LayerParams& p, int n_tokens, const Matrix<int8_t>& x);

// CheckLayer as a message: "" or "field: reason", e.g. "params.q.rq.shift: 60 out of range
// [0, 47]".
std::string ValidateLayer(const LayerParams& p, int n_tokens, int n_valid, const SplsConfig& cfg);

// ---- Floating-point path (computed in double) ---------------------------------------------
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

// Dense floating-point layer (exact GELU, exp softmax), computed in double from float
// parameters, on rows [0, n_valid); padded rows are zero.
Matrix<float> RunLayerFloat(const FloatLayer& f, const Matrix<float>& x, int n_valid);

// Post-training quantization: symmetric per-tensor scales calibrated by running the
// floating-point layer on calib_x (n_valid rows) (max-abs, except the residual operands a
// and f, clipped where that brings their LayerNorm output closer; docs/spls.md section 8),
// residual scales, int8 weights, int32 biases (clamped to
// +-MaxLinearBias(in)), Requant factors, LN params, GELU LUT and the predictor's
// power-of-two shifts (calibrated at 8 bits, toward zero).
LayerParams QuantizeLayer(const FloatLayer& f, const Matrix<float>& calib_x, int n_valid);

// One calibration sequence: rows [0, n_valid) of x (n_tokens x d_model) are its tokens.
struct CalibrationInput {
  Matrix<float> x;
  int n_valid = 0;
};
// QuantizeLayer over several sequences, each run through the floating-point layer on its
// own (so no token attends across sequences): every scale and predictor shift is the one
// of the largest magnitude over all of them. One sequence gives QuantizeLayer's result.
LayerParams QuantizeLayer(const FloatLayer& f, const std::vector<CalibrationInput>& calib);

Matrix<int8_t> QuantizeTensor(const Matrix<float>& x, float scale);
Matrix<float> DequantizeTensor(const Matrix<int8_t>& x, float scale);

}  // namespace esact
