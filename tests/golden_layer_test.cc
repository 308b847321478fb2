// Unit tests of the integer numerics (golden/quant.h) and the encoder layer (golden/layer.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "golden/layer.h"
#include "golden/quant.h"
#include "golden/report.h"
#include "golden/spls.h"

namespace esact {
namespace {

// ---- Random parameter sets ----------------------------------------------------------------

int RandomInt(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

double RandomReal(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

Matrix<int8_t> RandomInt8(std::mt19937_64& rng, int rows, int cols) {
  Matrix<int8_t> m(rows, cols);
  for (int8_t& v : m.data) v = static_cast<int8_t>(RandomInt(rng, -128, 127));
  return m;
}

// A requant factor within a factor of two of `target`, so outputs use the int8 range
// without saturating everything.
Requant RandomRequant(std::mt19937_64& rng, double target) {
  return QuantizeMultiplier(target * RandomReal(rng, 0.5, 2.0));
}

// Uniform int8 has a standard deviation of about 74, so x . w has about sqrt(in) * 74^2.
QuantLinear RandomLinear(std::mt19937_64& rng, int in, int out) {
  QuantLinear l;
  l.w = RandomInt8(rng, in, out);
  for (int c = 0; c < out; ++c) l.bias.push_back(RandomInt(rng, -(1 << 14), 1 << 14));
  l.rq = RandomRequant(rng, 40.0 / (std::sqrt(in) * 74.0 * 74.0));
  return l;
}

// n_i is about +-2^12 and |gamma| < 2^15.
LnParams RandomLn(std::mt19937_64& rng, int d) {
  LnParams ln;
  for (int i = 0; i < d; ++i) {
    ln.gamma.push_back(static_cast<int16_t>(RandomInt(rng, -32768, 32767)));
    ln.beta.push_back(RandomInt(rng, -(1 << 26), 1 << 26));
  }
  ln.rq = RandomRequant(rng, 40.0 / (4096.0 * 16384.0));
  return ln;
}

LayerParams RandomLayerParams(std::mt19937_64& rng, int d_model, int n_heads, int d_ff) {
  LayerParams p;
  p.d_model = d_model;
  p.n_heads = n_heads;
  p.d_ff = d_ff;
  p.q = RandomLinear(rng, d_model, d_model);
  p.k = RandomLinear(rng, d_model, d_model);
  p.v = RandomLinear(rng, d_model, d_model);
  p.o = RandomLinear(rng, d_model, d_model);
  p.ffn1 = RandomLinear(rng, d_model, d_ff);
  p.ffn2 = RandomLinear(rng, d_ff, d_model);
  // Scores have a deviation of about 40^2 * sqrt(d_head); spread them over a few octaves.
  p.softmax_rq = RandomRequant(rng, 100.0 / (1600.0 * std::sqrt(p.d_head())));
  p.ctx_rq = RandomRequant(rng, 1.0 / 256.0);
  p.ln1 = RandomLn(rng, d_model);
  p.ln2 = RandomLn(rng, d_model);
  // Any table is a legal activation; a random one catches indexing mistakes.
  for (int8_t& v : p.gelu_lut) v = static_cast<int8_t>(RandomInt(rng, -128, 127));
  p.pred_q_shift = 10;
  p.pred_k_shift = 10;
  return p;
}

SplsConfig DenseConfig() {
  SplsConfig cfg;
  cfg.enabled = false;
  return cfg;
}

// ---- Independent dense int8 layer -----------------------------------------------------------
// Whole-matrix loops in the textbook order, sharing only the quant.h rule functions.

struct ReferenceOutput {
  Matrix<int8_t> q, k, v, ctx, attn, h, ffn_act, ffn_out, y;
};

Matrix<int8_t> ReferenceLinear(const Matrix<int8_t>& x, const QuantLinear& l, int n_valid) {
  Matrix<int8_t> out(x.rows, l.w.cols);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < l.w.cols; ++c) {
      int64_t acc = l.bias[c];
      for (int k = 0; k < l.w.rows; ++k) acc += x.at(i, k) * l.w.at(k, c);
      out.at(i, c) = Requantize(acc, l.rq);
    }
  }
  return out;
}

Matrix<int8_t> ReferenceResidualLn(const Matrix<int8_t>& a, const Matrix<int8_t>& b,
                                   const LnParams& ln, int n_valid) {
  Matrix<int8_t> out(a.rows, a.cols);
  std::vector<int16_t> r(a.cols);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < a.cols; ++c) r[c] = static_cast<int16_t>(a.at(i, c) + b.at(i, c));
    IntLayerNorm(r.data(), a.cols, ln, out.row(i));
  }
  return out;
}

Matrix<int8_t> ReferenceAttention(const LayerParams& p, const ReferenceOutput& o, int n_valid) {
  const int dh = p.d_model / p.n_heads;
  Matrix<int8_t> ctx(o.q.rows, p.d_model);
  std::vector<int32_t> scores(n_valid);
  std::vector<uint8_t> prob(n_valid);
  for (int h = 0; h < p.n_heads; ++h) {
    for (int i = 0; i < n_valid; ++i) {
      for (int j = 0; j < n_valid; ++j) {
        scores[j] = 0;
        for (int c = h * dh; c < (h + 1) * dh; ++c) scores[j] += o.q.at(i, c) * o.k.at(j, c);
      }
      IntSoftmax(scores.data(), n_valid, p.softmax_rq, prob.data());
      for (int c = h * dh; c < (h + 1) * dh; ++c) {
        int64_t acc = 0;
        for (int j = 0; j < n_valid; ++j) acc += prob[j] * o.v.at(j, c);
        ctx.at(i, c) = Requantize(acc, p.ctx_rq);
      }
    }
  }
  return ctx;
}

ReferenceOutput ReferenceDenseLayer(const LayerParams& p, const Matrix<int8_t>& x, int n_valid) {
  ReferenceOutput o;
  o.q = ReferenceLinear(x, p.q, n_valid);
  o.k = ReferenceLinear(x, p.k, n_valid);
  o.v = ReferenceLinear(x, p.v, n_valid);
  o.ctx = ReferenceAttention(p, o, n_valid);
  o.attn = ReferenceLinear(o.ctx, p.o, n_valid);
  o.h = ReferenceResidualLn(x, o.attn, p.ln1, n_valid);
  const Matrix<int8_t> pre = ReferenceLinear(o.h, p.ffn1, n_valid);
  o.ffn_act = Matrix<int8_t>(x.rows, p.d_ff);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < p.d_ff; ++c) o.ffn_act.at(i, c) = ApplyLut(p.gelu_lut, pre.at(i, c));
  }
  o.ffn_out = ReferenceLinear(o.ffn_act, p.ffn2, n_valid);
  o.y = ReferenceResidualLn(o.h, o.ffn_out, p.ln2, n_valid);
  return o;
}

// ---- Random fp32 layer ----------------------------------------------------------------------

FloatLinear RandomFloatLinear(std::mt19937_64& rng, int in, int out) {
  std::normal_distribution<float> w(0.0f, 1.0f / std::sqrt(static_cast<float>(in)));
  std::normal_distribution<float> b(0.0f, 0.1f);
  FloatLinear l;
  l.w = Matrix<float>(in, out);
  for (float& v : l.w.data) v = w(rng);
  for (int c = 0; c < out; ++c) l.bias.push_back(b(rng));
  return l;
}

FloatLayer RandomFloatLayer(std::mt19937_64& rng, int d_model, int n_heads, int d_ff) {
  FloatLayer f;
  f.d_model = d_model;
  f.n_heads = n_heads;
  f.d_ff = d_ff;
  f.q = RandomFloatLinear(rng, d_model, d_model);
  f.k = RandomFloatLinear(rng, d_model, d_model);
  f.v = RandomFloatLinear(rng, d_model, d_model);
  f.o = RandomFloatLinear(rng, d_model, d_model);
  f.ffn1 = RandomFloatLinear(rng, d_model, d_ff);
  f.ffn2 = RandomFloatLinear(rng, d_ff, d_model);
  std::normal_distribution<float> gamma(1.0f, 0.1f);
  std::normal_distribution<float> beta(0.0f, 0.1f);
  for (int c = 0; c < d_model; ++c) {
    f.ln1_gamma.push_back(gamma(rng));
    f.ln1_beta.push_back(beta(rng));
    f.ln2_gamma.push_back(gamma(rng));
    f.ln2_beta.push_back(beta(rng));
  }
  return f;
}

Matrix<float> RandomFloatInput(std::mt19937_64& rng, int rows, int cols) {
  std::normal_distribution<float> n(0.0f, 1.0f);
  Matrix<float> x(rows, cols);
  for (float& v : x.data) v = n(rng);
  return x;
}

bool RowsEqual(const Matrix<int8_t>& a, int ra, const Matrix<int8_t>& b, int rb) {
  return std::equal(a.row(ra), a.row(ra) + a.cols, b.row(rb));
}

int CountReusedTokens(const std::vector<int>& token_anchor, int n_valid) {
  int n = 0;
  for (int i = 0; i < n_valid; ++i) n += token_anchor[i] != i;
  return n;
}

int CountDistinct(const Matrix<int8_t>& m) {
  return std::set<int8_t>(m.data.begin(), m.data.end()).size();
}

// A quantized random fp32 layer and its int8 input: realistic predictor data.
struct QuantizedCase {
  LayerParams params;
  Matrix<int8_t> x;
};

constexpr int kTokens = 32;

QuantizedCase MakeQuantizedCase(uint64_t seed, int n_valid) {
  std::mt19937_64 rng(seed);
  const FloatLayer f = RandomFloatLayer(rng, 64, 4, 256);
  const Matrix<float> x = RandomFloatInput(rng, kTokens, 64);
  QuantizedCase c;
  c.params = QuantizeLayer(f, x, n_valid);
  c.x = QuantizeTensor(x, c.params.x_scale);
  return c;
}

// ---- 1. Rounding, saturation, requantization ------------------------------------------------

TEST(Quant, RoundShiftHalfAwayFromZero) {
  EXPECT_EQ(RoundShift(7, 0), 7);
  EXPECT_EQ(RoundShift(5, 1), 3);
  EXPECT_EQ(RoundShift(-5, 1), -3);
  EXPECT_EQ(RoundShift(-4, 1), -2);
  EXPECT_EQ(RoundShift(-6, 2), -2);
  EXPECT_EQ(RoundShift(-5, 2), -1);
  EXPECT_EQ(RoundShift(std::numeric_limits<int64_t>::min(), 62), -2);
  EXPECT_EQ(RoundShift(std::numeric_limits<int64_t>::max(), 62), 2);
  // Exhaustively against |v| / 2^s + 1/2 floored, with the sign put back.
  for (int s = 1; s <= 8; ++s) {
    for (int64_t v = -2000; v <= 2000; ++v) {
      const int64_t mag = (2 * std::abs(v) + (int64_t{1} << s)) >> (s + 1);
      ASSERT_EQ(RoundShift(v, s), v < 0 ? -mag : mag) << "v=" << v << " shift=" << s;
    }
  }
}

TEST(Quant, SaturateAndRequantize) {
  EXPECT_EQ(SaturateInt8(127), 127);
  EXPECT_EQ(SaturateInt8(128), 127);
  EXPECT_EQ(SaturateInt8(-128), -128);
  EXPECT_EQ(SaturateInt8(-129), -128);
  const Requant half{1 << 15, 16};
  EXPECT_EQ(Requantize(100, half), 50);
  EXPECT_EQ(Requantize(3, half), 2);
  EXPECT_EQ(Requantize(-3, half), -2);
  EXPECT_EQ(Requantize(1000, half), 127);
  EXPECT_EQ(Requantize(-1000, half), -128);
  // acc * mult exceeds int32: the product must be formed in int64.
  EXPECT_EQ(Requantize(int64_t{1} << 40, Requant{65535, 47}), 127);
  EXPECT_EQ(Requantize(-(int64_t{1} << 36), Requant{65535, 47}), -32);
  EXPECT_EQ(Requantize(12345, Requant{0, 0}), 0);
}

TEST(Quant, QuantizeMultiplierAccuracy) {
  std::mt19937_64 rng(11);
  for (int it = 0; it < 2000; ++it) {
    const double real = std::exp2(RandomReal(rng, -31.0, 15.99));
    const Requant rq = QuantizeMultiplier(real);
    ASSERT_GE(rq.mult, 1 << 15) << real;
    ASSERT_LT(rq.mult, 1 << 16) << real;
    ASSERT_GE(rq.shift, 0) << real;
    ASSERT_LE(rq.shift, kRequantMaxShift) << real;
    // Round to nearest: at most half a unit of the 16-bit mantissa.
    ASSERT_LE(std::fabs(std::ldexp(rq.mult, -rq.shift) / real - 1.0), std::ldexp(1.0, -16)) << real;
  }
  EXPECT_EQ(QuantizeMultiplier(1.0), (Requant{1 << 15, 15}));
  EXPECT_EQ(QuantizeMultiplier(0.5), (Requant{1 << 15, 16}));
  EXPECT_EQ(QuantizeMultiplier(65535.4), (Requant{65535, 0}));
  // The mantissa rounds up to 2^16: one bit less shift instead.
  EXPECT_EQ(QuantizeMultiplier(1.0 - std::ldexp(1.0, -18)), (Requant{1 << 15, 15}));
  // Below 2^-32 the shift saturates and the mult loses bits, down to zero.
  EXPECT_EQ(QuantizeMultiplier(1e-12), (Requant{141, 47}));
  EXPECT_EQ(QuantizeMultiplier(1e-20), (Requant{0, 47}));
  EXPECT_THROW(QuantizeMultiplier(65535.9), std::invalid_argument);  // rounds to 2^16
  EXPECT_THROW(QuantizeMultiplier(1e6), std::invalid_argument);
  EXPECT_THROW(QuantizeMultiplier(0.0), std::invalid_argument);
  EXPECT_THROW(QuantizeMultiplier(-1.0), std::invalid_argument);
}

TEST(Quant, GeluLutSamplesExactGelu) {
  const GeluLut lut = BuildGeluLut(0.05f, 0.02f);
  EXPECT_EQ(ApplyLut(lut, 0), 0);
  EXPECT_EQ(ApplyLut(lut, 20), 42);    // gelu(1.0) = 0.8413 -> 42.07
  EXPECT_EQ(ApplyLut(lut, -20), -8);   // gelu(-1.0) = -0.1587 -> -7.93
  EXPECT_EQ(ApplyLut(lut, 127), 127);  // 317 saturates
  EXPECT_EQ(ApplyLut(lut, -128), 0);   // gelu(-6.4) is -5e-10
}

// ---- 2. Integer softmax -------------------------------------------------------------------

TEST(Softmax, Exp2Table) {
  for (int f = 0; f < kSoftmaxLutSize; ++f) {
    EXPECT_EQ(kSoftmaxExp2Lut[f], std::lround(32768.0 * std::exp2(-f / 32.0))) << f;
  }
  EXPECT_EQ(SoftmaxExp(0), 32768u);
  EXPECT_EQ(SoftmaxExp(32 + 5), kSoftmaxExp2Lut[5] >> 1);
  EXPECT_EQ(SoftmaxExp(15 * 32), 1u);
  EXPECT_EQ(SoftmaxExp(16 * 32), 0u);
  EXPECT_EQ(SoftmaxExp(0xffffffffu), 0u);
}

TEST(Softmax, RandomRowsSumMonotone) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const int n = RandomInt(rng, 1, 64);
    const int spread = RandomInt(rng, 1, 20000);
    std::vector<int32_t> s(n);
    for (int32_t& v : s) v = RandomInt(rng, -spread, spread);
    const Requant rq = RandomRequant(rng, 0.05);
    std::vector<uint8_t> p(n);
    IntSoftmax(s.data(), n, rq, p.data());
    int sum = 0;
    for (uint8_t v : p) sum += v;
    EXPECT_LE(std::abs(sum - 256), n);
    for (int a = 0; a < n; ++a) {
      for (int b = 0; b < n; ++b) {
        if (s[a] > s[b]) {
          ASSERT_GE(p[a], p[b]) << "a=" << a << " b=" << b;
        }
      }
    }
  }
}

TEST(Softmax, EqualScoresAndSingleElement) {
  const Requant rq{1 << 15, 15};
  for (int n : {2, 3, 7, 64}) {
    std::vector<int32_t> s(n, -1234);
    std::vector<uint8_t> p(n);
    IntSoftmax(s.data(), n, rq, p.data());
    EXPECT_EQ(std::count(p.begin(), p.end(), p[0]), n) << n;
    EXPECT_EQ(p[0], std::lround(256.0 / n)) << n;
  }
  const int32_t one = 99;
  uint8_t p = 0;
  IntSoftmax(&one, 1, rq, &p);
  EXPECT_EQ(p, 255);
  // A dominant score takes everything.
  const int32_t two[] = {0, 100000};
  uint8_t p2[2];
  IntSoftmax(two, 2, rq, p2);
  EXPECT_EQ(p2[0], 0);
  EXPECT_EQ(p2[1], 255);
}

// ---- 3. Integer square root and LayerNorm -------------------------------------------------

void ExpectIsqrt(uint64_t v) {
  const unsigned __int128 r = Isqrt(v);
  EXPECT_LE(r * r, v) << v;
  EXPECT_GT((r + 1) * (r + 1), v) << v;
}

TEST(LayerNorm, IsqrtExact) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(Isqrt(0), 0u);
  EXPECT_EQ(Isqrt(1), 1u);
  EXPECT_EQ(Isqrt(3), 1u);
  EXPECT_EQ(Isqrt(4), 2u);
  EXPECT_EQ(Isqrt(max), 0xffffffffu);
  EXPECT_EQ(Isqrt(0xfffffffe00000001u), 0xffffffffu);  // (2^32 - 1)^2
  EXPECT_EQ(Isqrt(0xfffffffe00000000u), 0xfffffffeu);
  std::mt19937_64 rng(5);
  for (int it = 0; it < 20000; ++it) {
    const uint64_t root = rng() >> 32;
    ExpectIsqrt(root * root);
    ExpectIsqrt(root * root - 1);
    ExpectIsqrt(rng() >> RandomInt(rng, 0, 63));
  }
}

TEST(LayerNorm, ConstantRowGivesBeta) {
  std::mt19937_64 rng(3);
  const int d = 48;
  const LnParams ln = RandomLn(rng, d);
  for (int16_t value : {0, 37, -255, 254}) {
    const std::vector<int16_t> r(d, value);
    std::vector<int8_t> y(d);
    IntLayerNorm(r.data(), d, ln, y.data());
    for (int i = 0; i < d; ++i) ASSERT_EQ(y[i], Requantize(ln.beta[i], ln.rq)) << i;
  }
}

TEST(LayerNorm, MatchesFloatNormalization) {
  // gamma = 1, beta = 0 and a factor 16 * 2^-12: y = 16 * (r - mean) / std.
  const int d = 64;
  LnParams ln;
  ln.gamma.assign(d, 1);
  ln.beta.assign(d, 0);
  ln.rq = QuantizeMultiplier(16.0 / 4096.0);
  std::mt19937_64 rng(8);
  for (int it = 0; it < 100; ++it) {
    std::vector<int16_t> r(d);
    for (int16_t& v : r) v = static_cast<int16_t>(RandomInt(rng, -255, 254));
    double mean = 0.0, var = 0.0;
    for (int16_t v : r) mean += v;
    mean /= d;
    for (int16_t v : r) var += (v - mean) * (v - mean);
    const double std_dev = std::sqrt(var / d);
    std::vector<int8_t> y(d);
    IntLayerNorm(r.data(), d, ln, y.data());
    for (int i = 0; i < d; ++i) {
      const double want = std::clamp(16.0 * (r[i] - mean) / std_dev, -128.0, 127.0);
      ASSERT_NEAR(y[i], want, 1.0) << "it=" << it << " i=" << i;
    }
  }
}

// ---- 4. Dense int8 layer against the independent implementation ----------------------------

TEST(Layer, DenseEqualsReferenceImplementation) {
  const int n_tokens = 12;
  const int n_valid = 9;
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const LayerParams p = RandomLayerParams(rng, 32, 4, 64);
    // Padded rows of x hold random data that must not leak into the valid rows.
    const Matrix<int8_t> x = RandomInt8(rng, n_tokens, 32);
    const ReferenceOutput want = ReferenceDenseLayer(p, x, n_valid);
    const LayerResult got = RunLayer(p, x, n_valid, DenseConfig());
    EXPECT_EQ(got.q, want.q);
    EXPECT_EQ(got.k, want.k);
    EXPECT_EQ(got.v, want.v);
    EXPECT_EQ(got.ctx, want.ctx);
    EXPECT_EQ(got.attn, want.attn);
    EXPECT_EQ(got.h, want.h);
    EXPECT_EQ(got.ffn_act, want.ffn_act);
    EXPECT_EQ(got.ffn_out, want.ffn_out);
    EXPECT_EQ(got.y, want.y);
    // The comparison means something only if the data is not saturated flat.
    EXPECT_GT(CountDistinct(want.ctx), 20);
    EXPECT_GT(CountDistinct(want.y), 20);
    EXPECT_EQ(got.ops.executed, got.ops.dense);
    EXPECT_EQ(got.ops.predictor_ops, 0);
    EXPECT_EQ(got.ops.dense[kCompQ], int64_t{n_valid} * 32 * 32);
    EXPECT_EQ(got.ops.dense[kCompScores], int64_t{n_valid} * n_valid * 32);
    EXPECT_EQ(got.ops.dense[kCompFfn2], int64_t{n_valid} * 32 * 64);
  }
}

// ---- 5. int8 layer tracks the fp32 layer ----------------------------------------------------

TEST(Layer, QuantizedTracksFloat) {
  const int n_valid = 30;
  for (uint64_t seed : {21, 22, 23}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    std::mt19937_64 rng(seed);
    const FloatLayer f = RandomFloatLayer(rng, 64, 4, 256);
    const Matrix<float> x = RandomFloatInput(rng, kTokens, 64);
    const LayerParams p = QuantizeLayer(f, x, n_valid);
    ASSERT_EQ(ValidateLayer(p, kTokens, n_valid, DenseConfig()), "");
    const Matrix<float> want = RunLayerFloat(f, x, n_valid);
    const LayerResult got = RunLayer(p, QuantizeTensor(x, p.x_scale), n_valid, DenseConfig());
    const Matrix<float> y = DequantizeTensor(got.y, p.y_scale);
    const double cosine = Cosine(y, want, n_valid);
    RecordProperty("cosine_seed_" + std::to_string(seed), std::to_string(cosine));
    EXPECT_GE(cosine, 0.99);
    for (int i = n_valid; i < kTokens; ++i) {
      for (int c = 0; c < 64; ++c) {
        ASSERT_EQ(want.at(i, c), 0.0f);
        ASSERT_EQ(got.y.at(i, c), 0);
      }
    }
  }
}

// With zero weights and biases the layer is y = LN(LN(x)): rows of mean 0, variance 1.
TEST(Layer, FloatLayerNormalizesRows) {
  std::mt19937_64 rng(24);
  FloatLayer f = RandomFloatLayer(rng, 64, 4, 256);
  for (FloatLinear* l : {&f.q, &f.k, &f.v, &f.o, &f.ffn1, &f.ffn2}) {
    std::fill(l->w.data.begin(), l->w.data.end(), 0.0f);
    std::fill(l->bias.begin(), l->bias.end(), 0.0f);
  }
  for (std::vector<float>* g : {&f.ln1_gamma, &f.ln2_gamma}) g->assign(64, 1.0f);
  for (std::vector<float>* b : {&f.ln1_beta, &f.ln2_beta}) b->assign(64, 0.0f);
  const Matrix<float> y = RunLayerFloat(f, RandomFloatInput(rng, 8, 64), 8);
  for (int i = 0; i < 8; ++i) {
    double mean = 0.0, sq = 0.0;
    for (int c = 0; c < 64; ++c) {
      mean += y.at(i, c);
      sq += double{y.at(i, c)} * y.at(i, c);
    }
    EXPECT_NEAR(mean / 64, 0.0, 1e-5) << i;
    EXPECT_NEAR(sq / 64, 1.0, 1e-4) << i;
  }
}

// ---- 6. SPLS mode ---------------------------------------------------------------------------

TEST(Spls, FullTopKWithoutReuseEqualsDense) {
  for (uint64_t seed : {31, 32}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const int n_valid = 27;
    const QuantizedCase c = MakeQuantizedCase(seed, n_valid);
    SplsConfig cfg;
    cfg.k = n_valid;
    cfg.w = 0;
    const LayerResult sparse = RunLayer(c.params, c.x, n_valid, cfg);
    const LayerResult dense = RunLayer(c.params, c.x, n_valid, DenseConfig());
    EXPECT_EQ(sparse.y, dense.y);
    EXPECT_EQ(sparse.ctx, dense.ctx);
    EXPECT_EQ(sparse.ops.executed, dense.ops.executed);
    EXPECT_GT(sparse.ops.predictor_ops, 0);
  }
}

// Recounts the executed MACs from the decision alone.
OpCounts ExpectedExecuted(const LayerParams& p, const SplsDecision& d, int n_valid, FfnPolicy ffn) {
  const int64_t dm = p.d_model;
  const int64_t dh = p.d_head();
  OpCounts ops;
  for (const HeadDecision& hd : d.heads) {
    for (int i = 0; i < n_valid; ++i) {
      if (hd.reuse[i] == i) {
        ops.executed[kCompQ] += dm * dh;
        ops.executed[kCompScores] += static_cast<int64_t>(hd.spa[i].size()) * dh;
        ops.executed[kCompPv] += static_cast<int64_t>(hd.spa[i].size()) * dh;
      }
      if (hd.needed_kv[i]) {
        ops.executed[kCompK] += dm * dh;
        ops.executed[kCompV] += dm * dh;
      }
    }
  }
  for (int i = 0; i < n_valid; ++i) {
    const bool anchor = d.token_anchor[i] == i;
    if (anchor) ops.executed[kCompOut] += dm * dm;
    if (anchor || ffn == FfnPolicy::kNone) {
      ops.executed[kCompFfn1] += dm * p.d_ff;
      ops.executed[kCompFfn2] += dm * p.d_ff;
    }
  }
  return ops;
}

TEST(Spls, OpCountsBelowDense) {
  for (uint64_t seed : {41, 42, 43}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const int n_valid = 29;
    const QuantizedCase c = MakeQuantizedCase(seed, n_valid);
    SplsConfig cfg;
    cfg.k = 8;
    cfg.w = 2;
    cfg.t = 1;
    cfg.ffn = FfnPolicy::kReuse;
    const LayerResult r = RunLayer(c.params, c.x, n_valid, cfg);
    ASSERT_GT(CountReusedTokens(r.decision.token_anchor, n_valid), 0) << "Out, FFN unexercised";
    for (int comp = 0; comp < kNumComponents; ++comp) {
      EXPECT_LE(r.ops.executed[comp], r.ops.dense[comp]) << ComponentName(comp);
    }
    EXPECT_LT(r.ops.ExecutedTotal(), r.ops.DenseTotal());
    EXPECT_GT(r.ops.RemovedFraction(), 0.0);
    EXPECT_EQ(r.ops.executed, ExpectedExecuted(c.params, r.decision, n_valid, cfg.ffn).executed);
    const int64_t d = 64;
    EXPECT_EQ(r.ops.predictor_ops, 2 * n_valid * d * d + int64_t{n_valid} * n_valid * d);
  }
}

// Context of row i in head h over the given keys, from the dense Q, K, V.
std::vector<int8_t> ExpectedContext(const LayerParams& p, const LayerResult& dense,
                                    const IndexSet& keys, int i, int h) {
  const int dh = p.d_head();
  const int n = static_cast<int>(keys.size());
  std::vector<int32_t> scores(n, 0);
  for (int s = 0; s < n; ++s) {
    for (int c = h * dh; c < (h + 1) * dh; ++c)
      scores[s] += dense.q.at(i, c) * dense.k.at(keys[s], c);
  }
  std::vector<uint8_t> prob(n);
  IntSoftmax(scores.data(), n, p.softmax_rq, prob.data());
  std::vector<int8_t> ctx(dh);
  for (int c = 0; c < dh; ++c) {
    int64_t acc = 0;
    for (int s = 0; s < n; ++s) acc += prob[s] * dense.v.at(keys[s], h * dh + c);
    ctx[c] = Requantize(acc, p.ctx_rq);
  }
  return ctx;
}

// Anchor rows attend to exactly their selected keys; what the decision skips stays zero.
TEST(Spls, AnchorRowsAttendToSelectedKeys) {
  for (uint64_t seed : {61, 62}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const int n_valid = 28;
    const QuantizedCase c = MakeQuantizedCase(seed, n_valid);
    SplsConfig cfg;
    cfg.k = 8;
    cfg.w = 2;
    cfg.t = 2;
    const LayerResult sparse = RunLayer(c.params, c.x, n_valid, cfg);
    const LayerResult dense = RunLayer(c.params, c.x, n_valid, DenseConfig());
    const int dh = c.params.d_head();
    for (int h = 0; h < c.params.n_heads; ++h) {
      const HeadDecision& hd = sparse.decision.heads[h];
      for (int i = 0; i < kTokens; ++i) {
        SCOPED_TRACE(testing::Message() << "head " << h << " row " << i);
        const bool anchor = i < n_valid && hd.reuse[i] == i;
        for (int col = h * dh; col < (h + 1) * dh; ++col) {
          ASSERT_EQ(sparse.q.at(i, col), anchor ? dense.q.at(i, col) : 0);
          ASSERT_EQ(sparse.k.at(i, col), hd.needed_kv[i] ? dense.k.at(i, col) : 0);
          ASSERT_EQ(sparse.v.at(i, col), hd.needed_kv[i] ? dense.v.at(i, col) : 0);
        }
        if (i >= n_valid) continue;
        if (!anchor) {
          const int a = hd.reuse[i];
          ASSERT_TRUE(std::equal(sparse.ctx.row(i) + h * dh, sparse.ctx.row(i) + (h + 1) * dh,
                                 sparse.ctx.row(a) + h * dh));
          continue;
        }
        ASSERT_LT(hd.spa[i].size(), static_cast<size_t>(n_valid));
        const std::vector<int8_t> want = ExpectedContext(c.params, dense, hd.spa[i], i, h);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), sparse.ctx.row(i) + h * dh));
      }
    }
    // Past the context every row, copied or not, is what the dense rules give for it.
    EXPECT_GT(CountReusedTokens(sparse.decision.token_anchor, n_valid), 0);
    EXPECT_EQ(sparse.attn, ReferenceLinear(sparse.ctx, c.params.o, n_valid));
    EXPECT_EQ(sparse.h, ReferenceResidualLn(c.x, sparse.attn, c.params.ln1, n_valid));
    EXPECT_EQ(sparse.y, ReferenceResidualLn(sparse.h, sparse.ffn_out, c.params.ln2, n_valid));
  }
}

TEST(Spls, ReusedRowsTakeTheirAnchors) {
  for (uint64_t seed : {51, 52}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const int n_valid = 30;
    const QuantizedCase c = MakeQuantizedCase(seed, n_valid);
    // Half the keys and overlap 1: nearly every row next to an anchor reuses it.
    SplsConfig cfg;
    cfg.k = n_valid / 2;
    cfg.w = 2;
    cfg.t = 1;
    cfg.ffn = FfnPolicy::kNone;
    const LayerResult none = RunLayer(c.params, c.x, n_valid, cfg);
    cfg.ffn = FfnPolicy::kReuse;
    const LayerResult reuse = RunLayer(c.params, c.x, n_valid, cfg);
    ASSERT_EQ(none.decision.token_anchor, reuse.decision.token_anchor);
    const std::vector<int>& anchor = reuse.decision.token_anchor;
    ASSERT_GT(CountReusedTokens(anchor, n_valid), 0) << "the test would check nothing";

    for (int h = 0; h < c.params.n_heads; ++h) {
      const int dh = c.params.d_head();
      for (int i = 0; i < n_valid; ++i) {
        const int a = reuse.decision.heads[h].reuse[i];
        EXPECT_TRUE(std::equal(reuse.ctx.row(i) + h * dh, reuse.ctx.row(i) + (h + 1) * dh,
                               reuse.ctx.row(a) + h * dh))
            << "head " << h << " row " << i;
      }
    }
    EXPECT_EQ(none.h, reuse.h);  // the policy only touches the FFN
    for (int i = 0; i < n_valid; ++i) {
      SCOPED_TRACE(testing::Message() << "row " << i << " anchor " << anchor[i]);
      EXPECT_TRUE(RowsEqual(reuse.attn, i, reuse.attn, anchor[i]));
      if (anchor[i] == i) {
        EXPECT_TRUE(RowsEqual(reuse.ffn_act, i, none.ffn_act, i));
        EXPECT_TRUE(RowsEqual(reuse.ffn_out, i, none.ffn_out, i));
        EXPECT_TRUE(RowsEqual(reuse.y, i, none.y, i));
      } else {
        EXPECT_TRUE(RowsEqual(reuse.ffn_act, i, reuse.ffn_act, anchor[i]));
        EXPECT_TRUE(RowsEqual(reuse.ffn_out, i, reuse.ffn_out, anchor[i]));
      }
    }
    EXPECT_LT(reuse.ops.executed[kCompFfn1], none.ops.executed[kCompFfn1]);
  }
}

// ---- 7. Validation ----------------------------------------------------------------------------

TEST(Layer, ValidateRejectsBadConfigurations) {
  std::mt19937_64 rng(71);
  const LayerParams good = RandomLayerParams(rng, 32, 4, 64);
  const int n = 16;
  SplsConfig cfg;
  cfg.k = 4;
  ASSERT_EQ(ValidateLayer(good, n, 10, cfg), "");

  auto rejects = [&](LayerParams p, int n_valid, SplsConfig c) {
    return !ValidateLayer(p, n, n_valid, c).empty();
  };
  SplsConfig bad = cfg;
  bad.k = 0;
  EXPECT_TRUE(rejects(good, 10, bad));
  bad.enabled = false;  // dense mode ignores k
  EXPECT_FALSE(rejects(good, 10, bad));
  bad.enabled = true;
  bad.k = n + 1;
  EXPECT_TRUE(rejects(good, 10, bad));
  bad = cfg;
  bad.hlog_bits = 3;
  EXPECT_TRUE(rejects(good, 10, bad));
  bad = cfg;
  bad.w = -1;
  EXPECT_TRUE(rejects(good, 10, bad));
  EXPECT_TRUE(rejects(good, 0, cfg));
  EXPECT_TRUE(rejects(good, n + 1, cfg));

  LayerParams p = good;
  p.n_heads = 3;
  EXPECT_TRUE(rejects(p, 10, cfg));
  p = good;
  p.ffn1.bias.pop_back();
  EXPECT_TRUE(rejects(p, 10, cfg));
  p = good;
  p.ln2.gamma.push_back(0);
  EXPECT_TRUE(rejects(p, 10, cfg));
  p = good;
  p.ctx_rq.shift = kRequantMaxShift + 1;
  EXPECT_TRUE(rejects(p, 10, cfg));
  p = good;
  p.q.rq.mult = 1 << 16;
  EXPECT_TRUE(rejects(p, 10, cfg));
  p = good;
  p.pred_k_shift = 32;
  EXPECT_TRUE(rejects(p, 10, cfg));

  const Matrix<int8_t> x(n, 32);
  EXPECT_THROW(RunLayer(good, x, 0, cfg), std::invalid_argument);
  EXPECT_THROW(RunLayer(good, Matrix<int8_t>(n, 31), 10, cfg), std::invalid_argument);
  EXPECT_NO_THROW(RunLayer(good, x, 10, cfg));
}

}  // namespace
}  // namespace esact
