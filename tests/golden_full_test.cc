// Full-size golden checks (ctest label `full`): a MiniLM-shaped synthetic layer
// (d 384, 12 heads, FFN 1536, 128 tokens) through the fp32, int8 dense and SPLS paths.
#include <gtest/gtest.h>

#include <cstdint>

#include "golden/layer.h"
#include "golden/report.h"
#include "golden/synthetic.h"

namespace esact {
namespace {

SyntheticSpec MiniLmSpec(uint64_t seed, int n_valid) {
  SyntheticSpec spec;
  spec.d_model = 384;
  spec.n_heads = 12;
  spec.d_ff = 1536;
  spec.n_tokens = 128;
  spec.n_valid = n_valid;
  spec.seed = seed;
  return spec;
}

class MiniLmLayer : public ::testing::TestWithParam<int> {};

TEST_P(MiniLmLayer, Int8TracksFp32AndSplsKeepsItsPromises) {
  const SyntheticSpec spec = MiniLmSpec(/*seed=*/100 + GetParam(), GetParam());
  SCOPED_TRACE(testing::Message() << "seed " << spec.seed << " n_valid " << spec.n_valid);
  const SyntheticLayer layer = MakeSyntheticLayer(spec);
  const LayerFile& f = layer.file;

  SplsConfig dense_cfg = f.spls;
  dense_cfg.enabled = false;
  const LayerResult dense = RunLayer(f.params, f.x, f.n_valid, dense_cfg);
  const Matrix<float> y_fp32 = RunLayerFloat(layer.fp32, layer.x_fp32, f.n_valid);
  EXPECT_GE(Cosine(DequantizeTensor(dense.y, f.params.y_scale), y_fp32, f.n_valid), 0.99);

  const LayerResult spls = RunLayer(f.params, f.x, f.n_valid, f.spls);
  for (int c = 0; c < kNumComponents; ++c) {
    EXPECT_EQ(spls.ops.dense[c], dense.ops.dense[c]) << ComponentName(c);
    EXPECT_LE(spls.ops.executed[c], spls.ops.dense[c]) << ComponentName(c);
  }
  EXPECT_EQ(dense.ops.ExecutedTotal(), dense.ops.DenseTotal());
  EXPECT_GT(spls.ops.RemovedFraction(), 0.0);
  for (int i = f.n_valid; i < f.n_tokens; ++i) {
    for (int j = 0; j < f.params.d_model; ++j) ASSERT_EQ(spls.y.at(i, j), 0) << "padded row " << i;
  }

  // With every key kept and no reuse, SPLS mode computes the dense layer exactly.
  SplsConfig full_cfg = f.spls;
  full_cfg.k = f.n_valid;
  full_cfg.w = 0;
  EXPECT_EQ(RunLayer(f.params, f.x, f.n_valid, full_cfg).y, dense.y);
}

INSTANTIATE_TEST_SUITE_P(Full, MiniLmLayer, ::testing::Values(128, 77));

}  // namespace
}  // namespace esact
