// esact-bench: the numbers behind `make bench`.
//
// For each benchmark shape, a synthetic layer goes through the RTL predictor
// (esact_predictor, no stalls) and through the golden model; the bench checks that every
// decision agrees, then prints cycles per head, HLog products (shift-add operations),
// products per cycle against the array's Lanes, and the simulation speed. Then the compute
// engines run the same layer dense and with the SPLS lists (esact_gemm on the output
// projection, esact_attn on every head; esact_vec on LayerNorm 1, which SPLS never
// skips), checked against the golden layer: cycles, utilization, SPLS speedup. Last, the whole
// layer runs through esact_top (registers, DMA, predictor and engines together) dense and
// with SPLS on the small and the MiniLM shape: cycles, speedup against the ideal from the
// skipped MACs, MAC utilization, predictor share. The numbers go to build/bench/results.json
// (or --json FILE).
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

#include "Vesact_attn_minilm.h"
#include "Vesact_attn_minilm_esact_attn.h"
#include "Vesact_attn_n32_l8.h"
#include "Vesact_attn_n32_l8_esact_attn.h"
#include "Vesact_gemm_minilm.h"
#include "Vesact_gemm_minilm_esact_gemm.h"
#include "Vesact_gemm_r4c4.h"
#include "Vesact_gemm_r4c4_esact_gemm.h"
#include "Vesact_predictor_l4.h"
#include "Vesact_predictor_l4_esact_predictor.h"
#include "Vesact_predictor_minilm.h"
#include "Vesact_predictor_minilm_esact_predictor.h"
#include "Vesact_top_minilm.h"
#include "Vesact_top_minilm_esact_top.h"
#include "Vesact_top_s.h"
#include "Vesact_top_s_esact_top.h"
#include "Vesact_vec_l4.h"
#include "Vesact_vec_l4_esact_vec.h"
#include "Vesact_vec_minilm.h"
#include "Vesact_vec_minilm_esact_vec.h"
#include "golden/layer.h"
#include "golden/report.h"
#include "golden/synthetic.h"
#include "sim/attn_driver.h"
#include "sim/gemm_driver.h"
#include "sim/predictor_driver.h"
#include "sim/top_driver.h"
#include "sim/vec_driver.h"

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

// One engine run, dense or with the SPLS row / key lists of the layer's decision.
struct EngineBench {
  std::string engine, shape, mode, what;
  bool pass = false;
  uint64_t cycles = 0;
  uint64_t macs = 0;  // useful MACs executed
  int pes = 0;        // MAC units of the configuration
  double seconds = 0;
  double Utilization() const { return cycles ? double(macs) / (double(pes) * cycles) : 0.0; }
};

bool HarnessClean() { return !::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed(); }

// esact_gemm on the output projection (ctx W_O): every valid row (dense) or the token
// anchors of the SPLS decision (a reused token takes its anchor's row).
template <class Model, class Params>
EngineBench RunGemmBench(const std::string& shape, const std::string& mode, const LayerParams& p,
                         const LayerResult& r, int n_valid) {
  std::vector<int> rows;
  for (int i = 0; i < n_valid; ++i) {
    if (r.decision.token_anchor[i] == i) rows.push_back(i);
  }
  EngineBench b{"esact_gemm", shape, mode, fmt::format("output projection, {} rows", rows.size())};
  sim::GemmDriver<Model, Params> driver(/*seed=*/1, /*wave_path=*/"");
  const auto start = std::chrono::steady_clock::now();
  const sim::GemmResult g = driver.RunGemm(r.ctx, p.o, rows, sim::GemmStalls{}, /*seed=*/1);
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  b.pass = g.done && g.err_code == 0 && g.y == LinearRows(r.ctx, p.o, rows) && driver.Finish() &&
           HarnessClean();
  b.cycles = g.cycles;
  b.macs = g.macs;
  b.pes = Params::Rows * Params::Cols;
  return b;
}

// esact_attn on every head: the anchors over their key lists (all valid keys when dense).
template <class Model, class Params>
EngineBench RunAttnBench(const std::string& shape, const std::string& mode, const LayerParams& p,
                         const LayerResult& r, int n_valid) {
  EngineBench b{"esact_attn", shape, mode, "scores, softmax and P.V of every head"};
  sim::AttnDriver<Model, Params> driver(/*seed=*/1, /*wave_path=*/"");
  const auto start = std::chrono::steady_clock::now();
  const sim::AttnLayerResult a = sim::RunLayerHeads(driver, p, r, n_valid, sim::AttnStalls{}, 1);
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  b.pass = a.ok && a.ctx == r.ctx && driver.Finish() && HarnessClean();
  b.cycles = a.cycles;
  b.macs = a.macs;
  b.pes = Params::Lanes;
  return b;
}

// The first n rows of m.
Matrix<int8_t> TopRows(const Matrix<int8_t>& m, int n) {
  Matrix<int8_t> out(n, m.cols);
  std::copy(m.data.begin(), m.data.begin() + static_cast<size_t>(n) * m.cols, out.data.begin());
  return out;
}

// esact_vec on LN1 of every valid row, h = LN(res1(x, a)) with the layer's residual scale
// res1, gamma and beta loaded in the run. LayerNorm is never skipped (a token keeps its own
// residual path), so there is no SPLS variant.
template <class Model, class Params>
EngineBench RunVecBench(const std::string& shape, const LayerFile& f, const LayerResult& r) {
  EngineBench b{"esact_vec", shape, "dense", "residual LayerNorm 1 of every valid row"};
  sim::VecDriver<Model, Params> driver(/*seed=*/1, /*wave_path=*/"");
  const auto start = std::chrono::steady_clock::now();
  const sim::VecResult v =
      driver.RunLayerNorm(TopRows(f.x, f.n_valid), TopRows(r.attn, f.n_valid), f.params.res1,
                          f.params.ln1, /*load=*/true, sim::VecStalls{}, 1);
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  b.pass = v.done && v.err_code == 0 && v.y == TopRows(r.h, f.n_valid) && driver.Finish() &&
           HarnessClean();
  b.cycles = v.cycles;
  b.macs = 0;  // not a MAC engine: utilization is not reported
  b.pes = Params::Lanes;
  return b;
}

template <class GemmModel, class GemmParams, class AttnModel, class AttnParams, class VecModel,
          class VecParams>
void RunEngines(const std::string& shape, const SyntheticSpec& spec,
                std::vector<EngineBench>* out) {
  const LayerFile f = MakeSyntheticLayer(spec).file;
  SplsConfig dense_cfg = f.spls;
  dense_cfg.enabled = false;
  const LayerResult dense = RunLayer(f.params, f.x, f.n_valid, dense_cfg);
  const LayerResult spls = RunLayer(f.params, f.x, f.n_valid, f.spls);
  for (const auto& [mode, r] : {std::pair<std::string, const LayerResult&>{"dense", dense},
                                std::pair<std::string, const LayerResult&>{"spls", spls}}) {
    out->push_back(RunGemmBench<GemmModel, GemmParams>(shape, mode, f.params, r, f.n_valid));
    out->push_back(RunAttnBench<AttnModel, AttnParams>(shape, mode, f.params, r, f.n_valid));
  }
  out->push_back(RunVecBench<VecModel, VecParams>(shape, f, dense));
}

void PrintEngines(const std::vector<EngineBench>& benches) {
  fmt::print("\n== compute engines: dense and with the SPLS lists (no stalls) ==\n");
  fmt::print("{:<11} {:<7} {:<6} {:>10} {:>12} {:>6} {:>8} {:>11} {:>6}  {}\n", "engine", "shape",
             "mode", "cycles", "MACs", "util", "speedup", "sim cyc/s", "golden", "work");
  for (const EngineBench& b : benches) {
    // Speedup of this SPLS run over the dense run of the same engine and shape.
    std::string speedup = "";
    for (const EngineBench& d : benches) {
      if (b.mode == "spls" && d.mode == "dense" && d.engine == b.engine && d.shape == b.shape) {
        speedup = fmt::format("{:.2f}x", double(d.cycles) / double(b.cycles));
      }
    }
    fmt::print("{:<11} {:<7} {:<6} {:>10} {:>12} {:>5.1f}% {:>8} {:>11.0f} {:>6}  {}\n", b.engine,
               b.shape, b.mode, b.cycles, b.macs, 100.0 * b.Utilization(), speedup,
               b.seconds > 0 ? b.cycles / b.seconds : 0.0, b.pass ? "PASS" : "FAIL", b.what);
  }
  fmt::print(
      "util: useful MACs / (MAC units x cycles); esact_attn has Lanes MAC units; "
      "esact_vec is not a MAC engine\n");
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

// The whole layer through esact_top, dense and SPLS (no memory stalls, latency 1).
struct TopBench {
  std::string shape, model;
  sim::TopReport r;
};

template <class Model, class Params>
TopBench RunTop(const std::string& shape, const std::string& model, const SyntheticSpec& spec) {
  const SyntheticLayer s = MakeSyntheticLayer(spec);
  const sim::TopLayer l{s.file.params, s.file.x, s.file.n_valid, s.file.spls};
  uint64_t next = 1'000'000;
  const auto progress = [&next](uint64_t cycle) {
    if (cycle < next) return;
    fmt::print(stderr, "  ... {} M cycles\n", cycle / 1'000'000);
    next += 1'000'000;
  };
  return {shape, model,
          sim::RunTopDenseAndSpls<Model, Params>(l, 1, sim::TopTraffic::None(), "", progress)};
}

void PrintTop(const std::vector<TopBench>& tops) {
  fmt::print("\n== esact_top: the whole layer, dense and SPLS ==\n");
  fmt::print("{:<8} {:>11} {:>11} {:>8} {:>8} {:>9} {:>9} {:>10} {:>11} {:>6}\n", "shape",
             "dense cyc", "SPLS cyc", "speedup", "ideal", "MAC util", "pred busy", "pred ops",
             "sim cyc/s", "check");
  for (const TopBench& t : tops) {
    const sim::TopReport& r = t.r;
    const uint64_t cycles = r.spls.run.counter("CYCLES");
    fmt::print(
        "{:<8} {:>11} {:>11} {:>7.2f}x {:>7.2f}x {:>8.1f}% {:>8.1f}% {:>10} {:>11.0f} {:>6}\n",
        t.shape, r.dense.run.counter("CYCLES"), cycles, r.speedup(), r.ideal_speedup(),
        100 * r.pe_utilization(), cycles ? 100.0 * r.spls.run.counter("CYC_PREDICT") / cycles : 0.0,
        r.predictor_ops, r.sim_cycles_per_s(), r.pass() ? "PASS" : "FAIL");
  }
  fmt::print(
      "ideal: dense MACs / executed MACs; MAC util: executed MACs per cycle of the SPLS run "
      "over the GEMM array plus the attention lanes; pred busy: share of the SPLS run's "
      "cycles with the predictor running\n");
  fmt::print(
      "\n== energy ESTIMATE: 45 nm per-operation energies x the RTL's counters "
      "(docs/energy.md) ==\n");
  fmt::print("{:<8} {:>10} {:>10} {:>9} {:>11} {:>11} {:>13} {:>10}\n", "shape", "dense uJ",
             "SPLS uJ", "DRAM %", "TOPS/W den", "TOPS/W SPLS", "SPLS no DRAM", "attn E x");
  for (const TopBench& t : tops) {
    const sim::EnergyEstimate ed = t.r.Energy(t.r.dense), es = t.r.Energy(t.r.spls);
    fmt::print("{:<8} {:>10.1f} {:>10.1f} {:>8.1f}% {:>11.3f} {:>11.3f} {:>13.3f} {:>9.2f}x\n",
               t.shape, ed.total_uj, es.total_uj, 100 * es.dram_uj / es.total_uj,
               ed.tops_per_w_dense_equivalent, es.tops_per_w_dense_equivalent,
               es.tops_per_w_no_dram,
               es.attention_uj > 0 ? ed.attention_uj / es.attention_uj : 0.0);
  }
  fmt::print(
      "TOPS/W: 2 x dense MACs (the work the layer does) per joule; attn E x: attention-level "
      "energy (scores and P.V MACs, plus the PAM for SPLS) dense over SPLS\n");
}

void WriteJson(const std::vector<PredictorBench>& benches, const std::vector<EngineBench>& engines,
               const std::vector<TopBench>& tops, const std::string& path) {
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
  out += "  ],\n  \"engines\": [\n";
  for (size_t i = 0; i < engines.size(); ++i) {
    const EngineBench& b = engines[i];
    out += fmt::format(
        "    {{\"engine\": \"{}\", \"shape\": \"{}\", \"mode\": \"{}\", \"pass\": {}, "
        "\"cycles\": {}, \"macs\": {}, \"mac_units\": {}, \"utilization\": {:.4f}, "
        "\"sim_cycles_per_s\": {:.0f}}}{}\n",
        b.engine, b.shape, b.mode, b.pass ? "true" : "false", b.cycles, b.macs, b.pes,
        b.Utilization(), b.seconds > 0 ? b.cycles / b.seconds : 0.0,
        i + 1 < engines.size() ? "," : "");
  }
  out += "  ],\n  \"top\": [\n";
  for (size_t i = 0; i < tops.size(); ++i) {
    out +=
        fmt::format("    {{\"shape\": \"{}\", \"model\": \"{}\", \"results\": {}}}{}\n",
                    tops[i].shape, tops[i].model, tops[i].r.Json(), i + 1 < tops.size() ? "," : "");
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

  std::vector<EngineBench> engines;
  fmt::print("\nrunning the engines on the small shape...\n");
  RunEngines<Vesact_gemm_r4c4, Vesact_gemm_r4c4_esact_gemm, Vesact_attn_n32_l8,
             Vesact_attn_n32_l8_esact_attn, Vesact_vec_l4, Vesact_vec_l4_esact_vec>(
      "small", BenchSpec(32, 2, 16), &engines);
  fmt::print("running the engines on the MiniLM shape (minutes)...\n");
  RunEngines<Vesact_gemm_minilm, Vesact_gemm_minilm_esact_gemm, Vesact_attn_minilm,
             Vesact_attn_minilm_esact_attn, Vesact_vec_minilm, Vesact_vec_minilm_esact_vec>(
      "minilm", BenchSpec(384, 12, 128), &engines);
  PrintEngines(engines);

  std::vector<TopBench> tops;
  fmt::print(
      "\nrunning the whole layer through esact_top, small shape (d 64, 4 heads, 32 tokens)...\n");
  tops.push_back(
      RunTop<Vesact_top_s, Vesact_top_s_esact_top>("small", "Vesact_top_s", BenchSpec(64, 4, 32)));
  fmt::print("running the whole layer through esact_top, MiniLM shape (minutes)...\n");
  tops.push_back(RunTop<Vesact_top_minilm, Vesact_top_minilm_esact_top>(
      "minilm", "Vesact_top_minilm", BenchSpec(384, 12, 128)));
  PrintTop(tops);
  WriteJson(benches, engines, tops, json);
  bool pass = true;
  for (const PredictorBench& b : benches) pass = pass && b.pass;
  for (const EngineBench& b : engines) pass = pass && b.pass;
  for (const TopBench& t : tops) pass = pass && t.r.pass();
  return pass ? 0 : 1;
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
