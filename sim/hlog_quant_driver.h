// Stream driver of esact_hlog_quant, shared by its test and the esact-sim front end.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden/hlog.h"
#include "sim/harness.h"

namespace esact::sim {

constexpr int kInt8Bits = 8;
constexpr uint32_t kCodeMask = (1u << kHlogCodeBits) - 1;
constexpr int kMaxLanes = 4;  // beats are carried in uint32_t: Lanes * 8 <= 32

inline int LaneValue(uint32_t beat, int lane) {
  return static_cast<int8_t>((beat >> (lane * kInt8Bits)) & 0xff);
}
inline uint32_t LaneCode(uint32_t beat, int lane) {
  return (beat >> (lane * kHlogCodeBits)) & kCodeMask;
}

// Packs int8 values (lane 0 first) into beats of `lanes` values.
inline std::vector<uint32_t> Pack(const std::vector<int>& values, int lanes) {
  std::vector<uint32_t> beats;
  for (size_t i = 0; i + lanes <= values.size(); i += lanes) {
    uint32_t beat = 0;
    for (int l = 0; l < lanes; ++l) {
      beat |= (static_cast<uint32_t>(values[i + l]) & 0xff) << (l * kInt8Bits);
    }
    beats.push_back(beat);
  }
  return beats;
}

// A harness plus the stream plumbing of esact_hlog_quant: configure, then Run() streams
// beats through under the given idle and back-pressure shapes.
template <class Model, int kLanes>
class HlogQuantDriver {
 public:
  static_assert(kLanes >= 1 && kLanes <= kMaxLanes);

  explicit HlogQuantDriver(uint64_t seed,
                           const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x9e3779b97f4a7c15ull) {
    Idle();
    h_.Reset();
    EXPECT_FALSE(h_->out_valid_o) << "out_valid_o after reset";
    // The reset value is the zero code in every lane: esact_pkg::HLOG_ZERO == kHlogZero.
    for (int l = 0; l < kLanes; ++l) {
      EXPECT_EQ(LaneCode(static_cast<uint32_t>(h_->out_data_o), l), kHlogZero) << "lane " << l;
    }
  }

  void Configure(int bits, HlogRound round) {
    h_->cfg_bits_i = static_cast<uint8_t>(bits);
    h_->cfg_round_i = static_cast<uint8_t>(round);
    h_.Eval();
  }
  bool cfg_err() { return h_->cfg_err_o; }
  // Closes the waveform and reports RTL errors (HarnessBase::Finish).
  bool Finish() { return h_.Finish(); }
  const std::string& wave_path() const { return h_.wave_path(); }

  // Streams `beats` through with the given idle and back-pressure shapes and returns the
  // output beats. Fails the test (and returns what arrived) after max_cycles cycles.
  // *in_ready_always reports whether in_ready_o stayed high on every cycle.
  std::vector<uint32_t> Run(const std::vector<uint32_t>& beats, StallSpec in_stall,
                            StallSpec out_stall, uint64_t seed, uint64_t max_cycles,
                            uint64_t* cycles = nullptr, bool* in_ready_always = nullptr) {
    sim::StreamSource<uint32_t> src(in_stall, seed * 2 + 1);
    sim::StreamSink<uint32_t> sink(out_stall, seed * 2 + 2);
    for (uint32_t b : beats) src.Push(b);
    const uint64_t start = h_.cycle();
    bool ready_always = true;
    while (sink.received().size() < beats.size()) {
      if (h_.cycle() - start >= max_cycles) {
        ADD_FAILURE() << "timeout: " << sink.received().size() << " of " << beats.size()
                      << " beats out after " << max_cycles << " cycles (seed " << h_.seed() << ")";
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle();
        break;
      }
      src.Prepare();
      sink.Prepare();
      h_->in_valid_i = src.valid();
      // Junk on the data lines while not valid: the block must not depend on it.
      h_->in_data_i = (src.valid() ? src.front() : static_cast<uint32_t>(junk_())) & kDataMask;
      h_->out_ready_i = sink.ready();
      h_.Eval();
      ready_always = ready_always && h_->in_ready_o;
      src.Observe(h_->in_ready_o);
      sink.Observe(h_->out_valid_o, static_cast<uint32_t>(h_->out_data_o));
      h_.Tick();
    }
    EXPECT_TRUE(src.done()) << "output complete before all input was accepted";
    if (cycles != nullptr) *cycles = h_.cycle() - start;
    if (in_ready_always != nullptr) *in_ready_always = ready_always;
    // Drained: nothing more comes out.
    Idle();
    h_->out_ready_i = 1;
    for (int i = 0; i < 3; ++i) {
      h_.Eval();
      EXPECT_FALSE(h_->out_valid_o) << "extra output beat after the stream drained";
      h_.Tick();
    }
    Idle();
    h_.Eval();
    return sink.received();
  }

 private:
  static constexpr uint32_t kDataMask =
      kLanes * kInt8Bits >= 32 ? ~0u : (1u << (kLanes * kInt8Bits)) - 1;

  void Idle() {
    h_->in_valid_i = 0;
    h_->in_data_i = 0;
    h_->out_ready_i = 0;
  }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

}  // namespace esact::sim
