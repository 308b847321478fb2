#include "golden/network.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "golden/engines.h"
#include "golden/quant.h"

namespace esact {
namespace {

std::vector<int> AllRows(int n) {
  std::vector<int> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

// x (int8 at scale from) in the scale `to`; the identity when the scales agree, which they
// do between calibrated layers (layer l's y and layer l+1's x see the same tensor).
Matrix<int8_t> Rescale(const Matrix<int8_t>& x, float from, float to) {
  return from == to ? x : QuantizeTensor(DequantizeTensor(x, from), to);
}

// Runs one layer of a dense, SPLS or Sanger-style network on x (n_valid = x.rows).
LayerResult RunMethodLayer(const LayerParams& p, const Matrix<int8_t>& x, const MethodConfig& m,
                           NetworkCounts& counts) {
  const int n = x.rows;
  LayerResult r;
  switch (m.method) {
    case Method::kDense:
    case Method::kSpatten: {
      SplsConfig dense = SplsConfigFor(MethodConfig{}, n);
      dense.enabled = false;
      r = RunLayer(p, x, n, dense);
      break;
    }
    case Method::kSpls:
      r = RunLayer(p, x, n, SplsConfigFor(m, n));
      counts.predictor_cost += kHlogProductCost * static_cast<double>(r.ops.predictor_ops);
      break;
    case Method::kSanger: {
      // Sanger predicts after generating Q and K, so Q, K and V stay dense.
      const std::vector<int> rows = AllRows(n);
      const SplsDecision dec = SangerDecision(p, LinearRows(x, p.q, rows), LinearRows(x, p.k, rows),
                                              n, m.sanger_threshold);
      r = RunLayerWithDecision(p, x, n, dec, FfnPolicy::kNone);
      for (int c : {kCompQ, kCompK, kCompV}) r.ops.executed[c] = r.ops.dense[c];
      counts.predictor_cost += kInt4MacCost * static_cast<double>(n) * n * p.d_model;
      break;
    }
  }
  for (int c = 0; c < kNumComponents; ++c) {
    counts.ops.dense[c] += r.ops.dense[c];
    counts.ops.executed[c] += r.ops.executed[c];
  }
  return r;
}

// The SpAtten-style cascade: layer l >= 1 runs only the ceil(keep^l * n) tokens of highest
// importance accumulated over the earlier layers (ties to the lower index); a pruned
// token keeps its last hidden state, which the mean pooling still sees.
Matrix<int8_t> RunSpatten(const QuantizedNetwork& qnet, Matrix<int8_t> x, const MethodConfig& m,
                          NetworkCounts& counts) {
  const int n = x.rows;
  std::vector<double> importance(n, 0.0);
  std::vector<int> active = AllRows(n);
  for (size_t l = 0; l < qnet.layers.size(); ++l) {
    const LayerParams& p = qnet.layers[l];
    if (l > 0) {
      x = Rescale(x, qnet.layers[l - 1].y_scale, p.x_scale);
      const int keep = std::max(
          1, static_cast<int>(std::ceil(std::pow(m.spatten_keep, static_cast<double>(l)) * n)));
      if (keep < static_cast<int>(active.size())) {
        std::stable_sort(active.begin(), active.end(),
                         [&](int a, int b) { return importance[a] > importance[b]; });
        active.resize(keep);
        std::sort(active.begin(), active.end());
      }
    }
    const int na = static_cast<int>(active.size());
    Matrix<int8_t> xa(na, x.cols);
    for (int i = 0; i < na; ++i) std::copy_n(x.row(active[i]), x.cols, xa.row(i));
    const LayerResult r = RunMethodLayer(p, xa, m, counts);
    // The pruned tokens still count in the dense layer the baseline is compared with.
    OpCounts full;
    CountDenseOps(p, n, full);
    for (int c = 0; c < kNumComponents; ++c) counts.ops.dense[c] += full.dense[c] - r.ops.dense[c];

    std::vector<double> local(na, 0.0);
    AccumulateImportance(p, r.q, r.k, na, local);
    counts.predictor_cost += kAddCost * static_cast<double>(p.n_heads) * na * na;
    for (int i = 0; i < na; ++i) {
      importance[active[i]] += local[i];
      std::copy_n(r.y.row(i), x.cols, x.row(active[i]));
    }
    // Pruned rows are carried in this layer's output scale.
    if (na < n) {
      std::vector<uint8_t> is_active(n, 0);
      for (int a : active) is_active[a] = 1;
      for (int i = 0; i < n; ++i) {
        if (is_active[i]) continue;
        Matrix<int8_t> row(1, x.cols);
        std::copy_n(x.row(i), x.cols, row.row(0));
        row = Rescale(row, p.x_scale, p.y_scale);
        std::copy_n(row.row(0), x.cols, x.row(i));
      }
    }
  }
  return x;
}

}  // namespace

QuantizedNetwork QuantizeNetwork(const FloatNetwork& net,
                                 const std::vector<std::vector<int>>& calib_ids) {
  if (calib_ids.empty()) throw std::invalid_argument("QuantizeNetwork: no calibration input");
  std::vector<std::vector<CalibrationInput>> inputs(net.n_layers);
  for (const std::vector<int>& ids : calib_ids) {
    const int n = static_cast<int>(ids.size());
    Matrix<float> x = EmbedTokens(net, ids, n);
    for (int l = 0; l < net.n_layers; ++l) {
      inputs[l].push_back({x, n});
      x = RunLayerFloat(net.layers[l], x, n);
    }
  }
  QuantizedNetwork q;
  for (int l = 0; l < net.n_layers; ++l)
    q.layers.push_back(QuantizeLayer(net.layers[l], inputs[l]));
  return q;
}

const char* MethodName(Method m) {
  switch (m) {
    case Method::kDense:
      return "int8_dense";
    case Method::kSpls:
      return "spls";
    case Method::kSanger:
      return "sanger";
    case Method::kSpatten:
      return "spatten";
  }
  return "unknown";
}

SplsConfig SplsConfigFor(const MethodConfig& m, int n_valid) {
  SplsConfig cfg = DefaultSplsConfig(n_valid);
  cfg.k = std::clamp(static_cast<int>(std::ceil(m.k_frac * n_valid)), 1, n_valid);
  cfg.t = static_cast<int>(std::ceil(m.t_frac * cfg.k));
  cfg.w = m.w;
  cfg.hlog_bits = m.hlog_bits;
  cfg.ffn = m.ffn;
  return cfg;
}

double NetworkCounts::ComputationRemoved() const {
  const double dense = static_cast<double>(ops.DenseTotal());
  return dense == 0 ? 0.0
                    : 1.0 - (static_cast<double>(ops.ExecutedTotal()) + predictor_cost) / dense;
}

double NetworkCounts::MacsRemoved() const { return ops.RemovedFraction(); }

void NetworkCounts::Add(const NetworkCounts& o) {
  for (int c = 0; c < kNumComponents; ++c) {
    ops.dense[c] += o.ops.dense[c];
    ops.executed[c] += o.ops.executed[c];
  }
  predictor_cost += o.predictor_cost;
}

NetworkRun RunNetworkInt8(const FloatNetwork& net, const QuantizedNetwork& qnet,
                          const std::vector<int>& ids, const MethodConfig& method) {
  if (qnet.layers.size() != static_cast<size_t>(net.n_layers)) {
    throw std::invalid_argument(fmt::format("RunNetworkInt8: {} quantized layers for {}",
                                            qnet.layers.size(), net.n_layers));
  }
  const int n = static_cast<int>(ids.size());
  Matrix<int8_t> x = QuantizeTensor(EmbedTokens(net, ids, n), qnet.layers[0].x_scale);
  NetworkRun run;
  if (method.method == Method::kSpatten) {
    x = RunSpatten(qnet, x, method, run.counts);
  } else {
    for (size_t l = 0; l < qnet.layers.size(); ++l) {
      const LayerParams& p = qnet.layers[l];
      if (l > 0) x = Rescale(x, qnet.layers[l - 1].y_scale, p.x_scale);
      x = RunMethodLayer(p, x, method, run.counts).y;
    }
  }
  run.embedding = MeanPoolNormalize(DequantizeTensor(x, qnet.layers.back().y_scale), n);
  return run;
}

SplsDecision SangerDecision(const LayerParams& p, const Matrix<int8_t>& q, const Matrix<int8_t>& k,
                            int n_valid, double threshold) {
  const int n_tokens = q.rows;
  const int dh = p.d_head();
  // softmax_rq holds s_q s_k / sqrt(dh) * log2(e) * 2^F; a 4-bit product stands for 256
  // int8 ones.
  const double to_logit = 256.0 * std::ldexp(p.softmax_rq.mult, -p.softmax_rq.shift) /
                          (std::log2(std::exp(1.0)) * (1 << kSoftmaxFracBits));
  const auto to4 = [](const Matrix<int8_t>& m) {
    Matrix<int8_t> out(m.rows, m.cols);
    for (size_t e = 0; e < m.data.size(); ++e) {
      out.data[e] = static_cast<int8_t>(std::clamp<int64_t>(RoundShift(m.data[e], 4), -8, 7));
    }
    return out;
  };
  const Matrix<int8_t> q4 = to4(q);
  const Matrix<int8_t> k4 = to4(k);
  SplsDecision d;
  d.heads.resize(p.n_heads);
  std::vector<double> z(n_valid);
  for (int h = 0; h < p.n_heads; ++h) {
    HeadDecision& hd = d.heads[h];
    hd.spa.assign(n_tokens, IndexSet{});
    hd.reuse.assign(n_tokens, -1);
    for (int i = 0; i < n_valid; ++i) {
      for (int j = 0; j < n_valid; ++j) {
        int s = 0;
        for (int c = h * dh; c < (h + 1) * dh; ++c) s += q4.at(i, c) * k4.at(j, c);
        z[j] = s * to_logit;
      }
      const int best = static_cast<int>(std::max_element(z.begin(), z.end()) - z.begin());
      double sum = 0.0;
      for (double v : z) sum += std::exp(v - z[best]);
      for (int j = 0; j < n_valid; ++j) {
        if (j == best || std::exp(z[j] - z[best]) / sum > threshold) hd.spa[i].push_back(j);
      }
      hd.reuse[i] = i;
    }
    hd.needed_kv = NeededKv(hd.spa, hd.reuse, n_tokens);
  }
  d.token_anchor = TokenAnchors(d.heads, n_tokens, n_valid);
  return d;
}

void AttentionRow(const LayerParams& p, const Matrix<int8_t>& q, const Matrix<int8_t>& k,
                  int n_valid, int head, int i, uint8_t* prob) {
  const int c0 = head * p.d_head();
  std::vector<int32_t> scores(n_valid);
  for (int j = 0; j < n_valid; ++j) {
    int32_t s = 0;
    for (int c = c0; c < c0 + p.d_head(); ++c) s += int32_t{q.at(i, c)} * k.at(j, c);
    scores[j] = s;
  }
  IntSoftmax(scores.data(), n_valid, p.softmax_rq, prob);
}

void AccumulateImportance(const LayerParams& p, const Matrix<int8_t>& q, const Matrix<int8_t>& k,
                          int n_valid, std::vector<double>& importance) {
  std::vector<uint8_t> prob(n_valid);
  for (int h = 0; h < p.n_heads; ++h) {
    for (int i = 0; i < n_valid; ++i) {
      AttentionRow(p, q, k, n_valid, h, i, prob.data());
      for (int j = 0; j < n_valid; ++j) importance[j] += prob[j] / 256.0;
    }
  }
}

}  // namespace esact
