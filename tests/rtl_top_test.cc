// esact_top, the whole encoder layer through the RTL, against the golden model
// (RunLayer): Y and every decision bit for bit, the MAC, predictor and reuse counters.
//
//   TopSmall.DefaultLayer     the make-sim layer (Vesact_top_s), dense and SPLS
//   TopTiny.RandomLayers      random shapes (heads, width, d_ff, tokens with padding, k, w,
//                             t, HLog width and rounding, FFN policy), dense and SPLS, under
//                             random memory latency, back-pressure and register traffic
//   TopTiny.ConfigErrors      every configuration error: STATUS.ERR_CODE, interrupt, nothing
//                             written, bounded cycles; then a correct run
//   TopTiny.HeaderError, .ReadError, .WriteError   HDR, DMA_RD, DMA_WR
//   TopTiny.StartWhileBusy    BUSY reported, the run still correct
//   TopTiny.ResetMidRun       a reset in the middle of a run, then a correct run
//
// Seeds: ESACT_SEED (default 1) mixed with the test name; each test prints its seed.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "Vesact_top_s.h"
#include "Vesact_top_s_esact_top.h"
#include "Vesact_top_t.h"
#include "Vesact_top_t_esact_top.h"
#include "golden/layer.h"
#include "golden/report.h"
#include "golden/synthetic.h"
#include "sim/top_driver.h"

namespace esact {
namespace {

using sim::TopDriver;
using sim::TopLayer;
using sim::TopPlacement;
using sim::TopRun;
using sim::TopTraffic;
using TopS = TopDriver<Vesact_top_s, Vesact_top_s_esact_top>;
using TopT = TopDriver<Vesact_top_t, Vesact_top_t_esact_top>;

enum TopErr : int {
  kErrNone = 0,
  kErrNTokens = 1,
  kErrNValid = 2,
  kErrDModel = 3,
  kErrHeads = 4,
  kErrDFf = 5,
  kErrK = 6,
  kErrW = 7,
  kErrT = 8,
  kErrHlogBits = 9,
  kErrAddr = 10,
  kErrSize = 11,
  kErrOverlap = 12,
  kErrBusy = 13,
  kErrHdr = 14,
  kErrDmaRd = 15,
  kErrDmaWr = 16,
};

// The test's seed (ESACT_SEED mixed with the test name), printed.
uint64_t PrintedSeed() {
  const uint64_t seed = sim::TestSeed();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

TopLayer MakeLayer(int d, int heads, int f, int n_tokens, int n_valid, uint64_t seed) {
  SyntheticSpec spec;
  spec.d_model = d;
  spec.n_heads = heads;
  spec.d_ff = f;
  spec.n_tokens = n_tokens;
  spec.n_valid = n_valid;
  spec.seed = seed;
  const SyntheticLayer s = MakeSyntheticLayer(spec);
  return {s.file.params, s.file.x, s.file.n_valid, s.file.spls};
}

// Y, the decision and the counters of a successful run against RunLayer.
void ExpectGolden(const TopLayer& l, const TopRun& run) {
  ASSERT_EQ(run.err_code, kErrNone) << "STATUS 0x" << std::hex << run.status;
  const LayerResult want = RunLayer(l.params, l.x, l.n_valid, l.spls);
  EXPECT_EQ(FirstDecisionDifference(run.decision, want.decision), "");
  int mismatches = 0;
  for (int i = 0; i < l.x.rows; ++i) {
    for (int c = 0; c < l.params.d_model; ++c) {
      if (run.y.at(i, c) != want.y.at(i, c) && mismatches++ < 5) {
        ADD_FAILURE() << "y[" << i << "][" << c << "] = " << int{run.y.at(i, c)} << ", want "
                      << int{want.y.at(i, c)};
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "Y elements differ";
  EXPECT_EQ(run.counter("MACS_EXEC"), static_cast<uint64_t>(want.ops.ExecutedTotal()));
  EXPECT_EQ(run.counter("MACS_SKIPPED"),
            static_cast<uint64_t>(want.ops.DenseTotal() - want.ops.ExecutedTotal()));
  for (int c = 0; c < kNumComponents; ++c) {
    std::string name = ComponentName(c);
    for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    SCOPED_TRACE(name);
    EXPECT_EQ(run.counter(("MACS_" + name).c_str()), static_cast<uint64_t>(want.ops.executed[c]));
    EXPECT_EQ(run.counter(("SKIP_" + name).c_str()),
              static_cast<uint64_t>(want.ops.dense[c] - want.ops.executed[c]));
  }
  EXPECT_EQ(run.counter("PRED_OPS"), static_cast<uint64_t>(want.ops.predictor_ops));
  const ReuseCounts reuse = CountReuse(want.decision, l.n_valid);
  EXPECT_EQ(run.counter("ROWS_REUSED"), static_cast<uint64_t>(reuse.rows));
  EXPECT_EQ(run.counter("TOKENS_REUSED"), static_cast<uint64_t>(reuse.tokens));
  EXPECT_GT(run.counter("CYCLES"), 0u);
  EXPECT_LE(run.counter("CYCLES"), run.cycles);
}

TEST(TopSmall, DefaultLayer) {
  const uint64_t seed = PrintedSeed();
  TopLayer l = MakeLayer(64, 4, 256, 32, 32, 1);
  TopS top(seed, TopTraffic::Random());
  for (const bool spls : {false, true}) {
    SCOPED_TRACE(spls ? "SPLS" : "dense");
    l.spls.enabled = spls;
    ExpectGolden(l, top.Run(l, 5'000'000));
  }
}

// A random legal layer for Vesact_top_t (L 4, PredLanes 8, NMax 16, DMax 32, DffMax 64, DhMax
// 16, HMax 4, KMax 4, WMax 2): d_head 8 or 16 (a multiple of PredLanes).
TopLayer RandomTinyLayer(std::mt19937_64& rng) {
  const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int dh = 8 * pick(1, 2);
  const int h = pick(1, 32 / dh < 4 ? 32 / dh : 4);
  const int d = h * dh;
  const int f = 4 * pick(1, 16);
  const int n = pick(1, 16);
  const int nv = pick(1, n);
  TopLayer l = MakeLayer(d, h, f, n, nv, rng());
  l.spls.k = pick(1, std::min(4, n));
  l.spls.w = pick(0, 2);
  l.spls.t = pick(0, l.spls.k + 1);
  l.spls.hlog_bits = pick(4, 8);
  l.spls.round = pick(0, 1) ? HlogRound::kNearest : HlogRound::kTowardZero;
  l.spls.ffn = pick(0, 1) ? FfnPolicy::kReuse : FfnPolicy::kNone;
  return l;
}

std::string Describe(const TopLayer& l) {
  return "d " + std::to_string(l.params.d_model) + " heads " + std::to_string(l.params.n_heads) +
         " d_ff " + std::to_string(l.params.d_ff) + " tokens " + std::to_string(l.x.rows) + " (" +
         std::to_string(l.n_valid) + " valid) k " + std::to_string(l.spls.k) + " w " +
         std::to_string(l.spls.w) + " t " + std::to_string(l.spls.t) + " bits " +
         std::to_string(l.spls.hlog_bits) + (l.spls.ffn == FfnPolicy::kReuse ? " ffn reuse" : "");
}

TEST(TopTiny, RandomLayers) {
  const uint64_t seed = PrintedSeed();
  std::mt19937_64 rng(seed);
  TopT top(seed, TopTraffic::Random());
  for (int i = 0; i < 12; ++i) {
    TopLayer l = RandomTinyLayer(rng);
    for (const bool spls : {true, false}) {
      l.spls.enabled = spls;
      SCOPED_TRACE(Describe(l) + (spls ? " SPLS" : " dense"));
      ExpectGolden(l, top.Run(l, 2'000'000));
      if (HasFailure()) return;
    }
  }
}

// ---- Faults ---------------------------------------------------------------------------------

// A small SPLS layer for the fault tests (tokens 8, d 16, 2 heads, d_ff 16).
TopLayer FaultLayer() {
  TopLayer l = MakeLayer(16, 2, 16, 8, 8, 7);
  l.spls.k = 2;
  return l;
}

// The run ends with `want` in STATUS.ERR_CODE within `bound` cycles of the start write and
// leaves the memory as it was.
void ExpectRejected(TopT& top, const TopLayer& l, const TopPlacement& p,
                    const std::function<void()>& spoil, int want, uint64_t bound) {
  top.Program(l, p);
  spoil();
  const std::vector<uint8_t> before = top.mem().bytes();
  top.Start();
  ASSERT_TRUE(top.WaitDone(20000));
  const TopRun r = top.Collect(l, p);
  EXPECT_TRUE(r.status & regs::kStatusErrMask);
  EXPECT_EQ(r.err_code, want);
  EXPECT_LE(r.cycles, bound);
  EXPECT_TRUE(r.memory == before) << "memory written by a rejected run";
}

TEST(TopTiny, ConfigErrors) {
  const uint64_t seed = PrintedSeed();
  TopT top(seed, TopTraffic::Random());
  const TopLayer l = FaultLayer();
  const TopPlacement p = TopT::Place(l);

  const auto reg = [&](uint32_t addr, uint32_t value) {
    return [&top, addr, value] { top.axil().Write(addr, value); };
  };
  struct Case {
    const char* what;
    std::function<void()> spoil;
    int want;
  };
  const uint32_t x_lo = static_cast<uint32_t>(p.x_addr);
  const std::vector<Case> cases = {
      {"n_tokens 0", reg(regs::kNTokens, 0), kErrNTokens},
      {"n_tokens NMax+1", reg(regs::kNTokens, 17), kErrNTokens},
      {"n_valid 0", reg(regs::kNValid, 0), kErrNValid},
      {"n_valid > n_tokens", reg(regs::kNValid, 9), kErrNValid},
      {"d_model 0", reg(regs::kDModel, 0), kErrDModel},
      {"d_model > DMax", reg(regs::kDModel, 36), kErrDModel},
      {"d_model not a multiple of L", reg(regs::kDModel, 18), kErrDModel},
      {"heads 0", reg(regs::kNHeads, 0), kErrHeads},
      {"heads > HMax", reg(regs::kNHeads, 5), kErrHeads},
      {"heads not dividing d", reg(regs::kNHeads, 3), kErrHeads},
      {"d_head not a multiple of L", reg(regs::kNHeads, 8), kErrHeads},
      {"SPLS: d_head not a multiple of PredLanes", reg(regs::kNHeads, 4), kErrHeads},
      {"d_ff 0", reg(regs::kDFf, 0), kErrDFf},
      {"d_ff > DffMax", reg(regs::kDFf, 68), kErrDFf},
      {"d_ff not a multiple of L", reg(regs::kDFf, 6), kErrDFf},
      {"k 0", reg(regs::kK, 0), kErrK},
      {"k > KMax", reg(regs::kK, 5), kErrK},
      {"k > n_tokens",
       [&] {
         top.axil().Write(regs::kNTokens, 3);
         top.axil().Write(regs::kNValid, 3);
         top.axil().Write(regs::kK, 4);
       },
       kErrK},
      {"w > WMax", reg(regs::kW, 3), kErrW},
      {"t > NMax", reg(regs::kT, 17), kErrT},
      {"HLog bits 3", reg(regs::kSpls, regs::kSplsEnMask | 3u << regs::kSplsHlogBitsLsb),
       kErrHlogBits},
      {"HLog bits 9", reg(regs::kSpls, regs::kSplsEnMask | 9u << regs::kSplsHlogBitsLsb),
       kErrHlogBits},
      {"X misaligned", reg(regs::kXAddrLo, x_lo + 2), kErrAddr},
      {"W above 4 GiB", reg(regs::kWAddrHi, 1), kErrAddr},
      {"Y past the top", reg(regs::kYAddrLo, 0xffffffc0u), kErrAddr},
      {"X too small", reg(regs::kXSize, p.x_size - 1), kErrSize},
      {"W too small", reg(regs::kWSize, p.w_size - 1), kErrSize},
      {"Y too small", reg(regs::kYSize, p.y_size - 1), kErrSize},
      {"DEC too small", reg(regs::kDecSize, p.dec_size - 1), kErrSize},
      {"Y on X", reg(regs::kYAddrLo, x_lo), kErrOverlap},
      {"DEC in W", reg(regs::kDecAddrLo, static_cast<uint32_t>(p.w_addr) + 64), kErrOverlap},
      {"Y on DEC", reg(regs::kYAddrLo, static_cast<uint32_t>(p.dec_addr)), kErrOverlap},
      {"header shift 48", [&] { top.mem().bytes()[p.w_addr + 2] = 48; }, kErrHdr},
      {"header residual mult 2^15+1",
       [&] {
         top.mem().bytes()[p.w_addr + 40] = 0x01;
         top.mem().bytes()[p.w_addr + 41] = 0x80;
       },
       kErrHdr},
      {"SLVERR on a weight read", [&] { top.mem().InjectSlvErr(p.w_addr + 64, p.w_addr + 72); },
       kErrDmaRd},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    // A configuration or buffer error ends in the check (DhMax/L + 5 cycles, plus the
    // START write's AXI4-Lite latency); HDR and DMA_RD after (part of) the load.
    const uint64_t bound = c.want < kErrHdr ? 40 : 20000;
    ExpectRejected(top, l, p, c.spoil, c.want, bound);
    top.mem().ClearSlvErr();
    if (HasFailure()) return;
  }
  // The unit is usable afterwards.
  ExpectGolden(l, top.Run(l, p, 2'000'000));
}

TEST(TopTiny, WriteError) {
  const uint64_t seed = PrintedSeed();
  TopT top(seed, TopTraffic::Random());
  const TopLayer l = FaultLayer();
  const TopPlacement p = TopT::Place(l);
  top.mem().InjectSlvErr(p.y_addr, p.y_addr + 4);
  const TopRun r = top.Run(l, p, 2'000'000);
  EXPECT_EQ(r.err_code, kErrDmaWr);
  top.mem().ClearSlvErr();
  ExpectGolden(l, top.Run(l, p, 2'000'000));
}

TEST(TopTiny, StartWhileBusy) {
  const uint64_t seed = PrintedSeed();
  TopT top(seed, TopTraffic::Random());
  const TopLayer l = FaultLayer();
  const TopPlacement p = TopT::Place(l);
  top.Program(l, p);
  top.Start();
  top.axil().Idle(300);
  top.Start();  // while busy: reported, ignored
  ASSERT_TRUE(top.WaitDone(2'000'000));
  const TopRun r = top.Collect(l, p);
  EXPECT_EQ(r.err_code, kErrBusy);
  const LayerResult want = RunLayer(l.params, l.x, l.n_valid, l.spls);
  EXPECT_TRUE(r.y == want.y) << "Y of the run that was started twice";
  ExpectGolden(l, top.Run(l, p, 2'000'000));
}

TEST(TopTiny, ResetMidRun) {
  const uint64_t seed = PrintedSeed();
  TopT top(seed, TopTraffic::Random());
  TopLayer l = FaultLayer();
  for (const uint64_t at : {40, 400, 3000}) {
    SCOPED_TRACE("reset " + std::to_string(at) + " cycles after start");
    const TopPlacement p = TopT::Place(l);
    top.Program(l, p);
    top.Start();
    top.axil().Idle(static_cast<int>(at));
    top.harness().Reset();
    top.mem().Reset();
    top.axil().SetIdle();
    ExpectGolden(l, top.Run(l, p, 2'000'000));
  }
}

}  // namespace
}  // namespace esact
