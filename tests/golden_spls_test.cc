// SPLS prediction, Top-k and local-similarity reuse against their definitions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "golden/layer.h"
#include "golden/report.h"
#include "golden/spls.h"

namespace esact {
namespace {

// Sort-based reference: stable sort by descending score keeps the lower column first on
// ties; the first k, returned ascending.
IndexSet SortTopK(const std::vector<int32_t>& row, int n_valid, int k) {
  IndexSet idx(n_valid);
  for (int j = 0; j < n_valid; ++j) idx[j] = j;
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return row[a] > row[b]; });
  idx.resize(std::min(k, n_valid));
  std::sort(idx.begin(), idx.end());
  return idx;
}

TEST(TopK, EqualsSortReferenceIncludingTies) {
  const uint64_t seed = 7;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = 1 + trial % 40;
    const int n_valid = 1 + static_cast<int>(rng() % n);
    const int k = 1 + static_cast<int>(rng() % (n + 2));   // also k > n_valid
    const int range = trial % 3 == 0 ? 1 : 1 + trial % 7;  // range 1: all scores equal
    std::vector<int32_t> row(n);
    for (int32_t& s : row) s = static_cast<int32_t>(rng() % range) - range / 2;
    const IndexSet got = TopKRow(row.data(), n_valid, k);
    ASSERT_EQ(got, SortTopK(row, n_valid, k)) << "seed " << seed << " trial " << trial;
    for (int j : got) ASSERT_LT(j, n_valid) << "padded column selected";
  }
}

TEST(TopK, AllEqualScoresPickTheLowestColumns) {
  const std::vector<int32_t> row(10, 5);
  EXPECT_EQ(TopKRow(row.data(), 10, 3), (IndexSet{0, 1, 2}));
  EXPECT_EQ(TopKRow(row.data(), 1, 3), (IndexSet{0}));
}

TEST(TopK, RejectsBadArguments) {
  const std::vector<int32_t> row(4, 1);
  EXPECT_THROW(TopKRow(row.data(), 4, 0), std::invalid_argument);
  EXPECT_THROW(TopKRow(row.data(), 4, -3), std::invalid_argument);
  EXPECT_THROW(TopKRow(row.data(), -1, 2), std::invalid_argument);
  EXPECT_EQ(TopKRow(row.data(), 0, 2), IndexSet{});  // every column padded: nothing to pick
}

TEST(Overlap, CountsCommonIndices) {
  EXPECT_EQ(Overlap({0, 2, 4, 6}, {1, 2, 3, 6, 9}), 2);
  EXPECT_EQ(Overlap({}, {1}), 0);
}

// Every property the reuse rule (D4, D5) promises, checked on one head.
void CheckReuse(const std::vector<IndexSet>& spa, const std::vector<int>& reuse, int n_valid, int w,
                int t) {
  for (int i = 0; i < n_valid; ++i) {
    const int a = reuse[i];
    ASSERT_GE(a, 0);
    ASSERT_LE(a, i);
    if (a != i) {
      ASSERT_EQ(reuse[a], a) << "row " << i << " chains through " << a;
      ASSERT_GE(a, i - w) << "row " << i << " outside the window";
      ASSERT_GE(Overlap(spa[i], spa[a]), t);
    }
    // No anchor in the window is better than the choice, nor equal and nearer.
    const int chosen = a != i ? Overlap(spa[i], spa[a]) : t - 1;
    for (int j = std::max(0, i - w); j < i; ++j) {
      if (reuse[j] != j || j == a) continue;
      const int ov = Overlap(spa[i], spa[j]);
      ASSERT_TRUE(ov < t || ov < chosen || (ov == chosen && j < a))
          << "row " << i << " should take " << j << " over " << a;
    }
  }
  for (size_t i = n_valid; i < reuse.size(); ++i) ASSERT_EQ(reuse[i], -1);
}

std::vector<IndexSet> RandomSpa(std::mt19937_64& rng, int n, int n_valid, int k, int range) {
  std::vector<IndexSet> spa(n);
  for (int i = 0; i < n_valid; ++i) {
    std::vector<int32_t> row(n_valid);
    for (int32_t& s : row) s = static_cast<int32_t>(rng() % range);
    spa[i] = TopKRow(row.data(), n_valid, k);
  }
  return spa;
}

TEST(Reuse, RandomSetsKeepEveryRule) {
  const uint64_t seed = 11;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 500; ++trial) {
    const int n = 1 + trial % 24;
    const int n_valid = 1 + static_cast<int>(rng() % n);
    const int k = 1 + static_cast<int>(rng() % n_valid);
    const int w = static_cast<int>(rng() % 5);
    const int t = static_cast<int>(rng() % (k + 2));
    const std::vector<IndexSet> spa = RandomSpa(rng, n, n_valid, k, 1 + trial % 4);
    const std::vector<int> reuse = ReuseMap(spa, n_valid, w, t);
    SCOPED_TRACE(testing::Message() << "seed " << seed << " trial " << trial);
    CheckReuse(spa, reuse, n_valid, w, t);
    const std::vector<uint8_t> needed = NeededKv(spa, reuse, n);
    for (int j = 0; j < n; ++j) {
      bool want = false;
      for (int i = 0; i < n_valid; ++i) {
        if (reuse[i] == i) want = want || std::count(spa[i].begin(), spa[i].end(), j) > 0;
      }
      ASSERT_EQ(needed[j] != 0, want) << "column " << j;
    }
  }
}

TEST(Reuse, EdgeCases) {
  const std::vector<IndexSet> same(6, IndexSet{1, 2});
  // w = 0: no reuse at all.
  EXPECT_EQ(ReuseMap(same, 6, 0, 0), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  // t > k: no reuse at all.
  EXPECT_EQ(ReuseMap(same, 6, 2, 3), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  // Identical sets, w = 2: anchors every third row, never chained.
  EXPECT_EQ(ReuseMap(same, 6, 2, 2), (std::vector<int>{0, 0, 0, 3, 3, 3}));
  // Best overlap beats the nearer row; ties go to the nearer row.
  const std::vector<IndexSet> spa = {{0, 1, 2}, {5, 6, 7}, {0, 1, 7}, {0, 6, 7}};
  EXPECT_EQ(ReuseMap(spa, 4, 2, 1), (std::vector<int>{0, 1, 0, 1}));
  const std::vector<IndexSet> spa2 = {{0, 1, 2}, {5, 6, 7}, {0, 6, 9}};
  EXPECT_EQ(ReuseMap(spa2, 3, 2, 1), (std::vector<int>{0, 1, 1}));
  // t = 0 reuses any anchor in the window.
  EXPECT_EQ(ReuseMap(spa2, 3, 1, 0), (std::vector<int>{0, 0, 2}));
}

TEST(Reuse, TokenAnchorsNeedTheSameAnchorInEveryHead) {
  HeadDecision a, b;
  a.reuse = {0, 0, 0, 3, -1};
  b.reuse = {0, 0, 1, 3, -1};
  const std::vector<int> tok = TokenAnchors({a, b}, 5, 4);
  EXPECT_EQ(tok, (std::vector<int>{0, 0, 2, 3, -1}));
}

TEST(Predict, RequantRejectsShiftsOutsideTheRange) {
  EXPECT_THROW(PredictRequant(1000, -1, 8, HlogRound::kTowardZero), std::invalid_argument);
  EXPECT_THROW(PredictRequant(1000, kPredMaxShift + 1, 8, HlogRound::kTowardZero),
               std::invalid_argument);
  EXPECT_EQ(PredictRequant(-(1 << 30), kPredMaxShift, 8, HlogRound::kNearest),
            HlogEncode(0, 8, HlogRound::kNearest));
  EXPECT_EQ(PredictRequant(INT32_MIN, kPredMaxShift, 8, HlogRound::kTowardZero),
            HlogEncode(-1, 8, HlogRound::kTowardZero));
}

TEST(Predict, RequantShiftsAndSaturates) {
  EXPECT_EQ(PredictRequant(1000, 3, 8, HlogRound::kTowardZero),
            HlogEncode(96, 8, HlogRound::kTowardZero));
  EXPECT_EQ(PredictRequant(-1000, 3, 8, HlogRound::kTowardZero),
            HlogEncode(-96, 8, HlogRound::kTowardZero));
  EXPECT_EQ(PredictRequant(1 << 20, 2, 8, HlogRound::kNearest),
            HlogEncode(128, 8, HlogRound::kNearest));
  EXPECT_EQ(PredictRequant(-7, 0, 8, HlogRound::kNearest), HlogEncode(-7, 8, HlogRound::kNearest));
}

TEST(Predict, HlogQuantMatrixEncodesEveryElement) {
  Matrix<int8_t> m(16, 16);  // every int8 value once
  for (int v = -128; v <= 127; ++v) m.data[v + 128] = static_cast<int8_t>(v);
  for (int bits = kHlogMinBits; bits <= kHlogMaxBits; ++bits) {
    for (HlogRound round : {HlogRound::kTowardZero, HlogRound::kNearest}) {
      const Matrix<HlogCode> q = HlogQuantMatrix(m, bits, round);
      ASSERT_EQ(q.rows, m.rows);
      ASSERT_EQ(q.cols, m.cols);
      for (size_t i = 0; i < m.data.size(); ++i) {
        ASSERT_EQ(q.data[i], HlogEncode(m.data[i], bits, round))
            << "bits " << bits << " v " << int{m.data[i]};
      }
    }
  }
  EXPECT_THROW(HlogQuantMatrix(m, kHlogMaxBits + 1, HlogRound::kTowardZero), std::invalid_argument);
}

// A code matrix for the projection and PAM checks: HLog of random int8 values at a random
// width and rounding, or, with kind 1, any code HlogDecode accepts (also negative zero,
// 0x11, which no encoder produces).
Matrix<HlogCode> RandomCodes(int rows, int cols, int kind, std::mt19937_64& rng) {
  Matrix<HlogCode> m(rows, cols);
  const int bits = kHlogMinBits + static_cast<int>(rng() % (kHlogMaxBits - kHlogMinBits + 1));
  const HlogRound round = rng() % 2 ? HlogRound::kNearest : HlogRound::kTowardZero;
  for (HlogCode& c : m.data) {
    if (kind == 1) {
      do {
        c = static_cast<HlogCode>(rng() % kHlogNumCodes);
      } while (HlogNeverProduced(c));
    } else {
      c = HlogEncode(static_cast<int8_t>(rng()), bits, round);
    }
  }
  return m;
}

// PredictProject and PredictPam (which look products up in HlogProductValues) against
// their definition evaluated straight with HlogDot.
TEST(Predict, ProjectAndPamEqualHlogDot) {
  const uint64_t seed = 20260611;
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE(testing::Message() << "seed " << seed << " trial " << trial);
    const int n = 1 + static_cast<int>(rng() % 12);
    const int n_valid = static_cast<int>(rng() % (n + 1));
    const int d_head = 1 + static_cast<int>(rng() % 9);
    const int heads = 1 + static_cast<int>(rng() % 4);
    const int d = d_head * heads;
    const int kind = trial % 2;
    const Matrix<HlogCode> x_hat = RandomCodes(n, d, kind, rng);
    const Matrix<HlogCode> w_hat = RandomCodes(d, d, kind, rng);
    const Matrix<int32_t> proj = PredictProject(x_hat, w_hat, n_valid);
    ASSERT_EQ(proj.rows, n);
    ASSERT_EQ(proj.cols, d);
    for (int i = 0; i < n; ++i) {
      for (int c = 0; c < d; ++c) {
        const int32_t want = i < n_valid ? HlogDot(x_hat.row(i), 1, &w_hat.at(0, c), d, d) : 0;
        ASSERT_EQ(proj.at(i, c), want) << "row " << i << " column " << c;
      }
    }
    const Matrix<HlogCode> q_hat = RandomCodes(n, d, kind, rng);
    const Matrix<HlogCode> k_hat = RandomCodes(n, d, kind, rng);
    for (int h = 0; h < heads; ++h) {
      const Matrix<int32_t> pam = PredictPam(q_hat, k_hat, h, d_head, n_valid);
      ASSERT_EQ(pam.rows, n);
      ASSERT_EQ(pam.cols, n);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          const int32_t want =
              i < n_valid && j < n_valid
                  ? HlogDot(q_hat.row(i) + h * d_head, 1, k_hat.row(j) + h * d_head, 1, d_head)
                  : 0;
          ASSERT_EQ(pam.at(i, j), want) << "head " << h << " (" << i << ", " << j << ")";
        }
      }
    }
  }
}

// Like HlogDot, the projection and the PAM reject codes HlogDecode rejects, in the
// operands they use.
TEST(Predict, ProjectAndPamRejectCodesNeverProduced) {
  const Matrix<HlogCode> ones(4, 4, HlogEncode(1, 8, HlogRound::kTowardZero));
  for (HlogCode bad : {HlogCode{0x0F}, HlogCode{0x1F}, HlogCode{0x20}, HlogCode{0xFF}}) {
    SCOPED_TRACE(testing::Message() << "code " << int{bad});
    Matrix<HlogCode> m = ones;
    m.at(2, 3) = bad;
    EXPECT_THROW(PredictProject(m, ones, 3), std::invalid_argument);
    EXPECT_THROW(PredictProject(ones, m, 1), std::invalid_argument);
    EXPECT_NO_THROW(PredictProject(m, ones, 2));  // row 2 is padded: not used
    EXPECT_THROW(PredictPam(m, ones, 1, 2, 3), std::invalid_argument);
    EXPECT_THROW(PredictPam(ones, m, 1, 2, 3), std::invalid_argument);
    EXPECT_NO_THROW(PredictPam(m, ones, 0, 2, 4));  // column 3 is in the other head
  }
}

// q_shift != k_shift in every case, so that Predict swapping them is seen.
struct PredictCase {
  int n_tokens, n_valid, d_model, n_heads, bits, k, w;
  HlogRound round;
  int q_shift, k_shift;
};

void PrintTo(const PredictCase& c, std::ostream* os) {
  *os << "n_tokens " << c.n_tokens << " n_valid " << c.n_valid << " d " << c.d_model << " heads "
      << c.n_heads << " bits " << c.bits << " k " << c.k << " w " << c.w
      << (c.round == HlogRound::kNearest ? " nearest" : " toward zero") << " shifts " << c.q_shift
      << "/" << c.k_shift;
}

class PredictTest : public ::testing::TestWithParam<PredictCase> {};

TEST_P(PredictTest, DecisionsAreConsistent) {
  const PredictCase c = GetParam();
  const uint64_t seed = 1000 + c.n_tokens * 7 + c.bits;
  std::mt19937_64 rng(seed);
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  Matrix<int8_t> x(c.n_tokens, c.d_model), wq(c.d_model, c.d_model), wk(c.d_model, c.d_model);
  for (auto* m : {&x, &wq, &wk}) {
    for (int8_t& v : m->data) v = static_cast<int8_t>(rng());
  }
  for (int i = c.n_valid; i < c.n_tokens; ++i) {
    for (int j = 0; j < c.d_model; ++j) x.at(i, j) = 0;
  }
  SplsConfig cfg;
  cfg.hlog_bits = c.bits;
  cfg.round = c.round;
  cfg.k = c.k;
  cfg.w = c.w;
  cfg.t = DefaultThreshold(c.k);
  PredictorWeights pw{HlogQuantMatrix(wq, c.bits, c.round),
                      HlogQuantMatrix(wk, c.bits, c.round),
                      c.q_shift,
                      c.k_shift,
                      {},
                      {}};
  const SplsDecision d = Predict(x, c.n_valid, c.n_heads, pw, cfg);
  ASSERT_EQ(d.heads.size(), static_cast<size_t>(c.n_heads));
  const int dh = c.d_model / c.n_heads;
  const Matrix<HlogCode> x_hat = HlogQuantMatrix(x, c.bits, c.round);
  const Matrix<HlogCode> q_hat = PredictRequantMatrix(PredictProject(x_hat, pw.w_q_hat, c.n_valid),
                                                      c.q_shift, c.bits, c.round);
  const Matrix<HlogCode> k_hat = PredictRequantMatrix(PredictProject(x_hat, pw.w_k_hat, c.n_valid),
                                                      c.k_shift, c.bits, c.round);
  for (int h = 0; h < c.n_heads; ++h) {
    const HeadDecision& hd = d.heads[h];
    const Matrix<int32_t> pam = PredictPam(q_hat, k_hat, h, dh, c.n_valid);
    for (int i = 0; i < c.n_valid; ++i) {
      // The shift-add PAM equals the exact dot of the decoded HLog values.
      for (int j = 0; j < c.n_valid; ++j) {
        int64_t exact = 0;
        for (int e = 0; e < dh; ++e) {
          exact +=
              int64_t{HlogDecode(q_hat.at(i, h * dh + e))} * HlogDecode(k_hat.at(j, h * dh + e));
        }
        ASSERT_EQ(pam.at(i, j), exact);
      }
      const std::vector<int32_t> row(pam.row(i), pam.row(i) + c.n_tokens);
      ASSERT_EQ(hd.spa[i], SortTopK(row, c.n_valid, c.k)) << "head " << h << " row " << i;
    }
    for (int i = c.n_valid; i < c.n_tokens; ++i) ASSERT_TRUE(hd.spa[i].empty());
    CheckReuse(hd.spa, hd.reuse, c.n_valid, cfg.w, cfg.t);
    for (int j = c.n_valid; j < c.n_tokens; ++j) ASSERT_EQ(hd.needed_kv[j], 0) << "padded column";
  }
  // D6 both ways: token i reuses a iff every head maps i to the same a != i.
  for (int i = 0; i < c.n_valid; ++i) {
    const int a = d.token_anchor[i];
    if (a != i) {
      for (const HeadDecision& hd : d.heads) ASSERT_EQ(hd.reuse[i], a) << "token " << i;
    }
    const int a0 = d.heads[0].reuse[i];
    const bool all_same = std::all_of(d.heads.begin(), d.heads.end(),
                                      [&](const HeadDecision& hd) { return hd.reuse[i] == a0; });
    if (all_same && a0 != i) {
      ASSERT_EQ(a, a0) << "token " << i << " reuses " << a0 << " in every head";
      RecordProperty("token_reuse", "exercised");
    }
  }
  for (int i = c.n_valid; i < c.n_tokens; ++i) ASSERT_EQ(d.token_anchor[i], -1);
}

constexpr HlogRound kZ = HlogRound::kTowardZero;
constexpr HlogRound kN = HlogRound::kNearest;

INSTANTIATE_TEST_SUITE_P(Shapes, PredictTest,
                         ::testing::Values(PredictCase{16, 16, 32, 2, 8, 2, 2, kZ, 8, 11},
                                           PredictCase{16, 16, 32, 2, 8, 2, 2, kN, 11, 8},
                                           PredictCase{16, 11, 32, 4, 6, 3, 2, kN, 9, 7},
                                           PredictCase{9, 1, 16, 2, 4, 1, 2, kZ, 6, 9},
                                           PredictCase{12, 12, 24, 3, 8, 12, 3, kN, 10, 7},
                                           PredictCase{10, 2, 16, 1, 5, 1, 0, kZ, 7, 5},
                                           PredictCase{16, 16, 32, 1, 7, 8, 2, kN, 7, 10},
                                           PredictCase{16, 14, 16, 1, 8, 6, 3, kZ, 10, 6}));

// Every argument rule of Predict (spls.h).
TEST(Predict, RejectsBadArguments) {
  const int n = 6;
  const int d = 8;
  std::mt19937_64 rng(5);
  Matrix<int8_t> x(n, d), w(d, d);
  for (int8_t& v : x.data) v = static_cast<int8_t>(rng());
  for (int8_t& v : w.data) v = static_cast<int8_t>(rng());
  const SplsConfig good_cfg = DefaultSplsConfig(n);
  const PredictorWeights good_w{HlogQuantMatrix(w, 8, HlogRound::kTowardZero),
                                HlogQuantMatrix(w, 8, HlogRound::kTowardZero),
                                9,
                                9,
                                {},
                                {}};
  ASSERT_NO_THROW(Predict(x, n, 2, good_w, good_cfg));
  ASSERT_NO_THROW(Predict(x, 0, 2, good_w, good_cfg));  // nothing valid: an empty decision

  const auto throws = [&](int n_valid, int n_heads, const PredictorWeights& pw,
                          const SplsConfig& cfg, const std::string& what) {
    try {
      Predict(x, n_valid, n_heads, pw, cfg);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("Predict: "), std::string::npos) << e.what();
    }
  };
  const std::vector<std::pair<std::string, std::function<void(SplsConfig&)>>> cfg_spoils = {
      {"hlog_bits 3", [](SplsConfig& c) { c.hlog_bits = 3; }},
      {"hlog_bits 9", [](SplsConfig& c) { c.hlog_bits = 9; }},
      {"k 0", [](SplsConfig& c) { c.k = 0; }},
      {"w -1", [](SplsConfig& c) { c.w = -1; }},
      {"t -1", [](SplsConfig& c) { c.t = -1; }},
  };
  for (const auto& [what, spoil] : cfg_spoils) {
    SplsConfig cfg = good_cfg;
    spoil(cfg);
    throws(n, 2, good_w, cfg, what);
    cfg.enabled = false;  // Predict does not look at enabled
    throws(n, 2, good_w, cfg, what + " (disabled)");
  }
  throws(n, 0, good_w, good_cfg, "n_heads 0");
  throws(n, 3, good_w, good_cfg, "n_heads 3 does not divide 8");
  throws(-1, 2, good_w, good_cfg, "n_valid -1");
  throws(n + 1, 2, good_w, good_cfg, "n_valid > n_tokens");
  const std::vector<std::pair<std::string, std::function<void(PredictorWeights&)>>> w_spoils = {
      {"w_q_hat 8x7", [](PredictorWeights& p) { p.w_q_hat = Matrix<HlogCode>(d, d - 1); }},
      {"w_k_hat 7x8", [](PredictorWeights& p) { p.w_k_hat = Matrix<HlogCode>(d - 1, d); }},
      {"w_k_hat empty", [](PredictorWeights& p) { p.w_k_hat = Matrix<HlogCode>(); }},
      {"q_shift -1", [](PredictorWeights& p) { p.q_shift = -1; }},
      {"q_shift 32", [](PredictorWeights& p) { p.q_shift = kPredMaxShift + 1; }},
      {"k_shift -1", [](PredictorWeights& p) { p.k_shift = -1; }},
      {"k_shift 32", [](PredictorWeights& p) { p.k_shift = kPredMaxShift + 1; }},
      {"q_bias 7 entries", [](PredictorWeights& p) { p.q_bias.assign(d - 1, 0); }},
      {"k_bias above MaxLinearBias",
       [](PredictorWeights& p) {
         p.k_bias.assign(d, 0);
         p.k_bias[3] = static_cast<int32_t>(MaxLinearBias(d) + 1);
       }},
  };
  for (const auto& [what, spoil] : w_spoils) {
    PredictorWeights pw = good_w;
    spoil(pw);
    throws(n, 2, pw, good_cfg, what);
  }
}

// The biases enter Q~ and K~ before the rescale: with x = 0 the projections are the
// biases themselves; a zero bias is no bias.
TEST(Predict, BiasesEnterBeforeTheRescale) {
  const int n = 5;
  const int d = 8;
  std::mt19937_64 rng(31);
  Matrix<int8_t> w(d, d);
  for (int8_t& v : w.data) v = static_cast<int8_t>(rng());
  PredictorWeights pw{HlogQuantMatrix(w, 8, HlogRound::kTowardZero),
                      HlogQuantMatrix(w, 8, HlogRound::kTowardZero),
                      4,
                      7,
                      {},
                      {}};
  for (int c = 0; c < d; ++c) {
    pw.q_bias.push_back(static_cast<int32_t>(rng() % 40001) - 20000);
    pw.k_bias.push_back(static_cast<int32_t>(rng() % 40001) - 20000);
  }
  pw.k_bias[2] = static_cast<int32_t>(MaxLinearBias(d));
  pw.q_bias[5] = static_cast<int32_t>(-MaxLinearBias(d));
  const SplsConfig cfg = DefaultSplsConfig(n);
  const PredictedQk zero_x = PredictQk(Matrix<int8_t>(n, d), n - 1, pw, cfg);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < d; ++c) {
      const bool valid = i < n - 1;
      // Padded rows project to 0 (no bias).
      EXPECT_EQ(zero_x.q_hat.at(i, c),
                PredictRequant(valid ? pw.q_bias[c] : 0, pw.q_shift, cfg.hlog_bits, cfg.round));
      EXPECT_EQ(zero_x.k_hat.at(i, c),
                PredictRequant(valid ? pw.k_bias[c] : 0, pw.k_shift, cfg.hlog_bits, cfg.round));
    }
  }
  Matrix<int8_t> x(n, d);
  for (int8_t& v : x.data) v = static_cast<int8_t>(rng());
  PredictorWeights zero_bias = pw;
  zero_bias.q_bias.assign(d, 0);
  zero_bias.k_bias.assign(d, 0);
  PredictorWeights no_bias = pw;
  no_bias.q_bias.clear();
  no_bias.k_bias.clear();
  const PredictedQk a = PredictQk(x, n, zero_bias, cfg);
  const PredictedQk b = PredictQk(x, n, no_bias, cfg);
  EXPECT_TRUE(a.q_hat == b.q_hat);
  EXPECT_TRUE(a.k_hat == b.k_hat);
  EXPECT_FALSE(PredictQk(x, n, pw, cfg).k_hat == b.k_hat);
}

TEST(Predict, IdenticalTokensReuseAcrossAllHeads) {
  Matrix<int8_t> x(8, 16), wq(16, 16), wk(16, 16);
  std::mt19937_64 rng(3);
  for (int8_t& v : wq.data) v = static_cast<int8_t>(rng());
  for (int8_t& v : wk.data) v = static_cast<int8_t>(rng());
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 16; ++j) x.at(i, j) = static_cast<int8_t>(j * 7 - 50);
  }
  SplsConfig cfg;
  cfg.k = 2;
  cfg.w = 2;
  cfg.t = 2;
  PredictorWeights pw{
      HlogQuantMatrix(wq, 8, cfg.round), HlogQuantMatrix(wk, 8, cfg.round), 10, 10, {}, {}};
  const SplsDecision d = Predict(x, 8, 2, pw, cfg);
  EXPECT_EQ(d.token_anchor, (std::vector<int>{0, 0, 0, 3, 3, 3, 6, 6}));
}

TEST(Predict, DenseDecisionSelectsEveryValidColumn) {
  const SplsDecision d = DenseDecision(6, 4, 2);
  for (const HeadDecision& hd : d.heads) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(hd.spa[i], (IndexSet{0, 1, 2, 3}));
      EXPECT_EQ(hd.reuse[i], i);
    }
    EXPECT_EQ(hd.needed_kv, (std::vector<uint8_t>{1, 1, 1, 1, 0, 0}));
  }
  EXPECT_EQ(d.token_anchor, (std::vector<int>{0, 1, 2, 3, -1, -1}));
}

TEST(Defaults, SplsConfigFollowsD3AndD5) {
  for (int n_valid : {1, 8, 9, 77, 128}) {
    const SplsConfig cfg = DefaultSplsConfig(n_valid);
    EXPECT_TRUE(cfg.enabled);
    EXPECT_EQ(cfg.hlog_bits, 8);
    EXPECT_EQ(cfg.round, HlogRound::kTowardZero);
    EXPECT_EQ(cfg.k, DefaultTopK(n_valid)) << n_valid;
    EXPECT_EQ(cfg.w, 2);
    EXPECT_EQ(cfg.t, DefaultThreshold(cfg.k)) << n_valid;
    EXPECT_EQ(cfg.ffn, FfnPolicy::kNone);
  }
  EXPECT_EQ(DefaultSplsConfig(128).k, 16);
  EXPECT_EQ(DefaultSplsConfig(128).t, 12);
}

TEST(Defaults, CheckSplsConfigNamesTheFirstBadKnob) {
  EXPECT_FALSE(CheckSplsConfig(DefaultSplsConfig(16), 16));
  SplsConfig cfg = DefaultSplsConfig(16);
  cfg.k = 17;
  cfg.t = -1;
  const FieldProblem e = CheckSplsConfig(cfg, 16);
  EXPECT_EQ(e.field, "spls.k");
  EXPECT_EQ(e.Message(), "spls.k: 17 out of range [1, 16]");
  cfg.k = 16;
  EXPECT_EQ(CheckSplsConfig(cfg, 16).Message(), "spls.t: -1 is below the minimum 0");
  cfg.enabled = false;  // checked whether or not enabled
  EXPECT_EQ(CheckSplsConfig(cfg, 16).field, "spls.t");
}

TEST(Defaults, TopKAndThreshold) {
  EXPECT_EQ(DefaultTopK(1), 1);
  EXPECT_EQ(DefaultTopK(128), 16);
  EXPECT_EQ(DefaultTopK(129), 17);
  EXPECT_EQ(DefaultThreshold(16), 12);
  EXPECT_EQ(DefaultThreshold(3), 3);
  EXPECT_EQ(DefaultThreshold(1), 1);
}

}  // namespace
}  // namespace esact

namespace esact {
namespace {

TEST(Report, FirstDecisionDifferenceInEngineOrder) {
  const SplsDecision want = DenseDecision(4, 3, 2);
  EXPECT_EQ(FirstDecisionDifference(want, want), "");
  SplsDecision got = want;
  got.token_anchor[2] = 0;
  got.heads[1].needed_kv[1] = 0;
  EXPECT_EQ(FirstDecisionDifference(got, want),
            "first needed-K/V difference: head 1 column 1: got 0, want 1");
  got.heads[0].spa[2] = {0, 2};
  EXPECT_EQ(FirstDecisionDifference(got, want),
            "first SPA difference: head 0 row 2: got {0 2}, want {0 1 2}");
  got = want;
  got.token_anchor[2] = 0;
  EXPECT_EQ(FirstDecisionDifference(got, want),
            "first token-anchor difference: token 2: got 0, want 2");
  got.heads.pop_back();
  EXPECT_EQ(FirstDecisionDifference(got, want), "heads: got 1, want 2");
}

}  // namespace
}  // namespace esact
