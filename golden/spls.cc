#include "golden/spls.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "golden/layer.h"  // MaxLinearBias

namespace esact {

int DefaultTopK(int n_tokens) { return std::max(1, (n_tokens + 7) / 8); }

int DefaultThreshold(int k) { return (3 * k + 3) / 4; }

SplsConfig DefaultSplsConfig(int n_valid) {
  SplsConfig cfg;
  cfg.enabled = true;
  cfg.hlog_bits = kHlogMaxBits;
  cfg.round = HlogRound::kTowardZero;
  cfg.k = DefaultTopK(n_valid);
  cfg.w = 2;
  cfg.t = DefaultThreshold(cfg.k);
  cfg.ffn = FfnPolicy::kNone;
  return cfg;
}

FieldProblem CheckSplsConfig(const SplsConfig& cfg, int n_tokens) {
  if (auto e = CheckRange("spls.hlog_bits", cfg.hlog_bits, kHlogMinBits, kHlogMaxBits)) return e;
  if (auto e = CheckRange("spls.k", cfg.k, 1, n_tokens)) return e;
  if (auto e = CheckAtLeast("spls.w", cfg.w, 0)) return e;
  return CheckAtLeast("spls.t", cfg.t, 0);
}

Matrix<HlogCode> HlogQuantMatrix(const Matrix<int8_t>& m, int bits, HlogRound round) {
  // HlogEncode once per int8 value rather than once per element (a weight matrix has many).
  std::array<HlogCode, 256> code_of{};
  for (int v = -128; v <= 127; ++v) code_of[static_cast<uint8_t>(v)] = HlogEncode(v, bits, round);
  Matrix<HlogCode> out(m.rows, m.cols);
  for (size_t i = 0; i < m.data.size(); ++i) out.data[i] = code_of[static_cast<uint8_t>(m.data[i])];
  return out;
}

namespace {

// Throws std::invalid_argument, as HlogDot would, if rows [0, n_rows) of m hold a code
// that HlogNeverProduced names in columns [c0, c1): the product table (HlogProductValues)
// has no entry for those.
void CheckCodes(const char* what, const Matrix<HlogCode>& m, int n_rows, int c0, int c1) {
  for (int i = 0; i < n_rows; ++i) {
    for (int c = c0; c < c1; ++c) {
      if (HlogNeverProduced(m.at(i, c))) {
        throw std::invalid_argument(
            fmt::format("{}[{}, {}] = 0x{:02x} is not an HLog code", what, i, c, m.at(i, c)));
      }
    }
  }
}

}  // namespace

// PredictProject and PredictPam equal their HlogDot definition (spls.h) exactly, though
// they sum in another order: each product is the table entry
// HlogProductValue(HlogMultiply(a, b)), and no partial sum can overflow int32 whatever the
// order (its magnitude is at most 2^14 times the number of products, docs/spls.md section 3).
Matrix<int32_t> PredictProject(const Matrix<HlogCode>& x_hat, const Matrix<HlogCode>& w_hat,
                               int n_valid) {
  if (x_hat.cols != w_hat.rows) throw std::invalid_argument("PredictProject: shape mismatch");
  CheckCodes("PredictProject: x_hat", x_hat, n_valid, 0, x_hat.cols);
  if (n_valid > 0) CheckCodes("PredictProject: w_hat", w_hat, w_hat.rows, 0, w_hat.cols);
  const HlogProductTable& product = HlogProductValues();
  Matrix<int32_t> out(x_hat.rows, w_hat.cols);
  // Output row i accumulates x_hat[i, k] times row k of w_hat, over k: w_hat is walked
  // along its rows, and x_hat[i, k] picks the one table row that every product uses.
  for (int i = 0; i < n_valid; ++i) {
    int32_t* out_row = out.row(i);
    for (int k = 0; k < x_hat.cols; ++k) {
      const auto& times_x = product[x_hat.at(i, k)];
      const HlogCode* w_row = w_hat.row(k);
      for (int c = 0; c < w_hat.cols; ++c) out_row[c] += times_x[w_row[c]];
    }
  }
  return out;
}

HlogCode PredictRequant(int32_t value, int shift, int bits, HlogRound round) {
  if (shift < 0 || shift > kPredMaxShift) {
    throw std::invalid_argument(
        fmt::format("PredictRequant: shift {} outside [0, {}]", shift, kPredMaxShift));
  }
  const int64_t mag = std::min<int64_t>(std::llabs(int64_t{value}) >> shift, kHlogMaxMagnitude);
  return HlogEncode(static_cast<int>(value < 0 ? -mag : mag), bits, round);
}

Matrix<HlogCode> PredictRequantMatrix(const Matrix<int32_t>& m, int shift, int bits,
                                      HlogRound round) {
  Matrix<HlogCode> out(m.rows, m.cols);
  for (size_t i = 0; i < m.data.size(); ++i)
    out.data[i] = PredictRequant(m.data[i], shift, bits, round);
  return out;
}

Matrix<int32_t> PredictPam(const Matrix<HlogCode>& q_hat, const Matrix<HlogCode>& k_hat, int head,
                           int d_head, int n_valid) {
  const int n = q_hat.rows;
  const int c0 = head * d_head;
  CheckCodes("PredictPam: q_hat", q_hat, n_valid, c0, c0 + d_head);
  CheckCodes("PredictPam: k_hat", k_hat, n_valid, c0, c0 + d_head);
  const HlogProductTable& product = HlogProductValues();
  Matrix<int32_t> pam(n, n);
  for (int i = 0; i < n_valid; ++i) {
    const HlogCode* q = q_hat.row(i) + c0;
    for (int j = 0; j < n_valid; ++j) {
      const HlogCode* k = k_hat.row(j) + c0;
      int32_t acc = 0;
      for (int e = 0; e < d_head; ++e) acc += product[q[e]][k[e]];
      pam.at(i, j) = acc;
    }
  }
  return pam;
}

IndexSet TopKRow(const int32_t* row, int n_valid, int k) {
  if (k < 1 || n_valid < 0) {
    throw std::invalid_argument(
        fmt::format("TopKRow: k ({}) must be >= 1 and n_valid ({}) >= 0", k, n_valid));
  }
  // A column beats another if its score is larger, or equal with a lower index.
  IndexSet order(n_valid);
  for (int j = 0; j < n_valid; ++j) order[j] = j;
  const int kk = std::min(k, n_valid);
  std::partial_sort(order.begin(), order.begin() + kk, order.end(),
                    [row](int a, int b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
  order.resize(kk);
  std::sort(order.begin(), order.end());
  return order;
}

int Overlap(const IndexSet& a, const IndexSet& b) {
  int n = 0;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] == b[j]) {
      ++n;
      ++i;
      ++j;
    } else if (a[i] < b[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return n;
}

std::vector<int> ReuseMap(const std::vector<IndexSet>& spa, int n_valid, int w, int t) {
  std::vector<int> reuse(spa.size(), -1);
  for (int i = 0; i < n_valid; ++i) {
    reuse[i] = i;
    int best = -1;
    // Nearest first, so a strictly larger overlap is needed to move further away.
    for (int j = i - 1; j >= std::max(0, i - w); --j) {
      if (reuse[j] != j) continue;  // only anchors: reuse never chains
      const int ov = Overlap(spa[i], spa[j]);
      if (ov >= t && ov > best) {
        best = ov;
        reuse[i] = j;
      }
    }
  }
  return reuse;
}

std::vector<uint8_t> NeededKv(const std::vector<IndexSet>& spa, const std::vector<int>& reuse,
                              int n_tokens) {
  std::vector<uint8_t> needed(n_tokens, 0);
  for (size_t i = 0; i < reuse.size(); ++i) {
    if (reuse[i] != static_cast<int>(i)) continue;
    for (int j : spa[i]) needed[j] = 1;
  }
  return needed;
}

std::vector<int> TokenAnchors(const std::vector<HeadDecision>& heads, int n_tokens, int n_valid) {
  std::vector<int> anchor(n_tokens, -1);
  for (int i = 0; i < n_valid; ++i) {
    const int a = heads.empty() ? i : heads[0].reuse[i];
    bool same = a != i;
    for (const HeadDecision& hd : heads) same = same && hd.reuse[i] == a;
    anchor[i] = same ? a : i;
  }
  return anchor;
}

namespace {

// "" or why an offline HLog weight does not fit a d-column input.
std::string WeightProblem(const char* name, const Matrix<HlogCode>& w, int d) {
  if (w.rows == d && w.cols == d && w.data.size() == static_cast<size_t>(d) * d) return "";
  return fmt::format("{} is {}x{} ({} elements), expected {}x{}", name, w.rows, w.cols,
                     w.data.size(), d, d);
}

std::string BiasProblem(const char* name, const std::vector<int32_t>& b, int d) {
  if (b.empty()) return "";
  if (b.size() != static_cast<size_t>(d)) {
    return fmt::format("{} has {} entries, expected {} or none", name, b.size(), d);
  }
  const int64_t max_bias = MaxLinearBias(d);
  for (size_t c = 0; c < b.size(); ++c) {
    if (std::abs(int64_t{b[c]}) > max_bias) {
      return fmt::format("{}[{}] = {} outside [{}, {}]", name, c, b[c], -max_bias, max_bias);
    }
  }
  return "";
}

// Q~ = X^ W^ + b (rows < n_valid), re-quantized.
Matrix<HlogCode> PredictOperand(const Matrix<HlogCode>& x_hat, const Matrix<HlogCode>& w_hat,
                                const std::vector<int32_t>& bias, int shift, int n_valid,
                                const SplsConfig& cfg) {
  Matrix<int32_t> t = PredictProject(x_hat, w_hat, n_valid);
  if (!bias.empty()) {
    for (int i = 0; i < n_valid; ++i) {
      for (int c = 0; c < t.cols; ++c) t.at(i, c) += bias[c];
    }
  }
  return PredictRequantMatrix(t, shift, cfg.hlog_bits, cfg.round);
}

std::string ShiftProblem(const char* name, int shift) {
  if (shift >= 0 && shift <= kPredMaxShift) return "";
  return fmt::format("{} ({}) outside [0, {}]", name, shift, kPredMaxShift);
}

// The first reason Predict cannot run on these arguments, or "".
std::string PredictArgumentProblem(const Matrix<int8_t>& x, int n_valid, int n_heads,
                                   const PredictorWeights& weights, const SplsConfig& cfg) {
  if (const FieldProblem e = CheckSplsConfig(cfg, x.rows)) return e.Message();
  if (n_heads < 1 || x.cols % n_heads != 0) {
    return fmt::format("n_heads ({}) must be >= 1 and divide x.cols ({})", n_heads, x.cols);
  }
  for (const std::string& e :
       {WeightProblem("w_q_hat", weights.w_q_hat, x.cols),
        WeightProblem("w_k_hat", weights.w_k_hat, x.cols), ShiftProblem("q_shift", weights.q_shift),
        ShiftProblem("k_shift", weights.k_shift), BiasProblem("q_bias", weights.q_bias, x.cols),
        BiasProblem("k_bias", weights.k_bias, x.cols)}) {
    if (!e.empty()) return e;
  }
  if (n_valid < 0 || n_valid > x.rows) {
    return fmt::format("n_valid ({}) outside [0, x.rows = {}]", n_valid, x.rows);
  }
  return "";
}

}  // namespace

PredictedQk PredictQk(const Matrix<int8_t>& x, int n_valid, const PredictorWeights& weights,
                      const SplsConfig& cfg) {
  if (const std::string e = PredictArgumentProblem(x, n_valid, 1, weights, cfg); !e.empty()) {
    throw std::invalid_argument("PredictQk: " + e);
  }
  const Matrix<HlogCode> x_hat = HlogQuantMatrix(x, cfg.hlog_bits, cfg.round);
  return {PredictOperand(x_hat, weights.w_q_hat, weights.q_bias, weights.q_shift, n_valid, cfg),
          PredictOperand(x_hat, weights.w_k_hat, weights.k_bias, weights.k_shift, n_valid, cfg)};
}

SplsDecision Predict(const Matrix<int8_t>& x, int n_valid, int n_heads,
                     const PredictorWeights& weights, const SplsConfig& cfg) {
  if (const std::string e = PredictArgumentProblem(x, n_valid, n_heads, weights, cfg); !e.empty()) {
    throw std::invalid_argument("Predict: " + e);
  }
  const int n = x.rows;
  const int d_head = x.cols / n_heads;
  const PredictedQk qk = PredictQk(x, n_valid, weights, cfg);
  SplsDecision d;
  d.heads.resize(n_heads);
  for (int h = 0; h < n_heads; ++h) {
    HeadDecision& hd = d.heads[h];
    const Matrix<int32_t> pam = PredictPam(qk.q_hat, qk.k_hat, h, d_head, n_valid);
    hd.spa.assign(n, IndexSet{});
    for (int i = 0; i < n_valid; ++i) hd.spa[i] = TopKRow(pam.row(i), n_valid, cfg.k);
    hd.reuse = ReuseMap(hd.spa, n_valid, cfg.w, cfg.t);
    hd.needed_kv = NeededKv(hd.spa, hd.reuse, n);
  }
  d.token_anchor = TokenAnchors(d.heads, n, n_valid);
  return d;
}

SplsDecision DenseDecision(int n_tokens, int n_valid, int n_heads) {
  IndexSet all(n_valid);
  for (int j = 0; j < n_valid; ++j) all[j] = j;
  HeadDecision hd;
  hd.spa.assign(n_tokens, IndexSet{});
  hd.reuse.assign(n_tokens, -1);
  for (int i = 0; i < n_valid; ++i) {
    hd.spa[i] = all;
    hd.reuse[i] = i;
  }
  hd.needed_kv = NeededKv(hd.spa, hd.reuse, n_tokens);
  SplsDecision d;
  d.heads.assign(n_heads, hd);
  d.token_anchor = TokenAnchors(d.heads, n_tokens, n_valid);
  return d;
}

}  // namespace esact
