// The host-side memory images of esact_top (sim/top_image.h) against
// docs/memory-layout.md: every address below is computed here from the spec's formulas,
// independently of the packer.
#include "sim/top_image.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>

#include "golden/hlog.h"
#include "golden/layer.h"
#include "golden/spls.h"
#include "golden/synthetic.h"

namespace esact::sim {
namespace {

// ---- Spec formulas, written once --------------------------------------------------------

int64_t SpecPb(int lanes) { return 8 * ((5 * lanes + 32 + 63) / 64); }
int64_t SpecPrmOffset() { return 64; }
int64_t SpecWgtOffset(int64_t d, int64_t f) { return 64 + 4 * (9 * d + f + 256); }
int64_t SpecPwOffset(int64_t d, int64_t f) { return SpecWgtOffset(d, f) + 4 * d * d + 2 * d * f; }
int64_t SpecImageBytes(int64_t d, int64_t f, int pred_lanes) {
  return SpecPwOffset(d, f) + 2 * SpecPb(pred_lanes) * d * d / pred_lanes;
}

uint64_t Bits(const std::vector<uint8_t>& img, int64_t byte, int lsb, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    const int64_t b = byte * 8 + lsb + i;
    v |= static_cast<uint64_t>((img.at(b / 8) >> (b % 8)) & 1) << i;
  }
  return v;
}
uint32_t Word32(const std::vector<uint8_t>& img, int64_t byte) {
  return static_cast<uint32_t>(Bits(img, byte, 0, 32));
}

// WGT: matrix m (0..5 = q, k, v, o, ffn1, ffn2) element (k, n): column-tile major.
int64_t SpecWgtByte(int64_t d, int64_t f, int lanes, int m, int k, int n) {
  const int64_t before[6] = {0, d * d, 2 * d * d, 3 * d * d, 4 * d * d, 4 * d * d + d * f};
  const int64_t rows = m == 5 ? f : d;
  const int64_t word = before[m] / lanes + (n / lanes) * rows + k;
  return SpecWgtOffset(d, f) + word * lanes + n % lanes;
}

// PRM: entry e (part offsets in entries: q, k, v, o biases, ffn1, ffn2, ln1 g/b, ln2 g/b, LUT).
int64_t SpecPrmByte(int64_t d, int64_t f, int part, int e) {
  const int64_t start[11] = {0,         d,         2 * d,     3 * d,     4 * d,    4 * d + f,
                             5 * d + f, 6 * d + f, 7 * d + f, 8 * d + f, 9 * d + f};
  return SpecPrmOffset() + 4 * (start[part] + e);
}

// PW: word b of predictor column `col` of W^_K (half 0) or W^_Q (half 1).
int64_t SpecPwByte(int64_t d, int64_t f, int pred_lanes, int heads, int half, int col, int b) {
  const int64_t dh = d / heads;
  const int64_t h = col / dh, c = col % dh;
  const int64_t word = ((2 * h + half) * dh + c) * (d / pred_lanes) + b;
  return SpecPwOffset(d, f) + word * SpecPb(pred_lanes);
}

int64_t SpecRecordBytes(const TopGeometry& g) {
  return g.data_bytes * ((64 + g.n_max + 8 * g.data_bytes - 1) / (8 * g.data_bytes));
}

// ---- Inputs ------------------------------------------------------------------------------

Matrix<int8_t> RandomInt8(std::mt19937_64& rng, int r, int c) {
  Matrix<int8_t> m(r, c);
  for (int8_t& v : m.data) v = static_cast<int8_t>(rng());
  return m;
}

// Every field random within its range; the predictor weights from the layer's.
LayerParams RandomParams(std::mt19937_64& rng, int d, int f, int heads) {
  LayerParams p;
  p.d_model = d;
  p.d_ff = f;
  p.n_heads = heads;
  auto lin = [&](QuantLinear& q, int in, int out) {
    q.w = RandomInt8(rng, in, out);
    q.bias.resize(out);
    for (int32_t& b : q.bias) b = static_cast<int32_t>(rng() % 2000001) - 1000000;
    q.rq = {static_cast<int32_t>(rng() % (kRequantMaxMult + 1)),
            static_cast<int>(rng() % (kRequantMaxShift + 1))};
  };
  lin(p.q, d, d);
  lin(p.k, d, d);
  lin(p.v, d, d);
  lin(p.o, d, d);
  lin(p.ffn1, d, f);
  lin(p.ffn2, f, d);
  for (Requant* rq : {&p.softmax_rq, &p.ctx_rq, &p.ln1.rq, &p.ln2.rq}) {
    *rq = {static_cast<int32_t>(rng() % (kRequantMaxMult + 1)),
           static_cast<int>(rng() % (kRequantMaxShift + 1))};
  }
  for (ResidualScale* rs : {&p.res1, &p.res2}) {
    rs->mult_a = static_cast<int32_t>(rng() % (kResidualMaxMult + 1));
    rs->mult_b = static_cast<int32_t>(rng() % (kResidualMaxMult + 1));
  }
  for (LnParams* ln : {&p.ln1, &p.ln2}) {
    ln->gamma.resize(d);
    ln->beta.resize(d);
    for (int16_t& gm : ln->gamma) gm = static_cast<int16_t>(rng());
    for (int32_t& bt : ln->beta) bt = static_cast<int32_t>(rng());
  }
  for (int8_t& v : p.gelu_lut) v = static_cast<int8_t>(rng());
  p.pred_q_shift = static_cast<int>(rng() % (kPredMaxShift + 1));
  p.pred_k_shift = static_cast<int>(rng() % (kPredMaxShift + 1));
  return p;
}

PredictorWeights WeightsOf(const LayerParams& p) {
  SplsConfig cfg;
  return MakePredictorWeights(p, cfg);
}

void ExpectSameDecision(const SplsDecision& got, const SplsDecision& want) {
  ASSERT_EQ(got.heads.size(), want.heads.size());
  for (size_t h = 0; h < want.heads.size(); ++h) {
    SCOPED_TRACE(testing::Message() << "head " << h);
    EXPECT_EQ(got.heads[h].spa, want.heads[h].spa);
    EXPECT_EQ(got.heads[h].reuse, want.heads[h].reuse);
    EXPECT_EQ(got.heads[h].needed_kv, want.heads[h].needed_kv);
  }
  EXPECT_EQ(got.token_anchor, want.token_anchor);
}

std::string ThrownMessage(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

// ---- Weight image ------------------------------------------------------------------------

struct Shape {
  int d, f, heads, lanes;
};

TEST(TopImage, SizeMatchesSpecFormula) {
  const uint64_t seed = 20261129;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (const Shape& s : {Shape{16, 32, 2, 4}, Shape{32, 64, 4, 8}, Shape{64, 48, 4, 16},
                         Shape{32, 32, 1, 32}, Shape{8, 8, 2, 8}}) {
    SCOPED_TRACE(testing::Message() << "d " << s.d << " f " << s.f << " lanes " << s.lanes);
    // The predictor twice as wide as the activation words where d allows it.
    const int pl = s.d % (2 * s.lanes) == 0 ? 2 * s.lanes : s.lanes;
    const TopGeometry g{s.lanes, 16, 64, pl};
    const LayerParams p = RandomParams(rng, s.d, s.f, s.heads);
    const int64_t want = SpecImageBytes(s.d, s.f, pl);
    EXPECT_EQ(WeightImageBytes(s.d, s.f, g), want);
    EXPECT_EQ(static_cast<int64_t>(PackWeightImage(p, WeightsOf(p), g).size()), want);
    const WeightImageLayout lay = LayoutWeightImage(s.d, s.f, g);
    EXPECT_EQ(lay.prm.offset, SpecPrmOffset());
    EXPECT_EQ(lay.prm.word_bytes, 4 * s.lanes);
    EXPECT_EQ(lay.wgt.offset, SpecWgtOffset(s.d, s.f));
    EXPECT_EQ(lay.wgt.words, (4 * s.d * s.d + 2 * s.d * s.f) / s.lanes);
    EXPECT_EQ(lay.pw.offset, SpecPwOffset(s.d, s.f));
    EXPECT_EQ(lay.pw.words, 2 * s.d * s.d / pl);
    EXPECT_EQ(lay.pw.word_bytes, SpecPb(pl));
  }
  EXPECT_EQ(SpecPb(4), 8);
  EXPECT_EQ(SpecPb(8), 16);
  EXPECT_EQ(SpecPb(16), 16);
  EXPECT_EQ(SpecPb(32), 24);
}

TEST(TopImage, RejectsBadGeometry) {
  const TopGeometry g{8, 16, 64, 8};
  EXPECT_NE(ThrownMessage([&] { WeightImageBytes(20, 32, g); }).find("d_model 20"),
            std::string::npos);
  EXPECT_NE(ThrownMessage([&] { WeightImageBytes(32, 36, g); }).find("d_ff 36"), std::string::npos);
  EXPECT_NE(ThrownMessage([&] {
              WeightImageBytes(48, 48, TopGeometry{3, 16, 64, 3});
            }).find("lanes 3 does not divide 256"),
            std::string::npos);
  EXPECT_THROW(WeightImageBytes(512, 512, TopGeometry{512, 16, 64, 512}), std::invalid_argument);
  EXPECT_THROW(WeightImageBytes(48, 48, TopGeometry{8, 16, 64, 12}), std::invalid_argument);
  EXPECT_THROW(WeightImageBytes(24, 48, TopGeometry{8, 16, 64, 16}), std::invalid_argument);
  EXPECT_THROW(DecisionRecordBytes(TopGeometry{8, 0, 64, 8}), std::invalid_argument);
}

class TopImageW : public testing::Test {
 protected:
  static constexpr int kD = 32, kF = 48, kHeads = 4, kLanes = 8, kPredLanes = 16;
  void SetUp() override {
    const uint64_t seed = 77;
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    p_ = RandomParams(rng, kD, kF, kHeads);
    pw_ = WeightsOf(p_);
    img_ = PackWeightImage(p_, pw_, g_);
  }
  const TopGeometry g_{kLanes, 16, 64, kPredLanes};
  LayerParams p_;
  PredictorWeights pw_;
  std::vector<uint8_t> img_;
};

TEST_F(TopImageW, HeaderWordsDecodeToParams) {
  const Requant* rqs[10] = {&p_.q.rq,    &p_.k.rq,       &p_.v.rq,   &p_.o.rq,   &p_.ffn1.rq,
                            &p_.ffn2.rq, &p_.softmax_rq, &p_.ctx_rq, &p_.ln1.rq, &p_.ln2.rq};
  for (int w = 0; w < 10; ++w) {
    const uint32_t word = Word32(img_, 4 * w);
    EXPECT_EQ(static_cast<int32_t>(word & 0xFFFF), rqs[w]->mult) << "word " << w;
    EXPECT_EQ(static_cast<int>((word >> 16) & 0x3F), rqs[w]->shift) << "word " << w;
    EXPECT_EQ(word >> 22, 0u) << "word " << w;
  }
  for (int w = 10; w < 12; ++w) {
    const ResidualScale& rs = w == 10 ? p_.res1 : p_.res2;
    EXPECT_EQ(static_cast<int32_t>(Word32(img_, 4 * w) & 0xFFFF), rs.mult_a);
    EXPECT_EQ(static_cast<int32_t>(Word32(img_, 4 * w) >> 16), rs.mult_b);
  }
  const uint32_t pred = Word32(img_, 48);
  EXPECT_EQ(static_cast<int>(pred & 0x1F), p_.pred_q_shift);
  EXPECT_EQ(static_cast<int>((pred >> 8) & 0x1F), p_.pred_k_shift);
  EXPECT_EQ(pred & ~0x1F1Fu, 0u);
  for (int w = 13; w < 16; ++w) EXPECT_EQ(Word32(img_, 4 * w), 0u) << "word " << w;
}

TEST_F(TopImageW, ParameterWords) {
  const QuantLinear* lins[6] = {&p_.q, &p_.k, &p_.v, &p_.o, &p_.ffn1, &p_.ffn2};
  for (int m = 0; m < 6; ++m) {
    for (int e : {0, 1, kLanes - 1, kLanes, kD - 1}) {
      EXPECT_EQ(static_cast<int32_t>(Word32(img_, SpecPrmByte(kD, kF, m, e))), lins[m]->bias[e])
          << "bias " << m << " entry " << e;
    }
  }
  EXPECT_EQ(static_cast<int32_t>(Word32(img_, SpecPrmByte(kD, kF, 4, kF - 1))),
            p_.ffn1.bias[kF - 1]);
  const LnParams* lns[2] = {&p_.ln1, &p_.ln2};
  for (int n = 0; n < 2; ++n) {
    for (int e = 0; e < kD; ++e) {
      const uint32_t gw = Word32(img_, SpecPrmByte(kD, kF, 6 + 2 * n, e));
      EXPECT_EQ(static_cast<int16_t>(gw & 0xFFFF), lns[n]->gamma[e]) << "ln" << n + 1 << " " << e;
      EXPECT_EQ(gw >> 16, 0u) << "gamma upper bits, ln" << n + 1 << " " << e;
      EXPECT_EQ(static_cast<int32_t>(Word32(img_, SpecPrmByte(kD, kF, 7 + 2 * n, e))),
                lns[n]->beta[e]);
    }
  }
  for (int e = 0; e < 256; ++e) {
    const uint32_t lw = Word32(img_, SpecPrmByte(kD, kF, 10, e));
    EXPECT_EQ(static_cast<int8_t>(lw & 0xFF), p_.gelu_lut[e]) << "LUT " << e;
    EXPECT_EQ(lw >> 8, 0u) << "LUT upper bits " << e;
  }
  EXPECT_EQ(SpecPrmByte(kD, kF, 10, 256), SpecWgtOffset(kD, kF));  // PRM ends where WGT starts
}

TEST_F(TopImageW, WeightWordsAreColumnTileMajor) {
  const QuantLinear* lins[6] = {&p_.q, &p_.k, &p_.v, &p_.o, &p_.ffn1, &p_.ffn2};
  for (int m = 0; m < 6; ++m) {
    const Matrix<int8_t>& w = lins[m]->w;
    for (int k = 0; k < w.rows; ++k) {
      for (int n = 0; n < w.cols; ++n) {
        ASSERT_EQ(static_cast<int8_t>(img_.at(SpecWgtByte(kD, kF, kLanes, m, k, n))), w.at(k, n))
            << "matrix " << m << " (" << k << ", " << n << ")";
      }
    }
  }
  // Spot check by hand: q.w tile 1 row 2 lane 3 is word 1*d + 2.
  EXPECT_EQ(static_cast<int8_t>(img_.at(SpecWgtOffset(kD, kF) + (kD + 2) * kLanes + 3)),
            p_.q.w.at(2, kLanes + 3));
}

TEST_F(TopImageW, PredictorWordsHoldBiasAndCodes) {
  const int pb = static_cast<int>(SpecPb(kPredLanes));
  for (int half = 0; half < 2; ++half) {
    const Matrix<HlogCode>& w_hat = half == 0 ? pw_.w_k_hat : pw_.w_q_hat;
    const std::vector<int32_t>& bias = half == 0 ? pw_.k_bias : pw_.q_bias;
    for (int col : {0, 5, kD / kHeads, kD - 1}) {
      for (int b = 0; b < kD / kPredLanes; ++b) {
        SCOPED_TRACE(testing::Message() << "half " << half << " col " << col << " word " << b);
        const int64_t byte = SpecPwByte(kD, kF, kPredLanes, kHeads, half, col, b);
        EXPECT_EQ(static_cast<int32_t>(Word32(img_, byte)), bias.empty() ? 0 : bias[col]);
        for (int l = 0; l < kPredLanes; ++l) {
          EXPECT_EQ(Bits(img_, byte, 32 + 5 * l, 5), w_hat.at(b * kPredLanes + l, col))
              << "lane " << l;
        }
        const int used = 32 + 5 * kPredLanes;
        EXPECT_EQ(Bits(img_, byte, used, 8 * pb - used), 0u);
      }
    }
  }
  EXPECT_FALSE(pw_.q_bias.empty());  // the biases above were really checked
  EXPECT_EQ(SpecPwByte(kD, kF, kPredLanes, kHeads, 1, kD - 1, kD / kPredLanes - 1) + pb,
            static_cast<int64_t>(img_.size()));
}

TEST_F(TopImageW, EmptyPredictorBiasesPackAsZero) {
  PredictorWeights no_bias = pw_;
  no_bias.q_bias.clear();
  no_bias.k_bias.clear();
  const std::vector<uint8_t> img = PackWeightImage(p_, no_bias, g_);
  for (int half = 0; half < 2; ++half) {
    EXPECT_EQ(Word32(img, SpecPwByte(kD, kF, kPredLanes, kHeads, half, 7, 1)), 0u);
  }
}

TEST(TopImage, SyntheticLayerPacks) {
  SyntheticSpec spec;  // d 64, 4 heads, d_ff 256
  const SyntheticLayer s = MakeSyntheticLayer(spec);
  const TopGeometry g{16, 32, 64, 16};
  const LayerParams& p = s.file.params;
  const std::vector<uint8_t> img = PackWeightImage(p, MakePredictorWeights(p, s.file.spls), g);
  EXPECT_EQ(static_cast<int64_t>(img.size()), SpecImageBytes(p.d_model, p.d_ff, 16));
  EXPECT_EQ(static_cast<int8_t>(img.at(SpecWgtByte(p.d_model, p.d_ff, 16, 5, 100, 33))),
            p.ffn2.w.at(100, 33));
}

// ---- Activations -------------------------------------------------------------------------

TEST(TopImage, ActivationsRoundTrip) {
  const uint64_t seed = 5;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const Matrix<int8_t> x = RandomInt8(rng, 5, 24);
  std::vector<uint8_t> buf(64, 0xAB);
  const std::vector<uint8_t> packed = PackActivations(x);
  ASSERT_EQ(packed.size(), 5u * 24);
  EXPECT_EQ(static_cast<int8_t>(packed[3 * 24 + 7]), x.at(3, 7));  // row i at byte i*d
  buf.insert(buf.end(), packed.begin(), packed.end());
  EXPECT_EQ(UnpackActivations(buf, 64, 5, 24), x);
  EXPECT_THROW(UnpackActivations(buf, 65, 5, 24), std::invalid_argument);
}

// ---- Decisions ---------------------------------------------------------------------------

TEST(TopImage, RecordSize) {
  EXPECT_EQ(DecisionRecordBytes(TopGeometry{8, 16, 64, 8}), 16);   // 128 bits
  EXPECT_EQ(DecisionRecordBytes(TopGeometry{8, 16, 65, 8}), 32);   // 129 bits
  EXPECT_EQ(DecisionRecordBytes(TopGeometry{8, 8, 128, 8}), 24);   // 192 bits
  EXPECT_EQ(DecisionRecordBytes(TopGeometry{8, 64, 128, 8}), 64);  // one 512-bit beat
  EXPECT_EQ(DecisionBytes(4, 30, TopGeometry{8, 8, 128, 8}), 4 * 30 * 24);
  EXPECT_THROW(DecisionBytes(4, 129, TopGeometry{8, 8, 128, 8}), std::invalid_argument);
}

class TopImageDec : public testing::Test {
 protected:
  static constexpr int kTokens = 40, kValid = 33;
  void SetUp() override {
    SyntheticSpec spec;
    spec.n_tokens = kTokens;
    spec.n_valid = kValid;
    spec.seed = 3;
    std::printf("synthetic seed %llu\n", static_cast<unsigned long long>(spec.seed));
    layer_ = MakeSyntheticLayer(spec);
  }
  const LayerFile& file() const { return layer_.file; }
  const TopGeometry g_{8, 8, 64, 8};
  SyntheticLayer layer_;
};

TEST_F(TopImageDec, PredictedDecisionRoundTrips) {
  const LayerParams& p = file().params;
  const SplsDecision dec =
      Predict(file().x, kValid, p.n_heads, MakePredictorWeights(p, file().spls), file().spls);
  const std::vector<uint8_t> bytes = PackDecisions(dec, kTokens, kValid, g_);
  ASSERT_EQ(static_cast<int64_t>(bytes.size()), p.n_heads * kTokens * SpecRecordBytes(g_));
  ExpectSameDecision(UnpackDecisions(bytes, 0, p.n_heads, kTokens, kValid, g_), dec);

  // Fields at the spec's bit positions: head 2, a valid row and a padded row.
  const int64_t r = SpecRecordBytes(g_);
  const int h = 2, i = 9;
  const int64_t rec = (h * kTokens + i) * r;
  EXPECT_EQ(static_cast<int>(Bits(bytes, rec, 0, 16)), dec.heads[h].reuse[i]);
  EXPECT_EQ(static_cast<int>(Bits(bytes, rec, 16, 16)), dec.token_anchor[i]);
  EXPECT_EQ(Bits(bytes, rec, 32, 1), dec.heads[h].needed_kv[i]);
  for (int j : dec.heads[h].spa[i]) EXPECT_EQ(Bits(bytes, rec, 64 + j, 1), 1u) << "key " << j;
  const int64_t pad = (h * kTokens + kTokens - 1) * r;
  EXPECT_EQ(Bits(bytes, pad, 0, 32), 0xFFFFFFFFu);
  EXPECT_EQ(Bits(bytes, pad, 32, static_cast<int>(8 * r - 32)), 0u);
}

TEST_F(TopImageDec, LayerAndDenseDecisionsRoundTrip) {
  const LayerParams& p = file().params;
  const LayerResult res = RunLayer(p, file().x, kValid, file().spls);
  // With an offset, as the harness reads DEC out of a larger memory.
  std::vector<uint8_t> mem(128, 0);
  const std::vector<uint8_t> bytes = PackDecisions(res.decision, kTokens, kValid, g_);
  mem.insert(mem.end(), bytes.begin(), bytes.end());
  ExpectSameDecision(UnpackDecisions(mem, 128, p.n_heads, kTokens, kValid, g_), res.decision);

  const SplsDecision dense = DenseDecision(kTokens, kValid, p.n_heads);
  ExpectSameDecision(
      UnpackDecisions(PackDecisions(dense, kTokens, kValid, g_), 0, p.n_heads, kTokens, kValid, g_),
      dense);
}

TEST_F(TopImageDec, MalformedRecordsAreRejected) {
  const int heads = file().params.n_heads;
  const SplsDecision dense = DenseDecision(kTokens, kValid, heads);
  const std::vector<uint8_t> good = PackDecisions(dense, kTokens, kValid, g_);
  const int64_t r = SpecRecordBytes(g_);
  auto unpack_with = [&](int h, int i, int bit, bool set) {
    std::vector<uint8_t> bad = good;
    const int64_t b = (h * kTokens + i) * r * 8 + bit;
    if (set) {
      bad.at(b / 8) |= static_cast<uint8_t>(1u << (b % 8));
    } else {
      bad.at(b / 8) &= static_cast<uint8_t>(~(1u << (b % 8)));
    }
    return ThrownMessage([&] { UnpackDecisions(bad, 0, heads, kTokens, kValid, g_); });
  };
  std::string msg = unpack_with(1, 3, 40, true);
  EXPECT_NE(msg.find("head 1 row 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("reserved"), std::string::npos) << msg;

  msg = unpack_with(2, 5, 64 + kValid, true);  // key at n_valid
  EXPECT_NE(msg.find("head 2 row 5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("n_valid"), std::string::npos) << msg;

  msg = unpack_with(0, 4, 10, true);  // reuse anchor 4 + 1024, past n_valid
  EXPECT_NE(msg.find("head 0 row 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("reuse anchor"), std::string::npos) << msg;

  msg = unpack_with(3, 6, 16, true);  // token anchor 6 -> 7, differs from head 0's
  EXPECT_NE(msg.find("head 3 row 6"), std::string::npos) << msg;
  EXPECT_NE(msg.find("token anchor"), std::string::npos) << msg;

  msg = unpack_with(1, kTokens - 1, 3, false);  // padded row's anchor no longer 0xFFFF
  EXPECT_NE(msg.find("padded row"), std::string::npos) << msg;

  EXPECT_EQ(unpack_with(0, 0, 64, true), "(no exception)");  // key 0 is already set: valid
}

TEST_F(TopImageDec, PackRejectsAnInconsistentDecision) {
  SplsDecision dec = DenseDecision(kTokens, kValid, 2);
  dec.heads[1].spa[kTokens - 1] = {0};  // a padded row with a key
  const std::string msg = ThrownMessage([&] { PackDecisions(dec, kTokens, kValid, g_); });
  EXPECT_NE(msg.find("head 1 row 39"), std::string::npos) << msg;
}

}  // namespace
}  // namespace esact::sim
