// esact-minilm: the real sentence encoder (all-MiniLM-L6-v2) in the golden model.
//
//   esact-minilm embed --network NET TEXT...
//       token ids and the fp32 sentence embedding of each TEXT
//   esact-minilm export-layer --network NET --out FILE.esl [--layer L] [--text TEXT]
//                             [--calib-file FILE]
//       one real layer with a real input in the layer format (docs/layer-format.md), for
//       `esact-sim --layer FILE.esl` and the RTL: QuantizeLayer calibrated on real sentences,
//       the input padded to 128 tokens (docs/minilm.md, "One real layer")
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "golden/layer.h"
#include "golden/layer_io.h"
#include "golden/minilm.h"
#include "golden/network_io.h"
#include "golden/report.h"
#include "golden/spls.h"

namespace esact {
namespace {

// The default layer input: a package-description-like paragraph of 95 word pieces.
constexpr const char* kDefaultText =
    "This library provides a portable, high-performance implementation of the core "
    "algorithms needed to compress and decompress data streams. It supports several "
    "container formats, streaming operation with bounded memory, multi-threaded "
    "compression on machines with many cores, and checksums that detect corruption. "
    "The command-line tools are compatible with the traditional utilities, so existing "
    "scripts keep working, while the shared library offers a stable interface for "
    "applications written in C, C++ and other languages.";

// The default calibration sequences (the input is one of them too).
constexpr const char* kDefaultCalibration[] = {
    "GNU Make is a tool which controls the generation of executables and other non-source "
    "files of a program from the program's source files.",
    "In 2023, the company's revenue grew by 17.5% to $4.2 billion (up from $3.6bn).",
    "The quick brown fox jumps over the lazy dog.",
    "e-mail: someone@example.org, phone +1-555-0100; see http://example.com/path?q=1&r=2#top",
    "A command-line utility that downloads files over HTTP, HTTPS and FTP, resumes "
    "interrupted transfers, follows links recursively to mirror whole web sites, and runs "
    "unattended in the background, which makes it a common tool in scripts and cron jobs.",
};

constexpr int kLayerTokens = 128;  // the layer file's n_tokens: MiniLM's sequence length

void Usage() {
  std::fputs(
      "usage: esact-minilm embed --network NET TEXT...\n"
      "       esact-minilm export-layer --network NET --out FILE.esl [--layer L]\n"
      "                                 [--text TEXT] [--calib-file FILE]\n"
      "  --network NET     network file (docs/network-format.md)\n"
      "  --out FILE.esl    layer file to write (docs/layer-format.md)\n"
      "  --layer L         which encoder layer (default 0)\n"
      "  --text TEXT       the layer's input sentence (default: a built-in paragraph)\n"
      "  --calib-file FILE calibration sentences, one per line (default: built-in ones)\n",
      stderr);
}

struct Options {
  std::string command, network, out, text = kDefaultText, calib_file;
  int layer = 0;
  std::vector<std::string> texts;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  if (argc < 2) return false;
  o->command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--network" && has_value) {
      o->network = argv[++i];
    } else if (a == "--out" && has_value) {
      o->out = argv[++i];
    } else if (a == "--layer" && has_value) {
      o->layer = std::stoi(argv[++i]);
    } else if (a == "--text" && has_value) {
      o->text = argv[++i];
    } else if (a == "--calib-file" && has_value) {
      o->calib_file = argv[++i];
    } else if (a.rfind("--", 0) == 0) {
      fmt::print(stderr, "esact-minilm: unknown or incomplete argument '{}'\n", a);
      return false;
    } else {
      o->texts.push_back(a);
    }
  }
  if (o->network.empty()) {
    fmt::print(stderr, "esact-minilm: --network is required\n");
    return false;
  }
  if (o->command == "embed") return !o->texts.empty();
  if (o->command == "export-layer") return !o->out.empty() && o->texts.empty();
  return false;
}

int Embed(const FloatNetwork& net, const Options& opt) {
  const WordPieceTokenizer tok = MakeTokenizer(net);
  for (const std::string& text : opt.texts) {
    const std::vector<int> ids = tok.Encode(text);
    std::vector<std::string> pieces;
    for (int id : ids) pieces.push_back(tok.Token(id));
    const std::vector<float> e = SentenceEmbeddingFloat(net, ids);
    fmt::print("text:      {}\nids ({}):  {}\ntokens:    {}\nembedding: {:.7g}\n\n", text,
               ids.size(), fmt::join(ids, " "), fmt::join(pieces, " "), fmt::join(e, " "));
  }
  return 0;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) throw std::runtime_error(path + ": no sentences");
  return lines;
}

int ExportLayer(const FloatNetwork& net, const Options& opt) {
  const WordPieceTokenizer tok = MakeTokenizer(net);
  std::vector<std::string> calib_text;
  if (opt.calib_file.empty()) {
    calib_text.assign(std::begin(kDefaultCalibration), std::end(kDefaultCalibration));
    calib_text.push_back(opt.text);
  } else {
    calib_text = ReadLines(opt.calib_file);
  }
  std::vector<std::vector<int>> calib_ids;
  for (const std::string& t : calib_text) calib_ids.push_back(tok.Encode(t));
  const std::vector<int> ids = tok.Encode(opt.text);

  const NetworkLayer layer = MakeNetworkLayer(net, opt.layer, ids, calib_ids, kLayerTokens);
  const LayerFile& f = layer.file;
  WriteLayerFile(opt.out, f);

  // How close the int8 layer comes to the fp32 layer on this input, dense and with SPLS, and
  // what SPLS removes (esact-sim --layer prints the same golden table, then runs the RTL).
  const Matrix<float> y_fp32 = RunLayerFloat(net.layers[opt.layer], layer.x_fp32, f.n_valid);
  SplsConfig dense_cfg = f.spls;
  dense_cfg.enabled = false;
  const LayerResult dense = RunLayer(f.params, f.x, f.n_valid, dense_cfg);
  const LayerResult spls = RunLayer(f.params, f.x, f.n_valid, f.spls);
  const Matrix<float> y_dense = DequantizeTensor(dense.y, f.params.y_scale);
  const Matrix<float> y_spls = DequantizeTensor(spls.y, f.params.y_scale);
  const SplsConfig& s = f.spls;
  fmt::print(
      "layer {} of {}: d_model {}, heads {}, d_ff {}, tokens {} ({} valid), calibrated on {} "
      "sentences\n"
      "x_scale {:.6g}, y_scale {:.6g}, predictor shifts q {} k {}\n"
      "SPLS: HLog {} bits, k {}, w {}, t {}, FFN policy {}\n\n",
      opt.layer, net.n_layers, f.params.d_model, f.params.n_heads, f.params.d_ff, f.n_tokens,
      f.n_valid, calib_ids.size(), f.params.x_scale, f.params.y_scale, f.params.pred_q_shift,
      f.params.pred_k_shift, s.hlog_bits, s.k, s.w, s.t,
      s.ffn == FfnPolicy::kReuse ? "reuse" : "none");
  fmt::print("== golden model: operations, SPLS versus dense ==\n{}\n", FormatOpTable(spls.ops));
  fmt::print("== quality on this input ==\n");
  fmt::print("cosine(int8 input, fp32 input)    {:.4f}\n",
             Cosine(DequantizeTensor(f.x, f.params.x_scale), layer.x_fp32, f.n_valid));
  fmt::print("cosine(int8 dense, fp32 layer)    {:.4f}\n", Cosine(y_dense, y_fp32, f.n_valid));
  fmt::print("cosine(int8 SPLS, int8 dense)     {:.4f}\n", Cosine(y_spls, y_dense, f.n_valid));
  fmt::print("cosine(int8 SPLS, fp32 layer)     {:.4f}\n", Cosine(y_spls, y_fp32, f.n_valid));
  fmt::print("\nwrote {} (run it with: esact-sim --layer {})\n", opt.out, opt.out);
  return 0;
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) {
    Usage();
    return 2;
  }
  const FloatNetwork net = ReadNetworkFile(opt.network);
  return opt.command == "embed" ? Embed(net, opt) : ExportLayer(net, opt);
}

}  // namespace
}  // namespace esact

int main(int argc, char** argv) {
  try {
    return esact::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esact-minilm: %s\n", e.what());
    return 1;
  }
}
