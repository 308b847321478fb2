// esact-bench: the numbers behind `make bench`.
//
// For each benchmark shape, a synthetic layer goes through the RTL predictor
// (esact_predictor, no stalls) and through the golden model; the bench checks that every
// decision agrees, then prints cycles per head, HLog products (shift-add operations),
// products per cycle against the array's Lanes, and the simulation speed. The same
// numbers go to build/bench/results.json (or the path given with --json).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "Vesact_predictor_l4.h"
#include "Vesact_predictor_l4_esact_predictor.h"
#include "Vesact_predictor_minilm.h"
#include "Vesact_predictor_minilm_esact_predictor.h"
#include "golden/layer.h"
#include "golden/report.h"
#include "golden/synthetic.h"
#include "sim/predictor_driver.h"

namespace esact {
namespace {

struct PredictorBench {
  std::string name;
  std::string model;
  int lanes = 0;
  int d_model = 0, n_heads = 0, n_tokens = 0, k = 0, w = 0, t = 0;
  bool pass = false;
  uint64_t cycles = 0;
  std::vector<uint64_t> head_cycles;
  int64_t products = 0;  // HLog products: Q~, K~ and PAM (golden OpCounts::predictor_ops)
  double seconds = 0;
};

SyntheticSpec BenchSpec(int d_model, int n_heads, int n_tokens) {
  SyntheticSpec spec;
  spec.d_model = d_model;
  spec.n_heads = n_heads;
  spec.d_ff = 4 * d_model;
  spec.n_tokens = n_tokens;
  spec.n_valid = n_tokens;
  spec.seed = 1;
  return spec;
}

template <class Model, class Params>
PredictorBench RunPredictor(const std::string& name, const std::string& model,
                            const SyntheticSpec& spec) {
  const SyntheticLayer layer = MakeSyntheticLayer(spec);
  const LayerFile& f = layer.file;
  const PredictorWeights weights = MakePredictorWeights(f.params, f.spls);

  PredictorBench b;
  b.name = name;
  b.model = model;
  b.lanes = static_cast<int>(Params::Lanes);
  b.d_model = spec.d_model;
  b.n_heads = spec.n_heads;
  b.n_tokens = spec.n_tokens;
  b.k = f.spls.k;
  b.w = f.spls.w;
  b.t = f.spls.t;
  b.products = RunLayer(f.params, f.x, f.n_valid, f.spls).ops.predictor_ops;

  sim::PredictorDriver<Model, Params> driver(/*seed=*/1, /*wave_path=*/"");
  const auto start = std::chrono::steady_clock::now();
  const sim::PredictorResult r = driver.RunLayer(f.x, f.n_valid, f.params.n_heads, weights, f.spls,
                                                 sim::PredictorStalls::None(), /*seed=*/1);
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const SplsDecision want = Predict(f.x, f.n_valid, f.params.n_heads, weights, f.spls);
  const bool same = FirstDecisionDifference(r.decision, want).empty();
  b.pass = r.done && r.err_code == 0 && same && driver.Finish() &&
           !::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
  b.cycles = r.cycles;
  b.head_cycles = r.head_cycles;
  return b;
}

void Print(const std::vector<PredictorBench>& benches) {
  fmt::print("== esact_predictor: cycles and shift-add work (no stalls) ==\n");
  fmt::print("{:<8} {:>5} {:>4} {:>3} {:>4} {:>3} {:>10} {:>11} {:>12} {:>9} {:>11} {:>6}\n",
             "shape", "lanes", "d", "H", "n", "k", "cycles", "cyc/head", "products", "prod/cyc",
             "sim cyc/s", "golden");
  for (const PredictorBench& b : benches) {
    const double per_cycle = b.cycles > 0 ? double(b.products) / double(b.cycles) : 0.0;
    fmt::print(
        "{:<8} {:>5} {:>4} {:>3} {:>4} {:>3} {:>10} {:>11.0f} {:>12} {:>5.2f}/{:<3} {:>11.0f} "
        "{:>6}\n",
        b.name, b.lanes, b.d_model, b.n_heads, b.n_tokens, b.k, b.cycles,
        double(b.cycles) / b.n_heads, b.products, per_cycle, b.lanes,
        b.seconds > 0 ? b.cycles / b.seconds : 0.0, b.pass ? "PASS" : "FAIL");
  }
  fmt::print("products: HLog products of Q~, K~ and the PAM, each at most two shift-adds\n");
}

void WriteJson(const std::vector<PredictorBench>& benches, const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::string out = "{\n  \"predictor\": [\n";
  for (size_t i = 0; i < benches.size(); ++i) {
    const PredictorBench& b = benches[i];
    std::string heads;
    for (size_t h = 0; h < b.head_cycles.size(); ++h) {
      heads += fmt::format("{}{}", h ? ", " : "", b.head_cycles[h]);
    }
    out += fmt::format(
        "    {{\"shape\": \"{}\", \"model\": \"{}\", \"lanes\": {}, \"d_model\": {}, "
        "\"n_heads\": {}, \"n_tokens\": {}, \"k\": {}, \"w\": {}, \"t\": {}, \"pass\": {}, "
        "\"cycles\": {}, \"cycles_per_head\": {:.1f}, \"head_done_cycles\": [{}], "
        "\"products\": {}, \"products_per_cycle\": {:.3f}, \"sim_cycles_per_s\": {:.0f}}}{}\n",
        b.name, b.model, b.lanes, b.d_model, b.n_heads, b.n_tokens, b.k, b.w, b.t,
        b.pass ? "true" : "false", b.cycles, double(b.cycles) / b.n_heads, heads, b.products,
        b.cycles ? double(b.products) / b.cycles : 0.0, b.seconds > 0 ? b.cycles / b.seconds : 0.0,
        i + 1 < benches.size() ? "," : "");
  }
  out += "  ]\n}\n";
  std::ofstream(path) << out;
  fmt::print("wrote {}\n", path);
}

int Main(int argc, char** argv) {
  std::string json = "build/bench/results.json";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) {
      json = argv[++i];
    } else {
      fmt::print(stderr, "usage: esact-bench [--json FILE]\n");
      return 2;
    }
  }
  std::vector<PredictorBench> benches;
  fmt::print("running the small shape...\n");
  benches.push_back(RunPredictor<Vesact_predictor_l4, Vesact_predictor_l4_esact_predictor>(
      "small", "Vesact_predictor_l4", BenchSpec(32, 2, 16)));
  fmt::print("running the MiniLM shape (d 384, 12 heads, 128 tokens)...\n");
  benches.push_back(RunPredictor<Vesact_predictor_minilm, Vesact_predictor_minilm_esact_predictor>(
      "minilm", "Vesact_predictor_minilm", BenchSpec(384, 12, 128)));
  Print(benches);
  WriteJson(benches, json);
  for (const PredictorBench& b : benches) {
    if (!b.pass) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace esact

int main(int argc, char** argv) {
  try {
    return esact::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-bench: %s\n", e.what());
    return 1;
  }
}
