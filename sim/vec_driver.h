// Stream driver of esact_vec, shared by its test and the benchmark.
//
//   VecDriver<Model, Params>   one harness around one Verilated configuration; Params is
//       the Verilated class of the top module, which exports Lanes, DMax, Slots and
//       StatsCycles (`verilator public` in rtl/esact_vec.sv), e.g.
//         VecDriver<Vesact_vec_l4, Vesact_vec_l4_esact_vec>
//   One run function per mode, each returning the output rows and the cycle count:
//     RunRequant(acc, rq)              Requantize(acc, rq) per element
//     RunAdd(a, b)                     SaturateInt8(a + b)
//     RunGelu(x, lut, load)            ApplyLut(lut, x); load = false uses the loaded LUT
//     RunLayerNorm(a, b, rs, ln, load) ResidualLayerNorm(a, b, rs, ln) per row; load = false
//                                      uses the loaded gamma/beta (rs and ln.rq are run
//                                      fields, always used)
//     LoadLut(lut), LoadLn(ln, d)      load-only runs (n_rows = 0)
//   Run()  the same from raw configuration fields and beats (illegal configurations).
//   ElementwiseCycles(), LnCycles(), LnCycleBound(): the documented cycle counts without
//   stalls (docs/architecture.md, "esact_vec").
//
// Beat layouts (docs/architecture.md, "esact_vec"): a row of d elements is ceil(d/Lanes)
// beats, lane l of beat k = element k*Lanes + l; int8 lanes at [8l +: 8], int32 lanes at
// [32l +: 32]. The driver fills the lanes at and above d of a row's last beat, and the
// unused upper bits of the 32-bit parameter lanes, with random junk: the unit must ignore
// them. Output lanes at and above d must be 0.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden/matrix.h"
#include "golden/quant.h"
#include "sim/harness.h"
#include "sim/predictor_driver.h"  // Bits, WritePort, ReadPort

namespace esact::sim {

// esact_pkg::vec_mode_e (tests/rtl_vec_test.cc checks the values against the package).
enum class VecMode : int { kRequant = 0, kAdd = 1, kGelu = 2, kResidualLn = 3 };

inline const char* VecModeName(VecMode m) {
  switch (m) {
    case VecMode::kRequant:
      return "requant";
    case VecMode::kAdd:
      return "add";
    case VecMode::kGelu:
      return "gelu";
    case VecMode::kResidualLn:
      return "residual_ln";
  }
  return "?";
}

// The run-time configuration ports, as raw fields (so a test can drive illegal values).
struct VecCfg {
  VecMode mode = VecMode::kRequant;
  int d = 1;
  int n_rows = 1;
  bool load = false;
  int mult = 1;
  int shift = 0;
  // RESIDUAL_LN: the ResidualScale (cfg_res_mult_a_i, cfg_res_mult_b_i); other modes
  // ignore it. The default is the plain sum a + b.
  int res_mult_a = 1 << kResidualShift;
  int res_mult_b = 1 << kResidualShift;
};

// Idle and back-pressure shapes of the five streams.
struct VecStalls {
  StallSpec prm, a, b, acc, out;
  static VecStalls None() { return {}; }
  static VecStalls All(StallSpec s) { return {s, s, s, s, s}; }
  static VecStalls Inputs(StallSpec s) { return {s, s, s, s, StallSpec::None()}; }
  static VecStalls Outputs(StallSpec s) { return {{}, {}, {}, {}, s}; }
};

// The beats offered on each input stream.
struct VecBeats {
  std::vector<Bits> prm, a, b, acc;
};

struct VecResult {
  bool done = false;    // done_o seen within the cycle bound
  int err_code = 0;     // err_code_o at done (esact_pkg::vec_err_e; 0 = none)
  uint64_t cycles = 0;  // clock edges from the start edge to the edge that raised done_o
  uint64_t busy_cycles = 0;
  uint64_t prm_taken = 0, a_taken = 0, b_taken = 0, acc_taken = 0;
  std::vector<Bits> out;       // output beats in arrival order
  std::vector<bool> out_last;  // out_last_o of each beat
  Matrix<int8_t> y;            // n_rows x d, assembled from the beats
  std::string order_error;     // first protocol problem (beat count, out_last, lanes >= d)
};

template <class Model, class Params>
class VecDriver {
 public:
  static constexpr int kLanes = static_cast<int>(Params::Lanes);
  static constexpr int kDMax = static_cast<int>(Params::DMax);
  static constexpr int kSlots = static_cast<int>(Params::Slots);
  static constexpr int kStatsCycles = static_cast<int>(Params::StatsCycles);
  static constexpr int kLutBeats = 256 / kLanes;
  // Width of cfg_d_i: clog2(DMax + 1).
  static constexpr int kDW = [] {
    int w = 0;
    while ((1 << w) < kDMax + 1) ++w;
    return w;
  }();

  explicit VecDriver(uint64_t seed,
                     const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x9e3779b97f4a7c15ull) {
    Idle();
    h_.Reset();
    h_.Eval();
    EXPECT_FALSE(h_->busy_o) << "busy_o after reset";
    EXPECT_FALSE(h_->done_o) << "done_o after reset";
    EXPECT_FALSE(h_->err_o) << "err_o after reset";
    EXPECT_FALSE(h_->out_valid_o) << "out_valid_o after reset";
  }

  Harness<Model>& harness() { return h_; }
  bool Finish() { return h_.Finish(); }

  static int Beats(int d) { return (d + kLanes - 1) / kLanes; }

  // ---- Cycle counts without stalls (docs/architecture.md, "esact_vec") -------------------

  // Beats of the load phase of a run.
  static uint64_t LoadBeats(const VecCfg& c) {
    if (!c.load) return 0;
    if (c.mode == VecMode::kGelu) return kLutBeats;
    if (c.mode == VecMode::kResidualLn) return 2 * Beats(c.d);
    return 0;
  }

  // REQUANT, ADD, GELU: the start edge, CHECK, the load beats, one beat per cycle, and the
  // 4 pipeline registers plus the output handshake. A load-only run ends after the load.
  static uint64_t ElementwiseCycles(const VecCfg& c) {
    const uint64_t lb = LoadBeats(c);
    if (c.n_rows == 0) return 2 + lb;
    return 6 + lb + static_cast<uint64_t>(c.n_rows) * Beats(c.d);
  }

  // RESIDUAL_LN: the three-stage recurrence over the row slots (edges after the start
  // edge; row i: ingest edges fI..lI, the last beat summed from the ingest register at
  // lI + 1, STATS start sS and latch LS = sS + StatsCycles, output issue edges fO..lO;
  // the slot of row i is free again after lO(i)).
  static uint64_t LnCycles(const VecCfg& c) {
    const int64_t db = Beats(c.d), cs = kStatsCycles;
    const int64_t r0 = 1 + static_cast<int64_t>(LoadBeats(c));
    if (c.n_rows == 0) return r0 + 1;
    std::vector<int64_t> l_in(c.n_rows), latch(c.n_rows), l_out(c.n_rows);
    for (int i = 0; i < c.n_rows; ++i) {
      int64_t f_in = i == 0 ? r0 + 1 : l_in[i - 1] + 1;
      if (i >= kSlots) f_in = std::max(f_in, l_out[i - kSlots] + 1);
      l_in[i] = f_in + db - 1;
      int64_t s_st = l_in[i] + 2;
      if (i > 0) s_st = std::max(s_st, latch[i - 1] + 1);
      latch[i] = s_st + cs;
      int64_t f_out = latch[i] + 1;
      if (i > 0) f_out = std::max(f_out, l_out[i - 1] + 1);
      l_out[i] = f_out + db - 1;
    }
    return static_cast<uint64_t>(l_out[c.n_rows - 1] + 5);
  }

  // The closed-form bound of the LN count: the first row, then one period per row.
  //   T <= 8 + LB + 2 db + Cs + (n - 1) max(db, Cs + 1, ceil((2 db + Cs + 3) / 3))
  static uint64_t LnCycleBound(const VecCfg& c) {
    const uint64_t db = Beats(c.d), cs = kStatsCycles, lb = LoadBeats(c);
    if (c.n_rows == 0) return 2 + lb;
    const uint64_t period = std::max({db, cs + 1, (2 * db + cs + 3 + 2) / 3});
    return 8 + lb + 2 * db + cs + (c.n_rows - 1) * period;
  }

  static uint64_t Cycles(const VecCfg& c) {
    return c.mode == VecMode::kResidualLn ? LnCycles(c) : ElementwiseCycles(c);
  }

  // ---- Beats -----------------------------------------------------------------------------

  // int8 rows: lanes at and above d of the last beat are junk.
  std::vector<Bits> Int8Beats(const Matrix<int8_t>& m) {
    std::vector<Bits> beats;
    for (int i = 0; i < m.rows; ++i) {
      for (int k = 0; k < Beats(m.cols); ++k) {
        Bits beat = Junk(kLanes * 8);
        for (int l = 0; l < kLanes && k * kLanes + l < m.cols; ++l) {
          beat.Set(l * 8, 8, static_cast<uint8_t>(m.at(i, k * kLanes + l)));
        }
        beats.push_back(beat);
      }
    }
    return beats;
  }

  std::vector<Bits> Int32Beats(const Matrix<int32_t>& m) {
    std::vector<Bits> beats;
    for (int i = 0; i < m.rows; ++i) {
      for (int k = 0; k < Beats(m.cols); ++k) {
        Bits beat = Junk(kLanes * 32);
        for (int l = 0; l < kLanes && k * kLanes + l < m.cols; ++l) {
          beat.Set(l * 32, 32, static_cast<uint32_t>(m.at(i, k * kLanes + l)));
        }
        beats.push_back(beat);
      }
    }
    return beats;
  }

  // 256/Lanes beats, lane l of beat k = lut[k*Lanes + l] in bits [32l +: 8].
  std::vector<Bits> LutBeats(const GeluLut& lut) {
    std::vector<Bits> beats;
    for (int k = 0; k < kLutBeats; ++k) {
      Bits beat = Junk(kLanes * 32);
      for (int l = 0; l < kLanes; ++l) {
        beat.Set(l * 32, 8, static_cast<uint8_t>(lut[k * kLanes + l]));
      }
      beats.push_back(beat);
    }
    return beats;
  }

  // ceil(d/Lanes) gamma beats ([32l +: 16]), then ceil(d/Lanes) beta beats ([32l +: 32]).
  std::vector<Bits> LnBeats(const LnParams& ln, int d) {
    std::vector<Bits> beats;
    for (int k = 0; k < Beats(d); ++k) {
      Bits beat = Junk(kLanes * 32);
      for (int l = 0; l < kLanes && k * kLanes + l < d; ++l) {
        beat.Set(l * 32, 16, static_cast<uint16_t>(ln.gamma[k * kLanes + l]));
      }
      beats.push_back(beat);
    }
    for (int k = 0; k < Beats(d); ++k) {
      Bits beat = Junk(kLanes * 32);
      for (int l = 0; l < kLanes && k * kLanes + l < d; ++l) {
        beat.Set(l * 32, 32, static_cast<uint32_t>(ln.beta[k * kLanes + l]));
      }
      beats.push_back(beat);
    }
    return beats;
  }

  // ---- Runs per mode ---------------------------------------------------------------------

  VecResult RunRequant(const Matrix<int32_t>& acc, Requant rq, const VecStalls& stalls,
                       uint64_t seed) {
    VecCfg c{VecMode::kRequant, acc.cols, acc.rows, false, rq.mult, rq.shift};
    VecBeats b;
    b.acc = Int32Beats(acc);
    return Run(c, b, stalls, seed);
  }

  VecResult RunAdd(const Matrix<int8_t>& a, const Matrix<int8_t>& b, const VecStalls& stalls,
                   uint64_t seed) {
    VecCfg c{VecMode::kAdd, a.cols, a.rows, false, 1, 0};
    VecBeats beats;
    beats.a = Int8Beats(a);
    beats.b = Int8Beats(b);
    return Run(c, beats, stalls, seed);
  }

  // lut: loaded first when load is true; otherwise the unit's loaded LUT is used.
  VecResult RunGelu(const Matrix<int8_t>& x, const GeluLut& lut, bool load, const VecStalls& stalls,
                    uint64_t seed) {
    VecCfg c{VecMode::kGelu, x.cols, x.rows, load, 1, 0};
    VecBeats beats;
    if (load) beats.prm = LutBeats(lut);
    beats.a = Int8Beats(x);
    return Run(c, beats, stalls, seed);
  }

  // ln.gamma/beta are loaded first when load is true; rs and ln.rq configure the run always.
  VecResult RunLayerNorm(const Matrix<int8_t>& a, const Matrix<int8_t>& b, ResidualScale rs,
                         const LnParams& ln, bool load, const VecStalls& stalls, uint64_t seed) {
    VecCfg c{VecMode::kResidualLn, a.cols, a.rows, load, ln.rq.mult, ln.rq.shift};
    c.res_mult_a = rs.mult_a;
    c.res_mult_b = rs.mult_b;
    VecBeats beats;
    if (load) beats.prm = LnBeats(ln, a.cols);
    beats.a = Int8Beats(a);
    beats.b = Int8Beats(b);
    return Run(c, beats, stalls, seed);
  }

  VecResult LoadLut(const GeluLut& lut, const VecStalls& stalls, uint64_t seed) {
    VecCfg c{VecMode::kGelu, 1, 0, true, 1, 0};
    VecBeats beats;
    beats.prm = LutBeats(lut);
    return Run(c, beats, stalls, seed);
  }

  VecResult LoadLn(const LnParams& ln, int d, const VecStalls& stalls, uint64_t seed) {
    VecCfg c{VecMode::kResidualLn, d, 0, true, ln.rq.mult, ln.rq.shift};
    VecBeats beats;
    beats.prm = LnBeats(ln, d);
    return Run(c, beats, stalls, seed);
  }

  // ---- Raw run ---------------------------------------------------------------------------

  // Drives the configuration fields, pulses start_i, streams the beats the unit takes and
  // collects every output beat until done_o. max_cycles 0: a bound from the configuration,
  // generous for any stall pattern.
  VecResult Run(const VecCfg& c, const VecBeats& beats, const VecStalls& stalls, uint64_t seed,
                uint64_t max_cycles = 0) {
    VecResult r;
    if (max_cycles == 0) {
      const uint64_t all = beats.prm.size() + beats.a.size() + beats.acc.size();
      const uint64_t rows = std::max(c.n_rows, 0);
      max_cycles = 64 * (all + 64) + 40 * rows * (Beats(std::max(c.d, 1)) + kStatsCycles + 8);
    }
    StreamSource<Bits> prm_src(stalls.prm, seed * 8 + 1);
    StreamSource<Bits> a_src(stalls.a, seed * 8 + 2);
    StreamSource<Bits> b_src(stalls.b, seed * 8 + 3);
    StreamSource<Bits> acc_src(stalls.acc, seed * 8 + 4);
    StallPattern out_stall(stalls.out, seed * 8 + 5);
    for (const Bits& b : beats.prm) prm_src.Push(b);
    for (const Bits& b : beats.a) a_src.Push(b);
    for (const Bits& b : beats.b) b_src.Push(b);
    for (const Bits& b : beats.acc) acc_src.Push(b);
    const bool joined = c.mode == VecMode::kAdd || c.mode == VecMode::kResidualLn;

    Idle();
    h_->cfg_mode_i = static_cast<uint8_t>(c.mode);
    h_->cfg_d_i = c.d;
    h_->cfg_n_rows_i = c.n_rows;
    h_->cfg_load_i = c.load;
    h_->cfg_mult_i = c.mult;
    h_->cfg_shift_i = c.shift;
    h_->cfg_res_mult_a_i = c.res_mult_a;
    h_->cfg_res_mult_b_i = c.res_mult_b;
    h_->start_i = 1;
    h_.Eval();
    if (h_->busy_o) ADD_FAILURE() << "start_i while busy";
    const uint64_t start = h_.cycle();
    h_.Tick();
    h_->start_i = 0;
    // Junk on the configuration inputs after the start edge: they were sampled.
    h_->cfg_d_i = junk_() & ((1u << kDW) - 1);
    h_->cfg_n_rows_i = junk_() & 0xffff;
    h_->cfg_mult_i = junk_() & 0xffff;
    h_->cfg_shift_i = junk_() & 63;
    h_->cfg_res_mult_a_i = junk_() & 0xffff;
    h_->cfg_res_mult_b_i = junk_() & 0xffff;
    h_->cfg_load_i = junk_() & 1;
    h_->cfg_mode_i = junk_() & 3;

    while (true) {
      if (h_.cycle() - start > max_cycles) {
        ADD_FAILURE() << "timeout: no done_o within " << max_cycles << " cycles (prm "
                      << r.prm_taken << "/" << beats.prm.size() << ", a " << r.a_taken << "/"
                      << beats.a.size() << ", b " << r.b_taken << "/" << beats.b.size() << ", acc "
                      << r.acc_taken << "/" << beats.acc.size() << ", out " << r.out.size()
                      << ", seed " << h_.seed() << ")";
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle();
        break;
      }
      prm_src.Prepare();
      a_src.Prepare();
      b_src.Prepare();
      acc_src.Prepare();
      const bool out_ready = !out_stall.Stall();
      h_->prm_valid_i = prm_src.valid();
      WritePort(&h_->prm_data_i, prm_src.valid() ? prm_src.front() : Junk(kLanes * 32));
      h_->a_valid_i = a_src.valid();
      WritePort(&h_->a_data_i, a_src.valid() ? a_src.front() : Junk(kLanes * 8));
      h_->b_valid_i = b_src.valid();
      WritePort(&h_->b_data_i, b_src.valid() ? b_src.front() : Junk(kLanes * 8));
      h_->acc_valid_i = acc_src.valid();
      WritePort(&h_->acc_data_i, acc_src.valid() ? acc_src.front() : Junk(kLanes * 32));
      h_->out_ready_i = out_ready;
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
      const bool a_fire = a_src.Observe(h_->a_ready_o);
      const bool b_fire = b_src.Observe(h_->b_ready_o);
      if (joined && a_fire != b_fire && r.order_error.empty()) {
        r.order_error = "a and b not taken together at cycle " + std::to_string(h_.cycle());
      }
      r.a_taken += a_fire;
      r.b_taken += b_fire;
      r.prm_taken += prm_src.Observe(h_->prm_ready_o);
      r.acc_taken += acc_src.Observe(h_->acc_ready_o);
      if (h_->out_valid_o && out_ready) {
        r.out.push_back(ReadPort(h_->out_data_o));
        r.out_last.push_back(h_->out_last_o);
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
    Assemble(c, &r);
    return r;
  }

 private:
  void Idle() {
    h_->start_i = 0;
    h_->prm_valid_i = 0;
    h_->a_valid_i = 0;
    h_->b_valid_i = 0;
    h_->acc_valid_i = 0;
    h_->out_ready_i = 0;
  }

  // Junk on the data lines while not valid and in unused lanes: the unit must ignore it.
  Bits Junk(int width) { return RandomBits(junk_, width); }

  // Output rows from the beats, and the first beat out of the promised shape.
  static void Assemble(const VecCfg& c, VecResult* r) {
    std::string& err = r->order_error;
    auto problem = [&err](const std::string& what) {
      if (err.empty()) err = what;
    };
    if (!r->done || r->err_code != 0 || c.n_rows <= 0 || c.d <= 0) {
      if (!r->out.empty()) problem(std::to_string(r->out.size()) + " output beats, want none");
      return;
    }
    const int db = Beats(c.d);
    const size_t want = static_cast<size_t>(c.n_rows) * db;
    if (r->out.size() != want) {
      problem("output beats: " + std::to_string(r->out.size()) + ", want " + std::to_string(want));
    }
    r->y = Matrix<int8_t>(c.n_rows, c.d);
    for (size_t k = 0; k < std::min(want, r->out.size()); ++k) {
      const int row = static_cast<int>(k / db), beat = static_cast<int>(k % db);
      if (r->out_last[k] != (beat == db - 1)) {
        problem("out_last_o " + std::to_string(int(r->out_last[k])) + " on beat " +
                std::to_string(beat) + " of row " + std::to_string(row));
      }
      for (int l = 0; l < kLanes; ++l) {
        const int col = beat * kLanes + l;
        const int8_t v = static_cast<int8_t>(r->out[k].Get(l * 8, 8));
        if (col < c.d) {
          r->y.at(row, col) = v;
        } else if (v != 0) {
          problem("lane " + std::to_string(l) + " (column " + std::to_string(col) +
                  " >= d) of row " + std::to_string(row) + " is " + std::to_string(v) + ", want 0");
        }
      }
    }
  }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

}  // namespace esact::sim
