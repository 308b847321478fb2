#include "golden/report.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace esact {

std::string FormatOpTable(const OpCounts& ops) {
  std::string out = fmt::format("{:<18} {:>14} {:>14} {:>9}\n", "component", "dense MACs",
                                "executed MACs", "removed");
  auto line = [&out](const char* name, int64_t dense, int64_t executed) {
    const double removed = dense > 0 ? 100.0 * (1.0 - double(executed) / double(dense)) : 0.0;
    out += fmt::format("{:<18} {:>14} {:>14} {:>8.1f}%\n", name, dense, executed, removed);
  };
  for (int c = 0; c < kNumComponents; ++c) line(ComponentName(c), ops.dense[c], ops.executed[c]);
  line("total", ops.DenseTotal(), ops.ExecutedTotal());
  const double overhead =
      ops.DenseTotal() > 0 ? 100.0 * double(ops.predictor_ops) / double(ops.DenseTotal()) : 0.0;
  out += fmt::format("{:<18} {:>14} {:>14} {:>8.1f}% of dense MACs (shift-add products)\n",
                     "predictor", "", ops.predictor_ops, overhead);
  return out;
}

std::string FormatDecisionSummary(const SplsDecision& d, int n_valid) {
  std::string out;
  for (size_t h = 0; h < d.heads.size(); ++h) {
    const HeadDecision& hd = d.heads[h];
    int anchors = 0;
    for (int i = 0; i < n_valid; ++i) anchors += hd.reuse[i] == i;
    int needed = 0;
    for (uint8_t b : hd.needed_kv) needed += b;
    out +=
        fmt::format("head {:>2}: {:>4} anchors, {:>4} reused rows, {:>4}/{} K/V columns needed\n",
                    h, anchors, n_valid - anchors, needed, n_valid);
  }
  int token_reused = 0;
  for (int i = 0; i < n_valid; ++i) token_reused += d.token_anchor[i] != i;
  out += fmt::format("tokens reusing an anchor in every head: {}/{}\n", token_reused, n_valid);
  return out;
}

double Cosine(const Matrix<float>& a, const Matrix<float>& b, int n_rows) {
  if (a.cols != b.cols || a.rows < n_rows || b.rows < n_rows) {
    throw std::invalid_argument("Cosine: shape mismatch");
  }
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n_rows; ++i) {
    for (int j = 0; j < a.cols; ++j) {
      ab += double(a.at(i, j)) * b.at(i, j);
      aa += double(a.at(i, j)) * a.at(i, j);
      bb += double(b.at(i, j)) * b.at(i, j);
    }
  }
  return (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

}  // namespace esact
