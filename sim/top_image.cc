// Byte layouts of docs/memory-layout.md; see top_image.h.
#include "sim/top_image.h"

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "golden/field_check.h"
#include "golden/hlog.h"

namespace esact::sim {
namespace {

// Fields of the HDR words and of a DEC record (docs/memory-layout.md).
constexpr int kHdrBytes = 64;
constexpr int kHdrWords = 16;
constexpr int kRqMultBits = 16, kRqShiftLsb = 16, kRqShiftBits = 6;
constexpr int kResMultBits = 16;
constexpr int kPredShiftBits = 5, kPredKShiftLsb = 8;
constexpr int kPwBiasBits = 32;
constexpr int kDecAnchorBits = 16, kDecTokenLsb = 16, kDecNeededBit = 32;
constexpr int kDecReservedLsb = 33, kDecReservedBits = 31, kDecMaskLsb = 64;
constexpr uint32_t kDecPadded = 0xFFFF;

[[noreturn]] void Fail(const std::string& what, const std::string& msg) {
  throw std::invalid_argument(what + ": " + msg);
}

void Require(const std::string& what, const FieldProblem& problem) {
  if (problem) Fail(what, problem.Message());
}

void CheckGeometry(const std::string& what, const TopGeometry& g) {
  if (g.lanes < 1 || 256 % g.lanes != 0) {
    Fail(what, fmt::format("lanes {} does not divide 256", g.lanes));
  }
  Require(what, CheckAtLeast("data_bytes", g.data_bytes, 1));
  Require(what, CheckRange("n_max", g.n_max, 1, kDecPadded));
  if (g.pred_lanes < g.lanes || g.pred_lanes % g.lanes != 0) {
    Fail(what, fmt::format("pred_lanes {} is not a positive multiple of lanes {}", g.pred_lanes,
                           g.lanes));
  }
}

// Bits [lsb +: width] of a little-endian word; the word starts zeroed, so OR is a write.
void PutBits(uint8_t* word, int64_t lsb, int width, uint64_t value) {
  for (int i = 0; i < width; ++i) {
    if ((value >> i) & 1u) word[(lsb + i) / 8] |= static_cast<uint8_t>(1u << ((lsb + i) % 8));
  }
}

uint64_t GetBits(const uint8_t* word, int64_t lsb, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    v |= static_cast<uint64_t>((word[(lsb + i) / 8] >> ((lsb + i) % 8)) & 1u) << i;
  }
  return v;
}

void Put32(uint8_t* p, uint32_t v) { PutBits(p, 0, 32, v); }

uint32_t RequantWord(const std::string& field, const Requant& rq) {
  Require("weight image", CheckRange(field + ".mult", rq.mult, 0, (1 << kRqMultBits) - 1));
  Require("weight image", CheckRange(field + ".shift", rq.shift, 0, (1 << kRqShiftBits) - 1));
  return static_cast<uint32_t>(rq.mult) | static_cast<uint32_t>(rq.shift) << kRqShiftLsb;
}

uint32_t ResidualWord(const std::string& field, const ResidualScale& rs) {
  const int64_t max = (int64_t{1} << kResMultBits) - 1;
  Require("weight image", CheckRange(field + ".mult_a", rs.mult_a, 0, max));
  Require("weight image", CheckRange(field + ".mult_b", rs.mult_b, 0, max));
  return static_cast<uint32_t>(rs.mult_a) | static_cast<uint32_t>(rs.mult_b) << kResMultBits;
}

void CheckMatrix(const std::string& field, int rows, int cols, int want_rows, int want_cols) {
  Require("weight image", CheckEqual(field + ".rows", rows, "rows", want_rows));
  Require("weight image", CheckEqual(field + ".cols", cols, "cols", want_cols));
}

void CheckLinear(const std::string& name, const QuantLinear& lin, int in, int out) {
  CheckMatrix("params." + name + ".w", lin.w.rows, lin.w.cols, in, out);
  Require("weight image", CheckEqual("params." + name + ".bias size",
                                     static_cast<int64_t>(lin.bias.size()), "out", out));
}

// A DEC record's anchor field as a SplsDecision index: 0xFFFF (padded row) is -1.
int DecIndex(uint32_t field) { return field == kDecPadded ? -1 : static_cast<int>(field); }

}  // namespace

WeightImageLayout LayoutWeightImage(int d_model, int d_ff, const TopGeometry& g) {
  const std::string what = "weight image";
  CheckGeometry(what, g);
  Require(what, CheckRange("d_model", d_model, 1, kMaxLayerDim));
  Require(what, CheckRange("d_ff", d_ff, 1, kMaxLayerDim));
  if (d_model % g.lanes != 0) {
    Fail(what, fmt::format("d_model {} is not a multiple of lanes {}", d_model, g.lanes));
  }
  if (d_ff % g.lanes != 0) {
    Fail(what, fmt::format("d_ff {} is not a multiple of lanes {}", d_ff, g.lanes));
  }
  if (d_model % g.pred_lanes != 0) {
    Fail(what, fmt::format("d_model {} is not a multiple of pred_lanes {}", d_model, g.pred_lanes));
  }
  const int64_t d = d_model, f = d_ff, L = g.lanes, P = g.pred_lanes;
  WeightImageLayout w;
  w.hdr = {0, 1, kHdrBytes};
  w.prm = {kHdrBytes, (9 * d + f + 256) / L, 4 * L};
  w.wgt = {w.prm.offset + w.prm.bytes(), (4 * d * d + 2 * d * f) / L, L};
  w.pw = {w.wgt.offset + w.wgt.bytes(), 2 * d * d / P, 8 * ((5 * P + 32 + 63) / 64)};
  w.total_bytes = w.pw.offset + w.pw.bytes();
  return w;
}

int64_t WeightImageBytes(int d_model, int d_ff, const TopGeometry& g) {
  return LayoutWeightImage(d_model, d_ff, g).total_bytes;
}

int DecisionRecordBytes(const TopGeometry& g) {
  CheckGeometry("decision record", g);
  const int bits_per_beat = 8 * g.data_bytes;
  return g.data_bytes * ((64 + g.n_max + bits_per_beat - 1) / bits_per_beat);
}

int64_t DecisionBytes(int heads, int n_tokens, const TopGeometry& g) {
  const int r = DecisionRecordBytes(g);
  Require("decisions", CheckAtLeast("heads", heads, 1));
  Require("decisions", CheckRange("n_tokens", n_tokens, 1, g.n_max));
  return int64_t{heads} * n_tokens * r;
}

std::vector<uint8_t> PackWeightImage(const LayerParams& p, const PredictorWeights& pw,
                                     const TopGeometry& g) {
  const WeightImageLayout lay = LayoutWeightImage(p.d_model, p.d_ff, g);
  const int d = p.d_model, f = p.d_ff, L = g.lanes;
  if (p.n_heads < 1 || d % p.n_heads != 0) {
    Fail("weight image", fmt::format("params.n_heads {} does not divide d_model {}", p.n_heads, d));
  }
  CheckLinear("q", p.q, d, d);
  CheckLinear("k", p.k, d, d);
  CheckLinear("v", p.v, d, d);
  CheckLinear("o", p.o, d, d);
  CheckLinear("ffn1", p.ffn1, d, f);
  CheckLinear("ffn2", p.ffn2, f, d);
  for (const auto& [name, size] :
       {std::pair<const char*, size_t>{"params.ln1.gamma", p.ln1.gamma.size()},
        {"params.ln1.beta", p.ln1.beta.size()},
        {"params.ln2.gamma", p.ln2.gamma.size()},
        {"params.ln2.beta", p.ln2.beta.size()}}) {
    Require("weight image",
            CheckEqual(std::string(name) + " size", static_cast<int64_t>(size), "d_model", d));
  }
  CheckMatrix("predictor.w_q_hat", pw.w_q_hat.rows, pw.w_q_hat.cols, d, d);
  CheckMatrix("predictor.w_k_hat", pw.w_k_hat.rows, pw.w_k_hat.cols, d, d);
  for (const auto* bias : {&pw.q_bias, &pw.k_bias}) {
    if (!bias->empty() && static_cast<int>(bias->size()) != d) {
      Fail("weight image", fmt::format("predictor {} has {} entries, not 0 or d_model {}",
                                       bias == &pw.q_bias ? "q_bias" : "k_bias", bias->size(), d));
    }
  }
  Require("weight image",
          CheckRange("params.pred_q_shift", p.pred_q_shift, 0, (1 << kPredShiftBits) - 1));
  Require("weight image",
          CheckRange("params.pred_k_shift", p.pred_k_shift, 0, (1 << kPredShiftBits) - 1));

  std::vector<uint8_t> img(static_cast<size_t>(lay.total_bytes), 0);

  // HDR: sixteen 32-bit words; 13..15 stay 0.
  const uint32_t hdr[kHdrWords] = {
      RequantWord("params.q.rq", p.q.rq),
      RequantWord("params.k.rq", p.k.rq),
      RequantWord("params.v.rq", p.v.rq),
      RequantWord("params.o.rq", p.o.rq),
      RequantWord("params.ffn1.rq", p.ffn1.rq),
      RequantWord("params.ffn2.rq", p.ffn2.rq),
      RequantWord("params.softmax_rq", p.softmax_rq),
      RequantWord("params.ctx_rq", p.ctx_rq),
      RequantWord("params.ln1.rq", p.ln1.rq),
      RequantWord("params.ln2.rq", p.ln2.rq),
      ResidualWord("params.res1", p.res1),
      ResidualWord("params.res2", p.res2),
      static_cast<uint32_t>(p.pred_q_shift) | static_cast<uint32_t>(p.pred_k_shift)
                                                  << kPredKShiftLsb,
  };
  for (int w = 0; w < kHdrWords; ++w) Put32(&img[lay.hdr.offset + 4 * w], hdr[w]);

  // PRM: lane l of word k is entry kL + l, so each part is its entries as consecutive int32.
  uint8_t* prm = &img[lay.prm.offset];
  auto put_entry = [&prm](uint32_t v) {
    Put32(prm, v);
    prm += 4;
  };
  for (const QuantLinear* lin : {&p.q, &p.k, &p.v, &p.o, &p.ffn1, &p.ffn2}) {
    for (int32_t b : lin->bias) put_entry(static_cast<uint32_t>(b));
  }
  for (const LnParams* ln : {&p.ln1, &p.ln2}) {
    for (int16_t gm : ln->gamma) put_entry(static_cast<uint16_t>(gm));  // upper 16 bits 0
    for (int32_t bt : ln->beta) put_entry(static_cast<uint32_t>(bt));
  }
  for (int8_t v : p.gelu_lut) put_entry(static_cast<uint8_t>(v));  // upper 24 bits 0

  // WGT: each matrix column-tile major, word jK + k = W[k][jL .. jL + L - 1].
  uint8_t* wgt = &img[lay.wgt.offset];
  for (const QuantLinear* lin : {&p.q, &p.k, &p.v, &p.o, &p.ffn1, &p.ffn2}) {
    const Matrix<int8_t>& m = lin->w;
    for (int j = 0; j < m.cols / L; ++j) {
      for (int k = 0; k < m.rows; ++k) {
        for (int l = 0; l < L; ++l) *wgt++ = static_cast<uint8_t>(m.at(k, j * L + l));
      }
    }
  }

  // PW: the predictor's W stream, per head the dh columns of W^_K, then those of W^_Q.
  const int dh = d / p.n_heads;
  const int P = g.pred_lanes;
  const int words_per_col = d / P;
  int64_t word = 0;
  for (int h = 0; h < p.n_heads; ++h) {
    using Half = std::pair<const Matrix<HlogCode>*, const std::vector<int32_t>*>;
    for (const auto& [w_hat, bias] :
         {Half{&pw.w_k_hat, &pw.k_bias}, Half{&pw.w_q_hat, &pw.q_bias}}) {
      for (int c = 0; c < dh; ++c) {
        const int col = h * dh + c;
        const int32_t b = bias->empty() ? 0 : (*bias)[col];
        for (int k = 0; k < words_per_col; ++k, ++word) {
          uint8_t* pwd = &img[lay.pw.offset + word * lay.pw.word_bytes];
          PutBits(pwd, 0, kPwBiasBits, static_cast<uint32_t>(b));
          for (int l = 0; l < P; ++l) {
            // An HlogCode is the 5-bit code itself, as the predictor's w_data_i carries it.
            const HlogCode code = w_hat->at(k * P + l, col);
            if (HlogNeverProduced(code)) {
              Fail("weight image",
                   fmt::format("predictor HLog code 0x{:02x} at ({}, {}) is not a valid code", code,
                               k * P + l, col));
            }
            PutBits(pwd, kPwBiasBits + kHlogCodeBits * l, kHlogCodeBits, code);
          }
        }
      }
    }
  }
  return img;
}

std::vector<uint8_t> PackActivations(const Matrix<int8_t>& x) {
  return std::vector<uint8_t>(x.data.begin(), x.data.end());
}

Matrix<int8_t> UnpackActivations(const std::vector<uint8_t>& bytes, size_t offset, int n, int d) {
  Require("activations", CheckAtLeast("n", n, 0));
  Require("activations", CheckAtLeast("d", d, 0));
  const size_t size = static_cast<size_t>(n) * d;
  if (offset > bytes.size() || bytes.size() - offset < size) {
    Fail("activations", fmt::format("{} x {} bytes at offset {} pass the end of a {}-byte buffer",
                                    n, d, offset, bytes.size()));
  }
  Matrix<int8_t> x(n, d);
  for (size_t e = 0; e < size; ++e) x.data[e] = static_cast<int8_t>(bytes[offset + e]);
  return x;
}

std::vector<uint8_t> PackDecisions(const SplsDecision& dec, int n_tokens, int n_valid,
                                   const TopGeometry& g) {
  const int heads = static_cast<int>(dec.heads.size());
  const int64_t total = DecisionBytes(heads, n_tokens, g);
  const int r = DecisionRecordBytes(g);
  Require("decisions", CheckRange("n_valid", n_valid, 0, n_tokens));
  Require("decisions",
          CheckEqual("token_anchor size", static_cast<int64_t>(dec.token_anchor.size()), "n_tokens",
                     n_tokens));
  std::vector<uint8_t> out(static_cast<size_t>(total), 0);
  for (int h = 0; h < heads; ++h) {
    const HeadDecision& hd = dec.heads[h];
    const std::string head = fmt::format("decision head {}", h);
    for (const auto& [name, size] : {std::pair<const char*, size_t>{"spa", hd.spa.size()},
                                     {"reuse", hd.reuse.size()},
                                     {"needed_kv", hd.needed_kv.size()}}) {
      Require(head, CheckEqual(std::string(name) + " size", static_cast<int64_t>(size), "n_tokens",
                               n_tokens));
    }
    for (int i = 0; i < n_tokens; ++i) {
      const std::string where = fmt::format("decision head {} row {}", h, i);
      const bool valid = i < n_valid;
      const int lo = valid ? 0 : -1, hi = valid ? n_valid - 1 : -1;
      Require(where, CheckRange("reuse", hd.reuse[i], lo, hi));
      Require(where, CheckRange("token_anchor", dec.token_anchor[i], lo, hi));
      Require(where, CheckRange("needed_kv", hd.needed_kv[i], 0, valid ? 1 : 0));
      uint8_t* rec = &out[static_cast<size_t>(h * n_tokens + i) * r];
      PutBits(rec, 0, kDecAnchorBits, valid ? hd.reuse[i] : kDecPadded);
      PutBits(rec, kDecTokenLsb, kDecAnchorBits, valid ? dec.token_anchor[i] : kDecPadded);
      PutBits(rec, kDecNeededBit, 1, hd.needed_kv[i]);
      if (!valid && !hd.spa[i].empty()) Fail(where, "padded row has a non-empty spa");
      int prev = -1;
      for (int j : hd.spa[i]) {
        if (j <= prev || j >= n_valid) {
          Fail(where, fmt::format("spa key {} is not ascending within [0, {})", j, n_valid));
        }
        PutBits(rec, kDecMaskLsb + j, 1, 1);
        prev = j;
      }
    }
  }
  return out;
}

SplsDecision UnpackDecisions(const std::vector<uint8_t>& bytes, size_t offset, int heads,
                             int n_tokens, int n_valid, const TopGeometry& g) {
  const int64_t total = DecisionBytes(heads, n_tokens, g);
  const int r = DecisionRecordBytes(g);
  Require("decisions", CheckRange("n_valid", n_valid, 0, n_tokens));
  if (offset > bytes.size() || static_cast<int64_t>(bytes.size() - offset) < total) {
    Fail("decisions", fmt::format("{} bytes at offset {} pass the end of a {}-byte buffer", total,
                                  offset, bytes.size()));
  }
  SplsDecision dec;
  dec.heads.resize(heads);
  dec.token_anchor.assign(n_tokens, -1);
  for (int h = 0; h < heads; ++h) {
    HeadDecision& hd = dec.heads[h];
    hd.spa.assign(n_tokens, IndexSet{});
    hd.reuse.assign(n_tokens, -1);
    hd.needed_kv.assign(n_tokens, 0);
    for (int i = 0; i < n_tokens; ++i) {
      const std::string where = fmt::format("DEC record head {} row {}", h, i);
      const uint8_t* rec = &bytes[offset + static_cast<size_t>(h * n_tokens + i) * r];
      const bool valid = i < n_valid;
      const uint32_t anchor = static_cast<uint32_t>(GetBits(rec, 0, kDecAnchorBits));
      const uint32_t token = static_cast<uint32_t>(GetBits(rec, kDecTokenLsb, kDecAnchorBits));
      const int needed = static_cast<int>(GetBits(rec, kDecNeededBit, 1));
      if (const uint64_t rsv = GetBits(rec, kDecReservedLsb, kDecReservedBits); rsv != 0) {
        Fail(where, fmt::format("reserved bits 63:33 are 0x{:x}, not 0", rsv));
      }
      if (valid) {
        Require(where, CheckRange("reuse anchor", anchor, 0, n_valid - 1));
        Require(where, CheckRange("token anchor", token, 0, n_valid - 1));
      } else {
        if (anchor != kDecPadded || token != kDecPadded || needed != 0) {
          Fail(where, fmt::format("padded row has reuse anchor 0x{:x}, token anchor 0x{:x}, "
                                  "needed {} (want 0xffff, 0xffff, 0)",
                                  anchor, token, needed));
        }
      }
      for (int j = 0; kDecMaskLsb + j < 8 * r; ++j) {
        if (GetBits(rec, kDecMaskLsb + j, 1) == 0) continue;
        if (j >= n_valid) {
          Fail(where, fmt::format("SPA mask bit {} (key {}) is set at or past n_valid {}",
                                  kDecMaskLsb + j, j, n_valid));
        }
        hd.spa[i].push_back(j);
      }
      hd.reuse[i] = DecIndex(anchor);
      hd.needed_kv[i] = static_cast<uint8_t>(needed);
      if (h == 0) {
        dec.token_anchor[i] = DecIndex(token);
      } else if (DecIndex(token) != dec.token_anchor[i]) {
        Fail(where, fmt::format("token anchor {} differs from head 0's {}", DecIndex(token),
                                dec.token_anchor[i]));
      }
    }
  }
  return dec;
}

}  // namespace esact::sim
