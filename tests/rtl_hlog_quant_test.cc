// esact_hlog_quant against the golden HlogEncode (golden/hlog.h), bit for bit.
//
//   HlogQuantSweep   every int8 value in every lane, plus a random stream, for each
//                    configuration (lanes 1, 4) x input idle pattern x output
//                    back-pressure pattern x bit-width 4..8 x rounding mode.
//   CfgErrorDrains*  an out-of-range bit-width raises cfg_err_o, the stream still
//                    drains (all zero codes), and a legal width afterwards works again.
//   Throughput*      without stalls N beats take at most N + 2 cycles.
//   ContractViolationFailsTheTest
//                    a source that drops valid while stalled trips the RTL assertion,
//                    and the harness turns that into a test failure.
//   WaitFor*         the harness's bounded wait times out with a failure, never hangs.
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "Vesact_hlog_quant_l1.h"
#include "Vesact_hlog_quant_l4.h"
#include "Vesact_hlog_quant_l4_esact_pkg.h"
#include "golden/hlog.h"
#include "sim/harness.h"
#include "sim/hlog_quant_driver.h"

namespace esact {
namespace {

// esact_pkg mirrors golden/hlog.h; the Verilated package exports its public constants.
using Pkg = Vesact_hlog_quant_l4_esact_pkg;
static_assert(Pkg::INT8_W == 8);
static_assert(Pkg::HLOG_CODE_W == kHlogCodeBits);
static_assert(Pkg::HLOG_SIGN_BIT == kHlogSignBit);
static_assert(Pkg::HLOG_EXP_LSB == kHlogExpLsb);
static_assert(Pkg::HLOG_EXP_W == kHlogExpBits);
static_assert(Pkg::HLOG_HALF_BIT == kHlogHalfBit);
static_assert(Pkg::HLOG_ZERO == kHlogZero);
static_assert(Pkg::HLOG_MIN_BITS == kHlogMinBits);
static_assert(Pkg::HLOG_MAX_BITS == kHlogMaxBits);

using sim::Harness;
using sim::HlogQuantDriver;
using sim::kInt8Bits;
using sim::LaneCode;
using sim::LaneValue;
using sim::Pack;
using sim::StallSpec;
using sim::TestSeed;

const char* RoundName(HlogRound r) { return r == HlogRound::kNearest ? "nearest" : "tz"; }

// Every int8 value in every lane (lane l runs 256 values offset by 256 * l / lanes), then
// `n_random` uniformly random beats.
std::vector<uint32_t> StimulusBeats(int lanes, int n_random, uint64_t seed) {
  std::vector<int> values;
  for (int i = 0; i < 256; ++i) {
    for (int l = 0; l < lanes; ++l) values.push_back((i + l * 256 / lanes) % 256 - 128);
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (int i = 0; i < n_random * lanes; ++i) values.push_back(dist(rng));
  return Pack(values, lanes);
}

// Compares output beats to HlogEncode of the input beats; reports the first mismatches.
void ExpectCodes(const std::vector<uint32_t>& in, const std::vector<uint32_t>& out, int lanes,
                 int bits, HlogRound round, uint64_t seed) {
  ASSERT_EQ(out.size(), in.size()) << "beats out vs in (seed " << seed << ")";
  int mismatches = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    for (int l = 0; l < lanes; ++l) {
      const int x = LaneValue(in[i], l);
      const uint32_t want = HlogEncode(x, bits, round);
      const uint32_t got = LaneCode(out[i], l);
      if (got != want && ++mismatches <= 10) {
        ADD_FAILURE() << "beat " << i << " lane " << l << ": x=" << x << " bits=" << bits
                      << " round=" << RoundName(round) << ": code 0x" << std::hex << got
                      << ", golden 0x" << want << std::dec << " (seed " << seed << ")";
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "mismatching codes in total (seed " << seed << ")";
}

// ---- Sweep ------------------------------------------------------------------------------

struct SweepCase {
  int lanes;
  StallSpec in_stall;   // idle cycles of the source
  StallSpec out_stall;  // back-pressure of the sink
  int bits;
  HlogRound round;

  std::string Name() const {
    return "l" + std::to_string(lanes) + "_in_" + in_stall.Name() + "_out_" + out_stall.Name() +
           "_b" + std::to_string(bits) + "_" + RoundName(round);
  }
};

void PrintTo(const SweepCase& c, std::ostream* os) { *os << c.Name(); }

std::vector<SweepCase> SweepCases() {
  const StallSpec stalls[] = {StallSpec::None(), StallSpec::Random(0.3), StallSpec::Bursty()};
  std::vector<SweepCase> cases;
  for (int lanes : {1, 4}) {
    for (const StallSpec& in_stall : stalls) {
      for (const StallSpec& out_stall : stalls) {
        for (int bits = kHlogMinBits; bits <= kHlogMaxBits; ++bits) {
          for (HlogRound round : {HlogRound::kTowardZero, HlogRound::kNearest}) {
            cases.push_back({lanes, in_stall, out_stall, bits, round});
          }
        }
      }
    }
  }
  return cases;
}

class HlogQuantSweep : public ::testing::TestWithParam<SweepCase> {};

template <class Model, int kLanes>
void RunSweep(const SweepCase& c, uint64_t seed) {
  HlogQuantDriver<Model, kLanes> bench(seed);
  bench.Configure(c.bits, c.round);
  EXPECT_FALSE(bench.cfg_err()) << "cfg_err_o for legal bits " << c.bits;
  const std::vector<uint32_t> in = StimulusBeats(kLanes, 256, seed);
  // The stall patterns average well under 40 cycles per beat: a bound that still fails fast.
  uint64_t cycles = 0;
  const std::vector<uint32_t> out =
      bench.Run(in, c.in_stall, c.out_stall, seed, 40 * in.size() + 100, &cycles);
  if (c.in_stall.kind == StallSpec::Kind::kNone && c.out_stall.kind == StallSpec::Kind::kNone) {
    EXPECT_LE(cycles, in.size() + 2);
  } else {
    EXPECT_GT(cycles, in.size() + 2) << "the stall patterns inserted no stall";
  }
  ExpectCodes(in, out, kLanes, c.bits, c.round, seed);
}

TEST_P(HlogQuantSweep, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  if (GetParam().lanes == 1) {
    RunSweep<Vesact_hlog_quant_l1, 1>(GetParam(), seed);
  } else {
    RunSweep<Vesact_hlog_quant_l4, 4>(GetParam(), seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, HlogQuantSweep, ::testing::ValuesIn(SweepCases()),
                         [](const ::testing::TestParamInfo<SweepCase>& info) {
                           return info.param.Name();
                         });

// ---- Configuration error ----------------------------------------------------------------

template <class Model, int kLanes>
void RunCfgError(uint64_t seed) {
  HlogQuantDriver<Model, kLanes> bench(seed);
  const std::vector<uint32_t> in = StimulusBeats(kLanes, 64, seed);
  for (int bits : {0, 1, 2, 3, 9, 10, 15}) {
    SCOPED_TRACE("cfg_bits_i " + std::to_string(bits));
    bench.Configure(bits, HlogRound::kNearest);
    EXPECT_TRUE(bench.cfg_err()) << "cfg_err_o low for illegal bits";
    const std::vector<uint32_t> out = bench.Run(in, StallSpec::Random(0.3), StallSpec::Bursty(),
                                                seed + bits, 40 * in.size() + 100);
    ASSERT_EQ(out.size(), in.size()) << "stream did not drain";
    for (size_t i = 0; i < out.size(); ++i) {
      for (int l = 0; l < kLanes; ++l) {
        ASSERT_EQ(LaneCode(out[i], l), kHlogZero) << "beat " << i << " lane " << l;
      }
    }
  }
  // A legal width afterwards encodes normally again.
  bench.Configure(6, HlogRound::kTowardZero);
  EXPECT_FALSE(bench.cfg_err());
  const std::vector<uint32_t> out =
      bench.Run(in, StallSpec::None(), StallSpec::None(), seed, in.size() + 10);
  ExpectCodes(in, out, kLanes, 6, HlogRound::kTowardZero, seed);
}

TEST(HlogQuant, CfgErrorDrainsLanes1) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCfgError<Vesact_hlog_quant_l1, 1>(seed);
}

TEST(HlogQuant, CfgErrorDrainsLanes4) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCfgError<Vesact_hlog_quant_l4, 4>(seed);
}

// ---- Throughput -------------------------------------------------------------------------

template <class Model, int kLanes>
void RunThroughput(uint64_t seed) {
  HlogQuantDriver<Model, kLanes> bench(seed);
  bench.Configure(8, HlogRound::kNearest);
  for (int n : {1, 2, 17, 100}) {
    SCOPED_TRACE("beats " + std::to_string(n));
    const std::vector<uint32_t> in = StimulusBeats(kLanes, n, seed);
    const std::vector<uint32_t> burst(in.end() - n, in.end());
    uint64_t cycles = 0;
    bool ready_always = false;
    const std::vector<uint32_t> out = bench.Run(burst, StallSpec::None(), StallSpec::None(), seed,
                                                10 * n + 10, &cycles, &ready_always);
    ExpectCodes(burst, out, kLanes, 8, HlogRound::kNearest, seed);
    EXPECT_LE(cycles, static_cast<uint64_t>(n) + 2) << "N beats must take at most N + 2 cycles";
    EXPECT_TRUE(ready_always) << "in_ready_o dropped without back-pressure";
  }
}

TEST(HlogQuant, ThroughputLanes1) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunThroughput<Vesact_hlog_quant_l1, 1>(seed);
}

TEST(HlogQuant, ThroughputLanes4) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunThroughput<Vesact_hlog_quant_l4, 4>(seed);
}

// ---- The assertions and the harness catch a protocol violation -------------------------

// Holds a beat under back-pressure, then drops in_valid_i before it was accepted: the
// RTL's InValidHeld_A fires, and the harness must report it as a failure of the test.
void ViolateInputContract() {
  Harness<Vesact_hlog_quant_l1> h(7);
  h->cfg_bits_i = 8;
  h->cfg_round_i = 0;
  h->in_data_i = 0;
  h->in_valid_i = 0;
  h->out_ready_i = 0;
  h.Reset();
  h->in_valid_i = 1;  // accepted: the stage fills
  h->in_data_i = 5;
  h.Tick();
  h->in_data_i = 6;  // not accepted: the stage is full and out_ready_i is low
  h.Tick();
  h->in_valid_i = 0;  // the violation: valid dropped while !in_ready_o
  h.Tick();
  h.Tick();
}

TEST(HlogQuant, ContractViolationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(ViolateInputContract(), "RTL reported an error");
}

// ---- Harness::WaitFor: a bounded wait, never a hang --------------------------------------

void WaitForIdleOutput() {
  Harness<Vesact_hlog_quant_l1> h(3);
  h->cfg_bits_i = 8;
  h->cfg_round_i = 0;
  h->in_data_i = 0;
  h->in_valid_i = 0;
  h->out_ready_i = 1;
  h.Reset();
  // Nothing is sent, so no output ever comes.
  h.WaitFor([&] { return h->out_valid_o != 0; }, 20, "an output beat that never comes");
}

TEST(HlogQuant, WaitForTimesOut) {
  EXPECT_NONFATAL_FAILURE(WaitForIdleOutput(), "timeout: an output beat that never comes");
}

TEST(HlogQuant, WaitForFirstOutput) {
  Harness<Vesact_hlog_quant_l1> h(TestSeed());
  h->cfg_bits_i = 8;
  h->cfg_round_i = 0;
  h->in_valid_i = 0;
  h->out_ready_i = 0;
  h.Reset();
  h->in_valid_i = 1;
  h->in_data_i = static_cast<uint8_t>(-96);
  h.Tick();
  h->in_valid_i = 0;
  const uint64_t start = h.cycle();
  ASSERT_TRUE(h.WaitFor([&] { return h->out_valid_o != 0; }, 5, "first output beat"));
  EXPECT_EQ(h.cycle(), start) << "the beat is registered on the accepting edge";
  EXPECT_EQ(h->out_data_o, HlogEncode(-96, 8, HlogRound::kTowardZero));
}

}  // namespace
}  // namespace esact
