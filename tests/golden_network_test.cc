// The int8 network and the evaluation's methods (golden/network.h) on a small synthetic
// network: dense equals the layers chained by hand, every method degenerates to dense at
// its "keep everything" end, and the counting is the same for all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "golden/minilm.h"
#include "golden/network.h"
#include "golden/synthetic.h"

namespace esact {
namespace {

constexpr int kLayers = 2;

FloatNetwork SmallNetwork(uint64_t seed) {
  FloatNetwork net;
  net.vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "c", "d", "e", "f", "g", "h"};
  net.vocab_size = static_cast<int>(net.vocab.size());
  net.max_positions = 40;
  net.max_tokens = 40;
  net.type_vocab_size = 1;
  for (int l = 0; l < kLayers; ++l) {
    SyntheticSpec spec;
    spec.d_model = 32;
    spec.n_heads = 4;
    spec.d_ff = 64;
    spec.seed = seed + l;
    net.layers.push_back(MakeSyntheticLayer(spec).fp32);
  }
  net.d_model = net.layers[0].d_model;
  net.n_heads = net.layers[0].n_heads;
  net.d_ff = net.layers[0].d_ff;
  net.n_layers = kLayers;
  net.ln_eps = net.layers[0].ln_eps;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const auto random = [&](int rows) {
    Matrix<float> m(rows, net.d_model);
    for (float& v : m.data) v = normal(rng);
    return m;
  };
  net.word = random(net.vocab_size);
  net.position = random(net.max_positions);
  net.token_type = random(1);
  net.ln_gamma.assign(net.d_model, 1.0f);
  net.ln_beta.assign(net.d_model, 0.0f);
  return net;
}

std::vector<int> RandomIds(std::mt19937_64& rng, int n) {
  std::vector<int> ids{2};
  while (static_cast<int>(ids.size()) < n - 1) ids.push_back(4 + static_cast<int>(rng() % 8));
  ids.push_back(3);
  return ids;
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(CheckNetwork(net_)) << CheckNetwork(net_).Message();
    std::mt19937_64 rng(7);
    for (int n : {9, 17, 30}) calib_.push_back(RandomIds(rng, n));
    qnet_ = QuantizeNetwork(net_, calib_);
    for (int n : {12, 25, 36}) inputs_.push_back(RandomIds(rng, n));
  }
  // Layer 0 of the int8 network, dense, on ids.
  LayerResult DenseLayer0(const std::vector<int>& ids) const {
    const int n = static_cast<int>(ids.size());
    const LayerParams& p = qnet_.layers[0];
    SplsConfig dense = DefaultSplsConfig(n);
    dense.enabled = false;
    return RunLayer(p, QuantizeTensor(EmbedTokens(net_, ids, n), p.x_scale), n, dense);
  }
  FloatNetwork net_ = SmallNetwork(21);
  std::vector<std::vector<int>> calib_, inputs_;
  QuantizedNetwork qnet_;
};

TEST_F(NetworkTest, LayerScalesChainWithoutRescaling) {
  ASSERT_EQ(qnet_.layers.size(), static_cast<size_t>(kLayers));
  for (int l = 1; l < kLayers; ++l) EXPECT_EQ(qnet_.layers[l].x_scale, qnet_.layers[l - 1].y_scale);
}

TEST_F(NetworkTest, DenseIsTheLayersChained) {
  for (const std::vector<int>& ids : inputs_) {
    const int n = static_cast<int>(ids.size());
    Matrix<int8_t> x = QuantizeTensor(EmbedTokens(net_, ids, n), qnet_.layers[0].x_scale);
    SplsConfig dense = DefaultSplsConfig(n);
    dense.enabled = false;
    for (const LayerParams& p : qnet_.layers) x = RunLayer(p, x, n, dense).y;
    const NetworkRun run = RunNetworkInt8(net_, qnet_, ids, MethodConfig{});
    EXPECT_EQ(run.embedding,
              MeanPoolNormalize(DequantizeTensor(x, qnet_.layers.back().y_scale), n));
    EXPECT_EQ(run.counts.MacsRemoved(), 0.0);
    EXPECT_EQ(run.counts.predictor_cost, 0.0);
  }
}

TEST_F(NetworkTest, EveryMethodKeepingEverythingIsDense) {
  MethodConfig spls;
  spls.method = Method::kSpls;
  spls.k_frac = 1.0;
  spls.w = 0;
  MethodConfig sanger;
  sanger.method = Method::kSanger;
  sanger.sanger_threshold = -1.0;
  MethodConfig spatten;
  spatten.method = Method::kSpatten;
  spatten.spatten_keep = 1.0;
  for (const std::vector<int>& ids : inputs_) {
    const NetworkRun dense = RunNetworkInt8(net_, qnet_, ids, MethodConfig{});
    for (const MethodConfig& m : {spls, sanger, spatten}) {
      SCOPED_TRACE(MethodName(m.method));
      const NetworkRun run = RunNetworkInt8(net_, qnet_, ids, m);
      EXPECT_EQ(run.embedding, dense.embedding);
      EXPECT_EQ(run.counts.ops.dense, dense.counts.ops.dense);
      EXPECT_EQ(run.counts.ops.executed, dense.counts.ops.dense);
      // Only the predictor's overhead is left: removed = -overhead / dense.
      EXPECT_NEAR(run.counts.ComputationRemoved(),
                  -run.counts.predictor_cost / dense.counts.ops.DenseTotal(), 1e-12);
    }
  }
}

TEST_F(NetworkTest, PruningAndSparsityRemoveWorkAndCountTheSameDenseLayer) {
  MethodConfig spls;
  spls.method = Method::kSpls;
  spls.k_frac = 0.25;
  spls.w = 4;
  spls.t_frac = 0.25;
  spls.ffn = FfnPolicy::kReuse;
  MethodConfig sanger;
  sanger.method = Method::kSanger;
  sanger.sanger_threshold = 0.1;
  MethodConfig spatten;
  spatten.method = Method::kSpatten;
  spatten.spatten_keep = 0.5;
  for (const std::vector<int>& ids : inputs_) {
    const NetworkRun dense = RunNetworkInt8(net_, qnet_, ids, MethodConfig{});
    const int64_t n = static_cast<int64_t>(ids.size());
    for (const MethodConfig& m : {spls, sanger, spatten}) {
      SCOPED_TRACE(MethodName(m.method));
      const NetworkRun run = RunNetworkInt8(net_, qnet_, ids, m);
      EXPECT_EQ(run.counts.ops.dense, dense.counts.ops.dense);
      EXPECT_GT(run.counts.MacsRemoved(), 0.0);
      EXPECT_GT(run.counts.predictor_cost, 0.0);
      EXPECT_NEAR(std::inner_product(run.embedding.begin(), run.embedding.end(),
                                     run.embedding.begin(), 0.0),
                  1.0, 1e-5);
      if (m.method == Method::kSanger) {
        // Sanger generates Q, K and V densely and pays n^2 d 4-bit products per layer.
        for (int c : {kCompQ, kCompK, kCompV}) {
          EXPECT_EQ(run.counts.ops.executed[c], dense.counts.ops.dense[c]);
        }
        EXPECT_DOUBLE_EQ(run.counts.predictor_cost, kLayers * kInt4MacCost * n * n * net_.d_model);
      }
      if (m.method == Method::kSpatten) {
        // Layer 1 keeps ceil(0.5 n) tokens: its FFN runs on those only.
        const int64_t kept = (n + 1) / 2;
        EXPECT_EQ(run.counts.ops.executed[kCompFfn1], (n + kept) * net_.d_model * net_.d_ff);
      }
    }
  }
}

TEST(Network, SplsConfigForTheDefaultMethodIsTheDefault) {
  for (int n : {1, 7, 8, 9, 40, 128}) {
    const SplsConfig a = SplsConfigFor(MethodConfig{}, n);
    const SplsConfig b = DefaultSplsConfig(n);
    EXPECT_EQ(a.k, b.k) << n;
    EXPECT_EQ(a.t, b.t) << n;
    EXPECT_EQ(a.w, b.w) << n;
    EXPECT_EQ(a.hlog_bits, b.hlog_bits) << n;
    EXPECT_EQ(a.ffn, b.ffn) << n;
    EXPECT_TRUE(a.enabled);
  }
}

TEST_F(NetworkTest, SangerKeepsTheLargestAndAboveThreshold) {
  const int n = static_cast<int>(inputs_[1].size());
  const LayerParams& p = qnet_.layers[0];
  const LayerResult r = DenseLayer0(inputs_[1]);
  const SplsDecision all = SangerDecision(p, r.q, r.k, n, -1.0);
  const SplsDecision one = SangerDecision(p, r.q, r.k, n, 1.0);
  const SplsDecision some = SangerDecision(p, r.q, r.k, n, 0.05);
  for (int h = 0; h < p.n_heads; ++h) {
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(all.heads[h].spa[i].size(), static_cast<size_t>(n));
      EXPECT_EQ(one.heads[h].spa[i].size(), 1u);
      EXPECT_EQ(some.heads[h].reuse[i], i);
      // Threshold 0.05 keeps at most 20 keys and always the one threshold 1 keeps.
      EXPECT_LE(some.heads[h].spa[i].size(), 20u);
      EXPECT_TRUE(std::binary_search(some.heads[h].spa[i].begin(), some.heads[h].spa[i].end(),
                                     one.heads[h].spa[i][0]));
    }
  }
}

TEST_F(NetworkTest, ImportanceSumsEveryRowsProbabilities) {
  const int n = static_cast<int>(inputs_[2].size());
  const LayerParams& p = qnet_.layers[0];
  const LayerResult r = DenseLayer0(inputs_[2]);
  std::vector<double> importance(n, 0.0);
  AccumulateImportance(p, r.q, r.k, n, importance);
  double total = 0.0;
  for (double v : importance) total += v;
  // Each row's probabilities (1/256 steps, rounded) sum to 1 within n/2 steps.
  EXPECT_NEAR(total, p.n_heads * n, p.n_heads * n * (n / 2.0) / 256.0);
}

}  // namespace
}  // namespace esact
