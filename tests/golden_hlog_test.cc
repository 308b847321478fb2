// HLog encode/decode, products and the shift-add dot product against the definition.
#include <gtest/gtest.h>

#include <bitset>
#include <cstdlib>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "golden/hlog.h"

namespace esact {
namespace {

// Magnitudes of the n-bit level set straight from the brief's definition:
// {0} U 2^(8-n) * {1, 2, 3, 4, 6, ..., 2^(n-2), 3 * 2^(n-3), 2^(n-1)}.
std::set<int> DefinedLevels(int bits) {
  std::set<int> levels = {0};
  const int scale = 1 << (kHlogMaxBits - bits);
  for (int p = 0; p <= bits - 1; ++p) {
    levels.insert(scale << p);
    if (p >= 1 && p <= bits - 2) levels.insert(scale * 3 << (p - 1));
  }
  return levels;
}

class HlogBitsTest : public ::testing::TestWithParam<int> {};

TEST_P(HlogBitsTest, LevelSetEqualsDefinition) {
  const int bits = GetParam();
  for (HlogRound round : {HlogRound::kTowardZero, HlogRound::kNearest}) {
    std::set<int> seen;
    for (int v = -128; v <= 128; ++v) seen.insert(std::abs(HlogDecode(HlogEncode(v, bits, round))));
    EXPECT_EQ(seen, DefinedLevels(bits)) << "bits " << bits << " round " << int(round);
  }
  EXPECT_EQ(DefinedLevels(8),
            (std::set<int>{0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128}));
}

TEST_P(HlogBitsTest, RoundingPicksTheRightLevel) {
  const int bits = GetParam();
  const std::set<int> levels = DefinedLevels(bits);
  for (int v = -128; v <= 128; ++v) {
    const int m = std::abs(v);
    const int tz = HlogDecode(HlogEncode(v, bits, HlogRound::kTowardZero));
    const int nr = HlogDecode(HlogEncode(v, bits, HlogRound::kNearest));
    // Signs follow the input (zero has no sign).
    EXPECT_GE(tz * v, 0) << v;
    EXPECT_GE(nr * v, 0) << v;
    // Toward zero: the largest level not above |v|.
    const int below = *std::prev(levels.upper_bound(m));
    EXPECT_EQ(std::abs(tz), below) << "v " << v << " bits " << bits;
    // Nearest: no level is closer; on a tie the larger magnitude.
    const auto above_it = levels.lower_bound(m);
    const int above = *above_it;
    const int want = (above - m <= m - below) ? above : below;
    EXPECT_EQ(std::abs(nr), want) << "v " << v << " bits " << bits;
  }
}

INSTANTIATE_TEST_SUITE_P(AllWidths, HlogBitsTest, ::testing::Range(kHlogMinBits, kHlogMaxBits + 1));

TEST(Hlog, FiveBitCodeLayout) {
  EXPECT_EQ(HlogEncode(0, 8, HlogRound::kTowardZero), kHlogZero);
  EXPECT_EQ(HlogEncode(1, 8, HlogRound::kTowardZero), 0x00);     // e = 0, h = 0
  EXPECT_EQ(HlogEncode(-128, 8, HlogRound::kTowardZero), 0x1E);  // sign, e = 7
  EXPECT_EQ(HlogEncode(100, 8, HlogRound::kTowardZero), 0x0D);   // 96: e = 6, h = 1
  EXPECT_EQ(HlogEncode(-7, 8, HlogRound::kNearest), 0x16);       // -8 (tie 6 / 8 goes up)
  EXPECT_EQ(HlogDecode(0x11), 0);  // the negative zero code still decodes to zero
  // Distinct levels have distinct codes.
  std::set<int> codes;
  for (int v = -128; v <= 128; ++v) {
    const HlogCode c = HlogEncode(v, 8, HlogRound::kTowardZero);
    EXPECT_LT(c, 1 << kHlogCodeBits);
    codes.insert(c);
  }
  EXPECT_EQ(codes.size(), 29u);  // 14 positive, 14 negative, zero
}

TEST(Hlog, RejectsBadArguments) {
  EXPECT_THROW(HlogEncode(129, 8, HlogRound::kTowardZero), std::invalid_argument);
  EXPECT_THROW(HlogEncode(-129, 8, HlogRound::kTowardZero), std::invalid_argument);
  EXPECT_THROW(HlogEncode(1, 3, HlogRound::kTowardZero), std::invalid_argument);
  EXPECT_THROW(HlogEncode(1, 9, HlogRound::kTowardZero), std::invalid_argument);
}

// HlogDecode accepts exactly the codes HlogEncode can produce for some width, plus 0x11
// (negative zero), and throws on the rest: codes >= 32 and e = 7 with h = 1.
TEST(Hlog, DecodeRejectsCodesNeverProduced) {
  std::set<int> produced;
  for (int bits = kHlogMinBits; bits <= kHlogMaxBits; ++bits) {
    for (HlogRound round : {HlogRound::kTowardZero, HlogRound::kNearest}) {
      for (int v = -128; v <= 128; ++v) produced.insert(HlogEncode(v, bits, round));
    }
  }
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<HlogCode>(code);
    EXPECT_EQ(HlogNeverProduced(c), code >= 32 || code == 0x0F || code == 0x1F) << code;
    if (code < 32 && code != 0x0F && code != 0x1F) {
      EXPECT_NO_THROW(HlogDecode(c)) << code;
      EXPECT_TRUE(produced.count(code) || code == 0x11) << code;
    } else {
      EXPECT_THROW(HlogDecode(c), std::invalid_argument) << code;
      EXPECT_EQ(produced.count(code), 0u) << code;
    }
  }
  EXPECT_EQ(HlogDecode(0x11), 0);
  EXPECT_EQ(HlogDecode(0x0E), 128);
  EXPECT_EQ(HlogDecode(0x1E), -128);
  // The product and the dot product decode their operands, so they reject them too.
  EXPECT_THROW(HlogMultiply(0x0F, 0x02), std::invalid_argument);
  EXPECT_THROW(HlogMultiply(0x02, 0x1F), std::invalid_argument);
  const HlogCode bad[] = {0x02, 0x20};
  const HlogCode one[] = {0x00, 0x00};
  EXPECT_THROW(HlogDot(bad, 1, one, 1, 2), std::invalid_argument);
}

TEST(Hlog, ProductHasAtMostTwoSetBits) {
  std::vector<HlogCode> codes;
  for (int v = -128; v <= 128; ++v) codes.push_back(HlogEncode(v, 8, HlogRound::kTowardZero));
  for (HlogCode a : codes) {
    for (HlogCode b : codes) {
      const HlogProduct p = HlogMultiply(a, b);
      const int32_t value = HlogProductValue(p);
      EXPECT_EQ(value, HlogDecode(a) * HlogDecode(b)) << int(a) << " x " << int(b);
      EXPECT_LE(std::bitset<32>(std::abs(value)).count(), 2u);
      EXPECT_LE(p.n_terms, 2);
    }
  }
}

// The product table is the shift-add rule, entry by entry, over every pair of 5-bit codes;
// pairs with a code HlogDecode rejects hold 0.
TEST(Hlog, ProductTableEqualsTheShiftAddRule) {
  const HlogProductTable& table = HlogProductValues();
  for (int a = 0; a < kHlogNumCodes; ++a) {
    for (int b = 0; b < kHlogNumCodes; ++b) {
      const auto ca = static_cast<HlogCode>(a);
      const auto cb = static_cast<HlogCode>(b);
      if (HlogNeverProduced(ca) || HlogNeverProduced(cb)) {
        EXPECT_EQ(table[a][b], 0) << a << " x " << b;
        EXPECT_THROW(HlogMultiply(ca, cb), std::invalid_argument) << a << " x " << b;
      } else {
        EXPECT_EQ(table[a][b], HlogProductValue(HlogMultiply(ca, cb))) << a << " x " << b;
      }
    }
  }
}

TEST(Hlog, ShiftAddDotEqualsExactDot) {
  const uint64_t seed = 20261128;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> val(-128, 127);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + trial % 97;
    const int bits = kHlogMinBits + trial % 5;
    std::vector<HlogCode> a(n), b(2 * n);
    for (int i = 0; i < n; ++i) {
      a[i] = HlogEncode(val(rng), bits, HlogRound::kNearest);
      b[2 * i] = HlogEncode(val(rng), bits, HlogRound::kTowardZero);
      b[2 * i + 1] = kHlogZero;
    }
    int64_t exact = 0;
    for (int i = 0; i < n; ++i) exact += int64_t{HlogDecode(a[i])} * HlogDecode(b[2 * i]);
    ASSERT_EQ(HlogDot(a.data(), 1, b.data(), 2, n), exact) << "seed " << seed << " trial " << trial;
  }
}

}  // namespace
}  // namespace esact
