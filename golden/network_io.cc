// The network file format; docs/network-format.md is its normative description and must
// change together with VisitNetwork below and with scripts/minilm/export_network.py.
#include "golden/network_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <vector>

namespace esact {
namespace {

static_assert(std::is_same<int, int32_t>::value, "the network format assumes a 32-bit int");
static_assert(sizeof(float) == 4, "the network format stores IEEE-754 binary32");

constexpr std::array<char, 8> kMagic = {'E', 'S', 'A', 'C', 'T', 'N', 'E', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kCrcBytes = 4;

// CRC-32 (IEEE 802.3, zlib), as in the layer file, table-driven: network files are ~90 MB.
uint32_t Crc32(const uint8_t* data, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) crc = (crc >> 8) ^ table[(crc ^ data[i]) & 0xFFu];
  return crc ^ 0xFFFFFFFFu;
}

// Little-endian bits of a 1- or 4-byte value, independent of the host byte order.
template <typename T>
void EncodeLe(T value, uint8_t* out) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(bits >> (8 * i));
}

template <typename T>
T DecodeLe(const uint8_t* in) {
  uint32_t bits = 0;
  for (size_t i = 0; i < sizeof(T); ++i) bits |= uint32_t{in[i]} << (8 * i);
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

[[noreturn]] void Fail(const std::string& path, const std::string& field,
                       const std::string& reason) {
  throw NetworkFileError(path, field, reason);
}

class Encoder {
 public:
  void U32(const std::string&, uint32_t v) { Put(v); }
  void I32(const std::string&, int32_t v) { Put(v); }
  void F32(const std::string&, float v) { Put(v); }
  template <typename E>
  void Code(const std::string&, E v, uint8_t) {
    Put(static_cast<uint8_t>(v));
  }
  // u32 rows, u32 cols, elements row-major.
  void Mat(const std::string&, const Matrix<float>& m) {
    Put(static_cast<uint32_t>(m.rows));
    Put(static_cast<uint32_t>(m.cols));
    for (float e : m.data) Put(e);
  }
  void Vec(const std::string&, const std::vector<float>& v) {
    Put(static_cast<uint32_t>(v.size()));
    for (float e : v) Put(e);
  }
  void Strings(const std::string&, const std::vector<std::string>& v) {
    Put(static_cast<uint32_t>(v.size()));
    for (const std::string& s : v) {
      Put(static_cast<uint32_t>(s.size()));
      bytes_.insert(bytes_.end(), s.begin(), s.end());
    }
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  template <typename T>
  void Put(T v) {
    bytes_.resize(bytes_.size() + sizeof(T));
    EncodeLe(v, &bytes_[bytes_.size() - sizeof(T)]);
  }
  std::vector<uint8_t> bytes_;
};

// Reads fields from [pos, end); nothing is allocated for a field before its bytes are known
// to be present.
class Decoder {
 public:
  Decoder(const std::string& path, const std::vector<uint8_t>& bytes, size_t end)
      : path_(path), bytes_(bytes), end_(end) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& reason) const {
    esact::Fail(path_, field, reason);
  }
  void Skip(const std::string& field, size_t n) {
    Need(field, n);
    pos_ += n;
  }
  void U32(const std::string& field, uint32_t& v) { v = Get<uint32_t>(field); }
  void I32(const std::string& field, int32_t& v) { v = Get<int32_t>(field); }
  void F32(const std::string& field, float& v) { v = Get<float>(field); }
  template <typename E>
  void Code(const std::string& field, E& v, uint8_t max) {
    const uint8_t code = Get<uint8_t>(field);
    if (auto e = CheckRange(field, code, 0, max)) Fail(e.field, e.reason);
    v = static_cast<E>(code);
  }
  void Mat(const std::string& field, Matrix<float>& m) {
    const int rows = Count(field + ".rows", kMaxLayerDim);
    const int cols = Count(field + ".cols", kMaxLayerDim);
    Need(field, uint64_t{4} * rows * cols);
    m = Matrix<float>(rows, cols);
    for (float& e : m.data) e = Take<float>();
  }
  void Vec(const std::string& field, std::vector<float>& v) {
    const int n = Count(field + ".size", kMaxLayerDim);
    Need(field, uint64_t{4} * n);
    v.resize(n);
    for (float& e : v) e = Take<float>();
  }
  void Strings(const std::string& field, std::vector<std::string>& v) {
    const int n = Count(field + ".size", kMaxLayerDim);
    v.clear();
    for (int i = 0; i < n; ++i) {
      const std::string name = fmt::format("{}[{}]", field, i);
      const int len = Count(name + ".size", kMaxTokenBytes);
      Need(name, len);
      v.emplace_back(reinterpret_cast<const char*>(&bytes_[pos_]), len);
      pos_ += len;
    }
  }
  size_t pos() const { return pos_; }

 private:
  void Need(const std::string& field, uint64_t n) const {
    if (n > end_ - pos_) Fail(field, fmt::format("truncated: need {} bytes at offset {}", n, pos_));
  }
  int Count(const std::string& field, int max) {
    const uint32_t n = Get<uint32_t>(field);
    if (auto e = CheckRange(field, n, 0, max)) Fail(e.field, e.reason);
    return static_cast<int>(n);
  }
  template <typename T>
  T Get(const std::string& field) {
    Need(field, sizeof(T));
    return Take<T>();
  }
  template <typename T>
  T Take() {
    const T v = DecodeLe<T>(&bytes_[pos_]);
    pos_ += sizeof(T);
    return v;
  }

  std::string path_;
  const std::vector<uint8_t>& bytes_;
  size_t end_;
  size_t pos_ = 0;
};

template <typename Io, typename Linear>
void VisitLinear(Io& io, const std::string& name, Linear& l) {
  io.Mat(name + ".w", l.w);
  io.Vec(name + ".bias", l.bias);
}

// The one definition of the field order after magic and version (Net is const FloatNetwork
// for the Encoder, FloatNetwork for the Decoder). n_layers is read before the layers.
template <typename Io, typename Net>
void VisitNetwork(Io& io, Net& n) {
  io.I32("config.vocab_size", n.vocab_size);
  io.I32("config.max_positions", n.max_positions);
  io.I32("config.type_vocab_size", n.type_vocab_size);
  io.I32("config.d_model", n.d_model);
  io.I32("config.n_heads", n.n_heads);
  io.I32("config.d_ff", n.d_ff);
  io.I32("config.n_layers", n.n_layers);
  io.I32("config.max_tokens", n.max_tokens);
  io.F32("config.ln_eps", n.ln_eps);
  io.Code("config.activation", n.activation, static_cast<uint8_t>(Activation::kGeluErf));
  io.Code("config.pooling", n.pooling, static_cast<uint8_t>(Pooling::kMeanL2));
  io.Code("config.tokenizer", n.tokenizer, static_cast<uint8_t>(TokenizerKind::kBertUncased));
  io.Strings("vocab", n.vocab);
  io.Mat("embeddings.word", n.word);
  io.Mat("embeddings.position", n.position);
  io.Mat("embeddings.token_type", n.token_type);
  io.Vec("embeddings.ln.gamma", n.ln_gamma);
  io.Vec("embeddings.ln.beta", n.ln_beta);
}

template <typename Io, typename Layer>
void VisitLayer(Io& io, const std::string& p, Layer& l) {
  VisitLinear(io, p + ".q", l.q);
  VisitLinear(io, p + ".k", l.k);
  VisitLinear(io, p + ".v", l.v);
  VisitLinear(io, p + ".o", l.o);
  VisitLinear(io, p + ".ffn1", l.ffn1);
  VisitLinear(io, p + ".ffn2", l.ffn2);
  io.Vec(p + ".ln1.gamma", l.ln1_gamma);
  io.Vec(p + ".ln1.beta", l.ln1_beta);
  io.Vec(p + ".ln2.gamma", l.ln2_gamma);
  io.Vec(p + ".ln2.beta", l.ln2_beta);
}

std::vector<uint8_t> ReadWholeFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) Fail(path, "file", fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 1 << 16> chunk;
  size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), file)) > 0) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  const std::string error = std::ferror(file) != 0 ? std::strerror(errno) : "";
  std::fclose(file);
  if (!error.empty()) Fail(path, "file", "read error: " + error);
  return bytes;
}

}  // namespace

void WriteNetworkFile(const std::string& path, const FloatNetwork& net) {
  if (auto e = CheckNetwork(net)) throw std::invalid_argument(e.Message());
  Encoder out;
  out.bytes().insert(out.bytes().end(), kMagic.begin(), kMagic.end());
  out.U32("version", kVersion);
  VisitNetwork(out, net);
  for (int l = 0; l < net.n_layers; ++l)
    VisitLayer(out, fmt::format("layers[{}]", l), net.layers[l]);
  std::vector<uint8_t>& bytes = out.bytes();
  out.U32("crc32", Crc32(bytes.data(), bytes.size()));

  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), file);
  const bool closed = std::fclose(file) == 0;
  if (written != bytes.size() || !closed) {
    throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
}

FloatNetwork ReadNetworkFile(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadWholeFile(path);
  // Magic first, so that a file of another kind is named as such; then the CRC, so that any
  // damage is reported as such rather than as whatever field it happens to hit.
  if (bytes.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    Fail(path, "magic", "not an ESACT network file (expected \"ESACTNET\")");
  }
  if (bytes.size() < kMagic.size() + kCrcBytes) {
    Fail(path, "crc32",
         fmt::format("truncated: need {} bytes at offset {}", kCrcBytes, kMagic.size()));
  }
  const size_t body_end = bytes.size() - kCrcBytes;
  const uint32_t stored = DecodeLe<uint32_t>(&bytes[body_end]);
  const uint32_t computed = Crc32(bytes.data(), body_end);
  if (stored != computed) {
    Fail(path, "crc32",
         fmt::format("stored 0x{:08x} != computed 0x{:08x} over {} bytes "
                     "(corrupt or truncated file)",
                     stored, computed, body_end));
  }

  Decoder in(path, bytes, body_end);
  in.Skip("magic", kMagic.size());  // checked above
  uint32_t version;
  in.U32("version", version);
  if (version != kVersion) {
    in.Fail("version", fmt::format("{} unsupported (this reader reads {})", version, kVersion));
  }
  FloatNetwork net;
  VisitNetwork(in, net);
  // The layer count sizes an allocation, so it is bounded here, before the layers are read.
  if (auto e = CheckRange("config.n_layers", net.n_layers, 1, kMaxNetworkLayers)) {
    in.Fail(e.field, e.reason);
  }
  net.layers.resize(net.n_layers);
  for (int l = 0; l < net.n_layers; ++l) {
    FloatLayer& layer = net.layers[l];
    VisitLayer(in, fmt::format("layers[{}]", l), layer);
    layer.d_model = net.d_model;
    layer.n_heads = net.n_heads;
    layer.d_ff = net.d_ff;
    layer.ln_eps = net.ln_eps;
  }
  if (in.pos() != body_end) {
    in.Fail("end", fmt::format("{} trailing bytes at offset {} before the CRC", body_end - in.pos(),
                               in.pos()));
  }
  if (auto e = CheckNetwork(net)) in.Fail(e.field, e.reason);
  return net;
}

}  // namespace esact
