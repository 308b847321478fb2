#include "golden/hlog.h"

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace esact {
namespace {

constexpr int kExpMask = (1 << kHlogExpBits) - 1;

constexpr HlogCode MakeCode(bool negative, int exponent, int half) {
  return static_cast<HlogCode>((negative ? 1 << kHlogSignBit : 0) | (exponent << kHlogExpLsb) |
                               (half << kHlogHalfBit));
}
int Exponent(HlogCode c) { return (c >> kHlogExpLsb) & kExpMask; }
int Half(HlogCode c) { return (c >> kHlogHalfBit) & 1; }
bool Negative(HlogCode c) { return (c >> kHlogSignBit) & 1; }

int LeadingOne(int m) {
  int e = 0;
  while ((m >> (e + 1)) != 0) ++e;
  return e;
}

// Out of line, so that the check leaves HlogDecode small enough to inline.
[[noreturn]] void ThrowNeverProduced(HlogCode code) {
  throw std::invalid_argument(fmt::format(
      "HlogDecode: code 0x{:02x} is never produced (5-bit codes, and e = 7 has no half step)",
      code));
}

// Magnitude of a level given by exponent and half bit.
int LevelValue(int e, int h) { return (1 << e) + (h ? (1 << e) >> 1 : 0); }

}  // namespace

HlogCode HlogEncode(int value, int bits, HlogRound round) {
  if (bits < kHlogMinBits || bits > kHlogMaxBits) {
    throw std::invalid_argument("HlogEncode: bits " + std::to_string(bits) + " outside [4, 8]");
  }
  if (value < -kHlogMaxMagnitude || value > kHlogMaxMagnitude) {
    throw std::invalid_argument("HlogEncode: value " + std::to_string(value) +
                                " outside [-128, 128]");
  }
  const bool negative = value < 0;
  const int m = negative ? -value : value;
  const int s = kHlogMaxBits - bits;  // lowest exponent; it carries no half step

  // Toward zero: leading one and the bit below it.
  int e = 0;
  int h = 0;
  int lo = 0;
  if (m >= (1 << s)) {
    e = LeadingOne(m);
    h = e > s ? (m >> (e - 1)) & 1 : 0;
    lo = LevelValue(e, h);
  }
  if (round == HlogRound::kNearest && lo != kHlogMaxMagnitude) {
    int hi_e = 0;
    int hi_h = 0;
    if (lo == 0) {
      hi_e = s;
    } else if (e == s || h == 1) {
      hi_e = e + 1;
    } else {
      hi_e = e;
      hi_h = 1;
    }
    if (2 * m >= lo + LevelValue(hi_e, hi_h)) {
      e = hi_e;
      h = hi_h;
      lo = LevelValue(e, h);
    }
  }
  if (lo == 0) return kHlogZero;
  return MakeCode(negative, e, h);
}

int HlogDecode(HlogCode code) {
  if (HlogNeverProduced(code)) ThrowNeverProduced(code);
  const int e = Exponent(code);
  const int h = Half(code);
  if (e == 0 && h == 1) return 0;
  const int mag = LevelValue(e, h);
  return Negative(code) ? -mag : mag;
}

HlogProduct HlogMultiply(HlogCode a, HlogCode b) {
  HlogProduct p;
  const int va = HlogDecode(a);
  const int vb = HlogDecode(b);
  if (va == 0 || vb == 0) return p;
  p.sign = ((va < 0) != (vb < 0)) ? -1 : 1;
  const int ea = Exponent(a);
  const int eb = Exponent(b);
  const int ha = Half(a);
  const int hb = Half(b);
  const int sum = ea + eb;
  // (1 + ha/2)(1 + hb/2) is 1, 1.5 or 2.25 = 2 + 1/4.
  if (ha && hb) {
    p.n_terms = 2;
    p.shift[0] = sum + 1;
    p.shift[1] = sum - 2;
  } else if (ha || hb) {
    p.n_terms = 2;
    p.shift[0] = sum;
    p.shift[1] = sum - 1;
  } else {
    p.n_terms = 1;
    p.shift[0] = sum;
  }
  return p;
}

int32_t HlogProductValue(const HlogProduct& p) {
  int32_t v = 0;
  for (int i = 0; i < p.n_terms; ++i) v += int32_t{1} << p.shift[i];
  return p.sign * v;
}

int32_t HlogDot(const HlogCode* a, int stride_a, const HlogCode* b, int stride_b, int n) {
  int32_t acc = 0;
  for (int i = 0; i < n; ++i)
    acc += HlogProductValue(HlogMultiply(a[i * stride_a], b[i * stride_b]));
  return acc;
}

const HlogProductTable& HlogProductValues() {
  static const HlogProductTable table = [] {
    HlogProductTable t{};
    for (int a = 0; a < kHlogNumCodes; ++a) {
      for (int b = 0; b < kHlogNumCodes; ++b) {
        if (HlogNeverProduced(a) || HlogNeverProduced(b)) continue;  // stays 0
        t[a][b] = HlogProductValue(HlogMultiply(a, b));
      }
    }
    return t;
  }();
  return table;
}

}  // namespace esact
