// Stream driver of esact_attn, shared by its test and the benchmark.
//
//   AttnDriver<Model, Params>   one harness around one Verilated configuration; Params is
//       the Verilated class of the top module, which exports its elaboration parameters
//       (NMax, DhMax, Lanes: `verilator public` in rtl/esact_attn.sv), e.g.
//         AttnDriver<Vesact_attn_n16_l4, Vesact_attn_n16_l4_esact_attn>
//   RunHead()   one head through the engine: the K/V rows of AttnHead::kv_rows, then one Q
//       beat per anchor (row index, Q row, key mask), each stream with its own stall
//       pattern -> the context beats (row index, d_head int8), the cycle count, the cycle
//       of each context beat.
//   RunLayerHeads()  every head of a golden layer run (esact::LayerResult) the way the
//       controller will: per head the needed K/V columns and the anchor rows; a reused row
//       copies its anchor's context -> the n_tokens x d_model context matrix (compare
//       with LayerResult::ctx) and the cycles per head.
//   Run()       the raw form: configuration fields and beats (illegal configurations).
//
// Beat layouts (docs/architecture.md, "esact_attn"): lane c (column c of the head) of a
// K, V, Q or context row at [8c +: 8]. Lanes c >= d_head of K, V and Q carry junk by
// default (AttnBeatOptions), so the tests prove that the unit ignores them; the unit
// drives them to 0 on the context.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "golden/engines.h"
#include "golden/layer.h"
#include "golden/matrix.h"
#include "golden/quant.h"
#include "sim/harness.h"
#include "sim/predictor_driver.h"  // Bits, WritePort, ReadPort

namespace esact::sim {

// ---- Run description and result ----------------------------------------------------------

// The run-time configuration ports, as raw fields (so a test can drive illegal values).
struct AttnCfg {
  int n_valid = 1;
  int d_head = 1;
  int n_kv = 1;
  int n_rows = 1;
  int sm_mult = 0;
  int sm_shift = 0;
  int ctx_mult = 0;
  int ctx_shift = 0;
};

struct AttnAnchor {
  int row = 0;            // Q row index
  std::vector<int> keys;  // the key list, ascending, within [0, n_valid)
};

// One head's work: the operands of esact::AttendRow on the head's columns.
struct AttnHead {
  int n_valid = 1;
  int d_head = 1;
  Matrix<int8_t> q, k, v;           // rows x d_head (rows >= n_valid); only the head's columns
  std::vector<int> kv_rows;         // K/V rows to send, in send order (the needed columns)
  std::vector<AttnAnchor> anchors;  // in send order
  Requant softmax_rq;
  Requant ctx_rq;
};

inline AttnCfg MakeAttnCfg(const AttnHead& h) {
  AttnCfg c;
  c.n_valid = h.n_valid;
  c.d_head = h.d_head;
  c.n_kv = static_cast<int>(h.kv_rows.size());
  c.n_rows = static_cast<int>(h.anchors.size());
  c.sm_mult = h.softmax_rq.mult;
  c.sm_shift = h.softmax_rq.shift;
  c.ctx_mult = h.ctx_rq.mult;
  c.ctx_shift = h.ctx_rq.shift;
  return c;
}

// The golden contexts of the head's anchors, in anchor order (esact::AttendRow).
inline std::vector<std::vector<int8_t>> AttnGolden(const AttnHead& h) {
  std::vector<std::vector<int8_t>> out;
  for (const AttnAnchor& a : h.anchors) {
    std::vector<int8_t> ctx(h.d_head, 0);
    AttendRow(h.q.row(a.row), h.k, h.v, a.keys, 0, h.d_head, h.softmax_rq, h.ctx_rq, ctx.data());
    out.push_back(ctx);
  }
  return out;
}

// Idle and back-pressure shapes of the three streams.
struct AttnStalls {
  StallSpec kv, q, ctx;
  static AttnStalls None() { return {}; }
  static AttnStalls All(StallSpec s) { return {s, s, s}; }
  static AttnStalls Inputs(StallSpec s) { return {s, s, StallSpec::None()}; }
  static AttnStalls Outputs(StallSpec s) { return {{}, {}, s}; }
};

struct AttnKvBeat {
  int idx = 0;
  Bits k, v;
};
struct AttnQBeat {
  int idx = 0;
  Bits q, mask;
};
struct AttnCtxBeat {
  int idx = 0;
  Bits data;                // the whole DhMax-lane bus
  std::vector<int8_t> ctx;  // lanes 0..d_head-1
};

struct AttnResult {
  bool done = false;    // done_o seen within the cycle bound
  int err_code = 0;     // err_code_o at done (esact_pkg::attn_err_e; 0 = none)
  uint64_t cycles = 0;  // clock edges from the start edge to the edge that raised done_o
  uint64_t busy_cycles = 0;
  uint64_t kv_taken = 0;  // beats consumed of each input stream
  uint64_t q_taken = 0;
  std::vector<AttnCtxBeat> ctx;      // in arrival order
  std::vector<uint64_t> ctx_cycles;  // cycles from the start edge to each context handshake
  std::string problem;               // a context lane >= d_head not zero, or "" (checked in Run)
};

// Options of the beat builders: junk or zeros on the lanes the unit must ignore.
struct AttnBeatOptions {
  bool junk_lanes = true;
  uint64_t seed = 1;
};

// ---- Beats -----------------------------------------------------------------------------

inline Bits AttnRowBits(const int8_t* row, int d_head, int dh_max, std::mt19937_64* junk) {
  Bits b(dh_max * 8);
  for (int c = 0; c < dh_max; ++c) {
    const uint32_t v = c < d_head
                           ? static_cast<uint8_t>(row[c])
                           : (junk != nullptr ? static_cast<uint32_t>((*junk)() & 0xff) : 0u);
    b.Set(c * 8, 8, v);
  }
  return b;
}

inline std::vector<AttnKvBeat> AttnKvBeats(const AttnHead& h, int dh_max,
                                           const AttnBeatOptions& opt = {}) {
  std::mt19937_64 junk(opt.seed * 31 + 7);
  std::vector<AttnKvBeat> beats;
  for (int j : h.kv_rows) {
    beats.push_back({j, AttnRowBits(h.k.row(j), h.d_head, dh_max, opt.junk_lanes ? &junk : nullptr),
                     AttnRowBits(h.v.row(j), h.d_head, dh_max, opt.junk_lanes ? &junk : nullptr)});
  }
  return beats;
}

inline Bits AttnMaskBits(const std::vector<int>& keys, int n_max) {
  Bits m(n_max);
  for (int j : keys) m.Set(j, 1, 1);
  return m;
}

inline std::vector<AttnQBeat> AttnQBeats(const AttnHead& h, int dh_max, int n_max,
                                         const AttnBeatOptions& opt = {}) {
  std::mt19937_64 junk(opt.seed * 31 + 11);
  std::vector<AttnQBeat> beats;
  for (const AttnAnchor& a : h.anchors) {
    beats.push_back(
        {a.row, AttnRowBits(h.q.row(a.row), h.d_head, dh_max, opt.junk_lanes ? &junk : nullptr),
         AttnMaskBits(a.keys, n_max)});
  }
  return beats;
}

// The head h of a layer run under its decision: K/V of the needed columns (ascending),
// one anchor per row that is its own reuse target, with its SPA set as the key list.
inline AttnHead AttnHeadFromLayer(const LayerParams& p, const LayerResult& r, int n_valid,
                                  int head) {
  const int dh = p.d_head();
  const int c0 = head * dh;
  const int n_tokens = r.q.rows;
  AttnHead h;
  h.n_valid = n_valid;
  h.d_head = dh;
  h.q = Matrix<int8_t>(n_tokens, dh);
  h.k = Matrix<int8_t>(n_tokens, dh);
  h.v = Matrix<int8_t>(n_tokens, dh);
  for (int i = 0; i < n_tokens; ++i) {
    for (int c = 0; c < dh; ++c) {
      h.q.at(i, c) = r.q.at(i, c0 + c);
      h.k.at(i, c) = r.k.at(i, c0 + c);
      h.v.at(i, c) = r.v.at(i, c0 + c);
    }
  }
  const HeadDecision& d = r.decision.heads[head];
  for (int j = 0; j < n_valid; ++j) {
    if (d.needed_kv[j]) h.kv_rows.push_back(j);
  }
  for (int i = 0; i < n_valid; ++i) {
    if (d.reuse[i] == i) h.anchors.push_back({i, d.spa[i]});
  }
  h.softmax_rq = p.softmax_rq;
  h.ctx_rq = p.ctx_rq;
  return h;
}

// ---- Driver ----------------------------------------------------------------------------

template <class Model, class Params>
class AttnDriver {
 public:
  static constexpr int kNMax = static_cast<int>(Params::NMax);
  static constexpr int kDhMax = static_cast<int>(Params::DhMax);
  static constexpr int kLanes = static_cast<int>(Params::Lanes);
  // All ones in the width of a row index port (IdxW = max(1, clog2 NMax)).
  static constexpr uint32_t kIdxMask = [] {
    uint32_t m = 1;
    while (m < static_cast<uint32_t>(kNMax - 1)) m = (m << 1) | 1;
    return m;
  }();

  explicit AttnDriver(uint64_t seed,
                      const std::string& wave_path = HarnessBase::WavePathForCurrentTest())
      : h_(seed, wave_path), junk_(seed ^ 0x2545f491u) {
    Idle();
    h_.Reset();
    h_.Eval();
    EXPECT_FALSE(h_->busy_o) << "busy_o after reset";
    EXPECT_FALSE(h_->done_o) << "done_o after reset";
    EXPECT_FALSE(h_->err_o) << "err_o after reset";
    EXPECT_FALSE(h_->ctx_valid_o) << "ctx_valid_o after reset";
  }

  Harness<Model>& harness() { return h_; }
  bool Finish() { return h_.Finish(); }

  // Cycles of one anchor row with k keys without stalls (docs/architecture.md):
  // Q beat, SCORE k nb + 3, EXP k + 2, RECIP 17, PV k nb + 4, OUT.
  static uint64_t RowCycles(int k, int d_head) {
    const uint64_t nb = (d_head + kLanes - 1) / kLanes;
    return 2 * uint64_t(k) * nb + uint64_t(k) + 28;
  }
  // Start edge to the edge that raises done_o, without stalls: CHECK, the K/V beats, the
  // rows, the last context beat.
  static uint64_t HeadCycles(const AttnHead& h) {
    uint64_t t = 2 + h.kv_rows.size() + 1;
    for (const AttnAnchor& a : h.anchors) t += RowCycles(static_cast<int>(a.keys.size()), h.d_head);
    return t;
  }

  // One head. max_cycles 0: a bound from the shape, generous for any stall pattern.
  AttnResult RunHead(const AttnHead& h, const AttnStalls& stalls, uint64_t seed,
                     uint64_t max_cycles = 0, const AttnBeatOptions& opt = {}) {
    AttnBeatOptions o = opt;
    o.seed = opt.seed ^ seed;
    return Run(MakeAttnCfg(h), AttnKvBeats(h, kDhMax, o), AttnQBeats(h, kDhMax, kNMax, o), stalls,
               seed, max_cycles);
  }

  // Raw run: drives the configuration fields, pulses start_i, streams the beats that the
  // unit takes and collects every context beat until done_o.
  AttnResult Run(const AttnCfg& c, const std::vector<AttnKvBeat>& kv_beats,
                 const std::vector<AttnQBeat>& q_beats, const AttnStalls& stalls, uint64_t seed,
                 uint64_t max_cycles = 0) {
    AttnResult r;
    if (max_cycles == 0) {
      uint64_t work = 64;
      const int dh = std::clamp(c.d_head, 1, kDhMax);
      for (size_t i = 0; i < q_beats.size(); ++i) work += RowCycles(kNMax, dh);
      max_cycles = 64 * (kv_beats.size() + q_beats.size() + 16) + 40 * work;
    }
    StreamSource<AttnKvBeat> kv_src(stalls.kv, seed * 8 + 1);
    StreamSource<AttnQBeat> q_src(stalls.q, seed * 8 + 2);
    StallPattern ctx_stall(stalls.ctx, seed * 8 + 3);
    for (const AttnKvBeat& b : kv_beats) kv_src.Push(b);
    for (const AttnQBeat& b : q_beats) q_src.Push(b);

    Idle();
    h_->cfg_n_valid_i = c.n_valid;
    h_->cfg_d_head_i = c.d_head;
    h_->cfg_n_kv_i = c.n_kv;
    h_->cfg_n_rows_i = c.n_rows;
    h_->cfg_sm_mult_i = c.sm_mult;
    h_->cfg_sm_shift_i = c.sm_shift;
    h_->cfg_ctx_mult_i = c.ctx_mult;
    h_->cfg_ctx_shift_i = c.ctx_shift;
    h_->start_i = 1;
    h_.Eval();
    if (h_->busy_o) ADD_FAILURE() << "start_i while busy";
    const uint64_t start = h_.cycle();
    h_.Tick();
    h_->start_i = 0;
    // The configuration is sampled on the start edge: scramble it afterwards.
    h_->cfg_n_valid_i = static_cast<uint32_t>(junk_() % (kNMax + 1));
    h_->cfg_d_head_i = static_cast<uint32_t>(junk_() % (kDhMax + 1));
    h_->cfg_sm_shift_i = static_cast<uint32_t>(junk_() & 63);

    const int dh_out = std::clamp(c.d_head, 0, kDhMax);
    while (true) {
      if (h_.cycle() - start > max_cycles) {
        ADD_FAILURE() << "timeout: no done_o within " << max_cycles << " cycles (kv " << r.kv_taken
                      << "/" << kv_beats.size() << ", q " << r.q_taken << "/" << q_beats.size()
                      << ", ctx " << r.ctx.size() << ", seed " << h_.seed() << ")";
        break;
      }
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle();
        break;
      }
      kv_src.Prepare();
      q_src.Prepare();
      const bool ctx_ready = !ctx_stall.Stall();
      h_->kv_valid_i = kv_src.valid();
      if (kv_src.valid()) {
        h_->kv_idx_i = kv_src.front().idx;
        WritePort(&h_->kv_k_i, kv_src.front().k);
        WritePort(&h_->kv_v_i, kv_src.front().v);
      } else {
        h_->kv_idx_i = static_cast<uint32_t>(junk_() & kIdxMask);
        WritePort(&h_->kv_k_i, Junk(kDhMax * 8));
        WritePort(&h_->kv_v_i, Junk(kDhMax * 8));
      }
      h_->q_valid_i = q_src.valid();
      if (q_src.valid()) {
        h_->q_idx_i = q_src.front().idx;
        WritePort(&h_->q_data_i, q_src.front().q);
        WritePort(&h_->q_mask_i, q_src.front().mask);
      } else {
        h_->q_idx_i = static_cast<uint32_t>(junk_() & kIdxMask);
        WritePort(&h_->q_data_i, Junk(kDhMax * 8));
        WritePort(&h_->q_mask_i, Junk(kNMax));
      }
      h_->ctx_ready_i = ctx_ready;
      h_.Eval();

      if (h_->done_o) {
        r.done = true;
        r.err_code = h_->err_code_o;
        if (static_cast<bool>(h_->err_o) != (r.err_code != 0)) {
          ADD_FAILURE() << "err_o " << int(h_->err_o) << " vs err_code_o " << r.err_code;
        }
        if (h_->ctx_valid_o) ADD_FAILURE() << "ctx_valid_o with done_o";
        r.cycles = h_.cycle() - start;
      }
      if (h_->busy_o) ++r.busy_cycles;
      if (kv_src.Observe(h_->kv_ready_o)) ++r.kv_taken;
      if (q_src.Observe(h_->q_ready_o)) ++r.q_taken;
      if (h_->ctx_valid_o && ctx_ready) {
        AttnCtxBeat b;
        b.idx = static_cast<int>(h_->ctx_idx_o);
        b.data = ReadPort(h_->ctx_data_o);
        for (int cc = 0; cc < kDhMax; ++cc) {
          const int8_t v = static_cast<int8_t>(b.data.Get(cc * 8, 8));
          if (cc < dh_out) {
            b.ctx.push_back(v);
          } else if (v != 0 && r.problem.empty()) {
            r.problem = "context beat " + std::to_string(r.ctx.size()) + " has lane " +
                        std::to_string(cc) + " = " + std::to_string(v) + " (>= d_head)";
          }
        }
        r.ctx.push_back(b);
        r.ctx_cycles.push_back(h_.cycle() - start);
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
    return r;
  }

 private:
  void Idle() {
    h_->start_i = 0;
    h_->kv_valid_i = 0;
    h_->q_valid_i = 0;
    h_->ctx_ready_i = 0;
  }

  // Junk on the data lines while not valid: the unit must not depend on it.
  Bits Junk(int width) { return RandomBits(junk_, width); }

  Harness<Model> h_;
  std::mt19937_64 junk_;
};

// ---- A whole layer's attention, head by head ------------------------------------------

struct AttnLayerResult {
  bool ok = false;     // every head done without error, contexts in order
  Matrix<int8_t> ctx;  // n_tokens x d_model; reused rows copied from the anchor
  std::vector<uint64_t> head_cycles;
  uint64_t cycles = 0;  // sum over the heads
  uint64_t macs = 0;    // executed score + P.V MACs (k * d_head each per anchor)
  std::string problem;  // first problem, "" if none
};

// Every head of a golden layer run through one driver, the way the controller does it:
// per head the needed K/V columns and the anchors; a reused row takes its anchor's context
// (padded rows stay zero). Compare AttnLayerResult::ctx with LayerResult::ctx.
template <class Driver>
AttnLayerResult RunLayerHeads(Driver& driver, const LayerParams& p, const LayerResult& r,
                              int n_valid, const AttnStalls& stalls, uint64_t seed) {
  AttnLayerResult out;
  const int dh = p.d_head();
  out.ctx = Matrix<int8_t>(r.q.rows, p.d_model);
  out.ok = true;
  for (int head = 0; head < p.n_heads; ++head) {
    const AttnHead h = AttnHeadFromLayer(p, r, n_valid, head);
    const AttnResult res = driver.RunHead(h, stalls, seed * 131 + head);
    out.head_cycles.push_back(res.cycles);
    out.cycles += res.cycles;
    for (const AttnAnchor& a : h.anchors) out.macs += 2ull * a.keys.size() * dh;
    if (!res.done || res.err_code != 0 || res.ctx.size() != h.anchors.size() ||
        !res.problem.empty()) {
      out.ok = false;
      if (out.problem.empty()) {
        out.problem = "head " + std::to_string(head) + ": done " + std::to_string(res.done) +
                      " err " + std::to_string(res.err_code) + " contexts " +
                      std::to_string(res.ctx.size()) + "/" + std::to_string(h.anchors.size()) +
                      " " + res.problem;
      }
      continue;
    }
    for (size_t a = 0; a < h.anchors.size(); ++a) {
      if (res.ctx[a].idx != h.anchors[a].row && out.problem.empty()) {
        out.ok = false;
        out.problem = "head " + std::to_string(head) + ": context " + std::to_string(a) +
                      " has row " + std::to_string(res.ctx[a].idx);
      }
      for (int c = 0; c < dh; ++c) out.ctx.at(h.anchors[a].row, head * dh + c) = res.ctx[a].ctx[c];
    }
    const HeadDecision& d = r.decision.heads[head];
    for (int i = 0; i < n_valid; ++i) {
      if (d.reuse[i] != i) {
        for (int c = 0; c < dh; ++c) {
          out.ctx.at(i, head * dh + c) = out.ctx.at(d.reuse[i], head * dh + c);
        }
      }
    }
  }
  return out;
}

}  // namespace esact::sim
