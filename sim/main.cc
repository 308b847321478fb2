// esact-sim: the front end behind `make sim`.
//
// Loads a layer (a layer file, or the default synthetic layer), runs it through the
// golden model in dense and SPLS mode, prints what SPLS skipped per component, then runs
// the SPLS prediction unit in RTL (esact_predictor) on the layer input against the golden
// model's decisions and writes its waveform. Exit status 0 only if every check passes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "Vesact_predictor_l8.h"
#include "Vesact_predictor_l8_esact_predictor.h"
#include "Vesact_predictor_minilm.h"
#include "Vesact_predictor_minilm_esact_predictor.h"
#include "golden/layer.h"
#include "golden/layer_io.h"
#include "golden/report.h"
#include "golden/synthetic.h"
#include "sim/predictor_driver.h"

namespace esact {
namespace {

struct Options {
  std::string layer_path;        // empty: the default synthetic layer
  std::string write_layer_path;  // write the layer used here
  std::string wave_path;         // FST of the RTL run; empty: none
  uint64_t seed = 1;
};

void Usage() {
  std::fputs(
      "usage: esact-sim [--layer FILE] [--seed N] [--write-layer FILE] [--wave FILE.fst]\n"
      "  --layer FILE        run this layer file (docs/layer-format.md)\n"
      "  --seed N            seed of the default synthetic layer (default 1)\n"
      "  --write-layer FILE  write the layer that was run\n"
      "  --wave FILE.fst     write the RTL waveform\n",
      stderr);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--layer" && has_value) {
      o->layer_path = argv[++i];
    } else if (a == "--write-layer" && has_value) {
      o->write_layer_path = argv[++i];
    } else if (a == "--wave" && has_value) {
      o->wave_path = argv[++i];
    } else if (a == "--seed" && has_value) {
      o->seed = std::stoull(argv[++i]);
    } else {
      fmt::print(stderr, "esact-sim: unknown or incomplete argument '{}'\n", a);
      return false;
    }
  }
  return true;
}

void PrintGolden(const LayerFile& f, const SyntheticLayer* synthetic) {
  const LayerParams& p = f.params;
  const SplsConfig& s = f.spls;
  fmt::print("layer: d_model {}, heads {}, d_ff {}, tokens {} ({} valid)\n", p.d_model, p.n_heads,
             p.d_ff, f.n_tokens, f.n_valid);
  fmt::print("SPLS:  HLog {} bits ({}), k {}, w {}, t {}, FFN policy {}\n\n", s.hlog_bits,
             s.round == HlogRound::kNearest ? "nearest" : "toward zero", s.k, s.w, s.t,
             s.ffn == FfnPolicy::kReuse ? "reuse" : "none");

  SplsConfig dense_cfg = s;
  dense_cfg.enabled = false;
  SplsConfig spls_cfg = s;
  spls_cfg.enabled = true;
  const LayerResult dense = RunLayer(p, f.x, f.n_valid, dense_cfg);
  const LayerResult spls = RunLayer(p, f.x, f.n_valid, spls_cfg);

  fmt::print("== golden model: operations, SPLS versus dense ==\n{}\n", FormatOpTable(spls.ops));
  fmt::print("== SPLS decisions ==\n{}\n", FormatDecisionSummary(spls.decision, f.n_valid));
  fmt::print("== quality ==\n");
  const Matrix<float> y_dense = DequantizeTensor(dense.y, p.y_scale);
  fmt::print("cosine(int8 SPLS, int8 dense)  {:.4f}\n",
             Cosine(DequantizeTensor(spls.y, p.y_scale), y_dense, f.n_valid));
  if (synthetic != nullptr) {
    const Matrix<float> y_fp32 = RunLayerFloat(synthetic->fp32, synthetic->x_fp32, f.n_valid);
    fmt::print("cosine(int8 dense, fp32)       {:.4f}\n", Cosine(y_dense, y_fp32, f.n_valid));
  }
  fmt::print("\n");
}

// The simulated predictor configurations, smallest first (rtl/tops.txt).
using SmallPredictor =
    sim::PredictorDriver<Vesact_predictor_l8, Vesact_predictor_l8_esact_predictor>;
using MiniLmPredictor =
    sim::PredictorDriver<Vesact_predictor_minilm, Vesact_predictor_minilm_esact_predictor>;

// Why the layer does not fit a predictor configuration, or "".
template <class D>
std::string PredictorFit(const LayerFile& f) {
  const int dh = f.params.d_head();
  if (f.n_tokens > D::kNMax || f.params.d_model > D::kDMax || dh > D::kDhMax ||
      f.params.n_heads > D::kHMax || f.spls.k > D::kKMax || f.spls.w > D::kWMax ||
      f.params.d_model % D::kLanes != 0 || dh % D::kLanes != 0) {
    return fmt::format(
        "the layer (tokens {}, d {}, d_head {}, heads {}, k {}, w {}) exceeds the simulated "
        "esact_predictor (NMax {}, DMax {}, DhMax {}, HMax {}, KMax {}, WMax {}, dims multiples "
        "of Lanes {})",
        f.n_tokens, f.params.d_model, dh, f.params.n_heads, f.spls.k, f.spls.w, D::kNMax, D::kDMax,
        D::kDhMax, D::kHMax, D::kKMax, D::kWMax, D::kLanes);
  }
  return "";
}

// Runs the layer input through esact_predictor with random idle and back-pressure on all
// five streams and compares every decision with the golden model. True on a match.
template <class PredictorDriver>
bool RunPredictorOn(const LayerFile& f, const std::string& wave_path, uint64_t seed) {
  fmt::print("== RTL: esact_predictor (Lanes {}, NMax {}, DMax {}) on the layer input ==\n",
             PredictorDriver::kLanes, PredictorDriver::kNMax, PredictorDriver::kDMax);
  SplsConfig cfg = f.spls;
  cfg.enabled = true;
  const PredictorWeights weights = MakePredictorWeights(f.params, cfg);
  PredictorDriver driver(seed, wave_path);
  const sim::PredictorResult r =
      driver.RunLayer(f.x, f.n_valid, f.params.n_heads, weights, cfg,
                      sim::PredictorStalls::All(sim::StallSpec::Random(0.2)), seed);
  const SplsDecision want = Predict(f.x, f.n_valid, f.params.n_heads, weights, cfg);
  std::string diff = r.done ? FirstDecisionDifference(r.decision, want) : "no done_o";
  if (r.err_code != 0) diff = fmt::format("error code {}", r.err_code);
  const bool rtl_ok = driver.Finish();
  // The harness reports through gtest; outside a test its failures land here.
  const bool harness_ok = !::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
  const bool pass = diff.empty() && rtl_ok && harness_ok;
  fmt::print("{} heads in {} cycles with random stalls on every stream; head done at cycle:",
             f.params.n_heads, r.cycles);
  for (uint64_t c : r.head_cycles) fmt::print(" {}", c);
  fmt::print("\nSPA sets, reuse map, needed K/V and token anchors versus the golden model: {}\n",
             diff.empty() ? "identical" : diff);
  fmt::print("decisions: {}\n", pass ? "PASS" : "FAIL");
  if (!driver.harness().wave_path().empty()) {
    fmt::print("waveform: {}\n", driver.harness().wave_path());
  }
  return pass;
}

// The smallest predictor configuration that holds the layer.
bool RunPredictor(const LayerFile& f, const std::string& wave_path, uint64_t seed) {
  if (PredictorFit<SmallPredictor>(f).empty()) {
    return RunPredictorOn<SmallPredictor>(f, wave_path, seed);
  }
  if (const std::string why = PredictorFit<MiniLmPredictor>(f); !why.empty()) {
    fmt::print("== RTL: esact_predictor ==\nFAIL: {}\n", why);
    return false;
  }
  return RunPredictorOn<MiniLmPredictor>(f, wave_path, seed);
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) {
    Usage();
    return 2;
  }
  LayerFile file;
  SyntheticLayer synthetic;
  const bool is_synthetic = opt.layer_path.empty();
  if (is_synthetic) {
    SyntheticSpec spec;
    spec.seed = opt.seed;
    synthetic = MakeSyntheticLayer(spec);
    file = synthetic.file;
    fmt::print("default synthetic layer (seed {}, similarity {})\n", spec.seed, spec.similarity);
  } else {
    file = ReadLayerFile(opt.layer_path);
    fmt::print("layer file {}\n", opt.layer_path);
  }
  if (!opt.write_layer_path.empty()) {
    WriteLayerFile(opt.write_layer_path, file);
    fmt::print("wrote {}\n", opt.write_layer_path);
  }
  PrintGolden(file, is_synthetic ? &synthetic : nullptr);
  return RunPredictor(file, opt.wave_path, opt.seed) ? 0 : 1;
}

}  // namespace
}  // namespace esact

int main(int argc, char** argv) {
  try {
    return esact::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-sim: %s\n", e.what());
    return 1;
  }
}
