// The whole sentence encoder in the int8 golden model, dense, with SPLS, and with the two
// baselines of the evaluation (docs/eval.md): a Sanger-style attention predictor and a
// SpAtten-style cascade token pruner. Every method is counted the same way: MACs per
// component (OpCounts) plus its predictor's operations weighted in MAC equivalents.
//
//   x_0  = QuantizeTensor(EmbedTokens(ids), layers[0].x_scale)   embeddings (host, float)
//   x_l+1 = layer_l(x_l)                                          int8, one LayerParams each
//   emb  = MeanPoolNormalize(DequantizeTensor(x_L, y_scale))     pooling (host, float)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "golden/layer.h"
#include "golden/minilm.h"

namespace esact {

// One LayerParams per layer, each calibrated (QuantizeLayer) on the floating-point inputs
// that layer sees for the calibration sequences, each sequence run on its own.
struct QuantizedNetwork {
  std::vector<LayerParams> layers;
};
QuantizedNetwork QuantizeNetwork(const FloatNetwork& net,
                                 const std::vector<std::vector<int>>& calib_ids);

// Cost of one predictor operation in int8 MAC equivalents (docs/eval.md, "Counting"): a
// multiplier's area and energy grow with the product of its operand widths, so a 4-bit x
// 4-bit product costs a quarter of an 8 x 8 one; an HLog product is at most two shifts
// and an add of 8-bit values, which we charge like the 4-bit product; an accumulation
// alone is one add, an eighth.
constexpr double kInt4MacCost = 0.25;
constexpr double kHlogProductCost = 0.25;
constexpr double kAddCost = 0.125;

enum class Method : uint8_t { kDense, kSpls, kSanger, kSpatten };
const char* MethodName(Method m);

struct MethodConfig {
  Method method = Method::kDense;
  // kSpls: k = ceil(k_frac * n), t = ceil(t_frac * k) per sentence of n tokens; the
  // docs/spls.md defaults are k_frac 1/8 and t_frac 3/4.
  double k_frac = 0.125;
  double t_frac = 0.75;
  int w = 2;
  int hlog_bits = 8;
  FfnPolicy ffn = FfnPolicy::kNone;
  // kSanger: keep the keys whose predicted probability exceeds this.
  double sanger_threshold = 0.02;
  // kSpatten: from layer 1 on, layer l keeps ceil(keep_ratio^l * n) tokens.
  double spatten_keep = 0.8;
};

// The SplsConfig of an SPLS MethodConfig for n_valid tokens.
SplsConfig SplsConfigFor(const MethodConfig& m, int n_valid);

struct NetworkCounts {
  OpCounts ops;                 // summed over the layers; ops.predictor_ops unused
  double predictor_cost = 0.0;  // MAC equivalents of the predictor's operations
  // 1 - (executed + predictor_cost) / dense, and the same without the predictor.
  double ComputationRemoved() const;
  double MacsRemoved() const;
  void Add(const NetworkCounts& o);
};

struct NetworkRun {
  std::vector<float> embedding;  // d_model floats, norm 1
  NetworkCounts counts;
};

// The int8 network on token ids (at most net.max_tokens of them) with one method.
NetworkRun RunNetworkInt8(const FloatNetwork& net, const QuantizedNetwork& qnet,
                          const std::vector<int>& ids, const MethodConfig& method);

// ---- Baselines ---------------------------------------------------------------------------

// Sanger-style prediction for one layer (after Q and K are generated): Q and K rounded to
// 4 bits (RoundShift by 4, saturated to [-8, 7]), scores q4 . k4 per head, probabilities
// by a floating-point softmax of 256 * q4 . k4 in the layer's score scale, and row i keeps
// the columns whose probability exceeds threshold (at least its largest). No row reuse.
SplsDecision SangerDecision(const LayerParams& p, const Matrix<int8_t>& q, const Matrix<int8_t>& k,
                            int n_valid, double threshold);

// The int8 layer's attention probabilities of query row i in one head over keys
// [0, n_valid): IntSoftmax (the layer's softmax_rq) of the scores q_i . k_j over the head's
// columns; prob has n_valid entries (1/256 steps).
void AttentionRow(const LayerParams& p, const Matrix<int8_t>& q, const Matrix<int8_t>& k,
                  int n_valid, int head, int i, uint8_t* prob);

// SpAtten-style importance: for every head and query row, the integer softmax of the row's
// scores q . k over all n_valid keys (IntSoftmax, the layer's softmax_rq), summed per key
// column (probabilities in 1/256). importance has n_valid entries and is added to.
void AccumulateImportance(const LayerParams& p, const Matrix<int8_t>& q, const Matrix<int8_t>& k,
                          int n_valid, std::vector<double>& importance);

}  // namespace esact
