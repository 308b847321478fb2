// Stream driver of esact_reuse (and of any model with its port names), plus the golden
// expectation of one layer: esact::ReuseMap, NeededKv and TokenAnchors (golden/spls.h)
// turned into the beats the unit emits. Shared by the reuse test and the predictor test.
//
//   ReuseLayer      one layer: shape, w, t and the SPA sets per head and row
//   ReuseBeats      the three output streams of one layer (row, kv, tok)
//   ReuseGolden()   the golden beats of a layer
//   CompareReuse()  first differing beat of each stream, as a readable message
//   ReuseDriver     harness plus stream plumbing: Configure(), Run(), Clear()
//   ReuseParamsOf<> NMax, WMax, HMax of a Verilated configuration
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "golden/spls.h"
#include "sim/harness.h"

namespace esact::sim {

// Column masks travel in uint64_t: NMax <= 64.
constexpr int kReuseMaxTokens = 64;

// The parameters of an esact_reuse configuration. NMax, WMax and HMax are `verilator
// public`, so the Verilated parameter class (<prefix>_esact_reuse) carries them and the
// tests never copy them by hand.
struct ReuseParams {
  int n_max = 0;
  int w_max = 0;
  int h_max = 0;
};

template <class Params>
constexpr ReuseParams ReuseParamsOf() {
  static_assert(Params::NMax >= 2 && Params::NMax <= kReuseMaxTokens, "masks travel in uint64_t");
  static_assert(Params::WMax >= 1 && Params::HMax >= 1);
  return {static_cast<int>(Params::NMax), static_cast<int>(Params::WMax),
          static_cast<int>(Params::HMax)};
}

inline uint64_t MaskOf(const IndexSet& set) {
  uint64_t m = 0;
  for (int j : set) m |= uint64_t{1} << j;
  return m;
}

inline IndexSet SetOf(uint64_t mask) {
  IndexSet set;
  for (int j = 0; j < kReuseMaxTokens; ++j) {
    if ((mask >> j) & 1) set.push_back(j);
  }
  return set;
}

struct ReuseLayer {
  int n_valid = 1;
  int heads = 1;
  int w = 0;
  int t = 0;
  std::vector<std::vector<IndexSet>> spa;  // [head][row], rows 0..n_valid-1
};

struct ReuseRowBeat {
  int head = 0;
  int idx = 0;
  int anchor = 0;
  uint64_t mask = 0;
  bool operator==(const ReuseRowBeat& o) const {
    return head == o.head && idx == o.idx && anchor == o.anchor && mask == o.mask;
  }
};

struct ReuseKvBeat {
  int head = 0;
  uint64_t mask = 0;
  bool operator==(const ReuseKvBeat& o) const { return head == o.head && mask == o.mask; }
};

struct ReuseTokBeat {
  int idx = 0;
  int anchor = 0;
  bool operator==(const ReuseTokBeat& o) const { return idx == o.idx && anchor == o.anchor; }
};

struct ReuseBeats {
  std::vector<ReuseRowBeat> rows;
  std::vector<ReuseKvBeat> kv;
  std::vector<ReuseTokBeat> tok;
};

// The golden decisions of a layer (HeadDecision per head, then TokenAnchors) as beats.
inline ReuseBeats ReuseGolden(const ReuseLayer& layer) {
  const int n = layer.n_valid;
  std::vector<HeadDecision> heads(layer.heads);
  ReuseBeats want;
  for (int h = 0; h < layer.heads; ++h) {
    HeadDecision& hd = heads[h];
    hd.spa = layer.spa[h];
    hd.reuse = ReuseMap(hd.spa, n, layer.w, layer.t);
    hd.needed_kv = NeededKv(hd.spa, hd.reuse, n);
    for (int i = 0; i < n; ++i) want.rows.push_back({h, i, hd.reuse[i], MaskOf(hd.spa[i])});
    uint64_t kv = 0;
    for (int j = 0; j < n; ++j) {
      if (hd.needed_kv[j]) kv |= uint64_t{1} << j;
    }
    want.kv.push_back({h, kv});
  }
  const std::vector<int> tok = TokenAnchors(heads, n, n);
  for (int i = 0; i < n; ++i) want.tok.push_back({i, tok[i]});
  return want;
}

// Every row its own anchor, kv = OR of all rows, every token its own anchor: what the
// unit emits under cfg_err_o (with a legal n and H).
inline ReuseBeats ReuseAllAnchors(const ReuseLayer& layer) {
  ReuseBeats want;
  for (int h = 0; h < layer.heads; ++h) {
    uint64_t kv = 0;
    for (int i = 0; i < layer.n_valid; ++i) {
      const uint64_t m = MaskOf(layer.spa[h][i]);
      want.rows.push_back({h, i, i, m});
      kv |= m;
    }
    want.kv.push_back({h, kv});
  }
  for (int i = 0; i < layer.n_valid; ++i) want.tok.push_back({i, i});
  return want;
}

// Number of rows that reuse another row (golden decisions).
inline int ReusedRows(const ReuseBeats& beats) {
  int n = 0;
  for (const ReuseRowBeat& r : beats.rows) n += r.anchor != r.idx;
  return n;
}

// "" when equal; otherwise the first difference of each stream (head, row, got, want).
inline std::string CompareReuse(const ReuseBeats& got, const ReuseBeats& want) {
  std::ostringstream os;
  os << std::hex;
  if (got.rows.size() != want.rows.size()) {
    os << "row beats: got " << std::dec << got.rows.size() << ", want " << want.rows.size()
       << std::hex << "\n";
  }
  for (size_t k = 0; k < std::min(got.rows.size(), want.rows.size()); ++k) {
    const ReuseRowBeat& g = got.rows[k];
    const ReuseRowBeat& w = want.rows[k];
    if (!(g == w)) {
      os << std::dec << "first differing row beat #" << k << ": head " << w.head << " row " << w.idx
         << ": got (head " << g.head << ", row " << g.idx << ", anchor " << g.anchor << ", mask 0x"
         << std::hex << g.mask << std::dec << "), want anchor " << w.anchor << " mask 0x"
         << std::hex << w.mask << "\n";
      break;
    }
  }
  if (got.kv.size() != want.kv.size()) {
    os << std::dec << "kv beats: got " << got.kv.size() << ", want " << want.kv.size() << "\n";
  }
  for (size_t k = 0; k < std::min(got.kv.size(), want.kv.size()); ++k) {
    if (!(got.kv[k] == want.kv[k])) {
      os << std::dec << "first differing kv beat #" << k << ": got (head " << got.kv[k].head
         << ", mask 0x" << std::hex << got.kv[k].mask << std::dec << "), want (head "
         << want.kv[k].head << ", mask 0x" << std::hex << want.kv[k].mask << ")\n";
      break;
    }
  }
  if (got.tok.size() != want.tok.size()) {
    os << std::dec << "tok beats: got " << got.tok.size() << ", want " << want.tok.size() << "\n";
  }
  for (size_t k = 0; k < std::min(got.tok.size(), want.tok.size()); ++k) {
    if (!(got.tok[k] == want.tok[k])) {
      os << std::dec << "first differing tok beat #" << k << ": got (token " << got.tok[k].idx
         << ", anchor " << got.tok[k].anchor << "), want (token " << want.tok[k].idx << ", anchor "
         << want.tok[k].anchor << ")\n";
      break;
    }
  }
  return os.str();
}

// Traffic shapes of one run: idle cycles of the source, back-pressure of each sink.
struct ReuseTraffic {
  StallSpec in;
  StallSpec row;
  StallSpec kv;
  StallSpec tok;
};

struct ReuseRunStats {
  uint64_t cycles = 0;          // from the first cycle of Run() to the last beat taken
  bool complete = false;        // every expected beat arrived
  bool tok_after_kv = true;     // every tok beat was taken after the last kv beat
  bool in_ready_always = true;  // in_ready_o was high whenever a row was offered
};

// A harness plus the stream plumbing of esact_reuse. Model: a Verilated esact_reuse
// configuration (or any model with the same port names and an esact_reuse-like
// behaviour).
template <class Model>
class ReuseDriver {
 public:
  explicit ReuseDriver(uint64_t seed,
                       const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x9e3779b97f4a7c15ull) {
    Idle();
    h_->clear_i = 0;
    h_.Reset();
    h_.Eval();
    EXPECT_FALSE(h_->row_valid_o) << "row_valid_o after reset";
    EXPECT_FALSE(h_->kv_valid_o) << "kv_valid_o after reset";
    EXPECT_FALSE(h_->tok_valid_o) << "tok_valid_o after reset";
  }

  Harness<Model>& harness() { return h_; }
  bool Finish() { return h_.Finish(); }

  void Configure(int n_valid, int heads, int w, int t) {
    h_->cfg_n_valid_i = static_cast<std::remove_reference_t<decltype(h_->cfg_n_valid_i)>>(n_valid);
    h_->cfg_heads_i = static_cast<std::remove_reference_t<decltype(h_->cfg_heads_i)>>(heads);
    h_->cfg_w_i = static_cast<std::remove_reference_t<decltype(h_->cfg_w_i)>>(w);
    h_->cfg_t_i = static_cast<std::remove_reference_t<decltype(h_->cfg_t_i)>>(t);
    h_.Eval();
  }
  void Configure(const ReuseLayer& layer) {
    Configure(layer.n_valid, layer.heads, layer.w, layer.t);
  }
  bool cfg_err() {
    h_.Eval();
    return h_->cfg_err_o;
  }

  // One cycle of clear_i with idle inputs.
  void Clear() {
    Idle();
    h_->clear_i = 1;
    h_.Tick();
    h_->clear_i = 0;
    h_.Eval();
  }

  // Streams `masks` (in input order) through and collects the beats until `expect` beat
  // counts have arrived on all three streams, or max_cycles have passed. With
  // must_complete, running out of cycles fails the test; without, Run() just stops (to
  // interrupt a layer with Clear()).
  ReuseBeats Run(const std::vector<uint64_t>& masks, size_t rows, size_t kvs, size_t toks,
                 const ReuseTraffic& traffic, uint64_t seed, uint64_t max_cycles,
                 bool must_complete = true, ReuseRunStats* stats = nullptr) {
    StreamSource<uint64_t> src(traffic.in, seed * 4 + 1);
    StreamSink<ReuseRowBeat> row_sink(traffic.row, seed * 4 + 2);
    StreamSink<ReuseKvBeat> kv_sink(traffic.kv, seed * 4 + 3);
    StreamSink<ReuseTokBeat> tok_sink(traffic.tok, seed * 4 + 4);
    for (uint64_t m : masks) src.Push(m);
    ReuseRunStats st;
    const uint64_t start = h_.cycle();
    uint64_t last_kv_cycle = 0;
    bool any_kv = false;
    auto done = [&] {
      return row_sink.received().size() >= rows && kv_sink.received().size() >= kvs &&
             tok_sink.received().size() >= toks;
    };
    while (!done()) {
      if (h_.cycle() - start >= max_cycles) {
        if (must_complete) {
          ADD_FAILURE() << "timeout after " << max_cycles << " cycles: rows "
                        << row_sink.received().size() << "/" << rows << ", kv "
                        << kv_sink.received().size() << "/" << kvs << ", tok "
                        << tok_sink.received().size() << "/" << toks << ", inputs sent "
                        << src.sent() << "/" << masks.size() << " (seed " << h_.seed() << ")";
        }
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle();
        break;
      }
      src.Prepare();
      row_sink.Prepare();
      kv_sink.Prepare();
      tok_sink.Prepare();
      h_->in_valid_i = src.valid();
      // Junk on the mask lines while not valid: the unit must not depend on it.
      h_->in_mask_i = static_cast<std::remove_reference_t<decltype(h_->in_mask_i)>>(
          src.valid() ? src.front() : junk_());
      h_->row_ready_i = row_sink.ready();
      h_->kv_ready_i = kv_sink.ready();
      h_->tok_ready_i = tok_sink.ready();
      h_.Eval();
      if (src.valid() && !h_->in_ready_o) st.in_ready_always = false;
      src.Observe(h_->in_ready_o);
      row_sink.Observe(h_->row_valid_o,
                       ReuseRowBeat{h_->row_head_o, h_->row_idx_o, h_->row_anchor_o,
                                    static_cast<uint64_t>(h_->row_mask_o)});
      if (kv_sink.Observe(h_->kv_valid_o,
                          ReuseKvBeat{h_->kv_head_o, static_cast<uint64_t>(h_->kv_mask_o)})) {
        last_kv_cycle = h_.cycle();
        any_kv = true;
      }
      if (tok_sink.Observe(h_->tok_valid_o, ReuseTokBeat{h_->tok_idx_o, h_->tok_anchor_o})) {
        if (!any_kv || h_.cycle() <= last_kv_cycle) st.tok_after_kv = false;
      }
      h_.Tick();
    }
    st.cycles = h_.cycle() - start;
    st.complete = done() && src.done();
    if (must_complete) {
      EXPECT_TRUE(src.done()) << "outputs complete before all rows were accepted";
      // Drained: nothing more comes out, and the unit is ready for the next layer.
      Idle();
      h_->row_ready_i = 1;
      h_->kv_ready_i = 1;
      h_->tok_ready_i = 1;
      for (int i = 0; i < 3; ++i) {
        h_.Eval();
        EXPECT_FALSE(h_->row_valid_o) << "extra row beat after the layer";
        EXPECT_FALSE(h_->kv_valid_o) << "extra kv beat after the layer";
        EXPECT_FALSE(h_->tok_valid_o) << "extra tok beat after the layer";
        EXPECT_TRUE(h_->in_ready_o) << "not ready for the next layer";
        h_.Tick();
      }
    }
    Idle();
    h_.Eval();
    if (stats != nullptr) *stats = st;
    ReuseBeats got;
    got.rows = row_sink.received();
    got.kv = kv_sink.received();
    got.tok = tok_sink.received();
    return got;
  }

  // The whole layer: configure, stream, and return the beats (expected counts from the
  // layer shape).
  ReuseBeats RunLayer(const ReuseLayer& layer, const ReuseTraffic& traffic, uint64_t seed,
                      uint64_t max_cycles, ReuseRunStats* stats = nullptr) {
    Configure(layer);
    std::vector<uint64_t> masks;
    for (int h = 0; h < layer.heads; ++h) {
      for (int i = 0; i < layer.n_valid; ++i) masks.push_back(MaskOf(layer.spa[h][i]));
    }
    return Run(masks, masks.size(), layer.heads, layer.n_valid, traffic, seed, max_cycles, true,
               stats);
  }

 private:
  void Idle() {
    h_->in_valid_i = 0;
    h_->in_mask_i = 0;
    h_->row_ready_i = 0;
    h_->kv_ready_i = 0;
    h_->tok_ready_i = 0;
  }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

}  // namespace esact::sim
