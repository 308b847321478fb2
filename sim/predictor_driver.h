// Stream driver of esact_predictor, shared by its test and the benchmark.
//
//   PredictorDriver<Model, Params>   one harness around one Verilated configuration;
//       Params is the Verilated class of the top module, which exports its elaboration
//       parameters (Lanes, NMax, DMax, DhMax, HMax, KMax, WMax: `verilator public` in
//       rtl/esact_predictor.sv), e.g.
//         PredictorDriver<Vesact_predictor_l4, Vesact_predictor_l4_esact_predictor>
//   RunLayer()  one layer input through the predictor (X and W streams in, row / kv / tok
//       streams out, each with its own stall pattern) -> the decision as an
//       esact::SplsDecision, the cycle count and the per-head completion cycles.
//   Run()       the same from raw configuration fields and beats (illegal configurations).
//
// Beat layouts (docs/architecture.md, "esact_predictor"): X row-major, d/Lanes beats per
// valid row, lane l of beat b of row i = x[i][b*Lanes + l]; W per head: the head's d_head
// columns of W^_K, then those of W^_Q, column c as d/Lanes beats, lane l of beat b =
// W^[b*Lanes + l][h*d_head + c], each beat with the column's bias on w_bias_i
// (k_bias / q_bias[h*d_head + c], 0 for an empty bias vector; the unit samples it with the
// column's last beat).
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "golden/hlog.h"
#include "golden/matrix.h"
#include "golden/spls.h"
#include "sim/harness.h"

namespace esact::sim {

// ---- Bit vectors of any width and the ports that carry them ------------------------------

// A bit vector as 32-bit words, bit 0 of word 0 first.
class Bits {
 public:
  Bits() = default;
  explicit Bits(int width) : words_((width + 31) / 32, 0) {}

  void Set(int lsb, int width, uint32_t value) {
    for (int i = 0; i < width; ++i) {
      const int b = lsb + i;
      const uint32_t m = 1u << (b % 32);
      if ((value >> i) & 1u) {
        words_[b / 32] |= m;
      } else {
        words_[b / 32] &= ~m;
      }
    }
  }
  uint32_t Get(int lsb, int width) const {
    uint32_t v = 0;
    for (int i = 0; i < width; ++i) {
      const int b = lsb + i;
      if (b / 32 < static_cast<int>(words_.size()) && ((words_[b / 32] >> (b % 32)) & 1u)) {
        v |= 1u << i;
      }
    }
    return v;
  }
  bool Bit(int b) const { return Get(b, 1) != 0; }
  uint32_t word(size_t i) const { return i < words_.size() ? words_[i] : 0; }
  void set_word(size_t i, uint32_t v) {
    if (i >= words_.size()) words_.resize(i + 1, 0);
    words_[i] = v;
  }
  size_t n_words() const { return words_.size(); }

 private:
  std::vector<uint32_t> words_;
};

// A random bit vector of `width` bits (the bits above width are 0).
inline Bits RandomBits(std::mt19937_64& rng, int width) {
  Bits b(width);
  for (size_t i = 0; i < b.n_words(); ++i) b.set_word(i, static_cast<uint32_t>(rng()));
  if (width % 32 != 0) {
    b.set_word(b.n_words() - 1, b.word(b.n_words() - 1) & ((1u << (width % 32)) - 1));
  }
  return b;
}

// Verilator maps a port of up to 8/16/32/64 bits to CData/SData/IData/QData and a wider
// one to VlWide<N>; these write and read either kind.
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
void WritePort(T* port, const Bits& b) {
  *port = static_cast<T>(uint64_t{b.word(0)} | (uint64_t{b.word(1)} << 32));
}
template <std::size_t N>
void WritePort(VlWide<N>* port, const Bits& b) {
  for (std::size_t i = 0; i < N; ++i) port->at(i) = b.word(i);
}
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
Bits ReadPort(const T& port) {
  Bits b;
  const uint64_t v = static_cast<uint64_t>(port);
  b.set_word(0, static_cast<uint32_t>(v));
  if (sizeof(T) > 4) b.set_word(1, static_cast<uint32_t>(v >> 32));
  return b;
}
template <std::size_t N>
Bits ReadPort(const VlWide<N>& port) {
  Bits b;
  for (std::size_t i = 0; i < N; ++i) b.set_word(i, port.at(i));
  return b;
}

// ---- Run description and result ----------------------------------------------------------

// The run-time configuration ports, as raw fields (so a test can drive illegal values).
struct PredictorCfg {
  int n_valid = 1;
  int d_model = 0;
  int d_head = 0;
  int heads = 1;
  int k = 1;
  int w = 0;
  int t = 0;
  int bits = 8;
  HlogRound round = HlogRound::kTowardZero;
  int q_shift = 0;
  int k_shift = 0;
};

inline PredictorCfg MakePredictorCfg(const Matrix<int8_t>& x, int n_valid, int n_heads,
                                     const PredictorWeights& weights, const SplsConfig& cfg) {
  PredictorCfg c;
  c.n_valid = n_valid;
  c.d_model = x.cols;
  c.d_head = n_heads > 0 ? x.cols / n_heads : 0;
  c.heads = n_heads;
  c.k = cfg.k;
  c.w = cfg.w;
  c.t = cfg.t;
  c.bits = cfg.hlog_bits;
  c.round = cfg.round;
  c.q_shift = weights.q_shift;
  c.k_shift = weights.k_shift;
  return c;
}

// Idle and back-pressure shapes of the five streams.
struct PredictorStalls {
  StallSpec x, w, row, kv, tok;
  static PredictorStalls None() { return {}; }
  static PredictorStalls All(StallSpec s) { return {s, s, s, s, s}; }
};

struct RowBeat {
  int head, idx, anchor;
  Bits mask;
};
struct KvBeat {
  int head;
  Bits mask;
};
struct TokBeat {
  int idx, anchor;
};

struct PredictorResult {
  bool done = false;    // done_o seen within the cycle bound
  int err_code = 0;     // err_code_o at done (esact_pkg::pred_err_e; 0 = none)
  uint64_t cycles = 0;  // clock edges from the start edge to the edge that raised done_o
  uint64_t busy_cycles = 0;
  std::vector<uint64_t> head_cycles;  // per head: cycles from start to its kv beat
  uint64_t x_taken = 0;               // beats consumed of each input stream
  uint64_t w_taken = 0;
  std::vector<RowBeat> rows;  // the output beats in arrival order
  std::vector<KvBeat> kvs;
  std::vector<TokBeat> toks;
  SplsDecision decision;    // assembled from the beats (empty heads on an error)
  std::string order_error;  // first beat out of the promised order, "" if none
};

// ---- Beats -----------------------------------------------------------------------------

inline std::vector<Bits> PredictorXBeats(const Matrix<int8_t>& x, int n_valid, int lanes) {
  std::vector<Bits> beats;
  for (int i = 0; i < n_valid; ++i) {
    for (int b = 0; b * lanes < x.cols; ++b) {
      Bits beat(lanes * 8);
      for (int l = 0; l < lanes && b * lanes + l < x.cols; ++l) {
        beat.Set(l * 8, 8, static_cast<uint8_t>(x.at(i, b * lanes + l)));
      }
      beats.push_back(beat);
    }
  }
  return beats;
}

// One W beat: Lanes HLog codes (w_data_i) and the column's bias (w_bias_i).
struct PredictorWBeat {
  Bits codes;
  int32_t bias = 0;
};

inline std::vector<PredictorWBeat> PredictorWBeats(const PredictorWeights& w, int n_heads,
                                                   int lanes) {
  std::vector<PredictorWBeat> beats;
  const int d = w.w_k_hat.rows;
  const int dh = n_heads > 0 ? w.w_k_hat.cols / n_heads : 0;
  struct Half {
    const Matrix<HlogCode>* w_hat;
    const std::vector<int32_t>* bias;
  };
  for (int h = 0; h < n_heads; ++h) {
    for (const Half& half : {Half{&w.w_k_hat, &w.k_bias}, Half{&w.w_q_hat, &w.q_bias}}) {
      for (int c = 0; c < dh; ++c) {
        const int col = h * dh + c;
        const int32_t bias = half.bias->empty() ? 0 : half.bias->at(col);
        for (int b = 0; b * lanes < d; ++b) {
          PredictorWBeat beat{Bits(lanes * kHlogCodeBits), bias};
          for (int l = 0; l < lanes && b * lanes + l < d; ++l) {
            beat.codes.Set(l * kHlogCodeBits, kHlogCodeBits, half.w_hat->at(b * lanes + l, col));
          }
          beats.push_back(beat);
        }
      }
    }
  }
  return beats;
}

// ---- Driver ----------------------------------------------------------------------------

template <class Model, class Params>
class PredictorDriver {
 public:
  static constexpr int kLanes = static_cast<int>(Params::Lanes);
  static constexpr int kNMax = static_cast<int>(Params::NMax);
  static constexpr int kDMax = static_cast<int>(Params::DMax);
  static constexpr int kDhMax = static_cast<int>(Params::DhMax);
  static constexpr int kHMax = static_cast<int>(Params::HMax);
  static constexpr int kKMax = static_cast<int>(Params::KMax);
  static constexpr int kWMax = static_cast<int>(Params::WMax);

  explicit PredictorDriver(uint64_t seed,
                           const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x5bd1e995u) {
    Idle();
    h_.Reset();
    h_.Eval();
    EXPECT_FALSE(h_->busy_o) << "busy_o after reset";
    EXPECT_FALSE(h_->done_o) << "done_o after reset";
    EXPECT_FALSE(h_->err_o) << "err_o after reset";
  }

  Harness<Model>& harness() { return h_; }
  bool Finish() { return h_.Finish(); }

  // One layer input through the predictor. x: n_tokens x d_model (n_tokens <= NMax);
  // rows >= n_valid are not sent. The decision has n_tokens rows, like esact::Predict.
  PredictorResult RunLayer(const Matrix<int8_t>& x, int n_valid, int n_heads,
                           const PredictorWeights& weights, const SplsConfig& cfg,
                           const PredictorStalls& stalls, uint64_t seed, uint64_t max_cycles = 0) {
    const PredictorCfg c = MakePredictorCfg(x, n_valid, n_heads, weights, cfg);
    return Run(c, PredictorXBeats(x, n_valid, kLanes), PredictorWBeats(weights, n_heads, kLanes),
               x.rows, stalls, seed, max_cycles);
  }

  // The cycle count of a run without stalls is below this (docs/architecture.md):
  // per head 2 (dh n d/L + 3) + n^2 dh/L + 3, plus X, CHECK and the output tail.
  static uint64_t CycleBound(const PredictorCfg& c) {
    const uint64_t n = c.n_valid, db = c.d_model / kLanes, dhb = c.d_head / kLanes;
    const uint64_t per_head = 2 * (c.d_head * n * db + 3) + n * n * dhb + 3;
    return c.heads * per_head + n * db + c.heads + n + 16;
  }

  // Raw run: drives the configuration fields, pulses start_i, streams the beats that the
  // unit takes and collects every output beat until done_o. n_tokens sizes the decision.
  // max_cycles 0: a bound from the configuration, generous for any stall pattern.
  PredictorResult Run(const PredictorCfg& c, const std::vector<Bits>& x_beats,
                      const std::vector<PredictorWBeat>& w_beats, int n_tokens,
                      const PredictorStalls& stalls, uint64_t seed, uint64_t max_cycles = 0) {
    PredictorResult r;
    if (max_cycles == 0) {
      max_cycles = 64 * (x_beats.size() + w_beats.size() + 64) +
                   40 * (c.heads > 0 && c.n_valid > 0 ? CycleBound(c) : 0);
    }
    StreamSource<Bits> x_src(stalls.x, seed * 8 + 1);
    StreamSource<PredictorWBeat> w_src(stalls.w, seed * 8 + 2);
    StallPattern row_stall(stalls.row, seed * 8 + 3);
    StallPattern kv_stall(stalls.kv, seed * 8 + 4);
    StallPattern tok_stall(stalls.tok, seed * 8 + 5);
    for (const Bits& b : x_beats) x_src.Push(b);
    for (const PredictorWBeat& b : w_beats) w_src.Push(b);

    // Configuration and the start pulse.
    Idle();
    h_->cfg_n_valid_i = c.n_valid;
    h_->cfg_d_model_i = c.d_model;
    h_->cfg_d_head_i = c.d_head;
    h_->cfg_heads_i = c.heads;
    h_->cfg_k_i = c.k;
    h_->cfg_w_i = c.w;
    h_->cfg_t_i = c.t;
    h_->cfg_bits_i = c.bits;
    h_->cfg_round_i = static_cast<uint8_t>(c.round);
    h_->cfg_q_shift_i = c.q_shift;
    h_->cfg_k_shift_i = c.k_shift;
    h_->start_i = 1;
    h_.Eval();
    if (h_->busy_o) ADD_FAILURE() << "start_i while busy";
    const uint64_t start = h_.cycle();
    h_.Tick();
    h_->start_i = 0;

    r.head_cycles.assign(c.heads > 0 ? c.heads : 0, 0);
    while (true) {
      if (h_.cycle() - start > max_cycles) {
        ADD_FAILURE() << "timeout: no done_o within " << max_cycles << " cycles (x " << r.x_taken
                      << "/" << x_beats.size() << ", w " << r.w_taken << "/" << w_beats.size()
                      << ", rows " << r.rows.size() << ", kv " << r.kvs.size() << ", tok "
                      << r.toks.size() << ", seed " << h_.seed() << ")";
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle();
        break;
      }
      x_src.Prepare();
      w_src.Prepare();
      const bool row_ready = !row_stall.Stall();
      const bool kv_ready = !kv_stall.Stall();
      const bool tok_ready = !tok_stall.Stall();
      h_->x_valid_i = x_src.valid();
      WritePort(&h_->x_data_i, x_src.valid() ? x_src.front() : Junk(kLanes * 8));
      h_->w_valid_i = w_src.valid();
      WritePort(&h_->w_data_i, w_src.valid() ? w_src.front().codes : Junk(kLanes * kHlogCodeBits));
      h_->w_bias_i = w_src.valid() ? static_cast<uint32_t>(w_src.front().bias) : Junk(32).word(0);
      h_->row_ready_i = row_ready;
      h_->kv_ready_i = kv_ready;
      h_->tok_ready_i = tok_ready;
      h_.Eval();

      if (h_->done_o) {
        r.done = true;
        r.err_code = h_->err_code_o;
        if (static_cast<bool>(h_->err_o) != (r.err_code != 0)) {
          ADD_FAILURE() << "err_o " << int(h_->err_o) << " vs err_code_o " << r.err_code;
        }
        r.cycles = h_.cycle() - start;
      }
      if (h_->busy_o) ++r.busy_cycles;
      if (x_src.Observe(h_->x_ready_o)) ++r.x_taken;
      if (w_src.Observe(h_->w_ready_o)) ++r.w_taken;
      if (h_->row_valid_o && row_ready) {
        r.rows.push_back({static_cast<int>(h_->row_head_o), static_cast<int>(h_->row_idx_o),
                          static_cast<int>(h_->row_anchor_o), ReadPort(h_->row_mask_o)});
      }
      if (h_->kv_valid_o && kv_ready) {
        const int head = static_cast<int>(h_->kv_head_o);
        r.kvs.push_back({head, ReadPort(h_->kv_mask_o)});
        if (head < static_cast<int>(r.head_cycles.size())) {
          r.head_cycles[head] = h_.cycle() - start;
        }
      }
      if (h_->tok_valid_o && tok_ready) {
        r.toks.push_back({static_cast<int>(h_->tok_idx_o), static_cast<int>(h_->tok_anchor_o)});
      }
      h_.Tick();
      if (r.done) break;
    }
    // Back to idle: busy_o falls after done_o, err_o holds.
    Idle();
    h_.Eval();
    if (r.done) {
      EXPECT_FALSE(h_->busy_o) << "busy_o after done_o";
      EXPECT_EQ(static_cast<int>(h_->err_code_o), r.err_code) << "err_code_o must hold";
    }
    Assemble(c, n_tokens, &r);
    return r;
  }

 private:
  void Idle() {
    h_->start_i = 0;
    h_->x_valid_i = 0;
    h_->w_valid_i = 0;
    h_->row_ready_i = 0;
    h_->kv_ready_i = 0;
    h_->tok_ready_i = 0;
  }

  // Junk on the data lines while not valid: the unit must not depend on it.
  Bits Junk(int width) { return RandomBits(junk_, width); }

  static IndexSet MaskToSet(const Bits& m, int n_tokens, std::string* problem) {
    IndexSet s;
    for (int j = 0; j < kNMax; ++j) {
      if (!m.Bit(j)) continue;
      if (j >= n_tokens && problem->empty()) *problem = "mask bit " + std::to_string(j);
      s.push_back(j);
    }
    return s;
  }

  // Decision from the output beats, and the first beat out of the promised order.
  static void Assemble(const PredictorCfg& c, int n_tokens, PredictorResult* r) {
    std::string& err = r->order_error;
    if (!r->done || r->err_code != 0) {
      if (!r->rows.empty() || !r->kvs.empty() || !r->toks.empty()) {
        err = "output beats in an errored run";
      }
      return;
    }
    const int n = c.n_valid;
    SplsDecision& d = r->decision;
    d.heads.resize(c.heads);
    for (HeadDecision& hd : d.heads) {
      hd.spa.assign(n_tokens, IndexSet{});
      hd.reuse.assign(n_tokens, -1);
      hd.needed_kv.assign(n_tokens, 0);
    }
    d.token_anchor.assign(n_tokens, -1);
    auto problem = [&err](const std::string& what) {
      if (err.empty()) err = what;
    };
    if (r->rows.size() != static_cast<size_t>(c.heads) * n) {
      problem("row beats: " + std::to_string(r->rows.size()) + ", want " +
              std::to_string(c.heads * n));
    }
    for (size_t k = 0; k < r->rows.size(); ++k) {
      const RowBeat& b = r->rows[k];
      const int want_h = static_cast<int>(k) / n, want_i = static_cast<int>(k) % n;
      if (b.head != want_h || b.idx != want_i) {
        problem("row beat " + std::to_string(k) + " is head " + std::to_string(b.head) + " row " +
                std::to_string(b.idx) + ", want head " + std::to_string(want_h) + " row " +
                std::to_string(want_i));
        continue;
      }
      std::string bad;
      d.heads[b.head].spa[b.idx] = MaskToSet(b.mask, n_tokens, &bad);
      if (!bad.empty())
        problem("row mask of head " + std::to_string(b.head) + " row " + std::to_string(b.idx) +
                " has " + bad);
      d.heads[b.head].reuse[b.idx] = b.anchor;
    }
    if (r->kvs.size() != static_cast<size_t>(c.heads)) {
      problem("kv beats: " + std::to_string(r->kvs.size()) + ", want " + std::to_string(c.heads));
    }
    for (size_t k = 0; k < r->kvs.size(); ++k) {
      const KvBeat& b = r->kvs[k];
      if (b.head != static_cast<int>(k)) {
        problem("kv beat " + std::to_string(k) + " is head " + std::to_string(b.head));
        continue;
      }
      std::string bad;
      for (int j : MaskToSet(b.mask, n_tokens, &bad)) {
        if (j < n_tokens) d.heads[b.head].needed_kv[j] = 1;
      }
      if (!bad.empty()) problem("kv mask of head " + std::to_string(b.head) + " has " + bad);
    }
    if (r->toks.size() != static_cast<size_t>(n)) {
      problem("tok beats: " + std::to_string(r->toks.size()) + ", want " + std::to_string(n));
    }
    for (size_t k = 0; k < r->toks.size(); ++k) {
      const TokBeat& b = r->toks[k];
      if (b.idx != static_cast<int>(k)) {
        problem("tok beat " + std::to_string(k) + " is token " + std::to_string(b.idx));
        continue;
      }
      d.token_anchor[b.idx] = b.anchor;
    }
  }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

}  // namespace esact::sim
