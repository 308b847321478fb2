// esact_reuse against the golden ReuseMap, NeededKv and TokenAnchors (golden/spls.h),
// beat for beat on all three output streams.
//
//   ReuseSweep        per configuration (n16_w4, n32_w2) x input idle pattern x
//                     back-pressure on the row, kv and tok outputs: the edge-case layers
//                     and many random layers (random n, H, k, w in 0..WMax, t in 0..k+1;
//                     SPA sets from TopKRow over small-range scores, correlated
//                     neighbouring rows, heads sharing their sets), one driver, no reset
//                     between layers. Reuse and token reuse must occur. Without stalls a
//                     layer must finish within H*n + H + n + 4 cycles.
//   BackToBack*       two layers queued without a gap, no reset between them.
//   ClearMidLayer*    clear_i at several points of a layer (rows, kv, tok phase, under
//                     back-pressure), then a full layer decides correctly.
//   CfgError*         each illegal field raises cfg_err_o; the stream drains with
//                     all-anchor decisions on the clamped shape; a legal layer then works.
//   CycleBound*       H x n rows without stalls: H*n + n + 2 cycles (the module's promise,
//                     tighter than the H*n + H + n + 4 of the brief) and in_ready_o high.
//   ContractViolationFailsTheTest
//                     dropping in_valid_i while stalled trips the RTL assertion.
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "Vesact_reuse_n16_w4.h"
#include "Vesact_reuse_n16_w4_esact_reuse.h"
#include "Vesact_reuse_n32_w2.h"
#include "Vesact_reuse_n32_w2_esact_reuse.h"
#include "golden/spls.h"
#include "sim/harness.h"
#include "sim/reuse_driver.h"

namespace esact {
namespace {

using sim::MaskOf;
using sim::ReuseBeats;
using sim::ReuseDriver;
using sim::ReuseLayer;
using sim::ReuseParams;
using sim::ReuseRunStats;
using sim::ReuseTraffic;
using sim::StallSpec;
using sim::TestSeed;

// The two configurations; their parameters come from the Verilated models (public
// parameters), never copied by hand.
constexpr ReuseParams kN16 = sim::ReuseParamsOf<Vesact_reuse_n16_w4_esact_reuse>();
constexpr ReuseParams kN32 = sim::ReuseParamsOf<Vesact_reuse_n32_w2_esact_reuse>();

// Width of a cfg field that holds 0..max ($clog2(max + 1)).
int FieldBits(int max) {
  int b = 0;
  while ((1 << b) < max + 1) ++b;
  return b;
}

std::string Describe(const ReuseLayer& l) {
  return "n=" + std::to_string(l.n_valid) + " heads=" + std::to_string(l.heads) +
         " w=" + std::to_string(l.w) + " t=" + std::to_string(l.t);
}

// The cycle bound the brief asks for (the module promises H*n + n + 2).
uint64_t CycleBound(const ReuseLayer& l) {
  return static_cast<uint64_t>(l.heads * l.n_valid + l.heads + l.n_valid + 4);
}

// Generous cycle limit under stalls: every beat can wait a few bursts.
uint64_t StallLimit(const ReuseLayer& l) {
  return 60 * static_cast<uint64_t>(l.heads * l.n_valid + l.heads + l.n_valid) + 200;
}

// ---- Layer generation -------------------------------------------------------------------

class LayerGen {
 public:
  LayerGen(int n_max, int w_max, int h_max, uint64_t seed)
      : n_max_(n_max), w_max_(w_max), h_max_(h_max), rng_(seed) {}

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // Top-k of random scores in [0, range): ties are frequent, the set has min(k, n) columns.
  IndexSet TopK(int n, int k, int range = 4) {
    std::vector<int32_t> scores(n);
    for (int32_t& s : scores) s = Uniform(0, range - 1);
    return TopKRow(scores.data(), n, k);
  }

  // `base` with `changes` columns swapped for others below n (same size).
  IndexSet Perturb(IndexSet base, int n, int changes) {
    for (int c = 0; c < changes && !base.empty() && static_cast<int>(base.size()) < n; ++c) {
      base.erase(base.begin() + Uniform(0, static_cast<int>(base.size()) - 1));
      std::vector<int> free_cols;
      for (int j = 0; j < n; ++j) {
        if (std::find(base.begin(), base.end(), j) == base.end()) free_cols.push_back(j);
      }
      base.push_back(free_cols[Uniform(0, static_cast<int>(free_cols.size()) - 1)]);
      std::sort(base.begin(), base.end());
    }
    return base;
  }

  // One head's rows: TopK rows, each copied from a recent row with a few changes with
  // probability p_copy (so neighbouring rows overlap and reuse happens).
  std::vector<IndexSet> HeadRows(int n, int k, double p_copy) {
    std::vector<IndexSet> rows(n);
    for (int i = 0; i < n; ++i) {
      if (i > 0 && Chance(p_copy)) {
        const int from = i - 1 - Uniform(0, std::min(i - 1, w_max_));
        rows[i] = Perturb(rows[from], n, Uniform(0, 2));
      } else {
        rows[i] = TopK(n, k);
      }
    }
    return rows;
  }

  ReuseLayer Random() {
    ReuseLayer l;
    l.n_valid = Uniform(1, n_max_);
    l.heads = Uniform(1, h_max_);
    const int k = Uniform(1, l.n_valid);
    l.w = Uniform(0, w_max_);
    l.t = Uniform(0, std::min(k + 1, n_max_));  // t > NMax is a cfg error
    const int kind = Uniform(0, 3);
    const double p_copy = kind == 0 ? 0.0 : 0.75;
    l.spa.resize(l.heads);
    for (int h = 0; h < l.heads; ++h) {
      // kind 3: every head takes head 0's rows, so token-level reuse can happen.
      l.spa[h] = (kind == 3 && h > 0) ? l.spa[0] : HeadRows(l.n_valid, k, p_copy);
    }
    return l;
  }

  // A layer whose rows come from `row(h, i)`.
  template <class RowFn>
  ReuseLayer Make(int n, int heads, int w, int t, RowFn row) {
    ReuseLayer l{n, heads, w, t, {}};
    l.spa.resize(heads);
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < n; ++i) l.spa[h].push_back(row(h, i));
    }
    return l;
  }

  // The edge cases of the brief, sized for this configuration.
  std::vector<ReuseLayer> EdgeCases() {
    const int n = n_max_;
    const int k = std::max(1, n / 4);
    std::vector<ReuseLayer> v;
    auto corr = [&](int nn, int kk, int heads, int w, int t) {
      ReuseLayer l{nn, heads, w, t, {}};
      for (int h = 0; h < heads; ++h) l.spa.push_back(HeadRows(nn, kk, 0.8));
      return l;
    };
    v.push_back(corr(n, k, h_max_, 0, 1));                // w = 0: no reuse
    v.push_back(corr(n, k, h_max_, w_max_, 0));           // t = 0: any anchor in the window
    v.push_back(corr(n, k, h_max_, w_max_, k + 1));       // t > k: no reuse
    v.push_back(corr(1, 1, h_max_, w_max_, 0));           // n = 1
    v.push_back(corr(1, 1, 1, 0, 0));                     // n = 1, heads = 1, w = 0
    v.push_back(corr(n, k, 1, w_max_, (3 * k + 3) / 4));  // heads = 1, default t
    v.push_back(corr(n, k, h_max_, 1, k));                // heads = HMax, w = 1
    v.push_back(corr(2, 1, h_max_, w_max_, 1));           // n = 2
    const IndexSet same = TopK(n, k);
    // All rows identical, every head the same: reuse and token reuse.
    v.push_back(Make(n, h_max_, w_max_, k, [&](int, int) { return same; }));
    // All rows identical, k = n (every column).
    v.push_back(Make(n, h_max_, w_max_, n, [&](int, int) { return TopK(n, n); }));
    // All rows disjoint (k = 1, row i selects column i): no reuse at t = 1 ...
    v.push_back(Make(n, h_max_, w_max_, 1, [](int, int i) { return IndexSet{i}; }));
    // ... but at t = 0 an overlap of 0 qualifies: every row reuses the nearest anchor.
    v.push_back(Make(n, h_max_, w_max_, 0, [](int, int i) { return IndexSet{i}; }));
    // Disjoint in one head, identical in the others: no token reuse.
    v.push_back(Make(n, h_max_, w_max_, 1,
                     [&](int h, int i) { return h == 0 ? IndexSet{i} : IndexSet{0}; }));
    // Larger window than rows.
    v.push_back(corr(std::min(n, w_max_), 1, h_max_, w_max_, 1));
    return v;
  }

 private:
  int n_max_;
  int w_max_;
  int h_max_;
  std::mt19937_64 rng_;
};

// ---- Sweep ------------------------------------------------------------------------------

struct SweepCase {
  int config;           // 16: Vesact_reuse_n16_w4, 32: Vesact_reuse_n32_w2
  StallSpec in_stall;   // idle cycles of the source
  StallSpec out_stall;  // back-pressure of each of the three sinks
  std::string Name() const {
    return "n" + std::to_string(config) + "_in_" + in_stall.Name() + "_out_" + out_stall.Name();
  }
};

void PrintTo(const SweepCase& c, std::ostream* os) { *os << c.Name(); }

std::vector<SweepCase> SweepCases() {
  const StallSpec stalls[] = {StallSpec::None(), StallSpec::Random(0.3), StallSpec::Bursty()};
  std::vector<SweepCase> cases;
  for (int config : {16, 32}) {
    for (const StallSpec& in_stall : stalls) {
      for (const StallSpec& out_stall : stalls) cases.push_back({config, in_stall, out_stall});
    }
  }
  return cases;
}

bool NoStalls(const ReuseTraffic& t) {
  return t.in.kind == StallSpec::Kind::kNone && t.row.kind == StallSpec::Kind::kNone &&
         t.kv.kind == StallSpec::Kind::kNone && t.tok.kind == StallSpec::Kind::kNone;
}

// Runs one layer and compares with the golden beats. Returns false on a mismatch.
template <class Model>
bool CheckLayer(ReuseDriver<Model>& bench, const ReuseLayer& layer, const ReuseTraffic& traffic,
                uint64_t seed, const std::string& what) {
  bench.Configure(layer);
  EXPECT_FALSE(bench.cfg_err()) << what;
  ReuseRunStats st;
  const bool no_stalls = NoStalls(traffic);
  const ReuseBeats got = bench.RunLayer(
      layer, traffic, seed, no_stalls ? CycleBound(layer) + 10 : StallLimit(layer), &st);
  const ReuseBeats want = sim::ReuseGolden(layer);
  const std::string diff = sim::CompareReuse(got, want);
  EXPECT_TRUE(diff.empty()) << what << " (" << Describe(layer) << ", seed " << seed << "):\n"
                            << diff;
  EXPECT_TRUE(st.tok_after_kv) << what << ": a tok beat before the last kv beat";
  if (no_stalls) {
    EXPECT_LE(st.cycles, CycleBound(layer)) << what << " (" << Describe(layer) << ")";
    EXPECT_TRUE(st.in_ready_always) << what << ": in_ready_o low without back-pressure";
  }
  return diff.empty() && !::testing::Test::HasFailure();
}

template <class Model>
void RunSweep(const ReuseParams& p, const SweepCase& c, uint64_t seed) {
  ReuseDriver<Model> bench(seed);
  LayerGen gen(p.n_max, p.w_max, p.h_max, seed);
  const ReuseTraffic traffic{c.in_stall, c.out_stall, c.out_stall, c.out_stall};
  std::vector<ReuseLayer> layers = gen.EdgeCases();
  const size_t n_edge = layers.size();
  constexpr int kRandomLayers = 300;
  for (int i = 0; i < kRandomLayers; ++i) layers.push_back(gen.Random());
  int reused_rows = 0;
  int reused_tokens = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string what = (i < n_edge ? "edge layer " : "random layer ") + std::to_string(i);
    if (!CheckLayer<Model>(bench, layers[i], traffic, seed + i, what)) return;
    const ReuseBeats want = sim::ReuseGolden(layers[i]);
    reused_rows += sim::ReusedRows(want);
    for (const sim::ReuseTokBeat& t : want.tok) reused_tokens += t.anchor != t.idx;
  }
  std::printf("[ info     ] %zu layers, %d rows reused, %d tokens reused, %llu cycles\n",
              layers.size(), reused_rows, reused_tokens,
              static_cast<unsigned long long>(bench.harness().cycle()));
  EXPECT_GT(reused_rows, 100) << "the stimulus hardly exercised reuse";
  EXPECT_GT(reused_tokens, 10) << "the stimulus hardly exercised token reuse";
}

class ReuseSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(ReuseSweep, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  if (GetParam().config == 16) {
    RunSweep<Vesact_reuse_n16_w4>(kN16, GetParam(), seed);
  } else {
    RunSweep<Vesact_reuse_n32_w2>(kN32, GetParam(), seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, ReuseSweep, ::testing::ValuesIn(SweepCases()),
                         [](const ::testing::TestParamInfo<SweepCase>& info) {
                           return info.param.Name();
                         });

// ---- Two layers back to back ------------------------------------------------------------

template <class Model>
void RunBackToBack(const ReuseParams& p, uint64_t seed) {
  LayerGen gen(p.n_max, p.w_max, p.h_max, seed);
  const ReuseTraffic shapes[] = {
      {StallSpec::None(), StallSpec::None(), StallSpec::None(), StallSpec::None()},
      {StallSpec::Random(0.3), StallSpec::Bursty(), StallSpec::Random(0.3), StallSpec::Bursty()},
  };
  ReuseDriver<Model> bench(seed);
  for (int rep = 0; rep < 20; ++rep) {
    const ReuseTraffic& traffic = shapes[rep % 2];
    // Same shape and knobs for both (the configuration is held for the whole run).
    ReuseLayer a = gen.Random();
    ReuseLayer b = a;
    for (int h = 0; h < b.heads; ++h) b.spa[h] = gen.HeadRows(b.n_valid, 1 + rep % 3, 0.7);
    SCOPED_TRACE("rep " + std::to_string(rep) + " " + Describe(a));
    bench.Configure(a);
    std::vector<uint64_t> masks;
    for (const ReuseLayer* l : {&a, &b}) {
      for (int h = 0; h < l->heads; ++h) {
        for (int i = 0; i < l->n_valid; ++i) masks.push_back(MaskOf(l->spa[h][i]));
      }
    }
    ReuseRunStats st;
    const ReuseBeats got = bench.Run(masks, masks.size(), 2 * a.heads, 2 * a.n_valid, traffic,
                                     seed + rep, 2 * StallLimit(a), true, &st);
    // The expected beats: layer a's streams then layer b's, per stream.
    ReuseBeats want = sim::ReuseGolden(a);
    const ReuseBeats want_b = sim::ReuseGolden(b);
    want.rows.insert(want.rows.end(), want_b.rows.begin(), want_b.rows.end());
    want.kv.insert(want.kv.end(), want_b.kv.begin(), want_b.kv.end());
    want.tok.insert(want.tok.end(), want_b.tok.begin(), want_b.tok.end());
    const std::string diff = sim::CompareReuse(got, want);
    ASSERT_TRUE(diff.empty()) << diff;
    if (rep % 2 == 0) {
      EXPECT_LE(st.cycles, 2 * CycleBound(a));
    }
  }
}

TEST(Reuse, BackToBackN16) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunBackToBack<Vesact_reuse_n16_w4>(kN16, seed);
}

TEST(Reuse, BackToBackN32) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunBackToBack<Vesact_reuse_n32_w2>(kN32, seed);
}

// ---- clear_i in the middle of a layer ---------------------------------------------------

template <class Model>
void RunClearMidLayer(const ReuseParams& p, uint64_t seed) {
  LayerGen gen(p.n_max, p.w_max, p.h_max, seed);
  ReuseDriver<Model> bench(seed);
  const ReuseTraffic stalled{StallSpec::Random(0.3), StallSpec::Bursty(), StallSpec::Bursty(),
                             StallSpec::Random(0.3)};
  const ReuseTraffic fast{StallSpec::None(), StallSpec::None(), StallSpec::None(),
                          StallSpec::None()};
  ReuseLayer big = gen.Random();
  big.n_valid = p.n_max;
  big.heads = p.h_max;
  big.w = p.w_max;
  big.t = 1;
  big.spa.clear();
  for (int h = 0; h < big.heads; ++h) big.spa.push_back(gen.HeadRows(big.n_valid, 2, 0.8));
  const int rows = big.heads * big.n_valid;
  // Interrupt after 1 cycle, mid head 0, mid the last head, just after the last row
  // (kv or tok phase), and well into the tok phase; under stalls and without.
  const int stops[] = {1, 3, p.n_max / 2, rows - p.n_max / 2, rows + 1, rows + 3};
  for (const int stop : stops) {
    for (const ReuseTraffic* traffic : {&fast, &stalled}) {
      SCOPED_TRACE("clear after " + std::to_string(stop) + " cycles, " +
                   (traffic == &fast ? "no stalls" : "stalled"));
      bench.Configure(big);
      std::vector<uint64_t> masks;
      for (int h = 0; h < big.heads; ++h) {
        for (int i = 0; i < big.n_valid; ++i) masks.push_back(MaskOf(big.spa[h][i]));
      }
      ReuseRunStats st;
      bench.Run(masks, masks.size(), big.heads, big.n_valid, *traffic, seed + stop, stop, false,
                &st);
      EXPECT_FALSE(st.complete) << "the layer finished before the clear";
      bench.Clear();
      EXPECT_FALSE(bench.harness()->row_valid_o) << "row beat survived clear_i";
      EXPECT_FALSE(bench.harness()->kv_valid_o) << "kv beat survived clear_i";
      EXPECT_FALSE(bench.harness()->tok_valid_o) << "tok beat survived clear_i";
      // A full, different layer afterwards is decided correctly.
      const ReuseLayer next = gen.Random();
      if (!CheckLayer<Model>(bench, next, *traffic, seed + stop + 1000, "layer after clear")) {
        return;
      }
    }
  }
}

TEST(Reuse, ClearMidLayerN16) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunClearMidLayer<Vesact_reuse_n16_w4>(kN16, seed);
}

TEST(Reuse, ClearMidLayerN32) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunClearMidLayer<Vesact_reuse_n32_w2>(kN32, seed);
}

// ---- Configuration error ----------------------------------------------------------------

template <class Model>
void RunCfgError(const ReuseParams& p, uint64_t seed) {
  const int kN = p.n_max;
  const int kW = p.w_max;
  const int kH = p.h_max;
  LayerGen gen(kN, kW, kH, seed);
  ReuseDriver<Model> bench(seed);
  const ReuseTraffic traffic{StallSpec::Random(0.3), StallSpec::Bursty(), StallSpec::Random(0.3),
                             StallSpec::Bursty()};
  struct Bad {
    int n, heads, w, t;  // raw field values
  };
  std::vector<Bad> bad = {{0, 2, 1, 1}, {5, 0, 1, 1}, {0, 0, 0, 0}};
  const int n_top = (1 << FieldBits(kN)) - 1;
  const int h_top = (1 << FieldBits(kH)) - 1;
  const int w_top = (1 << FieldBits(kW)) - 1;
  if (n_top > kN) {
    bad.push_back({kN + 1, 2, 1, 1});
    bad.push_back({n_top, 1, 1, 1});
    bad.push_back({kN / 2, 2, 1, kN + 1});  // t > NMax
    bad.push_back({kN / 2, 2, 1, n_top});
  }
  if (h_top > kH) bad.push_back({3, kH + 1, 1, 1});
  if (w_top > kW) bad.push_back({kN, 2, w_top, 1});
  for (const Bad& b : bad) {
    SCOPED_TRACE("n=" + std::to_string(b.n) + " heads=" + std::to_string(b.heads) +
                 " w=" + std::to_string(b.w) + " t=" + std::to_string(b.t));
    bench.Configure(b.n, b.heads, b.w, b.t);
    EXPECT_TRUE(bench.cfg_err()) << "cfg_err_o low for an illegal field";
    // The documented behaviour: n and H clamped to the legal range, every row an anchor.
    ReuseLayer l;
    l.n_valid = std::clamp(b.n, 1, kN);
    l.heads = std::clamp(b.heads, 1, kH);
    for (int h = 0; h < l.heads; ++h) {
      std::vector<IndexSet> same(l.n_valid, gen.TopK(l.n_valid, 1));  // would all reuse
      l.spa.push_back(same);
    }
    std::vector<uint64_t> masks;
    for (int h = 0; h < l.heads; ++h) {
      for (int i = 0; i < l.n_valid; ++i) masks.push_back(MaskOf(l.spa[h][i]));
    }
    const ReuseBeats got = bench.Run(masks, masks.size(), l.heads, l.n_valid, traffic,
                                     seed + b.n + b.t, StallLimit(l));
    const std::string diff = sim::CompareReuse(got, sim::ReuseAllAnchors(l));
    EXPECT_TRUE(diff.empty()) << diff;
  }
  // Legal again: decides normally.
  const ReuseLayer l = gen.Random();
  bench.Configure(l);
  EXPECT_FALSE(bench.cfg_err());
  CheckLayer<Model>(bench, l, traffic, seed, "legal layer after cfg errors");
  // Every legal corner is legal.
  for (const Bad& g : {Bad{1, 1, 0, 0}, Bad{kN, kH, kW, kN}}) {
    bench.Configure(g.n, g.heads, g.w, g.t);
    EXPECT_FALSE(bench.cfg_err()) << "n=" << g.n << " heads=" << g.heads << " w=" << g.w
                                  << " t=" << g.t;
  }
}

TEST(Reuse, CfgErrorN16) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCfgError<Vesact_reuse_n16_w4>(kN16, seed);
}

TEST(Reuse, CfgErrorN32) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCfgError<Vesact_reuse_n32_w2>(kN32, seed);
}

// ---- Cycle bound ------------------------------------------------------------------------

template <class Model>
void RunCycleBound(const ReuseParams& p, uint64_t seed) {
  LayerGen gen(p.n_max, p.w_max, p.h_max, seed);
  ReuseDriver<Model> bench(seed);
  const ReuseTraffic none{StallSpec::None(), StallSpec::None(), StallSpec::None(),
                          StallSpec::None()};
  for (int heads : {1, 2, p.h_max}) {
    for (int n : {1, 2, 3, p.n_max}) {
      ReuseLayer l{n, std::min(heads, p.h_max), p.w_max, 1, {}};
      for (int h = 0; h < l.heads; ++h) l.spa.push_back(gen.HeadRows(n, 2, 0.7));
      SCOPED_TRACE(Describe(l));
      ReuseRunStats st;
      const ReuseBeats got = bench.RunLayer(l, none, seed, CycleBound(l) + 10, &st);
      EXPECT_TRUE(sim::CompareReuse(got, sim::ReuseGolden(l)).empty());
      // The module's promise: H*n + n + 2.
      EXPECT_LE(st.cycles, static_cast<uint64_t>(l.heads * n + n + 2));
      EXPECT_TRUE(st.in_ready_always);
    }
  }
}

TEST(Reuse, CycleBoundN16) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCycleBound<Vesact_reuse_n16_w4>(kN16, seed);
}

TEST(Reuse, CycleBoundN32) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCycleBound<Vesact_reuse_n32_w2>(kN32, seed);
}

// ---- The assertions catch a protocol violation ------------------------------------------

// A one-row layer whose decision is not taken: the second row waits, then in_valid_i
// drops before it was accepted. InValidHeld_A must fire and fail the test.
void ViolateInputContract() {
  sim::Harness<Vesact_reuse_n16_w4> h(7);
  h->clear_i = 0;
  h->cfg_n_valid_i = 2;
  h->cfg_heads_i = 1;
  h->cfg_w_i = 1;
  h->cfg_t_i = 1;
  h->in_valid_i = 0;
  h->in_mask_i = 0;
  h->row_ready_i = 0;
  h->kv_ready_i = 0;
  h->tok_ready_i = 0;
  h.Reset();
  h->in_valid_i = 1;  // row 0 accepted: the row slot fills
  h->in_mask_i = 1;
  h.Tick();
  h->in_mask_i = 3;  // row 1 waits: row_ready_i is low
  h.Tick();
  h->in_valid_i = 0;  // the violation
  h.Tick();
  h.Tick();
}

TEST(Reuse, ContractViolationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(ViolateInputContract(), "RTL reported an error");
}

}  // namespace
}  // namespace esact
