// Reusable Verilator harness for ESACT RTL tests (STYLE.md, "C++ habits we keep").
//
//   Harness<Model>  one VerilatedContext and one model per test, clock and reset,
//                   FST waves on request, cycle-bounded waits, and RTL assertion
//                   failures turned into gtest failures of the current test.
//   StallPattern    seeded idle/back-pressure generator for stream sources and sinks.
//   StreamSource,   valid/ready endpoints that keep the protocol (valid held until
//   StreamSink      accepted) and take a StallPattern each.
//
// Conventions the template relies on: the model has ports clk_i and rst_ni (active-low,
// asynchronous). Test code sets inputs, calls Eval() if it needs combinational outputs
// of those inputs, then Tick(); a handshake seen (valid && ready) after Eval() and before
// Tick() happens on that Tick's rising edge.
//
// Waves: ESACT_WAVES=1 writes <build dir>/waves/<Suite>.<Test>.fst (the directory of the
// test executable, i.e. the CMake build directory); ESACT_WAVES=<dir> writes into <dir>.
// Unset, empty or 0 traces nothing.
#pragma once

#include <gtest/gtest.h>
#include <verilated.h>
#include <verilated_fst_c.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace esact::sim {

// ---- Stall patterns ---------------------------------------------------------------------

// Shape of the idle cycles a source inserts, or of the not-ready cycles a sink inserts.
struct StallSpec {
  enum class Kind { kNone, kRandom, kBursty };
  Kind kind = Kind::kNone;
  // kRandom: probability of a stall in each cycle. kBursty: probability that a run of
  // active cycles ends (so mean active run 1/p); stall bursts last 1..max_burst cycles.
  double p = 0.0;
  int max_burst = 0;

  static StallSpec None() { return {}; }
  static StallSpec Random(double p) { return {Kind::kRandom, p, 0}; }
  static StallSpec Bursty(double p = 0.1, int max_burst = 16) {
    return {Kind::kBursty, p, max_burst};
  }
  // Short name usable in a gtest parameter name: none, rand30, bursty.
  std::string Name() const;
};

// gtest prints parameters through this (ADL).
inline void PrintTo(const StallSpec& spec, std::ostream* os) { *os << spec.Name(); }

class StallPattern {
 public:
  StallPattern(StallSpec spec, uint64_t seed);

  // Call exactly once per cycle; true means stall (source idle, sink not ready) this cycle.
  bool Stall();

  const StallSpec& spec() const { return spec_; }

 private:
  StallSpec spec_;
  std::mt19937_64 rng_;
  int burst_left_ = 0;  // kBursty: stall cycles still to come in the current burst
};

// ---- Stream source and sink -------------------------------------------------------------
//
// Protocol-correct valid/ready endpoints, independent of the model's port names. Per
// cycle: Prepare(); drive the ports from valid()/front() (source) and ready() (sink);
// Eval(); Observe() with the DUT's ready (source) or valid and data (sink); Tick().

// Presents queued beats; once valid it holds valid and the beat until accepted.
template <class Beat>
class StreamSource {
 public:
  StreamSource(StallSpec stall, uint64_t seed) : stall_(stall, seed) {}

  void Push(const Beat& beat) { queue_.push_back(beat); }
  // Decides this cycle's valid: a presented beat stays presented; otherwise the next
  // beat is presented unless the stall pattern inserts an idle cycle.
  void Prepare() {
    if (!presenting_ && !queue_.empty()) presenting_ = !stall_.Stall();
  }
  bool valid() const { return presenting_; }
  const Beat& front() const { return queue_.front(); }  // only while valid()
  // ready: the DUT's ready this cycle. Returns true on a handshake.
  bool Observe(bool ready) {
    if (!(presenting_ && ready)) return false;
    queue_.pop_front();
    presenting_ = false;
    ++sent_;
    return true;
  }
  bool done() const { return queue_.empty(); }
  uint64_t sent() const { return sent_; }

 private:
  StallPattern stall_;
  std::deque<Beat> queue_;
  bool presenting_ = false;
  uint64_t sent_ = 0;
};

// Collects beats, deasserting ready on the stall pattern's cycles.
template <class Beat>
class StreamSink {
 public:
  StreamSink(StallSpec stall, uint64_t seed) : stall_(stall, seed) {}

  void Prepare() { ready_ = !stall_.Stall(); }
  bool ready() const { return ready_; }
  // valid, beat: the DUT's valid and data this cycle. Returns true on a handshake.
  bool Observe(bool valid, const Beat& beat) {
    if (!(valid && ready_)) return false;
    received_.push_back(beat);
    return true;
  }
  const std::vector<Beat>& received() const { return received_; }

 private:
  StallPattern stall_;
  bool ready_ = true;
  std::vector<Beat> received_;
};

// The seed of the current gtest test: ESACT_SEED (default 1) mixed with the test name.
// Printed and recorded as a test property, so every failure can be replayed.
uint64_t TestSeed();

// ---- Harness ----------------------------------------------------------------------------

// Model-independent part: context, clocking bookkeeping, waves, error reporting.
class HarnessBase {
 public:
  // Tick() advances simulation time by kPeriod. Dump points per cycle, relative to the
  // cycle start t: t+8 inputs settled before the edge, t+10 rising edge, t+15 falling edge.
  static constexpr uint64_t kPeriod = 10;

  HarnessBase(const HarnessBase&) = delete;
  HarnessBase& operator=(const HarnessBase&) = delete;

  VerilatedContext* context() { return context_.get(); }
  uint64_t seed() const { return seed_; }
  // Rising edges since construction.
  uint64_t cycle() const { return cycle_; }
  // True once the RTL reported an error ($error, failed assertion, $stop, $fatal). With
  // the default error limit of 1 the first error also stops the run (rtl_finished()).
  bool rtl_error() const { return context_->gotError() || context_->errorCount() > 0; }
  bool rtl_finished() const { return context_->gotFinish(); }
  // Path of the wave file, empty when not tracing.
  const std::string& wave_path() const { return wave_path_; }

  // Flushes and closes the trace, then adds a gtest failure if the RTL reported an
  // error. Idempotent; the destructor calls it. Returns true when the RTL reported none.
  bool Finish();

  // The wave file for the current gtest test, or "" when ESACT_WAVES does not ask for one.
  static std::string WavePathForCurrentTest();

 protected:
  // seed: drives --x-initial/--x-assign unique values (randReset(2)) and nothing else.
  explicit HarnessBase(uint64_t seed);
  ~HarnessBase();

  void OpenTrace(const std::string& path);
  void Dump(uint64_t time);
  void MakeCurrent() { Verilated::threadContextp(context_.get()); }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<VerilatedFstC> trace_;
  std::string wave_path_;
  uint64_t seed_ = 0;
  uint64_t cycle_ = 0;
  bool finished_ = false;
};

template <class Model>
class Harness : public HarnessBase {
 public:
  // wave_path: the FST file to write, "" for none; by default ESACT_WAVES decides.
  explicit Harness(uint64_t seed = 1, const std::string& path = WavePathForCurrentTest())
      : HarnessBase(seed) {
    // traceEverOn before the model exists.
    if (!path.empty()) context_->traceEverOn(true);
    model_ = std::make_unique<Model>(context_.get(), "dut");
    model_->clk_i = 0;
    model_->rst_ni = 1;
    context_->time(0);
    model_->eval();
    if (!path.empty()) {
      trace_ = std::make_unique<VerilatedFstC>();
      model_->trace(trace_.get(), 99);  // trace() before open()
      OpenTrace(path);
      Dump(0);
    }
  }

  ~Harness() {
    MakeCurrent();
    model_->final();
    Finish();  // trace flushed and closed, RTL errors reported, before the model goes away
    model_.reset();
  }

  Model& dut() { return *model_; }
  Model* operator->() { return model_.get(); }

  // Settles combinational logic after the test changed inputs (no time advance).
  void Eval() {
    MakeCurrent();
    model_->eval();
  }

  // One clock cycle: settle inputs, rising edge, falling edge.
  void Tick() {
    MakeCurrent();
    const uint64_t t = cycle_ * kPeriod;
    context_->time(t + kPeriod - 2);
    model_->eval();
    Dump(t + kPeriod - 2);
    context_->time(t + kPeriod);
    model_->clk_i = 1;
    model_->eval();
    Dump(t + kPeriod);
    ++cycle_;
    context_->time(t + kPeriod + kPeriod / 2);
    model_->clk_i = 0;
    model_->eval();
    Dump(t + kPeriod + kPeriod / 2);
  }

  // Asserts rst_ni (asynchronously) for `cycles` clock cycles, then releases it between
  // clock edges. Inputs should be at their idle values before calling.
  void Reset(int cycles = 2) {
    model_->rst_ni = 0;
    Eval();
    for (int i = 0; i < cycles; ++i) Tick();
    model_->rst_ni = 1;
    Eval();
  }

  // Ticks until pred() holds (checked before each tick, so 0 cycles if it already holds),
  // at most max_cycles times. On timeout or an RTL error adds a gtest failure naming
  // `what` and returns false; never hangs.
  bool WaitFor(const std::function<bool()>& pred, uint64_t max_cycles,
               const std::string& what = "condition") {
    for (uint64_t i = 0;; ++i) {
      Eval();
      if (rtl_finished()) {
        ADD_FAILURE() << "RTL stopped (error or $finish) at cycle " << cycle_
                      << " while waiting for " << what << " (seed " << seed_ << ")";
        return false;
      }
      if (pred()) return true;
      if (i == max_cycles) break;
      Tick();
    }
    ADD_FAILURE() << "timeout: " << what << " not reached within " << max_cycles
                  << " cycles (now cycle " << cycle_ << ", seed " << seed_ << ")";
    return false;
  }

 private:
  std::unique_ptr<Model> model_;
};

}  // namespace esact::sim
