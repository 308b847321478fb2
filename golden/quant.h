// Integer numerics of the int8 encoder layer (docs/spls.md, section "Integer layer").
// Each rule is one small function named after the RTL operation that implements it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace esact {

// v / 2^shift rounded half away from zero. Throws std::invalid_argument if shift is
// outside [0, kRoundShiftMax].
constexpr int kRoundShiftMax = 62;
int64_t RoundShift(int64_t v, int shift);

int8_t SaturateInt8(int64_t v);

// Fixed-point requantization: SaturateInt8(RoundShift(acc * mult, shift)).
struct Requant {
  int32_t mult = 1;  // [0, 2^kRequantMultBits)
  int shift = 0;     // [0, kRequantMaxShift]
  bool operator==(const Requant& o) const { return mult == o.mult && shift == o.shift; }
};

constexpr int kRequantMultBits = 16;
constexpr int32_t kRequantMaxMult = (int32_t{1} << kRequantMultBits) - 1;
constexpr int kRequantMaxShift = 47;

int8_t Requantize(int64_t acc, Requant rq);

// The Requant closest to a positive real factor: mult in [2^15, 2^16) and the matching
// shift, except below 2^-32, where the shift saturates at kRequantMaxShift and mult is
// smaller (possibly 0). Throws std::invalid_argument if real <= 0 or too large.
Requant QuantizeMultiplier(double real);

// ---- Integer softmax -------------------------------------------------------------------
// x_j  = RoundShift((max - s_j) * rq.mult, rq.shift)  exponent in log2 units, F frac bits
// e_j  = kSoftmaxExp2Lut[x_j mod 2^F] >> (x_j / 2^F)   (0 once the shift reaches 16)
// sum  = sum_j e_j
// r    = floor(2^kSoftmaxRecipBits / sum)
// p_j  = min(255, RoundShift(e_j * r, kSoftmaxRecipBits - 8))   probability, scale 1/256
constexpr int kSoftmaxFracBits = 5;
constexpr int kSoftmaxLutSize = 1 << kSoftmaxFracBits;
constexpr int kSoftmaxExpBits = 15;  // e_j <= 2^15
constexpr int kSoftmaxRecipBits = 30;
constexpr int kSoftmaxProbBits = 8;

// kSoftmaxExp2Lut[f] = round(2^15 * 2^(-f / 32)).
extern const std::array<uint16_t, kSoftmaxLutSize> kSoftmaxExp2Lut;

uint32_t SoftmaxExponent(int32_t max_score, int32_t score, Requant rq);
uint32_t SoftmaxExp(uint32_t x);
uint32_t SoftmaxRecip(uint32_t sum);
uint8_t SoftmaxProb(uint32_t e, uint32_t recip);
// n >= 1 scores in, n probabilities out.
void IntSoftmax(const int32_t* scores, int n, Requant rq, uint8_t* prob);

// ---- Residual ---------------------------------------------------------------------------
// The two operands of a residual add each keep their own int8 scale (s_a, s_b) and meet in
// the wider common scale s_r = max(s_a, s_b) / 2^kResidualFracBits:
//   r_i = RoundShift(a_i * mult_a + b_i * mult_b, kResidualShift),  mult = 2^12 * s / s_r
// With mult <= kResidualMaxMult, r lies in [-2048, 2032] (kResidualBits signed bits). The default
// (both mults 2^12) is the plain sum a + b.
constexpr int kResidualShift = 12;
constexpr int kResidualFracBits = 3;
constexpr int32_t kResidualMaxMult = int32_t{1} << (kResidualShift + kResidualFracBits);
constexpr int kResidualBits = 12;

struct ResidualScale {
  int32_t mult_a = int32_t{1} << kResidualShift;  // [0, kResidualMaxMult]
  int32_t mult_b = int32_t{1} << kResidualShift;
  bool operator==(const ResidualScale& o) const { return mult_a == o.mult_a && mult_b == o.mult_b; }
};

int16_t ResidualAdd(int8_t a, int8_t b, ResidualScale rs);

// The ResidualScale of two operand scales.
ResidualScale QuantizeResidual(double s_a, double s_b);

// ---- Integer LayerNorm -----------------------------------------------------------------
// c_i = r_i * d - sum(r)                       (exact, no division)
// s   = max(1, isqrt(d sum(r^2) - sum(r)^2))   (= floor(sum(c_i^2) / d), = d * std)
// inv = floor(2^kLnRecipBits / s)
// n_i = RoundShift(c_i * inv, kLnRecipBits - kLnFracBits)   normalized, F = 12 frac bits
// y_i = Requantize(n_i * gamma_i + beta_i, rq)
constexpr int kLnFracBits = 12;
constexpr int kLnRecipBits = 31;

struct LnParams {
  std::vector<int16_t> gamma;
  std::vector<int32_t> beta;
  Requant rq;
};

uint64_t Isqrt(uint64_t v);  // floor(sqrt(v))
void IntLayerNorm(const int16_t* r, int d, const LnParams& ln, int8_t* y);

// ---- GELU --------------------------------------------------------------------------------
// The exact activation, 0.5 x (1 + erf(x / sqrt(2))): the floating-point path and the LUT
// both use it.
double Gelu(double x);

// lut[i] = SaturateInt8(round_half_away(gelu((i - 128) * in_scale) / out_scale)); applied as
// lut[x + 128]. The LUT is data (loaded at run time), so any activation fits.
using GeluLut = std::array<int8_t, 256>;
GeluLut BuildGeluLut(float in_scale, float out_scale);
inline int8_t ApplyLut(const GeluLut& lut, int8_t x) { return lut[static_cast<uint8_t>(x + 128)]; }

}  // namespace esact
