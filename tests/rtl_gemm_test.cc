// esact_gemm against esact::LinearRows / esact::LinearRow (golden/engines.h): the whole
// n_tokens x N output (listed rows, zeros elsewhere) is compared, and the first differing
// element is printed with its accumulator.
//
//   GemmRandom       random shapes (K and N not multiples of the array, up to KMax and
//                    NOutMax), random row lists (any order, skipped rows, empty, full),
//                    random values, biases and requantization factors, on both synthesized
//                    configurations under five stall shapes (none, random 30% on all,
//                    bursty on all, bursty inputs only, bursty output only), many runs
//                    back to back through one unit.
//   GemmEdge         extreme values (saturation both ways, -128 everywhere, int32 limits
//                    with the bias at +-MaxLinearBias), requantization edges (mult 0, 1,
//                    65535, shift 0, 1, 46, 47, rounding ties), K = 1, K = KMax, N = 1,
//                    N = NOutMax, K around XLanes, one row, Rows + 1 rows, all rows.
//   GemmCycles       without stalls the documented count: exact in the compute-bound
//                    regime, below the bound everywhere; compaction (a list of m rows
//                    costs the same whichever rows they are).
//   GemmCfgError     each illegal field gives its error code, consumes nothing, raises
//                    done_o after 2 cycles; an empty list completes the same way; the next
//                    legal run is correct.
//   GemmMiniLm       the 16 x 16 configuration (wide ports) on small shapes; and
//                    (DenseUtilization, ctest label `full`) the MiniLM shapes, 128 rows,
//                    K x N = 384 x 384, 384 x 1536, 1536 x 384: bit-exact, cycles equal to
//                    the formula, utilization >= 90%.
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
// ESACT_VERBOSE=1 prints one line per run (shape, cycles, utilization).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "Vesact_gemm_minilm.h"
#include "Vesact_gemm_minilm_esact_gemm.h"
#include "Vesact_gemm_r3c5.h"
#include "Vesact_gemm_r3c5_esact_gemm.h"
#include "Vesact_gemm_r4c4.h"
#include "Vesact_gemm_r4c4_esact_gemm.h"
#include "Vesact_gemm_r4c4_esact_pkg.h"
#include "golden/engines.h"
#include "golden/layer.h"
#include "golden/matrix.h"
#include "golden/quant.h"
#include "sim/gemm_driver.h"
#include "sim/harness.h"

namespace esact {
namespace {

using sim::Bits;
using sim::GemmCfg;
using sim::GemmResult;
using sim::GemmStalls;
using sim::StallSpec;
using sim::TestSeed;

// The package constants that the golden model also defines.
using Pkg = Vesact_gemm_r4c4_esact_pkg;
static_assert(Pkg::GEMM_ACC_W == 32, "int32 accumulation (kLinearAccLimit = 2^31)");
static_assert(int64_t{1} << (Pkg::GEMM_ACC_W - 1) == kLinearAccLimit);
// The requantization constants of every engine (esact_requant; checked here once, the
// attention and vector tests rely on it).
static_assert(Pkg::REQ_MULT_W == kRequantMultBits);
static_assert((1 << Pkg::REQ_MULT_W) - 1 == kRequantMaxMult, "every mult is legal");
static_assert(Pkg::REQ_MAX_SHIFT == kRequantMaxShift);
static_assert((1 << Pkg::REQ_SHIFT_W) - 1 >= kRequantMaxShift, "the shift field holds 0..47");

using DriverR4C4 = sim::GemmDriver<Vesact_gemm_r4c4, Vesact_gemm_r4c4_esact_gemm>;
using DriverR3C5 = sim::GemmDriver<Vesact_gemm_r3c5, Vesact_gemm_r3c5_esact_gemm>;
using DriverMiniLm = sim::GemmDriver<Vesact_gemm_minilm, Vesact_gemm_minilm_esact_gemm>;

// ---- Problems -----------------------------------------------------------------------------

// One GEMM problem and its description for failure messages.
struct Problem {
  Matrix<int8_t> x;  // n_tokens x K
  QuantLinear lin;   // K x N, bias, rq
  std::vector<int> rows;
  std::string what;
};

std::string ListString(const std::vector<int>& rows) {
  std::ostringstream os;
  os << "{";
  for (size_t i = 0; i < rows.size() && i < 24; ++i) os << (i ? " " : "") << rows[i];
  if (rows.size() > 24) os << " ...";
  os << "}";
  return os.str();
}

std::string Describe(const Problem& p) {
  std::ostringstream os;
  os << "tokens " << p.x.rows << " n_rows " << p.rows.size() << " " << ListString(p.rows) << " K "
     << p.lin.w.rows << " N " << p.lin.w.cols << " mult " << p.lin.rq.mult << " shift "
     << p.lin.rq.shift;
  if (!p.what.empty()) os << " [" << p.what << "]";
  return os.str();
}

enum class Values { kRandom, kSmall, kMinus128, kMaxPositive, kMaxNegative, kExtremes };
enum class Bias { kRandom, kSmall, kZero, kMaxPositive, kMaxNegative, kFullRange };
enum class Rq { kCalibrated, kRandom, kEdges, kTies };
enum class List { kRandom, kEmpty, kFull, kFullShuffled, kSubsetSorted, kOne, kRowsPlusOne };

// A problem within a configuration's limits; fields >= 0 are fixed.
struct Shape {
  int n_tokens = -1, k = -1, nout = -1;
  int mult = -1, shift = -1;
  Values x_values = Values::kRandom, w_values = Values::kRandom;
  Bias bias = Bias::kRandom;
  Rq rq = Rq::kCalibrated;
  List list = List::kRandom;
};

int8_t Draw(Values v, std::mt19937_64& rng, bool is_weight) {
  switch (v) {
    case Values::kRandom:
      return static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    case Values::kSmall:
      return static_cast<int8_t>(static_cast<int>(rng() % 7) - 3);
    case Values::kMinus128:
      return -128;
    case Values::kMaxPositive:  // x = w = -128: every product +2^14
      return -128;
    case Values::kMaxNegative:  // x = -128, w = 127: every product -16256
      return is_weight ? 127 : -128;
    case Values::kExtremes: {
      const int8_t e[] = {-128, -127, -1, 0, 1, 127};
      return e[rng() % 6];
    }
  }
  return 0;
}

// The largest |acc| of the listed rows (before the bias), for the calibrated requant.
int64_t MaxAbsAcc(const Problem& p) {
  int64_t m = 1;
  for (int r : p.rows) {
    for (int c = 0; c < p.lin.w.cols; ++c) {
      int64_t acc = p.lin.bias[c];
      for (int k = 0; k < p.lin.w.rows; ++k) acc += int32_t{p.x.at(r, k)} * p.lin.w.at(k, c);
      m = std::max<int64_t>(m, std::llabs(acc));
    }
  }
  return m;
}

Problem MakeProblem(int n_rows_max, int k_max, int nout_max, int tile_rows, const Shape& s,
                    std::mt19937_64& rng) {
  auto pick = [&rng](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  Problem p;
  const int n_tokens = s.n_tokens >= 0 ? s.n_tokens : pick(1, n_rows_max);
  const int k = s.k >= 0 ? s.k : pick(1, k_max);
  const int nout = s.nout >= 0 ? s.nout : pick(1, nout_max);
  p.x = Matrix<int8_t>(n_tokens, k);
  for (auto& v : p.x.data) v = Draw(s.x_values, rng, false);
  p.lin.w = Matrix<int8_t>(k, nout);
  for (auto& v : p.lin.w.data) v = Draw(s.w_values, rng, true);
  const int64_t bmax = MaxLinearBias(k);
  p.lin.bias.resize(nout);
  for (auto& b : p.lin.bias) {
    switch (s.bias) {
      case Bias::kRandom:  // mostly the scale of the products, sometimes anything legal
        b = rng() % 8 == 0
                ? static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * bmax + 1)) - bmax)
                : pick(-(1 << 14) * 4, (1 << 14) * 4);
        break;
      case Bias::kSmall:
        b = pick(-100, 100);
        break;
      case Bias::kZero:
        b = 0;
        break;
      case Bias::kMaxPositive:
        b = static_cast<int32_t>(bmax);
        break;
      case Bias::kMaxNegative:
        b = static_cast<int32_t>(-bmax);
        break;
      case Bias::kFullRange:
        b = static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * bmax + 1)) - bmax);
        break;
    }
  }

  // Row list.
  std::vector<int> all(n_tokens);
  std::iota(all.begin(), all.end(), 0);
  switch (s.list) {
    case List::kRandom: {
      std::shuffle(all.begin(), all.end(), rng);
      const int m = rng() % 8 == 0 ? n_tokens : pick(0, n_tokens);
      p.rows.assign(all.begin(), all.begin() + m);
      break;
    }
    case List::kEmpty:
      break;
    case List::kFull:
      p.rows = all;
      break;
    case List::kFullShuffled:
      std::shuffle(all.begin(), all.end(), rng);
      p.rows = all;
      break;
    case List::kSubsetSorted:
      for (int r : all) {
        if (rng() % 2) p.rows.push_back(r);
      }
      break;
    case List::kOne:
      p.rows = {pick(0, n_tokens - 1)};
      break;
    case List::kRowsPlusOne:
      std::shuffle(all.begin(), all.end(), rng);
      p.rows.assign(all.begin(), all.begin() + std::min(n_tokens, tile_rows + 1));
      break;
  }

  // Requantization.
  switch (s.rq) {
    case Rq::kCalibrated:  // the largest |acc| maps to about 100..400: some saturation
      p.lin.rq = QuantizeMultiplier(pick(100, 400) / static_cast<double>(MaxAbsAcc(p)));
      break;
    case Rq::kRandom:
      p.lin.rq.mult = pick(0, kRequantMaxMult);
      p.lin.rq.shift = pick(0, kRequantMaxShift);
      break;
    case Rq::kEdges: {
      const int mults[] = {0, 1, 2, 32767, 32768, kRequantMaxMult};
      const int shifts[] = {0, 1, 2, 15, 31, 32, 46, kRequantMaxShift};
      p.lin.rq.mult = mults[rng() % 6];
      p.lin.rq.shift = shifts[rng() % 8];
      break;
    }
    case Rq::kTies:  // acc * mult / 2^shift lands on .5 often
      p.lin.rq.mult = pick(1, 3);
      p.lin.rq.shift = pick(1, 3);
      break;
  }
  if (s.mult >= 0) p.lin.rq.mult = s.mult;
  if (s.shift >= 0) p.lin.rq.shift = s.shift;
  return p;
}

template <class Driver>
Problem MakeProblemFor(const Shape& s, std::mt19937_64& rng) {
  return MakeProblem(Driver::kNRowsMax, Driver::kKMax, Driver::kNOutMax, Driver::kRows, s, rng);
}

// Compares the whole output with LinearRows; reports the first difference.
bool ExpectSameOutput(const Matrix<int8_t>& got, const Problem& p, uint64_t seed) {
  const Matrix<int8_t> want = LinearRows(p.x, p.lin, p.rows);
  const std::string ctx = Describe(p) + ", seed " + std::to_string(seed);
  if (got.rows != want.rows || got.cols != want.cols) {
    ADD_FAILURE() << "Y is " << got.rows << " x " << got.cols << ", want " << want.rows << " x "
                  << want.cols << "; " << ctx;
    return false;
  }
  for (int r = 0; r < want.rows; ++r) {
    for (int c = 0; c < want.cols; ++c) {
      if (got.at(r, c) != want.at(r, c)) {
        int64_t acc = p.lin.bias[c];
        for (int k = 0; k < p.lin.w.rows; ++k) acc += int32_t{p.x.at(r, k)} * p.lin.w.at(k, c);
        ADD_FAILURE() << "first Y difference: row " << r << " column " << c << ": got "
                      << int(got.at(r, c)) << ", want " << int(want.at(r, c)) << " (acc " << acc
                      << ", row listed: "
                      << (std::find(p.rows.begin(), p.rows.end(), r) != p.rows.end()) << "); "
                      << ctx;
        return false;
      }
    }
  }
  return true;
}

template <class Driver>
bool RunAndCompare(Driver& drv, const Problem& p, const GemmStalls& stalls, uint64_t seed,
                   GemmResult* out = nullptr) {
  using D = Driver;
  GemmResult r = drv.RunGemm(p.x, p.lin, p.rows, stalls, seed, {true, seed});
  const uint64_t n = p.rows.size(), k = p.lin.w.rows, nout = p.lin.w.cols;
  const uint64_t steps = D::Ceil(n, D::kRows) * D::Ceil(nout, D::kCols);
  EXPECT_TRUE(r.done) << Describe(p);
  EXPECT_EQ(r.err_code, 0) << "error code for a legal configuration; " << Describe(p);
  EXPECT_EQ(r.order_error, "") << "output order; " << Describe(p);
  EXPECT_EQ(r.x_taken, n * D::Ceil(k, D::kXLanes)) << "X beats; " << Describe(p);
  EXPECT_EQ(r.w_taken, steps * k) << "W beats; " << Describe(p);
  EXPECT_EQ(r.b_taken, steps) << "B beats; " << Describe(p);
  bool ok = r.done && r.err_code == 0 && r.order_error.empty();
  if (r.done && r.err_code == 0) ok = ExpectSameOutput(r.y, p, seed) && ok;
  if (std::getenv("ESACT_VERBOSE") != nullptr) {
    std::printf("  %s: %llu cycles (bound %llu), utilization %.3f, %s\n", Describe(p).c_str(),
                static_cast<unsigned long long>(r.cycles),
                static_cast<unsigned long long>(D::CycleBound(n, k, nout)), r.utilization,
                ok ? "ok" : "MISMATCH");
  }
  if (out != nullptr) *out = r;
  return ok && !::testing::Test::HasFailure();
}

// ---- Random problems, both synthesized configurations, stall shapes ------------------------

struct RandomCase {
  std::string config;  // r4c4, r3c5
  std::string stall_name;
  GemmStalls stalls;
  std::string Name() const { return config + "_" + stall_name; }
};
void PrintTo(const RandomCase& c, std::ostream* os) { *os << c.Name(); }

std::vector<RandomCase> RandomCases() {
  const StallSpec rnd = StallSpec::Random(0.3), bursty = StallSpec::Bursty(0.1, 8);
  std::vector<RandomCase> cases;
  for (const char* config : {"r4c4", "r3c5"}) {
    cases.push_back({config, "none", GemmStalls::None()});
    cases.push_back({config, "all_rand30", GemmStalls::All(rnd)});
    cases.push_back({config, "all_bursty", GemmStalls::All(bursty)});
    cases.push_back({config, "in_bursty", GemmStalls::Inputs(bursty)});
    cases.push_back({config, "out_bursty", GemmStalls::Outputs(bursty)});
  }
  return cases;
}

class GemmRandom : public ::testing::TestWithParam<RandomCase> {};

template <class Driver>
void RunRandom(const GemmStalls& stalls, int problems, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int i = 0; i < problems; ++i) {
    Shape s;
    const int kind = static_cast<int>(rng() % 10);
    s.x_values = kind == 0 ? Values::kExtremes : Values::kRandom;
    s.w_values = kind == 1 ? Values::kExtremes : Values::kRandom;
    s.rq = kind == 2   ? Rq::kRandom
           : kind == 3 ? Rq::kEdges
           : kind == 4 ? Rq::kTies
                       : Rq::kCalibrated;
    s.bias = kind == 5 ? Bias::kFullRange : kind == 4 ? Bias::kSmall : Bias::kRandom;
    s.list = kind == 6 ? List::kFullShuffled : List::kRandom;
    // Small shapes half of the time: more row tiles and column tiles per cycle simulated.
    if (rng() % 2) {
      s.k = 1 + static_cast<int>(rng() % std::min(Driver::kKMax, 3 * Driver::kXLanes));
      s.nout = 1 + static_cast<int>(rng() % std::min(Driver::kNOutMax, 3 * Driver::kCols));
    }
    const Problem p = MakeProblemFor<Driver>(s, rng);
    SCOPED_TRACE("problem " + std::to_string(i) + ": " + Describe(p));
    if (!RunAndCompare(drv, p, stalls, seed + i)) return;  // the first failure is enough
  }
}

TEST_P(GemmRandom, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const RandomCase& c = GetParam();
  const int problems = c.stall_name == "none" ? 300 : 100;
  if (c.config == "r4c4") {
    RunRandom<DriverR4C4>(c.stalls, problems, seed);
  } else {
    RunRandom<DriverR3C5>(c.stalls, problems, seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, GemmRandom, ::testing::ValuesIn(RandomCases()),
                         [](const ::testing::TestParamInfo<RandomCase>& info) {
                           return info.param.Name();
                         });

// ---- Edge cases ---------------------------------------------------------------------------

// The limits of a configuration, for edge shapes that depend on them.
struct Limits {
  int k_max, nout_max, n_rows_max, rows, cols, x_lanes;
};

struct EdgeCase {
  std::string name;
  std::function<Shape(const Limits&)> make;
};
void PrintTo(const EdgeCase& c, std::ostream* os) { *os << c.name; }

std::vector<EdgeCase> EdgeCases() {
  using F = std::function<Shape(const Limits&)>;
  auto shape = [](std::function<void(Shape&, const Limits&)> f) -> F {
    return [f](const Limits& l) {
      Shape s;
      f(s, l);
      return s;
    };
  };
  return {
      {"empty_list", shape([](Shape& s, const Limits&) { s.list = List::kEmpty; })},
      {"full_list",
       shape([](Shape& s, const Limits& l) { s.n_tokens = l.n_rows_max, s.list = List::kFull; })},
      {"full_list_shuffled", shape([](Shape& s, const Limits& l) {
         s.n_tokens = l.n_rows_max, s.list = List::kFullShuffled;
       })},
      {"one_row", shape([](Shape& s, const Limits&) { s.list = List::kOne; })},
      {"rows_plus_one", shape([](Shape& s, const Limits& l) {
         s.n_tokens = l.n_rows_max, s.list = List::kRowsPlusOne;
       })},
      {"subset_sorted", shape([](Shape& s, const Limits&) { s.list = List::kSubsetSorted; })},
      {"k1", shape([](Shape& s, const Limits&) { s.k = 1; })},
      {"k_max", shape([](Shape& s, const Limits& l) { s.k = l.k_max; })},
      {"k_xlanes_minus1",
       shape([](Shape& s, const Limits& l) { s.k = std::max(1, l.x_lanes - 1); })},
      {"k_xlanes_plus1", shape([](Shape& s, const Limits& l) { s.k = l.x_lanes + 1; })},
      {"n1", shape([](Shape& s, const Limits&) { s.nout = 1; })},
      {"n_max", shape([](Shape& s, const Limits& l) { s.nout = l.nout_max; })},
      {"n_cols_plus1", shape([](Shape& s, const Limits& l) { s.nout = l.cols + 1; })},
      {"k1_n1_one_row",
       shape([](Shape& s, const Limits&) { s.k = 1, s.nout = 1, s.list = List::kOne; })},
      {"minus128_everywhere", shape([](Shape& s, const Limits&) {
         s.x_values = Values::kMinus128, s.w_values = Values::kMinus128, s.bias = Bias::kZero;
       })},
      {"int32_max_sum", shape([](Shape& s, const Limits& l) {
         // every product +2^14 and the bias at +MaxLinearBias: acc = 2^31 - 1 exactly
         s.k = l.k_max, s.x_values = Values::kMaxPositive, s.w_values = Values::kMaxPositive;
         s.bias = Bias::kMaxPositive, s.rq = Rq::kEdges;
       })},
      {"int32_min_side", shape([](Shape& s, const Limits& l) {
         s.k = l.k_max, s.x_values = Values::kMaxNegative, s.w_values = Values::kMaxNegative;
         s.bias = Bias::kMaxNegative, s.rq = Rq::kEdges;
       })},
      {"bias_full_range",
       shape([](Shape& s, const Limits&) { s.bias = Bias::kFullRange, s.rq = Rq::kRandom; })},
      {"saturate_high", shape([](Shape& s, const Limits&) {
         s.x_values = Values::kMaxPositive, s.w_values = Values::kMaxPositive, s.mult = 65535;
         s.shift = 0;
       })},
      {"saturate_low", shape([](Shape& s, const Limits&) {
         s.x_values = Values::kMaxNegative, s.w_values = Values::kMaxNegative, s.mult = 65535;
         s.shift = 0;
       })},
      {"mult0", shape([](Shape& s, const Limits&) { s.mult = 0; })},
      {"mult1_shift0", shape([](Shape& s, const Limits&) {
         s.x_values = Values::kSmall, s.w_values = Values::kSmall, s.bias = Bias::kSmall;
         s.mult = 1, s.shift = 0;
       })},
      {"mult_max_shift_max", shape([](Shape& s, const Limits&) {
         s.bias = Bias::kFullRange, s.mult = 65535, s.shift = 47;
       })},
      {"shift46", shape([](Shape& s, const Limits&) {
         s.bias = Bias::kFullRange, s.mult = 65535, s.shift = 46;
       })},
      {"rounding_ties", shape([](Shape& s, const Limits&) {
         s.x_values = Values::kSmall, s.w_values = Values::kSmall, s.bias = Bias::kSmall;
         s.rq = Rq::kTies;
       })},
      {"requant_edges", shape([](Shape& s, const Limits&) { s.rq = Rq::kEdges; })},
      {"extremes", shape([](Shape& s, const Limits&) {
         s.x_values = Values::kExtremes, s.w_values = Values::kExtremes, s.rq = Rq::kRandom;
       })},
  };
}

class GemmEdge : public ::testing::TestWithParam<EdgeCase> {};

template <class Driver>
void RunEdge(const std::function<Shape(const Limits&)>& make, uint64_t seed) {
  const Limits lim{Driver::kKMax, Driver::kNOutMax, Driver::kNRowsMax,
                   Driver::kRows, Driver::kCols,    Driver::kXLanes};
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  // Every case with and without stalls, a few random draws of the free fields.
  for (int i = 0; i < 6; ++i) {
    const Problem p = MakeProblemFor<Driver>(make(lim), rng);
    const GemmStalls stalls = i % 2 ? GemmStalls::All(StallSpec::Random(0.3)) : GemmStalls::None();
    SCOPED_TRACE("draw " + std::to_string(i) + ": " + Describe(p));
    if (!RunAndCompare(drv, p, stalls, seed + i)) return;
  }
}

TEST_P(GemmEdge, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  {
    SCOPED_TRACE("r4c4");
    RunEdge<DriverR4C4>(GetParam().make, seed);
  }
  {
    SCOPED_TRACE("r3c5");
    RunEdge<DriverR3C5>(GetParam().make, seed + 1000);
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, GemmEdge, ::testing::ValuesIn(EdgeCases()),
                         [](const ::testing::TestParamInfo<EdgeCase>& info) {
                           return info.param.name;
                         });

// The extreme edge cases really reach the int32 limits and saturation (so the edge tests
// test what they say).
TEST(GemmEdgeValues, ReachLimits) {
  std::mt19937_64 rng(TestSeed());
  Shape s;
  s.k = 64, s.x_values = Values::kMaxPositive, s.w_values = Values::kMaxPositive;
  s.bias = Bias::kMaxPositive, s.list = List::kFull;
  const Problem p = MakeProblem(16, 64, 64, 4, s, rng);
  EXPECT_EQ(MaxAbsAcc(p), (int64_t{1} << 31) - 1) << "acc = INT32_MAX";
}

// ---- Cycle count ----------------------------------------------------------------------------

// Without stalls: exact in the regime, below the bound always, utilization from the count.
template <class Driver>
void CheckCycles(Driver& drv, const Problem& p, uint64_t seed) {
  GemmResult r;
  ASSERT_TRUE(RunAndCompare(drv, p, GemmStalls::None(), seed, &r));
  const int n = static_cast<int>(p.rows.size()), k = p.lin.w.rows, nout = p.lin.w.cols;
  EXPECT_LE(r.cycles, Driver::CycleBound(n, k, nout)) << "cycle bound; " << Describe(p);
  if (Driver::InRegime(n, k, nout)) {
    EXPECT_EQ(r.cycles, Driver::CycleExact(n, k, nout)) << "exact cycle count; " << Describe(p);
  }
}

TEST(GemmCycles, ExactInRegime) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  {
    DriverR4C4 drv(seed);
    // (n, K, N): in the regime (K > Rows, Rows * XB <= CT * K).
    for (auto [n, k, nout] : {std::tuple{16, 64, 64},
                              {5, 17, 9},
                              {1, 5, 4},
                              {13, 8, 4},
                              {4, 40, 1},
                              {16, 5, 64},
                              {3, 64, 17}}) {
      Shape s;
      s.n_tokens = 16, s.k = k, s.nout = nout, s.list = List::kRandom;
      Problem p = MakeProblemFor<DriverR4C4>(s, rng);
      p.rows.resize(std::min<size_t>(p.rows.size(), n));
      while (static_cast<int>(p.rows.size()) < n) {  // top up to n distinct rows
        const int r = static_cast<int>(rng() % 16);
        if (std::find(p.rows.begin(), p.rows.end(), r) == p.rows.end()) p.rows.push_back(r);
      }
      ASSERT_TRUE(DriverR4C4::InRegime(n, k, nout)) << n << " " << k << " " << nout;
      SCOPED_TRACE(Describe(p));
      CheckCycles(drv, p, seed);
    }
  }
  {
    DriverR3C5 drv(seed);
    for (auto [k, nout] : {std::pair{50, 40}, {9, 11}, {24, 5}}) {
      Shape s;
      s.n_tokens = 20, s.k = k, s.nout = nout, s.list = List::kFullShuffled;
      const Problem p = MakeProblemFor<DriverR3C5>(s, rng);
      ASSERT_TRUE(DriverR3C5::InRegime(20, k, nout)) << k << " " << nout;
      SCOPED_TRACE(Describe(p));
      CheckCycles(drv, p, seed);
    }
  }
}

// Random shapes, also drain-bound (K <= Rows) and X-load-bound ones: never above the bound.
TEST(GemmCycles, BoundEverywhere) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverR4C4 drv4(seed);
  DriverR3C5 drv3(seed + 1);
  for (int i = 0; i < 40; ++i) {
    Shape s;  // within both configurations' limits
    s.k = 1 + static_cast<int>(rng() % (i % 2 ? 8 : 50));
    s.nout = 1 + static_cast<int>(rng() % (i % 3 ? 12 : 40));
    const Problem p4 = MakeProblemFor<DriverR4C4>(s, rng);
    SCOPED_TRACE("r4c4 " + Describe(p4));
    CheckCycles(drv4, p4, seed + i);
    const Problem p3 = MakeProblemFor<DriverR3C5>(s, rng);
    SCOPED_TRACE("r3c5 " + Describe(p3));
    CheckCycles(drv3, p3, seed + i);
    if (HasFailure()) return;
  }
}

// Compaction: a list of m rows costs the same whatever rows they are and however many
// tokens there are; fewer rows cost fewer cycles.
TEST(GemmCycles, SkippedRowsCostNothing) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverR4C4 drv(seed);
  Shape s;
  s.n_tokens = 16, s.k = 24, s.nout = 10, s.list = List::kFull;
  Problem p = MakeProblemFor<DriverR4C4>(s, rng);
  GemmResult full;
  ASSERT_TRUE(RunAndCompare(drv, p, GemmStalls::None(), seed, &full));
  const std::vector<std::vector<int>> lists = {
      {0, 1, 2, 3, 4, 5}, {15, 3, 9, 0, 12, 7}, {10, 11, 12, 13, 14, 15}, {6, 2}, {14}};
  for (const std::vector<int>& rows : lists) {
    p.rows = rows;
    SCOPED_TRACE(Describe(p));
    GemmResult r;
    ASSERT_TRUE(RunAndCompare(drv, p, GemmStalls::None(), seed, &r));
    const int n = static_cast<int>(rows.size());
    EXPECT_EQ(r.cycles, DriverR4C4::CycleExact(n, s.k, s.nout));
    EXPECT_LT(r.cycles, full.cycles);
  }
}

// ---- Configuration errors -------------------------------------------------------------------

template <class Driver>
void RunCfgErrors(uint64_t seed) {
  using Err = Pkg;
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  Shape s;
  s.n_tokens = Driver::kNRowsMax, s.k = 9, s.nout = Driver::kCols + 2;
  s.list = List::kFullShuffled;
  const Problem good = MakeProblemFor<Driver>(s, rng);
  const GemmCfg base = sim::MakeGemmCfg(good.lin, good.rows);
  const std::vector<sim::GemmXBeat> x_beats = Driver::XBeats(good.x, good.rows, base.in);
  auto w_beat = [&](uint64_t i) { return Driver::WBeat(good.lin, i); };
  auto b_beat = [&](uint64_t i) { return Driver::BBeat(good.lin, i); };

  struct Bad {
    std::string what;
    std::function<void(GemmCfg&)> set;
    int code;
  };
  const int nr = Driver::kNRowsMax, km = Driver::kKMax, nm = Driver::kNOutMax;
  const std::vector<Bad> bads = {
      {"n_rows NRowsMax+1", [nr](GemmCfg& c) { c.n_rows = nr + 1; }, Err::GEMM_ERR_N_ROWS},
      {"in 0", [](GemmCfg& c) { c.in = 0; }, Err::GEMM_ERR_IN},
      {"in KMax+1", [km](GemmCfg& c) { c.in = km + 1; }, Err::GEMM_ERR_IN},
      {"out 0", [](GemmCfg& c) { c.out = 0; }, Err::GEMM_ERR_OUT},
      {"out NOutMax+1", [nm](GemmCfg& c) { c.out = nm + 1; }, Err::GEMM_ERR_OUT},
      {"shift 48", [](GemmCfg& c) { c.shift = 48; }, Err::GEMM_ERR_SHIFT},
      {"shift 63", [](GemmCfg& c) { c.shift = 63; }, Err::GEMM_ERR_SHIFT},
      {"n_rows and in bad: first wins", [nr](GemmCfg& c) { c.n_rows = nr + 1, c.in = 0; },
       Err::GEMM_ERR_N_ROWS},
      {"in and out bad: first wins", [](GemmCfg& c) { c.in = 0, c.out = 0; }, Err::GEMM_ERR_IN},
      {"out and shift bad: first wins", [](GemmCfg& c) { c.out = 0, c.shift = 50; },
       Err::GEMM_ERR_OUT},
      {"empty list and shift bad: the error", [](GemmCfg& c) { c.n_rows = 0, c.shift = 48; },
       Err::GEMM_ERR_SHIFT},
      {"empty list: no error", [](GemmCfg& c) { c.n_rows = 0; }, Err::GEMM_ERR_NONE},
      {"empty list, mult 0, shift 47", [](GemmCfg& c) { c.n_rows = 0, c.mult = 0, c.shift = 47; },
       Err::GEMM_ERR_NONE},
  };
  for (const Bad& b : bads) {
    SCOPED_TRACE(b.what);
    GemmCfg c = base;
    b.set(c);
    // Every input offers beats the whole time (with stalls): none may be taken.
    const GemmResult r = drv.Run(c, x_beats, 1000, w_beat, 100, b_beat,
                                 GemmStalls::All(StallSpec::Random(0.3)), seed, 200);
    EXPECT_TRUE(r.done) << "done_o";
    EXPECT_EQ(r.err_code, b.code) << "error code";
    EXPECT_EQ(r.x_taken, 0u) << "X beats consumed";
    EXPECT_EQ(r.w_taken, 0u) << "W beats consumed";
    EXPECT_EQ(r.b_taken, 0u) << "B beats consumed";
    EXPECT_TRUE(r.ys.empty()) << "Y beats produced";
    EXPECT_EQ(r.cycles, 2u) << "cycles from start to done_o";
  }
  // A legal run afterwards is correct.
  {
    SCOPED_TRACE("good run after the errors");
    RunAndCompare(drv, good, GemmStalls::All(StallSpec::Random(0.3)), seed);
  }
  // An error after a good run still reports and then recovers.
  GemmCfg c = base;
  c.in = 0;
  const GemmResult r =
      drv.Run(c, x_beats, 1000, w_beat, 100, b_beat, GemmStalls::None(), seed, 200);
  EXPECT_EQ(r.err_code, Err::GEMM_ERR_IN);
  EXPECT_EQ(r.x_taken + r.w_taken + r.b_taken, 0u);
  RunAndCompare(drv, good, GemmStalls::None(), seed + 1);
}

TEST(GemmCfgError, EachFieldThenAGoodRunR4C4) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCfgErrors<DriverR4C4>(seed);
}

TEST(GemmCfgError, EachFieldThenAGoodRunR3C5) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunCfgErrors<DriverR3C5>(seed);
}

// ---- The 16 x 16 MiniLM configuration ------------------------------------------------------

// 128-bit X, W and Y beats, 512-bit B beats, 128 tokens: the driver's wide-port path.
TEST(GemmMiniLm, SmallShapes) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  struct Case {
    int n_tokens, k, nout;
    List list;
    GemmStalls stalls;
  };
  const Case cases[] = {
      {128, 40, 50, List::kRandom, GemmStalls::All(StallSpec::Random(0.2))},
      {128, 17, 33, List::kFullShuffled, GemmStalls::None()},
      {20, 64, 16, List::kSubsetSorted, GemmStalls::All(StallSpec::Bursty(0.1, 8))},
  };
  for (const Case& c : cases) {
    Shape s;
    s.n_tokens = c.n_tokens, s.k = c.k, s.nout = c.nout, s.list = c.list;
    const Problem p = MakeProblemFor<DriverMiniLm>(s, rng);
    SCOPED_TRACE(Describe(p));
    if (!RunAndCompare(drv, p, c.stalls, seed)) return;
  }
}

// MiniLM shapes, 128 dense rows: bit-exact, the exact cycle formula, utilization >= 90%;
// and a typical SPLS row list (43 of the 128 rows: cycles by the same formula with n = 43). Seconds
// of simulation, so CMakeLists.txt gives this test the label `full`.
TEST(GemmMiniLm, DenseUtilization) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  struct Case {
    int k, nout;
    List list;
  };
  // The last case keeps 43 of the shuffled rows: a typical SPLS anchor list.
  const Case cases[] = {{384, 384, List::kFull},
                        {384, 1536, List::kFull},
                        {1536, 384, List::kFull},
                        {384, 384, List::kFullShuffled}};
  for (const Case& c : cases) {
    Shape s;
    s.n_tokens = 128, s.k = c.k, s.nout = c.nout, s.list = c.list;
    Problem p = MakeProblemFor<DriverMiniLm>(s, rng);
    if (c.list == List::kFullShuffled) p.rows.resize(43);
    SCOPED_TRACE(Describe(p));
    GemmResult r;
    ASSERT_TRUE(RunAndCompare(drv, p, GemmStalls::None(), seed, &r));
    const int n = static_cast<int>(p.rows.size());
    ASSERT_TRUE(DriverMiniLm::InRegime(n, c.k, c.nout));
    EXPECT_EQ(r.cycles, DriverMiniLm::CycleExact(n, c.k, c.nout));
    if (n == 128) {
      EXPECT_GE(r.utilization, 0.90) << "dense utilization";
    } else {  // a partial last row tile: the row-tile quantization n / (RT Rows) is the loss
      const double fill = static_cast<double>(n) /
                          (DriverMiniLm::kRows * DriverMiniLm::Ceil(n, DriverMiniLm::kRows));
      EXPECT_GE(r.utilization, 0.90 * fill) << "utilization";
    }
    std::printf("MiniLM-shaped GEMM n %d K %d N %d: %llu cycles, %llu MACs, utilization %.4f\n", n,
                c.k, c.nout, static_cast<unsigned long long>(r.cycles),
                static_cast<unsigned long long>(r.macs), r.utilization);
  }
}

}  // namespace
}  // namespace esact
