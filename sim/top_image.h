// Host-side packing of esact_top's external memory buffers (docs/memory-layout.md): the
// X / Y activations, the W weight image and the DEC decision records. The harness builds
// the images the top reads with these and decodes what it writes back, so the byte layout
// lives in one place on the host side. Plain C++17: no Verilated model is needed.
//
// Every function throws std::invalid_argument with a message naming the problem on a
// geometry, shape or value the layout cannot represent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "golden/layer.h"
#include "golden/matrix.h"
#include "golden/spls.h"

namespace esact::sim {

// The top's elaboration parameters the layout depends on: L (Lanes), B (DataW / 8), NMax
// and P (PredLanes, the predictor's lanes: the PW word). Valid when lanes >= 1 divides 256,
// data_bytes >= 1, 1 <= n_max <= 0xFFFF (0xFFFF is the padded-row anchor of a DEC record)
// and pred_lanes is a positive multiple of lanes.
struct TopGeometry {
  int lanes = 0;
  int data_bytes = 0;
  int n_max = 0;
  int pred_lanes = 0;
};

// One section of the weight image: byte offset from W_ADDR, word count and word size.
struct ImageSection {
  int64_t offset = 0;
  int64_t words = 0;
  int64_t word_bytes = 0;
  int64_t bytes() const { return words * word_bytes; }
};

// The five-section table of the spec for d = d_model, f = d_ff.
struct WeightImageLayout {
  ImageSection hdr, prm, wgt, pw;
  int64_t total_bytes = 0;
};

// Throws unless the geometry is valid, d and f are positive multiples of lanes and d is a
// multiple of pred_lanes.
WeightImageLayout LayoutWeightImage(int d_model, int d_ff, const TopGeometry& g);
int64_t WeightImageBytes(int d_model, int d_ff, const TopGeometry& g);

// Bytes of one DEC record, R = B ceil((64 + NMax) / (8B)), and of the whole buffer, H n R.
int DecisionRecordBytes(const TopGeometry& g);
int64_t DecisionBytes(int heads, int n_tokens, const TopGeometry& g);

// The whole W image. pw holds the predictor's offline HLog weights (MakePredictorWeights)
// and the Q / K biases; an empty bias vector means zero biases. Throws on a shape that
// does not match p, on a value wider than its field (a Requant mult outside [0, 2^16), a
// Requant shift outside [0, 63], a residual mult outside [0, 2^16), a predictor shift
// outside [0, 31]) and on an HLog code HlogNeverProduced names. Values that fit their field
// but break the top's rules (a shift of 48..63, a residual mult above 2^15) are packed as
// given, so that a test can provoke the top's HDR error.
std::vector<uint8_t> PackWeightImage(const LayerParams& p, const PredictorWeights& pw,
                                     const TopGeometry& g);

// X / Y: n rows of d int8, row-major. UnpackActivations reads n x d bytes at offset.
std::vector<uint8_t> PackActivations(const Matrix<int8_t>& x);
Matrix<int8_t> UnpackActivations(const std::vector<uint8_t>& bytes, size_t offset, int n, int d);

// DEC: one record per (head, row), head-major. The decision must have the form
// RunLayerWithDecision accepts as far as one record shows it: every head with n_tokens
// entries of spa, reuse and needed_kv; a valid row's reuse and token anchor in
// [0, n_valid) and its SPA keys ascending in [0, n_valid); a padded row with reuse and
// token anchor -1, an empty SPA and not needed; a token anchor shared by every head.
// PackDecisions throws on a decision that breaks these, UnpackDecisions on a record that
// does (or has a nonzero reserved bit); the message names the head and row.
std::vector<uint8_t> PackDecisions(const SplsDecision& dec, int n_tokens, int n_valid,
                                   const TopGeometry& g);
SplsDecision UnpackDecisions(const std::vector<uint8_t>& bytes, size_t offset, int heads,
                             int n_tokens, int n_valid, const TopGeometry& g);

}  // namespace esact::sim
