// The layer runner for esact_top: a host that places a layer in the AXI4 memory model
// (sim/axi_mem.h, docs/memory-layout.md), programs the registers through the AXI4-Lite
// master (sim/axil_driver.h), starts the run, waits for the interrupt and reads back Y, the
// decision records, STATUS and the performance counters.
//
//   TopDriver<Model, Params> top(seed, TopTraffic::Random());
//   TopRun run = top.Run(layer);          // also: Program(), Start(), WaitDone(), Collect()
//
// Params is the Verilated class that holds esact_top's `verilator public` parameters
// (<prefix>_esact_top). Every wait is cycle-bounded and fails the test instead of hanging.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "golden/layer.h"
#include "golden/report.h"
#include "golden/spls.h"
#include "sim/axi_mem.h"
#include "sim/axil_driver.h"
#include "sim/energy.h"
#include "sim/esact_regs.h"
#include "sim/harness.h"
#include "sim/top_image.h"

namespace esact::sim {

// One layer for the top: parameters, input, valid rows, SPLS configuration (enabled =
// SPLS, otherwise dense).
struct TopLayer {
  LayerParams params;
  Matrix<int8_t> x;
  int n_valid = 0;
  SplsConfig spls;
};

// Where the runner puts the four buffers (byte addresses; sizes default to exactly what
// the layer needs). Tests move or shrink them to provoke errors.
struct TopPlacement {
  uint64_t x_addr = 0, w_addr = 0, y_addr = 0, dec_addr = 0;
  uint32_t x_size = 0, w_size = 0, y_size = 0, dec_size = 0;
};

// Memory and register traffic of a run.
struct TopTraffic {
  AxiMemConfig mem;
  AxiTraffic axil;
  static TopTraffic None() { return {AxiMemConfig::None(), AxiTraffic::None()}; }
  static TopTraffic Random() { return {AxiMemConfig::Random(), AxiTraffic::Random()}; }
};

struct TopRun {
  uint32_t status = 0;
  int err_code = 0;     // STATUS.ERR_CODE (esact_pkg::top_err_e)
  uint64_t cycles = 0;  // clock cycles from the START write's AW/W to irq_o
  std::array<uint64_t, regs::kNumCounters> counters{};
  Matrix<int8_t> y;             // n_tokens x d_model as read from Y
  SplsDecision decision;        // unpacked from DEC (only when the run succeeded)
  std::vector<uint8_t> memory;  // the whole memory image after the run
  uint64_t counter(const char* name) const;
};

template <class Model, class Params>
class TopDriver {
 public:
  static constexpr int kBytes = Params::DataW / 8;
  static constexpr int kRegAddrW = Params::RegAddrW;
  static constexpr size_t kMemBytes = size_t{1} << 24;  // 16 MiB of external memory
  static constexpr uint64_t kAlign = 4096;

  TopDriver(uint64_t seed, TopTraffic traffic,
            const std::string& wave = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave),
        mem_(h_, kMemBytes, seed + 1, traffic.mem),
        axil_(h_, seed + 2, traffic.axil) {
    axil_.OnCycle([this] {
      mem_.Drive();
      h_.Eval();
      mem_.Observe();
      if (progress_) progress_(h_.cycle());
    });
    mem_.Drive();
    h_.Reset();
  }

  static TopGeometry Geometry() { return {Params::Lanes, kBytes, Params::NMax, Params::PredLanes}; }

  Harness<Model>& harness() { return h_; }
  AxiMem<Model, kBytes>& mem() { return mem_; }
  AxiLiteDriver<Model, kRegAddrW>& axil() { return axil_; }
  void OnProgress(std::function<void(uint64_t)> f) { progress_ = std::move(f); }

  // Buffers back to back from 4 KiB, each on a 4 KiB boundary, sized for the layer.
  static TopPlacement Place(const TopLayer& l) {
    const int n = l.x.rows, d = l.params.d_model;
    TopPlacement p;
    const auto up = [](uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; };
    p.x_size = static_cast<uint32_t>(n * d);
    p.w_size = static_cast<uint32_t>(WeightImageBytes(d, l.params.d_ff, Geometry()));
    p.y_size = p.x_size;
    p.dec_size = static_cast<uint32_t>(DecisionBytes(l.params.n_heads, n, Geometry()));
    p.x_addr = kAlign;
    p.w_addr = up(p.x_addr + p.x_size);
    p.y_addr = up(p.w_addr + p.w_size);
    p.dec_addr = up(p.y_addr + p.y_size);
    return p;
  }

  // Writes X and the weight image into memory and every configuration register.
  void Program(const TopLayer& l, const TopPlacement& p) {
    const std::vector<uint8_t> x = PackActivations(l.x);
    const std::vector<uint8_t> w =
        PackWeightImage(l.params, MakePredictorWeights(l.params, l.spls), Geometry());
    Copy(x, p.x_addr);
    Copy(w, p.w_addr);
    const SplsConfig& s = l.spls;
    const uint32_t spls = (s.enabled ? regs::kSplsEnMask : 0) |
                          (static_cast<uint32_t>(s.hlog_bits) << regs::kSplsHlogBitsLsb) |
                          (s.round == HlogRound::kNearest ? regs::kSplsRoundMask : 0) |
                          (s.ffn == FfnPolicy::kReuse ? regs::kSplsFfnPolicyMask : 0);
    WriteOk(regs::kNTokens, static_cast<uint32_t>(l.x.rows));
    WriteOk(regs::kNValid, static_cast<uint32_t>(l.n_valid));
    WriteOk(regs::kDModel, static_cast<uint32_t>(l.params.d_model));
    WriteOk(regs::kNHeads, static_cast<uint32_t>(l.params.n_heads));
    WriteOk(regs::kDFf, static_cast<uint32_t>(l.params.d_ff));
    WriteOk(regs::kSpls, spls);
    WriteOk(regs::kK, static_cast<uint32_t>(s.k));
    WriteOk(regs::kW, static_cast<uint32_t>(s.w));
    WriteOk(regs::kT, static_cast<uint32_t>(s.t));
    WriteBuffer(regs::kXAddrLo, p.x_addr, p.x_size);
    WriteBuffer(regs::kWAddrLo, p.w_addr, p.w_size);
    WriteBuffer(regs::kYAddrLo, p.y_addr, p.y_size);
    WriteBuffer(regs::kDecAddrLo, p.dec_addr, p.dec_size);
  }

  // CTRL.START with the interrupt enabled.
  void Start() {
    start_cycle_ = h_.cycle();
    WriteOk(regs::kCtrl, regs::kCtrlStartMask | regs::kCtrlIrqEnMask);
  }

  // Runs until irq_o; false (and a test failure) after max_cycles.
  bool WaitDone(uint64_t max_cycles) {
    for (uint64_t i = 0; i < max_cycles; ++i) {
      if (h_->irq_o) {
        done_cycle_ = h_.cycle();
        return true;
      }
      axil_.Idle();
      if (h_.rtl_finished()) break;
    }
    ADD_FAILURE() << "esact_top did not raise irq_o within " << max_cycles << " cycles (seed "
                  << h_.seed() << ")";
    return false;
  }

  // STATUS, counters, Y and (on success) the decisions; clears STATUS.DONE and ERR.
  TopRun Collect(const TopLayer& l, const TopPlacement& p) {
    TopRun r;
    r.cycles = done_cycle_ - start_cycle_;
    r.status = axil_.ReadOk(regs::kStatus);
    r.err_code = static_cast<int>((r.status & regs::kStatusErrCodeMask) >> regs::kStatusErrCodeLsb);
    for (const regs::Counter& c : regs::kCounters) {
      const uint64_t lo = axil_.ReadOk(c.lo);
      const uint64_t hi = axil_.ReadOk(c.hi);
      r.counters[c.index] = hi << 32 | lo;
    }
    WriteOk(regs::kStatus, regs::kStatusDoneMask | regs::kStatusErrMask);
    r.memory = mem_.bytes();
    const int n = l.x.rows;
    r.y = UnpackActivations(r.memory, p.y_addr, n, l.params.d_model);
    if (!(r.status & regs::kStatusErrMask)) {
      r.decision =
          UnpackDecisions(r.memory, p.dec_addr, l.params.n_heads, n, l.n_valid, Geometry());
    }
    return r;
  }

  TopRun Run(const TopLayer& l, uint64_t max_cycles = 50'000'000) {
    const TopPlacement p = Place(l);
    return Run(l, p, max_cycles);
  }
  TopRun Run(const TopLayer& l, const TopPlacement& p, uint64_t max_cycles = 50'000'000) {
    Program(l, p);
    Start();
    WaitDone(max_cycles);
    return Collect(l, p);
  }

 private:
  void Copy(const std::vector<uint8_t>& src, uint64_t addr) {
    std::vector<uint8_t>& m = mem_.bytes();
    ASSERT_LE(addr + src.size(), m.size()) << "buffer outside the memory model";
    std::copy(src.begin(), src.end(), m.begin() + static_cast<std::ptrdiff_t>(addr));
  }
  void WriteOk(uint32_t addr, uint32_t data) {
    EXPECT_EQ(axil_.Write(addr, data), AxiResp::kOkay) << "register write 0x" << std::hex << addr;
  }
  // ADDR_LO, ADDR_HI, SIZE of one buffer block.
  void WriteBuffer(uint32_t lo, uint64_t addr, uint32_t size) {
    WriteOk(lo, static_cast<uint32_t>(addr));
    WriteOk(lo + 4, static_cast<uint32_t>(addr >> 32));
    WriteOk(lo + 8, size);
  }

  Harness<Model> h_;
  AxiMem<Model, kBytes> mem_;
  AxiLiteDriver<Model, kRegAddrW> axil_;
  std::function<void(uint64_t)> progress_;
  uint64_t start_cycle_ = 0, done_cycle_ = 0;
};

inline uint64_t TopRun::counter(const char* name) const {
  for (const regs::Counter& c : regs::kCounters) {
    if (std::string(c.name) == name) return counters[c.index];
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

}  // namespace esact::sim

// ---- A layer through the top, dense and SPLS, against the golden model ----------------------
// The report behind `make sim` (esact-sim) and the top-level benchmark (esact-bench).
namespace esact::sim {

struct TopCheck {
  int err_code = 0;
  int64_t mismatches = 0;     // Y elements that differ from RunLayer
  std::string decision_diff;  // FirstDecisionDifference, "" when identical
  TopRun run;
  double seconds = 0;  // wall time of the simulation
  bool pass() const { return err_code == 0 && mismatches == 0 && decision_diff.empty(); }
};

struct TopReport {
  TopCheck dense, spls;
  int64_t macs_dense = 0, macs_executed = 0, predictor_ops = 0;
  int mac_units = 0;    // int8 MACs per cycle at peak: GEMM array plus attention lanes
  int64_t pam_ops = 0;  // the predictor's PAM products (its attention-side share)
  bool pass() const { return dense.pass() && spls.pass(); }
  // Energy estimate of one run from its counters (sim/energy.h, docs/energy.md).
  EnergyEstimate Energy(const TopCheck& c) const;
  double speedup() const;           // dense cycles / SPLS cycles
  double ideal_speedup() const;     // dense MACs / executed MACs (1 / (1 - skipped fraction))
  double pe_utilization() const;    // SPLS: executed MACs / (cycles * mac_units)
  double sim_cycles_per_s() const;  // both runs: simulated cycles per wall second
  std::string Json() const;
  std::string Text() const;
};

// Runs `l` once with l.spls as given; Y and decisions against RunLayer.
template <class Driver>
TopCheck CheckTopRun(Driver& top, const TopLayer& l) {
  TopCheck c;
  const auto t0 = std::chrono::steady_clock::now();
  c.run = top.Run(l);
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.err_code = c.run.err_code;
  if (c.err_code != 0) return c;
  const LayerResult want = RunLayer(l.params, l.x, l.n_valid, l.spls);
  for (size_t i = 0; i < want.y.data.size(); ++i) c.mismatches += c.run.y.data[i] != want.y.data[i];
  c.decision_diff = FirstDecisionDifference(c.run.decision, want.decision);
  return c;
}

// Dense, then SPLS (the waveform, when asked, is the SPLS run's).
template <class Model, class Params>
TopReport RunTopDenseAndSpls(TopLayer l, uint64_t seed, TopTraffic traffic, const std::string& wave,
                             std::function<void(uint64_t)> progress) {
  TopReport r;
  r.mac_units = Params::GemmRows * Params::Lanes + Params::AttnLanes;
  {
    TopDriver<Model, Params> top(seed, traffic, "");
    top.OnProgress(progress);
    l.spls.enabled = false;
    r.dense = CheckTopRun(top, l);
  }
  TopDriver<Model, Params> top(seed, traffic, wave);
  top.OnProgress(progress);
  l.spls.enabled = true;
  r.spls = CheckTopRun(top, l);
  r.macs_dense =
      static_cast<int64_t>(r.spls.run.counter("MACS_EXEC") + r.spls.run.counter("MACS_SKIPPED"));
  r.macs_executed = static_cast<int64_t>(r.spls.run.counter("MACS_EXEC"));
  r.predictor_ops = static_cast<int64_t>(r.spls.run.counter("PRED_OPS"));
  r.pam_ops = int64_t{l.n_valid} * l.n_valid * l.params.d_model;
  return r;
}

}  // namespace esact::sim
