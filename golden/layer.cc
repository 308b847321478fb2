#include "golden/layer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>

#include "golden/engines.h"

namespace esact {

namespace {

// ---- Validation --------------------------------------------------------------------------

// A dimension and the field name it is reported under.
struct Dim {
  std::string name;
  int value;
};

FieldProblem CheckRequant(const std::string& name, const Requant& rq) {
  if (auto e = CheckRange(name + ".mult", rq.mult, 0, kRequantMaxMult)) return e;
  return CheckRange(name + ".shift", rq.shift, 0, kRequantMaxShift);
}

// rows x cols, and a data vector of that size (a Matrix built field by field may lack it).
FieldProblem CheckMatrixShape(const std::string& name, int rows, int cols, size_t size, Dim r,
                              Dim c) {
  if (auto e = CheckEqual(name + ".rows", rows, r.name, r.value)) return e;
  if (auto e = CheckEqual(name + ".cols", cols, c.name, c.value)) return e;
  if (size != static_cast<size_t>(rows) * cols) {
    return {name, fmt::format("holds {} elements, not rows * cols = {}", size,
                              static_cast<int64_t>(rows) * cols)};
  }
  return {};
}

FieldProblem CheckLinear(const std::string& name, const QuantLinear& l, Dim in, Dim out) {
  if (auto e = CheckMatrixShape(name + ".w", l.w.rows, l.w.cols, l.w.data.size(), in, out)) {
    return e;
  }
  if (auto e = CheckEqual(name + ".bias.size", static_cast<int64_t>(l.bias.size()), out.name,
                          out.value)) {
    return e;
  }
  const int64_t max_bias = MaxLinearBias(in.value);
  for (size_t o = 0; o < l.bias.size(); ++o) {
    if (std::abs(int64_t{l.bias[o]}) > max_bias) {
      return {name + ".bias",
              fmt::format("[{}] = {} out of range [{}, {}] (|bias| + 2^14 * {} ({}) < 2^31)", o,
                          l.bias[o], -max_bias, max_bias, in.name, in.value)};
    }
  }
  return CheckRequant(name + ".rq", l.rq);
}

FieldProblem CheckLn(const std::string& name, const LnParams& ln, Dim d) {
  if (auto e = CheckEqual(name + ".gamma.size", static_cast<int64_t>(ln.gamma.size()), d.name,
                          d.value)) {
    return e;
  }
  if (auto e =
          CheckEqual(name + ".beta.size", static_cast<int64_t>(ln.beta.size()), d.name, d.value)) {
    return e;
  }
  return CheckRequant(name + ".rq", ln.rq);
}

FieldProblem CheckResidual(const std::string& name, const ResidualScale& rs) {
  if (auto e = CheckRange(name + ".mult_a", rs.mult_a, 0, kResidualMaxMult)) return e;
  return CheckRange(name + ".mult_b", rs.mult_b, 0, kResidualMaxMult);
}

FieldProblem CheckScale(const std::string& name, float scale) {
  if (std::isfinite(scale) && scale > 0.0f) return {};
  return {name, fmt::format("{} is not a finite positive scale", scale)};
}

// The decision rules of RunLayerWithDecision (layer.h), as "" or the first problem.
std::string DecisionProblem(const SplsDecision& dec, int n_heads, int n_tokens, int n_valid) {
  if (dec.heads.size() != static_cast<size_t>(n_heads)) {
    return fmt::format("{} heads, expected params.n_heads = {}", dec.heads.size(), n_heads);
  }
  const size_t n = static_cast<size_t>(n_tokens);
  for (int h = 0; h < n_heads; ++h) {
    const HeadDecision& hd = dec.heads[h];
    if (hd.spa.size() != n || hd.reuse.size() != n || hd.needed_kv.size() != n) {
      return fmt::format("head {}: spa/reuse/needed_kv have {}/{}/{} entries, expected {}", h,
                         hd.spa.size(), hd.reuse.size(), hd.needed_kv.size(), n);
    }
    for (int i = 0; i < n_tokens; ++i) {
      const IndexSet& set = hd.spa[i];
      const int a = hd.reuse[i];
      if (i >= n_valid) {
        if (a != -1 || !set.empty() || hd.needed_kv[i] != 0) {
          return fmt::format(
              "head {} padded row {}: reuse {}, {} keys, needed {}; expected -1, 0, 0", h, i, a,
              set.size(), hd.needed_kv[i]);
        }
        continue;
      }
      if (a < 0 || a >= n_valid) {
        return fmt::format("head {} row {}: reuse {} outside [0, n_valid = {})", h, i, a, n_valid);
      }
      if (hd.reuse[a] != a) {
        return fmt::format("head {} row {}: reuses row {}, which is not an anchor (reuse {})", h, i,
                           a, hd.reuse[a]);
      }
      for (size_t s = 0; s < set.size(); ++s) {
        if (set[s] < 0 || set[s] >= n_valid || (s > 0 && set[s] <= set[s - 1])) {
          return fmt::format("head {} row {}: key list not ascending within [0, n_valid = {})", h,
                             i, n_valid);
        }
      }
      if (a != i) continue;
      if (set.empty()) return fmt::format("head {} anchor row {}: no keys", h, i);
      for (int j : set) {
        if (!hd.needed_kv[j]) {
          return fmt::format("head {} anchor row {}: key {} is not marked needed", h, i, j);
        }
      }
    }
  }
  if (dec.token_anchor.size() != n) {
    return fmt::format("token_anchor has {} entries, expected {}", dec.token_anchor.size(), n);
  }
  for (int i = 0; i < n_tokens; ++i) {
    const int a = dec.token_anchor[i];
    if (i >= n_valid) {
      if (a != -1) return fmt::format("token_anchor[{}] = {} for a padded row, expected -1", i, a);
      continue;
    }
    if (a == i) continue;
    if (a < 0 || a >= n_valid) {
      return fmt::format("token_anchor[{}] = {} outside [0, n_valid = {})", i, a, n_valid);
    }
    for (int h = 0; h < n_heads; ++h) {
      if (dec.heads[h].reuse[i] != a) {
        return fmt::format("token_anchor[{}] = {}, but head {} maps row {} to {}", i, a, h, i,
                           dec.heads[h].reuse[i]);
      }
    }
  }
  return "";
}

// ---- Integer layer -----------------------------------------------------------------------

void CopyRow(Matrix<int8_t>& m, int dst, int src, int c0, int c1) {
  std::copy(m.row(src) + c0, m.row(src) + c1, m.row(dst) + c0);
}

// Context of anchor row i in one head: softmax over the selected keys in set order.
void AttendAnchor(const LayerParams& p, const IndexSet& keys, int i, int c0, int c1,
                  LayerResult& r) {
  AttendRow(r.q.row(i), r.k, r.v, keys, c0, c1, p.softmax_rq, p.ctx_rq, r.ctx.row(i));
}

void RunHead(const LayerParams& p, const Matrix<int8_t>& x, int n_valid, int head, LayerResult& r) {
  const HeadDecision& hd = r.decision.heads[head];
  const int dh = p.d_head();
  const int c0 = head * dh;
  const int c1 = c0 + dh;
  const int64_t row_macs = int64_t{p.d_model} * dh;
  for (int i = 0; i < n_valid; ++i) {
    if (hd.reuse[i] != i) continue;
    LinearRow(x.row(i), p.q, c0, c1, r.q.row(i));
    r.ops.executed[kCompQ] += row_macs;
  }
  for (int j = 0; j < n_valid; ++j) {
    if (!hd.needed_kv[j]) continue;
    LinearRow(x.row(j), p.k, c0, c1, r.k.row(j));
    LinearRow(x.row(j), p.v, c0, c1, r.v.row(j));
    r.ops.executed[kCompK] += row_macs;
    r.ops.executed[kCompV] += row_macs;
  }
  for (int i = 0; i < n_valid; ++i) {
    if (hd.reuse[i] != i) continue;
    AttendAnchor(p, hd.spa[i], i, c0, c1, r);
    r.ops.executed[kCompScores] += static_cast<int64_t>(hd.spa[i].size()) * dh;
    r.ops.executed[kCompPv] += static_cast<int64_t>(hd.spa[i].size()) * dh;
  }
  // Anchors are complete before any copy, whatever order the decision lists them in.
  for (int i = 0; i < n_valid; ++i) {
    if (hd.reuse[i] != i) CopyRow(r.ctx, i, hd.reuse[i], c0, c1);
  }
}

void RunOutputProjection(const LayerParams& p, int n_valid, LayerResult& r) {
  const std::vector<int>& anchor = r.decision.token_anchor;
  for (int i = 0; i < n_valid; ++i) {
    if (anchor[i] != i) continue;
    LinearRow(r.ctx.row(i), p.o, 0, p.d_model, r.attn.row(i));
    r.ops.executed[kCompOut] += int64_t{p.d_model} * p.d_model;
  }
  for (int i = 0; i < n_valid; ++i) {
    if (anchor[i] != i) CopyRow(r.attn, i, anchor[i], 0, p.d_model);
  }
}

void RunFfn(const LayerParams& p, int n_valid, FfnPolicy policy, LayerResult& r) {
  const std::vector<int>& anchor = r.decision.token_anchor;
  const bool reuse = policy == FfnPolicy::kReuse;
  const int64_t row_macs = int64_t{p.d_model} * p.d_ff;
  std::vector<int8_t> pre(p.d_ff);
  for (int i = 0; i < n_valid; ++i) {
    if (reuse && anchor[i] != i) continue;
    LinearRow(r.h.row(i), p.ffn1, 0, p.d_ff, pre.data());
    for (int c = 0; c < p.d_ff; ++c) r.ffn_act.at(i, c) = ApplyLut(p.gelu_lut, pre[c]);
    LinearRow(r.ffn_act.row(i), p.ffn2, 0, p.d_model, r.ffn_out.row(i));
    r.ops.executed[kCompFfn1] += row_macs;
    r.ops.executed[kCompFfn2] += row_macs;
  }
  if (!reuse) return;
  for (int i = 0; i < n_valid; ++i) {
    if (anchor[i] == i) continue;
    CopyRow(r.ffn_act, i, anchor[i], 0, p.d_ff);
    CopyRow(r.ffn_out, i, anchor[i], 0, p.d_model);
  }
}

// MACs of every head's scores (or P.V) in the dense layer.
int64_t DenseAttentionOps(const LayerParams& p, int n_valid) {
  return int64_t{p.n_heads} * n_valid * n_valid * p.d_head();
}

}  // namespace

void CountDenseOps(const LayerParams& p, int n_valid, OpCounts& ops) {
  const int64_t n = n_valid;
  const int64_t d = p.d_model;
  for (int c : {kCompQ, kCompK, kCompV, kCompOut}) ops.dense[c] = n * d * d;
  ops.dense[kCompScores] = DenseAttentionOps(p, n_valid);
  ops.dense[kCompPv] = DenseAttentionOps(p, n_valid);
  ops.dense[kCompFfn1] = n * d * p.d_ff;
  ops.dense[kCompFfn2] = n * d * p.d_ff;
}

namespace {

// HLog products of the predictor: the Q^ and K^ projections plus every head's PAM.
int64_t PredictorOps(const LayerParams& p, int n_valid) {
  return 2 * int64_t{n_valid} * p.d_model * p.d_model + DenseAttentionOps(p, n_valid);
}

// ---- Floating-point layer (double) -------------------------------------------------------

// Every tensor of one floating-point run, kept for calibration. Rows >= n_valid are zero
// except x.
struct FloatTrace {
  Matrix<float> x, q, k, v, ctx, attn, h, ffn_pre, ffn_act, ffn_out, y;
};

Matrix<float> FloatLinearRows(const Matrix<float>& x, const FloatLinear& lin, int n_valid) {
  Matrix<float> out(x.rows, lin.w.cols);
  // Row-major walk of W (k outer): the inner loop runs over contiguous memory.
  std::vector<double> acc(lin.w.cols);
  for (int i = 0; i < n_valid; ++i) {
    acc.assign(lin.bias.begin(), lin.bias.end());
    for (int k = 0; k < lin.w.rows; ++k) {
      const double xk = x.at(i, k);
      const float* w = lin.w.row(k);
      for (int c = 0; c < lin.w.cols; ++c) acc[c] += xk * w[c];
    }
    for (int c = 0; c < lin.w.cols; ++c) out.at(i, c) = static_cast<float>(acc[c]);
  }
  return out;
}

Matrix<float> FloatAttention(const FloatTrace& t, int n_heads, int n_valid) {
  const int dh = t.q.cols / n_heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  Matrix<float> ctx(t.q.rows, t.q.cols);
  std::vector<double> prob(n_valid);
  for (int h = 0; h < n_heads; ++h) {
    const int c0 = h * dh;
    for (int i = 0; i < n_valid; ++i) {
      for (int j = 0; j < n_valid; ++j) {
        double s = 0.0;
        for (int c = c0; c < c0 + dh; ++c) s += double{t.q.at(i, c)} * t.k.at(j, c);
        prob[j] = s * scale;
      }
      const double max_s = *std::max_element(prob.begin(), prob.end());
      double sum = 0.0;
      for (double& e : prob) sum += (e = std::exp(e - max_s));
      for (int c = c0; c < c0 + dh; ++c) {
        double acc = 0.0;
        for (int j = 0; j < n_valid; ++j) acc += prob[j] * t.v.at(j, c);
        ctx.at(i, c) = static_cast<float>(acc / sum);
      }
    }
  }
  return ctx;
}

// LN(a + b) over rows [0, n_valid).
Matrix<float> FloatResidualLayerNorm(const Matrix<float>& a, const Matrix<float>& b,
                                     const std::vector<float>& gamma,
                                     const std::vector<float>& beta, float eps, int n_valid) {
  Matrix<float> out(a.rows, a.cols);
  const int d = a.cols;
  std::vector<double> r(d);
  for (int i = 0; i < n_valid; ++i) {
    double mean = 0.0;
    for (int c = 0; c < d; ++c) mean += (r[c] = double{a.at(i, c)} + b.at(i, c));
    mean /= d;
    double var = 0.0;
    for (double v : r) var += (v - mean) * (v - mean);
    const double inv_std = 1.0 / std::sqrt(var / d + eps);
    for (int c = 0; c < d; ++c) {
      out.at(i, c) = static_cast<float>((r[c] - mean) * inv_std * gamma[c] + beta[c]);
    }
  }
  return out;
}

FloatTrace TraceLayerFloat(const FloatLayer& f, const Matrix<float>& x, int n_valid) {
  if (x.cols != f.d_model || n_valid < 1 || n_valid > x.rows || f.n_heads <= 0 ||
      f.d_model % f.n_heads != 0) {
    throw std::invalid_argument("RunLayerFloat: inconsistent shapes");
  }
  FloatTrace t;
  t.x = x;
  t.q = FloatLinearRows(x, f.q, n_valid);
  t.k = FloatLinearRows(x, f.k, n_valid);
  t.v = FloatLinearRows(x, f.v, n_valid);
  t.ctx = FloatAttention(t, f.n_heads, n_valid);
  t.attn = FloatLinearRows(t.ctx, f.o, n_valid);
  t.h = FloatResidualLayerNorm(x, t.attn, f.ln1_gamma, f.ln1_beta, f.ln_eps, n_valid);
  t.ffn_pre = FloatLinearRows(t.h, f.ffn1, n_valid);
  t.ffn_act = Matrix<float>(x.rows, f.d_ff);
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < f.d_ff; ++c)
      t.ffn_act.at(i, c) = static_cast<float>(Gelu(t.ffn_pre.at(i, c)));
  }
  t.ffn_out = FloatLinearRows(t.ffn_act, f.ffn2, n_valid);
  t.y = FloatResidualLayerNorm(t.h, t.ffn_out, f.ln2_gamma, f.ln2_beta, f.ln_eps, n_valid);
  return t;
}

// ---- Post-training quantization ----------------------------------------------------------

double MaxAbs(const float* v, size_t n) {
  double m = 0.0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double{v[i]}));
  return m;
}

// Symmetric scale mapping max |v| to `levels`; an all-zero tensor gets scale 1 so that
// no factor divides by zero.
double SymmetricScale(double max_abs, double levels) {
  return max_abs > 0 ? max_abs / levels : 1.0;
}

// v rounded (half away from zero) and clamped to [-lim, lim].
int32_t RoundClamped(double v, double lim) {
  return static_cast<int32_t>(std::llround(std::clamp(v, -lim, lim)));
}

// The bias is clamped to the int32 accumulator bound of its layer (MaxLinearBias).
QuantLinear QuantizeLinear(const FloatLinear& f, double s_in, double s_out) {
  const double s_w = SymmetricScale(MaxAbs(f.w.data.data(), f.w.data.size()), 127.0);
  const double max_bias = static_cast<double>(MaxLinearBias(f.w.rows));
  QuantLinear q;
  q.w = QuantizeTensor(f.w, static_cast<float>(s_w));
  for (float b : f.bias) q.bias.push_back(RoundClamped(b / (s_in * s_w), max_bias));
  q.rq = QuantizeMultiplier(s_in * s_w / s_out);
  return q;
}

// gamma in int16 at scale s_g; n_i * gamma_i then has scale s_g * 2^-kLnFracBits, which
// beta shares.
LnParams QuantizeLn(const std::vector<float>& gamma, const std::vector<float>& beta, double s_out) {
  const double s_g = SymmetricScale(MaxAbs(gamma.data(), gamma.size()), 32767.0);
  const double s_acc = std::ldexp(s_g, -kLnFracBits);
  LnParams ln;
  for (float g : gamma) {
    ln.gamma.push_back(
        static_cast<int16_t>(std::clamp<long long>(std::llround(g / s_g), -32768, 32767)));
  }
  for (float b : beta) {
    ln.beta.push_back(RoundClamped(b / s_acc, std::numeric_limits<int32_t>::max()));
  }
  ln.rq = QuantizeMultiplier(s_acc / s_out);
  return ln;
}

// The scale of the second operand b of a residual LayerNorm LN(a + b): b is clipped where
// that serves the LayerNorm's output. Candidates run from the max-abs scale down to 1/8 of
// it in steps of 1/32; the one whose LN(a + quantized b) comes closest (squared error over
// the calibration rows) to LN(a + b) wins. Why: the FFN output of real BERT-style layers
// has rare outliers 5 to 10 times its bulk; the max-abs scale leaves the bulk a few levels
// (docs/spls.md, section 8).
double ResidualOperandScale(const std::vector<FloatTrace>& traces,
                            const std::vector<CalibrationInput>& calib,
                            Matrix<float> FloatTrace::*a, Matrix<float> FloatTrace::*b,
                            const std::vector<float>& gamma, const std::vector<float>& beta,
                            float eps, double s_max) {
  constexpr int kSteps = 32;
  double best = s_max;
  double best_err = -1.0;
  for (int step = kSteps; step >= kSteps / 8; --step) {
    const double s = s_max * step / kSteps;
    double err = 0.0;
    for (size_t i = 0; i < calib.size(); ++i) {
      const FloatTrace& t = traces[i];
      const int n = calib[i].n_valid;
      const Matrix<float> b_q =
          DequantizeTensor(QuantizeTensor(t.*b, static_cast<float>(s)), static_cast<float>(s));
      const Matrix<float> got = FloatResidualLayerNorm(t.*a, b_q, gamma, beta, eps, n);
      const Matrix<float> want = FloatResidualLayerNorm(t.*a, t.*b, gamma, beta, eps, n);
      for (size_t e = 0; e < static_cast<size_t>(n) * got.cols; ++e) {
        const double diff = double{got.data[e]} - want.data[e];
        err += diff * diff;
      }
    }
    if (best_err < 0.0 || err < best_err) {
      best_err = err;
      best = s;
    }
  }
  return best;
}

// Smallest shift that brings the calibrated predicted projection (bias included) into HLog
// range (<= 128).
int PredictorShift(const Matrix<HlogCode>& x_hat, const QuantLinear& lin, int n_valid) {
  const Matrix<int32_t> proj =
      PredictProject(x_hat, HlogQuantMatrix(lin.w, kHlogMaxBits, HlogRound::kTowardZero), n_valid);
  int64_t m = 0;
  for (int i = 0; i < n_valid; ++i) {
    for (int c = 0; c < proj.cols; ++c) {
      m = std::max(m, std::abs(int64_t{proj.at(i, c)} + lin.bias[c]));
    }
  }
  int shift = 0;
  while ((m >> shift) > kHlogMaxMagnitude) ++shift;
  return shift;
}

}  // namespace

// ---- Public API ---------------------------------------------------------------------------

PredictorWeights MakePredictorWeights(const LayerParams& p, const SplsConfig& cfg) {
  PredictorWeights w;
  w.w_q_hat = HlogQuantMatrix(p.q.w, cfg.hlog_bits, cfg.round);
  w.w_k_hat = HlogQuantMatrix(p.k.w, cfg.hlog_bits, cfg.round);
  w.q_shift = p.pred_q_shift;
  w.k_shift = p.pred_k_shift;
  w.q_bias = p.q.bias;
  w.k_bias = p.k.bias;
  return w;
}

const char* ComponentName(int c) {
  static constexpr const char* kNames[kNumComponents] = {"q",  "k",   "v",    "scores",
                                                         "pv", "out", "ffn1", "ffn2"};
  return c >= 0 && c < kNumComponents ? kNames[c] : "unknown";
}

int64_t OpCounts::DenseTotal() const {
  int64_t s = 0;
  for (int64_t v : dense) s += v;
  return s;
}

int64_t OpCounts::ExecutedTotal() const {
  int64_t s = 0;
  for (int64_t v : executed) s += v;
  return s;
}

double OpCounts::RemovedFraction() const {
  const int64_t total = DenseTotal();
  return total == 0 ? 0.0 : 1.0 - static_cast<double>(ExecutedTotal()) / total;
}

FieldProblem CheckLayerParams(const LayerParams& p, int n_tokens, int n_valid) {
  if (auto e = CheckRange("params.d_model", p.d_model, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("params.n_heads", p.n_heads, 1, p.d_model)) return e;
  if (p.d_model % p.n_heads != 0) {
    return {"params.n_heads",
            fmt::format("{} does not divide params.d_model ({})", p.n_heads, p.d_model)};
  }
  if (auto e = CheckRange("params.d_ff", p.d_ff, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("n_tokens", n_tokens, 1, kMaxLayerDim)) return e;
  if (auto e = CheckRange("n_valid", n_valid, 1, n_tokens)) return e;
  const Dim d{"params.d_model", p.d_model};
  const Dim d_ff{"params.d_ff", p.d_ff};
  for (const FieldProblem& e :
       {CheckLinear("params.q", p.q, d, d), CheckLinear("params.k", p.k, d, d),
        CheckLinear("params.v", p.v, d, d), CheckLinear("params.o", p.o, d, d),
        CheckLinear("params.ffn1", p.ffn1, d, d_ff), CheckLinear("params.ffn2", p.ffn2, d_ff, d),
        CheckRequant("params.softmax_rq", p.softmax_rq), CheckRequant("params.ctx_rq", p.ctx_rq),
        CheckResidual("params.res1", p.res1), CheckResidual("params.res2", p.res2),
        CheckLn("params.ln1", p.ln1, d), CheckLn("params.ln2", p.ln2, d),
        CheckRange("params.pred_q_shift", p.pred_q_shift, 0, kPredMaxShift),
        CheckRange("params.pred_k_shift", p.pred_k_shift, 0, kPredMaxShift),
        CheckScale("params.x_scale", p.x_scale), CheckScale("params.y_scale", p.y_scale)}) {
    if (e) return e;
  }
  return {};
}

FieldProblem CheckLayer(const LayerParams& p, int n_tokens, int n_valid, const SplsConfig& cfg) {
  if (auto e = CheckLayerParams(p, n_tokens, n_valid)) return e;
  return CheckSplsConfig(cfg, n_tokens);
}

FieldProblem CheckLayerInput(const LayerParams& p, int n_tokens, const Matrix<int8_t>& x) {
  return CheckMatrixShape("x", x.rows, x.cols, x.data.size(), Dim{"n_tokens", n_tokens},
                          Dim{"params.d_model", p.d_model});
}

std::string ValidateLayer(const LayerParams& p, int n_tokens, int n_valid, const SplsConfig& cfg) {
  const FieldProblem e = CheckLayer(p, n_tokens, n_valid, cfg);
  return e ? e.Message() : "";
}

LayerResult RunLayer(const LayerParams& p, const Matrix<int8_t>& x, int n_valid,
                     const SplsConfig& cfg) {
  for (const FieldProblem& e :
       {CheckLayer(p, x.rows, n_valid, cfg), CheckLayerInput(p, x.rows, x)}) {
    if (e) throw std::invalid_argument(e.Message());
  }
  const SplsDecision decision =
      cfg.enabled ? Predict(x, n_valid, p.n_heads, MakePredictorWeights(p, cfg), cfg)
                  : DenseDecision(x.rows, n_valid, p.n_heads);
  LayerResult r = RunLayerWithDecision(p, x, n_valid, decision, cfg.ffn);
  if (cfg.enabled) r.ops.predictor_ops = PredictorOps(p, n_valid);
  return r;
}

LayerResult RunLayerWithDecision(const LayerParams& p, const Matrix<int8_t>& x, int n_valid,
                                 const SplsDecision& decision, FfnPolicy ffn) {
  for (const FieldProblem& e :
       {CheckLayerParams(p, x.rows, n_valid), CheckLayerInput(p, x.rows, x)}) {
    if (e) throw std::invalid_argument(e.Message());
  }
  if (const std::string e = DecisionProblem(decision, p.n_heads, x.rows, n_valid); !e.empty()) {
    throw std::invalid_argument("decision: " + e);
  }
  const int n = x.rows;
  const int d = p.d_model;
  LayerResult r;
  r.decision = decision;
  r.q = r.k = r.v = r.ctx = r.attn = r.h = r.ffn_out = r.y = Matrix<int8_t>(n, d);
  r.ffn_act = Matrix<int8_t>(n, p.d_ff);
  CountDenseOps(p, n_valid, r.ops);

  for (int head = 0; head < p.n_heads; ++head) RunHead(p, x, n_valid, head, r);
  RunOutputProjection(p, n_valid, r);
  for (int i = 0; i < n_valid; ++i)
    ResidualLayerNorm(x.row(i), r.attn.row(i), d, p.res1, p.ln1, r.h.row(i));
  RunFfn(p, n_valid, ffn, r);
  for (int i = 0; i < n_valid; ++i) {
    ResidualLayerNorm(r.h.row(i), r.ffn_out.row(i), d, p.res2, p.ln2, r.y.row(i));
  }
  return r;
}

Matrix<float> RunLayerFloat(const FloatLayer& f, const Matrix<float>& x, int n_valid) {
  return TraceLayerFloat(f, x, n_valid).y;
}

LayerParams QuantizeLayer(const FloatLayer& f, const Matrix<float>& calib_x, int n_valid) {
  return QuantizeLayer(f, std::vector<CalibrationInput>{{calib_x, n_valid}});
}

LayerParams QuantizeLayer(const FloatLayer& f, const std::vector<CalibrationInput>& calib) {
  if (calib.empty()) throw std::invalid_argument("QuantizeLayer: no calibration input");
  std::vector<FloatTrace> traces;
  for (const CalibrationInput& c : calib) traces.push_back(TraceLayerFloat(f, c.x, c.n_valid));
  // The scale of the largest magnitude of one tensor over every sequence's valid rows.
  const auto scale = [&](Matrix<float> FloatTrace::*tensor) {
    double m = 0.0;
    for (size_t i = 0; i < calib.size(); ++i) {
      const Matrix<float>& t = traces[i].*tensor;
      m = std::max(m, MaxAbs(t.data.data(), static_cast<size_t>(calib[i].n_valid) * t.cols));
    }
    return SymmetricScale(m, 127.0);
  };
  const double s_x = scale(&FloatTrace::x);
  const double s_q = scale(&FloatTrace::q);
  const double s_k = scale(&FloatTrace::k);
  const double s_v = scale(&FloatTrace::v);
  const double s_ctx = scale(&FloatTrace::ctx);
  const double s_a =
      ResidualOperandScale(traces, calib, &FloatTrace::x, &FloatTrace::attn, f.ln1_gamma,
                           f.ln1_beta, f.ln_eps, scale(&FloatTrace::attn));
  const double s_h = scale(&FloatTrace::h);
  const double s_pre = scale(&FloatTrace::ffn_pre);
  const double s_act = scale(&FloatTrace::ffn_act);
  const double s_f =
      ResidualOperandScale(traces, calib, &FloatTrace::h, &FloatTrace::ffn_out, f.ln2_gamma,
                           f.ln2_beta, f.ln_eps, scale(&FloatTrace::ffn_out));
  const double s_y = scale(&FloatTrace::y);

  LayerParams p;
  p.d_model = f.d_model;
  p.n_heads = f.n_heads;
  p.d_ff = f.d_ff;
  p.q = QuantizeLinear(f.q, s_x, s_q);
  p.k = QuantizeLinear(f.k, s_x, s_k);
  p.v = QuantizeLinear(f.v, s_x, s_v);
  p.o = QuantizeLinear(f.o, s_ctx, s_a);
  p.ffn1 = QuantizeLinear(f.ffn1, s_h, s_pre);
  p.ffn2 = QuantizeLinear(f.ffn2, s_act, s_f);
  p.res1 = QuantizeResidual(s_x, s_a);
  p.res2 = QuantizeResidual(s_h, s_f);
  // The softmax exponent is (max - s) in log2 units with kSoftmaxFracBits fraction bits.
  const double log2_e = 1.0 / std::log(2.0);
  p.softmax_rq = QuantizeMultiplier(s_q * s_k / std::sqrt(static_cast<double>(p.d_head())) *
                                    log2_e * (1 << kSoftmaxFracBits));
  // Probabilities carry the scale 2^-kSoftmaxProbBits.
  p.ctx_rq = QuantizeMultiplier(std::ldexp(s_v, -kSoftmaxProbBits) / s_ctx);
  p.ln1 = QuantizeLn(f.ln1_gamma, f.ln1_beta, s_h);
  p.ln2 = QuantizeLn(f.ln2_gamma, f.ln2_beta, s_y);
  p.gelu_lut = BuildGeluLut(static_cast<float>(s_pre), static_cast<float>(s_act));

  for (const CalibrationInput& c : calib) {
    const Matrix<HlogCode> x_hat = HlogQuantMatrix(QuantizeTensor(c.x, static_cast<float>(s_x)),
                                                   kHlogMaxBits, HlogRound::kTowardZero);
    p.pred_q_shift = std::max(p.pred_q_shift, PredictorShift(x_hat, p.q, c.n_valid));
    p.pred_k_shift = std::max(p.pred_k_shift, PredictorShift(x_hat, p.k, c.n_valid));
  }
  p.x_scale = static_cast<float>(s_x);
  p.y_scale = static_cast<float>(s_y);
  return p;
}

Matrix<int8_t> QuantizeTensor(const Matrix<float>& x, float scale) {
  Matrix<int8_t> q(x.rows, x.cols);
  for (size_t i = 0; i < x.data.size(); ++i) {
    // Clamped first: llround is undefined outside the int64 range.
    q.data[i] = SaturateInt8(std::llround(std::clamp(double{x.data[i]} / scale, -256.0, 256.0)));
  }
  return q;
}

Matrix<float> DequantizeTensor(const Matrix<int8_t>& x, float scale) {
  Matrix<float> f(x.rows, x.cols);
  for (size_t i = 0; i < x.data.size(); ++i) f.data[i] = x.data[i] * scale;
  return f;
}

}  // namespace esact
