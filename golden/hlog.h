// HLog quantization (docs/spls.md, section "HLog").
//
// An HLog value is a signed power of two or the midpoint between two adjacent powers of
// two: a minifloat with a one-bit mantissa. Every bit-width n in [4, 8] shares one 5-bit
// code, so the RTL has one code format:
//
//   code[4]   sign (1 = negative)
//   code[3:1] exponent e: position of the leading one in the int8 magnitude domain
//   code[0]   half bit h
//
//   value = (-1)^sign * (2^e + h * 2^(e-1)),   except e = 0, h = 1, which is zero.
//
// The n-bit level set is {0} U {2^(8-n) * l : l in L_n}, L_n = {1, 2, 3, 4, 6, ..., 2^(n-1)},
// i.e. the lowest exponent 8-n carries no half step and the top level is 128.
#pragma once

#include <array>
#include <cstdint>

namespace esact {

using HlogCode = uint8_t;

enum class HlogRound : uint8_t {
  kTowardZero = 0,  // keep the leading one and the next bit (the brief's D2 default)
  kNearest = 1,     // nearest level, ties to the larger magnitude
};

constexpr int kHlogMinBits = 4;
constexpr int kHlogMaxBits = 8;
constexpr int kHlogCodeBits = 5;
constexpr int kHlogSignBit = 4;
constexpr int kHlogExpLsb = 1;
constexpr int kHlogExpBits = 3;
constexpr int kHlogHalfBit = 0;
constexpr int kHlogMaxMagnitude = 128;  // top level for every n
constexpr HlogCode kHlogZero = 0x01;    // e = 0, h = 1

// Quantizes value in [-128, 128] to the n-bit level set. Throws std::invalid_argument on
// an out-of-range value or bit-width.
HlogCode HlogEncode(int value, int bits, HlogRound round);

// True for a code that HlogEncode never produces for any width: >= 2^kHlogCodeBits, or
// e = 7 with h = 1 (0x0F, 0x1F, which would be +-192).
constexpr bool HlogNeverProduced(HlogCode code) {
  constexpr int kExpMax = (1 << kHlogExpBits) - 1;
  const int e = (code >> kHlogExpLsb) & kExpMax;
  const int h = (code >> kHlogHalfBit) & 1;
  return code >> kHlogCodeBits != 0 || (e == kExpMax && h == 1);
}

// Signed integer value of a code (in the int8 magnitude domain); 0x11 (negative zero)
// decodes to 0. Throws std::invalid_argument on a code HlogNeverProduced names.
int HlogDecode(HlogCode code);

// The product of two HLog values has at most two set bits:
//   (2^a + ha*2^(a-1)) * (2^b + hb*2^(b-1)) = one of
//   2^(a+b),  2^(a+b) + 2^(a+b-1),  2^(a+b+1) + 2^(a+b-2).
struct HlogProduct {
  int sign = 0;     // -1, 0 (a zero operand) or +1
  int n_terms = 0;  // 0, 1 or 2
  int shift[2] = {0, 0};
};

HlogProduct HlogMultiply(HlogCode a, HlogCode b);

// sign * (1 << shift[0] + 1 << shift[1]), the value one shift-add term pair contributes.
int32_t HlogProductValue(const HlogProduct& p);

// Shift-add dot product of two code vectors (a[i * stride_a] . b[i * stride_b]): the
// reference rule of the predictor's products.
int32_t HlogDot(const HlogCode* a, int stride_a, const HlogCode* b, int stride_b, int n);

// Every product value by code pair: table[a][b] = HlogProductValue(HlogMultiply(a, b)),
// and 0 in the rows and columns of the two 5-bit codes HlogNeverProduced names. Built once
// from that rule, so that the predictor's loops (PredictProject, PredictPam) look a
// product up instead of re-deriving it; they reject such codes first, as HlogDot does.
constexpr int kHlogNumCodes = 1 << kHlogCodeBits;
using HlogProductTable = std::array<std::array<int32_t, kHlogNumCodes>, kHlogNumCodes>;
const HlogProductTable& HlogProductValues();

}  // namespace esact
