// esact-eval: SPLS on a real model and real text (docs/eval.md).
//
//   esact-eval --network NET --out DIR [--status FILE] [--packages N] [--calib N]
//              [--threads N] [--quick]
//
// all-MiniLM-L6-v2 (fp32, int8 dense, int8 + SPLS, Sanger-style, SpAtten-style) embeds the
// Debian package descriptions of FILE (default /var/lib/dpkg/status): every package's
// short description retrieves its long description among those of all packages. Writes
// DIR/results.json (one row per method and setting) and DIR/pam.json (one real head's
// PAM, its SPA and its reuse map).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "golden/minilm.h"
#include "golden/network.h"
#include "golden/network_io.h"
#include "golden/quant.h"
#include "golden/spls.h"

namespace esact {
namespace {

constexpr int kMinPackages = 1000;  // the task's size the issue asks for (docs/eval.md)

struct Package {
  std::string name, short_text, long_text;
};

// Package stanzas of a dpkg status file: "Package:" and "Description:" with its
// continuation lines (" ." is a paragraph break). Packages without a long description are
// left out. Throws std::runtime_error naming the file and the reason.
std::vector<Package> ReadPackages(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<Package> out;
  Package cur;
  bool in_description = false;
  int line_no = 0;
  const auto flush = [&] {
    if (!cur.name.empty() && !cur.short_text.empty() && !cur.long_text.empty()) {
      out.push_back(cur);
    }
    cur = Package{};
    in_description = false;
  };
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!in_description) continue;  // continuation of another multi-line field
      const std::string text = line.substr(line.find_first_not_of(" \t"));
      if (text == ".") continue;
      if (!cur.long_text.empty()) cur.long_text += ' ';
      cur.long_text += text;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) {
      throw std::runtime_error(fmt::format("{}:{}: not a field (no ':')", path, line_no));
    }
    const std::string field = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    in_description = field == "Description";
    if (field == "Package") cur.name = value;
    if (in_description) cur.short_text = value;
  }
  flush();
  if (out.empty()) throw std::runtime_error(path + ": no package with a long description");
  return out;
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct Task {
  std::vector<std::vector<int>> docs;     // unique long descriptions, token ids
  std::vector<std::vector<int>> queries;  // short descriptions of the query packages
  std::vector<int> answer;                // per query: its package's document
  std::vector<std::vector<int>> calib;    // the calibration packages' short and long texts
  int packages = 0;
  int calib_packages = 0;
};

Task MakeTask(const std::vector<Package>& all, const WordPieceTokenizer& tok, int calib) {
  // Calibration split: the packages first in the order of a hash of their name, so the
  // split does not depend on the file's order and is the same on every machine that has
  // them.
  std::vector<const Package*> order;
  for (const Package& p : all) order.push_back(&p);
  std::stable_sort(order.begin(), order.end(), [](const Package* a, const Package* b) {
    return Fnv1a(a->name) < Fnv1a(b->name);
  });
  Task t;
  t.packages = static_cast<int>(all.size());
  t.calib_packages = std::min<int>(calib, t.packages - 1);
  std::map<std::string, int> doc_of;
  for (const Package& p : all) {
    if (doc_of.emplace(p.long_text, static_cast<int>(t.docs.size())).second) {
      t.docs.push_back(tok.Encode(p.long_text));
    }
  }
  for (int i = 0; i < t.packages; ++i) {
    const Package& p = *order[i];
    if (i < t.calib_packages) {
      t.calib.push_back(tok.Encode(p.short_text));
      t.calib.push_back(tok.Encode(p.long_text));
    } else {
      t.queries.push_back(tok.Encode(p.short_text));
      t.answer.push_back(doc_of.at(p.long_text));
    }
  }
  return t;
}

// ---- Running every sentence of the task --------------------------------------------------

class Progress {
 public:
  Progress(int64_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  void Advance(int64_t work, const std::string& label) {
    std::lock_guard<std::mutex> lock(mu_);
    done_ += work;
    const auto now = std::chrono::steady_clock::now();
    // At most twice a second, so that a log of the run stays readable.
    if (done_ < total_ && now - shown_ < std::chrono::milliseconds(500)) return;
    shown_ = now;
    const double f = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
    const double s = std::chrono::duration<double>(now - start_).count();
    const int bar = static_cast<int>(f * 30);
    fmt::print(stderr, "\r[{:<30}] {:5.1f}%  {:>5.0f} s elapsed, {:>5.0f} s left  {:<40.40}",
               std::string(bar, '#'), 100 * f, s, f > 0 ? s / f - s : 0.0, label);
    if (done_ >= total_) fmt::print(stderr, "\n");
  }

 private:
  std::mutex mu_;
  int64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point start_, shown_;
};

// Work of one sentence for the progress bar: proportional to its layer cost.
int64_t Work(const std::vector<int>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  return n * 1000 + n * n;
}

struct Embeddings {
  std::vector<std::vector<float>> docs, queries;
  NetworkCounts counts;
};

// fn(ids) -> NetworkRun over every document and query, on `threads` threads.
template <typename Fn>
Embeddings EmbedAll(const Task& t, int threads, Progress& progress, const std::string& label,
                    Fn fn) {
  std::vector<const std::vector<int>*> jobs;
  for (const auto& d : t.docs) jobs.push_back(&d);
  for (const auto& q : t.queries) jobs.push_back(&q);
  std::vector<NetworkRun> runs(jobs.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  std::exception_ptr error;
  std::mutex error_mu;
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([&] {
      try {
        for (size_t i; (i = next++) < jobs.size();) {
          runs[i] = fn(*jobs[i]);
          progress.Advance(Work(*jobs[i]), label);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        error = std::current_exception();
        next = jobs.size();
      }
    });
  }
  for (std::thread& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  Embeddings e;
  for (size_t i = 0; i < jobs.size(); ++i) {
    (i < t.docs.size() ? e.docs : e.queries).push_back(std::move(runs[i].embedding));
    e.counts.Add(runs[i].counts);
  }
  return e;
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += double{a[i]} * b[i];
  return s;
}

// Fraction of queries whose nearest document (cosine; embeddings have norm 1; ties to the
// lower index) is their own.
double RecallAt1(const Task& t, const Embeddings& e) {
  int hits = 0;
  for (size_t q = 0; q < e.queries.size(); ++q) {
    int best = 0;
    double best_score = -2.0;
    for (size_t d = 0; d < e.docs.size(); ++d) {
      const double s = Dot(e.queries[q], e.docs[d]);
      if (s > best_score) {
        best_score = s;
        best = static_cast<int>(d);
      }
    }
    hits += best == t.answer[q];
  }
  return static_cast<double>(hits) / e.queries.size();
}

double MeanCosine(const Embeddings& a, const Embeddings& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.docs.size(); ++i) s += Dot(a.docs[i], b.docs[i]);
  for (size_t i = 0; i < a.queries.size(); ++i) s += Dot(a.queries[i], b.queries[i]);
  return s / (a.docs.size() + a.queries.size());
}

// ---- Settings ----------------------------------------------------------------------------

struct Setting {
  MethodConfig m;
  std::string params_json;  // the "params" object
  std::string label;
  bool is_default = false;
};

std::string FfnName(FfnPolicy f) { return f == FfnPolicy::kReuse ? "reuse" : "none"; }

Setting Spls(double k_frac, int w, double t_frac, int bits, FfnPolicy ffn) {
  Setting s;
  s.m.method = Method::kSpls;
  s.m.k_frac = k_frac;
  s.m.w = w;
  s.m.t_frac = t_frac;
  s.m.hlog_bits = bits;
  s.m.ffn = ffn;
  s.params_json =
      fmt::format(R"({{"k_frac": {}, "w": {}, "t_frac": {}, "hlog_bits": {}, "ffn": "{}"}})",
                  k_frac, w, t_frac, bits, FfnName(ffn));
  s.label = fmt::format("spls k {:.4g}n w {} t {:.3g}k {}b ffn {}", k_frac, w, t_frac, bits,
                        FfnName(ffn));
  const MethodConfig d;
  s.is_default =
      k_frac == d.k_frac && w == d.w && t_frac == d.t_frac && bits == d.hlog_bits && ffn == d.ffn;
  return s;
}

// One knob at a time around the docs/spls.md default (k n/8, w 2, t 3k/4, 8 bits, FFN none).
std::vector<Setting> Settings(bool quick) {
  const MethodConfig d;
  std::vector<Setting> s;
  Setting dense;
  dense.params_json = "{}";
  dense.label = "int8 dense";
  s.push_back(dense);
  s.push_back(Spls(d.k_frac, d.w, d.t_frac, d.hlog_bits, d.ffn));
  if (!quick) {
    for (double k : {1.0 / 16, 0.25, 0.5}) s.push_back(Spls(k, d.w, d.t_frac, d.hlog_bits, d.ffn));
    for (int w : {0, 4, 8}) s.push_back(Spls(d.k_frac, w, d.t_frac, d.hlog_bits, d.ffn));
    for (double t : {0.25, 0.5}) s.push_back(Spls(d.k_frac, d.w, t, d.hlog_bits, d.ffn));
    for (int b : {4, 6}) s.push_back(Spls(d.k_frac, d.w, d.t_frac, b, d.ffn));
    s.push_back(Spls(d.k_frac, d.w, d.t_frac, d.hlog_bits, FfnPolicy::kReuse));
    s.push_back(Spls(d.k_frac, 8, 0.25, d.hlog_bits, FfnPolicy::kReuse));  // most reuse
  }
  for (double th :
       quick ? std::vector<double>{0.02} : std::vector<double>{0.002, 0.01, 0.02, 0.05}) {
    Setting g;
    g.m.method = Method::kSanger;
    g.m.sanger_threshold = th;
    g.params_json = fmt::format(R"({{"threshold": {}}})", th);
    g.label = fmt::format("sanger threshold {}", th);
    s.push_back(g);
  }
  for (double keep : quick ? std::vector<double>{0.8} : std::vector<double>{0.95, 0.9, 0.8, 0.6}) {
    Setting g;
    g.m.method = Method::kSpatten;
    g.m.spatten_keep = keep;
    g.params_json = fmt::format(R"({{"keep_ratio": {}}})", keep);
    g.label = fmt::format("spatten keep {}", keep);
    s.push_back(g);
  }
  return s;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// ---- One real head for the plots ---------------------------------------------------------

// The document of 24 to 48 tokens nearest to 40 (the first on ties), layer 2, head 3.
void WritePam(const FloatNetwork& net, const QuantizedNetwork& qnet, const Task& t,
              const WordPieceTokenizer& tok, const std::string& path) {
  const std::vector<int>* ids = &t.docs[0];
  for (const auto& d : t.docs) {
    if (std::abs(static_cast<int>(d.size()) - 40) < std::abs(static_cast<int>(ids->size()) - 40)) {
      ids = &d;
    }
  }
  const int layer = std::min(2, net.n_layers - 1);
  const int head = std::min(3, net.n_heads - 1);
  const int n = static_cast<int>(ids->size());
  Matrix<int8_t> x = QuantizeTensor(EmbedTokens(net, *ids, n), qnet.layers[0].x_scale);
  SplsConfig dense = DefaultSplsConfig(n);
  dense.enabled = false;
  for (int l = 0; l < layer; ++l) x = RunLayer(qnet.layers[l], x, n, dense).y;
  const LayerParams& p = qnet.layers[layer];
  const SplsConfig cfg = DefaultSplsConfig(n);
  const PredictorWeights w = MakePredictorWeights(p, cfg);
  const PredictedQk qk = PredictQk(x, n, w, cfg);
  const Matrix<int32_t> pam = PredictPam(qk.q_hat, qk.k_hat, head, p.d_head(), n);
  const HeadDecision hd = Predict(x, n, p.n_heads, w, cfg).heads[head];
  // The exact attention of the int8 layer: its integer softmax over q . k.
  const LayerResult r = RunLayer(p, x, n, dense);
  std::vector<std::string> tokens, pam_rows, spa_rows, att_rows;
  std::vector<uint8_t> prob(n);
  for (int i = 0; i < n; ++i) {
    tokens.push_back(JsonString(tok.Token((*ids)[i])));
    pam_rows.push_back(fmt::format("[{}]", fmt::join(pam.row(i), pam.row(i) + n, ", ")));
    spa_rows.push_back(fmt::format("[{}]", fmt::join(hd.spa[i], ", ")));
    AttentionRow(p, r.q, r.k, n, head, i, prob.data());
    std::vector<double> pr(prob.begin(), prob.end());
    for (double& v : pr) v /= 256.0;
    att_rows.push_back(fmt::format("[{}]", fmt::join(pr, ", ")));
  }
  std::string text;
  for (int id : *ids) text += (text.empty() ? "" : " ") + tok.Token(id);
  std::ofstream out(path);
  out << fmt::format(
      "{{\"layer\": {}, \"head\": {}, \"text\": {}, \"n\": {},\n \"tokens\": [{}],\n"
      " \"pam\": [{}],\n \"spa\": [{}],\n \"reuse\": [{}],\n \"attention\": [{}]}}\n",
      layer, head, JsonString(text), n, fmt::join(tokens, ", "), fmt::join(pam_rows, ",\n  "),
      fmt::join(spa_rows, ", "), fmt::join(hd.reuse.begin(), hd.reuse.begin() + n, ", "),
      fmt::join(att_rows, ",\n  "));
  if (!out) throw std::runtime_error(path + ": cannot write");
}

// ---- Main ----------------------------------------------------------------------------------

struct Options {
  std::string network, out, status = "/var/lib/dpkg/status";
  int packages = 0, calib = 48;
  int threads = std::max(1u, std::thread::hardware_concurrency());
  bool quick = false;
};

void Usage() {
  std::fputs(
      "usage: esact-eval --network NET --out DIR [--status FILE] [--packages N] [--calib N]\n"
      "                  [--threads N] [--quick]\n"
      "  --network NET   network file (docs/network-format.md)\n"
      "  --out DIR       where results.json and pam.json go\n"
      "  --status FILE   dpkg status file (default /var/lib/dpkg/status)\n"
      "  --packages N    use the first N packages with a long description (default all)\n"
      "  --calib N       calibration packages, left out of the queries (default 48)\n"
      "  --threads N     worker threads (default: the machine's cores)\n"
      "  --quick         the default SPLS setting and one setting per baseline only\n",
      stderr);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      o->quick = true;
    } else if (a == "--network" && has_value) {
      o->network = argv[++i];
    } else if (a == "--out" && has_value) {
      o->out = argv[++i];
    } else if (a == "--status" && has_value) {
      o->status = argv[++i];
    } else if (a == "--packages" && has_value) {
      o->packages = std::stoi(argv[++i]);
    } else if (a == "--calib" && has_value) {
      o->calib = std::stoi(argv[++i]);
    } else if (a == "--threads" && has_value) {
      o->threads = std::max(1, std::stoi(argv[++i]));
    } else {
      return false;
    }
  }
  return !o->network.empty() && !o->out.empty() && o->packages >= 0 && o->calib >= 1;
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) {
    Usage();
    return 2;
  }
  const FloatNetwork net = ReadNetworkFile(opt.network);
  const WordPieceTokenizer tok = MakeTokenizer(net);
  std::vector<Package> packages = ReadPackages(opt.status);
  if (opt.packages > 0 && opt.packages < static_cast<int>(packages.size())) {
    packages.resize(opt.packages);
  }
  if (packages.size() < 2) throw std::runtime_error(opt.status + ": fewer than 2 packages");
  const Task task = MakeTask(packages, tok, opt.calib);
  int64_t doc_tokens = 0;
  for (const auto& d : task.docs) doc_tokens += static_cast<int64_t>(d.size());
  const double mean_doc_tokens = static_cast<double>(doc_tokens) / task.docs.size();
  fmt::print(
      "task: {} packages from {} ({} unique long descriptions, mean {:.1f} tokens), {} "
      "queries, {} calibration packages\n",
      task.packages, opt.status, task.docs.size(), mean_doc_tokens, task.queries.size(),
      task.calib_packages);
  if (task.packages < kMinPackages) {
    fmt::print("note: fewer than {} packages; Recall@1 is easier than the task asks\n",
               kMinPackages);
  }
  const QuantizedNetwork qnet = QuantizeNetwork(net, task.calib);
  std::filesystem::create_directories(opt.out);
  WritePam(net, qnet, task, tok, opt.out + "/pam.json");

  const std::vector<Setting> settings = Settings(opt.quick);
  int64_t work_per_run = 0;
  for (const auto& d : task.docs) work_per_run += Work(d);
  for (const auto& q : task.queries) work_per_run += Work(q);
  Progress progress(work_per_run * static_cast<int64_t>(settings.size() + 1));

  const Embeddings fp32 = EmbedAll(task, opt.threads, progress, "fp32", [&](const auto& ids) {
    return NetworkRun{SentenceEmbeddingFloat(net, ids), {}};
  });
  const double recall_fp32 = RecallAt1(task, fp32);
  struct Row {
    std::string method, params, label;
    double removed, macs_removed, recall, cosine, predictor;
    bool is_default;
  };
  std::vector<Row> rows;
  const auto add = [&](const std::string& method, const Setting& s, const Embeddings& e) {
    const double dense = static_cast<double>(e.counts.ops.DenseTotal());
    rows.push_back({method, s.params_json, s.label, e.counts.ComputationRemoved(),
                    e.counts.MacsRemoved(), RecallAt1(task, e), MeanCosine(e, fp32),
                    dense > 0 ? e.counts.predictor_cost / dense : 0.0, s.is_default});
  };
  Setting fp32_setting;
  fp32_setting.params_json = "{}";
  fp32_setting.label = "fp32";
  add("fp32", fp32_setting, fp32);
  for (const Setting& s : settings) {
    const Embeddings e = EmbedAll(task, opt.threads, progress, s.label, [&](const auto& ids) {
      return RunNetworkInt8(net, qnet, ids, s.m);
    });
    add(MethodName(s.m.method), s, e);
  }

  std::vector<std::string> json_rows;
  fmt::print("\n{:<44} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "setting", "removed", "MACs rm", "pred",
             "R@1", "cos fp32");
  for (const Row& r : rows) {
    json_rows.push_back(fmt::format(
        R"({{"method": "{}", "params": {}, "computation_removed": {:.6f}, "macs_removed": {:.6f}, )"
        R"("predictor_cost_fraction": {:.6f}, "recall_at_1": {:.6f}, "recall_at_1_fp32": {:.6f}, )"
        R"("cosine_vs_fp32": {:.6f}{}}})",
        r.method, r.params, r.removed, r.macs_removed, r.predictor, r.recall, recall_fp32, r.cosine,
        r.is_default ? R"(, "default": true)" : ""));
    fmt::print("{:<44} {:>8.1f}% {:>8.1f}% {:>8.1f}% {:>8.1f}% {:>9.4f}{}\n", r.label,
               100 * r.removed, 100 * r.macs_removed, 100 * r.predictor, 100 * r.recall, r.cosine,
               r.is_default ? "  (default)" : "");
  }
  const std::string path = opt.out + "/results.json";
  std::ofstream out(path);
  out << fmt::format(
      "{{\"task\": {{\"name\": \"debian-package-descriptions\", \"source\": {}, \"packages\": {}, "
      "\"documents\": {}, \"queries\": {}, \"calibration_packages\": {}, "
      "\"mean_document_tokens\": {:.2f}, \"max_tokens\": {}}},\n"
      " \"paper\": {{\"computation_removed\": 0.52, \"accuracy_loss\": 0.01, \"tops_per_w\": "
      "3.29}},\n"
      " \"rows\": [\n  {}\n ]}}\n",
      JsonString(opt.status), task.packages, task.docs.size(), task.queries.size(),
      task.calib_packages, mean_doc_tokens, net.max_tokens, fmt::join(json_rows, ",\n  "));
  if (!out) throw std::runtime_error(path + ": cannot write");
  fmt::print("wrote {} and {}/pam.json\n", path, opt.out);
  return 0;
}

}  // namespace
}  // namespace esact

int main(int argc, char** argv) {
  try {
    return esact::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-eval: %s\n", e.what());
    return 1;
  }
}
