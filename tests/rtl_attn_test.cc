// esact_attn against esact::AttendRow (golden/engines.h), and its softmax exponential
// esact_attn_exp against SoftmaxExp(SoftmaxExponent()) and kSoftmaxExp2Lut (golden/quant.h).
// Contexts are compared row by row, the first differing row printed (head, row, keys, got,
// want).
//
//   AttnExp.*          every LUT entry and every exponent 0..1100 (shift 0, and through
//                      every shift with its rounding tie), random (diff, mult, shift) over
//                      the whole range, back-to-back and gapped inputs.
//   AttnRecip.*        the divider against SoftmaxRecip at every quotient step, consecutive,
//                      power-of-two and random sums, 17 cycles each.
//   AttnStall/*        per stall shape (none, random 30% and bursty on every stream,
//                      inputs only, outputs only): random heads (random n_valid, d_head,
//                      values, key lists of 1..n keys, extra and repeated K/V rows, anchors
//                      in any order, realistic and random softmax/context scales) and the
//                      edge heads, both synthesized configurations, many heads back to back
//                      through one unit.
//   AttnEdge*          the edge heads one by one (k = 1, dense, all-equal scores, -128
//                      everywhere, saturating contexts, exp underflow for all but the max,
//                      ties at the max, softmax mult 0, shifts 0 and 47, d_head 1, Lanes + 1
//                      and DhMax, n_valid 1, repeated Q rows, padding).
//   AttnLayer*         synthetic layers through the golden model (SPLS and dense), every
//                      head through the RTL the controller's way (needed K/V, anchors only,
//                      reused rows copy their anchor): the context matrix equals
//                      LayerResult::ctx; padded rows.
//   AttnCycles*        without stalls each head takes exactly the documented cycle count
//                      (and so stays within the per-row bound), each row leaves on time.
//   AttnCfgError*      every illegal field: its error code, 2 cycles, nothing consumed; then
//                      a correct run.
//   AttnStreamError*   K/V index, Q index, empty mask, padded key, key not loaded (also one
//                      loaded only by the previous run), after rows already computed: the
//                      code, the earlier contexts delivered, nothing more consumed; then a
//                      correct run.
//   AttnContract       dropping q_valid_i while stalled trips the RTL assertion.
//   Gate/*, *Gate      the stall sweeps, edge heads, layers, cycle counts and errors above on
//                      the gate-level netlist of Vesact_attn_n16_l4 (Yosys `synth`, flattened:
//                      rtl/tops.txt '# gate-level'); its assertions are gone with synthesis.
//   AttnMiniLm.*       the MiniLM-shaped configuration (NMax 128, DhMax 32, Lanes 16):
//                      two heads of a MiniLM-shaped layer, SPLS and dense (smoke); every
//                      head of the layer, SPLS and dense (FullLayer: ctest label `full`).
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
// ESACT_VERBOSE=1 prints one line per head (shape, cycles).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <numeric>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vesact_attn_exp.h"
#include "Vesact_attn_exp_esact_attn_exp.h"
#include "Vesact_attn_minilm.h"
#include "Vesact_attn_minilm_esact_attn.h"
#include "Vesact_attn_n16_l4.h"
#include "Vesact_attn_n16_l4_esact_attn.h"
#include "Vesact_attn_n16_l4_esact_pkg.h"
#include "Vesact_attn_n16_l4_gl.h"
#include "Vesact_attn_n32_l8.h"
#include "Vesact_attn_n32_l8_esact_attn.h"
#include "Vesact_attn_recip.h"
#include "Vesact_attn_recip_esact_attn_recip.h"
#include "golden/engines.h"
#include "golden/layer.h"
#include "golden/quant.h"
#include "golden/spls.h"
#include "golden/synthetic.h"
#include "sim/attn_driver.h"
#include "sim/harness.h"

namespace esact {
namespace {

using sim::AttnAnchor;
using sim::AttnCfg;
using sim::AttnHead;
using sim::AttnResult;
using sim::AttnStalls;
using sim::StallSpec;
using sim::TestSeed;

// The package constants are the golden model's (REQ_*: tests/rtl_gemm_test.cc).
using Pkg = Vesact_attn_n16_l4_esact_pkg;
static_assert(Pkg::SOFTMAX_FRAC_BITS == kSoftmaxFracBits);
static_assert(Pkg::SOFTMAX_EXP_BITS == kSoftmaxExpBits);
static_assert(Pkg::SOFTMAX_RECIP_BITS == kSoftmaxRecipBits);
static_assert(Pkg::SOFTMAX_PROB_BITS == kSoftmaxProbBits);

using DriverN16 = sim::AttnDriver<Vesact_attn_n16_l4, Vesact_attn_n16_l4_esact_attn>;
using DriverN32 = sim::AttnDriver<Vesact_attn_n32_l8, Vesact_attn_n32_l8_esact_attn>;
using DriverMiniLm = sim::AttnDriver<Vesact_attn_minilm, Vesact_attn_minilm_esact_attn>;
// The gate-level twin of Vesact_attn_n16_l4: its Yosys netlist (rtl/tops.txt '# gate-level').
// The ports are the RTL's, so the same driver runs it, with the RTL model's parameters.
using DriverN16Gate = sim::AttnDriver<Vesact_attn_n16_l4_gl, Vesact_attn_n16_l4_esact_attn>;

bool Verbose() {
  const char* v = std::getenv("ESACT_VERBOSE");
  return v != nullptr && std::string(v) != "0";
}

std::string ListString(const std::vector<int>& s) {
  std::ostringstream os;
  os << "{";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? " " : "") << s[i];
  os << "}";
  return os.str();
}

std::string RowString(const std::vector<int8_t>& r) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < r.size(); ++i) os << (i ? " " : "") << int(r[i]);
  os << "]";
  return os.str();
}

std::string Describe(const AttnHead& h) {
  std::ostringstream os;
  size_t keys = 0;
  for (const AttnAnchor& a : h.anchors) keys += a.keys.size();
  os << "n_valid=" << h.n_valid << " d_head=" << h.d_head << " kv=" << h.kv_rows.size()
     << " anchors=" << h.anchors.size() << " keys=" << keys << " softmax_rq={" << h.softmax_rq.mult
     << "," << h.softmax_rq.shift << "} ctx_rq={" << h.ctx_rq.mult << "," << h.ctx_rq.shift << "}";
  return os.str();
}

// A completed run with exactly the golden contexts, in anchor order. Adds a failure and
// returns false otherwise (the first differing row is printed).
bool ExpectContexts(const AttnHead& h, const AttnResult& r, const std::string& what) {
  if (!r.done || r.err_code != 0) {
    ADD_FAILURE() << what << ": done " << r.done << " err " << r.err_code << " (" << Describe(h)
                  << ")";
    return false;
  }
  if (!r.problem.empty()) {
    ADD_FAILURE() << what << ": " << r.problem;
    return false;
  }
  if (r.ctx.size() != h.anchors.size()) {
    ADD_FAILURE() << what << ": " << r.ctx.size() << " contexts, want " << h.anchors.size() << " ("
                  << Describe(h) << ")";
    return false;
  }
  if (r.kv_taken != h.kv_rows.size() || r.q_taken != h.anchors.size()) {
    ADD_FAILURE() << what << ": took " << r.kv_taken << " K/V and " << r.q_taken << " Q beats";
    return false;
  }
  const std::vector<std::vector<int8_t>> want = sim::AttnGolden(h);
  for (size_t a = 0; a < want.size(); ++a) {
    if (r.ctx[a].idx != h.anchors[a].row || r.ctx[a].ctx != want[a]) {
      ADD_FAILURE() << what << ": context " << a << " (row " << h.anchors[a].row << ", keys "
                    << ListString(h.anchors[a].keys) << "): got row " << r.ctx[a].idx << " "
                    << RowString(r.ctx[a].ctx) << ", want " << RowString(want[a]) << " ("
                    << Describe(h) << ")";
      return false;
    }
  }
  return true;
}

// ============================================================================================
// esact_attn_exp
// ============================================================================================

class ExpBench {
 public:
  static constexpr int kDiffW = static_cast<int>(Vesact_attn_exp_esact_attn_exp::DiffW);

  explicit ExpBench(uint64_t seed) : h_(seed) {
    h_->in_valid_i = 0;
    h_.Reset();
  }

  // The outputs for a list of inputs streamed one per cycle, with an idle cycle before
  // input i where gap[i]. The output register holds the result one cycle later.
  std::vector<uint32_t> Run(const std::vector<uint64_t>& diff, const std::vector<int>& mult,
                            const std::vector<int>& shift, const std::vector<bool>& gap = {}) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < diff.size(); ++i) {
      if (i < gap.size() && gap[i]) Step(false, 0x155555, 0xffff, 0, &out);
      Step(true, diff[i], mult[i], shift[i], &out);
    }
    EXPECT_EQ(out.size(), diff.size());
    return out;
  }

 private:
  void Step(bool valid, uint64_t diff, int mult, int shift, std::vector<uint32_t>* out) {
    h_->in_valid_i = valid;
    h_->diff_i = static_cast<uint32_t>(diff & ((1ull << kDiffW) - 1));
    h_->mult_i = mult;
    h_->shift_i = shift;
    h_.Tick();
    h_.Eval();
    EXPECT_EQ(static_cast<bool>(h_->out_valid_o), valid)
        << "out_valid_o one cycle after in_valid_i";
    if (h_->out_valid_o) out->push_back(h_->e_o);
  }

  sim::Harness<Vesact_attn_exp> h_;
};

uint32_t GoldenExp(uint64_t diff, int mult, int shift) {
  return SoftmaxExp(SoftmaxExponent(static_cast<int32_t>(diff), 0, Requant{mult, shift}));
}

TEST(AttnExp, LutAndEveryExponent) {
  const uint64_t seed = TestSeed();
  ExpBench bench(seed);
  // Every LUT entry as it is: x = f, shift 0.
  {
    std::vector<uint64_t> d;
    std::vector<int> m, s;
    for (int f = 0; f < kSoftmaxLutSize; ++f) {
      d.push_back(f);
      m.push_back(1);
      s.push_back(0);
    }
    const std::vector<uint32_t> got = bench.Run(d, m, s);
    ASSERT_EQ(got.size(), d.size());
    for (int f = 0; f < kSoftmaxLutSize; ++f) {
      EXPECT_EQ(got[f], kSoftmaxExp2Lut[f]) << "LUT entry " << f;
    }
  }
  // Every exponent 0..1100, directly (shift 0) and through each shift with the rounding
  // tie (x - 1/2 rounds up to x) and just below it (rounds down to x - 1).
  for (int shift : {0, 1, 5, 13, 22, 30}) {
    std::vector<uint64_t> d;
    std::vector<int> m, s;
    std::vector<uint32_t> want;
    for (uint64_t x = 0; x <= 1100; ++x) {
      const uint64_t base = x << shift;
      std::vector<uint64_t> cands = {base};
      if (shift > 0 && x > 0)
        cands = {base, base - (1ull << (shift - 1)), base - (1ull << (shift - 1)) - 1};
      for (uint64_t c : cands) {
        if (c >= (1ull << ExpBench::kDiffW)) continue;
        d.push_back(c);
        m.push_back(1);
        s.push_back(shift);
        want.push_back(GoldenExp(c, 1, shift));
      }
    }
    const std::vector<uint32_t> got = bench.Run(d, m, s);
    ASSERT_EQ(got.size(), want.size());
    int bad = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      if (got[i] != want[i] && ++bad <= 5) {
        ADD_FAILURE() << "diff " << d[i] << " shift " << shift << ": e " << got[i] << ", golden "
                      << want[i];
      }
    }
    EXPECT_EQ(bad, 0) << "shift " << shift;
  }
}

TEST(AttnExp, RandomAgainstGolden) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  ExpBench bench(seed);
  const uint64_t diff_max = (1ull << ExpBench::kDiffW) - 1;
  std::vector<uint64_t> d;
  std::vector<int> m, s;
  std::vector<bool> gap;
  for (int i = 0; i < 20000; ++i) {
    uint64_t diff = 0;
    switch (rng() % 4) {
      case 0:
        diff = rng() % 64;
        break;
      case 1:
        diff = rng() % 4096;
        break;
      case 2:
        diff = rng() & diff_max;
        break;
      default:
        diff = (rng() % 3 == 0) ? diff_max : (rng() % 2 ? 0 : 1);
        break;
    }
    int mult = static_cast<int>(rng() % 65536);
    if (rng() % 8 == 0) mult = (rng() & 1) ? 65535 : 0;
    int shift = static_cast<int>(rng() % 48);
    if (rng() % 3 == 0) shift = static_cast<int>(10 + rng() % 20);  // realistic scales
    if (rng() % 8 == 0) shift = (rng() & 1) ? 47 : 0;
    d.push_back(diff);
    m.push_back(mult);
    s.push_back(shift);
    gap.push_back(rng() % 5 == 0);
  }
  const std::vector<uint32_t> got = bench.Run(d, m, s, gap);
  ASSERT_EQ(got.size(), d.size());
  int bad = 0, nonzero = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const uint32_t want = GoldenExp(d[i], m[i], s[i]);
    nonzero += want != 0 && want != (1u << kSoftmaxExpBits);
    if (got[i] != want && ++bad <= 5) {
      ADD_FAILURE() << "diff " << d[i] << " mult " << m[i] << " shift " << s[i] << ": e " << got[i]
                    << ", golden " << want << " (seed " << seed << ")";
    }
  }
  EXPECT_EQ(bad, 0);
  EXPECT_GT(nonzero, 1000) << "too few inputs in the interesting range";
}

// ============================================================================================
// esact_attn_recip
// ============================================================================================

class RecipBench {
 public:
  static constexpr int kSumW = static_cast<int>(Vesact_attn_recip_esact_attn_recip::SumW);

  explicit RecipBench(uint64_t seed) : h_(seed), junk_(seed) {
    h_->start_i = 0;
    h_->sum_i = 0;
    h_.Reset();
  }

  // floor(2^30 / sum) through the divider; *cycles counts from the start edge to the
  // first cycle with valid_o.
  uint32_t Divide(uint32_t sum, int* cycles) {
    h_->start_i = 1;
    h_->sum_i = sum;
    h_.Tick();
    h_->start_i = junk_() & 1;  // ignored while busy
    h_->sum_i = static_cast<uint32_t>(junk_() & ((1u << kSumW) - 1)) | (1u << 15);
    h_.Eval();
    int n = 1;
    while (!h_->valid_o && n < 40) {
      EXPECT_TRUE(h_->busy_o);
      h_.Tick();
      h_.Eval();
      ++n;
    }
    *cycles = n;
    h_->start_i = 0;
    return h_->recip_o;
  }

 private:
  sim::Harness<Vesact_attn_recip> h_;
  std::mt19937_64 junk_;
};

// Every quotient value's boundaries (the sums where floor(2^30 / sum) steps), a range of
// consecutive sums from the smallest, every power of two and its neighbours, random sums.
TEST(AttnRecip, AgainstGolden) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  RecipBench bench(seed);
  const uint32_t lo = 1u << kSoftmaxExpBits, hi = (1u << RecipBench::kSumW) - 1;
  std::vector<uint32_t> sums;
  for (uint32_t s = lo; s < lo + 20000; ++s) sums.push_back(s);
  for (uint32_t q = 1; q <= (1u << kSoftmaxExpBits); ++q) {
    const uint32_t s = static_cast<uint32_t>((1ull << kSoftmaxRecipBits) / q);
    for (uint32_t c : {s, s + 1}) {
      if (c >= lo && c <= hi) sums.push_back(c);
    }
  }
  for (int m = kSoftmaxExpBits; m < RecipBench::kSumW; ++m) {
    for (int64_t d : {-1, 0, 1}) {
      const int64_t c = (int64_t{1} << m) + d;
      if (c >= lo && c <= hi) sums.push_back(static_cast<uint32_t>(c));
    }
  }
  sums.push_back(hi);
  for (int i = 0; i < 10000; ++i) sums.push_back(lo + static_cast<uint32_t>(rng() % (hi - lo + 1)));
  int bad = 0;
  for (uint32_t s : sums) {
    int cycles = 0;
    const uint32_t got = bench.Divide(s, &cycles);
    const uint32_t want = SoftmaxRecip(s);
    if ((got != want || cycles != 17) && ++bad <= 5) {
      ADD_FAILURE() << "sum " << s << ": recip " << got << " after " << cycles << " cycles, golden "
                    << want << " after 17 (seed " << seed << ")";
    }
  }
  EXPECT_EQ(bad, 0) << "of " << sums.size() << " sums";
}

// ============================================================================================
// Heads
// ============================================================================================

// Random int8 in one of several distributions.
int8_t RandomValue(std::mt19937_64& rng, int kind) {
  switch (kind) {
    case 0:
      return static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    case 1:
      return static_cast<int8_t>(static_cast<int>(rng() % 17) - 8);
    case 2:
      return static_cast<int8_t>((rng() % 3 == 0) ? ((rng() & 1) ? 127 : -128)
                                                  : static_cast<int>(rng() % 256) - 128);
    default:
      return static_cast<int8_t>(static_cast<int>(rng() % 64) - 32);
  }
}

Matrix<int8_t> RandomMatrix(int rows, int cols, std::mt19937_64& rng, int kind) {
  Matrix<int8_t> m(rows, cols);
  for (int8_t& v : m.data) v = RandomValue(rng, kind);
  return m;
}

// Realistic scales (as QuantizeLayer derives them) or random fields over the whole range.
void RandomScales(AttnHead* h, std::mt19937_64& rng) {
  auto uni = [&rng](double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(rng() % 1000000) / 1e6;
  };
  if (rng() % 3 != 0) {
    const double s_q = uni(0.002, 0.05), s_k = uni(0.002, 0.05);
    h->softmax_rq = QuantizeMultiplier(s_q * s_k / std::sqrt(static_cast<double>(h->d_head)) *
                                       1.4426950408889634 * (1 << kSoftmaxFracBits));
  } else {
    h->softmax_rq = Requant{static_cast<int32_t>(rng() % 65536), static_cast<int>(rng() % 48)};
  }
  if (rng() % 3 != 0) {
    h->ctx_rq = QuantizeMultiplier(uni(0.3, 3.0) / 256.0);
  } else {
    h->ctx_rq = Requant{static_cast<int32_t>(rng() % 65536), static_cast<int>(rng() % 48)};
  }
}

// A random key list over [0, n): size 1, n, or random.
std::vector<int> RandomKeys(int n, std::mt19937_64& rng) {
  int k = 1 + static_cast<int>(rng() % n);
  const int pick = static_cast<int>(rng() % 6);
  if (pick == 0) k = 1;
  if (pick == 1) k = n;
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(k);
  std::sort(all.begin(), all.end());
  return all;
}

// K/V rows: the union of the key lists in random order, sometimes with extra rows (never
// read) and a repeated row.
void FillKvRows(AttnHead* h, std::mt19937_64& rng, bool extras) {
  std::vector<uint8_t> need(h->n_valid, 0);
  for (const AttnAnchor& a : h->anchors) {
    for (int j : a.keys) need[j] = 1;
  }
  h->kv_rows.clear();
  for (int j = 0; j < h->n_valid; ++j) {
    if (need[j] || (extras && rng() % 4 == 0)) h->kv_rows.push_back(j);
  }
  std::shuffle(h->kv_rows.begin(), h->kv_rows.end(), rng);
  if (extras && static_cast<int>(h->kv_rows.size()) < h->n_valid && rng() % 2 == 0) {
    h->kv_rows.push_back(h->kv_rows[rng() % h->kv_rows.size()]);  // a repeat overwrites
  }
}

template <class Driver>
AttnHead RandomHead(std::mt19937_64& rng) {
  AttnHead h;
  const int n_tokens = 1 + static_cast<int>(rng() % Driver::kNMax);
  h.n_valid = (rng() % 4 == 0) ? 1 + static_cast<int>(rng() % n_tokens) : n_tokens;
  h.d_head = 1 + static_cast<int>(rng() % Driver::kDhMax);
  if (rng() % 3 == 0) h.d_head = Driver::kDhMax;
  const int kind = static_cast<int>(rng() % 4);
  h.q = RandomMatrix(n_tokens, h.d_head, rng, kind);
  h.k = RandomMatrix(n_tokens, h.d_head, rng, kind);
  h.v = RandomMatrix(n_tokens, h.d_head, rng, static_cast<int>(rng() % 4));
  RandomScales(&h, rng);
  // Anchors: a random set of rows (as reuse leaves them), in ascending or random order;
  // sometimes one row twice.
  std::vector<int> rows(h.n_valid);
  std::iota(rows.begin(), rows.end(), 0);
  std::shuffle(rows.begin(), rows.end(), rng);
  rows.resize(1 + rng() % h.n_valid);
  if (rng() % 2 == 0) std::sort(rows.begin(), rows.end());
  if (rng() % 8 == 0 && static_cast<int>(rows.size()) < h.n_valid) rows.push_back(rows[0]);
  for (int i : rows) h.anchors.push_back({i, RandomKeys(h.n_valid, rng)});
  FillKvRows(&h, rng, rng() % 2 == 0);
  return h;
}

// ---- Edge heads --------------------------------------------------------------------------

struct EdgeHead {
  std::string name;
  AttnHead head;
};

// A head of n tokens, d_head columns, every row an anchor over the keys keys_of(i).
AttnHead MakeHead(int n, int n_valid, int d_head, std::mt19937_64& rng, int kind,
                  const std::function<std::vector<int>(int)>& keys_of) {
  AttnHead h;
  h.n_valid = n_valid;
  h.d_head = d_head;
  h.q = RandomMatrix(n, d_head, rng, kind);
  h.k = RandomMatrix(n, d_head, rng, kind);
  h.v = RandomMatrix(n, d_head, rng, kind);
  RandomScales(&h, rng);
  h.softmax_rq = QuantizeMultiplier(0.02 * 0.02 / std::sqrt(double(d_head)) * 1.4427 * 32);
  h.ctx_rq = QuantizeMultiplier(1.0 / 256.0);
  for (int i = 0; i < n_valid; ++i) h.anchors.push_back({i, keys_of(i)});
  FillKvRows(&h, rng, false);
  return h;
}

std::vector<int> Range(int n) {
  std::vector<int> r(n);
  std::iota(r.begin(), r.end(), 0);
  return r;
}

template <class Driver>
std::vector<EdgeHead> EdgeHeads(uint64_t seed) {
  constexpr int kN = Driver::kNMax, kDh = Driver::kDhMax, kL = Driver::kLanes;
  std::mt19937_64 rng(seed);
  std::vector<EdgeHead> e;
  auto dense = [](int n) { return [n](int) { return Range(n); }; };
  // k = 1: every row one key (its own, the next, the last).
  e.push_back({"k1", MakeHead(kN, kN, kDh, rng, 0, [](int i) { return std::vector<int>{i}; })});
  e.push_back(
      {"k1_last", MakeHead(kN, kN, kDh, rng, 0, [](int) { return std::vector<int>{kN - 1}; })});
  // Dense: every row, every key.
  e.push_back({"dense", MakeHead(kN, kN, kDh, rng, 0, dense(kN))});
  // All-equal scores: q = 0 (every score 0), and identical K rows: equal probabilities.
  {
    AttnHead h = MakeHead(kN, kN, kDh, rng, 0, dense(kN));
    std::fill(h.q.data.begin(), h.q.data.end(), 0);
    e.push_back({"equal_scores_q0", h});
    AttnHead g = MakeHead(kN, kN, kDh, rng, 0, [&rng](int) { return RandomKeys(kN, rng); });
    for (int j = 1; j < kN; ++j) {
      for (int c = 0; c < kDh; ++c) g.k.at(j, c) = g.k.at(0, c);
    }
    e.push_back({"equal_scores_same_k", g});
  }
  // -128 everywhere (the largest score 2^14 dh; contexts of -128 values).
  {
    AttnHead h = MakeHead(kN, kN, kDh, rng, 0, dense(kN));
    for (Matrix<int8_t>* m : {&h.q, &h.k, &h.v}) std::fill(m->data.begin(), m->data.end(), -128);
    e.push_back({"minus128_dense", h});
    h.softmax_rq = Requant{65535, 0};
    h.ctx_rq = Requant{65535, 0};
    e.push_back({"minus128_saturating", h});
    AttnHead g = MakeHead(kN, kN, kDh, rng, 0, [&rng](int) { return RandomKeys(kN, rng); });
    for (Matrix<int8_t>* m : {&g.q, &g.k, &g.v}) std::fill(m->data.begin(), m->data.end(), -128);
    for (int j = 0; j < kN; j += 3) {
      for (int c = 0; c < kDh; ++c) g.k.at(j, c) = 127;  // scores -128*127*dh and 2^14 dh
    }
    e.push_back({"minus128_mixed", g});
  }
  // Saturating contexts, both signs: a large ctx mult, extreme V.
  {
    AttnHead h = MakeHead(kN, kN, kDh, rng, 2, [&rng](int) { return RandomKeys(kN, rng); });
    h.ctx_rq = Requant{65535, 6};
    e.push_back({"ctx_saturating", h});
    h.ctx_rq = Requant{65535, 0};
    e.push_back({"ctx_saturating_shift0", h});
    h.ctx_rq = Requant{1, 47};
    e.push_back({"ctx_shift47", h});
    h.ctx_rq = Requant{0, 13};
    e.push_back({"ctx_mult0", h});
  }
  // Exp underflow: scores far apart, so every key but the max gets e = 0 (p = 255).
  {
    AttnHead h = MakeHead(kN, kN, kDh, rng, 0, dense(kN));
    h.softmax_rq = Requant{65535, 0};
    e.push_back({"exp_underflow", h});
    // Ties at the maximum: two keys with the same largest score share it.
    AttnHead g = MakeHead(kN, kN, kDh, rng, 0, dense(kN));
    for (int c = 0; c < kDh; ++c) g.k.at(kN - 1, c) = g.k.at(0, c);
    g.softmax_rq = Requant{65535, 0};
    e.push_back({"exp_underflow_ties", g});
  }
  // Softmax scale extremes: mult 0 (all e = 2^15), shift 47, shift 0 with mult 1.
  {
    AttnHead h = MakeHead(kN, kN, kDh, rng, 0, [&rng](int) { return RandomKeys(kN, rng); });
    h.softmax_rq = Requant{0, 5};
    e.push_back({"softmax_mult0", h});
    h.softmax_rq = Requant{65535, 47};
    e.push_back({"softmax_shift47", h});
    h.softmax_rq = Requant{1, 0};
    e.push_back({"softmax_mult1_shift0", h});
    h.softmax_rq = Requant{1, 9};
    e.push_back({"softmax_mult1_shift9", h});
  }
  // Head widths: 1, Lanes + 1 (a partial chunk), DhMax - 1, DhMax.
  for (int dh : {1, kL + 1, kDh - 1, kDh}) {
    if (dh < 1 || dh > kDh) continue;
    e.push_back({"dh" + std::to_string(dh),
                 MakeHead(kN, kN, dh, rng, 0, [&rng](int) { return RandomKeys(kN, rng); })});
  }
  // One valid token.
  e.push_back({"n_valid1", MakeHead(kN, 1, kDh, rng, 0, [](int) { return std::vector<int>{0}; })});
  // Padding: n_valid < NMax; the padded rows hold data that is never sent.
  e.push_back({"padded",
               MakeHead(kN, kN - 3, kDh, rng, 2, [&rng](int) { return RandomKeys(kN - 3, rng); })});
  // Anchors out of order and repeated, K/V rows descending with extras and a repeat.
  {
    AttnHead h = MakeHead(kN, kN, kDh, rng, 0, [&rng](int) { return RandomKeys(kN, rng); });
    std::reverse(h.anchors.begin(), h.anchors.end());
    h.anchors.resize(kN / 2);
    h.anchors.push_back(h.anchors[1]);
    FillKvRows(&h, rng, true);
    std::sort(h.kv_rows.rbegin(), h.kv_rows.rend());
    e.push_back({"order_and_repeats", h});
  }
  return e;
}

// Runs the heads back to back through one driver; returns the number that passed.
template <class Driver>
int RunHeads(Driver& drv, const std::vector<AttnHead>& heads, const AttnStalls& stalls,
             uint64_t seed, const std::string& what) {
  int ok = 0;
  for (size_t i = 0; i < heads.size(); ++i) {
    const AttnResult r = drv.RunHead(heads[i], stalls, seed * 1000 + i);
    if (Verbose()) {
      std::printf("  %s head %zu: %s: %llu cycles\n", what.c_str(), i, Describe(heads[i]).c_str(),
                  static_cast<unsigned long long>(r.cycles));
    }
    if (ExpectContexts(heads[i], r, what + " head " + std::to_string(i))) ++ok;
    if (::testing::Test::HasFailure()) break;
  }
  return ok;
}

// ---- Stall sweep ----------------------------------------------------------------------------

struct StallCase {
  std::string name;
  AttnStalls stalls;
};

// gtest prints parameters through this (ADL).
void PrintTo(const StallCase& c, std::ostream* os) { *os << c.name; }

std::vector<StallCase> StallCases() {
  return {
      {"none", AttnStalls::None()},
      {"all_rand30", AttnStalls::All(StallSpec::Random(0.3))},
      {"all_bursty", AttnStalls::All(StallSpec::Bursty(0.1, 24))},
      {"inputs_rand30", AttnStalls::Inputs(StallSpec::Random(0.3))},
      {"outputs_rand30", AttnStalls::Outputs(StallSpec::Random(0.3))},
      {"outputs_bursty", AttnStalls::Outputs(StallSpec::Bursty(0.05, 200))},
      {"inputs_bursty", AttnStalls::Inputs(StallSpec::Bursty(0.2, 40))},
  };
}

class AttnStall : public ::testing::TestWithParam<StallCase> {};

template <class Driver>
void RandomSweep(const AttnStalls& stalls, int n_heads) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  std::vector<AttnHead> heads;
  for (int i = 0; i < n_heads; ++i) heads.push_back(RandomHead<Driver>(rng));
  Driver drv(seed);
  EXPECT_EQ(RunHeads(drv, heads, stalls, seed, "random"), n_heads) << "seed " << seed;
  EXPECT_TRUE(drv.Finish());
}

template <class Driver>
void EdgeSweep(const AttnStalls& stalls) {
  const uint64_t seed = TestSeed();
  std::vector<AttnHead> heads;
  for (const EdgeHead& e : EdgeHeads<Driver>(seed)) heads.push_back(e.head);
  Driver drv(seed);
  EXPECT_EQ(RunHeads(drv, heads, stalls, seed, "edge"), static_cast<int>(heads.size()))
      << "seed " << seed;
  EXPECT_TRUE(drv.Finish());
}

TEST_P(AttnStall, RandomN16) { RandomSweep<DriverN16>(GetParam().stalls, 150); }
TEST_P(AttnStall, RandomN32) { RandomSweep<DriverN32>(GetParam().stalls, 80); }
TEST_P(AttnStall, EdgeN16) { EdgeSweep<DriverN16>(GetParam().stalls); }
TEST_P(AttnStall, EdgeN32) { EdgeSweep<DriverN32>(GetParam().stalls); }

// The same sweeps on the gate-level netlist of Vesact_attn_n16_l4.
class AttnStallGate : public AttnStall {};
TEST_P(AttnStallGate, RandomN16) { RandomSweep<DriverN16Gate>(GetParam().stalls, 150); }
TEST_P(AttnStallGate, EdgeN16) { EdgeSweep<DriverN16Gate>(GetParam().stalls); }

std::string StallName(const ::testing::TestParamInfo<StallCase>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(Rtl, AttnStall, ::testing::ValuesIn(StallCases()), StallName);
INSTANTIATE_TEST_SUITE_P(Gate, AttnStallGate, ::testing::ValuesIn(StallCases()), StallName);

// ---- Edge cases one by one (a failure names the case) -----------------------------------

template <class Driver>
void EdgeOneByOne() {
  const uint64_t seed = TestSeed();
  Driver drv(seed);
  int i = 0;
  for (const EdgeHead& e : EdgeHeads<Driver>(seed)) {
    SCOPED_TRACE(e.name);
    const AttnResult r = drv.RunHead(e.head, AttnStalls::None(), seed + i++);
    ExpectContexts(e.head, r, e.name);
  }
  EXPECT_TRUE(drv.Finish());
}

TEST(AttnEdgeN16, EachCase) { EdgeOneByOne<DriverN16>(); }
TEST(AttnEdgeN32, EachCase) { EdgeOneByOne<DriverN32>(); }
TEST(AttnEdgeN16Gate, EachCase) { EdgeOneByOne<DriverN16Gate>(); }

// The edge heads must reach what they claim: equal probabilities, p = 255 for the max,
// saturated contexts (a guard against a generator that silently stops testing anything).
TEST(AttnEdgeN16, CasesReachTheirExtremes) {
  const uint64_t seed = TestSeed();
  for (const EdgeHead& e : EdgeHeads<DriverN16>(seed)) {
    const AttnHead& h = e.head;
    int sat = 0, p255 = 0, equal = 0;
    for (const AttnAnchor& a : h.anchors) {
      const int n = static_cast<int>(a.keys.size());
      std::vector<int32_t> s(n, 0);
      for (int t = 0; t < n; ++t) {
        for (int c = 0; c < h.d_head; ++c) s[t] += int32_t{h.q.at(a.row, c)} * h.k.at(a.keys[t], c);
      }
      std::vector<uint8_t> p(n);
      IntSoftmax(s.data(), n, h.softmax_rq, p.data());
      p255 += std::count(p.begin(), p.end(), 255);
      equal += n > 1 && std::all_of(p.begin(), p.end(), [&](uint8_t x) { return x == p[0]; });
    }
    for (const std::vector<int8_t>& row : sim::AttnGolden(h)) {
      sat += static_cast<int>(std::count(row.begin(), row.end(), 127) +
                              std::count(row.begin(), row.end(), -128));
    }
    if (e.name == "equal_scores_q0" || e.name == "softmax_mult0") {
      EXPECT_GT(equal, 0) << e.name;
    }
    if (e.name == "exp_underflow") {
      EXPECT_GT(p255, 0) << e.name;
    }
    if (e.name == "ctx_saturating" || e.name == "minus128_saturating") {
      EXPECT_GT(sat, 0) << e.name;
    }
  }
}

// ============================================================================================
// Layers: the controller's way, against LayerResult::ctx
// ============================================================================================

struct LayerCase {
  SyntheticSpec spec;
  bool spls = true;
};

template <class Driver>
void LayerAgainstGolden(const LayerCase& lc, const AttnStalls& stalls, uint64_t seed, Driver* drv) {
  const SyntheticLayer layer = MakeSyntheticLayer(lc.spec);
  const LayerFile& f = layer.file;
  SplsConfig cfg = f.spls;
  cfg.enabled = lc.spls;
  const LayerResult r = RunLayer(f.params, f.x, f.n_valid, cfg);
  const sim::AttnLayerResult got = sim::RunLayerHeads(*drv, f.params, r, f.n_valid, stalls, seed);
  ASSERT_TRUE(got.ok) << got.problem;
  for (int i = 0; i < r.ctx.rows; ++i) {
    for (int c = 0; c < r.ctx.cols; ++c) {
      if (got.ctx.at(i, c) != r.ctx.at(i, c)) {
        FAIL() << "ctx[" << i << "][" << c << "] " << int(got.ctx.at(i, c)) << ", golden "
               << int(r.ctx.at(i, c)) << " (head " << c / f.params.d_head() << ", seed " << seed
               << ")";
      }
    }
  }
  if (Verbose()) {
    std::printf("  layer d=%d H=%d n=%d/%d spls=%d: %llu cycles, %llu MACs\n", lc.spec.d_model,
                lc.spec.n_heads, f.n_valid, f.n_tokens, lc.spls,
                static_cast<unsigned long long>(got.cycles),
                static_cast<unsigned long long>(got.macs));
  }
}

SyntheticSpec Spec(int d_model, int n_heads, int n_tokens, int n_valid, double sim, uint64_t seed) {
  SyntheticSpec s;
  s.d_model = d_model;
  s.n_heads = n_heads;
  s.d_ff = 2 * d_model;
  s.n_tokens = n_tokens;
  s.n_valid = n_valid;
  s.similarity = sim;
  s.seed = seed;
  return s;
}

template <class Driver>
void LayerN16() {
  const uint64_t seed = TestSeed();
  Driver drv(seed);
  constexpr int kN = Driver::kNMax, kDh = Driver::kDhMax;
  for (int n_valid : {kN, kN - 3, 1}) {
    for (bool spls : {true, false}) {
      SCOPED_TRACE("n_valid " + std::to_string(n_valid) + " spls " + std::to_string(spls));
      LayerAgainstGolden({Spec(4 * kDh, 4, kN, n_valid, 0.9, seed), spls},
                         AttnStalls::All(StallSpec::Random(0.2)), seed, &drv);
    }
  }
  // Heads narrower than DhMax and not a multiple of Lanes.
  LayerAgainstGolden({Spec(3 * (kDh - 1), 3, kN, kN, 0.5, seed + 1), true}, AttnStalls::None(),
                     seed, &drv);
  EXPECT_TRUE(drv.Finish());
}

TEST(AttnLayerN16, SplsAndDense) { LayerN16<DriverN16>(); }
TEST(AttnLayerN16Gate, SplsAndDense) { LayerN16<DriverN16Gate>(); }

TEST(AttnLayerN32, SplsAndDense) {
  const uint64_t seed = TestSeed();
  DriverN32 drv(seed);
  constexpr int kN = DriverN32::kNMax, kDh = DriverN32::kDhMax;
  for (int n_valid : {kN, kN - 5}) {
    for (bool spls : {true, false}) {
      SCOPED_TRACE("n_valid " + std::to_string(n_valid) + " spls " + std::to_string(spls));
      LayerAgainstGolden({Spec(4 * kDh, 4, kN, n_valid, 0.95, seed), spls}, AttnStalls::None(),
                         seed, &drv);
    }
  }
  EXPECT_TRUE(drv.Finish());
}

// ============================================================================================
// Cycle count
// ============================================================================================

template <class Driver>
void CyclesExact() {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  constexpr int kN = Driver::kNMax, kDh = Driver::kDhMax;
  std::vector<AttnHead> heads;
  heads.push_back(MakeHead(kN, kN, kDh, rng, 0, [](int) { return Range(kN); }));
  heads.push_back(MakeHead(kN, kN, kDh, rng, 0, [](int i) { return std::vector<int>{i}; }));
  heads.push_back(MakeHead(kN, 1, 1, rng, 0, [](int) { return std::vector<int>{0}; }));
  for (int i = 0; i < 12; ++i) heads.push_back(RandomHead<Driver>(rng));
  for (const AttnHead& h : heads) {
    const AttnResult r = drv.RunHead(h, AttnStalls::None(), rng());
    if (!ExpectContexts(h, r, "cycles")) break;
    EXPECT_EQ(r.cycles, Driver::HeadCycles(h)) << Describe(h);
    // Each row leaves on time: context a is taken at the cycle its rows add up to.
    uint64_t t = 2 + h.kv_rows.size();
    for (size_t a = 0; a < h.anchors.size(); ++a) {
      t += Driver::RowCycles(static_cast<int>(h.anchors[a].keys.size()), h.d_head);
      EXPECT_EQ(r.ctx_cycles[a], t) << "row " << a << " of " << Describe(h);
    }
    // The per-row bound the architecture promises (docs/architecture.md): scores and P.V
    // at Lanes MACs per cycle (2 k nb), one key per cycle for the exponentials (k), the
    // 16-step divider and a constant of at most 12.
    uint64_t prev = 2 + h.kv_rows.size();
    for (size_t a = 0; a < h.anchors.size() && a < r.ctx_cycles.size(); ++a) {
      const uint64_t k = h.anchors[a].keys.size();
      const uint64_t nb = (h.d_head + Driver::kLanes - 1) / Driver::kLanes;
      EXPECT_LE(r.ctx_cycles[a] - prev, 2 * k * nb + k + 16 + 12) << "row " << a;
      prev = r.ctx_cycles[a];
    }
  }
  EXPECT_TRUE(drv.Finish());
}

TEST(AttnCyclesN16, Exact) { CyclesExact<DriverN16>(); }
TEST(AttnCyclesN32, Exact) { CyclesExact<DriverN32>(); }
TEST(AttnCyclesN16Gate, Exact) { CyclesExact<DriverN16Gate>(); }

// ============================================================================================
// Errors
// ============================================================================================

struct CfgErrorCase {
  std::string name;
  std::function<void(AttnCfg&)> apply;
  int code;
};

template <class Driver>
void CfgErrors() {
  constexpr int kN = Driver::kNMax, kDh = Driver::kDhMax;
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const AttnHead good =
      MakeHead(kN, kN - 2, kDh, rng, 0, [&rng](int) { return RandomKeys(kN - 2, rng); });
  const std::vector<CfgErrorCase> cases = {
      {"n_valid 0", [](AttnCfg& c) { c.n_valid = 0; }, Pkg::ATTN_ERR_N_VALID},
      {"n_valid NMax+1", [](AttnCfg& c) { c.n_valid = kN + 1; }, Pkg::ATTN_ERR_N_VALID},
      {"d_head 0", [](AttnCfg& c) { c.d_head = 0; }, Pkg::ATTN_ERR_D_HEAD},
      {"d_head DhMax+1", [](AttnCfg& c) { c.d_head = kDh + 1; }, Pkg::ATTN_ERR_D_HEAD},
      {"n_kv 0", [](AttnCfg& c) { c.n_kv = 0; }, Pkg::ATTN_ERR_N_KV},
      {"n_kv > n_valid", [](AttnCfg& c) { c.n_kv = c.n_valid + 1; }, Pkg::ATTN_ERR_N_KV},
      {"n_rows 0", [](AttnCfg& c) { c.n_rows = 0; }, Pkg::ATTN_ERR_N_ROWS},
      {"n_rows > n_valid", [](AttnCfg& c) { c.n_rows = c.n_valid + 1; }, Pkg::ATTN_ERR_N_ROWS},
      {"sm_shift 48", [](AttnCfg& c) { c.sm_shift = 48; }, Pkg::ATTN_ERR_SM_SHIFT},
      {"sm_shift 63", [](AttnCfg& c) { c.sm_shift = 63; }, Pkg::ATTN_ERR_SM_SHIFT},
      {"ctx_shift 48", [](AttnCfg& c) { c.ctx_shift = 48; }, Pkg::ATTN_ERR_CTX_SHIFT},
      {"n_valid first",
       [](AttnCfg& c) {
         c.n_valid = 0;
         c.ctx_shift = 60;
         c.d_head = 0;
       },
       Pkg::ATTN_ERR_N_VALID},
      {"d_head before shifts",
       [](AttnCfg& c) {
         c.sm_shift = 50;
         c.d_head = 0;
       },
       Pkg::ATTN_ERR_D_HEAD},
  };
  for (const CfgErrorCase& e : cases) {
    SCOPED_TRACE(e.name);
    AttnCfg c = sim::MakeAttnCfg(good);
    e.apply(c);
    const AttnResult r = drv.Run(c, sim::AttnKvBeats(good, kDh), sim::AttnQBeats(good, kDh, kN),
                                 AttnStalls::None(), rng());
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.err_code, e.code);
    EXPECT_EQ(r.cycles, 2u) << "start edge, CHECK, done";
    EXPECT_EQ(r.kv_taken, 0u);
    EXPECT_EQ(r.q_taken, 0u);
    EXPECT_TRUE(r.ctx.empty());
    // The next legal run is correct.
    ExpectContexts(good, drv.RunHead(good, AttnStalls::All(StallSpec::Random(0.3)), rng()),
                   "after " + e.name);
  }
  EXPECT_TRUE(drv.Finish());
}

TEST(AttnCfgErrorN16, EveryField) { CfgErrors<DriverN16>(); }
TEST(AttnCfgErrorN32, EveryField) { CfgErrors<DriverN32>(); }
TEST(AttnCfgErrorN16Gate, EveryField) { CfgErrors<DriverN16Gate>(); }

struct StreamErrorCase {
  std::string name;
  int bad_row;  // the anchor (or K/V beat, for kv) that carries the error
  bool kv;      // the error is in the K/V stream
  std::function<void(sim::AttnKvBeat&, sim::AttnQBeat&)> apply;
  int code;
};

template <class Driver>
void StreamErrors(const AttnStalls& stalls) {
  constexpr int kN = Driver::kNMax, kDh = Driver::kDhMax;
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  Driver drv(seed);
  const int n_valid = kN - 2;
  // Keys in [0, n_valid - 2): rows n_valid-2, n_valid-1 are valid but never loaded.
  AttnHead good =
      MakeHead(kN, n_valid, kDh, rng, 0, [&rng](int) { return RandomKeys(kN - 4, rng); });
  good.anchors.resize(5);
  FillKvRows(&good, rng, false);
  const std::vector<StreamErrorCase> cases = {
      {"kv idx n_valid", 2, true, [](sim::AttnKvBeat& kv, sim::AttnQBeat&) { kv.idx = n_valid; },
       Pkg::ATTN_ERR_KV_IDX},
      {"kv idx max", 0, true, [](sim::AttnKvBeat& kv, sim::AttnQBeat&) { kv.idx = kN - 1; },
       Pkg::ATTN_ERR_KV_IDX},
      {"q idx n_valid", 0, false, [](sim::AttnKvBeat&, sim::AttnQBeat& q) { q.idx = n_valid; },
       Pkg::ATTN_ERR_Q_IDX},
      {"mask empty", 3, false,
       [](sim::AttnKvBeat&, sim::AttnQBeat& q) { q.mask = sim::AttnMaskBits({}, kN); },
       Pkg::ATTN_ERR_MASK_EMPTY},
      {"mask padded key", 2, false,
       [](sim::AttnKvBeat&, sim::AttnQBeat& q) { q.mask.Set(n_valid, 1, 1); },
       Pkg::ATTN_ERR_MASK_PAD},
      {"mask last key", 4, false,
       [](sim::AttnKvBeat&, sim::AttnQBeat& q) { q.mask.Set(kN - 1, 1, 1); },
       Pkg::ATTN_ERR_MASK_PAD},
      {"mask key not loaded", 1, false,
       [](sim::AttnKvBeat&, sim::AttnQBeat& q) { q.mask.Set(n_valid - 1, 1, 1); },
       Pkg::ATTN_ERR_MASK_KV},
  };
  for (const StreamErrorCase& e : cases) {
    SCOPED_TRACE(e.name);
    std::vector<sim::AttnKvBeat> kv = sim::AttnKvBeats(good, kDh);
    std::vector<sim::AttnQBeat> q = sim::AttnQBeats(good, kDh, kN);
    sim::AttnKvBeat dummy_kv;
    sim::AttnQBeat dummy_q;
    if (e.kv) {
      e.apply(kv[e.bad_row], dummy_q);
    } else {
      e.apply(dummy_kv, q[e.bad_row]);
    }
    const AttnResult r = drv.Run(sim::MakeAttnCfg(good), kv, q, stalls, rng());
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.err_code, e.code);
    if (e.kv) {
      EXPECT_EQ(r.kv_taken, static_cast<uint64_t>(e.bad_row + 1)) << "taken up to the bad beat";
      EXPECT_EQ(r.q_taken, 0u);
      EXPECT_TRUE(r.ctx.empty());
    } else {
      EXPECT_EQ(r.kv_taken, kv.size());
      EXPECT_EQ(r.q_taken, static_cast<uint64_t>(e.bad_row + 1)) << "taken up to the bad beat";
      // The rows before the bad one were computed and delivered, correctly.
      ASSERT_EQ(r.ctx.size(), static_cast<size_t>(e.bad_row));
      const std::vector<std::vector<int8_t>> want = sim::AttnGolden(good);
      for (int a = 0; a < e.bad_row; ++a) {
        EXPECT_EQ(r.ctx[a].ctx, want[a]) << "context " << a;
        EXPECT_EQ(r.ctx[a].idx, good.anchors[a].row);
      }
    }
    ExpectContexts(good, drv.RunHead(good, stalls, rng()), "after " + e.name);
  }
  // K/V rows do not survive a run: a key loaded only by the previous run is an error.
  {
    AttnHead all = good;
    all.kv_rows = Range(n_valid);
    ExpectContexts(all, drv.RunHead(all, stalls, rng()), "all rows loaded");
    std::vector<sim::AttnQBeat> q = sim::AttnQBeats(good, kDh, kN);
    q[0].mask.Set(n_valid - 2, 1, 1);
    const AttnResult r =
        drv.Run(sim::MakeAttnCfg(good), sim::AttnKvBeats(good, kDh), q, stalls, rng());
    EXPECT_EQ(r.err_code, Pkg::ATTN_ERR_MASK_KV) << "row loaded in the previous run";
    EXPECT_TRUE(r.ctx.empty());
  }
  ExpectContexts(good, drv.RunHead(good, stalls, rng()), "final");
  EXPECT_TRUE(drv.Finish());
}

TEST(AttnStreamErrorN16, NoStalls) { StreamErrors<DriverN16>(AttnStalls::None()); }
TEST(AttnStreamErrorN16, Stalls) {
  StreamErrors<DriverN16>(AttnStalls::All(StallSpec::Random(0.3)));
}
TEST(AttnStreamErrorN32, Stalls) {
  StreamErrors<DriverN32>(AttnStalls::All(StallSpec::Bursty(0.1, 30)));
}
TEST(AttnStreamErrorN16Gate, Stalls) {
  StreamErrors<DriverN16Gate>(AttnStalls::All(StallSpec::Random(0.3)));
}

// A Q beat that is withdrawn before it was taken: QValidHeld_A fires and fails the test.
void ViolateInputContract() {
  sim::Harness<Vesact_attn_n16_l4> h(7);
  h->start_i = 0;
  h->kv_valid_i = 0;
  h->q_valid_i = 0;
  h->ctx_ready_i = 1;
  h.Reset();
  h->cfg_n_valid_i = 4;
  h->cfg_d_head_i = 4;
  h->cfg_n_kv_i = 2;
  h->cfg_n_rows_i = 1;
  h->cfg_sm_mult_i = 1;
  h->cfg_sm_shift_i = 0;
  h->cfg_ctx_mult_i = 1;
  h->cfg_ctx_shift_i = 0;
  h->start_i = 1;
  h.Tick();
  h->start_i = 0;
  h->q_valid_i = 1;  // offered during CHECK and LOAD: not taken yet
  h->q_mask_i = 1;
  h.Tick();
  h.Tick();
  h->q_valid_i = 0;  // the violation
  h.Tick();
  h.Tick();
}

TEST(AttnContract, ViolationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(ViolateInputContract(), "RTL reported an error");
}

// ============================================================================================
// MiniLM-shaped configuration
// ============================================================================================

// A MiniLM-shaped layer (d 384, 12 heads of 32, n 128), SPLS and dense; `heads` of them
// through the RTL (all 12 in FullLayer).
void MiniLmLayer(int heads, const AttnStalls& stalls) {
  const uint64_t seed = TestSeed();
  DriverMiniLm drv(seed);
  for (bool spls : {true, false}) {
    SCOPED_TRACE(spls ? "spls" : "dense");
    SyntheticSpec spec = Spec(384, 12, DriverMiniLm::kNMax, DriverMiniLm::kNMax, 0.9, seed);
    spec.d_ff = 1536;
    const SyntheticLayer layer = MakeSyntheticLayer(spec);
    const LayerFile& f = layer.file;
    SplsConfig cfg = f.spls;
    cfg.enabled = spls;
    const LayerResult r = RunLayer(f.params, f.x, f.n_valid, cfg);
    uint64_t cycles = 0, macs = 0;
    for (int head = 0; head < heads; ++head) {
      const AttnHead h = sim::AttnHeadFromLayer(f.params, r, f.n_valid, head);
      const AttnResult res = drv.RunHead(h, stalls, seed + head);
      if (!ExpectContexts(h, res, "head " + std::to_string(head))) return;
      // The layer's own contexts agree (the golden layer calls AttendRow too).
      for (size_t a = 0; a < h.anchors.size(); ++a) {
        for (int c = 0; c < h.d_head; ++c) {
          ASSERT_EQ(res.ctx[a].ctx[c], r.ctx.at(h.anchors[a].row, head * h.d_head + c));
        }
      }
      if (stalls.kv.kind == StallSpec::Kind::kNone && stalls.ctx.kind == StallSpec::Kind::kNone) {
        EXPECT_EQ(res.cycles, DriverMiniLm::HeadCycles(h));
      }
      cycles += res.cycles;
      for (const AttnAnchor& a : h.anchors) macs += 2 * a.keys.size() * h.d_head;
    }
    std::printf("[ minilm   ] %s, %d head(s): %llu cycles, %.2f MACs/cycle of %d\n",
                spls ? "spls" : "dense", heads, static_cast<unsigned long long>(cycles),
                double(macs) / double(cycles), DriverMiniLm::kLanes);
  }
  EXPECT_TRUE(drv.Finish());
}

TEST(AttnMiniLm, TwoHeads) { MiniLmLayer(2, AttnStalls::All(StallSpec::Random(0.1))); }
TEST(AttnMiniLm, FullLayer) { MiniLmLayer(12, AttnStalls::None()); }

}  // namespace
}  // namespace esact
