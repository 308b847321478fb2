// Unit tests of the integer numerics (golden/quant.h) and the encoder layer (golden/layer.h).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
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
                                   ResidualScale rs, const LnParams& ln, int n_valid) {
  Matrix<int8_t> out(a.rows, a.cols);
  std::vector<int16_t> r(a.cols);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < a.cols; ++c) r[c] = ResidualAdd(a.at(i, c), b.at(i, c), rs);
    IntLayerNorm(r.data(), a.cols, ln, out.row(i));
  }
  return out;
}

// keys[h][i]: the keys row i of head h attends to, in order; a row without keys keeps a
// zero context.
using KeyLists = std::vector<std::vector<IndexSet>>;

// The dense layer's key lists: every valid row attends to every valid key.
KeyLists AllValidKeys(int n_heads, int n_tokens, int n_valid) {
  IndexSet all(n_valid);
  for (int j = 0; j < n_valid; ++j) all[j] = j;
  std::vector<IndexSet> rows(n_tokens);
  std::fill(rows.begin(), rows.begin() + n_valid, all);
  return KeyLists(n_heads, rows);
}

Matrix<int8_t> ReferenceAttention(const LayerParams& p, const Matrix<int8_t>& q,
                                  const Matrix<int8_t>& k, const Matrix<int8_t>& v,
                                  const KeyLists& keys) {
  const int dh = p.d_model / p.n_heads;
  Matrix<int8_t> ctx(q.rows, p.d_model);
  for (int h = 0; h < p.n_heads; ++h) {
    for (int i = 0; i < q.rows; ++i) {
      const IndexSet& ks = keys[h][i];
      const int n = static_cast<int>(ks.size());
      if (n == 0) continue;
      std::vector<int32_t> scores(n, 0);
      std::vector<uint8_t> prob(n);
      for (int s = 0; s < n; ++s) {
        for (int c = h * dh; c < (h + 1) * dh; ++c) scores[s] += q.at(i, c) * k.at(ks[s], c);
      }
      IntSoftmax(scores.data(), n, p.softmax_rq, prob.data());
      for (int c = h * dh; c < (h + 1) * dh; ++c) {
        int64_t acc = 0;
        for (int s = 0; s < n; ++s) acc += prob[s] * v.at(ks[s], c);
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
  o.ctx = ReferenceAttention(p, o.q, o.k, o.v, AllValidKeys(p.n_heads, x.rows, n_valid));
  o.attn = ReferenceLinear(o.ctx, p.o, n_valid);
  o.h = ReferenceResidualLn(x, o.attn, p.res1, p.ln1, n_valid);
  const Matrix<int8_t> pre = ReferenceLinear(o.h, p.ffn1, n_valid);
  o.ffn_act = Matrix<int8_t>(x.rows, p.d_ff);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < p.d_ff; ++c) o.ffn_act.at(i, c) = ApplyLut(p.gelu_lut, pre.at(i, c));
  }
  o.ffn_out = ReferenceLinear(o.ffn_act, p.ffn2, n_valid);
  o.y = ReferenceResidualLn(o.h, o.ffn_out, p.res2, p.ln2, n_valid);
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
  EXPECT_THROW(RoundShift(5, -1), std::invalid_argument);
  EXPECT_THROW(RoundShift(5, kRoundShiftMax + 1), std::invalid_argument);
  EXPECT_THROW(RoundShift(5, 64), std::invalid_argument);
  EXPECT_THROW(Requantize(5, Requant{1, 63}), std::invalid_argument);
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

TEST(Residual, DefaultScaleIsThePlainSum) {
  for (int a = -128; a <= 127; ++a) {
    for (int b = -128; b <= 127; b += 5) {
      ASSERT_EQ(ResidualAdd(static_cast<int8_t>(a), static_cast<int8_t>(b), ResidualScale{}),
                a + b);
    }
  }
}

TEST(Residual, CommonScaleTracksTheRealSum) {
  // s_r = max(s_a, s_b) / 8: the real sum over s_r, to within the two roundings.
  std::mt19937_64 rng(12);
  for (int it = 0; it < 2000; ++it) {
    const double s_a = std::ldexp(1.0, RandomInt(rng, -12, 4)) * (1.0 + (rng() % 1000) / 1000.0);
    const double s_b = s_a * std::ldexp(1.0, RandomInt(rng, -6, 6)) * (1.0 + (rng() % 7) / 7.0);
    const ResidualScale rs = QuantizeResidual(s_a, s_b);
    ASSERT_LE(std::max(rs.mult_a, rs.mult_b), kResidualMaxMult);
    ASSERT_EQ(std::max(rs.mult_a, rs.mult_b), kResidualMaxMult);  // the larger one is exactly 8
    const double s_r = std::max(s_a, s_b) / 8.0;
    const int a = RandomInt(rng, -128, 127);
    const int b = RandomInt(rng, -128, 127);
    const int16_t r = ResidualAdd(static_cast<int8_t>(a), static_cast<int8_t>(b), rs);
    ASSERT_GE(r, -(1 << (kResidualBits - 1)));
    ASSERT_LT(r, 1 << (kResidualBits - 1));
    // Each mult is within 0.5 of its real value, i.e. 0.5 * 128 / 4096 units of r per
    // operand, plus the final rounding.
    ASSERT_NEAR(r, (a * s_a + b * s_b) / s_r, 0.5 + 2 * 128 * 0.5 / 4096) << it;
  }
  EXPECT_THROW(QuantizeResidual(0.0, 1.0), std::invalid_argument);
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

// ---- The int32 accumulator bound ------------------------------------------------------------

TEST(Layer, BiasBoundKeepsTheWorstAccumulatorInInt32) {
  for (int in : {1, 32, 64, kMaxLayerDim}) {
    EXPECT_EQ(MaxLinearBias(in) + kInt8ProductMax * in, std::numeric_limits<int32_t>::max()) << in;
  }
  // The extreme: x = W = -128 everywhere and the largest bias gives exactly 2^31 - 1.
  std::mt19937_64 rng(81);
  LayerParams p = RandomLayerParams(rng, 32, 4, 64);
  std::fill(p.q.w.data.begin(), p.q.w.data.end(), int8_t{-128});
  p.q.bias.assign(32, static_cast<int32_t>(MaxLinearBias(32)));
  p.q.rq = Requant{1 << 15, 46};  // (2^31 - 1) * 2^15 / 2^46 rounds to 1
  ASSERT_EQ(ValidateLayer(p, 4, 4, DenseConfig()), "");
  const LayerResult r = RunLayer(p, Matrix<int8_t>(4, 32, -128), 4, DenseConfig());
  for (int8_t v : r.q.data) ASSERT_EQ(v, 1);
}

TEST(Layer, ValidateEnforcesTheBiasBound) {
  std::mt19937_64 rng(82);
  const LayerParams good = RandomLayerParams(rng, 32, 4, 64);
  const SplsConfig cfg = DefaultSplsConfig(10);
  ASSERT_EQ(ValidateLayer(good, 16, 10, cfg), "");
  const int64_t max_q = MaxLinearBias(32);     // in = d_model
  const int64_t max_ffn2 = MaxLinearBias(64);  // in = d_ff
  LayerParams p = good;
  p.q.bias[3] = static_cast<int32_t>(max_q);
  p.q.bias[4] = static_cast<int32_t>(-max_q);
  p.ffn2.bias[0] = static_cast<int32_t>(max_ffn2);
  EXPECT_EQ(ValidateLayer(p, 16, 10, cfg), "");
  p.q.bias[3] = static_cast<int32_t>(max_q + 1);
  EXPECT_EQ(ValidateLayer(p, 16, 10, cfg),
            fmt::format("params.q.bias: [3] = {} out of range [{}, {}] (|bias| + 2^14 * "
                        "params.d_model (32) < 2^31)",
                        max_q + 1, -max_q, max_q));
  p = good;
  p.ffn2.bias[7] = static_cast<int32_t>(-max_ffn2 - 1);
  EXPECT_EQ(CheckLayer(p, 16, 10, cfg).field, "params.ffn2.bias");
  p.ffn2.bias[7] = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(CheckLayer(p, 16, 10, cfg).field, "params.ffn2.bias");
  EXPECT_THROW(RunLayer(p, Matrix<int8_t>(16, 32), 10, cfg), std::invalid_argument);
}

// A bias far beyond the bound is clamped to it, so the quantized layer is valid.
TEST(Layer, QuantizeLayerClampsBiasesToTheBound) {
  std::mt19937_64 rng(83);
  FloatLayer f = RandomFloatLayer(rng, 64, 4, 256);
  // The output projections: their bias does not enter any requant factor.
  f.o.bias[0] = 1e9f;
  f.o.bias[1] = -1e9f;
  f.ffn2.bias[2] = -1e9f;
  const Matrix<float> x = RandomFloatInput(rng, kTokens, 64);
  const LayerParams p = QuantizeLayer(f, x, kTokens);
  EXPECT_EQ(p.o.bias[0], MaxLinearBias(64));
  EXPECT_EQ(p.o.bias[1], -MaxLinearBias(64));
  EXPECT_EQ(p.ffn2.bias[2], -MaxLinearBias(256));
  EXPECT_LT(std::abs(p.o.bias[2]), 1 << 20);  // an ordinary bias is untouched
  EXPECT_EQ(ValidateLayer(p, kTokens, kTokens, DenseConfig()), "");
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
    // The executed counts of a given decision are checked in closed form below
    // (RunLayerWithDecision); here the run must equal its own decision replayed.
    const LayerResult replay = RunLayerWithDecision(c.params, c.x, n_valid, r.decision, cfg.ffn);
    EXPECT_EQ(replay.ops.executed, r.ops.executed);
    EXPECT_EQ(replay.y, r.y);
    EXPECT_EQ(replay.ops.predictor_ops, 0);
    const int64_t d = 64;
    EXPECT_EQ(r.ops.predictor_ops, 2 * n_valid * d * d + int64_t{n_valid} * n_valid * d);
  }
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
    // Anchor rows over their selected keys, from the dense Q, K, V.
    KeyLists keys(c.params.n_heads, std::vector<IndexSet>(kTokens));
    for (int h = 0; h < c.params.n_heads; ++h) {
      const HeadDecision& hd = sparse.decision.heads[h];
      for (int i = 0; i < n_valid; ++i) {
        if (hd.reuse[i] == i) keys[h][i] = hd.spa[i];
      }
    }
    const Matrix<int8_t> want_ctx = ReferenceAttention(c.params, dense.q, dense.k, dense.v, keys);
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
        ASSERT_TRUE(std::equal(sparse.ctx.row(i) + h * dh, sparse.ctx.row(i) + (h + 1) * dh,
                               want_ctx.row(i) + h * dh));
      }
    }
    // Past the context every row, copied or not, is what the dense rules give for it.
    EXPECT_GT(CountReusedTokens(sparse.decision.token_anchor, n_valid), 0);
    EXPECT_EQ(sparse.attn, ReferenceLinear(sparse.ctx, c.params.o, n_valid));
    EXPECT_EQ(sparse.h,
              ReferenceResidualLn(c.x, sparse.attn, c.params.res1, c.params.ln1, n_valid));
    EXPECT_EQ(sparse.y,
              ReferenceResidualLn(sparse.h, sparse.ffn_out, c.params.res2, c.params.ln2, n_valid));
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

// ---- 7. RunLayerWithDecision: hand-built decisions -----------------------------------------

constexpr int kDecTokens = 12;
constexpr int kDecValid = 10;
constexpr int kDecD = 32;
constexpr int kDecHeads = 4;
constexpr int kDecDh = kDecD / kDecHeads;
constexpr int kDecDff = 64;

struct DecisionCase {
  LayerParams params;
  Matrix<int8_t> x;
};

DecisionCase MakeDecisionCase() {
  std::mt19937_64 rng(91);
  return {RandomLayerParams(rng, kDecD, kDecHeads, kDecDff), RandomInt8(rng, kDecTokens, kDecD)};
}

// Every head: row i attends to spa(i) and reuses reuse(i); needed_kv and token_anchor are
// given explicitly, not derived.
SplsDecision HandDecision(const std::function<IndexSet(int h, int i)>& spa,
                          const std::function<int(int h, int i)>& reuse,
                          const std::vector<int>& needed_columns,
                          const std::vector<int>& token_anchor) {
  SplsDecision d;
  d.heads.resize(kDecHeads);
  for (int h = 0; h < kDecHeads; ++h) {
    HeadDecision& hd = d.heads[h];
    hd.spa.assign(kDecTokens, IndexSet{});
    hd.reuse.assign(kDecTokens, -1);
    hd.needed_kv.assign(kDecTokens, 0);
    for (int i = 0; i < kDecValid; ++i) {
      hd.spa[i] = spa(h, i);
      hd.reuse[i] = reuse(h, i);
    }
    for (int j : needed_columns) hd.needed_kv[j] = 1;
  }
  d.token_anchor = token_anchor;
  return d;
}

std::vector<int> IdentityAnchors() {
  std::vector<int> a(kDecTokens, -1);
  for (int i = 0; i < kDecValid; ++i) a[i] = i;
  return a;
}

// Odd rows reuse the row before them.
int PairAnchor(int i) { return i - i % 2; }

std::vector<int> PairAnchors() {
  std::vector<int> a(kDecTokens, -1);
  for (int i = 0; i < kDecValid; ++i) a[i] = PairAnchor(i);
  return a;
}

using Counts = std::array<int64_t, kNumComponents>;

// {Q, K, V, scores, P.V, out, FFN1, FFN2} MACs.
Counts MakeCounts(int64_t q, int64_t kv, int64_t attn, int64_t out, int64_t ffn) {
  return {q, kv, kv, attn, attn, out, ffn, ffn};
}

// Every row an anchor in every head with |S_i| = k keys drawn from c needed columns:
// Q = H n d dh, K = V = H c d dh, scores = P.V = H n k dh, out = n d d, FFN = n d dff.
TEST(LayerWithDecision, AllAnchorsCountsInClosedForm) {
  const DecisionCase c = MakeDecisionCase();
  const std::vector<int> cols = {1, 3, 4, 7, 9};  // c = 5 needed columns
  const int k = 3;
  const auto spa = [&](int h, int i) {
    IndexSet s;
    for (int t = 0; t < k; ++t) s.push_back(cols[(i + h + t) % cols.size()]);
    std::sort(s.begin(), s.end());
    return s;
  };
  const SplsDecision dec = HandDecision(
      spa, [](int, int i) { return i; }, cols, IdentityAnchors());
  const int64_t n = kDecValid, d = kDecD, dh = kDecDh, H = kDecHeads, dff = kDecDff;
  const int64_t cc = static_cast<int64_t>(cols.size());
  for (FfnPolicy ffn : {FfnPolicy::kNone, FfnPolicy::kReuse}) {
    const LayerResult r = RunLayerWithDecision(c.params, c.x, kDecValid, dec, ffn);
    EXPECT_EQ(r.ops.executed,
              MakeCounts(H * n * d * dh, H * cc * d * dh, H * n * k * dh, n * d * d, n * d * dff));
    EXPECT_EQ(r.ops.dense,
              MakeCounts(n * d * d, n * d * d, H * n * n * dh, n * d * d, n * d * dff));
    EXPECT_EQ(r.ops.predictor_ops, 0);
    // K and V exist exactly for the needed columns.
    for (int j = 0; j < kDecTokens; ++j) {
      const bool needed = std::count(cols.begin(), cols.end(), j) > 0;
      bool k_zero = true;
      for (int col = 0; col < d; ++col) k_zero = k_zero && r.k.at(j, col) == 0;
      EXPECT_EQ(!k_zero, needed) << "column " << j;
    }
  }
}

// Odd rows reuse the row before them in every head (token anchors 0, 0, 2, 2, ...):
// n/2 anchors per head and n/2 token anchors.
TEST(LayerWithDecision, TokenReuseCountsInClosedForm) {
  const DecisionCase c = MakeDecisionCase();
  const IndexSet keys = {0, 1, 2};
  const SplsDecision dec =
      HandDecision([&](int, int) { return keys; }, [](int, int i) { return PairAnchor(i); }, keys,
                   PairAnchors());
  const int64_t n = kDecValid, a = kDecValid / 2, d = kDecD, dh = kDecDh, H = kDecHeads;
  const int64_t dff = kDecDff, k = 3;
  const LayerResult none = RunLayerWithDecision(c.params, c.x, kDecValid, dec, FfnPolicy::kNone);
  const LayerResult reuse = RunLayerWithDecision(c.params, c.x, kDecValid, dec, FfnPolicy::kReuse);
  EXPECT_EQ(none.ops.executed,
            MakeCounts(H * a * d * dh, H * k * d * dh, H * a * k * dh, a * d * d, n * d * dff));
  EXPECT_EQ(reuse.ops.executed,
            MakeCounts(H * a * d * dh, H * k * d * dh, H * a * k * dh, a * d * d, a * d * dff));
  for (int i = 1; i < kDecValid; i += 2) {
    SCOPED_TRACE(testing::Message() << "row " << i);
    EXPECT_TRUE(RowsEqual(reuse.ctx, i, reuse.ctx, i - 1));
    EXPECT_TRUE(RowsEqual(reuse.attn, i, reuse.attn, i - 1));
    EXPECT_TRUE(RowsEqual(reuse.ffn_out, i, reuse.ffn_out, i - 1));
    EXPECT_TRUE(RowsEqual(none.attn, i, none.attn, i - 1));
  }
  EXPECT_EQ(none.h, reuse.h);
}

// Head 0 pairs rows, the other heads keep every row: no token reuse, so the output
// projection and the FFN run on every row.
TEST(LayerWithDecision, HeadsThatDisagreeKeepEveryToken) {
  const DecisionCase c = MakeDecisionCase();
  const IndexSet keys = {2, 5};
  const SplsDecision dec = HandDecision([&](int, int) { return keys; },
                                        [](int h, int i) { return h == 0 ? PairAnchor(i) : i; },
                                        keys, IdentityAnchors());
  const int64_t n = kDecValid, d = kDecD, dh = kDecDh, dff = kDecDff, k = 2;
  const int64_t anchors = n / 2 + (kDecHeads - 1) * n;  // summed over heads
  const LayerResult r = RunLayerWithDecision(c.params, c.x, kDecValid, dec, FfnPolicy::kReuse);
  EXPECT_EQ(r.ops.executed, MakeCounts(anchors * d * dh, kDecHeads * k * d * dh, anchors * k * dh,
                                       n * d * d, n * d * dff));
}

TEST(LayerWithDecision, RunLayerIsPredictThenRunLayerWithDecision) {
  const QuantizedCase c = MakeQuantizedCase(92, 30);
  const SplsConfig cfg = DefaultSplsConfig(30);
  const LayerResult run = RunLayer(c.params, c.x, 30, cfg);
  const SplsDecision dec =
      Predict(c.x, 30, c.params.n_heads, MakePredictorWeights(c.params, cfg), cfg);
  const LayerResult replay = RunLayerWithDecision(c.params, c.x, 30, dec, cfg.ffn);
  EXPECT_EQ(run.y, replay.y);
  EXPECT_EQ(run.ops.executed, replay.ops.executed);
  EXPECT_EQ(run.decision.token_anchor, dec.token_anchor);
  // The dense decision through RunLayerWithDecision is the dense layer.
  const LayerResult dense = RunLayer(c.params, c.x, 30, DenseConfig());
  EXPECT_EQ(RunLayerWithDecision(c.params, c.x, 30, DenseDecision(kTokens, 30, c.params.n_heads),
                                 FfnPolicy::kNone)
                .y,
            dense.y);
}

TEST(LayerWithDecision, RejectsMalformedDecisions) {
  const DecisionCase c = MakeDecisionCase();
  const IndexSet keys = {0, 1, 2};
  const SplsDecision good =
      HandDecision([&](int, int) { return keys; }, [](int, int i) { return PairAnchor(i); }, keys,
                   PairAnchors());
  ASSERT_NO_THROW(RunLayerWithDecision(c.params, c.x, kDecValid, good, FfnPolicy::kReuse));
  // Each spoil breaks one rule; the message names it.
  struct Spoil {
    const char* what;
    std::function<void(SplsDecision&)> spoil;
    const char* message;
  };
  const std::vector<Spoil> spoils = {
      {"three heads", [](SplsDecision& d) { d.heads.pop_back(); }, "3 heads, expected"},
      {"short spa", [](SplsDecision& d) { d.heads[1].spa.pop_back(); }, "head 1: spa/reuse"},
      {"short reuse", [](SplsDecision& d) { d.heads[2].reuse.pop_back(); }, "head 2: spa/reuse"},
      {"long needed_kv", [](SplsDecision& d) { d.heads[3].needed_kv.push_back(0); },
       "head 3: spa/reuse"},
      // Row 3 of head 0 reuses row 1, itself reused; token 3 keeps itself, so only the
      // anchor rule is broken.
      {"reuse target not an anchor",
       [](SplsDecision& d) {
         d.heads[0].reuse[3] = 1;
         d.token_anchor[3] = 3;
       },
       "head 0 row 3: reuses row 1, which is not an anchor"},
      {"reuse target padded", [](SplsDecision& d) { d.heads[0].reuse[3] = kDecValid; },
       "head 0 row 3: reuse 10 outside"},
      {"reuse -1 on a valid row", [](SplsDecision& d) { d.heads[0].reuse[3] = -1; },
       "head 0 row 3: reuse -1 outside"},
      {"padded row reuses", [](SplsDecision& d) { d.heads[1].reuse[kDecValid] = 0; },
       "head 1 padded row 10"},
      {"padded row has keys", [](SplsDecision& d) { d.heads[1].spa[kDecValid + 1] = {0}; },
       "head 1 padded row 11"},
      {"padded column needed", [](SplsDecision& d) { d.heads[1].needed_kv[kDecValid] = 1; },
       "head 1 padded row 10"},
      {"anchor without keys", [](SplsDecision& d) { d.heads[2].spa[4].clear(); },
       "head 2 anchor row 4: no keys"},
      {"keys not ascending",
       [](SplsDecision& d) {
         d.heads[2].spa[4] = {2, 1};
       },
       "head 2 row 4: key list not ascending"},
      {"duplicate key",
       [](SplsDecision& d) {
         d.heads[2].spa[4] = {1, 1};
       },
       "head 2 row 4: key list not ascending"},
      {"padded key",
       [](SplsDecision& d) {
         d.heads[2].spa[4] = {0, kDecValid};
       },
       "head 2 row 4: key list not ascending"},
      {"reused row with a padded key", [](SplsDecision& d) { d.heads[2].spa[5] = {kDecValid}; },
       "head 2 row 5: key list not ascending"},
      {"key not needed",
       [](SplsDecision& d) {
         d.heads[3].spa[0] = {0, 1, 5};
       },
       "head 3 anchor row 0: key 5 is not marked needed"},
      {"short token_anchor", [](SplsDecision& d) { d.token_anchor.pop_back(); },
       "token_anchor has 11 entries"},
      {"token anchor where the heads keep the row", [](SplsDecision& d) { d.token_anchor[4] = 2; },
       "token_anchor[4] = 2, but head 0 maps row 4 to 4"},
      {"token anchor not the heads' anchor", [](SplsDecision& d) { d.token_anchor[3] = 0; },
       "token_anchor[3] = 0, but head 0 maps row 3 to 2"},
      {"token anchor out of range", [](SplsDecision& d) { d.token_anchor[3] = kDecValid; },
       "token_anchor[3] = 10 outside"},
      {"padded token anchor", [](SplsDecision& d) { d.token_anchor[kDecValid] = kDecValid; },
       "token_anchor[10] = 10 for a padded row"},
  };
  for (const Spoil& s : spoils) {
    SplsDecision bad = good;
    s.spoil(bad);
    try {
      RunLayerWithDecision(c.params, c.x, kDecValid, bad, FfnPolicy::kReuse);
      ADD_FAILURE() << "accepted: " << s.what;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(std::string("decision: ") + s.message, 0), 0u)
          << s.what << ": " << e.what();
    }
  }
  // The layer and input rules apply too.
  EXPECT_THROW(RunLayerWithDecision(c.params, c.x, 0, good, FfnPolicy::kNone),
               std::invalid_argument);
  EXPECT_THROW(RunLayerWithDecision(c.params, Matrix<int8_t>(kDecTokens, kDecD + 1), kDecValid,
                                    good, FfnPolicy::kNone),
               std::invalid_argument);
}

// ---- 8. Validation ----------------------------------------------------------------------------

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
  EXPECT_EQ(ValidateLayer(good, n, 10, bad), "spls.k: 0 out of range [1, 16]");
  bad.enabled = false;  // a configuration must be valid in both modes
  EXPECT_EQ(ValidateLayer(good, n, 10, bad), "spls.k: 0 out of range [1, 16]");
  bad.enabled = true;
  bad.k = n + 1;
  EXPECT_TRUE(rejects(good, 10, bad));
  bad = cfg;
  bad.hlog_bits = 3;
  EXPECT_TRUE(rejects(good, 10, bad));
  bad = cfg;
  bad.w = -1;
  EXPECT_TRUE(rejects(good, 10, bad));
  bad = cfg;
  bad.t = -1;
  EXPECT_TRUE(rejects(good, 10, bad));
  EXPECT_TRUE(rejects(good, 0, cfg));
  EXPECT_TRUE(rejects(good, n + 1, cfg));
  EXPECT_EQ(ValidateLayer(good, kMaxLayerDim + 1, 10, cfg),
            "n_tokens: 65537 out of range [1, 65536]");

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
  EXPECT_EQ(ValidateLayer(p, n, 10, cfg), "params.ctx_rq.shift: 48 out of range [0, 47]");
  p = good;
  p.q.rq.shift = 60;
  EXPECT_EQ(ValidateLayer(p, n, 10, cfg), "params.q.rq.shift: 60 out of range [0, 47]");
  p = good;
  p.d_model = kMaxLayerDim + 32;
  p.n_heads = 1;
  EXPECT_EQ(CheckLayer(p, n, 10, cfg).field, "params.d_model");
  p = good;
  p.q.w.data.pop_back();  // rows and cols right, storage short
  EXPECT_EQ(CheckLayer(p, n, 10, cfg).field, "params.q.w");
  p = good;
  p.y_scale = 0.0f;
  EXPECT_EQ(CheckLayer(p, n, 10, cfg).field, "params.y_scale");
  p = good;
  p.q.rq.mult = 1 << 16;
  EXPECT_TRUE(rejects(p, 10, cfg));
  p = good;
  p.pred_k_shift = 32;
  EXPECT_TRUE(rejects(p, 10, cfg));

  const Matrix<int8_t> x(n, 32);
  EXPECT_THROW(RunLayer(good, x, 0, cfg), std::invalid_argument);
  try {
    RunLayer(good, Matrix<int8_t>(n, 31), 10, cfg);
    ADD_FAILURE() << "accepted a 31-column input";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "x.cols: 31 does not equal params.d_model (32)");
  }
  EXPECT_NO_THROW(RunLayer(good, x, 10, cfg));
}

}  // namespace
}  // namespace esact
