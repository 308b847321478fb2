// Stream driver of esact_topk and the golden column masks it is checked against.
//
//   TopKRowIn        one row of scores: per-column score and pad flag, and the row's k.
//   GoldenTopKMask   esact::TopKRow over the row's non-padded columns, as a column mask.
//   IndexSetMask     an esact::IndexSet as a column mask (bit j = column j).
//   TopKDriver       a Harness plus the stream plumbing: Run() streams rows through under
//                    the given idle and back-pressure shapes and returns one mask per row.
//
// The model's parameters are template arguments of the driver (Cfg::kNMax, kKMax,
// kScoreW); tests check them against the model's behaviour (cfg_err_o at KMax + 1, the
// mask bit of column NMax - 1, extreme scores).
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden/spls.h"
#include "sim/harness.h"

namespace esact::sim {

// One row of esact_topk input. pad[j] != 0 marks a padded column; scores[j] is the
// ScoreW-bit score sign-extended to 32 bits. k is cfg_k_i while the row is in flight.
struct TopKRowIn {
  std::vector<int32_t> scores;
  std::vector<uint8_t> pad;  // same size as scores
  int k = 1;

  int n() const { return static_cast<int>(scores.size()); }
};

inline uint64_t IndexSetMask(const IndexSet& set) {
  uint64_t mask = 0;
  for (int j : set) mask |= uint64_t{1} << j;
  return mask;
}

// TopKRow takes the n_valid leading columns of a row. Padding may sit anywhere here, so
// the non-padded scores are compacted (their order is kept, so ties still go to the lower
// column), selected by TopKRow, and the selected positions are mapped back to columns.
inline uint64_t GoldenTopKMask(const std::vector<int32_t>& scores, const std::vector<uint8_t>& pad,
                               int k) {
  std::vector<int32_t> compact;
  std::vector<int> column;
  for (size_t j = 0; j < scores.size(); ++j) {
    if (pad[j] != 0) continue;
    compact.push_back(scores[j]);
    column.push_back(static_cast<int>(j));
  }
  uint64_t mask = 0;
  for (int i : TopKRow(compact.data(), static_cast<int>(compact.size()), k)) {
    mask |= uint64_t{1} << column[i];
  }
  return mask;
}
inline uint64_t GoldenTopKMask(const TopKRowIn& row) {
  return GoldenTopKMask(row.scores, row.pad, row.k);
}

// Parameters of one esact_topk configuration, named like its line in rtl/tops.txt.
template <int NMax, int KMax, int ScoreW>
struct TopKConfig {
  static constexpr int kNMax = NMax;
  static constexpr int kKMax = KMax;
  static constexpr int kScoreW = ScoreW;
  // Width of cfg_k_i: $clog2(KMax + 1).
  static constexpr int kKBits = [] {
    int w = 0;
    while ((1 << w) < KMax + 1) ++w;
    return w;
  }();
  static constexpr int64_t kScoreMin = -(int64_t{1} << (ScoreW - 1));
  static constexpr int64_t kScoreMax = (int64_t{1} << (ScoreW - 1)) - 1;
  static constexpr uint32_t kScoreMask =
      ScoreW >= 32 ? ~0u : static_cast<uint32_t>((uint64_t{1} << ScoreW) - 1);

  static_assert(NMax >= 2 && NMax <= 64, "masks travel in uint64_t");
  static_assert(KMax >= 1 && KMax <= NMax);
  static_assert(ScoreW >= 2 && ScoreW <= 32, "scores travel in int32_t");
};

// A harness plus the stream plumbing of esact_topk.
template <class Model, class Cfg>
class TopKDriver {
 public:
  explicit TopKDriver(uint64_t seed,
                      const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x9e3779b97f4a7c15ull) {
    Idle();
    h_->cfg_k_i = 1;
    h_.Reset();
    EXPECT_FALSE(h_->out_valid_o) << "out_valid_o after reset";
    EXPECT_EQ(static_cast<uint64_t>(h_->out_mask_o), 0u) << "out_mask_o after reset";
    EXPECT_TRUE(h_->in_ready_o) << "in_ready_o after reset";
  }

  Harness<Model>& harness() { return h_; }
  // cfg_err_o for cfg_k_i = k (combinational).
  bool CfgErr(int k) {
    h_->cfg_k_i = static_cast<uint8_t>(k & ((1 << Cfg::kKBits) - 1));
    h_.Eval();
    return h_->cfg_err_o;
  }
  bool Finish() { return h_.Finish(); }

  // Streams `rows` through with the given idle and back-pressure shapes and returns one
  // mask per row. cfg_k_i follows the row being sent: it changes only after the last
  // score of the previous row was accepted. Fails the test (and returns what arrived)
  // after max_cycles cycles. *cycles: cycles from the first beat presented to the last
  // mask taken; *in_ready_always: in_ready_o was high on every cycle.
  std::vector<uint64_t> Run(const std::vector<TopKRowIn>& rows, StallSpec in_stall,
                            StallSpec out_stall, uint64_t seed, uint64_t max_cycles,
                            uint64_t* cycles = nullptr, bool* in_ready_always = nullptr) {
    StreamSource<Beat> src(in_stall, seed * 2 + 1);
    StreamSink<uint64_t> sink(out_stall, seed * 2 + 2);
    for (const TopKRowIn& row : rows) {
      for (int j = 0; j < row.n(); ++j) {
        src.Push({row.scores[j], row.pad[j] != 0, j == row.n() - 1});
      }
    }
    size_t row_in = 0;  // the row whose scores are being sent
    const uint64_t start = h_.cycle();
    bool ready_always = true;
    while (sink.received().size() < rows.size()) {
      if (h_.cycle() - start >= max_cycles) {
        ADD_FAILURE() << "timeout: " << sink.received().size() << " of " << rows.size()
                      << " masks out after " << max_cycles << " cycles (seed " << h_.seed() << ")";
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle() << " (seed " << h_.seed() << ")";
        break;
      }
      src.Prepare();
      sink.Prepare();
      if (row_in < rows.size()) {
        h_->cfg_k_i = static_cast<uint8_t>(rows[row_in].k & ((1 << Cfg::kKBits) - 1));
      }
      h_->in_valid_i = src.valid();
      // Junk on the data lines while not valid: the block must not depend on it.
      const Beat beat = src.valid() ? src.front() : JunkBeat();
      h_->in_score_i = static_cast<uint32_t>(beat.score) & Cfg::kScoreMask;
      h_->in_pad_i = beat.pad;
      h_->in_last_i = beat.last;
      h_->out_ready_i = sink.ready();
      h_.Eval();
      ready_always = ready_always && h_->in_ready_o;
      if (src.Observe(h_->in_ready_o) && beat.last) ++row_in;
      sink.Observe(h_->out_valid_o, static_cast<uint64_t>(h_->out_mask_o));
      h_.Tick();
    }
    EXPECT_TRUE(src.done()) << "all masks out before all scores were accepted";
    if (cycles != nullptr) *cycles = h_.cycle() - start;
    if (in_ready_always != nullptr) *in_ready_always = ready_always;
    // Drained: nothing more comes out.
    Idle();
    h_->out_ready_i = 1;
    for (int i = 0; i < 3; ++i) {
      h_.Eval();
      EXPECT_FALSE(h_->out_valid_o) << "extra output mask after the stream drained";
      h_.Tick();
    }
    Idle();
    h_.Eval();
    return sink.received();
  }

 private:
  struct Beat {
    int32_t score;
    bool pad;
    bool last;
  };

  Beat JunkBeat() {
    const uint64_t r = junk_();
    return {static_cast<int32_t>(r), ((r >> 32) & 1) != 0, ((r >> 33) & 1) != 0};
  }

  void Idle() {
    h_->in_valid_i = 0;
    h_->in_score_i = 0;
    h_->in_pad_i = 0;
    h_->in_last_i = 0;
    h_->out_ready_i = 0;
  }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

}  // namespace esact::sim
