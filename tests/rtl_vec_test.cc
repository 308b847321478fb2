// esact_vec against the golden rules (golden/quant.h, golden/engines.h): Requantize,
// SaturateInt8(a + b), ApplyLut and ResidualLayerNorm (IntLayerNorm of the residual
// RoundShift(a mult_a + b mult_b, 12)), every output row compared element by element, the
// first difference printed. Expected LN rows always come from esact::ResidualLayerNorm.
//
//   VecRandom       random runs of every mode back to back through one unit (parameters
//                   loaded, kept and reloaded), random d (1, DMax, multiples of Lanes and
//                   not), random data, gamma/beta, requant factors and residual mults
//                   (default 4096/4096, edges 0 and 2^15, QuantizeResidual ones, any in
//                   [0, 2^15]); both synthesized configurations x five stall shapes (none,
//                   random 30% and bursty on every stream, inputs only, outputs only).
//   VecLnEdge       saturating residuals (r = 2032 / -2048 at mults 2^15, 254 / -256 at
//                   the default), -128 everywhere, constant rows (-> Requantize(beta)),
//                   mults 0 (r = 0), one operand only, d = 1, one outlier (the largest
//                   |n|), gamma/beta and mult/shift at their extremes, d = DMax.
//   VecLn           constant rows; n unscaled (gamma 1, beta -n) on rows with exact ties of
//                   c * inv, and on rows where every residual a mult_a + b mult_b is an
//                   exact tie of RoundShift(., 12), both signs.
//   VecGelu         every int8 input through random LUTs and BuildGeluLut ones; a loaded
//                   LUT kept across runs; a reload.
//   VecRequant      int32 extremes, rounding ties, mult 0 / 65535, shift 0 / 47, random.
//   VecAdd          saturation at both ends.
//   VecCycles       without stalls: the documented counts (elementwise exactly; LN the
//                   recurrence exactly and the closed-form bound).
//   VecCfgError     each illegal field gives its code in 2 cycles, takes nothing, keeps the
//                   loaded parameters; the next run is correct. Residual mults above 2^15
//                   (a, b, both) in RESIDUAL_LN; other modes ignore the mults.
//   Gate/*, *Gate   the random sequences, LN edges, exact-value, GELU, requant, cycle and
//                   error checks above on the gate-level netlist of Vesact_vec_l4 (Yosys
//                   `synth`, flattened: rtl/tops.txt '# gate-level').
//   VecMiniLm       the MiniLM-shaped model (DMax 1536, Lanes 16): LN rows of 384 at one
//                   beat per cycle, GELU and REQUANT rows of 1536, the largest |n| at d 1536.
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
// ESACT_VERBOSE=1 prints one line per run (mode, shape, cycles).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "Vesact_vec_l4.h"
#include "Vesact_vec_l4_esact_pkg.h"
#include "Vesact_vec_l4_esact_vec.h"
#include "Vesact_vec_l4_gl.h"
#include "Vesact_vec_l8.h"
#include "Vesact_vec_l8_esact_vec.h"
#include "Vesact_vec_minilm.h"
#include "Vesact_vec_minilm_esact_vec.h"
#include "golden/engines.h"
#include "golden/matrix.h"
#include "golden/quant.h"
#include "sim/harness.h"
#include "sim/vec_driver.h"

namespace esact {
namespace {

using sim::StallSpec;
using sim::TestSeed;
using sim::VecBeats;
using sim::VecCfg;
using sim::VecMode;
using sim::VecResult;
using sim::VecStalls;

// ---- Constants shared with the golden model ------------------------------------------------

// (The requantization constants REQ_*: tests/rtl_gemm_test.cc.)
using Pkg = Vesact_vec_l4_esact_pkg;
static_assert(Pkg::VEC_LN_RECIP_BITS == kLnRecipBits);
static_assert(Pkg::VEC_LN_FRAC_BITS == kLnFracBits);
static_assert(Pkg::VEC_LUT_SIZE == std::tuple_size<GeluLut>::value);
static_assert(Pkg::VEC_GAMMA_W == 16 && Pkg::VEC_WORD_W == 32, "int16 gamma, int32 beta/acc");
static_assert(Pkg::VEC_RES_SHIFT == kResidualShift);
static_assert(Pkg::VEC_RES_MAX_MULT == kResidualMaxMult);
static_assert(Pkg::VEC_RES_W == kResidualBits);
static_assert((int64_t{1} << (Pkg::VEC_RES_MULT_W - 1)) <= kResidualMaxMult &&
                  kResidualMaxMult < (int64_t{1} << Pkg::VEC_RES_MULT_W),
              "the residual mult field is the narrowest that holds kResidualMaxMult");
// r spans [-2048, 2032] at the largest mults: exactly kResidualBits signed bits.
static_assert(-128 * 2 * int64_t{kResidualMaxMult} >> kResidualShift ==
              -(int64_t{1} << (kResidualBits - 1)));
static_assert(Pkg::VEC_ERR_RES_MULT == 6 && Pkg::VEC_ERR_NO_PARAMS == 5, "stable error codes");
static_assert(static_cast<int>(VecMode::kRequant) == Pkg::VEC_MODE_REQUANT);
static_assert(static_cast<int>(VecMode::kAdd) == Pkg::VEC_MODE_ADD);
static_assert(static_cast<int>(VecMode::kGelu) == Pkg::VEC_MODE_GELU);
static_assert(static_cast<int>(VecMode::kResidualLn) == Pkg::VEC_MODE_RESIDUAL_LN);

using DriverL4 = sim::VecDriver<Vesact_vec_l4, Vesact_vec_l4_esact_vec>;
// The gate-level twin of Vesact_vec_l4: its Yosys netlist (rtl/tops.txt '# gate-level').
// The ports are the RTL's, so the same driver runs it, with the RTL model's parameters.
using DriverL4Gate = sim::VecDriver<Vesact_vec_l4_gl, Vesact_vec_l4_esact_vec>;
using DriverL8 = sim::VecDriver<Vesact_vec_l8, Vesact_vec_l8_esact_vec>;
using DriverMiniLm = sim::VecDriver<Vesact_vec_minilm, Vesact_vec_minilm_esact_vec>;

bool Verbose() { return std::getenv("ESACT_VERBOSE") != nullptr; }

// ---- Golden outputs ---------------------------------------------------------------------------

Matrix<int8_t> GoldenLn(const Matrix<int8_t>& a, const Matrix<int8_t>& b, ResidualScale rs,
                        const LnParams& ln) {
  Matrix<int8_t> y(a.rows, a.cols);
  for (int i = 0; i < a.rows; ++i) {
    ResidualLayerNorm(a.row(i), b.row(i), a.cols, rs, ln, y.row(i));
  }
  return y;
}

Matrix<int8_t> GoldenAdd(const Matrix<int8_t>& a, const Matrix<int8_t>& b) {
  Matrix<int8_t> y(a.rows, a.cols);
  for (size_t k = 0; k < a.data.size(); ++k) y.data[k] = SaturateInt8(a.data[k] + b.data[k]);
  return y;
}

Matrix<int8_t> GoldenGelu(const Matrix<int8_t>& x, const GeluLut& lut) {
  Matrix<int8_t> y(x.rows, x.cols);
  for (size_t k = 0; k < x.data.size(); ++k) y.data[k] = ApplyLut(lut, x.data[k]);
  return y;
}

Matrix<int8_t> GoldenRequant(const Matrix<int32_t>& acc, Requant rq) {
  Matrix<int8_t> y(acc.rows, acc.cols);
  for (size_t k = 0; k < acc.data.size(); ++k) y.data[k] = Requantize(acc.data[k], rq);
  return y;
}

// ---- Comparison -------------------------------------------------------------------------------

// A finished, error-free run with the promised beat shape and the golden rows.
bool ExpectRun(const VecResult& r, const Matrix<int8_t>& want, const std::string& ctx) {
  EXPECT_TRUE(r.done) << ctx;
  EXPECT_EQ(r.err_code, 0) << "error code for a legal configuration; " << ctx;
  EXPECT_EQ(r.order_error, "") << "output shape; " << ctx;
  if (!r.done || r.err_code != 0 || !r.order_error.empty()) return false;
  int bad = 0;
  for (int i = 0; i < want.rows; ++i) {
    for (int c = 0; c < want.cols; ++c) {
      if (r.y.at(i, c) != want.at(i, c) && ++bad == 1) {
        ADD_FAILURE() << "first difference: row " << i << " column " << c << ": got "
                      << int(r.y.at(i, c)) << ", want " << int(want.at(i, c)) << "; " << ctx;
      }
    }
  }
  EXPECT_EQ(bad, 0) << "elements differ; " << ctx;
  return bad == 0;
}

std::string Describe(const VecCfg& c, const std::string& what = "") {
  std::ostringstream os;
  os << sim::VecModeName(c.mode) << " d " << c.d << " rows " << c.n_rows << (c.load ? " load" : "")
     << " mult " << c.mult << " shift " << c.shift;
  if (c.mode == VecMode::kResidualLn) os << " res " << c.res_mult_a << "/" << c.res_mult_b;
  if (!what.empty()) os << " [" << what << "]";
  return os.str();
}

void Report(const VecCfg& c, const VecResult& r, bool ok, const std::string& what = "") {
  if (!Verbose()) return;
  std::printf("  %s: %llu cycles, %s\n", Describe(c, what).c_str(),
              static_cast<unsigned long long>(r.cycles), ok ? "ok" : "MISMATCH");
}

// ---- Data -------------------------------------------------------------------------------------

int Pick(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

// Row lengths: 1, DMax, multiples of Lanes and not.
int PickD(std::mt19937_64& rng, int d_max, int lanes) {
  switch (rng() % 6) {
    case 0:
      return 1;
    case 1:
      return d_max;
    case 2:
      return lanes * Pick(rng, 1, d_max / lanes);
    default:
      return Pick(rng, 1, d_max);
  }
}

enum class Kind {
  kUniform,     // any int8
  kExtreme,     // -128, -127, 0, 127
  kSmall,       // -3..3
  kConstant,    // one value per row (a + b constant)
  kSaturating,  // a = b = 127 or a = b = -128: r 254 / -256, 2032 / -2048 at mults 2^15
  kMinus128,    // -128 everywhere
  kOutlier,     // 0 except one column of a = b = 127 (the largest |n|)
};
constexpr Kind kAllKinds[] = {Kind::kUniform,    Kind::kExtreme,  Kind::kSmall,  Kind::kConstant,
                              Kind::kSaturating, Kind::kMinus128, Kind::kOutlier};

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kUniform:
      return "uniform";
    case Kind::kExtreme:
      return "extreme";
    case Kind::kSmall:
      return "small";
    case Kind::kConstant:
      return "constant";
    case Kind::kSaturating:
      return "saturating";
    case Kind::kMinus128:
      return "minus128";
    case Kind::kOutlier:
      return "outlier";
  }
  return "?";
}

// Operands a and b of `rows` x d of the given kind.
void MakeAb(int rows, int d, Kind kind, std::mt19937_64& rng, Matrix<int8_t>* a,
            Matrix<int8_t>* b) {
  *a = Matrix<int8_t>(rows, d);
  *b = Matrix<int8_t>(rows, d);
  auto any = [&rng]() { return static_cast<int8_t>(rng() & 0xff); };
  const int8_t extremes[] = {-128, -127, 0, 127};
  for (int i = 0; i < rows; ++i) {
    const int8_t ca = any(), cb = any();
    const int outlier = Pick(rng, 0, d - 1);
    for (int c = 0; c < d; ++c) {
      int8_t va = 0, vb = 0;
      switch (kind) {
        case Kind::kUniform:
          va = any(), vb = any();
          break;
        case Kind::kExtreme:
          va = extremes[rng() % 4], vb = extremes[rng() % 4];
          break;
        case Kind::kSmall:
          va = static_cast<int8_t>(Pick(rng, -3, 3)), vb = static_cast<int8_t>(Pick(rng, -3, 3));
          break;
        case Kind::kConstant:
          va = ca, vb = cb;
          break;
        case Kind::kSaturating:
          va = vb = (rng() & 1) ? 127 : -128;
          break;
        case Kind::kMinus128:
          va = vb = -128;
          break;
        case Kind::kOutlier:
          va = vb = (c == outlier) ? 127 : 0;
          break;
      }
      a->at(i, c) = va;
      b->at(i, c) = vb;
    }
  }
}

Matrix<int8_t> RandomInt8(int rows, int d, std::mt19937_64& rng) {
  Matrix<int8_t> m(rows, d);
  for (int8_t& v : m.data) v = static_cast<int8_t>(rng() & 0xff);
  return m;
}

// A requant factor that maps a typical value of magnitude `typical` to about +-64, or
// (1 in 4) any legal {mult, shift}, or (1 in 8) an extreme one.
Requant RandomRequant(std::mt19937_64& rng, double typical) {
  const uint64_t k = rng() % 8;
  if (k == 0) {
    const Requant extremes[] = {{0, 0},      {65535, 0},  {65535, 47}, {1, 47},
                                {32768, 15}, {65535, 16}, {1, 0},      {0, 47}};
    return extremes[rng() % 8];
  }
  if (k <= 2) return Requant{Pick(rng, 0, kRequantMaxMult), Pick(rng, 0, kRequantMaxShift)};
  const double real = 64.0 / typical * std::exp2(std::uniform_real_distribution<>(-3, 3)(rng));
  return QuantizeMultiplier(real);
}

// gamma/beta for d columns: realistic (gamma around 2^12 = 1.0), full-range, or extreme.
LnParams RandomLn(int d, std::mt19937_64& rng) {
  LnParams ln;
  ln.gamma.resize(d);
  ln.beta.resize(d);
  const uint64_t k = rng() % 4;
  for (int c = 0; c < d; ++c) {
    if (k == 0) {  // full range
      ln.gamma[c] = static_cast<int16_t>(rng() & 0xffff);
      ln.beta[c] = static_cast<int32_t>(rng() & 0xffffffffu);
    } else if (k == 1) {  // extremes
      const int16_t g[] = {-32768, 32767, 0, 1, -1};
      const int32_t b[] = {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                           0, -1, 1 << 30};
      ln.gamma[c] = g[rng() % 5];
      ln.beta[c] = b[rng() % 5];
    } else {  // a trained LayerNorm: gamma ~ 1.0 at 12 fraction bits, small beta
      ln.gamma[c] = static_cast<int16_t>(Pick(rng, 1024, 8192) * ((rng() % 8) ? 1 : -1));
      ln.beta[c] = Pick(rng, -(1 << 22), 1 << 22);
    }
  }
  // n ~ 2^12 per standard deviation times gamma ~ 2^12: t ~ 2^24.
  ln.rq = RandomRequant(rng, k == 0 ? double(1 << 27) : double(1 << 24));
  return ln;
}

constexpr int32_t kResOne = int32_t{1} << kResidualShift;  // mult 1.0: the plain sum
constexpr int32_t kResMax = kResidualMaxMult;              // 2^15, the largest legal mult

// A residual scale: the default (the plain sum a + b), a pair of edges (0, 1, 1.0,
// 2^15 - 1, 2^15), the QuantizeResidual of two random operand scales (one mult is 2^15),
// or any legal pair.
ResidualScale RandomResidual(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0:
      return ResidualScale{};
    case 1: {
      const int32_t e[] = {0, 1, kResOne, kResMax - 1, kResMax};
      return ResidualScale{e[rng() % 5], e[rng() % 5]};
    }
    case 2: {
      std::uniform_real_distribution<> log_scale(-9, -2);
      return QuantizeResidual(std::exp2(log_scale(rng)), std::exp2(log_scale(rng)));
    }
    default:
      return ResidualScale{Pick(rng, 0, kResMax), Pick(rng, 0, kResMax)};
  }
}

// The VecCfg of an LN run.
VecCfg LnCfg(int d, int rows, bool load, ResidualScale rs, const LnParams& ln) {
  VecCfg c{VecMode::kResidualLn, d, rows, load, ln.rq.mult, ln.rq.shift};
  c.res_mult_a = rs.mult_a;
  c.res_mult_b = rs.mult_b;
  return c;
}

GeluLut RandomLut(std::mt19937_64& rng) {
  GeluLut lut{};
  if (rng() % 2) {
    for (int8_t& v : lut) v = static_cast<int8_t>(rng() & 0xff);
  } else {
    const float in_scale =
        static_cast<float>(std::exp2(std::uniform_real_distribution<>(-7, -2)(rng)));
    const float out_scale =
        static_cast<float>(std::exp2(std::uniform_real_distribution<>(-7, -2)(rng)));
    lut = BuildGeluLut(in_scale, out_scale);
  }
  return lut;
}

Matrix<int32_t> RandomAcc(int rows, int d, std::mt19937_64& rng) {
  Matrix<int32_t> m(rows, d);
  const int kind = static_cast<int>(rng() % 3);
  for (int32_t& v : m.data) {
    if (kind == 0) {
      v = static_cast<int32_t>(rng() & 0xffffffffu);
    } else if (kind == 1) {
      v = Pick(rng, -(1 << 20), 1 << 20);
    } else {
      const int32_t e[] = {std::numeric_limits<int32_t>::min(),
                           std::numeric_limits<int32_t>::max(),
                           0,
                           1,
                           -1,
                           3,
                           -3,
                           1 << 30,
                           -(1 << 30)};
      v = e[rng() % 9];
    }
  }
  return m;
}

// ============================================================================================
// Random runs of every mode through one unit
// ============================================================================================

struct VecCase {
  int lanes;  // 4: Vesact_vec_l4 (or its netlist), 8: Vesact_vec_l8
  std::string stall_name;
  VecStalls stalls;
  bool gate = false;  // the gate-level netlist of Vesact_vec_l4
  std::string Name() const { return "l" + std::to_string(lanes) + "_" + stall_name; }
};
void PrintTo(const VecCase& c, std::ostream* os) { *os << c.Name(); }

// The RTL cases (both configurations), or the gate-level ones (the l4 netlist).
std::vector<VecCase> VecCases(bool gate) {
  const StallSpec rnd = StallSpec::Random(0.3), bursty = StallSpec::Bursty(0.1, 8);
  std::vector<VecCase> cases;
  for (int lanes : gate ? std::vector<int>{4} : std::vector<int>{4, 8}) {
    cases.push_back({lanes, "none", VecStalls::None(), gate});
    cases.push_back({lanes, "all_rand30", VecStalls::All(rnd), gate});
    cases.push_back({lanes, "all_bursty", VecStalls::All(bursty), gate});
    cases.push_back({lanes, "in_only", VecStalls::Inputs(rnd), gate});
    cases.push_back({lanes, "out_only", VecStalls::Outputs(bursty), gate});
  }
  return cases;
}

// Runs `runs` random runs; returns false at the first failure.
template <class Driver>
bool RunRandomSequence(Driver& drv, const VecStalls& stalls, int runs, int max_rows,
                       uint64_t seed) {
  std::mt19937_64 rng(seed);
  bool lut_loaded = false;
  GeluLut lut{};
  int ln_d = 0;
  LnParams ln;
  for (int n = 0; n < runs; ++n) {
    const VecMode mode = static_cast<VecMode>(rng() % 4);
    int d = PickD(rng, Driver::kDMax, Driver::kLanes);
    const int rows = Pick(rng, 1, max_rows);
    const uint64_t run_seed = seed * 131 + n;
    VecResult r;
    Matrix<int8_t> want;
    VecCfg c;
    std::string what;
    switch (mode) {
      case VecMode::kRequant: {
        const Matrix<int32_t> acc = RandomAcc(rows, d, rng);
        const Requant rq = RandomRequant(rng, double(1 << 20));
        c = {mode, d, rows, false, rq.mult, rq.shift};
        want = GoldenRequant(acc, rq);
        r = drv.RunRequant(acc, rq, stalls, run_seed);
        break;
      }
      case VecMode::kAdd: {
        Matrix<int8_t> a, b;
        const Kind kind = kAllKinds[rng() % 7];
        MakeAb(rows, d, kind, rng, &a, &b);
        c = {mode, d, rows, false, 1, 0};
        what = KindName(kind);
        want = GoldenAdd(a, b);
        r = drv.RunAdd(a, b, stalls, run_seed);
        break;
      }
      case VecMode::kGelu: {
        const bool load = !lut_loaded || rng() % 3 == 0;
        if (load) lut = RandomLut(rng);
        lut_loaded = true;
        const Matrix<int8_t> x = RandomInt8(rows, d, rng);
        c = {mode, d, rows, load, 1, 0};
        want = GoldenGelu(x, lut);
        r = drv.RunGelu(x, lut, load, stalls, run_seed);
        break;
      }
      case VecMode::kResidualLn: {
        // Reuse the loaded gamma/beta (same d) about half of the time they exist.
        bool load = true;
        if (ln_d != 0 && rng() % 2 == 0) {
          d = ln_d;
          load = false;
          ln.rq = RandomRequant(rng, double(1 << 24));  // rq is per run
        } else {
          ln = RandomLn(d, rng);
          ln_d = d;
        }
        const ResidualScale rs = RandomResidual(rng);  // per run, like rq
        Matrix<int8_t> a, b;
        const Kind kind = (rng() % 2) ? Kind::kUniform : kAllKinds[rng() % 7];
        MakeAb(rows, d, kind, rng, &a, &b);
        c = LnCfg(d, rows, load, rs, ln);
        what = KindName(kind);
        want = GoldenLn(a, b, rs, ln);
        r = drv.RunLayerNorm(a, b, rs, ln, load, stalls, run_seed);
        break;
      }
    }
    SCOPED_TRACE("run " + std::to_string(n) + ": " + Describe(c, what));
    const bool ok = ExpectRun(r, want, Describe(c, what) + " seed " + std::to_string(seed));
    Report(c, r, ok, what);
    if (!ok) return false;
  }
  return true;
}

class VecRandom : public ::testing::TestWithParam<VecCase> {};

TEST_P(VecRandom, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const VecCase& c = GetParam();
  const int runs = c.stall_name == "none" ? 200 : 100;
  if (c.gate) {
    DriverL4Gate drv(seed);
    RunRandomSequence(drv, c.stalls, runs, 5, seed);
  } else if (c.lanes == 4) {
    DriverL4 drv(seed);
    RunRandomSequence(drv, c.stalls, runs, 5, seed);
  } else {
    DriverL8 drv(seed);
    RunRandomSequence(drv, c.stalls, runs, 5, seed);
  }
}

std::string VecName(const ::testing::TestParamInfo<VecCase>& info) { return info.param.Name(); }
INSTANTIATE_TEST_SUITE_P(Rtl, VecRandom, ::testing::ValuesIn(VecCases(false)), VecName);
INSTANTIATE_TEST_SUITE_P(Gate, VecRandom, ::testing::ValuesIn(VecCases(true)), VecName);

// ============================================================================================
// LayerNorm edge cases
// ============================================================================================

struct LnEdge {
  std::string name;
  Kind kind;
  int d;                                  // 0: DMax
  std::function<void(LnParams&)> params;  // adjusts the random parameters
  ResidualScale rs{-1, -1};               // the residual mults; -1: RandomResidual per draw
};

std::vector<LnEdge> LnEdges() {
  auto none = [](LnParams&) {};
  auto gamma_max = [](LnParams& ln) {
    for (size_t c = 0; c < ln.gamma.size(); ++c) {
      ln.gamma[c] = (c % 2) ? int16_t{-32768} : int16_t{32767};
      ln.beta[c] = (c % 3 == 0)   ? std::numeric_limits<int32_t>::max()
                   : (c % 3 == 1) ? std::numeric_limits<int32_t>::min()
                                  : 0;
    }
  };
  auto beta_only = [](LnParams& ln) {
    for (size_t c = 0; c < ln.gamma.size(); ++c) ln.beta[c] = static_cast<int32_t>(c * 1000003u);
  };
  auto rq_sat = [](LnParams& ln) { ln.rq = Requant{65535, 0}; };
  auto rq_zero = [](LnParams& ln) { ln.rq = Requant{0, 0}; };
  auto rq_max_shift = [](LnParams& ln) { ln.rq = Requant{65535, 47}; };
  auto rq_unit = [](LnParams& ln) { ln.rq = Requant{1, 0}; };
  const ResidualScale max2{kResMax, kResMax}, plain{kResOne, kResOne};
  return {
      // The residual mults at their edges: the largest |r| and V (r = 2032 / -2048), r
      // = 0 (mults 0), one operand only, the plain sum.
      {"saturating_max_mults", Kind::kSaturating, 0, none, max2},
      {"saturating_max_mults_gamma_max", Kind::kSaturating, 0, gamma_max, max2},
      {"saturating_max_mults_rq_unit", Kind::kSaturating, 0, rq_unit, max2},
      {"minus128_max_mults", Kind::kMinus128, 0, beta_only, max2},
      {"extreme_max_mults", Kind::kExtreme, 0, none, max2},
      {"outlier_max_mults", Kind::kOutlier, 0, rq_unit, max2},
      {"uniform_max_mults", Kind::kUniform, 0, none, max2},
      {"uniform_zero_mults", Kind::kUniform, 0, beta_only, {0, 0}},
      {"uniform_a_only", Kind::kUniform, 0, none, {kResMax, 0}},
      {"uniform_b_only", Kind::kUniform, 0, none, {0, kResMax}},
      {"extreme_a_max_b_one", Kind::kExtreme, 0, none, {kResMax, 1}},
      {"uniform_plain_sum", Kind::kUniform, 0, none, plain},
      {"saturating_plain_sum", Kind::kSaturating, 0, none, plain},
      {"d1_max_mults", Kind::kUniform, 1, gamma_max, max2},
      {"d_lanes_plus_one_max_mults", Kind::kSaturating, 5, gamma_max, max2},
      // Random mults.
      {"saturating_residual", Kind::kSaturating, 0, none},
      {"saturating_residual_gamma_max", Kind::kSaturating, 0, gamma_max},
      {"minus128", Kind::kMinus128, 0, beta_only},
      {"minus128_rq_unit", Kind::kMinus128, 0, rq_unit},
      {"constant_rows", Kind::kConstant, 0, none},
      {"constant_rows_short", Kind::kConstant, 5, beta_only},
      {"d1", Kind::kUniform, 1, none},
      {"d1_gamma_max", Kind::kUniform, 1, gamma_max},
      {"outlier", Kind::kOutlier, 0, none},
      {"outlier_gamma_max", Kind::kOutlier, 0, gamma_max},
      {"outlier_rq_unit", Kind::kOutlier, 0, rq_unit},
      {"extreme_values", Kind::kExtreme, 0, none},
      {"small_values", Kind::kSmall, 0, none},
      {"gamma_beta_max", Kind::kUniform, 0, gamma_max},
      {"rq_saturating", Kind::kUniform, 0, rq_sat},
      {"rq_zero", Kind::kUniform, 0, rq_zero},
      {"rq_max_shift", Kind::kExtreme, 0, rq_max_shift},
      {"d_not_multiple", Kind::kUniform, 7, none},
      {"d_lanes_plus_one", Kind::kSaturating, 5, gamma_max},
  };
}

void PrintTo(const LnEdge& e, std::ostream* os) { *os << e.name; }

class VecLnEdge : public ::testing::TestWithParam<LnEdge> {};

template <class Driver>
void RunLnEdge(const LnEdge& e, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < 4; ++n) {
    const int d = e.d == 0 ? Driver::kDMax : e.d;
    LnParams ln = RandomLn(d, rng);
    e.params(ln);
    const ResidualScale rs = e.rs.mult_a < 0 ? RandomResidual(rng) : e.rs;
    Matrix<int8_t> a, b;
    MakeAb(Pick(rng, 1, 4), d, e.kind, rng, &a, &b);
    const VecStalls stalls = n % 2 ? VecStalls::All(StallSpec::Random(0.3)) : VecStalls::None();
    const VecCfg c = LnCfg(d, a.rows, true, rs, ln);
    SCOPED_TRACE("draw " + std::to_string(n) + ": " + Describe(c, e.name));
    const VecResult r = drv.RunLayerNorm(a, b, rs, ln, true, stalls, seed + n);
    const bool ok = ExpectRun(r, GoldenLn(a, b, rs, ln), Describe(c, e.name));
    Report(c, r, ok, e.name);
    if (!ok) return;
  }
}

TEST_P(VecLnEdge, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunLnEdge<DriverL4>(GetParam(), seed);
  RunLnEdge<DriverL8>(GetParam(), seed + 1);
}

// The same edges on the gate-level netlist of Vesact_vec_l4.
class VecLnEdgeGate : public VecLnEdge {};
TEST_P(VecLnEdgeGate, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunLnEdge<DriverL4Gate>(GetParam(), seed);
}

std::string LnEdgeName(const ::testing::TestParamInfo<LnEdge>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(Rtl, VecLnEdge, ::testing::ValuesIn(LnEdges()), LnEdgeName);
INSTANTIATE_TEST_SUITE_P(Gate, VecLnEdgeGate, ::testing::ValuesIn(LnEdges()), LnEdgeName);

// A constant row normalizes to c = 0, so every output is Requantize(beta), whatever the
// residual mults: the golden rows are checked against that rule too, then the RTL against
// the golden rows.
TEST(VecLn, ConstantRowGivesRequantizedBeta) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverL4 drv(seed);
  const int d = 13;
  for (int n = 0; n < 4; ++n) {
    LnParams ln = RandomLn(d, rng);
    ln.rq = Requant{40000, 20};
    const ResidualScale rs = n == 0 ? ResidualScale{kResMax, kResMax} : RandomResidual(rng);
    Matrix<int8_t> a, b;
    MakeAb(3, d, Kind::kConstant, rng, &a, &b);
    const Matrix<int8_t> want = GoldenLn(a, b, rs, ln);
    for (int i = 0; i < 3; ++i) {
      for (int c = 0; c < d; ++c) {
        ASSERT_EQ(want.at(i, c), Requantize(ln.beta[c], ln.rq)) << "golden, column " << c;
      }
    }
    const VecResult r = drv.RunLayerNorm(a, b, rs, ln, true, VecStalls::None(), seed + n);
    ExpectRun(r, want, Describe(LnCfg(d, 3, true, rs, ln), "constant rows"));
  }
}

// The normalized value itself: with gamma = 1, beta_i = -n_i (n from the golden formula)
// and rq = {1, 0} every output is SaturateInt8(n_rtl - n_golden), 0 when exact, so each
// lane checks n = RoundShift(c * inv, 19) unscaled. Half the rows are found by search to
// hold exact rounding ties (|c * inv| = (2k + 1) 2^18) of both signs, which random rows
// meet about once in 2^19 lanes. The residual r = ResidualAdd(a, b, rs) under random mults
// (the tie rows under mults that keep r varied: not both 0).
std::vector<int64_t> GoldenNorm(const std::vector<int>& r) {
  const int d = static_cast<int>(r.size());
  int64_t sum = 0;
  for (int v : r) sum += v;
  uint64_t sum_sq = 0;
  for (int v : r) sum_sq += static_cast<uint64_t>((int64_t{v} * d - sum) * (int64_t{v} * d - sum));
  const uint64_t s = std::max<uint64_t>(1, Isqrt(sum_sq / d));
  const int64_t inv = static_cast<int64_t>((uint64_t{1} << kLnRecipBits) / s);
  std::vector<int64_t> n(d);
  for (int i = 0; i < d; ++i)
    n[i] = RoundShift((int64_t{r[i]} * d - sum) * inv, kLnRecipBits - kLnFracBits);
  return n;
}

std::vector<int> ResidualRow(const int8_t* a, const int8_t* b, int d, ResidualScale rs) {
  std::vector<int> r(d);
  for (int c = 0; c < d; ++c) r[c] = ResidualAdd(a[c], b[c], rs);
  return r;
}

// Random operand rows a, b of length d whose residual under rs has an exact tie of the
// given sign in some lane.
void TieRow(int d, bool negative, ResidualScale rs, std::mt19937_64& rng, int8_t* a, int8_t* b) {
  const int64_t half = int64_t{1} << (kLnRecipBits - kLnFracBits - 1), mask = 2 * half - 1;
  for (int attempt = 0; attempt < 4000000; ++attempt) {
    for (int c = 0; c < d; ++c) {
      a[c] = static_cast<int8_t>(rng() & 0xff);
      b[c] = static_cast<int8_t>(rng() & 0xff);
    }
    const std::vector<int> r = ResidualRow(a, b, d, rs);
    int64_t sum = 0;
    for (int v : r) sum += v;
    uint64_t sum_sq = 0;
    for (int v : r)
      sum_sq += static_cast<uint64_t>((int64_t{v} * d - sum) * (int64_t{v} * d - sum));
    const uint64_t s = std::max<uint64_t>(1, Isqrt(sum_sq / d));
    const int64_t inv = static_cast<int64_t>((uint64_t{1} << kLnRecipBits) / s);
    for (int v : r) {
      const int64_t p = (int64_t{v} * d - sum) * inv;
      if ((p < 0) == negative && p != 0 && (std::llabs(p) & mask) == half) return;
    }
  }
  ADD_FAILURE() << "no tie row found for d " << d << " res " << rs.mult_a << "/" << rs.mult_b;
}

// Each row of a, b on its own run with gamma 1, beta = -n, rq {1, 0}: every output is
// n_rtl - n_golden (the golden rows are checked to be 0, so the test's n is IntLayerNorm's).
// One row per run: beta is per column, so it can cancel only one row's n.
template <class Driver>
bool ExpectNormExact(Driver& drv, const Matrix<int8_t>& a, const Matrix<int8_t>& b,
                     ResidualScale rs, bool stall_first, uint64_t seed, const std::string& what) {
  const int d = a.cols;
  for (int i = 0; i < a.rows; ++i) {
    const std::vector<int64_t> norm = GoldenNorm(ResidualRow(a.row(i), b.row(i), d, rs));
    LnParams ln;
    ln.gamma.assign(d, 1);
    ln.beta.resize(d);
    for (int c = 0; c < d; ++c) ln.beta[c] = static_cast<int32_t>(-norm[c]);
    ln.rq = Requant{1, 0};
    Matrix<int8_t> ai(1, d), bi(1, d);
    std::copy(a.row(i), a.row(i) + d, ai.row(0));
    std::copy(b.row(i), b.row(i) + d, bi.row(0));
    const Matrix<int8_t> want = GoldenLn(ai, bi, rs, ln);
    for (int8_t v : want.data) {
      EXPECT_EQ(v, 0) << "test's n differs from IntLayerNorm's";
      if (v != 0) return false;
    }
    const VecStalls stalls = (stall_first && i == 0) || i % 3 == 2
                                 ? VecStalls::All(StallSpec::Random(0.3))
                                 : VecStalls::None();
    const VecCfg c = LnCfg(d, 1, true, rs, ln);
    if (!ExpectRun(drv.RunLayerNorm(ai, bi, rs, ln, true, stalls, seed + i), want,
                   Describe(c, what + ", row " + std::to_string(i)))) {
      return false;
    }
  }
  return true;
}

template <class Driver>
void RunNormExact(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < 24; ++n) {
    // (Ties need d >= 3 and are rare below 8: for d = 2, |c * inv| is just below 2^31.)
    const int d = n % 2 == 0 ? Pick(rng, 8, Driver::kDMax)
                             : std::max(2, PickD(rng, Driver::kDMax, Driver::kLanes));
    const int rows = Pick(rng, 1, 3);
    ResidualScale rs = RandomResidual(rng);
    Matrix<int8_t> a, b;
    MakeAb(rows, d, kAllKinds[rng() % 7], rng, &a, &b);
    if (n % 2 == 0) {  // every row with a tie, alternating signs
      const ResidualScale tie_rs[] = {ResidualScale{},
                                      {kResMax, kResMax},
                                      {kResMax, Pick(rng, 1, kResMax)},
                                      {Pick(rng, kResOne / 4, kResMax), Pick(rng, 1, kResMax)}};
      rs = tie_rs[(n / 2) % 4];
      for (int i = 0; i < rows; ++i) TieRow(d, (n / 2 + i) % 2 == 0, rs, rng, a.row(i), b.row(i));
    }
    if (!ExpectNormExact(drv, a, b, rs, n % 3 == 0, seed + 16 * n,
                         n % 2 == 0 ? "n exact, tie row" : "n exact")) {
      return;
    }
  }
}

TEST(VecLn, NormalizedValueExactL4) { RunNormExact<DriverL4>(TestSeed()); }
TEST(VecLn, NormalizedValueExactL4Gate) { RunNormExact<DriverL4Gate>(TestSeed()); }
TEST(VecLn, NormalizedValueExactL8) { RunNormExact<DriverL8>(TestSeed()); }

// The residual's own rounding: rows where a mult_a + b mult_b is an exact tie
// (odd * 2^11) in every lane, of both signs, so RoundShift(., 12) must round half away
// from zero. Checked through n unscaled (ExpectNormExact), which moves with any error of
// one in r. Mults: odd multiples of 2^11 for a with multiples of 2^12 for b (every odd a
// is a tie), the mirror, a + b odd, and random mults that have ties.

// Every (a, b) whose a mult_a + b mult_b is an exact tie.
std::vector<std::pair<int8_t, int8_t>> TiePairs(ResidualScale rs) {
  const int64_t half = int64_t{1} << (kResidualShift - 1), mask = 2 * half - 1;
  std::vector<std::pair<int8_t, int8_t>> pairs;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      const int64_t p = int64_t{a} * rs.mult_a + int64_t{b} * rs.mult_b;
      if ((std::llabs(p) & mask) == half) {
        pairs.emplace_back(static_cast<int8_t>(a), static_cast<int8_t>(b));
      }
    }
  }
  return pairs;
}

std::vector<ResidualScale> TieScales(std::mt19937_64& rng) {
  const int32_t h = kResOne / 2;  // 2^11
  std::vector<ResidualScale> scales = {{h, 0},
                                       {0, h},
                                       {3 * h, kResOne},
                                       {15 * h, kResMax},
                                       {kResMax - h, h},
                                       {2 * kResOne, h},
                                       {h * (2 * Pick(rng, 0, 7) + 1), kResOne * Pick(rng, 0, 8)}};
  // Random mults (many pairs have no tie in the int8 range: drawn until one has 16).
  while (scales.size() < 10) {
    const ResidualScale rs{Pick(rng, 1, kResMax), Pick(rng, 1, kResMax)};
    if (TiePairs(rs).size() >= 16) scales.push_back(rs);
  }
  return scales;
}

// Operands of `rows` x d whose residual under rs is a tie in every lane.
void MakeTieAb(int rows, int d, ResidualScale rs, std::mt19937_64& rng, Matrix<int8_t>* a,
               Matrix<int8_t>* b) {
  const std::vector<std::pair<int8_t, int8_t>> pairs = TiePairs(rs);
  ASSERT_FALSE(pairs.empty()) << "no tie for res " << rs.mult_a << "/" << rs.mult_b;
  *a = Matrix<int8_t>(rows, d);
  *b = Matrix<int8_t>(rows, d);
  for (int k = 0; k < rows * d; ++k) {
    const auto& [va, vb] = pairs[rng() % pairs.size()];
    a->data[k] = va;
    b->data[k] = vb;
  }
}

template <class Driver>
void RunResidualTies(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const std::vector<ResidualScale> scales = TieScales(rng);
  for (size_t k = 0; k < scales.size(); ++k) {
    const ResidualScale rs = scales[k];
    const int d = k % 3 == 0 ? Driver::kDMax : PickD(rng, Driver::kDMax, Driver::kLanes);
    Matrix<int8_t> a, b;
    MakeTieAb(2, d, rs, rng, &a, &b);
    int ties = 0, negative = 0;
    for (int i = 0; i < 2 * d; ++i) {
      const int64_t p = int64_t{a.data[i]} * rs.mult_a + int64_t{b.data[i]} * rs.mult_b;
      if ((std::llabs(p) & ((int64_t{1} << kResidualShift) - 1)) == kResOne / 2) {
        ++ties;
        negative += p < 0;
      }
    }
    EXPECT_EQ(ties, 2 * d) << "test premise: ties in every lane, res " << rs.mult_a << "/"
                           << rs.mult_b;
    if (d >= 8) {
      EXPECT_GT(negative, 0) << "test premise: negative ties";
    }
    if (!ExpectNormExact(drv, a, b, rs, k % 2 == 1, seed + 8 * k, "residual ties")) return;
    // And the plain LayerNorm of the same rows, random gamma/beta/rq.
    const LnParams ln = RandomLn(d, rng);
    const VecStalls stalls = k % 2 ? VecStalls::All(StallSpec::Bursty(0.1, 8)) : VecStalls::None();
    if (!ExpectRun(drv.RunLayerNorm(a, b, rs, ln, true, stalls, seed + 8 * k + 5),
                   GoldenLn(a, b, rs, ln), Describe(LnCfg(d, 2, true, rs, ln), "residual ties"))) {
      return;
    }
  }
}

TEST(VecLn, ResidualRoundingTiesL4) { RunResidualTies<DriverL4>(TestSeed()); }
TEST(VecLn, ResidualRoundingTiesL4Gate) { RunResidualTies<DriverL4Gate>(TestSeed()); }
TEST(VecLn, ResidualRoundingTiesL8) { RunResidualTies<DriverL8>(TestSeed()); }

// ============================================================================================
// GELU, REQUANT, ADD
// ============================================================================================

// Every int8 value in every lane position, rows of DMax.
template <class Driver>
Matrix<int8_t> AllInt8Rows(std::mt19937_64& rng) {
  const int d = Driver::kDMax;
  const int rows = (256 + d - 1) / d + 1;
  Matrix<int8_t> x(rows, d);
  const int shift = Pick(rng, 0, 255);
  for (int k = 0; k < rows * d; ++k) x.data[k] = static_cast<int8_t>((k + shift) & 0xff);
  return x;
}

template <class Driver>
void RunGeluCases(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < 6; ++n) {
    const GeluLut lut = n < 2 ? BuildGeluLut(n == 0 ? 0.05f : 0.02f, 0.03f) : RandomLut(rng);
    const VecStalls stalls = n % 2 ? VecStalls::All(StallSpec::Bursty(0.2, 6)) : VecStalls::None();
    const Matrix<int8_t> x = AllInt8Rows<Driver>(rng);
    SCOPED_TRACE("lut " + std::to_string(n));
    VecResult r = drv.RunGelu(x, lut, true, stalls, seed + n);
    if (!ExpectRun(r, GoldenGelu(x, lut), "gelu all inputs, load")) return;
    // The loaded LUT is kept: a run without load, random d.
    const Matrix<int8_t> y = RandomInt8(3, PickD(rng, Driver::kDMax, Driver::kLanes), rng);
    r = drv.RunGelu(y, lut, false, stalls, seed + n);
    if (!ExpectRun(r, GoldenGelu(y, lut), "gelu kept LUT")) return;
  }
  // A load-only run, then a run without load.
  const GeluLut lut = RandomLut(rng);
  const VecResult l = drv.LoadLut(lut, VecStalls::All(StallSpec::Random(0.3)), seed);
  EXPECT_TRUE(l.done);
  EXPECT_EQ(l.err_code, 0);
  EXPECT_EQ(l.prm_taken, static_cast<uint64_t>(Driver::kLutBeats));
  EXPECT_TRUE(l.out.empty());
  const Matrix<int8_t> x = AllInt8Rows<Driver>(rng);
  ExpectRun(drv.RunGelu(x, lut, false, VecStalls::None(), seed), GoldenGelu(x, lut),
            "gelu after a load-only run");
}

TEST(VecGelu, AllInputsL4) { RunGeluCases<DriverL4>(TestSeed()); }
TEST(VecGelu, AllInputsL4Gate) { RunGeluCases<DriverL4Gate>(TestSeed()); }
TEST(VecGelu, AllInputsL8) { RunGeluCases<DriverL8>(TestSeed()); }

template <class Driver>
void RunRequantCases(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const int32_t kMin = std::numeric_limits<int32_t>::min(),
                kMax = std::numeric_limits<int32_t>::max();
  // Ties of RoundShift at every shift: v * mult = (2k + 1) 2^(shift-1), both signs.
  const std::vector<Requant> rqs = {{1, 0},      {0, 0},      {65535, 0},  {65535, 47},
                                    {1, 47},     {1, 1},      {3, 2},      {32768, 16},
                                    {65535, 31}, {12345, 40}, {40000, 24}, {65535, 46}};
  for (size_t k = 0; k < rqs.size(); ++k) {
    const Requant rq = rqs[k];
    const int d = PickD(rng, Driver::kDMax, Driver::kLanes);
    Matrix<int32_t> acc(3, d);
    for (int i = 0; i < 3 * d; ++i) {
      const int32_t edges[] = {kMin, kMax, 0, 1, -1, 2, -2, 3, -3, kMin + 1, kMax - 1};
      if (i < 11) {
        acc.data[i] = edges[i];
      } else if (rq.shift > 0 && rng() % 2) {
        // A rounding tie: v * mult = odd * 2^(shift - 1).
        const int64_t half = int64_t{1} << (rq.shift - 1);
        const int64_t m = std::max<int32_t>(rq.mult, 1);
        const int64_t odd = 2 * Pick(rng, -1000, 1000) + 1;
        const int64_t v = odd * half / m;
        acc.data[i] = static_cast<int32_t>(std::clamp<int64_t>(v, kMin, kMax));
      } else {
        acc.data[i] = static_cast<int32_t>(rng() & 0xffffffffu);
      }
    }
    const VecStalls stalls = k % 2 ? VecStalls::All(StallSpec::Random(0.3)) : VecStalls::None();
    const VecCfg c{VecMode::kRequant, d, 3, false, rq.mult, rq.shift};
    SCOPED_TRACE(Describe(c));
    if (!ExpectRun(drv.RunRequant(acc, rq, stalls, seed + k), GoldenRequant(acc, rq),
                   Describe(c))) {
      return;
    }
  }
}

TEST(VecRequant, EdgesL4) { RunRequantCases<DriverL4>(TestSeed()); }
TEST(VecRequant, EdgesL4Gate) { RunRequantCases<DriverL4Gate>(TestSeed()); }
TEST(VecRequant, EdgesL8) { RunRequantCases<DriverL8>(TestSeed()); }

TEST(VecAdd, Saturation) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverL8 drv(seed);
  // Every (a, b) pair with a, b in a coarse grid including both ends.
  const int vals[] = {-128, -127, -65, -64, -1, 0, 1, 63, 64, 126, 127};
  const int nv = 11;
  Matrix<int8_t> a(nv, nv), b(nv, nv);
  for (int i = 0; i < nv; ++i) {
    for (int j = 0; j < nv; ++j) {
      a.at(i, j) = static_cast<int8_t>(vals[i]);
      b.at(i, j) = static_cast<int8_t>(vals[j]);
    }
  }
  ExpectRun(drv.RunAdd(a, b, VecStalls::All(StallSpec::Random(0.3)), seed), GoldenAdd(a, b),
            "add grid");
  Matrix<int8_t> x, y;
  MakeAb(4, DriverL8::kDMax, Kind::kSaturating, rng, &x, &y);
  ExpectRun(drv.RunAdd(x, y, VecStalls::None(), seed), GoldenAdd(x, y), "add saturating");
}

// ============================================================================================
// Cycle counts
// ============================================================================================

template <class Driver>
void RunCycleCases(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const int d_max = Driver::kDMax, L = Driver::kLanes;
  for (int d : {1, L, L + 1, d_max - 1, d_max}) {
    for (int rows : {1, 2, 3, 4, 7}) {
      // Elementwise: exactly 6 + LB + rows * ceil(d / L) (one beat per cycle).
      {
        const Matrix<int32_t> acc = RandomAcc(rows, d, rng);
        const Requant rq{40000, 20};
        const VecCfg c{VecMode::kRequant, d, rows, false, rq.mult, rq.shift};
        const VecResult r = drv.RunRequant(acc, rq, VecStalls::None(), seed);
        ExpectRun(r, GoldenRequant(acc, rq), Describe(c));
        EXPECT_EQ(r.cycles, Driver::ElementwiseCycles(c)) << Describe(c);
      }
      {
        const GeluLut lut = RandomLut(rng);
        const Matrix<int8_t> x = RandomInt8(rows, d, rng);
        const VecCfg c{VecMode::kGelu, d, rows, true, 1, 0};
        const VecResult r = drv.RunGelu(x, lut, true, VecStalls::None(), seed);
        ExpectRun(r, GoldenGelu(x, lut), Describe(c));
        EXPECT_EQ(r.cycles, Driver::ElementwiseCycles(c)) << Describe(c);
      }
      // LayerNorm: the recurrence exactly, and the closed-form bound.
      for (bool load : {true, false}) {
        const LnParams ln = RandomLn(d, rng);
        const ResidualScale rs = RandomResidual(rng);
        if (!load) drv.LoadLn(ln, d, VecStalls::None(), seed);
        Matrix<int8_t> a, b;
        MakeAb(rows, d, Kind::kUniform, rng, &a, &b);
        const VecCfg c = LnCfg(d, rows, load, rs, ln);
        const VecResult r = drv.RunLayerNorm(a, b, rs, ln, load, VecStalls::None(), seed);
        ExpectRun(r, GoldenLn(a, b, rs, ln), Describe(c));
        EXPECT_EQ(r.cycles, Driver::LnCycles(c)) << Describe(c);
        EXPECT_LE(r.cycles, Driver::LnCycleBound(c)) << Describe(c);
        Report(c, r, true, "bound " + std::to_string(Driver::LnCycleBound(c)));
      }
    }
  }
}

TEST(VecCycles, NoStallsL4) { RunCycleCases<DriverL4>(TestSeed()); }
TEST(VecCycles, NoStallsL4Gate) { RunCycleCases<DriverL4Gate>(TestSeed()); }
TEST(VecCycles, NoStallsL8) { RunCycleCases<DriverL8>(TestSeed()); }

// ============================================================================================
// Configuration errors
// ============================================================================================

template <class Driver>
void RunCfgErrors() {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const int d_max = Driver::kDMax;

  // Beats on every input stream, offered the whole time of an errored run.
  const int d = 10;
  Matrix<int8_t> a, b;
  MakeAb(2, d, Kind::kUniform, rng, &a, &b);
  const LnParams ln = RandomLn(d, rng);
  const GeluLut lut = RandomLut(rng);
  VecBeats offered;
  offered.prm = drv.LnBeats(ln, d);
  offered.a = drv.Int8Beats(a);
  offered.b = drv.Int8Beats(b);
  offered.acc = drv.Int32Beats(RandomAcc(2, d, rng));

  auto expect_error = [&](const VecCfg& c, int code, const std::string& what) {
    SCOPED_TRACE(what + ": " + Describe(c));
    const VecResult r = drv.Run(c, offered, VecStalls::All(StallSpec::Random(0.3)), seed, 200);
    EXPECT_TRUE(r.done) << "done_o";
    EXPECT_EQ(r.err_code, code) << "error code";
    EXPECT_EQ(r.cycles, 2u) << "cycles from start to done_o";
    EXPECT_EQ(r.prm_taken + r.a_taken + r.b_taken + r.acc_taken, 0u) << "beats consumed";
    EXPECT_TRUE(r.out.empty()) << "output beats";
  };
  const VecMode kLn = VecMode::kResidualLn;
  // An LN configuration with residual mults ma, mb.
  auto ln_cfg = [&](int dd, int rows, bool load, int ma, int mb, int shift = 0) {
    VecCfg c{kLn, dd, rows, load, 1, shift};
    c.res_mult_a = ma;
    c.res_mult_b = mb;
    return c;
  };
  const int kBad = kResMax + 1;

  // After reset nothing is loaded.
  expect_error({VecMode::kGelu, d, 2, false, 1, 0}, Pkg::VEC_ERR_NO_LUT, "GELU, no LUT");
  expect_error({kLn, d, 2, false, 1, 0}, Pkg::VEC_ERR_NO_PARAMS, "LN, no gamma/beta");
  expect_error(ln_cfg(d, 2, false, kBad, kResOne), Pkg::VEC_ERR_RES_MULT,
               "LN res_mult_a 2^15 + 1: before no gamma/beta");
  // Field ranges, every mode.
  for (VecMode m : {VecMode::kRequant, VecMode::kAdd, VecMode::kGelu, kLn}) {
    expect_error({m, 0, 2, true, 1, 0}, Pkg::VEC_ERR_D, "d 0");
    expect_error({m, d_max + 1, 2, true, 1, 0}, Pkg::VEC_ERR_D, "d DMax+1");
    expect_error({m, 63, 2, true, 1, 0}, Pkg::VEC_ERR_D, "d 63");
    expect_error({m, d, 0, false, 1, 0}, Pkg::VEC_ERR_N_ROWS, "n_rows 0 without load");
  }
  expect_error({VecMode::kRequant, d, 0, true, 1, 0}, Pkg::VEC_ERR_N_ROWS,
               "n_rows 0, REQUANT has nothing to load");
  expect_error({VecMode::kAdd, d, 0, true, 1, 0}, Pkg::VEC_ERR_N_ROWS,
               "n_rows 0, ADD has nothing to load");
  expect_error({VecMode::kRequant, d, 2, false, 1, 48}, Pkg::VEC_ERR_SHIFT, "shift 48");
  expect_error({kLn, d, 2, true, 1, 63}, Pkg::VEC_ERR_SHIFT, "LN shift 63");
  expect_error({VecMode::kRequant, 0, 0, false, 1, 63}, Pkg::VEC_ERR_D, "three bad: d first");
  expect_error({VecMode::kGelu, d, 0, false, 1, 63}, Pkg::VEC_ERR_N_ROWS,
               "GELU n_rows 0 before no LUT");
  // Residual mults above 2^15 (RESIDUAL_LN only), after the shift check.
  expect_error(ln_cfg(d, 2, true, kBad, kResOne), Pkg::VEC_ERR_RES_MULT, "res_mult_a 2^15 + 1");
  expect_error(ln_cfg(d, 2, true, kResOne, kBad), Pkg::VEC_ERR_RES_MULT, "res_mult_b 2^15 + 1");
  expect_error(ln_cfg(d, 2, true, kBad, kBad), Pkg::VEC_ERR_RES_MULT, "both mults 2^15 + 1");
  expect_error(ln_cfg(d, 2, true, 65535, 0), Pkg::VEC_ERR_RES_MULT, "res_mult_a 65535");
  expect_error(ln_cfg(d, 2, true, kResMax, 65535), Pkg::VEC_ERR_RES_MULT, "res_mult_b 65535");
  expect_error(ln_cfg(d, 0, true, kBad, 0), Pkg::VEC_ERR_RES_MULT, "load-only LN run");
  expect_error(ln_cfg(d, 2, true, kBad, kBad, 48), Pkg::VEC_ERR_SHIFT, "shift before mults");
  expect_error(ln_cfg(0, 2, true, kBad, kBad), Pkg::VEC_ERR_D, "d before mults");
  expect_error(ln_cfg(d, 0, false, kBad, kBad), Pkg::VEC_ERR_N_ROWS, "n_rows before mults");

  // REQUANT and ADD ignore the residual mult fields: 65535 is legal there.
  {
    Matrix<int8_t> x, y;
    MakeAb(2, d, Kind::kUniform, rng, &x, &y);
    VecBeats beats;
    beats.a = drv.Int8Beats(x);
    beats.b = drv.Int8Beats(y);
    VecCfg c{VecMode::kAdd, d, 2, false, 1, 0};
    c.res_mult_a = c.res_mult_b = 65535;
    ExpectRun(drv.Run(c, beats, VecStalls::None(), seed), GoldenAdd(x, y), "ADD mults 65535");
    const Matrix<int32_t> acc = RandomAcc(2, d, rng);
    const Requant rq{40000, 20};
    VecBeats acc_beats;
    acc_beats.acc = drv.Int32Beats(acc);
    VecCfg cr{VecMode::kRequant, d, 2, false, rq.mult, rq.shift};
    cr.res_mult_a = cr.res_mult_b = 65535;
    ExpectRun(drv.Run(cr, acc_beats, VecStalls::None(), seed), GoldenRequant(acc, rq),
              "REQUANT mults 65535");
  }

  // GELU and ADD ignore the shift field: shift 63 is legal there.
  {
    const Matrix<int8_t> x = RandomInt8(2, d, rng);
    VecBeats beats;
    beats.prm = drv.LutBeats(lut);
    beats.a = drv.Int8Beats(x);
    VecCfg c{VecMode::kGelu, d, 2, true, 0, 63};
    c.res_mult_a = c.res_mult_b = 65535;
    ExpectRun(drv.Run(c, beats, VecStalls::None(), seed), GoldenGelu(x, lut),
              "GELU shift 63, mults 65535");
  }
  // A load of gamma/beta for d, then LN with another d without load is an error, with the
  // same d it runs; an errored run keeps the loaded parameters.
  ASSERT_EQ(drv.LoadLn(ln, d, VecStalls::None(), seed).err_code, 0);
  expect_error({kLn, d + 1, 2, false, ln.rq.mult, ln.rq.shift}, Pkg::VEC_ERR_NO_PARAMS,
               "LN, gamma/beta of another d");
  expect_error({kLn, d, 2, false, 1, 50}, Pkg::VEC_ERR_SHIFT, "LN shift 50 after a load");
  expect_error(ln_cfg(d, 2, false, kResMax, kBad), Pkg::VEC_ERR_RES_MULT, "mult after a load");
  // The edge 2^15 itself is legal.
  const ResidualScale max2{kResMax, kResMax};
  ExpectRun(drv.RunLayerNorm(a, b, max2, ln, false, VecStalls::All(StallSpec::Random(0.3)), seed),
            GoldenLn(a, b, max2, ln), "LN with the loaded gamma/beta after errors, mults 2^15");
  // The LUT is kept across errors too.
  expect_error({VecMode::kGelu, 0, 2, false, 1, 0}, Pkg::VEC_ERR_D, "GELU d 0");
  const Matrix<int8_t> x = RandomInt8(3, d_max, rng);
  ExpectRun(drv.RunGelu(x, lut, false, VecStalls::None(), seed), GoldenGelu(x, lut),
            "GELU with the kept LUT after an error");
  // A full good sequence afterwards.
  RunRandomSequence(drv, VecStalls::All(StallSpec::Random(0.3)), 12, 3, seed + 7);
}

TEST(VecCfgError, EachFieldThenAGoodRun) { RunCfgErrors<DriverL4>(); }
TEST(VecCfgError, EachFieldThenAGoodRunGate) { RunCfgErrors<DriverL4Gate>(); }

// ============================================================================================
// The MiniLM-shaped configuration
// ============================================================================================

TEST(VecMiniLm, LayerNormRows384) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  const int d = 384;
  LnParams ln = RandomLn(d, rng);
  ln.rq = QuantizeMultiplier(64.0 / (1 << 24));
  // A realistic residual: operand scales 2^-4 and 2^-6.3 (QuantizeResidual).
  const ResidualScale rs = QuantizeResidual(std::exp2(-4.0), std::exp2(-6.3));
  Matrix<int8_t> a, b;
  MakeAb(12, d, Kind::kUniform, rng, &a, &b);
  VecCfg c = LnCfg(d, 12, true, rs, ln);
  VecResult r = drv.RunLayerNorm(a, b, rs, ln, true, VecStalls::None(), seed);
  ExpectRun(r, GoldenLn(a, b, rs, ln), Describe(c));
  EXPECT_EQ(r.cycles, DriverMiniLm::LnCycles(c));
  EXPECT_LE(r.cycles, DriverMiniLm::LnCycleBound(c));
  // 24 beats per row and StatsCycles + 2 <= 24: one row per 24 cycles after the first.
  EXPECT_LE(DriverMiniLm::kStatsCycles + 2, 24);
  const uint64_t first = DriverMiniLm::LnCycles({VecMode::kResidualLn, d, 1, true, 1, 0});
  EXPECT_EQ(r.cycles, first + 11 * 24) << "one beat per cycle in steady state";
  std::printf("MiniLM-shaped LN: 12 rows of 384 in %llu cycles (first row %llu, StatsCycles %d)\n",
              static_cast<unsigned long long>(r.cycles), static_cast<unsigned long long>(first),
              DriverMiniLm::kStatsCycles);
  // The same rows with stalls everywhere, without reloading gamma/beta, other mults.
  const ResidualScale rs2 = RandomResidual(rng);
  r = drv.RunLayerNorm(a, b, rs2, ln, false, VecStalls::All(StallSpec::Random(0.3)), seed + 1);
  c = LnCfg(d, 12, false, rs2, ln);
  ExpectRun(r, GoldenLn(a, b, rs2, ln), Describe(c, "stalls"));
}

TEST(VecMiniLm, LayerNormExtremesAtDMax) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  const int d = DriverMiniLm::kDMax;
  // Mults 2^15: r = 2032 / -2048, the largest S, Q and V at d = DMax; then the default.
  for (const ResidualScale rs : {ResidualScale{kResMax, kResMax}, ResidualScale{}}) {
    for (Kind kind : {Kind::kOutlier, Kind::kSaturating, Kind::kMinus128, Kind::kExtreme}) {
      LnParams ln = RandomLn(d, rng);
      ln.rq = Requant{1, 0};  // n * gamma + beta saturates unless tiny: also try a real one
      if (kind == Kind::kSaturating) ln.rq = QuantizeMultiplier(64.0 / (1 << 24));
      Matrix<int8_t> a, b;
      MakeAb(2, d, kind, rng, &a, &b);
      const VecCfg c = LnCfg(d, 2, true, rs, ln);
      ExpectRun(
          drv.RunLayerNorm(a, b, rs, ln, true, VecStalls::All(StallSpec::Bursty(0.1, 8)), seed),
          GoldenLn(a, b, rs, ln), Describe(c, KindName(kind)));
    }
  }
}

TEST(VecMiniLm, GeluAndRequantRows1536) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  const int d = DriverMiniLm::kDMax;
  const GeluLut lut = BuildGeluLut(0.04f, 0.02f);
  const Matrix<int8_t> x = RandomInt8(3, d, rng);
  VecResult r = drv.RunGelu(x, lut, true, VecStalls::None(), seed);
  const VecCfg cg{VecMode::kGelu, d, 3, true, 1, 0};
  ExpectRun(r, GoldenGelu(x, lut), Describe(cg));
  EXPECT_EQ(r.cycles, DriverMiniLm::ElementwiseCycles(cg));
  const Matrix<int32_t> acc = RandomAcc(3, d, rng);
  const Requant rq = QuantizeMultiplier(1.0 / 3000.0);
  r = drv.RunRequant(acc, rq, VecStalls::All(StallSpec::Random(0.3)), seed);
  ExpectRun(r, GoldenRequant(acc, rq), "requant 1536");
  RunRandomSequence(drv, VecStalls::All(StallSpec::Random(0.3)), 10, 2, seed + 3);
}

}  // namespace
}  // namespace esact
