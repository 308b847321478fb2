#include "golden/synthetic.h"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace esact {
namespace {

// Weight standard deviations are gain / sqrt(fan_in). Gain 1 keeps activations at unit
// variance. W_Q and W_K get more: with unit-variance tokens the scaled scores
// q.k / sqrt(d_head) then have a standard deviation of about 1.5^2 = 2.25, so the fp32
// softmax is peaked (as in trained models) instead of nearly uniform, which gives Top-k a
// meaningful target.
constexpr double kGain = 1.0;
constexpr double kQkGain = 1.5;
constexpr double kBiasStd = 0.02;
constexpr double kGammaStd = 0.05;
constexpr double kBetaStd = 0.02;

// The draws happen in a fixed order (see MakeSyntheticLayer), so a seed names one layer.
class Normal {
 public:
  explicit Normal(uint64_t seed) : rng_(seed) {}
  float operator()(double mean, double stddev) {
    return static_cast<float>(mean + stddev * unit_(rng_));
  }

 private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> unit_{0.0, 1.0};
};

std::vector<float> RandomVector(Normal& normal, int n, double mean, double stddev) {
  std::vector<float> v(n);
  for (float& e : v) e = normal(mean, stddev);
  return v;
}

FloatLinear RandomLinear(Normal& normal, int in, int out, double gain) {
  FloatLinear l;
  l.w = Matrix<float>(in, out);
  for (float& e : l.w.data) e = normal(0.0, gain / std::sqrt(static_cast<double>(in)));
  l.bias = RandomVector(normal, out, 0.0, kBiasStd);
  return l;
}

void ValidateSpec(const SyntheticSpec& s) {
  const auto require = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("MakeSyntheticLayer: " + what);
  };
  require(s.d_model >= 1, fmt::format("d_model {} must be positive", s.d_model));
  require(s.n_heads >= 1, fmt::format("n_heads {} must be positive", s.n_heads));
  require(s.d_model % s.n_heads == 0,
          fmt::format("n_heads {} does not divide d_model {}", s.n_heads, s.d_model));
  require(s.d_ff >= 1, fmt::format("d_ff {} must be positive", s.d_ff));
  require(s.n_tokens >= 1, fmt::format("n_tokens {} must be positive", s.n_tokens));
  require(s.n_valid >= 1 && s.n_valid <= s.n_tokens,
          fmt::format("n_valid {} out of range [1, n_tokens = {}]", s.n_valid, s.n_tokens));
  // Written so that NaN fails too.
  require(s.similarity >= 0.0 && s.similarity < 1.0,
          fmt::format("similarity {} out of range [0, 1)", s.similarity));
}

}  // namespace

SyntheticLayer MakeSyntheticLayer(const SyntheticSpec& spec) {
  ValidateSpec(spec);
  Normal normal(spec.seed);
  const int d = spec.d_model;

  SyntheticLayer out;
  FloatLayer& f = out.fp32;
  f.d_model = d;
  f.n_heads = spec.n_heads;
  f.d_ff = spec.d_ff;
  f.q = RandomLinear(normal, d, d, kQkGain);
  f.k = RandomLinear(normal, d, d, kQkGain);
  f.v = RandomLinear(normal, d, d, kGain);
  f.o = RandomLinear(normal, d, d, kGain);
  f.ffn1 = RandomLinear(normal, d, spec.d_ff, kGain);
  f.ffn2 = RandomLinear(normal, spec.d_ff, d, kGain);
  f.ln1_gamma = RandomVector(normal, d, 1.0, kGammaStd);
  f.ln1_beta = RandomVector(normal, d, 0.0, kBetaStd);
  f.ln2_gamma = RandomVector(normal, d, 1.0, kGammaStd);
  f.ln2_beta = RandomVector(normal, d, 0.0, kBetaStd);

  // AR(1) tokens: x_i = a x_{i-1} + sqrt(1 - a^2) e_i keeps every token at unit variance
  // while the expected cosine between neighbours is a.
  const double a = spec.similarity;
  const double innovation = std::sqrt(1.0 - a * a);
  Matrix<float>& x = out.x_fp32;
  x = Matrix<float>(spec.n_tokens, d, 0.0f);
  for (int i = 0; i < spec.n_valid; ++i) {
    for (int c = 0; c < d; ++c) {
      const float fresh = normal(0.0, 1.0);
      x.at(i, c) = i == 0 ? fresh : static_cast<float>(a * x.at(i - 1, c) + innovation * fresh);
    }
  }

  LayerFile& file = out.file;
  file.params = QuantizeLayer(f, x, spec.n_valid);
  file.n_tokens = spec.n_tokens;
  file.n_valid = spec.n_valid;
  // Padded rows of x are zero, and zero quantizes to zero.
  file.x = QuantizeTensor(x, file.params.x_scale);
  file.spls = DefaultSplsConfig(spec.n_valid);
  return out;
}

}  // namespace esact
