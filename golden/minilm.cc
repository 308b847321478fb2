#include "golden/minilm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace esact {
namespace {

FieldProblem CheckFinite(const std::string& field, const std::vector<float>& v, int cols) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return {field,
              cols > 0 ? fmt::format("element ({}, {}) is not finite: {}", i / cols, i % cols, v[i])
                       : fmt::format("element {} is not finite: {}", i, v[i])};
    }
  }
  return {};
}

FieldProblem CheckMatrix(const std::string& field, const Matrix<float>& m,
                         const std::string& rows_name, int rows, const std::string& cols_name,
                         int cols) {
  if (auto e = CheckEqual(field + ".rows", m.rows, rows_name, rows)) return e;
  if (auto e = CheckEqual(field + ".cols", m.cols, cols_name, cols)) return e;
  return CheckFinite(field, m.data, m.cols);
}

FieldProblem CheckVector(const std::string& field, const std::vector<float>& v,
                         const std::string& size_name, int size) {
  if (auto e = CheckEqual(field + ".size", static_cast<int64_t>(v.size()), size_name, size)) {
    return e;
  }
  return CheckFinite(field, v, 0);
}

FieldProblem CheckLinear(const std::string& field, const FloatLinear& l, const std::string& in_name,
                         int in, const std::string& out_name, int out) {
  if (auto e = CheckMatrix(field + ".w", l.w, in_name, in, out_name, out)) return e;
  return CheckVector(field + ".bias", l.bias, out_name, out);
}

FieldProblem CheckNetworkLayer(const FloatNetwork& net, int index) {
  const FloatLayer& l = net.layers[index];
  const std::string p = fmt::format("layers[{}]", index);
  // The copies of the configuration RunLayerFloat reads (not stored in the file).
  if (auto e = CheckEqual(p + ".d_model", l.d_model, "config.d_model", net.d_model)) return e;
  if (auto e = CheckEqual(p + ".n_heads", l.n_heads, "config.n_heads", net.n_heads)) return e;
  if (auto e = CheckEqual(p + ".d_ff", l.d_ff, "config.d_ff", net.d_ff)) return e;
  if (l.ln_eps != net.ln_eps) {
    return {p + ".ln_eps",
            fmt::format("{} does not equal config.ln_eps ({})", l.ln_eps, net.ln_eps)};
  }
  const std::string d = "config.d_model", dff = "config.d_ff";
  const int dm = net.d_model;
  if (auto e = CheckLinear(p + ".q", l.q, d, dm, d, dm)) return e;
  if (auto e = CheckLinear(p + ".k", l.k, d, dm, d, dm)) return e;
  if (auto e = CheckLinear(p + ".v", l.v, d, dm, d, dm)) return e;
  if (auto e = CheckLinear(p + ".o", l.o, d, dm, d, dm)) return e;
  if (auto e = CheckLinear(p + ".ffn1", l.ffn1, d, dm, dff, net.d_ff)) return e;
  if (auto e = CheckLinear(p + ".ffn2", l.ffn2, dff, net.d_ff, d, dm)) return e;
  if (auto e = CheckVector(p + ".ln1.gamma", l.ln1_gamma, d, dm)) return e;
  if (auto e = CheckVector(p + ".ln1.beta", l.ln1_beta, d, dm)) return e;
  if (auto e = CheckVector(p + ".ln2.gamma", l.ln2_gamma, d, dm)) return e;
  return CheckVector(p + ".ln2.beta", l.ln2_beta, d, dm);
}

}  // namespace

FieldProblem CheckNetwork(const FloatNetwork& net) {
  if (auto e = CheckRange("config.vocab_size", net.vocab_size, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("config.max_positions", net.max_positions, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("config.type_vocab_size", net.type_vocab_size, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("config.d_model", net.d_model, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("config.n_heads", net.n_heads, 1, net.d_model)) return e;
  if (net.d_model % net.n_heads != 0) {
    return {"config.n_heads",
            fmt::format("{} does not divide config.d_model ({})", net.n_heads, net.d_model)};
  }
  if (auto e = CheckRange("config.d_ff", net.d_ff, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("config.n_layers", net.n_layers, 1, kMaxNetworkLayers)) return e;
  // Room for [CLS] and [SEP], and a position for every token.
  if (auto e = CheckRange("config.max_tokens", net.max_tokens, 2, net.max_positions)) return e;
  if (!(std::isfinite(net.ln_eps) && net.ln_eps > 0)) {
    return {"config.ln_eps", fmt::format("{} is not finite and positive", net.ln_eps)};
  }

  if (auto e = CheckEqual("vocab.size", static_cast<int64_t>(net.vocab.size()), "config.vocab_size",
                          net.vocab_size)) {
    return e;
  }
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < net.vocab.size(); ++i) {
    const std::string field = fmt::format("vocab[{}]", i);
    const std::string& t = net.vocab[i];
    if (auto e = CheckRange(field + ".size", static_cast<int64_t>(t.size()), 1, kMaxTokenBytes)) {
      return e;
    }
    if (!seen.insert(t).second) return {field, fmt::format("'{}' appears twice", t)};
  }
  for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]"}) {
    if (seen.count(special) == 0) return {"vocab", fmt::format("has no {}", special)};
  }

  const std::string d = "config.d_model";
  if (auto e = CheckMatrix("embeddings.word", net.word, "config.vocab_size", net.vocab_size, d,
                           net.d_model)) {
    return e;
  }
  if (auto e = CheckMatrix("embeddings.position", net.position, "config.max_positions",
                           net.max_positions, d, net.d_model)) {
    return e;
  }
  if (auto e = CheckMatrix("embeddings.token_type", net.token_type, "config.type_vocab_size",
                           net.type_vocab_size, d, net.d_model)) {
    return e;
  }
  if (auto e = CheckVector("embeddings.ln.gamma", net.ln_gamma, d, net.d_model)) return e;
  if (auto e = CheckVector("embeddings.ln.beta", net.ln_beta, d, net.d_model)) return e;
  if (auto e = CheckEqual("layers.size", static_cast<int64_t>(net.layers.size()), "config.n_layers",
                          net.n_layers)) {
    return e;
  }
  for (int l = 0; l < net.n_layers; ++l) {
    if (auto e = CheckNetworkLayer(net, l)) return e;
  }
  return {};
}

WordPieceTokenizer MakeTokenizer(const FloatNetwork& net) {
  return WordPieceTokenizer(net.vocab, net.max_tokens);
}

Matrix<float> EmbedTokens(const FloatNetwork& net, const std::vector<int>& ids, int n_rows) {
  const int n = static_cast<int>(ids.size());
  if (n < 1 || n > n_rows || n > net.max_positions) {
    throw std::invalid_argument(fmt::format("EmbedTokens: {} ids for {} rows and {} positions", n,
                                            n_rows, net.max_positions));
  }
  const int d = net.d_model;
  Matrix<float> x(n_rows, d, 0.0f);
  std::vector<double> v(d);
  for (int i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= net.word.rows) {
      throw std::invalid_argument(
          fmt::format("EmbedTokens: id {} at {} outside the vocabulary", ids[i], i));
    }
    double mean = 0.0;
    for (int c = 0; c < d; ++c) {
      v[c] = double{net.word.at(ids[i], c)} + net.position.at(i, c) + net.token_type.at(0, c);
      mean += v[c];
    }
    mean /= d;
    double var = 0.0;
    for (double e : v) var += (e - mean) * (e - mean);
    const double inv_std = 1.0 / std::sqrt(var / d + net.ln_eps);
    for (int c = 0; c < d; ++c) {
      x.at(i, c) = static_cast<float>((v[c] - mean) * inv_std * net.ln_gamma[c] + net.ln_beta[c]);
    }
  }
  return x;
}

Matrix<float> RunEncoderFloat(const FloatNetwork& net, const Matrix<float>& x, int n_valid,
                              int first, int last) {
  if (last < 0) last = net.n_layers;
  if (first < 0 || first > last || last > static_cast<int>(net.layers.size())) {
    throw std::invalid_argument(
        fmt::format("RunEncoderFloat: layers [{}, {}) of {}", first, last, net.layers.size()));
  }
  Matrix<float> y = x;
  for (int l = first; l < last; ++l) y = RunLayerFloat(net.layers[l], y, n_valid);
  return y;
}

std::vector<float> MeanPoolNormalize(const Matrix<float>& x, int n_valid) {
  if (n_valid < 1 || n_valid > x.rows) {
    throw std::invalid_argument(
        fmt::format("MeanPoolNormalize: n_valid {} out of range [1, {}]", n_valid, x.rows));
  }
  std::vector<double> sum(x.cols, 0.0);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < x.cols; ++c) sum[c] += x.at(i, c);
  }
  double norm2 = 0.0;
  for (double& s : sum) {
    s /= n_valid;
    norm2 += s * s;
  }
  const double norm = std::max(std::sqrt(norm2), 1e-12);
  std::vector<float> out(x.cols);
  for (int c = 0; c < x.cols; ++c) out[c] = static_cast<float>(sum[c] / norm);
  return out;
}

std::vector<float> SentenceEmbeddingFloat(const FloatNetwork& net, const std::vector<int>& ids) {
  const int n = static_cast<int>(ids.size());
  return MeanPoolNormalize(RunEncoderFloat(net, EmbedTokens(net, ids, n), n), n);
}

Matrix<float> LayerInputFloat(const FloatNetwork& net, int layer, const std::vector<int>& ids,
                              int n_rows) {
  return RunEncoderFloat(net, EmbedTokens(net, ids, n_rows), static_cast<int>(ids.size()), 0,
                         layer);
}

NetworkLayer MakeNetworkLayer(const FloatNetwork& net, int layer, const std::vector<int>& input_ids,
                              const std::vector<std::vector<int>>& calib_ids, int n_tokens) {
  if (layer < 0 || layer >= net.n_layers) {
    throw std::invalid_argument(
        fmt::format("MakeNetworkLayer: layer {} out of range [0, {})", layer, net.n_layers));
  }
  std::vector<CalibrationInput> calib;
  for (const std::vector<int>& ids : calib_ids) {
    const int n = static_cast<int>(ids.size());
    calib.push_back({LayerInputFloat(net, layer, ids, n), n});
  }
  NetworkLayer out;
  out.x_fp32 = LayerInputFloat(net, layer, input_ids, n_tokens);
  LayerFile& f = out.file;
  f.params = QuantizeLayer(net.layers[layer], calib);
  f.n_tokens = n_tokens;
  f.n_valid = static_cast<int>(input_ids.size());
  f.x = QuantizeTensor(out.x_fp32, f.params.x_scale);  // padded rows are zero
  f.spls = DefaultSplsConfig(f.n_valid);
  return out;
}

}  // namespace esact
