// esact-sim: the front end behind `make sim`.
//
// Loads a layer (a layer file, or the default synthetic layer), runs it through the
// golden model in dense and SPLS mode, prints what SPLS skipped per component, then runs
// the RTL that exists so far (esact_hlog_quant on the layer input) against the golden
// model and writes its waveform. Exit status 0 only if every RTL check passes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "Vesact_hlog_quant_l4.h"
#include "golden/layer.h"
#include "golden/layer_io.h"
#include "golden/report.h"
#include "golden/synthetic.h"
#include "sim/hlog_quant_driver.h"

namespace esact {
namespace {

constexpr int kLanes = 4;

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

// Streams the layer input through esact_hlog_quant and compares every code with the
// golden HLog of the input. Returns true on a bit-exact match.
bool RunHlogQuant(const LayerFile& f, const std::string& wave_path, uint64_t seed) {
  const int bits = f.spls.hlog_bits;
  const HlogRound round = f.spls.round;
  std::vector<int> values(f.x.data.begin(), f.x.data.end());
  values.resize((values.size() + kLanes - 1) / kLanes * kLanes, 0);  // pad the last beat
  const std::vector<uint32_t> in = sim::Pack(values, kLanes);

  sim::HlogQuantDriver<Vesact_hlog_quant_l4, kLanes> driver(seed, wave_path);
  driver.Configure(bits, round);
  uint64_t cycles = 0;
  // Random idle and back-pressure, as the block will see inside the predictor.
  const std::vector<uint32_t> out =
      driver.Run(in, sim::StallSpec::Random(0.2), sim::StallSpec::Bursty(), seed,
                 40 * in.size() + 100, &cycles);

  const Matrix<HlogCode> want = HlogQuantMatrix(f.x, bits, round);
  int mismatches = out.size() == in.size() ? 0 : 1;
  for (size_t i = 0; i < out.size() && i * kLanes < want.data.size(); ++i) {
    for (int l = 0; l < kLanes && i * kLanes + l < want.data.size(); ++l) {
      const HlogCode golden = want.data[i * kLanes + l];
      const uint32_t got = sim::LaneCode(out[i], l);
      if (got != golden && ++mismatches <= 5) {
        fmt::print("  mismatch: element {} x={} code 0x{:02x}, golden 0x{:02x}\n", i * kLanes + l,
                   sim::LaneValue(in[i], l), got, golden);
      }
    }
  }
  const bool rtl_ok = driver.Finish();
  // The harness reports through gtest; outside a test its failures land here.
  const bool harness_ok = !::testing::UnitTest::GetInstance()->ad_hoc_test_result().Failed();
  const bool pass = mismatches == 0 && rtl_ok && harness_ok;
  fmt::print("== RTL: esact_hlog_quant (Lanes {}) on the layer input ==\n", kLanes);
  fmt::print("{} int8 values in {} beats, {} cycles with random stalls, {} mismatches: {}\n",
             f.x.data.size(), in.size(), cycles, mismatches, pass ? "PASS" : "FAIL");
  if (!driver.wave_path().empty()) fmt::print("waveform: {}\n", driver.wave_path());
  return pass;
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
  return RunHlogQuant(file, opt.wave_path, opt.seed) ? 0 : 1;
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
