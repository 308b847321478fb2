// esact_hlog_dot against esact::HlogDot, and esact_predictor against esact::Predict
// (golden/hlog.h, golden/spls.h): decisions first (SPA sets, reuse map, needed K/V, token
// anchors), with the first differing row printed.
//
//   HlogDot*            every code pair, random vectors of every code and of encoder
//                       codes, lanes 4 (AccW 32) and 3 (AccW 20: the wrap), stalls on
//                       input and output; throughput one beat per cycle.
//   PredictorRandom     random configurations, inputs, biases and seeds, both small
//                       configurations, stall shapes on every stream, several layers
//                       back to back through one unit.
//   PredictorEdge       k = 1, k = n, k > n, n_valid = 1, w = 0, t = 0, t > k, all
//                       tokens identical, all scores equal, padded rows, saturating shifts,
//                       one-beat columns, no bias, biases at +-MaxLinearBias(d).
//   PredictorBias       K~, Q~ at exactly +-(2^31 - 1) (bias at the bound plus the largest
//                       dot sum); the bias sampled with a column's last beat only.
//   PredictorCycles     without stalls the run takes the documented cycle count.
//   PredictorCfgError   each illegal field gives its error code, consumes nothing, raises
//                       done_o; the next legal run is correct.
//   PredictorMiniLm     the MiniLM-shaped configuration (wide ports) on a small layer;
//                       the whole MiniLM-shaped layer (FullLayer: ctest label `full`).
//   Gate/*, *Gate       the random, edge, bias, cycle and error checks above on the
//                       gate-level netlist of Vesact_predictor_l4 (Yosys `synth`, flattened:
//                       rtl/tops.txt '# gate-level'), which must match the golden model and
//                       the RTL's cycle counts exactly.
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
// ESACT_VERBOSE=1 prints one line per predictor run (shape, cycles, reused rows).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vesact_hlog_dot_l3.h"
#include "Vesact_hlog_dot_l3_esact_hlog_dot.h"
#include "Vesact_hlog_dot_l4.h"
#include "Vesact_hlog_dot_l4_esact_hlog_dot.h"
#include "Vesact_predictor_l4.h"
#include "Vesact_predictor_l4_esact_pkg.h"
#include "Vesact_predictor_l4_esact_predictor.h"
#include "Vesact_predictor_l4_gl.h"
#include "Vesact_predictor_l8.h"
#include "Vesact_predictor_l8_esact_predictor.h"
#include "Vesact_predictor_minilm.h"
#include "Vesact_predictor_minilm_esact_predictor.h"
#include "golden/hlog.h"
#include "golden/layer.h"
#include "golden/matrix.h"
#include "golden/report.h"
#include "golden/spls.h"
#include "sim/harness.h"
#include "sim/predictor_driver.h"

namespace esact {
namespace {

using sim::Bits;
using sim::PredictorCfg;
using sim::PredictorResult;
using sim::PredictorStalls;
using sim::StallSpec;
using sim::TestSeed;

using Pkg = Vesact_predictor_l4_esact_pkg;
static_assert(Pkg::PRED_SHIFT_W == 5 && (1 << Pkg::PRED_SHIFT_W) - 1 == kPredMaxShift,
              "every shift field value is a legal shift");
static_assert(Pkg::HLOG_CODE_W == kHlogCodeBits);
static_assert(Pkg::HLOG_ZERO == kHlogZero);

using DriverL4 = sim::PredictorDriver<Vesact_predictor_l4, Vesact_predictor_l4_esact_predictor>;
using DriverL8 = sim::PredictorDriver<Vesact_predictor_l8, Vesact_predictor_l8_esact_predictor>;
// The gate-level twin of Vesact_predictor_l4: its Yosys netlist (rtl/tops.txt '# gate-level').
// The ports are the RTL's, so the same driver runs it, with the RTL model's parameters.
using DriverL4Gate =
    sim::PredictorDriver<Vesact_predictor_l4_gl, Vesact_predictor_l4_esact_predictor>;
using DriverMiniLm =
    sim::PredictorDriver<Vesact_predictor_minilm, Vesact_predictor_minilm_esact_predictor>;

// ============================================================================================
// esact_hlog_dot
// ============================================================================================

// Sign-extends the low `width` bits of v.
int64_t Wrap(int64_t v, int width) {
  const uint64_t m = width >= 64 ? ~0ull : (1ull << width) - 1;
  uint64_t u = static_cast<uint64_t>(v) & m;
  if (width < 64 && ((u >> (width - 1)) & 1)) u |= ~m;
  return static_cast<int64_t>(u);
}

struct DotVector {
  std::vector<HlogCode> a, b;  // beats * lanes codes
};

template <class Model, class Params>
class DotBench {
 public:
  static constexpr int kLanes = static_cast<int>(Params::Lanes);
  static constexpr int kAccW = static_cast<int>(Params::AccW);

  explicit DotBench(uint64_t seed) : h_(seed), junk_(seed + 99) {
    h_->in_valid_i = 0;
    h_->out_ready_i = 0;
    h_.Reset();
  }

  // Streams the vectors through and returns the sums; *cycles counts the edges.
  std::vector<int64_t> Run(const std::vector<DotVector>& vecs, StallSpec in_stall,
                           StallSpec out_stall, uint64_t seed, uint64_t* cycles = nullptr) {
    struct Beat {
      Bits a, b;
      bool last;
    };
    sim::StreamSource<Beat> src(in_stall, seed * 4 + 1);
    sim::StallPattern sink(out_stall, seed * 4 + 2);
    size_t beats = 0;
    for (const DotVector& v : vecs) {
      const int n_beats = static_cast<int>(v.a.size()) / kLanes;
      for (int k = 0; k < n_beats; ++k) {
        Beat beat{Bits(kLanes * kHlogCodeBits), Bits(kLanes * kHlogCodeBits), k == n_beats - 1};
        for (int l = 0; l < kLanes; ++l) {
          beat.a.Set(l * kHlogCodeBits, kHlogCodeBits, v.a[k * kLanes + l]);
          beat.b.Set(l * kHlogCodeBits, kHlogCodeBits, v.b[k * kLanes + l]);
        }
        src.Push(beat);
        ++beats;
      }
    }
    std::vector<int64_t> sums;
    const uint64_t start = h_.cycle();
    const uint64_t bound = 40 * beats + 100;
    while (sums.size() < vecs.size()) {
      if (h_.cycle() - start > bound) {
        ADD_FAILURE() << "timeout: " << sums.size() << " of " << vecs.size() << " sums";
        break;
      }
      src.Prepare();
      const bool ready = !sink.Stall();
      h_->in_valid_i = src.valid();
      sim::WritePort(&h_->a_i, src.valid() ? src.front().a : Junk());
      sim::WritePort(&h_->b_i, src.valid() ? src.front().b : Junk());
      h_->in_last_i = src.valid() ? src.front().last : (junk_() & 1);
      h_->out_ready_i = ready;
      h_.Eval();
      src.Observe(h_->in_ready_o);
      if (h_->out_valid_o && ready) {
        sums.push_back(Wrap(static_cast<uint32_t>(h_->out_sum_o), kAccW));
      }
      h_.Tick();
    }
    if (cycles != nullptr) *cycles = h_.cycle() - start;
    h_->in_valid_i = 0;
    h_->out_ready_i = 1;
    for (int i = 0; i < 3; ++i) {
      h_.Eval();
      EXPECT_FALSE(h_->out_valid_o) << "extra sum after the stream drained";
      h_.Tick();
    }
    return sums;
  }

 private:
  Bits Junk() {
    Bits b(kLanes * kHlogCodeBits);
    // Any pattern, also the never-produced ones: junk is never summed.
    for (int l = 0; l < kLanes; ++l) b.Set(l * kHlogCodeBits, kHlogCodeBits, junk_() & 31);
    return b;
  }

  sim::Harness<Model> h_;
  std::mt19937_64 junk_;
};

template <class Model, class Params>
void ExpectDotSums(const std::vector<DotVector>& vecs, StallSpec in_stall, StallSpec out_stall,
                   uint64_t seed) {
  DotBench<Model, Params> bench(seed);
  const std::vector<int64_t> got = bench.Run(vecs, in_stall, out_stall, seed);
  ASSERT_EQ(got.size(), vecs.size());
  int bad = 0;
  for (size_t i = 0; i < vecs.size(); ++i) {
    const int n = static_cast<int>(vecs[i].a.size());
    const int64_t want =
        Wrap(HlogDot(vecs[i].a.data(), 1, vecs[i].b.data(), 1, n), DotBench<Model, Params>::kAccW);
    if (got[i] != want && ++bad <= 5) {
      ADD_FAILURE() << "vector " << i << " (" << n << " products): sum " << got[i] << ", golden "
                    << want << " (seed " << seed << ")";
    }
  }
  EXPECT_EQ(bad, 0) << "wrong sums (seed " << seed << ")";
}

// The 30 codes of the format: every 5-bit pattern except e = 7 with h = 1 (0x0F, 0x1F),
// which HlogEncode never produces and HlogDecode rejects. Includes 0x11 (negative zero).
std::vector<HlogCode> AllCodes() {
  std::vector<HlogCode> codes;
  for (int c = 0; c < 32; ++c) {
    if ((c & 0x0F) != 0x0F) codes.push_back(static_cast<HlogCode>(c));
  }
  return codes;
}

// Every (a, b) code pair in every lane: one-beat vectors, the other lanes zero codes
// or random codes.
template <class Model, class Params>
std::vector<DotVector> AllPairs(uint64_t seed) {
  constexpr int kLanes = Params::Lanes;
  const std::vector<HlogCode> codes = AllCodes();
  std::mt19937_64 rng(seed);
  std::vector<DotVector> vecs;
  for (HlogCode a : codes) {
    for (HlogCode b : codes) {
      DotVector v;
      const int lane = static_cast<int>(vecs.size()) % kLanes;
      const bool fill = vecs.size() % 2 == 1;
      for (int l = 0; l < kLanes; ++l) {
        v.a.push_back(l == lane ? a : (fill ? codes[rng() % codes.size()] : kHlogZero));
        v.b.push_back(l == lane ? b : (fill ? codes[rng() % codes.size()] : kHlogZero));
      }
      vecs.push_back(v);
    }
  }
  return vecs;
}

// Random vectors of 1..max_beats beats: codes from the whole 5-bit space, or encoder
// codes of random int8 values (the predictor's operands).
template <class Params>
std::vector<DotVector> RandomVectors(int count, int max_beats, bool any_code, uint64_t seed) {
  constexpr int kLanes = Params::Lanes;
  const std::vector<HlogCode> codes = AllCodes();
  std::mt19937_64 rng(seed);
  std::vector<DotVector> vecs;
  for (int i = 0; i < count; ++i) {
    const int beats = 1 + static_cast<int>(rng() % max_beats);
    const int bits = 4 + static_cast<int>(rng() % 5);
    const HlogRound round = (rng() & 1) ? HlogRound::kNearest : HlogRound::kTowardZero;
    DotVector v;
    for (int k = 0; k < beats * kLanes; ++k) {
      if (any_code) {
        v.a.push_back(codes[rng() % codes.size()]);
        v.b.push_back(codes[rng() % codes.size()]);
      } else {
        // Large magnitudes often, to reach the top of the accumulator range.
        auto value = [&]() {
          return (rng() % 4 == 0) ? ((rng() & 1) ? 128 : -128)
                                  : static_cast<int>(rng() % 257) - 128;
        };
        v.a.push_back(HlogEncode(value(), bits, round));
        v.b.push_back(HlogEncode(value(), bits, round));
      }
    }
    vecs.push_back(v);
  }
  return vecs;
}

struct DotCase {
  int lanes;
  StallSpec in_stall, out_stall;
  std::string Name() const {
    return "l" + std::to_string(lanes) + "_in_" + in_stall.Name() + "_out_" + out_stall.Name();
  }
};
void PrintTo(const DotCase& c, std::ostream* os) { *os << c.Name(); }

std::vector<DotCase> DotCases() {
  const StallSpec stalls[] = {StallSpec::None(), StallSpec::Random(0.3), StallSpec::Bursty()};
  std::vector<DotCase> cases;
  for (int lanes : {4, 3}) {
    for (const StallSpec& in : stalls) {
      for (const StallSpec& out : stalls) cases.push_back({lanes, in, out});
    }
  }
  return cases;
}

class HlogDotSweep : public ::testing::TestWithParam<DotCase> {};

template <class Model, class Params>
void RunDotSweep(const DotCase& c, uint64_t seed) {
  {
    SCOPED_TRACE("all code pairs");
    ExpectDotSums<Model, Params>(AllPairs<Model, Params>(seed), c.in_stall, c.out_stall, seed);
  }
  {
    SCOPED_TRACE("random vectors, any code");
    ExpectDotSums<Model, Params>(RandomVectors<Params>(300, 12, true, seed + 1), c.in_stall,
                                 c.out_stall, seed);
  }
  {
    SCOPED_TRACE("long random vectors, encoder codes");
    ExpectDotSums<Model, Params>(RandomVectors<Params>(40, 200, false, seed + 2), c.in_stall,
                                 c.out_stall, seed);
  }
}

TEST_P(HlogDotSweep, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  if (GetParam().lanes == 4) {
    RunDotSweep<Vesact_hlog_dot_l4, Vesact_hlog_dot_l4_esact_hlog_dot>(GetParam(), seed);
  } else {
    RunDotSweep<Vesact_hlog_dot_l3, Vesact_hlog_dot_l3_esact_hlog_dot>(GetParam(), seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Rtl, HlogDotSweep, ::testing::ValuesIn(DotCases()),
                         [](const ::testing::TestParamInfo<DotCase>& info) {
                           return info.param.Name();
                         });

// One beat per cycle: V vectors of B beats take V*B cycles plus the two pipeline stages.
TEST(HlogDot, Throughput) {
  const uint64_t seed = TestSeed();
  using Params = Vesact_hlog_dot_l4_esact_hlog_dot;
  for (int beats : {1, 2, 7}) {
    SCOPED_TRACE("beats per vector " + std::to_string(beats));
    std::vector<DotVector> vecs = RandomVectors<Params>(50, 1, true, seed);
    for (DotVector& v : vecs) {
      v.a.resize(beats * Params::Lanes, 0x02);
      v.b.resize(beats * Params::Lanes, 0x12);
    }
    DotBench<Vesact_hlog_dot_l4, Params> bench(seed);
    uint64_t cycles = 0;
    const std::vector<int64_t> got =
        bench.Run(vecs, StallSpec::None(), StallSpec::None(), seed, &cycles);
    ASSERT_EQ(got.size(), vecs.size());
    EXPECT_LE(cycles, vecs.size() * beats + 3) << "one beat per cycle";
    for (size_t i = 0; i < vecs.size(); ++i) {
      EXPECT_EQ(got[i], HlogDot(vecs[i].a.data(), 1, vecs[i].b.data(), 1,
                                static_cast<int>(vecs[i].a.size())));
    }
  }
}

// ============================================================================================
// esact_predictor
// ============================================================================================

// One layer input and its golden decision.
struct Layer {
  Matrix<int8_t> x;
  int n_valid = 1;
  int heads = 1;
  PredictorWeights weights;
  SplsConfig cfg;
  std::string what;  // a one-line description for failure messages
};

std::string Describe(const Layer& L) {
  std::ostringstream os;
  os << "n_tokens " << L.x.rows << " n_valid " << L.n_valid << " d " << L.x.cols << " heads "
     << L.heads << " k " << L.cfg.k << " w " << L.cfg.w << " t " << L.cfg.t << " bits "
     << L.cfg.hlog_bits << (L.cfg.round == HlogRound::kNearest ? " nearest" : " tz") << " q_shift "
     << L.weights.q_shift << " k_shift " << L.weights.k_shift;
  // The biases in short: none, or how many entries sit at the bound's edges.
  const int64_t max_bias = MaxLinearBias(L.x.cols);
  for (const auto& [name, b] :
       {std::pair{" q_bias", &L.weights.q_bias}, std::pair{" k_bias", &L.weights.k_bias}}) {
    os << name;
    if (b->empty()) {
      os << " none";
      continue;
    }
    int at_edge = 0;
    int64_t largest = 0;
    for (int32_t v : *b) {
      at_edge += std::llabs(v) == max_bias;
      largest = std::max<int64_t>(largest, std::llabs(v));
    }
    os << " max|b| " << largest << " (" << at_edge << " at +-" << max_bias << ")";
  }
  if (!L.what.empty()) os << " [" << L.what << "]";
  return os.str();
}

// Smallest shift that brings max |projection + bias| to <= 128 (the offline calibration),
// over the columns whose |bias| is at most `limit` (the others saturate on purpose).
int CalibratedShift(const Matrix<HlogCode>& x_hat, const Matrix<HlogCode>& w_hat,
                    const std::vector<int32_t>& bias, int64_t limit, int n_valid) {
  const Matrix<int32_t> p = PredictProject(x_hat, w_hat, n_valid);
  int64_t m = 0;
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < p.cols; ++c) {
      const int64_t b = bias.empty() ? 0 : bias[c];
      if (std::llabs(b) <= limit) m = std::max<int64_t>(m, std::llabs(p.at(i, c) + b));
    }
  }
  int s = 0;
  while ((m >> s) > kHlogMaxMagnitude) ++s;
  return s;
}

// The largest |X^ W^| of a layer's projection (rows < n_valid), at least 128.
int64_t MaxProjection(const Matrix<HlogCode>& x_hat, const Matrix<HlogCode>& w_hat, int n_valid) {
  const Matrix<int32_t> p = PredictProject(x_hat, w_hat, n_valid);
  int64_t m = kHlogMaxMagnitude;
  for (int32_t v : p.data) m = std::max<int64_t>(m, std::llabs(v));
  return m;
}

enum class XKind { kRandom, kSimilar, kIdentical, kZero };

// The biases of a random layer (both of Q and K):
//   kAny         one of the others, drawn per layer
//   kNone        empty vectors (no bias)
//   kComparable  every entry uniform in +-max |X^ W^| (the calibration includes them)
//   kMixed       per entry: 0, comparable, uniform over the whole bound, +MaxLinearBias(d)
//                or -MaxLinearBias(d)
//   kEdges       per entry: +-MaxLinearBias(d) (half of them) or comparable
// Entries beyond the comparable range saturate to +-128 (the shift is calibrated without
// them), so the columns they touch are constant; the comparable ones keep the decision
// depending on X.
enum class BiasKind { kAny, kNone, kComparable, kMixed, kEdges };

std::vector<int32_t> MakeBias(BiasKind kind, int d, int64_t comparable, std::mt19937_64& rng) {
  if (kind == BiasKind::kNone) return {};
  const int64_t max_bias = MaxLinearBias(d);
  auto uniform = [&rng](int64_t m) {
    return static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * m + 1)) - m);
  };
  auto edge = [&rng, max_bias]() {
    return static_cast<int32_t>((rng() & 1) ? max_bias : -max_bias);
  };
  std::vector<int32_t> b(d);
  for (int32_t& v : b) {
    switch (kind) {
      case BiasKind::kComparable:
        v = uniform(comparable);
        break;
      case BiasKind::kMixed:
        switch (rng() % 6) {
          case 0:
            v = 0;
            break;
          case 1:
          case 2:
            v = uniform(comparable);
            break;
          case 3:
            v = uniform(max_bias);
            break;
          default:
            v = edge();
            break;
        }
        break;
      default:  // kEdges
        v = (rng() & 1) ? edge() : uniform(comparable);
        break;
    }
  }
  return b;
}

// A random legal layer for a unit with the given limits. `shape` fixes fields >= 0.
struct Shape {
  int n_tokens = -1, n_valid = -1, heads = -1, d_head = -1, k = -1, w = -1, t = -1;
  XKind x_kind = XKind::kSimilar;
  int shift_delta = 0;  // added to the calibrated shifts (negative: saturation)
  BiasKind bias = BiasKind::kAny;
};

Layer MakeLayer(int lanes, int n_max, int d_max, int dh_max, int h_max, int k_max, int w_max,
                const Shape& s, std::mt19937_64& rng) {
  auto pick = [&rng](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  Layer L;
  // Head split: d_head a multiple of lanes, heads * d_head <= d_max.
  int dh = s.d_head;
  int heads = s.heads;
  if (dh < 0) dh = lanes * pick(1, dh_max / lanes);
  if (heads < 0) heads = pick(1, std::max(1, std::min(h_max, d_max / dh)));
  const int d = heads * dh;
  // The golden model takes 1 <= k <= n_tokens.
  const int n_tokens = s.n_tokens >= 0 ? s.n_tokens : pick(std::max(1, s.k), n_max);
  L.n_valid = s.n_valid >= 0 ? s.n_valid : pick(1, n_tokens);
  L.heads = heads;
  L.cfg.hlog_bits = pick(kHlogMinBits, kHlogMaxBits);
  L.cfg.round = (rng() & 1) ? HlogRound::kNearest : HlogRound::kTowardZero;
  // k > n_valid selects all valid columns.
  L.cfg.k = s.k >= 0 ? s.k : pick(1, std::min(k_max, n_tokens));
  L.cfg.w = s.w >= 0 ? s.w : pick(0, w_max);
  L.cfg.t = s.t >= 0 ? s.t : pick(0, L.cfg.k + 1);

  L.x = Matrix<int8_t>(n_tokens, d);
  std::vector<int8_t> row(d);
  for (int i = 0; i < n_tokens; ++i) {
    for (int c = 0; c < d; ++c) {
      const int8_t fresh = static_cast<int8_t>(pick(-128, 127));
      switch (s.x_kind) {
        case XKind::kRandom:
          row[c] = fresh;
          break;
        case XKind::kSimilar:  // a few entries change from one token to the next
          if (i == 0 || rng() % 8 == 0) row[c] = fresh;
          break;
        case XKind::kIdentical:
          if (i == 0) row[c] = fresh;
          break;
        case XKind::kZero:
          row[c] = 0;
          break;
      }
      L.x.at(i, c) = row[c];
    }
  }
  Matrix<int8_t> wq(d, d), wk(d, d);
  for (auto& v : wq.data) v = static_cast<int8_t>(pick(-128, 127));
  for (auto& v : wk.data) v = static_cast<int8_t>(pick(-128, 127));
  L.weights.w_q_hat = HlogQuantMatrix(wq, L.cfg.hlog_bits, L.cfg.round);
  L.weights.w_k_hat = HlogQuantMatrix(wk, L.cfg.hlog_bits, L.cfg.round);
  const Matrix<HlogCode> x_hat = HlogQuantMatrix(L.x, L.cfg.hlog_bits, L.cfg.round);
  const BiasKind bias_kind =
      s.bias != BiasKind::kAny ? s.bias : static_cast<BiasKind>(1 + rng() % 4);
  const int64_t q_range = MaxProjection(x_hat, L.weights.w_q_hat, L.n_valid);
  const int64_t k_range = MaxProjection(x_hat, L.weights.w_k_hat, L.n_valid);
  L.weights.q_bias = MakeBias(bias_kind, d, q_range, rng);
  L.weights.k_bias = MakeBias(bias_kind, d, k_range, rng);
  L.weights.q_shift =
      std::clamp(CalibratedShift(x_hat, L.weights.w_q_hat, L.weights.q_bias, q_range, L.n_valid) +
                     s.shift_delta,
                 0, kPredMaxShift);
  L.weights.k_shift =
      std::clamp(CalibratedShift(x_hat, L.weights.w_k_hat, L.weights.k_bias, k_range, L.n_valid) +
                     s.shift_delta,
                 0, kPredMaxShift);
  return L;
}

// A random legal layer within the limits of a driver's configuration.
template <class Driver>
Layer MakeLayerFor(const Shape& s, std::mt19937_64& rng) {
  return MakeLayer(Driver::kLanes, Driver::kNMax, Driver::kDMax, Driver::kDhMax, Driver::kHMax,
                   Driver::kKMax, Driver::kWMax, s, rng);
}

// Compares the decisions in the order the engines use them (golden/report.h) and reports
// the first difference; true when everything matches.
bool ExpectSameDecision(const SplsDecision& got, const SplsDecision& want, const Layer& L,
                        uint64_t seed) {
  const std::string diff = FirstDecisionDifference(got, want);
  if (!diff.empty()) ADD_FAILURE() << diff << "; " << Describe(L) << ", seed " << seed;
  return diff.empty();
}

template <class Driver>
bool RunAndCompare(Driver& drv, const Layer& L, const PredictorStalls& stalls, uint64_t seed,
                   PredictorResult* out = nullptr) {
  const SplsDecision want = Predict(L.x, L.n_valid, L.heads, L.weights, L.cfg);
  PredictorResult r = drv.RunLayer(L.x, L.n_valid, L.heads, L.weights, L.cfg, stalls, seed);
  bool ok = r.done;
  EXPECT_TRUE(r.done) << Describe(L);
  EXPECT_EQ(r.err_code, 0) << "error code for a legal configuration; " << Describe(L);
  EXPECT_EQ(r.order_error, "") << "output order; " << Describe(L);
  EXPECT_EQ(r.x_taken, static_cast<uint64_t>(L.n_valid * L.x.cols / Driver::kLanes));
  EXPECT_EQ(r.w_taken, static_cast<uint64_t>(2 * L.x.cols * L.x.cols / Driver::kLanes));
  ok = ok && r.err_code == 0 && r.order_error.empty();
  if (r.done && r.err_code == 0) ok = ExpectSameDecision(r.decision, want, L, seed) && ok;
  if (out != nullptr) *out = r;
  if (std::getenv("ESACT_VERBOSE") != nullptr) {
    int reused = 0;
    for (const HeadDecision& hd : want.heads) {
      for (int i = 0; i < L.n_valid; ++i) reused += hd.reuse[i] != i;
    }
    std::printf("  %s: %llu cycles, %d reused rows, %s\n", Describe(L).c_str(),
                static_cast<unsigned long long>(r.cycles), reused, ok ? "ok" : "MISMATCH");
  }
  return ok;
}

// ---- Random configurations, both elaboration configurations, stalls -----------------------

struct PredCase {
  int lanes;  // 4: Vesact_predictor_l4 (or its netlist), 8: Vesact_predictor_l8
  std::string stall_name;
  PredictorStalls stalls;
  bool gate = false;  // the gate-level netlist of Vesact_predictor_l4
  std::string Name() const { return "l" + std::to_string(lanes) + "_" + stall_name; }
};
void PrintTo(const PredCase& c, std::ostream* os) { *os << c.Name(); }

// The RTL cases (both configurations), or the gate-level ones (the l4 netlist).
std::vector<PredCase> PredCases(bool gate) {
  const StallSpec none = StallSpec::None(), rnd = StallSpec::Random(0.3),
                  bursty = StallSpec::Bursty(0.1, 8);
  std::vector<PredCase> cases;
  for (int lanes : gate ? std::vector<int>{4} : std::vector<int>{4, 8}) {
    cases.push_back({lanes, "none", PredictorStalls::None(), gate});
    cases.push_back({lanes, "all_rand30", PredictorStalls::All(rnd), gate});
    cases.push_back({lanes, "all_bursty", PredictorStalls::All(bursty), gate});
    cases.push_back({lanes, "in_only", {rnd, bursty, none, none, none}, gate});
    cases.push_back({lanes, "out_only", {none, none, rnd, bursty, rnd}, gate});
    cases.push_back({lanes, "w_starved", {none, StallSpec::Random(0.8), none, none, none}, gate});
    cases.push_back({lanes, "row_blocked", {none, none, StallSpec::Random(0.9), none, none}, gate});
  }
  return cases;
}

class PredictorRandom : public ::testing::TestWithParam<PredCase> {};

template <class Driver>
void RunRandom(const PredictorStalls& stalls, int layers, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < layers; ++n) {
    Shape s;
    s.x_kind = static_cast<XKind>(rng() % 3);  // random, similar, identical
    // A third of the layers with a shift below the calibrated one: saturation at 128.
    s.shift_delta = (rng() % 3 == 0) ? -1 - static_cast<int>(rng() % 3) : 0;
    const Layer L = MakeLayerFor<Driver>(s, rng);
    SCOPED_TRACE("layer " + std::to_string(n) + ": " + Describe(L));
    if (!RunAndCompare(drv, L, stalls, seed + n)) return;  // the first failure is enough
  }
}

TEST_P(PredictorRandom, MatchesGolden) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const PredCase& c = GetParam();
  const int layers = c.stall_name == "none" ? 40 : 15;
  if (c.gate) {
    RunRandom<DriverL4Gate>(c.stalls, layers, seed);
  } else if (c.lanes == 4) {
    RunRandom<DriverL4>(c.stalls, layers, seed);
  } else {
    RunRandom<DriverL8>(c.stalls, layers, seed);
  }
}

std::string PredName(const ::testing::TestParamInfo<PredCase>& info) { return info.param.Name(); }
INSTANTIATE_TEST_SUITE_P(Rtl, PredictorRandom, ::testing::ValuesIn(PredCases(false)), PredName);
INSTANTIATE_TEST_SUITE_P(Gate, PredictorRandom, ::testing::ValuesIn(PredCases(true)), PredName);

// ---- Edge cases -------------------------------------------------------------------------

struct EdgeCase {
  std::string name;
  Shape shape;
  bool gate = false;  // the gate-level netlist of Vesact_predictor_l4
};

// Each case on Vesact_predictor_l4, or on its gate-level netlist.
std::vector<EdgeCase> EdgeCases(bool gate) {
  auto shape = [](std::function<void(Shape&)> f) {
    Shape s;
    f(s);
    return s;
  };
  std::vector<EdgeCase> cases = {
      {"k1", shape([](Shape& s) { s.k = 1; })},
      {"k_eq_n", shape([](Shape& s) { s.n_tokens = 4, s.n_valid = 4, s.k = 4; })},
      {"k_gt_n_valid", shape([](Shape& s) { s.n_tokens = 4, s.n_valid = 2, s.k = 4; })},
      {"n_valid1", shape([](Shape& s) { s.n_valid = 1; })},
      {"n_tokens1", shape([](Shape& s) { s.n_tokens = 1, s.n_valid = 1; })},
      {"n_valid2_padded", shape([](Shape& s) { s.n_tokens = 16, s.n_valid = 2; })},
      {"w0", shape([](Shape& s) { s.w = 0, s.t = 0; })},
      {"t0", shape([](Shape& s) { s.t = 0; })},
      {"t_gt_k", shape([](Shape& s) { s.k = 2, s.t = 3; })},
      {"t_max", shape([](Shape& s) { s.t = 16; })},
      {"identical_tokens", shape([](Shape& s) { s.x_kind = XKind::kIdentical, s.t = 0; })},
      {"all_scores_equal",
       shape([](Shape& s) { s.x_kind = XKind::kZero, s.bias = BiasKind::kNone; })},
      {"zero_x_bias_only", shape([](Shape& s) { s.x_kind = XKind::kZero; })},
      {"random_tokens", shape([](Shape& s) { s.x_kind = XKind::kRandom; })},
      {"saturating_shift", shape([](Shape& s) { s.shift_delta = -4; })},
      {"zero_shift", shape([](Shape& s) { s.shift_delta = -31; })},
      {"large_shift", shape([](Shape& s) { s.shift_delta = 6; })},
      {"one_head_full_d", shape([](Shape& s) { s.heads = 1, s.d_head = 16; })},
      {"one_beat_columns", shape([](Shape& s) { s.n_valid = 1, s.heads = 1, s.d_head = 4; })},
      {"two_beat_columns",
       shape([](Shape& s) { s.n_tokens = 3, s.n_valid = 2, s.heads = 1, s.d_head = 8; })},
      {"no_bias", shape([](Shape& s) { s.bias = BiasKind::kNone; })},
      {"bias_comparable", shape([](Shape& s) { s.bias = BiasKind::kComparable; })},
      {"bias_mixed", shape([](Shape& s) { s.bias = BiasKind::kMixed; })},
      {"bias_edges", shape([](Shape& s) { s.bias = BiasKind::kEdges; })},
      {"max_heads_dh_lanes", shape([](Shape& s) { s.heads = 4, s.d_head = 4; })},
      {"full_size", shape([](Shape& s) {
         s.n_tokens = 16, s.n_valid = 16, s.heads = 2, s.d_head = 16, s.k = 4, s.w = 4;
       })},
  };
  for (EdgeCase& c : cases) c.gate = gate;
  return cases;
}

void PrintTo(const EdgeCase& c, std::ostream* os) { *os << c.name; }

// Every case with and without stalls, a few random draws of the free fields.
template <class Driver>
void RunEdge(const Shape& shape) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < 6; ++n) {
    const Layer L = MakeLayerFor<Driver>(shape, rng);
    const PredictorStalls stalls =
        n % 2 ? PredictorStalls::All(StallSpec::Random(0.3)) : PredictorStalls::None();
    SCOPED_TRACE("draw " + std::to_string(n) + ": " + Describe(L));
    if (!RunAndCompare(drv, L, stalls, seed + n)) return;
  }
}

class PredictorEdge : public ::testing::TestWithParam<EdgeCase> {};

TEST_P(PredictorEdge, MatchesGolden) {
  if (GetParam().gate) {
    RunEdge<DriverL4Gate>(GetParam().shape);
  } else {
    RunEdge<DriverL4>(GetParam().shape);
  }
}

std::string EdgeName(const ::testing::TestParamInfo<EdgeCase>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(Rtl, PredictorEdge, ::testing::ValuesIn(EdgeCases(false)), EdgeName);
INSTANTIATE_TEST_SUITE_P(Gate, PredictorEdge, ::testing::ValuesIn(EdgeCases(true)), EdgeName);

// The wider configuration at full size (n = NMax, d = DMax, k = KMax).
TEST(PredictorEdgeL8, FullSize) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverL8 drv(seed);
  Shape s;
  s.n_tokens = DriverL8::kNMax;
  s.n_valid = DriverL8::kNMax;
  s.heads = DriverL8::kDMax / DriverL8::kDhMax;
  s.d_head = DriverL8::kDhMax;
  s.k = DriverL8::kKMax;
  s.w = DriverL8::kWMax;
  const Layer L = MakeLayerFor<DriverL8>(s, rng);
  SCOPED_TRACE(Describe(L));
  RunAndCompare(drv, L, PredictorStalls::All(StallSpec::Random(0.2)), seed);
}

// ---- Biases at the bound -----------------------------------------------------------------

// A full-size layer whose K~ and Q~ reach exactly +-(2^31 - 1): every fourth row of X is
// all -128 (code -128 at every width), and some columns of W^ are all -128 resp. all +128
// codes with the bias +MaxLinearBias(d) resp. -MaxLinearBias(d), so those rows sum
// 2^14 d + MaxLinearBias(d) = 2^31 - 1 (or its negation). The extreme columns of W^_Q
// (c mod 4 = 0, 1) and of W^_K (c mod 4 = 2, 3) differ, so each meets a varying column of
// the other operand and its value shows in the scores. The other columns are random with
// comparable biases. The shifts are drawn among those that put the extremes just below
// saturation (24: 127), saturated (23, 0), calibrated on the other columns, and 31.
template <class Driver>
Layer MakeExtremeBiasLayer(std::mt19937_64& rng) {
  Layer L;
  const int n = std::min(Driver::kNMax, 16);
  const int d = Driver::kDMax;
  L.heads = d / Driver::kDhMax;
  L.n_valid = n;
  L.cfg.hlog_bits = kHlogMinBits + static_cast<int>(rng() % (kHlogMaxBits - kHlogMinBits + 1));
  L.cfg.round = (rng() & 1) ? HlogRound::kNearest : HlogRound::kTowardZero;
  L.cfg.k = 1 + static_cast<int>(rng() % std::min(Driver::kKMax, n));
  L.cfg.w = static_cast<int>(rng() % (Driver::kWMax + 1));
  L.cfg.t = static_cast<int>(rng() % (L.cfg.k + 2));
  L.what = "extreme sums";
  L.x = Matrix<int8_t>(n, d);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < d; ++c) {
      L.x.at(i, c) = i % 4 == 0 ? int8_t{-128} : static_cast<int8_t>(rng() % 256 - 128);
    }
  }
  const HlogCode minus128 = HlogEncode(-128, L.cfg.hlog_bits, L.cfg.round);
  const HlogCode plus128 = HlogEncode(128, L.cfg.hlog_bits, L.cfg.round);
  const int64_t max_bias = MaxLinearBias(d);
  const Matrix<HlogCode> x_hat = HlogQuantMatrix(L.x, L.cfg.hlog_bits, L.cfg.round);
  auto make = [&](int first_extreme, Matrix<HlogCode>* w_hat, std::vector<int32_t>* bias,
                  int* shift) {
    Matrix<int8_t> w(d, d);
    for (auto& v : w.data) v = static_cast<int8_t>(rng() % 256 - 128);
    *w_hat = HlogQuantMatrix(w, L.cfg.hlog_bits, L.cfg.round);
    const int64_t range = MaxProjection(x_hat, *w_hat, n);
    bias->assign(d, 0);
    for (int c = 0; c < d; ++c) {
      const int kind = (c + 4 - first_extreme) % 4;  // 0: all -128, 1: all +128
      if (kind < 2) {
        for (int r = 0; r < d; ++r) w_hat->at(r, c) = kind == 0 ? minus128 : plus128;
        (*bias)[c] = static_cast<int32_t>(kind == 0 ? max_bias : -max_bias);
      } else {
        (*bias)[c] = static_cast<int32_t>(static_cast<int64_t>(rng() % (2 * range + 1)) - range);
      }
    }
    const int choices[] = {24, 23, 0, 31, CalibratedShift(x_hat, *w_hat, *bias, range, n)};
    *shift = choices[rng() % 5];
  };
  make(0, &L.weights.w_q_hat, &L.weights.q_bias, &L.weights.q_shift);
  make(2, &L.weights.w_k_hat, &L.weights.k_bias, &L.weights.k_shift);
  return L;
}

template <class Driver>
void RunExtremeBias(int layers, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < layers; ++n) {
    const Layer L = MakeExtremeBiasLayer<Driver>(rng);
    // The golden sums do reach the int32 extremes (the test would be vacuous otherwise).
    const Matrix<int32_t> q = PredictProject(HlogQuantMatrix(L.x, L.cfg.hlog_bits, L.cfg.round),
                                             L.weights.w_q_hat, L.n_valid);
    ASSERT_EQ(int64_t{q.at(0, 0)} + L.weights.q_bias[0], int64_t{INT32_MAX});
    ASSERT_EQ(int64_t{q.at(0, 1)} + L.weights.q_bias[1], -int64_t{INT32_MAX});
    const PredictorStalls stalls =
        n % 2 ? PredictorStalls::All(StallSpec::Random(0.3)) : PredictorStalls::None();
    SCOPED_TRACE("layer " + std::to_string(n) + ": " + Describe(L));
    if (!RunAndCompare(drv, L, stalls, seed + n)) return;
  }
}

TEST(PredictorBias, ExtremeSumsL4) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunExtremeBias<DriverL4>(12, seed);
}

TEST(PredictorBias, ExtremeSumsL8) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunExtremeBias<DriverL8>(4, seed);
}

TEST(PredictorBias, ExtremeSumsL4Gate) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  RunExtremeBias<DriverL4Gate>(12, seed);
}

// The unit samples w_bias_i with a column's last beat only: junk on the other beats of
// every column changes nothing.
template <class Driver>
void RunLastBeatBias() {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  for (int n = 0; n < 8; ++n) {
    Shape s;
    s.bias = n % 2 ? BiasKind::kMixed : BiasKind::kComparable;
    const Layer L = MakeLayerFor<Driver>(s, rng);
    SCOPED_TRACE("layer " + std::to_string(n) + ": " + Describe(L));
    const int beats_per_column = L.x.cols / Driver::kLanes;
    std::vector<sim::PredictorWBeat> w_beats =
        sim::PredictorWBeats(L.weights, L.heads, Driver::kLanes);
    for (size_t b = 0; b < w_beats.size(); ++b) {
      if ((b + 1) % beats_per_column != 0) w_beats[b].bias = static_cast<int32_t>(rng());
    }
    const SplsDecision want = Predict(L.x, L.n_valid, L.heads, L.weights, L.cfg);
    const PredictorResult r =
        drv.Run(sim::MakePredictorCfg(L.x, L.n_valid, L.heads, L.weights, L.cfg),
                sim::PredictorXBeats(L.x, L.n_valid, Driver::kLanes), w_beats, L.x.rows,
                PredictorStalls::All(StallSpec::Random(0.3)), seed + n);
    ASSERT_TRUE(r.done);
    ASSERT_EQ(r.err_code, 0);
    ASSERT_EQ(r.order_error, "");
    if (!ExpectSameDecision(r.decision, want, L, seed)) return;
  }
}

TEST(PredictorBias, OnlyLastBeatSampled) { RunLastBeatBias<DriverL4>(); }
TEST(PredictorBias, OnlyLastBeatSampledGate) { RunLastBeatBias<DriverL4Gate>(); }

// ---- Cycle count ------------------------------------------------------------------------

// Without stalls, the documented count (docs/architecture.md, "esact_predictor"):
//   start .. done = 1 + (heads + 1) + n d/L + heads (2 (dh n d/L + 3) + n^2 dh/L + 3) + tail
// with a tail of n + 3 cycles (Top-k, reuse and the token anchors after the last score).
template <class Driver>
void RunCycles(const Shape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const Layer L = MakeLayerFor<Driver>(s, rng);
  SCOPED_TRACE(Describe(L));
  PredictorResult r;
  ASSERT_TRUE(RunAndCompare(drv, L, PredictorStalls::None(), seed, &r));
  const uint64_t n = L.n_valid, d = L.x.cols, dh = d / L.heads, H = L.heads;
  const uint64_t db = d / Driver::kLanes, dhb = dh / Driver::kLanes;
  const uint64_t per_head = 2 * (dh * n * db + 3) + n * n * dhb + 3;
  const uint64_t want = 1 + (H + 1) + n * db + H * per_head + n + 3;
  EXPECT_EQ(r.cycles, want) << "cycles, start edge to done_o";
  EXPECT_LE(r.cycles,
            Driver::CycleBound(sim::MakePredictorCfg(L.x, L.n_valid, L.heads, L.weights, L.cfg)));
  // Heads complete one per-head period apart.
  for (size_t h = 1; h < r.head_cycles.size(); ++h) {
    EXPECT_EQ(r.head_cycles[h] - r.head_cycles[h - 1], per_head) << "head " << h;
  }
}

template <class Driver>
void RunCyclesL4() {
  const uint64_t seed = TestSeed();
  for (int n : {1, 2, 5, 16}) {
    Shape s;
    s.n_tokens = n;
    s.n_valid = n;
    s.heads = 2;
    s.d_head = 16;
    RunCycles<Driver>(s, seed + n);
  }
  // Columns of one beat (d = Lanes): a column every n cycles, the W loader and the bias
  // queue at their tightest.
  for (int n : {1, 2, 3}) {
    Shape s;
    s.n_tokens = n;
    s.n_valid = n;
    s.heads = 1;
    s.d_head = Driver::kLanes;
    RunCycles<Driver>(s, seed + 100 + n);
  }
}

TEST(PredictorCycles, NoStallsL4) { RunCyclesL4<DriverL4>(); }
TEST(PredictorCycles, NoStallsL4Gate) { RunCyclesL4<DriverL4Gate>(); }

TEST(PredictorCycles, NoStallsL8) {
  const uint64_t seed = TestSeed();
  Shape s;
  s.n_tokens = 32;
  s.n_valid = 32;
  s.heads = 4;
  s.d_head = 16;
  RunCycles<DriverL8>(s, seed);
}

// ---- Configuration errors ---------------------------------------------------------------

template <class Driver>
void RunCfgErrors() {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  Shape s;
  s.n_tokens = 8;
  s.n_valid = 8;
  s.heads = 2;
  s.d_head = 8;
  s.k = 3;
  s.w = 2;
  s.t = 2;
  const Layer good = MakeLayerFor<Driver>(s, rng);
  const PredictorCfg base =
      sim::MakePredictorCfg(good.x, good.n_valid, good.heads, good.weights, good.cfg);
  const std::vector<Bits> x_beats = sim::PredictorXBeats(good.x, good.n_valid, Driver::kLanes);
  const std::vector<sim::PredictorWBeat> w_beats =
      sim::PredictorWBeats(good.weights, good.heads, Driver::kLanes);

  struct Bad {
    std::string what;
    std::function<void(PredictorCfg&)> set;
    int code;
  };
  const std::vector<Bad> bads = {
      {"n_valid 0", [](PredictorCfg& c) { c.n_valid = 0; }, Pkg::PRED_ERR_N_VALID},
      {"n_valid NMax+1", [](PredictorCfg& c) { c.n_valid = 17; }, Pkg::PRED_ERR_N_VALID},
      {"d_model 0", [](PredictorCfg& c) { c.d_model = 0; }, Pkg::PRED_ERR_D_MODEL},
      {"d_model not /Lanes", [](PredictorCfg& c) { c.d_model = 18; }, Pkg::PRED_ERR_D_MODEL},
      {"d_model DMax+4", [](PredictorCfg& c) { c.d_model = 36; }, Pkg::PRED_ERR_D_MODEL},
      {"d_head 0", [](PredictorCfg& c) { c.d_head = 0; }, Pkg::PRED_ERR_D_HEAD},
      {"d_head not /Lanes", [](PredictorCfg& c) { c.d_head = 6; }, Pkg::PRED_ERR_D_HEAD},
      {"d_head DhMax+4", [](PredictorCfg& c) { c.d_head = 20; }, Pkg::PRED_ERR_D_HEAD},
      {"heads 0", [](PredictorCfg& c) { c.heads = 0; }, Pkg::PRED_ERR_HEADS},
      {"heads HMax+1", [](PredictorCfg& c) { c.heads = 5; }, Pkg::PRED_ERR_HEADS},
      {"k 0", [](PredictorCfg& c) { c.k = 0; }, Pkg::PRED_ERR_K},
      {"k KMax+1", [](PredictorCfg& c) { c.k = 5; }, Pkg::PRED_ERR_K},
      {"w WMax+1", [](PredictorCfg& c) { c.w = 5; }, Pkg::PRED_ERR_W},
      {"t NMax+1", [](PredictorCfg& c) { c.t = 17; }, Pkg::PRED_ERR_T},
      {"bits 3", [](PredictorCfg& c) { c.bits = 3; }, Pkg::PRED_ERR_BITS},
      {"bits 9", [](PredictorCfg& c) { c.bits = 9; }, Pkg::PRED_ERR_BITS},
      {"bits 0", [](PredictorCfg& c) { c.bits = 0; }, Pkg::PRED_ERR_BITS},
      {"heads*dh < d", [](PredictorCfg& c) { c.heads = 1; }, Pkg::PRED_ERR_HEAD_SPLIT},
      {"heads*dh > d", [](PredictorCfg& c) { c.heads = 3; }, Pkg::PRED_ERR_HEAD_SPLIT},
      {"dh*heads = d, wrong dh", [](PredictorCfg& c) { c.d_head = 4; }, Pkg::PRED_ERR_HEAD_SPLIT},
      {"n_valid and k bad: first wins", [](PredictorCfg& c) { c.n_valid = 0, c.k = 0; },
       Pkg::PRED_ERR_N_VALID},
  };
  for (const Bad& b : bads) {
    SCOPED_TRACE(b.what);
    PredictorCfg c = base;
    b.set(c);
    // Both inputs offer beats the whole time (with stalls): none may be taken.
    const PredictorResult r = drv.Run(c, x_beats, w_beats, good.x.rows,
                                      PredictorStalls::All(StallSpec::Random(0.3)), seed, 200);
    EXPECT_TRUE(r.done) << "done_o";
    EXPECT_EQ(r.err_code, b.code) << "error code";
    EXPECT_EQ(r.x_taken, 0u) << "X beats consumed";
    EXPECT_EQ(r.w_taken, 0u) << "W beats consumed";
    EXPECT_EQ(r.order_error, "");
    // A field error: the start edge and one CHECK cycle; the head split: heads more.
    const uint64_t want_cycles =
        b.code == Pkg::PRED_ERR_HEAD_SPLIT ? static_cast<uint64_t>(c.heads) + 2 : 2;
    EXPECT_EQ(r.cycles, want_cycles) << "cycles from start to done_o";
  }
  // A legal run afterwards is correct.
  SCOPED_TRACE("good run after the errors");
  RunAndCompare(drv, good, PredictorStalls::All(StallSpec::Random(0.3)), seed);
  // And an error after a good run still reports and then recovers.
  PredictorCfg c = base;
  c.k = 0;
  const PredictorResult r =
      drv.Run(c, x_beats, w_beats, good.x.rows, PredictorStalls::None(), seed, 200);
  EXPECT_EQ(r.err_code, Pkg::PRED_ERR_K);
  RunAndCompare(drv, good, PredictorStalls::None(), seed + 1);
}

TEST(PredictorCfgError, EachFieldThenAGoodRun) { RunCfgErrors<DriverL4>(); }
TEST(PredictorCfgError, EachFieldThenAGoodRunGate) { RunCfgErrors<DriverL4Gate>(); }

// ---- The MiniLM-shaped configuration ------------------------------------------------------

// 128-bit X beats, 80-bit W beats, 128-bit masks: the driver's wide-port path.
TEST(PredictorMiniLm, SmallLayer) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  for (int n = 0; n < 2; ++n) {
    Shape s;
    s.n_tokens = n == 0 ? 20 : DriverMiniLm::kNMax;
    s.n_valid = n == 0 ? 17 : 40;
    s.heads = 2;
    s.d_head = DriverMiniLm::kDhMax;
    s.k = n == 0 ? 5 : DriverMiniLm::kKMax;
    const Layer L = MakeLayerFor<DriverMiniLm>(s, rng);
    SCOPED_TRACE(Describe(L));
    if (!RunAndCompare(drv, L, PredictorStalls::All(StallSpec::Random(0.2)), seed + n)) return;
  }
}

// d 384, 12 heads, 128 tokens, k = DefaultTopK, w 2, t = DefaultThreshold: seconds of
// simulation, so CMakeLists.txt gives this test the label `full`.
TEST(PredictorMiniLm, FullLayer) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  DriverMiniLm drv(seed);
  Shape s;
  s.n_tokens = 128;
  s.n_valid = 128;
  s.heads = 12;
  s.d_head = 32;
  s.k = DefaultTopK(128);
  s.w = 2;
  s.t = DefaultThreshold(s.k);
  const Layer L = MakeLayerFor<DriverMiniLm>(s, rng);
  SCOPED_TRACE(Describe(L));
  PredictorResult r;
  ASSERT_TRUE(RunAndCompare(drv, L, PredictorStalls::None(), seed, &r));
  EXPECT_LE(r.cycles, DriverMiniLm::CycleBound(
                          sim::MakePredictorCfg(L.x, L.n_valid, L.heads, L.weights, L.cfg)));
  std::printf("MiniLM-shaped layer: %llu cycles, %llu per head\n",
              static_cast<unsigned long long>(r.cycles),
              static_cast<unsigned long long>(r.cycles / 12));
}

}  // namespace
}  // namespace esact
