#include "golden/quant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace esact {

namespace {

// round(2^15 * 2^(-f / 32)) computed at compile time with a Newton 32nd root, so the table
// cannot drift from its definition.
constexpr std::array<uint16_t, kSoftmaxLutSize> MakeExp2Lut() {
  // r = 2^(-1/32): the root of r^32 = 1/2 in (0, 1).
  double r = 1.0;
  for (int it = 0; it < 64; ++it) {
    double p = 1.0;
    for (int k = 0; k < 31; ++k) p *= r;  // r^31
    r -= (p * r - 0.5) / (32.0 * p);
  }
  std::array<uint16_t, kSoftmaxLutSize> lut{};
  double v = double{1 << kSoftmaxExpBits};
  for (int f = 0; f < kSoftmaxLutSize; ++f) {
    lut[f] = static_cast<uint16_t>(v + 0.5);
    v *= r;
  }
  return lut;
}

// Out of line, so that the check leaves RoundShift small enough to inline.
[[noreturn]] void ThrowBadShift(int shift) {
  throw std::invalid_argument("RoundShift: shift " + std::to_string(shift) + " outside [0, " +
                              std::to_string(kRoundShiftMax) + "]");
}

}  // namespace

constexpr std::array<uint16_t, kSoftmaxLutSize> kSoftmaxExp2Lut = MakeExp2Lut();

// The magnitude is rounded in uint64 so that INT64_MIN and the rounding carry cannot
// overflow.
int64_t RoundShift(int64_t v, int shift) {
  if (shift < 0 || shift > kRoundShiftMax) ThrowBadShift(shift);
  if (shift == 0) return v;
  const uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const uint64_t rounded = (mag + (uint64_t{1} << (shift - 1))) >> shift;
  return v < 0 ? -static_cast<int64_t>(rounded) : static_cast<int64_t>(rounded);
}

int8_t SaturateInt8(int64_t v) { return static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127)); }

int8_t Requantize(int64_t acc, Requant rq) {
  return SaturateInt8(RoundShift(acc * rq.mult, rq.shift));
}

Requant QuantizeMultiplier(double real) {
  if (!(real > 0.0) || !std::isfinite(real)) {
    throw std::invalid_argument("QuantizeMultiplier: factor must be positive and finite");
  }
  // real = m * 2^e with m in [0.5, 1), so mult = m * 2^16 lies in [2^15, 2^16).
  int e = 0;
  const double m = std::frexp(real, &e);
  int64_t mult = std::llround(m * (1 << kRequantMultBits));
  int shift = kRequantMultBits - e;
  if (mult == (int64_t{1} << kRequantMultBits)) {  // m rounded up to 1.0
    mult >>= 1;
    --shift;
  }
  if (shift < 0) throw std::invalid_argument("QuantizeMultiplier: factor >= 2^16");
  if (shift > kRequantMaxShift) {
    // Too small for a full-precision mult: keep the largest shift, lose mult bits.
    shift = kRequantMaxShift;
    mult = std::llround(std::ldexp(real, kRequantMaxShift));
  }
  return Requant{static_cast<int32_t>(mult), shift};
}

uint32_t SoftmaxExponent(int32_t max_score, int32_t score, Requant rq) {
  const int64_t x = RoundShift((int64_t{max_score} - score) * rq.mult, rq.shift);
  return static_cast<uint32_t>(std::clamp<int64_t>(x, 0, std::numeric_limits<uint32_t>::max()));
}

uint32_t SoftmaxExp(uint32_t x) {
  const uint32_t int_part = x >> kSoftmaxFracBits;
  if (int_part > kSoftmaxExpBits) return 0;  // every LUT entry shifts out
  return kSoftmaxExp2Lut[x & (kSoftmaxLutSize - 1)] >> int_part;
}

// The maximum score contributes 2^15, so IntSoftmax never passes 0; treating 0 as 1 keeps
// the function total for direct callers.
uint32_t SoftmaxRecip(uint32_t sum) {
  return static_cast<uint32_t>((uint64_t{1} << kSoftmaxRecipBits) / std::max<uint32_t>(sum, 1));
}

uint8_t SoftmaxProb(uint32_t e, uint32_t recip) {
  const int64_t p = RoundShift(int64_t{e} * recip, kSoftmaxRecipBits - kSoftmaxProbBits);
  return static_cast<uint8_t>(std::min<int64_t>(p, 255));
}

void IntSoftmax(const int32_t* scores, int n, Requant rq, uint8_t* prob) {
  const int32_t max_score = *std::max_element(scores, scores + n);
  std::vector<uint32_t> e(n);
  uint32_t sum = 0;
  for (int j = 0; j < n; ++j) {
    e[j] = SoftmaxExp(SoftmaxExponent(max_score, scores[j], rq));
    sum += e[j];
  }
  const uint32_t recip = SoftmaxRecip(sum);
  for (int j = 0; j < n; ++j) prob[j] = SoftmaxProb(e[j], recip);
}

// Digit-by-digit (two bits per step) square root: exact over the whole uint64 range,
// which a double sqrt is not.
uint64_t Isqrt(uint64_t v) {
  uint64_t root = 0;
  uint64_t bit = uint64_t{1} << 62;
  while (bit > v) bit >>= 2;
  while (bit != 0) {
    if (v >= root + bit) {
      v -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return root;
}

int16_t ResidualAdd(int8_t a, int8_t b, ResidualScale rs) {
  return static_cast<int16_t>(
      RoundShift(int64_t{a} * rs.mult_a + int64_t{b} * rs.mult_b, kResidualShift));
}

ResidualScale QuantizeResidual(double s_a, double s_b) {
  if (!(s_a > 0.0) || !(s_b > 0.0)) {
    throw std::invalid_argument("QuantizeResidual: scales must be positive");
  }
  const double s_r = std::ldexp(std::max(s_a, s_b), -kResidualFracBits);
  const auto mult = [&](double s) {
    return static_cast<int32_t>(std::llround(std::ldexp(s / s_r, kResidualShift)));
  };
  return {mult(s_a), mult(s_b)};
}

void IntLayerNorm(const int16_t* r, int d, const LnParams& ln, int8_t* y) {
  // sum(c_i^2) / d = d sum(r^2) - sum(r)^2 exactly; with |r| < 2^15 and d <= 2^16 every
  // term fits int64.
  int64_t sum = 0;
  int64_t sum_sq = 0;
  for (int i = 0; i < d; ++i) {
    sum += r[i];
    sum_sq += int64_t{r[i]} * r[i];
  }
  const uint64_t var = static_cast<uint64_t>(sum_sq * d - sum * sum);
  const uint64_t s = std::max<uint64_t>(1, Isqrt(var));
  const int64_t inv = static_cast<int64_t>((uint64_t{1} << kLnRecipBits) / s);
  for (int i = 0; i < d; ++i) {
    const int64_t c = int64_t{r[i]} * d - sum;
    const int64_t n = RoundShift(c * inv, kLnRecipBits - kLnFracBits);
    y[i] = Requantize(n * ln.gamma[i] + ln.beta[i], ln.rq);
  }
}

double Gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

GeluLut BuildGeluLut(float in_scale, float out_scale) {
  GeluLut lut{};
  for (int i = 0; i < 256; ++i) {
    // Clamped before llround, which is undefined outside the int64 range; saturation to
    // int8 gives the same result.
    const double q = std::clamp(Gelu((i - 128) * double{in_scale}) / out_scale, -256.0, 256.0);
    lut[i] = SaturateInt8(std::llround(q));
  }
  return lut;
}

}  // namespace esact
