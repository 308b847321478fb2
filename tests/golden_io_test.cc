// Layer file format (docs/layer-format.md) and the synthetic layer generator.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden/layer_io.h"
#include "golden/synthetic.h"

namespace esact {
namespace {

using Bytes = std::vector<uint8_t>;

// An independent CRC-32 (IEEE, reflected), so the tests can craft files whose content is
// bad but whose CRC is valid, and can check the library's CRC against it.
uint32_t RefCrc32(const Bytes& bytes, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= bytes[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return ~crc;
}

uint32_t GetU32(const Bytes& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

void PutU32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// body followed by its CRC.
Bytes WithCrc(Bytes body) {
  const uint32_t crc = RefCrc32(body, body.size());
  body.resize(body.size() + 4);
  PutU32(body, body.size() - 4, crc);
  return body;
}

// A file's bytes without the trailing CRC.
Bytes Body(const Bytes& file) { return Bytes(file.begin(), file.end() - 4); }

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// A small layer with every field set to a value that differs from the default, so a field
// the format forgets cannot survive the round trip by accident.
constexpr int kD = 4;
constexpr int kHeads = 2;
constexpr int kDff = 8;
constexpr int kTokens = 3;
constexpr int kValid = 2;

LayerFile SmallFile() {
  std::mt19937 rng(7);
  const auto fill_matrix = [&rng](int rows, int cols) {
    Matrix<int8_t> m(rows, cols);
    for (int8_t& e : m.data) e = static_cast<int8_t>(rng());
    return m;
  };
  const auto linear = [&](int in, int out, Requant rq) {
    QuantLinear l;
    l.w = fill_matrix(in, out);
    // Within the accumulator bound whatever in is (|bias| < 2^30 <= MaxLinearBias(in)).
    for (int i = 0; i < out; ++i) l.bias.push_back(static_cast<int32_t>(rng() % (1u << 31)) / 2);
    l.rq = rq;
    return l;
  };
  const auto ln = [&rng](Requant rq) {
    LnParams p;
    for (int i = 0; i < kD; ++i) {
      p.gamma.push_back(static_cast<int16_t>(rng()));
      p.beta.push_back(static_cast<int32_t>(rng()));
    }
    p.rq = rq;
    return p;
  };

  LayerFile f;
  LayerParams& p = f.params;
  p.d_model = kD;
  p.n_heads = kHeads;
  p.d_ff = kDff;
  // The Requant range ends are part of the test.
  p.q = linear(kD, kD, Requant{65535, 47});
  p.k = linear(kD, kD, Requant{0, 0});
  p.v = linear(kD, kD, Requant{40000, 20});
  p.o = linear(kD, kD, Requant{33000, 21});
  p.ffn1 = linear(kD, kDff, Requant{34000, 22});
  p.ffn2 = linear(kDff, kD, Requant{35000, 23});
  // So are the ends of the bias bound (|bias| + 2^14 * in < 2^31).
  p.q.bias[0] = static_cast<int32_t>(MaxLinearBias(kD));
  p.ffn2.bias[1] = static_cast<int32_t>(-MaxLinearBias(kDff));
  p.softmax_rq = Requant{36000, 24};
  p.ctx_rq = Requant{37000, 25};
  // The residual mult range ends too.
  p.res1 = ResidualScale{kResidualMaxMult, 0};
  p.res2 = ResidualScale{123, 4567};
  p.ln1 = ln(Requant{38000, 26});
  p.ln2 = ln(Requant{39000, 27});
  for (int8_t& e : p.gelu_lut) e = static_cast<int8_t>(rng());
  p.pred_q_shift = 3;
  p.pred_k_shift = 31;
  p.x_scale = 0.0371f;
  p.y_scale = 1.5e-3f;
  f.spls.enabled = false;
  f.spls.hlog_bits = 6;
  f.spls.round = HlogRound::kNearest;
  f.spls.k = 2;
  f.spls.w = 3;
  f.spls.t = 0;
  f.spls.ffn = FfnPolicy::kReuse;
  f.n_tokens = kTokens;
  f.n_valid = kValid;
  f.x = fill_matrix(kTokens, kD);
  return f;
}

// Size of a file by the formula of docs/layer-format.md.
size_t DocumentedSize(int d, int d_ff, int n_tokens) {
  return 519 + 4 * d * d + 2 * d * d_ff + 32 * d + 4 * d_ff + n_tokens * d;
}

// Offset of spls.enabled, counted back from the end as docs/layer-format.md does.
size_t SplsEnabledOffset(size_t file_size, int d, int n_tokens) {
  return file_size - 4 - n_tokens * d - 8 - 19;
}

void ExpectSameRequant(const Requant& a, const Requant& b, const std::string& name) {
  EXPECT_EQ(a.mult, b.mult) << name;
  EXPECT_EQ(a.shift, b.shift) << name;
}

void ExpectSameLinear(const QuantLinear& a, const QuantLinear& b, const std::string& name) {
  EXPECT_TRUE(a.w == b.w) << name;
  EXPECT_EQ(a.bias, b.bias) << name;
  ExpectSameRequant(a.rq, b.rq, name + ".rq");
}

void ExpectSameLn(const LnParams& a, const LnParams& b, const std::string& name) {
  EXPECT_EQ(a.gamma, b.gamma) << name;
  EXPECT_EQ(a.beta, b.beta) << name;
  ExpectSameRequant(a.rq, b.rq, name + ".rq");
}

// Every field of LayerFile, LayerParams and SplsConfig (the structs have no operator==).
void ExpectSameFile(const LayerFile& a, const LayerFile& b) {
  const LayerParams& p = a.params;
  const LayerParams& q = b.params;
  EXPECT_EQ(p.d_model, q.d_model);
  EXPECT_EQ(p.n_heads, q.n_heads);
  EXPECT_EQ(p.d_ff, q.d_ff);
  ExpectSameLinear(p.q, q.q, "q");
  ExpectSameLinear(p.k, q.k, "k");
  ExpectSameLinear(p.v, q.v, "v");
  ExpectSameLinear(p.o, q.o, "o");
  ExpectSameLinear(p.ffn1, q.ffn1, "ffn1");
  ExpectSameLinear(p.ffn2, q.ffn2, "ffn2");
  ExpectSameRequant(p.softmax_rq, q.softmax_rq, "softmax_rq");
  ExpectSameRequant(p.ctx_rq, q.ctx_rq, "ctx_rq");
  EXPECT_TRUE(p.res1 == q.res1);
  EXPECT_TRUE(p.res2 == q.res2);
  ExpectSameLn(p.ln1, q.ln1, "ln1");
  ExpectSameLn(p.ln2, q.ln2, "ln2");
  EXPECT_EQ(p.gelu_lut, q.gelu_lut);
  EXPECT_EQ(p.pred_q_shift, q.pred_q_shift);
  EXPECT_EQ(p.pred_k_shift, q.pred_k_shift);
  EXPECT_EQ(p.x_scale, q.x_scale);
  EXPECT_EQ(p.y_scale, q.y_scale);
  EXPECT_EQ(a.spls.enabled, b.spls.enabled);
  EXPECT_EQ(a.spls.hlog_bits, b.spls.hlog_bits);
  EXPECT_EQ(static_cast<int>(a.spls.round), static_cast<int>(b.spls.round));
  EXPECT_EQ(a.spls.k, b.spls.k);
  EXPECT_EQ(a.spls.w, b.spls.w);
  EXPECT_EQ(a.spls.t, b.spls.t);
  EXPECT_EQ(static_cast<int>(a.spls.ffn), static_cast<int>(b.spls.ffn));
  EXPECT_EQ(a.n_tokens, b.n_tokens);
  EXPECT_EQ(a.n_valid, b.n_valid);
  EXPECT_TRUE(a.x == b.x);
}

// Temp files named after the test and the process, removed at the end of the test.
class LayerIoTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    paths_.push_back(::testing::TempDir() + "esact_" + info->name() + "_" +
                     std::to_string(getpid()) + "_" + name);
    return paths_.back();
  }
  void TearDown() override {
    for (const std::string& p : paths_) std::remove(p.c_str());
  }

  // The bytes WriteLayerFile produces for f.
  Bytes Encode(const LayerFile& f) {
    const std::string path = Path("encode.esl");
    WriteLayerFile(path, f);
    return ReadBytes(path);
  }

  // Reads bytes back through a file; expects a LayerFileError whose message is
  // "<path>: <field>: ..." and returns it.
  LayerFileError ExpectReject(const Bytes& bytes, const std::string& name = "bad.esl") {
    const std::string path = Path(name);
    WriteBytes(path, bytes);
    try {
      ReadLayerFile(path);
    } catch (const LayerFileError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": " + e.field() + ": ", 0), 0u) << e.what();
      EXPECT_FALSE(e.field().empty());
      return e;
    }
    ADD_FAILURE() << "accepted " << bytes.size() << " bytes";
    return LayerFileError(path, "", "");
  }

 private:
  std::vector<std::string> paths_;
};

TEST(LayerIoCrc, ReferenceCrcMatchesCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(RefCrc32(Bytes(check.begin(), check.end()), check.size()), 0xCBF43926u);
}

TEST_F(LayerIoTest, RoundTripPreservesEveryField) {
  const LayerFile f = SmallFile();
  const std::string path = Path("small.esl");
  WriteLayerFile(path, f);
  const LayerFile g = ReadLayerFile(path);
  ExpectSameFile(f, g);
  EXPECT_EQ(Encode(g), ReadBytes(path));
}

TEST_F(LayerIoTest, LayoutMatchesTheDocumentedOffsets) {
  const Bytes b = Encode(SmallFile());
  ASSERT_EQ(b.size(), DocumentedSize(kD, kDff, kTokens));
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "ESACTLYR");
  EXPECT_EQ(GetU32(b, 8), 2u);
  EXPECT_EQ(GetU32(b, 12), static_cast<uint32_t>(kD));
  EXPECT_EQ(GetU32(b, 16), static_cast<uint32_t>(kHeads));
  EXPECT_EQ(GetU32(b, 20), static_cast<uint32_t>(kDff));
  EXPECT_EQ(GetU32(b, 24), static_cast<uint32_t>(kTokens));
  EXPECT_EQ(GetU32(b, 28), static_cast<uint32_t>(kValid));
  EXPECT_EQ(GetU32(b, 32), static_cast<uint32_t>(kD));  // params.q.w.rows
  EXPECT_EQ(GetU32(b, 36), static_cast<uint32_t>(kD));  // params.q.w.cols
  // spls.enabled (false), then spls.hlog_bits, spls.round.
  const size_t spls = SplsEnabledOffset(b.size(), kD, kTokens);
  EXPECT_EQ(b[spls], 0);
  EXPECT_EQ(GetU32(b, spls + 1), 6u);
  EXPECT_EQ(b[spls + 5], static_cast<uint8_t>(HlogRound::kNearest));
  EXPECT_EQ(GetU32(b, b.size() - 4), RefCrc32(b, b.size() - 4));
}

TEST_F(LayerIoTest, RejectsMissingFile) {
  const std::string path = Path("missing.esl");
  try {
    ReadLayerFile(path);
    FAIL() << "read a missing file";
  } catch (const LayerFileError& e) {
    EXPECT_EQ(e.field(), "file");
    EXPECT_EQ(std::string(e.what()).rfind(path + ": file: cannot open", 0), 0u) << e.what();
  }
}

TEST_F(LayerIoTest, RejectsEmptyFile) { EXPECT_EQ(ExpectReject({}).field(), "magic"); }

TEST_F(LayerIoTest, RejectsBadMagic) {
  Bytes body = Body(Encode(SmallFile()));
  body[5] = 'X';
  EXPECT_EQ(ExpectReject(WithCrc(body)).field(), "magic");
}

TEST_F(LayerIoTest, RejectsBadVersion) {
  Bytes body = Body(Encode(SmallFile()));
  PutU32(body, 8, 1);
  const LayerFileError e = ExpectReject(WithCrc(body));
  EXPECT_EQ(e.field(), "version");
  EXPECT_NE(std::string(e.what()).find("1 unsupported"), std::string::npos) << e.what();
}

// A cut file fails its magic while that is incomplete, then its CRC, whatever the length.
TEST_F(LayerIoTest, RejectsEveryPrefix) {
  const Bytes full = Encode(SmallFile());
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(ExpectReject(Bytes(full.begin(), full.begin() + n)).field(),
              n < 8 ? "magic" : "crc32")
        << n;
  }
}

// A body cut anywhere but sealed with a valid CRC is reported as the field that is cut.
TEST_F(LayerIoTest, RejectsEveryTruncatedBodyWithValidCrc) {
  const Bytes body = Body(Encode(SmallFile()));
  for (size_t n = 8; n < body.size(); ++n) {  // shorter bodies fail the magic
    const LayerFileError e = ExpectReject(WithCrc(Bytes(body.begin(), body.begin() + n)));
    EXPECT_NE(e.field(), "crc32") << n;
    EXPECT_NE(std::string(e.what()).find(": truncated: need "), std::string::npos) << e.what();
  }
  const LayerFileError e = ExpectReject(WithCrc(Bytes(body.begin(), body.begin() + 14)));
  EXPECT_EQ(e.field(), "params.d_model");
  EXPECT_NE(std::string(e.what()).find("params.d_model: truncated: need 4 bytes at offset 12"),
            std::string::npos)
      << e.what();
}

TEST_F(LayerIoTest, RejectsEveryFlippedByte) {
  const Bytes good = Encode(SmallFile());
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
    EXPECT_EQ(ExpectReject(bad).field(), i < 8 ? "magic" : "crc32") << i;
  }
}

TEST_F(LayerIoTest, RejectsTrailingBytes) {
  Bytes body = Body(Encode(SmallFile()));
  const size_t end = body.size();
  body.insert(body.end(), {1, 2, 3});
  const LayerFileError e = ExpectReject(WithCrc(body));
  EXPECT_EQ(e.field(), "end");
  EXPECT_NE(std::string(e.what()).find("3 trailing bytes at offset " + std::to_string(end)),
            std::string::npos)
      << e.what();
}

TEST_F(LayerIoTest, RejectsOutOfRangeBoolCode) {
  Bytes body = Body(Encode(SmallFile()));
  body.at(SplsEnabledOffset(body.size() + 4, kD, kTokens)) = 2;
  const LayerFileError e = ExpectReject(WithCrc(body));
  EXPECT_EQ(e.field(), "spls.enabled");
  EXPECT_NE(std::string(e.what()).find("2 out of range [0, 1]"), std::string::npos) << e.what();
}

TEST_F(LayerIoTest, RejectsOversizedCountBeforeAllocating) {
  LayerFile f = SmallFile();
  f.params.q.w = Matrix<int8_t>(70000, 0);
  const LayerFileError e = ExpectReject(Encode(f));
  EXPECT_EQ(e.field(), "params.q.w.rows");
  EXPECT_NE(std::string(e.what()).find("70000 out of range [0, 65536]"), std::string::npos)
      << e.what();
}

// The writer serializes whatever the struct holds; the reader names the bad field.
struct BadContent {
  const char* field;
  std::function<void(LayerFile&)> spoil;
};

TEST_F(LayerIoTest, RejectsInconsistentContentWithValidCrc) {
  const std::vector<BadContent> cases = {
      {"params.d_model", [](LayerFile& f) { f.params.d_model = 0; }},
      {"params.n_heads", [](LayerFile& f) { f.params.n_heads = 3; }},
      {"params.n_heads", [](LayerFile& f) { f.params.n_heads = 0; }},
      {"params.d_ff", [](LayerFile& f) { f.params.d_ff = 65537; }},
      {"n_tokens", [](LayerFile& f) { f.n_tokens = 65537; }},
      {"n_valid", [](LayerFile& f) { f.n_valid = kTokens + 1; }},
      {"n_valid", [](LayerFile& f) { f.n_valid = 0; }},
      {"params.q.w.rows", [](LayerFile& f) { f.params.q.w = Matrix<int8_t>(kD + 1, kD); }},
      {"params.ffn1.w.cols", [](LayerFile& f) { f.params.ffn1.w = Matrix<int8_t>(kD, kD); }},
      {"params.ffn2.bias.size", [](LayerFile& f) { f.params.ffn2.bias.push_back(0); }},
      {"params.q.bias",
       [](LayerFile& f) { f.params.q.bias[1] = static_cast<int32_t>(MaxLinearBias(kD) + 1); }},
      {"params.ffn2.bias",
       [](LayerFile& f) {
         f.params.ffn2.bias[2] = static_cast<int32_t>(-MaxLinearBias(kDff) - 1);
       }},
      {"params.o.bias", [](LayerFile& f) { f.params.o.bias[0] = INT32_MIN; }},
      {"params.q.rq.shift", [](LayerFile& f) { f.params.q.rq.shift = 60; }},
      {"params.v.rq.shift", [](LayerFile& f) { f.params.v.rq.shift = -1; }},
      {"params.o.rq.mult", [](LayerFile& f) { f.params.o.rq.mult = 65536; }},
      {"params.softmax_rq.mult", [](LayerFile& f) { f.params.softmax_rq.mult = -1; }},
      {"params.ctx_rq.shift", [](LayerFile& f) { f.params.ctx_rq.shift = 48; }},
      {"params.res1.mult_a", [](LayerFile& f) { f.params.res1.mult_a = kResidualMaxMult + 1; }},
      {"params.res2.mult_b", [](LayerFile& f) { f.params.res2.mult_b = -1; }},
      {"params.ln1.gamma.size", [](LayerFile& f) { f.params.ln1.gamma.pop_back(); }},
      {"params.ln2.beta.size", [](LayerFile& f) { f.params.ln2.beta.clear(); }},
      {"params.ln2.rq.shift", [](LayerFile& f) { f.params.ln2.rq.shift = 100; }},
      {"params.pred_q_shift", [](LayerFile& f) { f.params.pred_q_shift = -1; }},
      {"params.pred_k_shift", [](LayerFile& f) { f.params.pred_k_shift = 32; }},
      {"params.x_scale", [](LayerFile& f) { f.params.x_scale = 0.0f; }},
      {"params.y_scale", [](LayerFile& f) { f.params.y_scale = std::nanf(""); }},
      {"spls.hlog_bits", [](LayerFile& f) { f.spls.hlog_bits = 3; }},
      {"spls.hlog_bits", [](LayerFile& f) { f.spls.hlog_bits = 9; }},
      {"spls.round", [](LayerFile& f) { f.spls.round = static_cast<HlogRound>(2); }},
      {"spls.k", [](LayerFile& f) { f.spls.k = 0; }},
      {"spls.k", [](LayerFile& f) { f.spls.k = kTokens + 1; }},
      {"spls.w", [](LayerFile& f) { f.spls.w = -1; }},
      {"spls.t", [](LayerFile& f) { f.spls.t = -2; }},
      {"spls.ffn", [](LayerFile& f) { f.spls.ffn = static_cast<FfnPolicy>(7); }},
      {"x.rows", [](LayerFile& f) { f.x = Matrix<int8_t>(kTokens - 1, kD); }},
      {"x.cols", [](LayerFile& f) { f.x = Matrix<int8_t>(kTokens, kD * 2); }},
  };
  for (const BadContent& c : cases) {
    LayerFile f = SmallFile();
    c.spoil(f);
    const Bytes bytes = Encode(f);
    ASSERT_EQ(GetU32(bytes, bytes.size() - 4), RefCrc32(bytes, bytes.size() - 4)) << c.field;
    const LayerFileError e = ExpectReject(bytes, "layer.esl");
    EXPECT_EQ(e.field(), c.field);
    // One rule set: past the decode-time checks (enum codes), the reader reports exactly
    // what the layer rules (CheckLayer, CheckLayerInput; ValidateLayer's source) report.
    FieldProblem rule = CheckLayer(f.params, f.n_tokens, f.n_valid, f.spls);
    if (!rule) rule = CheckLayerInput(f.params, f.n_tokens, f.x);
    const std::string field = c.field;
    if (field == "spls.round" || field == "spls.ffn") {
      EXPECT_FALSE(rule) << c.field << " is a decode-time check";
      continue;
    }
    ASSERT_TRUE(rule) << c.field;
    const std::string message = rule.Message();
    EXPECT_EQ(std::string(e.what()), Path("layer.esl") + ": " + message) << c.field;
    if (field.rfind("x.", 0) != 0) {  // ValidateLayer does not see the input
      EXPECT_EQ(ValidateLayer(f.params, f.n_tokens, f.n_valid, f.spls), message);
    }
  }
}

TEST_F(LayerIoTest, ConsistencyMessageNamesFileFieldAndRange) {
  LayerFile f = SmallFile();
  f.params.q.rq.shift = 60;
  const std::string path = Path("layer.esl");
  WriteLayerFile(path, f);
  try {
    ReadLayerFile(path);
    FAIL() << "accepted a shift of 60";
  } catch (const LayerFileError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": params.q.rq.shift: 60 out of range [0, 47]");
  }
}

TEST_F(LayerIoTest, WriterNamesAnUnwritablePath) {
  const std::string path = Path("no_such_dir") + "/layer.esl";
  try {
    WriteLayerFile(path, SmallFile());
    FAIL() << "wrote into a missing directory";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": cannot write", 0), 0u) << e.what();
  }
}

// ---- Synthetic layers ------------------------------------------------------------------

double MeanNeighbourCosine(const Matrix<float>& x, int n_valid) {
  double sum = 0.0;
  for (int i = 1; i < n_valid; ++i) {
    double dot = 0.0, a2 = 0.0, b2 = 0.0;
    for (int c = 0; c < x.cols; ++c) {
      dot += x.at(i, c) * x.at(i - 1, c);
      a2 += x.at(i, c) * x.at(i, c);
      b2 += x.at(i - 1, c) * x.at(i - 1, c);
    }
    sum += dot / std::sqrt(a2 * b2);
  }
  return sum / (n_valid - 1);
}

TEST_F(LayerIoTest, SameSeedGivesIdenticalBytes) {
  SyntheticSpec spec;
  spec.seed = 42;
  EXPECT_EQ(Encode(MakeSyntheticLayer(spec).file), Encode(MakeSyntheticLayer(spec).file));
}

TEST_F(LayerIoTest, DifferentSeedGivesDifferentBytes) {
  SyntheticSpec spec;
  spec.seed = 42;
  const Bytes a = Encode(MakeSyntheticLayer(spec).file);
  spec.seed = 43;
  EXPECT_NE(a, Encode(MakeSyntheticLayer(spec).file));
}

TEST_F(LayerIoTest, GeneratedLayerRoundTrips) {
  SyntheticSpec spec;
  spec.n_valid = 27;
  const SyntheticLayer layer = MakeSyntheticLayer(spec);
  const std::string path = Path("synthetic.esl");
  WriteLayerFile(path, layer.file);
  ExpectSameFile(layer.file, ReadLayerFile(path));
}

TEST(Synthetic, SimilarityRaisesNeighbourCosine) {
  SyntheticSpec spec;
  spec.similarity = 0.95;
  const double similar = MeanNeighbourCosine(MakeSyntheticLayer(spec).x_fp32, spec.n_valid);
  spec.similarity = 0.0;
  const double independent = MeanNeighbourCosine(MakeSyntheticLayer(spec).x_fp32, spec.n_valid);
  EXPECT_GT(similar, independent + 0.5);
  EXPECT_NEAR(similar, 0.95, 0.05);
  EXPECT_NEAR(independent, 0.0, 0.15);
}

TEST(Synthetic, PaddedRowsAreZeroAndConfigIsTheDefault) {
  SyntheticSpec spec;
  spec.n_tokens = 32;
  spec.n_valid = 20;
  const SyntheticLayer layer = MakeSyntheticLayer(spec);
  const LayerFile& f = layer.file;
  ASSERT_EQ(f.x.rows, 32);
  ASSERT_EQ(layer.x_fp32.rows, 32);
  for (int i = 0; i < 32; ++i) {
    bool x_zero = true, fp_zero = true;
    for (int c = 0; c < spec.d_model; ++c) {
      x_zero = x_zero && f.x.at(i, c) == 0;
      fp_zero = fp_zero && layer.x_fp32.at(i, c) == 0.0f;
    }
    EXPECT_EQ(x_zero, i >= spec.n_valid) << "row " << i;
    EXPECT_EQ(fp_zero, i >= spec.n_valid) << "row " << i;
  }
  EXPECT_EQ(f.n_tokens, 32);
  EXPECT_EQ(f.n_valid, 20);
  EXPECT_TRUE(f.spls.enabled);
  EXPECT_EQ(f.spls.hlog_bits, 8);
  EXPECT_EQ(static_cast<int>(f.spls.round), static_cast<int>(HlogRound::kTowardZero));
  EXPECT_EQ(f.spls.k, DefaultTopK(20));
  EXPECT_EQ(f.spls.w, 2);
  EXPECT_EQ(f.spls.t, DefaultThreshold(f.spls.k));
  EXPECT_EQ(static_cast<int>(f.spls.ffn), static_cast<int>(FfnPolicy::kNone));
}

TEST(Synthetic, RejectsBadSpecs) {
  const std::vector<std::function<void(SyntheticSpec&)>> spoils = {
      [](SyntheticSpec& s) { s.d_model = 0; },      [](SyntheticSpec& s) { s.n_heads = 3; },
      [](SyntheticSpec& s) { s.d_ff = 0; },         [](SyntheticSpec& s) { s.n_tokens = 0; },
      [](SyntheticSpec& s) { s.n_valid = 33; },     [](SyntheticSpec& s) { s.n_valid = 0; },
      [](SyntheticSpec& s) { s.similarity = 1.0; }, [](SyntheticSpec& s) { s.similarity = -0.1; },
  };
  for (size_t i = 0; i < spoils.size(); ++i) {
    SyntheticSpec spec;
    spoils[i](spec);
    EXPECT_THROW(MakeSyntheticLayer(spec), std::invalid_argument) << "case " << i;
  }
}

}  // namespace
}  // namespace esact
