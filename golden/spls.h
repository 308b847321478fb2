// SPLS: sparsity prediction with local similarity (docs/spls.md).
//
// Prediction (D1): X and the offline W_Q, W_K are HLog-quantized; Q^ = X^ W^_Q and
// K^ = X^ W^_K are computed by shift-add, rescaled by a power of two and re-quantized to
// HLog; the per-head predicted attention matrix PAM = Q^ K^T is again shift-add only.
// Top-k (D3) keeps, per row, the k largest PAM entries among the valid columns.
// Local similarity (D4, D5) lets a row reuse a nearby anchor with a similar index set.
#pragma once

#include <cstdint>
#include <vector>

#include "golden/field_check.h"
#include "golden/hlog.h"
#include "golden/matrix.h"

namespace esact {

// Sorted ascending column indices: the order the attention engine consumes them.
using IndexSet = std::vector<int>;

enum class FfnPolicy : uint8_t {
  kNone = 0,   // every valid row runs the FFN
  kReuse = 1,  // a token that reuses one anchor in every head takes the anchor's FFN output
};

// Run-time SPLS knobs. A disabled configuration means dense mode.
//
// A default-constructed SplsConfig is NOT the D3/D5 default: its k = 1 and t = 1 do not
// depend on the token count. DefaultSplsConfig(n_valid) is the default configuration.
struct SplsConfig {
  bool enabled = true;
  int hlog_bits = 8;
  HlogRound round = HlogRound::kTowardZero;
  int k = 1;  // Top-k per row; clamped to the number of valid tokens
  int w = 2;  // window: compare with the w previous rows; 0 disables reuse
  int t = 1;  // minimum overlap |S_i & S_j| for reuse
  FfnPolicy ffn = FfnPolicy::kNone;
};

// D3 default: ceil(n / 8), at least 1.
int DefaultTopK(int n_tokens);
// D5 default: ceil(0.75 * k).
int DefaultThreshold(int k);

// The default run configuration (docs/spls.md section 10) for n_valid tokens: enabled,
// 8-bit HLog rounded toward zero, k = DefaultTopK(n_valid), w = 2, t = DefaultThreshold(k),
// FFN policy none.
SplsConfig DefaultSplsConfig(int n_valid);

// The rules of a run configuration over n_tokens buffer rows, checked whether or not it is
// enabled (a configuration must be runnable in both modes): spls.hlog_bits in [4, 8],
// spls.k in [1, n_tokens], spls.w >= 0, spls.t >= 0. Returns the first problem (fields
// named as in the layer file), or an empty one.
FieldProblem CheckSplsConfig(const SplsConfig& cfg, int n_tokens);

// HLog of every element of an int8 matrix.
Matrix<HlogCode> HlogQuantMatrix(const Matrix<int8_t>& m, int bits, HlogRound round);

// Q^ or K^ before re-quantization: rows [0, n_valid) of x_hat (n_tokens x d) times
// w_hat (d x d) by shift-add, entry (i, c) = HlogDot of row i of x_hat and column c of
// w_hat; rows at and after n_valid are zero. Throws std::invalid_argument, as HlogDot
// does, on a code HlogNeverProduced names in an operand it uses.
Matrix<int32_t> PredictProject(const Matrix<HlogCode>& x_hat, const Matrix<HlogCode>& w_hat,
                               int n_valid);

// Power-of-two rescale back to HLog: magnitude >> shift (toward zero), saturated to 128,
// then HlogEncode with the sign. Throws std::invalid_argument if shift is outside
// [0, kPredMaxShift].
HlogCode PredictRequant(int32_t value, int shift, int bits, HlogRound round);
Matrix<HlogCode> PredictRequantMatrix(const Matrix<int32_t>& m, int shift, int bits,
                                      HlogRound round);

// PAM of one head: n_tokens x n_tokens, entry (i, j) = Q^[i, head] . K^[j, head] by
// shift-add (HlogDot) over the head's d_head columns; rows or columns >= n_valid are zero.
// Throws std::invalid_argument, as HlogDot does, on a code HlogNeverProduced names in an
// operand it uses.
Matrix<int32_t> PredictPam(const Matrix<HlogCode>& q_hat, const Matrix<HlogCode>& k_hat, int head,
                           int d_head, int n_valid);

// Row-wise Top-k of one PAM row over columns [0, n_valid): the min(k, n_valid) largest
// entries, ties to the lower column. Returned sorted ascending. Throws
// std::invalid_argument if k < 1 or n_valid < 0.
IndexSet TopKRow(const int32_t* row, int n_valid, int k);

// |a & b| for two sorted index sets.
int Overlap(const IndexSet& a, const IndexSet& b);

// Reuse decision of one head over rows [0, n_valid) (D4, D5). reuse[i] == i marks an
// anchor; otherwise reuse[i] is the anchor row whose work row i takes. Padded rows map to
// -1. Row i looks at anchors j in [i - w, i - 1] with Overlap >= t; the largest overlap
// wins, the nearer row on ties.
std::vector<int> ReuseMap(const std::vector<IndexSet>& spa, int n_valid, int w, int t);

// Needed-K/V mask of one head (D7): column j is needed iff an anchor row selects it.
std::vector<uint8_t> NeededKv(const std::vector<IndexSet>& spa, const std::vector<int>& reuse,
                              int n_tokens);

// Per-head decisions the engines consume.
struct HeadDecision {
  std::vector<IndexSet> spa;       // per row; empty for padded rows
  std::vector<int> reuse;          // per row; see ReuseMap
  std::vector<uint8_t> needed_kv;  // per column
};

struct SplsDecision {
  std::vector<HeadDecision> heads;
  // Per token: itself, or the anchor it reuses in every head (D6); -1 for padded rows.
  std::vector<int> token_anchor;
};

// Token-level reuse (D6): token i takes anchor a iff every head maps i to the same a != i.
std::vector<int> TokenAnchors(const std::vector<HeadDecision>& heads, int n_tokens, int n_valid);

// Largest power-of-two rescale of Q~ and K~ (PredictRequant): |Q~| < 2^31, so a larger
// shift leaves nothing (and 32 or more would shift an int32 magnitude past its width).
constexpr int kPredMaxShift = 31;

// The whole prediction of one layer input. w_q_hat and w_k_hat are the offline HLog
// weights (HlogQuantMatrix of W_Q, W_K); q_shift and k_shift the power-of-two rescales.
// The shifts are calibrated once, at 8 bits rounded toward zero (QuantizeLayer), and used
// unchanged whatever the run's HLog width and rounding.
struct PredictorWeights {
  Matrix<HlogCode> w_q_hat;
  Matrix<HlogCode> w_k_hat;
  int q_shift = 0;
  int k_shift = 0;
  // The int32 biases of the Q and K linear layers, added to Q~ and K~ before the rescale
  // (d entries each with |b| <= MaxLinearBias(d), or empty for none). Why: b_Q . K_j is
  // the part of every row's score that depends on the key only; it makes the attention
  // sinks ([CLS], [SEP]) of real models, which a bias-free prediction misses.
  std::vector<int32_t> q_bias, k_bias;
};

// Steps 1 to 3 of the prediction: X^ = HLog(x), Q~ = X^ W^_Q + b_Q (rows < n_valid), and
// Q^ = PredictRequantMatrix(Q~, q_shift); the same for K. Arguments as for Predict.
struct PredictedQk {
  Matrix<HlogCode> q_hat, k_hat;
};
PredictedQk PredictQk(const Matrix<int8_t>& x, int n_valid, const PredictorWeights& weights,
                      const SplsConfig& cfg);

// x is n_tokens x d. Throws std::invalid_argument unless CheckSplsConfig(cfg, n_tokens)
// passes (cfg.enabled is not looked at), 1 <= n_heads dividing d, both HLog weights are
// d x d, both shifts lie in [0, kPredMaxShift], both biases are empty or d entries within
// MaxLinearBias(d), and 0 <= n_valid <= n_tokens.
SplsDecision Predict(const Matrix<int8_t>& x, int n_valid, int n_heads,
                     const PredictorWeights& weights, const SplsConfig& cfg);

// Dense mode expressed as a decision: every valid row an anchor over every valid column.
SplsDecision DenseDecision(int n_tokens, int n_valid, int n_heads);

}  // namespace esact
