// Stream driver of esact_gemm, shared by its test and the benchmark.
//
//   GemmDriver<Model, Params>   one harness around one Verilated configuration; Params is
//       the Verilated class of the top module, which exports its elaboration parameters
//       (Rows, Cols, KMax, NOutMax, NRowsMax, XLanes: `verilator public` in
//       rtl/esact_gemm.sv), e.g.
//         GemmDriver<Vesact_gemm_r4c4, Vesact_gemm_r4c4_esact_gemm>
//   RunGemm()  the rows of x named in a row list through one linear layer (X, W, B streams
//       in, Y out, each with its own stall pattern) -> the output as an n_tokens x N matrix
//       (the listed rows; every other row zero, like esact::LinearRows), the cycle count and
//       the utilization.
//   Run()      the same from raw configuration fields (illegal configurations).
//
// Beat layouts (docs/architecture.md, "esact_gemm"), with RT = ceil(n/Rows) row tiles of
// the list and CT = ceil(N/Cols) column tiles:
//   X  the listed rows in list order, ceil(K/XLanes) beats per row, lane l of beat b =
//      x[row][b*XLanes + l], x_row_i = row;
//   W  per row tile, per column tile j: K beats, lane c of beat k = W[k][j*Cols + c];
//   B  per row tile, per column tile j: one beat, lane c (32 bits) = bias[j*Cols + c];
//   Y  per row tile, per column tile j, per row of the tile in list order.
// Lanes the unit ignores (X lanes at k >= K, W and B lanes of columns >= N) carry junk by
// default (GemmBeatOptions), so a test proves that they are ignored.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "golden/layer.h"
#include "golden/matrix.h"
#include "sim/harness.h"
#include "sim/predictor_driver.h"  // Bits, WritePort, ReadPort

namespace esact::sim {

// ---- Run description and result ----------------------------------------------------------

// The run-time configuration ports, as raw fields (so a test can drive illegal values).
struct GemmCfg {
  int n_rows = 0;  // rows in the list
  int in = 1;      // K, in_features
  int out = 1;     // N, out_features
  int mult = 1;    // requantization multiplier, 0..65535
  int shift = 0;   // requantization shift, 0..47 legal
};

inline GemmCfg MakeGemmCfg(const QuantLinear& lin, const std::vector<int>& rows) {
  return {static_cast<int>(rows.size()), lin.w.rows, lin.w.cols, lin.rq.mult, lin.rq.shift};
}

// Idle and back-pressure shapes of the four streams.
struct GemmStalls {
  StallSpec x, w, b, y;
  static GemmStalls None() { return {}; }
  static GemmStalls All(StallSpec s) { return {s, s, s, s}; }
  static GemmStalls Inputs(StallSpec s) { return {s, s, s, StallSpec::None()}; }
  static GemmStalls Outputs(StallSpec s) { return {{}, {}, {}, s}; }
};

struct GemmXBeat {
  int row = 0;
  Bits data;
};

struct GemmYBeat {
  int row = 0;
  int col_tile = 0;
  Bits data;
};

struct GemmResult {
  bool done = false;    // done_o seen within the cycle bound
  int err_code = 0;     // err_code_o at done (esact_pkg::gemm_err_e; 0 = none)
  uint64_t cycles = 0;  // clock edges from the start edge to the edge that raised done_o
  uint64_t busy_cycles = 0;
  uint64_t x_taken = 0;  // beats consumed of each input stream
  uint64_t w_taken = 0;
  uint64_t b_taken = 0;
  std::vector<GemmYBeat> ys;  // the output beats in arrival order
  Matrix<int8_t> y;           // n_tokens x N: the listed rows, zero elsewhere
  std::string order_error;    // "" or the first beat out of the documented order
  uint64_t macs = 0;          // useful MACs, n * K * N
  double utilization = 0.0;   // macs / (Rows * Cols * cycles)
};

// What the ignored lanes carry.
struct GemmBeatOptions {
  bool junk_pad = true;  // false: zeros
  uint64_t seed = 1;
};

// ---- Driver ----------------------------------------------------------------------------

template <class Model, class Params>
class GemmDriver {
 public:
  static constexpr int kRows = static_cast<int>(Params::Rows);
  static constexpr int kCols = static_cast<int>(Params::Cols);
  static constexpr int kKMax = static_cast<int>(Params::KMax);
  static constexpr int kNOutMax = static_cast<int>(Params::NOutMax);
  static constexpr int kNRowsMax = static_cast<int>(Params::NRowsMax);
  static constexpr int kXLanes = static_cast<int>(Params::XLanes);

  explicit GemmDriver(uint64_t seed,
                      const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x9e3779b97f4a7c15ull) {
    Idle();
    h_.Reset();
    h_.Eval();
    EXPECT_FALSE(h_->busy_o) << "busy_o after reset";
    EXPECT_FALSE(h_->done_o) << "done_o after reset";
    EXPECT_FALSE(h_->err_o) << "err_o after reset";
    EXPECT_FALSE(h_->y_valid_o) << "y_valid_o after reset";
  }

  Harness<Model>& harness() { return h_; }
  bool Finish() { return h_.Finish(); }

  // ---- Cycle formulas (docs/architecture.md, "esact_gemm") ------------------------------
  // n rows, K in_features, N out_features; no stalls on any stream.
  static uint64_t Ceil(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
  // The compute-bound regime: the drain of a step fits in the next step (K > Rows) and the
  // next row tile loads while the current one computes (Rows * XB <= CT * K).
  static bool InRegime(int n, int k, int nout) {
    const uint64_t xb = Ceil(k, kXLanes), ct = Ceil(nout, kCols);
    return n == 0 || ((k > kRows || Ceil(n, kRows) * ct == 1) &&
                      (Ceil(n, kRows) == 1 || kRows * xb <= ct * k));
  }
  // The exact count in the regime: T = 5 + r0 XB + RT CT K + r_last.
  static uint64_t CycleExact(int n, int k, int nout) {
    if (n == 0) return 2;
    const uint64_t xb = Ceil(k, kXLanes), ct = Ceil(nout, kCols), rt = Ceil(n, kRows);
    const uint64_t r0 = std::min(n, kRows), r_last = n - (rt - 1) * kRows;
    return 5 + r0 * xb + rt * ct * k + r_last;
  }
  // An upper bound for every shape:
  //   T <= 5 + r0 XB + RT max(CT max(K, Rows + 1), Rows XB + 1) + Rows.
  static uint64_t CycleBound(int n, int k, int nout) {
    if (n == 0) return 2;
    const uint64_t xb = Ceil(k, kXLanes), ct = Ceil(nout, kCols), rt = Ceil(n, kRows);
    const uint64_t r0 = std::min(n, kRows);
    const uint64_t step = std::max<uint64_t>(k, kRows + 1);
    return 5 + r0 * xb + rt * std::max<uint64_t>(ct * step, kRows * xb + 1) + kRows;
  }

  // ---- Beats --------------------------------------------------------------------------
  static std::vector<GemmXBeat> XBeats(const Matrix<int8_t>& x, const std::vector<int>& rows, int k,
                                       const GemmBeatOptions& opt = {}) {
    std::mt19937_64 junk(opt.seed * 3 + 1);
    const int xb = static_cast<int>(Ceil(k, kXLanes));
    std::vector<GemmXBeat> beats;
    for (int r : rows) {
      for (int b = 0; b < xb; ++b) {
        GemmXBeat beat{r, Bits(kXLanes * 8)};
        for (int l = 0; l < kXLanes; ++l) {
          const int kk = b * kXLanes + l;
          const uint32_t v = kk < k ? static_cast<uint8_t>(x.at(r, kk))
                                    : (opt.junk_pad ? static_cast<uint32_t>(junk() & 0xff) : 0);
          beat.data.Set(l * 8, 8, v);
        }
        beats.push_back(beat);
      }
    }
    return beats;
  }

  // W beat i of a run (i < RT * CT * K): row tile i / (CT K), column tile (i / K) mod CT,
  // weight row i mod K. The same beats repeat for every row tile.
  static Bits WBeat(const QuantLinear& lin, uint64_t i, const GemmBeatOptions& opt = {}) {
    const int k = lin.w.rows, nout = lin.w.cols;
    const uint64_t ct = Ceil(nout, kCols);
    const int kk = static_cast<int>(i % k);
    const int j = static_cast<int>((i / k) % ct);
    std::mt19937_64 junk(opt.seed * 5 + i);
    Bits beat(kCols * 8);
    for (int c = 0; c < kCols; ++c) {
      const int col = j * kCols + c;
      const uint32_t v = col < nout ? static_cast<uint8_t>(lin.w.at(kk, col))
                                    : (opt.junk_pad ? static_cast<uint32_t>(junk() & 0xff) : 0);
      beat.Set(c * 8, 8, v);
    }
    return beat;
  }

  // B beat i of a run (i < RT * CT): column tile i mod CT.
  static Bits BBeat(const QuantLinear& lin, uint64_t i, const GemmBeatOptions& opt = {}) {
    const int nout = lin.w.cols;
    const int j = static_cast<int>(i % Ceil(nout, kCols));
    std::mt19937_64 junk(opt.seed * 7 + i);
    Bits beat(kCols * 32);
    for (int c = 0; c < kCols; ++c) {
      const int col = j * kCols + c;
      const uint32_t v = col < nout ? static_cast<uint32_t>(lin.bias[col])
                                    : (opt.junk_pad ? static_cast<uint32_t>(junk()) : 0);
      beat.Set(c * 32, 32, v);
    }
    return beat;
  }

  // ---- Runs ---------------------------------------------------------------------------

  // The rows of x named in `rows` (any order, no repeats, each < NRowsMax) through the
  // linear layer lin: Y has x.rows rows and lin.w.cols columns, like esact::LinearRows.
  GemmResult RunGemm(const Matrix<int8_t>& x, const QuantLinear& lin, const std::vector<int>& rows,
                     const GemmStalls& stalls, uint64_t seed, const GemmBeatOptions& opt = {},
                     uint64_t max_cycles = 0) {
    const GemmCfg c = MakeGemmCfg(lin, rows);
    const std::vector<GemmXBeat> xb = XBeats(x, rows, c.in, opt);
    const uint64_t steps = Ceil(rows.size(), kRows) * Ceil(c.out, kCols);
    GemmResult r = Run(
        c, xb, steps * c.in, [&](uint64_t i) { return WBeat(lin, i, opt); }, steps,
        [&](uint64_t i) { return BBeat(lin, i, opt); }, stalls, seed, max_cycles);
    Assemble(c, rows, x.rows, &r);
    return r;
  }

  // Raw run: drives the configuration fields, pulses start_i, offers x_beats and w_count /
  // b_count beats from the generators, collects every Y beat until done_o. Does not
  // assemble Y (RunGemm does). max_cycles 0: a bound from the configuration, generous for
  // any stall pattern.
  GemmResult Run(const GemmCfg& c, const std::vector<GemmXBeat>& x_beats, uint64_t w_count,
                 const std::function<Bits(uint64_t)>& w_beat, uint64_t b_count,
                 const std::function<Bits(uint64_t)>& b_beat, const GemmStalls& stalls,
                 uint64_t seed, uint64_t max_cycles = 0) {
    GemmResult r;
    if (max_cycles == 0) {
      const bool legal = c.n_rows >= 0 && c.n_rows <= kNRowsMax && c.in >= 1 && c.in <= kKMax &&
                         c.out >= 1 && c.out <= kNOutMax;
      max_cycles = 1000 + 40 * (x_beats.size() + w_count + b_count) +
                   (legal ? 40 * CycleBound(c.n_rows, c.in, c.out) : 0);
    }
    StreamSource<GemmXBeat> x_src(stalls.x, seed * 8 + 1);
    StreamSource<Bits> w_src(stalls.w, seed * 8 + 2);
    StreamSource<Bits> b_src(stalls.b, seed * 8 + 3);
    StallPattern y_stall(stalls.y, seed * 8 + 4);
    for (const GemmXBeat& b : x_beats) x_src.Push(b);
    // W and B beats are generated a few at a time: a MiniLM-shaped run has 295k W beats.
    uint64_t w_pushed = 0, b_pushed = 0;
    auto top_up = [&]() {
      while (w_pushed < w_count && w_pushed < w_src.sent() + 4) w_src.Push(w_beat(w_pushed++));
      while (b_pushed < b_count && b_pushed < b_src.sent() + 4) b_src.Push(b_beat(b_pushed++));
    };

    // Configuration and the start pulse.
    Idle();
    h_->cfg_n_rows_i = c.n_rows;
    h_->cfg_in_i = c.in;
    h_->cfg_out_i = c.out;
    h_->cfg_mult_i = c.mult;
    h_->cfg_shift_i = c.shift;
    h_->start_i = 1;
    h_.Eval();
    if (h_->busy_o) ADD_FAILURE() << "start_i while busy";
    const uint64_t start = h_.cycle();
    h_.Tick();
    h_->start_i = 0;

    while (true) {
      if (h_.cycle() - start > max_cycles) {
        ADD_FAILURE() << "timeout: no done_o within " << max_cycles << " cycles (x " << r.x_taken
                      << "/" << x_beats.size() << ", w " << r.w_taken << "/" << w_count << ", b "
                      << r.b_taken << "/" << b_count << ", y " << r.ys.size() << ", seed "
                      << h_.seed() << ")";
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle();
        break;
      }
      top_up();
      x_src.Prepare();
      w_src.Prepare();
      b_src.Prepare();
      const bool y_ready = !y_stall.Stall();
      h_->x_valid_i = x_src.valid();
      h_->x_row_i = x_src.valid() ? x_src.front().row : static_cast<int>(junk_() % kNRowsMax);
      WritePort(&h_->x_data_i, x_src.valid() ? x_src.front().data : Junk(kXLanes * 8));
      h_->w_valid_i = w_src.valid();
      WritePort(&h_->w_data_i, w_src.valid() ? w_src.front() : Junk(kCols * 8));
      h_->b_valid_i = b_src.valid();
      WritePort(&h_->b_data_i, b_src.valid() ? b_src.front() : Junk(kCols * 32));
      h_->y_ready_i = y_ready;
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
      if (b_src.Observe(h_->b_ready_o)) ++r.b_taken;
      if (h_->y_valid_o && y_ready) {
        r.ys.push_back({static_cast<int>(h_->y_row_o), static_cast<int>(h_->y_col_tile_o),
                        ReadPort(h_->y_data_o)});
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
    if (c.n_rows > 0 && c.in > 0 && c.out > 0) {
      r.macs = static_cast<uint64_t>(c.n_rows) * c.in * c.out;
    }
    if (r.cycles > 0) {
      r.utilization = static_cast<double>(r.macs) / (static_cast<double>(kRows) * kCols * r.cycles);
    }
    return r;
  }

 private:
  void Idle() {
    h_->start_i = 0;
    h_->x_valid_i = 0;
    h_->w_valid_i = 0;
    h_->b_valid_i = 0;
    h_->y_ready_i = 0;
  }

  // Junk on the data lines while not valid: the unit must not depend on it.
  Bits Junk(int width) { return RandomBits(junk_, width); }

  // Y from the output beats, and the first beat out of the documented order: per row tile,
  // per column tile, the tile's rows in list order; lanes of columns >= N are zero.
  static void Assemble(const GemmCfg& c, const std::vector<int>& rows, int n_tokens,
                       GemmResult* r) {
    std::string& err = r->order_error;
    r->y = Matrix<int8_t>(n_tokens, c.out);
    if (!r->done || r->err_code != 0) {
      if (!r->ys.empty()) err = "output beats in an errored run";
      return;
    }
    const int n = static_cast<int>(rows.size());
    const int ct = static_cast<int>(Ceil(c.out, kCols));
    const size_t want_beats = static_cast<size_t>(n) * ct;
    if (r->ys.size() != want_beats) {
      err = "Y beats: " + std::to_string(r->ys.size()) + ", want " + std::to_string(want_beats);
    }
    size_t i = 0;
    for (int t0 = 0; t0 < n && err.empty(); t0 += kRows) {
      const int t1 = std::min(n, t0 + kRows);
      for (int j = 0; j < ct && err.empty(); ++j) {
        for (int p = t0; p < t1 && err.empty(); ++p, ++i) {
          const GemmYBeat& b = r->ys[i];
          if (b.row != rows[p] || b.col_tile != j) {
            err = "Y beat " + std::to_string(i) + " is row " + std::to_string(b.row) +
                  " column tile " + std::to_string(b.col_tile) + ", want row " +
                  std::to_string(rows[p]) + " column tile " + std::to_string(j);
            break;
          }
          for (int l = 0; l < kCols; ++l) {
            const int col = j * kCols + l;
            const int8_t v = static_cast<int8_t>(b.data.Get(l * 8, 8));
            if (col < c.out) {
              r->y.at(b.row, col) = v;
            } else if (v != 0) {
              err = "Y beat " + std::to_string(i) + " lane " + std::to_string(l) + " (column " +
                    std::to_string(col) + " >= N) is " + std::to_string(v) + ", want 0";
            }
          }
        }
      }
    }
  }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

}  // namespace esact::sim
