#include "golden/report.h"

#include <fmt/format.h>

#include <algorithm>
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

ReuseCounts CountReuse(const SplsDecision& d, int n_valid) {
  ReuseCounts c;
  for (const HeadDecision& hd : d.heads) {
    for (int i = 0; i < n_valid; ++i) c.rows += hd.reuse[i] != i;
  }
  for (int i = 0; i < n_valid; ++i) c.tokens += d.token_anchor[i] != i;
  return c;
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
  out += fmt::format("tokens reusing an anchor in every head: {}/{}\n",
                     CountReuse(d, n_valid).tokens, n_valid);
  return out;
}

namespace {

std::string SetString(const IndexSet& s) {
  std::string out = "{";
  for (size_t i = 0; i < s.size(); ++i) out += fmt::format("{}{}", i ? " " : "", s[i]);
  return out + "}";
}

// The first index where two equally long per-row vectors differ, or -1.
template <class T>
int FirstDifferent(const std::vector<T>& a, const std::vector<T>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return static_cast<int>(i);
  }
  return a.size() == b.size() ? -1 : static_cast<int>(std::min(a.size(), b.size()));
}

}  // namespace

std::string FirstDecisionDifference(const SplsDecision& got, const SplsDecision& want) {
  if (got.heads.size() != want.heads.size()) {
    return fmt::format("heads: got {}, want {}", got.heads.size(), want.heads.size());
  }
  const size_t n_heads = want.heads.size();
  for (size_t h = 0; h < n_heads; ++h) {
    const int i = FirstDifferent(got.heads[h].spa, want.heads[h].spa);
    if (i < 0) continue;
    const auto set = [i](const HeadDecision& hd) {
      return i < static_cast<int>(hd.spa.size()) ? SetString(hd.spa[i]) : std::string("none");
    };
    return fmt::format("first SPA difference: head {} row {}: got {}, want {}", h, i,
                       set(got.heads[h]), set(want.heads[h]));
  }
  for (size_t h = 0; h < n_heads; ++h) {
    const int i = FirstDifferent(got.heads[h].reuse, want.heads[h].reuse);
    if (i < 0) continue;
    const auto at = [i](const std::vector<int>& v) { return i < int(v.size()) ? v[i] : -2; };
    return fmt::format("first reuse difference: head {} row {}: got anchor {}, want {}", h, i,
                       at(got.heads[h].reuse), at(want.heads[h].reuse));
  }
  for (size_t h = 0; h < n_heads; ++h) {
    const int j = FirstDifferent(got.heads[h].needed_kv, want.heads[h].needed_kv);
    if (j < 0) continue;
    const auto at = [j](const std::vector<uint8_t>& v) {
      return j < int(v.size()) ? int(v[j]) : -1;
    };
    return fmt::format("first needed-K/V difference: head {} column {}: got {}, want {}", h, j,
                       at(got.heads[h].needed_kv), at(want.heads[h].needed_kv));
  }
  const int t = FirstDifferent(got.token_anchor, want.token_anchor);
  if (t >= 0) {
    const auto at = [t](const std::vector<int>& v) { return t < int(v.size()) ? v[t] : -2; };
    return fmt::format("first token-anchor difference: token {}: got {}, want {}", t,
                       at(got.token_anchor), at(want.token_anchor));
  }
  return "";
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
