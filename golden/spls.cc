#include "golden/spls.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace esact {

int DefaultTopK(int n_tokens) { return std::max(1, (n_tokens + 7) / 8); }

int DefaultThreshold(int k) { return (3 * k + 3) / 4; }

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

SplsDecision Predict(const Matrix<int8_t>& x, int n_valid, int n_heads,
                     const PredictorWeights& weights, const SplsConfig& cfg) {
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
