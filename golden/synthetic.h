// Seeded synthetic encoder layers whose tokens have a controllable local similarity.
#pragma once

#include <cstdint>

#include "golden/layer.h"
#include "golden/layer_io.h"

namespace esact {

struct SyntheticSpec {
  int d_model = 64;
  int n_heads = 4;
  int d_ff = 256;
  int n_tokens = 32;
  int n_valid = 32;
  // Correlation of token i with token i-1 (AR(1) in [0, 1)): 0 gives independent tokens,
  // values near 1 give long runs of near-identical tokens.
  double similarity = 0.9;
  uint64_t seed = 1;
};

struct SyntheticLayer {
  FloatLayer fp32;
  Matrix<float> x_fp32;  // n_tokens x d_model; padded rows zero
  LayerFile file;        // quantized layer + input + default SPLS configuration
};

SyntheticLayer MakeSyntheticLayer(const SyntheticSpec& spec);

}  // namespace esact
