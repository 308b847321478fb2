// The layer file format; docs/layer-format.md is its normative description and must change
// together with VisitBody and the decoding checks below, and with the layer rules
// (CheckLayer, CheckLayerInput in golden/layer.cc) that ReadLayerFile applies last.
#include "golden/layer_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace esact {
namespace {

// The format stores every int field as a 32-bit integer.
static_assert(std::is_same<int, int32_t>::value, "the layer format assumes a 32-bit int");

constexpr std::array<char, 8> kMagic = {'E', 'S', 'A', 'C', 'T', 'L', 'Y', 'R'};
constexpr uint32_t kVersion = 2;
constexpr size_t kCrcBytes = 4;
// The enum codes on disk; the maxima follow the last enumerator of each enum.
constexpr uint8_t kMaxBoolCode = 1;
constexpr uint8_t kMaxRoundCode = static_cast<uint8_t>(HlogRound::kNearest);
constexpr uint8_t kMaxFfnCode = static_cast<uint8_t>(FfnPolicy::kReuse);

// CRC-32 as in IEEE 802.3, zlib and PNG: reflected polynomial 0xEDB88320, initial value
// and final XOR 0xFFFFFFFF. Bitwise, because layer files are small enough that a table buys
// nothing worth its code.
uint32_t Crc32(const uint8_t* data, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return crc ^ 0xFFFFFFFFu;
}

template <size_t N>
struct UintOfSize;
template <>
struct UintOfSize<1> {
  using Type = uint8_t;
};
template <>
struct UintOfSize<2> {
  using Type = uint16_t;
};
template <>
struct UintOfSize<4> {
  using Type = uint32_t;
};

// Little-endian encoding of any 1-, 2- or 4-byte integer or float, independent of the host
// byte order. memcpy reinterprets the bits (two's complement, IEEE-754) without aliasing UB.
template <typename T>
void EncodeLe(T value, uint8_t* out) {
  typename UintOfSize<sizeof(T)>::Type bits;
  std::memcpy(&bits, &value, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(bits >> (8 * i));
}

template <typename T>
T DecodeLe(const uint8_t* in) {
  using Bits = typename UintOfSize<sizeof(T)>::Type;
  Bits bits = 0;
  for (size_t i = 0; i < sizeof(T); ++i) bits = static_cast<Bits>(bits | Bits{in[i]} << (8 * i));
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

// Raises the errors of one file, so every message has the same "<path>: <field>: " form.
class Checker {
 public:
  explicit Checker(const std::string& path) : path_(path) {}

  [[noreturn]] void Fail(const std::string& field, const std::string& reason) const {
    throw LayerFileError(path_, field, reason);
  }
  void Check(const FieldProblem& e) const {
    if (e) Fail(e.field, e.reason);
  }

 private:
  std::string path_;
};

// Serializes fields in the order VisitBody calls them. Field names are only used by Decoder.
class Encoder {
 public:
  void U32(const std::string&, uint32_t v) { Put(v); }
  void I32(const std::string&, int32_t v) { Put(v); }
  void F32(const std::string&, float v) { Put(v); }
  // A bool or an enum with uint8_t underlying type, as one byte.
  template <typename E>
  void Code(const std::string&, E v, uint8_t) {
    Put(static_cast<uint8_t>(v));
  }
  // u32 count, then the elements.
  template <typename T>
  void Vec(const std::string&, const std::vector<T>& v) {
    Put(static_cast<uint32_t>(v.size()));
    for (const T& e : v) Put(e);
  }
  // u32 rows, u32 cols, then the elements row-major.
  template <typename T>
  void Mat(const std::string&, const Matrix<T>& m) {
    Put(static_cast<uint32_t>(m.rows));
    Put(static_cast<uint32_t>(m.cols));
    for (const T& e : m.data) Put(e);
  }
  // A fixed-length array: no count.
  template <typename T, size_t N>
  void Fixed(const std::string&, const std::array<T, N>& a) {
    for (const T& e : a) Put(e);
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  template <typename T>
  void Put(T v) {
    bytes_.resize(bytes_.size() + sizeof(T));
    EncodeLe(v, &bytes_[bytes_.size() - sizeof(T)]);
  }

  std::vector<uint8_t> bytes_;
};

// Reads fields sequentially from bytes [pos(), end); a field that does not fit is reported
// as truncated before anything is allocated for it.
class Decoder {
 public:
  Decoder(const Checker& check, const std::vector<uint8_t>& bytes, size_t end)
      : check_(check), bytes_(bytes), end_(end) {}

  void U32(const std::string& field, uint32_t& v) { v = Get<uint32_t>(field); }
  void I32(const std::string& field, int32_t& v) { v = Get<int32_t>(field); }
  void F32(const std::string& field, float& v) { v = Get<float>(field); }
  // Range-checked here, not with the layer rules, because a bool cannot hold a bad code.
  template <typename E>
  void Code(const std::string& field, E& v, uint8_t max) {
    const uint8_t code = Get<uint8_t>(field);
    check_.Check(CheckRange(field, code, 0, max));
    v = static_cast<E>(code);
  }
  template <typename T>
  void Vec(const std::string& field, std::vector<T>& v) {
    const int n = Count(field + ".size");
    Need(field, uint64_t{sizeof(T)} * n);
    v.resize(n);
    GetArray(v.data(), v.size());
  }
  template <typename T>
  void Mat(const std::string& field, Matrix<T>& m) {
    const int rows = Count(field + ".rows");
    const int cols = Count(field + ".cols");
    Need(field, uint64_t{sizeof(T)} * rows * cols);
    m = Matrix<T>(rows, cols);
    GetArray(m.data.data(), m.data.size());
  }
  template <typename T, size_t N>
  void Fixed(const std::string& field, std::array<T, N>& a) {
    Need(field, sizeof(T) * N);
    GetArray(a.data(), N);
  }

  size_t pos() const { return pos_; }

 private:
  void Need(const std::string& field, uint64_t n) const {
    if (n > end_ - pos_) {
      check_.Fail(field, fmt::format("truncated: need {} bytes at offset {}", n, pos_));
    }
  }
  // Bounded before it sizes an allocation, so a corrupt count cannot ask for more memory
  // than the format allows.
  int Count(const std::string& field) {
    const uint32_t n = Get<uint32_t>(field);
    check_.Check(CheckRange(field, n, 0, kMaxLayerDim));
    return static_cast<int>(n);
  }
  template <typename T>
  T Get(const std::string& field) {
    Need(field, sizeof(T));
    T v;
    GetArray(&v, 1);
    return v;
  }
  // The caller has checked with Need that n elements fit.
  template <typename T>
  void GetArray(T* out, size_t n) {
    for (size_t i = 0; i < n; ++i, pos_ += sizeof(T)) out[i] = DecodeLe<T>(&bytes_[pos_]);
  }

  const Checker& check_;
  const std::vector<uint8_t>& bytes_;
  size_t end_;
  size_t pos_ = 0;
};

template <typename Io, typename Rq>
void VisitRequant(Io& io, const std::string& name, Rq& rq) {
  io.I32(name + ".mult", rq.mult);
  io.I32(name + ".shift", rq.shift);
}

template <typename Io, typename Linear>
void VisitLinear(Io& io, const std::string& name, Linear& l) {
  io.Mat(name + ".w", l.w);
  io.Vec(name + ".bias", l.bias);
  VisitRequant(io, name + ".rq", l.rq);
}

template <typename Io, typename Ln>
void VisitLn(Io& io, const std::string& name, Ln& ln) {
  io.Vec(name + ".gamma", ln.gamma);
  io.Vec(name + ".beta", ln.beta);
  VisitRequant(io, name + ".rq", ln.rq);
}

// The one definition of the field order after magic and version, shared by writer and
// reader (File is const LayerFile for Encoder, LayerFile for Decoder).
template <typename Io, typename File>
void VisitBody(Io& io, File& f) {
  auto& p = f.params;
  io.I32("params.d_model", p.d_model);
  io.I32("params.n_heads", p.n_heads);
  io.I32("params.d_ff", p.d_ff);
  io.I32("n_tokens", f.n_tokens);
  io.I32("n_valid", f.n_valid);
  VisitLinear(io, "params.q", p.q);
  VisitLinear(io, "params.k", p.k);
  VisitLinear(io, "params.v", p.v);
  VisitLinear(io, "params.o", p.o);
  VisitLinear(io, "params.ffn1", p.ffn1);
  VisitLinear(io, "params.ffn2", p.ffn2);
  VisitRequant(io, "params.softmax_rq", p.softmax_rq);
  VisitRequant(io, "params.ctx_rq", p.ctx_rq);
  io.I32("params.res1.mult_a", p.res1.mult_a);
  io.I32("params.res1.mult_b", p.res1.mult_b);
  io.I32("params.res2.mult_a", p.res2.mult_a);
  io.I32("params.res2.mult_b", p.res2.mult_b);
  VisitLn(io, "params.ln1", p.ln1);
  VisitLn(io, "params.ln2", p.ln2);
  io.Fixed("params.gelu_lut", p.gelu_lut);
  io.I32("params.pred_q_shift", p.pred_q_shift);
  io.I32("params.pred_k_shift", p.pred_k_shift);
  io.F32("params.x_scale", p.x_scale);
  io.F32("params.y_scale", p.y_scale);
  io.Code("spls.enabled", f.spls.enabled, kMaxBoolCode);
  io.I32("spls.hlog_bits", f.spls.hlog_bits);
  io.Code("spls.round", f.spls.round, kMaxRoundCode);
  io.I32("spls.k", f.spls.k);
  io.I32("spls.w", f.spls.w);
  io.I32("spls.t", f.spls.t);
  io.Code("spls.ffn", f.spls.ffn, kMaxFfnCode);
  io.Mat("x", f.x);
}

std::vector<uint8_t> ReadWholeFile(const Checker& c, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) c.Fail("file", fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<uint8_t> bytes;
  std::array<uint8_t, 65536> chunk;
  size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), file)) > 0) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  // errno is read before fclose can change it.
  const std::string error = std::ferror(file) != 0 ? std::strerror(errno) : "";
  std::fclose(file);
  if (!error.empty()) c.Fail("file", "read error: " + error);
  return bytes;
}

}  // namespace

void WriteLayerFile(const std::string& path, const LayerFile& f) {
  Encoder out;
  out.Fixed("magic", kMagic);
  out.U32("version", kVersion);
  VisitBody(out, f);
  const std::vector<uint8_t>& bytes = out.bytes();
  out.U32("crc32", Crc32(bytes.data(), bytes.size()));

  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), file);
  // fclose flushes, so its result is part of the write.
  const bool closed = std::fclose(file) == 0;
  if (written != bytes.size() || !closed) {
    throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  }
}

LayerFile ReadLayerFile(const std::string& path) {
  const Checker check(path);
  const std::vector<uint8_t> bytes = ReadWholeFile(check, path);

  // The magic comes first, so that a file of another kind is named as such; then the CRC,
  // so that any corruption, truncation included, is reported as such rather than as
  // whatever field the damaged bytes happen to decode into.
  if (bytes.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    check.Fail("magic", "not an ESACT layer file (expected \"ESACTLYR\")");
  }
  if (bytes.size() < kMagic.size() + kCrcBytes) {
    check.Fail("crc32",
               fmt::format("truncated: need {} bytes at offset {}", kCrcBytes, kMagic.size()));
  }
  const size_t body_end = bytes.size() - kCrcBytes;
  const uint32_t stored = DecodeLe<uint32_t>(&bytes[body_end]);
  const uint32_t computed = Crc32(bytes.data(), body_end);
  if (stored != computed) {
    check.Fail("crc32", fmt::format("stored 0x{:08x} != computed 0x{:08x} over {} bytes "
                                    "(corrupt or truncated file)",
                                    stored, computed, body_end));
  }

  Decoder in(check, bytes, body_end);
  std::array<char, 8> magic;
  in.Fixed("magic", magic);  // checked above
  uint32_t version;
  in.U32("version", version);
  if (version != kVersion) {
    check.Fail("version", fmt::format("{} unsupported (this reader reads {})", version, kVersion));
  }
  LayerFile f;
  VisitBody(in, f);
  if (in.pos() != body_end) {
    check.Fail("end", fmt::format("{} trailing bytes at offset {} before the CRC",
                                  body_end - in.pos(), in.pos()));
  }
  // The layer rules, in file order (docs/layer-format.md, "Reading" step 6).
  check.Check(CheckLayer(f.params, f.n_tokens, f.n_valid, f.spls));
  check.Check(CheckLayerInput(f.params, f.n_tokens, f.x));
  return f;
}

}  // namespace esact
