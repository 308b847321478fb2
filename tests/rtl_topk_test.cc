// esact_topk against the golden TopKRow (golden/spls.h), mask for mask.
//
//   TopKSweep.MatchesGolden
//                    random rows (n 1..NMax, k 1..KMax, pads anywhere, scores from tiny
//                    ranges that force ties up to the full ScoreW range) for each
//                    configuration x input idle pattern x output back-pressure pattern.
//   TopK/<config>.EdgeCases
//                    all scores equal, k = 1, k = KMax, k above the column count, n = 1,
//                    all padded but one, all padded, negative and extreme scores.
//   TopK/<config>.CfgErrorDrains
//                    k = 0 and k > KMax raise cfg_err_o and drain with all-zero masks;
//                    legal and illegal k interleaved row by row.
//   TopK/<config>.CycleBound
//                    without stalls R rows of n scores take at most R*n + 2 cycles and
//                    in_ready_o never drops.
//   TopK/<config>.LatencyAndBackPressure
//                    the mask is valid the cycle after the last score; a full, untaken
//                    output register holds its mask and keeps in_ready_o low.
//   TopK/<config>.ResetMidRow, ConfigMatchesModel
//   TopKGolden.*     the compaction behind GoldenTopKMask against an independent rule.
//   TopK.RowTooLongFailsTheTest, ContractViolationFailsTheTest
//                    the RTL assertions trip, and the harness fails the test.
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vesact_topk_n16_k4.h"
#include "Vesact_topk_n16_k4_esact_topk.h"
#include "Vesact_topk_n32_k8.h"
#include "Vesact_topk_n32_k8_esact_topk.h"
#include "golden/spls.h"
#include "sim/harness.h"
#include "sim/topk_driver.h"

namespace esact {
namespace {

using sim::GoldenTopKMask;
using sim::Harness;
using sim::StallSpec;
using sim::TestSeed;
using sim::TopKConfig;
using sim::TopKDriver;
using sim::TopKRowIn;

// The configurations of rtl/tops.txt, parameters taken from the Verilated models (the
// parameters are `verilator public`); ConfigMatchesModel checks them by behaviour too.
template <class P>
using CfgOf = TopKConfig<P::NMax, P::KMax, P::ScoreW>;
using CfgN16K4 = CfgOf<Vesact_topk_n16_k4_esact_topk>;
using CfgN32K8 = CfgOf<Vesact_topk_n32_k8_esact_topk>;
static_assert(CfgN16K4::kNMax == 16 && CfgN16K4::kKMax == 4, "test names say n16k4");
static_assert(CfgN32K8::kNMax == 32 && CfgN32K8::kKMax == 8, "test names say n32k8");

template <class M, class C>
struct Dut {
  using Model = M;
  using Cfg = C;
};
using DutN16K4 = Dut<Vesact_topk_n16_k4, CfgN16K4>;
using DutN32K8 = Dut<Vesact_topk_n32_k8, CfgN32K8>;

// ---- Stimulus ---------------------------------------------------------------------------

std::string Describe(const TopKRowIn& row) {
  std::ostringstream os;
  os << "k=" << row.k << " n=" << row.n() << " [";
  for (int j = 0; j < row.n(); ++j) {
    os << (j ? " " : "") << row.scores[j] << (row.pad[j] ? "p" : "");
  }
  os << "]";
  return os.str();
}

TopKRowIn MakeRow(std::vector<int32_t> scores, int k, std::vector<uint8_t> pad = {}) {
  TopKRowIn row;
  row.k = k;
  pad.resize(scores.size(), 0);
  row.scores = std::move(scores);
  row.pad = std::move(pad);
  return row;
}

template <class Cfg>
class RowGen {
 public:
  explicit RowGen(uint64_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int64_t Uniform64(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  // A random row: n in 1..NMax (NMax and 1 more often), k in 1..KMax, a random score
  // range, a random padding shape.
  TopKRowIn Random() {
    const int pick_n = Uniform(0, 9);
    const int n = pick_n == 0 ? Cfg::kNMax : pick_n == 1 ? 1 : Uniform(1, Cfg::kNMax);
    return Random(n, Uniform(1, Cfg::kKMax));
  }

  TopKRowIn Random(int n, int k) {
    TopKRowIn row;
    row.k = k;
    const int score_mode = Uniform(0, 3);
    for (int j = 0; j < n; ++j) row.scores.push_back(Score(score_mode));
    row.pad.assign(n, 0);
    switch (Uniform(0, 9)) {
      case 0:
      case 1: {  // a trailing run, as in a padded PAM row
        const int n_valid = Uniform(0, n);
        for (int j = n_valid; j < n; ++j) row.pad[j] = 1;
        break;
      }
      case 2:
      case 3:
      case 4: {  // anywhere
        const int percent = Uniform(10, 60);
        for (int j = 0; j < n; ++j) row.pad[j] = Uniform(0, 99) < percent;
        break;
      }
      case 5: {  // all but one
        row.pad.assign(n, 1);
        row.pad[Uniform(0, n - 1)] = 0;
        break;
      }
      case 6:  // all
        row.pad.assign(n, 1);
        break;
      default:  // none
        break;
    }
    return row;
  }

 private:
  int32_t Score(int mode) {
    switch (mode) {
      case 0:  // ties everywhere
        return Uniform(-1, 1);
      case 1:
        return Uniform(-4, 3);
      case 2:
        return static_cast<int32_t>(Uniform64(Cfg::kScoreMin, Cfg::kScoreMax));
      default: {  // extremes and their neighbours, with some full-range values
        const int64_t picks[] = {Cfg::kScoreMin,     Cfg::kScoreMin + 1, -1, 0, 1,
                                 Cfg::kScoreMax - 1, Cfg::kScoreMax};
        const int i = Uniform(0, 8);
        return static_cast<int32_t>(i < 7 ? picks[i] : Uniform64(Cfg::kScoreMin, Cfg::kScoreMax));
      }
    }
  }

  std::mt19937_64 rng_;
};

template <class Cfg>
std::vector<TopKRowIn> RandomRows(int count, uint64_t seed) {
  RowGen<Cfg> gen(seed);
  std::vector<TopKRowIn> rows;
  for (int i = 0; i < count; ++i) rows.push_back(gen.Random());
  return rows;
}

int TotalBeats(const std::vector<TopKRowIn>& rows) {
  int n = 0;
  for (const TopKRowIn& r : rows) n += r.n();
  return n;
}

// A cycle budget well above what the stall patterns need, that still fails fast.
uint64_t Budget(const std::vector<TopKRowIn>& rows) {
  return 40 * static_cast<uint64_t>(TotalBeats(rows) + rows.size()) + 100;
}

// Compares masks to the golden masks (all zeros for a row under an illegal k).
template <class Cfg>
void ExpectMasks(const std::vector<TopKRowIn>& rows, const std::vector<uint64_t>& got,
                 uint64_t seed) {
  ASSERT_EQ(got.size(), rows.size()) << "masks out vs rows in (seed " << seed << ")";
  int mismatches = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool legal = rows[i].k >= 1 && rows[i].k <= Cfg::kKMax;
    const uint64_t want = legal ? GoldenTopKMask(rows[i]) : 0;
    if (got[i] != want && ++mismatches <= 10) {
      ADD_FAILURE() << "row " << i << " " << Describe(rows[i]) << ": mask 0x" << std::hex << got[i]
                    << ", golden 0x" << want << std::dec << " (seed " << seed << ")";
    }
  }
  EXPECT_EQ(mismatches, 0) << "mismatching masks in total (seed " << seed << ")";
}

// ---- Sweep: configuration x idle pattern x back-pressure --------------------------------

enum class ConfigId { kN16K4, kN32K8 };

struct SweepCase {
  ConfigId cfg;
  StallSpec in_stall;   // idle cycles of the source
  StallSpec out_stall;  // back-pressure of the sink

  std::string Name() const {
    return std::string(cfg == ConfigId::kN16K4 ? "n16k4" : "n32k8") + "_in_" + in_stall.Name() +
           "_out_" + out_stall.Name();
  }
};

void PrintTo(const SweepCase& c, std::ostream* os) { *os << c.Name(); }

std::vector<SweepCase> SweepCases() {
  const StallSpec stalls[] = {StallSpec::None(), StallSpec::Random(0.3), StallSpec::Bursty()};
  std::vector<SweepCase> cases;
  for (ConfigId cfg : {ConfigId::kN16K4, ConfigId::kN32K8}) {
    for (const StallSpec& in_stall : stalls) {
      for (const StallSpec& out_stall : stalls) cases.push_back({cfg, in_stall, out_stall});
    }
  }
  return cases;
}

constexpr int kSweepRows = 600;

template <class D>
void RunSweep(const SweepCase& c, uint64_t seed) {
  using Cfg = typename D::Cfg;
  TopKDriver<typename D::Model, Cfg> bench(seed);
  const std::vector<TopKRowIn> rows = RandomRows<Cfg>(kSweepRows, seed);
  uint64_t cycles = 0;
  bool ready_always = false;
  const std::vector<uint64_t> masks =
      bench.Run(rows, c.in_stall, c.out_stall, seed, Budget(rows), &cycles, &ready_always);
  const uint64_t beats = TotalBeats(rows);
  if (c.in_stall.kind == StallSpec::Kind::kNone && c.out_stall.kind == StallSpec::Kind::kNone) {
    EXPECT_LE(cycles, beats + 2) << "one score per cycle without stalls";
    EXPECT_TRUE(ready_always) << "in_ready_o dropped without back-pressure";
  } else {
    EXPECT_GT(cycles, beats + 2) << "the stall patterns inserted no stall";
  }
  if (c.out_stall.kind != StallSpec::Kind::kNone) {
    EXPECT_FALSE(ready_always) << "back-pressure never reached in_ready_o";
  }
  ExpectMasks<Cfg>(rows, masks, seed);
}

class TopKSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(TopKSweep, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  if (GetParam().cfg == ConfigId::kN16K4) {
    RunSweep<DutN16K4>(GetParam(), seed);
  } else {
    RunSweep<DutN32K8>(GetParam(), seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, TopKSweep, ::testing::ValuesIn(SweepCases()),
                         [](const ::testing::TestParamInfo<SweepCase>& info) {
                           return info.param.Name();
                         });

// ---- Per-configuration tests ------------------------------------------------------------

template <class D>
class TopK : public ::testing::Test {
 protected:
  using Model = typename D::Model;
  using Cfg = typename D::Cfg;
};

struct DutName {
  template <class D>
  static std::string GetName(int) {
    return D::Cfg::kNMax == 16 ? "n16k4" : "n32k8";
  }
};

using Duts = ::testing::Types<DutN16K4, DutN32K8>;
TYPED_TEST_SUITE(TopK, Duts, DutName);

// Edge cases, each row also checked against a hand-written mask where one is obvious.
TYPED_TEST(TopK, EdgeCases) {
  using Cfg = typename TestFixture::Cfg;
  constexpr int kN = Cfg::kNMax;
  constexpr int kK = Cfg::kKMax;
  const int32_t lo = static_cast<int32_t>(Cfg::kScoreMin);
  const int32_t hi = static_cast<int32_t>(Cfg::kScoreMax);
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  static_assert(kK >= 3, "the hand-written masks below assume KMax >= 3");
  const uint64_t first_k = (uint64_t{1} << kK) - 1;

  std::vector<TopKRowIn> rows;
  std::vector<uint64_t> hand;  // expected mask by hand; ~0 for "golden only"
  auto add = [&](TopKRowIn row, uint64_t mask = ~uint64_t{0}) {
    rows.push_back(std::move(row));
    hand.push_back(mask);
  };
  auto iota = [](int n, int32_t start, int32_t step) {
    std::vector<int32_t> v(n);
    for (int j = 0; j < n; ++j) v[j] = start + j * step;
    return v;
  };

  // All scores equal: the lowest columns win.
  add(MakeRow(std::vector<int32_t>(kN, 7), kK), first_k);
  add(MakeRow(std::vector<int32_t>(kN, 7), 1), 1);
  add(MakeRow(std::vector<int32_t>(kN, lo), kK), first_k);
  add(MakeRow(std::vector<int32_t>(kN, hi), kK), first_k);
  // k = 1: the largest, the first of equal largest.
  add(MakeRow(iota(kN, -5, 1), 1), uint64_t{1} << (kN - 1));
  add(MakeRow({3, 9, 2, 9, 9}, 1), 0b10);
  // k = KMax on decreasing and increasing rows.
  add(MakeRow(iota(kN, 100, -3), kK), first_k);
  add(MakeRow(iota(kN, -100, 3), kK), first_k << (kN - kK));
  // Ties at the cut: the earlier columns stay ahead, also when the tie comes late.
  add(MakeRow({3, 5, 5, 5, 5, 5, 5, 5}, 2), 0b110);
  {
    std::vector<int32_t> s(kN, 7);
    s[0] = 9;
    add(MakeRow(s, kK), first_k);
  }
  // k above the number of columns, and above the number of non-padded columns.
  add(MakeRow({4, -4}, kK), 0b11);
  add(MakeRow({-1}, kK), 1);
  add(MakeRow(iota(kK - 1, 1, 1), kK), (uint64_t{1} << (kK - 1)) - 1);
  {
    std::vector<uint8_t> pad(kN, 1);
    pad[kN - 1] = 0;
    add(MakeRow(iota(kN, 0, 1), kK, pad), uint64_t{1} << (kN - 1));
  }
  // n = 1.
  add(MakeRow({hi}, 1), 1);
  add(MakeRow({lo}, kK), 1);
  add(MakeRow({0}, 1, {1}), 0);
  // Every column padded but one (first, middle, last), with the padded ones larger.
  for (int keep : {0, kN / 2, kN - 1}) {
    std::vector<uint8_t> pad(kN, 1);
    pad[keep] = 0;
    std::vector<int32_t> s(kN, hi);
    s[keep] = lo;
    add(MakeRow(s, kK, pad), uint64_t{1} << keep);
  }
  // All padded: empty mask.
  add(MakeRow(std::vector<int32_t>(kN, hi), kK, std::vector<uint8_t>(kN, 1)), 0);
  add(MakeRow(iota(kN, 0, 1), 1, std::vector<uint8_t>(kN, 1)), 0);
  // Negative scores; extremes and their neighbours in every order.
  add(MakeRow(iota(kN, -1, -1), kK), first_k);
  add(MakeRow({lo, hi, lo, hi, 0, -1, hi, lo}, 3), 0b01001010);
  add(MakeRow({lo, lo + 1, -1, 0, 1, hi - 1, hi}, 2), 0b1100000);
  add(MakeRow({hi, hi - 1, 1, 0, -1, lo + 1, lo}, kK), ~uint64_t{0});
  add(MakeRow({-1, lo, 0, lo + 1}, kK), ~uint64_t{0});
  // Pads between equal scores: the column index, not the compacted position, counts.
  add(MakeRow({5, 5, 5, 5, 5, 5}, 2, {1, 0, 1, 0, 0, 1}), 0b1010);
  // The whole row is padded except the trailing part (a padded PAM row, reversed).
  {
    std::vector<uint8_t> pad(kN, 0);
    for (int j = 0; j < kN / 2; ++j) pad[j] = 1;
    add(MakeRow(iota(kN, 50, -1), 1, pad), uint64_t{1} << (kN / 2));
  }
  // All columns, every k from 1 to KMax on a tie-heavy row.
  for (int k = 1; k <= kK; ++k) {
    std::vector<int32_t> s(kN);
    for (int j = 0; j < kN; ++j) s[j] = (j * 5) % 3;
    add(MakeRow(s, k));
  }

  // The hand-written masks agree with the golden model (guards the test itself).
  for (size_t i = 0; i < rows.size(); ++i) {
    if (hand[i] != ~uint64_t{0}) {
      EXPECT_EQ(GoldenTopKMask(rows[i]), hand[i]) << "row " << i << " " << Describe(rows[i]);
    }
  }
  for (const StallSpec& in : {StallSpec::None(), StallSpec::Random(0.3)}) {
    for (const StallSpec& out : {StallSpec::None(), StallSpec::Bursty()}) {
      SCOPED_TRACE("in " + in.Name() + " out " + out.Name());
      TopKDriver<typename TestFixture::Model, Cfg> bench(seed);
      const std::vector<uint64_t> masks = bench.Run(rows, in, out, seed, Budget(rows));
      ExpectMasks<Cfg>(rows, masks, seed);
    }
  }
}

// Illegal k: cfg_err_o, and the stream drains with all-zero masks; legal and illegal k
// interleaved row by row.
TYPED_TEST(TopK, CfgErrorDrains) {
  using Cfg = typename TestFixture::Cfg;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  TopKDriver<typename TestFixture::Model, Cfg> bench(seed);
  const int k_values = 1 << Cfg::kKBits;
  for (int k = 0; k < k_values; ++k) {
    EXPECT_EQ(bench.CfgErr(k), k == 0 || k > Cfg::kKMax) << "cfg_err_o for k = " << k;
  }
  std::vector<int> bad = {0};
  for (int k = Cfg::kKMax + 1; k < k_values; ++k) bad.push_back(k);
  for (int k : bad) {
    SCOPED_TRACE("k " + std::to_string(k));
    std::vector<TopKRowIn> rows = RandomRows<Cfg>(40, seed + k);
    for (TopKRowIn& r : rows) r.k = k;
    const std::vector<uint64_t> masks =
        bench.Run(rows, StallSpec::Random(0.3), StallSpec::Bursty(), seed + k, Budget(rows));
    ASSERT_EQ(masks.size(), rows.size()) << "stream did not drain";
    for (size_t i = 0; i < masks.size(); ++i) {
      EXPECT_EQ(masks[i], 0u) << "row " << i << " " << Describe(rows[i]);
    }
  }
  // Row by row: k changes between rows, legal or not.
  std::vector<TopKRowIn> rows = RandomRows<Cfg>(300, seed ^ 0x5555);
  std::mt19937_64 rng(seed);
  for (TopKRowIn& r : rows) {
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      r.k = bad[std::uniform_int_distribution<size_t>(0, bad.size() - 1)(rng)];
    }
  }
  for (const StallSpec& in : {StallSpec::None(), StallSpec::Bursty()}) {
    SCOPED_TRACE("interleaved, in " + in.Name());
    const std::vector<uint64_t> masks =
        bench.Run(rows, in, StallSpec::Random(0.3), seed + 99, Budget(rows));
    ExpectMasks<Cfg>(rows, masks, seed);
  }
}

// Without stalls, R rows of n scores take at most R*n + 2 cycles (the promise in the
// header of rtl/esact_topk.sv), and in_ready_o stays high.
TYPED_TEST(TopK, CycleBound) {
  using Cfg = typename TestFixture::Cfg;
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  TopKDriver<typename TestFixture::Model, Cfg> bench(seed);
  RowGen<Cfg> gen(seed);
  constexpr int kRows = 40;
  for (int n : {1, 2, Cfg::kNMax / 2 + 1, Cfg::kNMax}) {
    for (int r : {1, kRows}) {
      SCOPED_TRACE("rows " + std::to_string(r) + " of n " + std::to_string(n));
      std::vector<TopKRowIn> rows;
      for (int i = 0; i < r; ++i) rows.push_back(gen.Random(n, gen.Uniform(1, Cfg::kKMax)));
      uint64_t cycles = 0;
      bool ready_always = false;
      const std::vector<uint64_t> masks = bench.Run(rows, StallSpec::None(), StallSpec::None(),
                                                    seed, Budget(rows), &cycles, &ready_always);
      ExpectMasks<Cfg>(rows, masks, seed);
      EXPECT_LE(cycles, static_cast<uint64_t>(r) * n + 2);
      EXPECT_TRUE(ready_always) << "in_ready_o dropped without back-pressure";
    }
  }
}

// Cycle by cycle: the mask is valid the cycle after the last score's handshake; a full
// output register that is not taken holds its mask and keeps in_ready_o low; taking it
// lets a waiting score in on the same edge.
TYPED_TEST(TopK, LatencyAndBackPressure) {
  using Cfg = typename TestFixture::Cfg;
  Harness<typename TestFixture::Model> h(TestSeed());
  auto drive = [&](bool valid, int32_t score, bool last) {
    h->in_valid_i = valid;
    h->in_score_i = static_cast<uint32_t>(score) & Cfg::kScoreMask;
    h->in_pad_i = 0;
    h->in_last_i = last;
    h.Eval();
  };
  h->cfg_k_i = 2;
  h->out_ready_i = 0;
  drive(false, 0, false);
  h.Reset();
  const int32_t row[] = {5, 9, 1};
  for (int j = 0; j < 3; ++j) {
    drive(true, row[j], j == 2);
    EXPECT_TRUE(h->in_ready_o) << "column " << j;
    EXPECT_FALSE(h->out_valid_o) << "column " << j;
    h.Tick();
  }
  // The next row (one column) waits while the output register is full.
  drive(true, -3, true);
  EXPECT_TRUE(h->out_valid_o) << "mask valid the cycle after the last score";
  EXPECT_EQ(static_cast<uint64_t>(h->out_mask_o), 0b011u);
  for (int i = 0; i < 4; ++i) {
    h.Tick();
    h.Eval();
    EXPECT_TRUE(h->out_valid_o) << "held " << i;
    EXPECT_FALSE(h->in_ready_o) << "held " << i;
    EXPECT_EQ(static_cast<uint64_t>(h->out_mask_o), 0b011u) << "held " << i;
  }
  // Take the mask: in_ready_o follows out_ready_i in the same cycle.
  h->out_ready_i = 1;
  h.Eval();
  EXPECT_TRUE(h->in_ready_o);
  h.Tick();
  drive(false, 0, false);
  EXPECT_TRUE(h->out_valid_o) << "the waiting row's mask";
  EXPECT_EQ(static_cast<uint64_t>(h->out_mask_o), 0b1u);
  h.Tick();
  h.Eval();
  EXPECT_FALSE(h->out_valid_o);
  h.Finish();
}

// An asynchronous reset in the middle of a row forgets the row.
TYPED_TEST(TopK, ResetMidRow) {
  using Cfg = typename TestFixture::Cfg;
  const uint64_t seed = TestSeed();
  TopKDriver<typename TestFixture::Model, Cfg> bench(seed);
  auto& h = bench.harness();
  h->cfg_k_i = 1;
  h->out_ready_i = 1;
  h->in_valid_i = 1;
  h->in_pad_i = 0;
  h->in_last_i = 0;
  h->in_score_i = static_cast<uint32_t>(Cfg::kScoreMax) & Cfg::kScoreMask;
  h.Tick();
  h.Tick();
  h->in_valid_i = 0;
  h.Reset();
  EXPECT_FALSE(h->out_valid_o);
  const std::vector<TopKRowIn> rows = {MakeRow({1, 2, 3}, 1), MakeRow({-7}, 1)};
  const std::vector<uint64_t> masks =
      bench.Run(rows, StallSpec::None(), StallSpec::None(), seed, Budget(rows));
  ExpectMasks<Cfg>(rows, masks, seed);
}

// The template parameters of the test describe the model: cfg_err_o at KMax and
// KMax + 1, column NMax - 1 exists, and ScoreW-bit extremes compare as signed values.
TYPED_TEST(TopK, ConfigMatchesModel) {
  using Cfg = typename TestFixture::Cfg;
  const uint64_t seed = TestSeed();
  TopKDriver<typename TestFixture::Model, Cfg> bench(seed);
  EXPECT_FALSE(bench.CfgErr(Cfg::kKMax));
  if (Cfg::kKMax + 1 < (1 << Cfg::kKBits)) {
    EXPECT_TRUE(bench.CfgErr(Cfg::kKMax + 1));
  }
  std::vector<int32_t> s(Cfg::kNMax, static_cast<int32_t>(Cfg::kScoreMin));
  s.back() = static_cast<int32_t>(Cfg::kScoreMax);
  std::vector<int32_t> t(Cfg::kNMax, -1);
  t.front() = static_cast<int32_t>(Cfg::kScoreMin);
  const std::vector<TopKRowIn> rows = {MakeRow(s, 1), MakeRow(t, 1)};
  const std::vector<uint64_t> masks =
      bench.Run(rows, StallSpec::None(), StallSpec::None(), seed, Budget(rows));
  ASSERT_EQ(masks.size(), 2u);
  EXPECT_EQ(masks[0], uint64_t{1} << (Cfg::kNMax - 1));
  EXPECT_EQ(masks[1], 0b10u) << "ScoreW minimum ranks below -1";
}

// ---- The golden helper ------------------------------------------------------------------

// Column j is selected iff fewer than k non-padded columns beat it (larger score, or
// equal with a lower index): the Top-k rule without sorting.
uint64_t RuleMask(const TopKRowIn& row) {
  uint64_t mask = 0;
  for (int j = 0; j < row.n(); ++j) {
    if (row.pad[j]) continue;
    int beaten_by = 0;
    for (int i = 0; i < row.n(); ++i) {
      if (row.pad[i] || i == j) continue;
      if (row.scores[i] > row.scores[j] || (row.scores[i] == row.scores[j] && i < j)) {
        ++beaten_by;
      }
    }
    if (beaten_by < row.k) mask |= uint64_t{1} << j;
  }
  return mask;
}

TEST(TopKGolden, CompactionMatchesTheRuleAndTopKRow) {
  const uint64_t seed = TestSeed();
  RowGen<CfgN32K8> gen(seed);
  int trailing = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const TopKRowIn row = gen.Random();
    const uint64_t mask = GoldenTopKMask(row);
    ASSERT_EQ(mask, RuleMask(row)) << Describe(row) << " (seed " << seed << ")";
    // Trailing padding only: TopKRow over the leading columns directly.
    int n_valid = row.n();
    while (n_valid > 0 && row.pad[n_valid - 1]) --n_valid;
    if (std::count(row.pad.begin(), row.pad.begin() + n_valid, 1) == 0) {
      ++trailing;
      ASSERT_EQ(mask, sim::IndexSetMask(TopKRow(row.scores.data(), n_valid, row.k)))
          << Describe(row) << " (seed " << seed << ")";
    }
  }
  EXPECT_GT(trailing, 1000);
}

// ---- The assertions and the harness catch protocol violations --------------------------

// NMax + 1 columns without in_last_i: RowTooLong_A fires.
void SendRowTooLong() {
  Harness<Vesact_topk_n16_k4> h(11);
  h->cfg_k_i = 2;
  h->in_valid_i = 0;
  h->in_pad_i = 0;
  h->in_last_i = 0;
  h->in_score_i = 0;
  h->out_ready_i = 1;
  h.Reset();
  h->in_valid_i = 1;
  for (int j = 0; j <= CfgN16K4::kNMax; ++j) {
    h->in_score_i = static_cast<uint32_t>(j);
    h->in_last_i = j == CfgN16K4::kNMax;
    h.Tick();
  }
  h->in_valid_i = 0;
  h.Tick();
  h.Tick();
}

TEST(TopK, RowTooLongFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(SendRowTooLong(), "RTL reported an error");
}

// A row of exactly NMax columns is legal (no assertion).
TEST(TopK, RowOfNMaxColumnsIsLegal) {
  Harness<Vesact_topk_n16_k4> h(TestSeed());
  h->cfg_k_i = 1;
  h->in_valid_i = 0;
  h->in_pad_i = 0;
  h->in_last_i = 0;
  h->in_score_i = 0;
  h->out_ready_i = 1;
  h.Reset();
  h->in_valid_i = 1;
  for (int j = 0; j < CfgN16K4::kNMax; ++j) {
    h->in_score_i = static_cast<uint32_t>(j);
    h->in_last_i = j == CfgN16K4::kNMax - 1;
    h.Tick();
  }
  h->in_valid_i = 0;
  h.Eval();
  EXPECT_TRUE(h->out_valid_o);
  EXPECT_EQ(h->out_mask_o, 1u << (CfgN16K4::kNMax - 1));
  EXPECT_TRUE(h.Finish());
}

// A source that drops valid while stalled trips InValidHeld_A.
void ViolateInputContract() {
  Harness<Vesact_topk_n16_k4> h(7);
  h->cfg_k_i = 1;
  h->in_valid_i = 0;
  h->in_pad_i = 0;
  h->in_last_i = 1;
  h->in_score_i = 0;
  h->out_ready_i = 0;
  h.Reset();
  h->in_valid_i = 1;  // a one-column row: the output register fills
  h.Tick();
  h->in_score_i = 6;  // not accepted: the register is full and out_ready_i is low
  h.Tick();
  h->in_valid_i = 0;  // the violation: valid dropped while !in_ready_o
  h.Tick();
  h.Tick();
}

TEST(TopK, ContractViolationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(ViolateInputContract(), "RTL reported an error");
}

}  // namespace
}  // namespace esact
