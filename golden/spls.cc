#include "golden/spls.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

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
  Matrix<HlogCode> out(m.rows, m.cols);
  for (size_t i = 0; i < m.data.size(); ++i) out.data[i] = HlogEncode(m.data[i], bits, round);
  return out;
}

Matrix<int32_t> PredictProject(const Matrix<HlogCode>& x_hat, const Matrix<HlogCode>& w_hat,
                               int n_valid) {
  if (x_hat.cols != w_hat.rows) throw std::invalid_argument("PredictProject: shape mismatch");
  Matrix<int32_t> out(x_hat.rows, w_hat.cols);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < w_hat.cols; ++c) {
      out.at(i, c) = HlogDot(x_hat.row(i), 1, &w_hat.data[c], w_hat.cols, x_hat.cols);
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
  Matrix<int32_t> pam(n, n);
  for (int i = 0; i < n_valid; ++i) {
    for (int j = 0; j < n_valid; ++j) {
      pam.at(i, j) = HlogDot(q_hat.row(i) + c0, 1, k_hat.row(j) + c0, 1, d_head);
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
        ShiftProblem("k_shift", weights.k_shift)}) {
    if (!e.empty()) return e;
  }
  if (n_valid < 0 || n_valid > x.rows) {
    return fmt::format("n_valid ({}) outside [0, x.rows = {}]", n_valid, x.rows);
  }
  return "";
}

}  // namespace

SplsDecision Predict(const Matrix<int8_t>& x, int n_valid, int n_heads,
                     const PredictorWeights& weights, const SplsConfig& cfg) {
  if (const std::string e = PredictArgumentProblem(x, n_valid, n_heads, weights, cfg); !e.empty()) {
    throw std::invalid_argument("Predict: " + e);
  }
  const int n = x.rows;
  const int d_head = x.cols / n_heads;
  const Matrix<HlogCode> x_hat = HlogQuantMatrix(x, cfg.hlog_bits, cfg.round);
  const Matrix<HlogCode> q_hat = PredictRequantMatrix(
      PredictProject(x_hat, weights.w_q_hat, n_valid), weights.q_shift, cfg.hlog_bits, cfg.round);
  const Matrix<HlogCode> k_hat = PredictRequantMatrix(
      PredictProject(x_hat, weights.w_k_hat, n_valid), weights.k_shift, cfg.hlog_bits, cfg.round);

  SplsDecision d;
  d.heads.resize(n_heads);
  for (int h = 0; h < n_heads; ++h) {
    HeadDecision& hd = d.heads[h];
    const Matrix<int32_t> pam = PredictPam(q_hat, k_hat, h, d_head, n_valid);
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
