// esact-sim: the front end behind `make sim`.
//
// Loads a layer (a layer file, or the default synthetic layer), runs it through the
// golden model in dense and SPLS mode, prints what SPLS skipped per component, then runs
// the whole layer through the RTL (esact_top: registers, DMA, predictor, engines) dense and
// with SPLS under random memory latency and back-pressure, checks Y and every decision
// against the golden model, prints the cycles, counters and speedup, and writes the SPLS
// run's waveform. --json prints the results as one JSON object instead. Exit status 0 only
// if every check passes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "Vesact_top_minilm.h"
#include "Vesact_top_minilm_esact_top.h"
#include "Vesact_top_s.h"
#include "Vesact_top_s_esact_top.h"
#include "golden/layer.h"
#include "golden/layer_io.h"
#include "golden/report.h"
#include "golden/synthetic.h"
#include "sim/top_driver.h"

namespace esact {
namespace {

struct Options {
  std::string layer_path;        // empty: the default synthetic layer
  std::string write_layer_path;  // write the layer used here
  std::string wave_path;         // FST of the RTL run; empty: none
  uint64_t seed = 1;
  bool json = false;  // print one JSON object on stdout (the report to stderr)
};

void Usage() {
  std::fputs(
      "usage: esact-sim [--layer FILE] [--seed N] [--write-layer FILE] [--wave FILE.fst] "
      "[--json]\n"
      "  --layer FILE        run this layer file (docs/layer-format.md)\n"
      "  --seed N            seed of the default synthetic layer (default 1)\n"
      "  --write-layer FILE  write the layer that was run\n"
      "  --wave FILE.fst     write the RTL waveform (the SPLS run)\n"
      "  --json              print one JSON object with the results on stdout\n",
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
    } else if (a == "--json") {
      o->json = true;
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

// The simulated top configurations, smallest first (rtl/tops.txt).
using SmallTop = Vesact_top_s_esact_top;
using MiniLmTop = Vesact_top_minilm_esact_top;

// Why the layer does not fit a top configuration, or "".
template <class P>
std::string TopFit(const LayerFile& f) {
  const int dh = f.params.d_head();
  const int l = P::Lanes;
  if (f.n_tokens > static_cast<int>(P::NMax) || f.params.d_model > static_cast<int>(P::DMax) ||
      f.params.d_ff > static_cast<int>(P::DffMax) || dh > static_cast<int>(P::DhMax) ||
      f.params.n_heads > static_cast<int>(P::HMax) || f.spls.k > static_cast<int>(P::KMax) ||
      f.spls.w > static_cast<int>(P::WMax) || f.params.d_model % l != 0 || f.params.d_ff % l != 0 ||
      dh % l != 0 || (f.spls.enabled && dh % P::PredLanes != 0)) {
    return fmt::format(
        "the layer (tokens {}, d {}, d_ff {}, d_head {}, heads {}, k {}, w {}) exceeds the "
        "simulated esact_top (NMax {}, DMax {}, DffMax {}, DhMax {}, HMax {}, KMax {}, WMax {}, "
        "dims multiples of Lanes {}, d_head of PredLanes {})",
        f.n_tokens, f.params.d_model, f.params.d_ff, dh, f.params.n_heads, f.spls.k, f.spls.w,
        P::NMax, P::DMax, P::DffMax, P::DhMax, P::HMax, P::KMax, P::WMax, P::Lanes, P::PredLanes);
  }
  return "";
}

// The layer through esact_top, dense and SPLS, with random memory latency and
// back-pressure; Y and every decision against the golden model.
template <class Model, class P>
bool RunTopOn(const LayerFile& f, const Options& opt) {
  std::FILE* out = opt.json ? stderr : stdout;
  fmt::print(out,
             "== RTL: esact_top (Lanes {}, PredLanes {}, NMax {}, DMax {}, DffMax {}), dense and "
             "SPLS ==\n",
             P::Lanes, P::PredLanes, P::NMax, P::DMax, P::DffMax);
  const sim::TopLayer layer{f.params, f.x, f.n_valid, f.spls};
  uint64_t next = 1'000'000;
  const auto progress = [&next](uint64_t cycle) {
    if (cycle < next) return;
    fmt::print(stderr, "  ... {} M cycles\n", cycle / 1'000'000);
    next += 1'000'000;
  };
  const sim::TopReport r = sim::RunTopDenseAndSpls<Model, P>(
      layer, opt.seed, sim::TopTraffic::Random(), opt.wave_path, progress);
  // The harness reports through gtest; outside a test its failures land here.
  const bool harness_ok = !::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
  fmt::print(out, "{}", r.Text());
  if (!harness_ok) fmt::print(out, "FAIL: the harness reported an error (above)\n");
  if (!opt.wave_path.empty()) fmt::print(out, "waveform (SPLS run): {}\n", opt.wave_path);
  if (opt.json) fmt::print("{}\n", r.Json());
  return r.pass() && harness_ok;
}

// The smallest top configuration that holds the layer.
bool RunTop(const LayerFile& f, const Options& opt) {
  if (TopFit<SmallTop>(f).empty()) return RunTopOn<Vesact_top_s, SmallTop>(f, opt);
  if (const std::string why = TopFit<MiniLmTop>(f); !why.empty()) {
    fmt::print("== RTL: esact_top ==\nFAIL: {}\n", why);
    return false;
  }
  return RunTopOn<Vesact_top_minilm, MiniLmTop>(f, opt);
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
    if (!opt.json) {
      fmt::print("default synthetic layer (seed {}, similarity {})\n", spec.seed, spec.similarity);
    }
  } else {
    file = ReadLayerFile(opt.layer_path);
    if (!opt.json) fmt::print("layer file {}\n", opt.layer_path);
  }
  if (!opt.write_layer_path.empty()) {
    WriteLayerFile(opt.write_layer_path, file);
    fmt::print("wrote {}\n", opt.write_layer_path);
  }
  if (!opt.json) PrintGolden(file, is_synthetic ? &synthetic : nullptr);
  return RunTop(file, opt) ? 0 : 1;
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
