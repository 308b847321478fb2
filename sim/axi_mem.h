// AXI4 slave memory model for the Harness: a byte array behind the five channels of an AXI4
// master whose ports are named m_ar*, m_r*, m_aw*, m_w*, m_b* (esact_dma, later esact_top).
//
//   - Latency: an accepted AR gives its first R beat after read_latency + U(0, random_latency)
//     cycles; a burst's last W beat gives its B after write_latency + U(0, random_latency).
//   - Back-pressure: ARREADY, AWREADY and WREADY are low with probability ar_stall, aw_stall,
//     w_stall in each cycle; an R beat that could be presented is held back with
//     probability r_gap (a gap), a B with probability b_gap. WREADY is also low while no
//     accepted AW waits for data (a slave may wait for the address).
//   - Once RVALID or BVALID is raised it is held, with its payload, until the handshake.
//   - Bursts are served in order (one ID), any number outstanding; the largest number of
//     reads and of writes outstanding is recorded.
//   - Checks on what it receives, each a gtest failure with a clear message (and counted):
//     AWBURST/ARBURST INCR, AxSIZE = the data width, aligned address, at most 256 beats,
//     no 4 KiB crossing, inside the memory; WLAST exactly on the burst's last beat; no W
//     beat without an address; valid held and payload stable until ready on AR, AW, W.
//   - SLVERR injection: a beat whose bytes touch [lo, hi) of an injected range answers
//     SLVERR; such a write beat changes nothing (the B of its burst is SLVERR), such a read
//     beat returns zeros.
//
// Per cycle: Drive() before Eval() (sets this cycle's slave outputs), Observe() after Eval()
// and before Tick() (records the handshakes of the coming edge). Seeded (TestSeed).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/harness.h"

namespace esact::sim {

struct AxiMemConfig {
  int read_latency = 1;    // cycles from the AR handshake to the first R beat (>= 1)
  int write_latency = 1;   // cycles from the last W handshake to B (>= 1)
  int random_latency = 0;  // plus uniform 0..random_latency per burst
  double ar_stall = 0.0;   // probability ARREADY is low in a cycle
  double aw_stall = 0.0;   // probability AWREADY is low in a cycle
  double w_stall = 0.0;    // probability WREADY is low in a cycle
  double r_gap = 0.0;      // probability a ready R beat is held back one cycle
  double b_gap = 0.0;      // probability a ready B is held back one cycle

  static AxiMemConfig None() { return {}; }
  static AxiMemConfig Random() { return {3, 2, 6, 0.3, 0.3, 0.3, 0.3, 0.3}; }
  static AxiMemConfig Heavy() { return {12, 8, 20, 0.7, 0.7, 0.7, 0.7, 0.7}; }
};

template <class Model, int DataBytes>
class AxiMem {
 public:
  static_assert(DataBytes >= 4 && DataBytes <= 8 && (DataBytes & (DataBytes - 1)) == 0,
                "this model carries up to 64-bit data");
  static constexpr int kSize = DataBytes == 4 ? 2 : 3;  // AxSIZE

  AxiMem(Harness<Model>& h, size_t bytes, uint64_t seed, AxiMemConfig cfg = AxiMemConfig::None())
      : h_(h), mem_(bytes, 0), rng_(seed), cfg_(cfg) {
    auto& d = h_.dut();
    d.m_arready_i = 0;
    d.m_awready_i = 0;
    d.m_wready_i = 0;
    d.m_rvalid_i = 0;
    d.m_rdata_i = 0;
    d.m_rresp_i = 0;
    d.m_rlast_i = 0;
    d.m_rid_i = 0;
    d.m_bvalid_i = 0;
    d.m_bresp_i = 0;
    d.m_bid_i = 0;
  }

  std::vector<uint8_t>& bytes() { return mem_; }
  void set_config(const AxiMemConfig& cfg) { cfg_ = cfg; }
  // Beats touching [lo, hi) answer SLVERR.
  void InjectSlvErr(uint64_t lo, uint64_t hi) { slverr_.push_back({lo, hi}); }
  void ClearSlvErr() { slverr_.clear(); }

  int violations() const { return violations_; }
  uint64_t read_bursts() const { return read_bursts_; }
  uint64_t write_bursts() const { return write_bursts_; }
  int max_reads_outstanding() const { return max_reads_out_; }
  int max_writes_outstanding() const { return max_writes_out_; }
  bool idle() const { return reads_.empty() && writes_.empty() && bresps_.empty(); }

  // The master was reset: drop every burst in flight (a real interconnect would have to be
  // reset with it) and the held-valid bookkeeping. The memory contents stay.
  void Reset() {
    reads_.clear();
    writes_.clear();
    bresps_.clear();
    r_presenting_ = b_presenting_ = false;
    ar_wait_ = aw_wait_ = w_wait_ = false;
  }

  // Sets this cycle's slave outputs. Call before Eval().
  void Drive() {
    auto& d = h_.dut();
    const uint64_t now = h_.cycle();
    d.m_arready_i = !Chance(cfg_.ar_stall);
    d.m_awready_i = !Chance(cfg_.aw_stall);
    d.m_wready_i = WTarget() != nullptr && !Chance(cfg_.w_stall);
    // R: a presented beat is held; otherwise the next one, unless a gap.
    if (!r_presenting_ && !reads_.empty() && now >= reads_.front().ready_at &&
        !Chance(cfg_.r_gap)) {
      Burst& b = reads_.front();
      const uint64_t addr = b.addr + uint64_t(b.done) * DataBytes;
      uint64_t data = 0;
      const bool err = SlvErr(addr);
      if (!err) {
        for (int i = 0; i < DataBytes; ++i) data |= uint64_t{mem_[addr + i]} << (8 * i);
      }
      r_presenting_ = true;
      d.m_rdata_i = static_cast<std::remove_reference_t<decltype(d.m_rdata_i)>>(data);
      d.m_rresp_i = err ? 2 : 0;
      d.m_rlast_i = b.done == b.len - 1;
      d.m_rid_i = 0;
    }
    d.m_rvalid_i = r_presenting_;
    if (!b_presenting_ && !bresps_.empty() && now >= bresps_.front().first && !Chance(cfg_.b_gap)) {
      b_presenting_ = true;
      d.m_bresp_i = bresps_.front().second ? 2 : 0;
      d.m_bid_i = 0;
    }
    d.m_bvalid_i = b_presenting_;
  }

  // Records the handshakes of this cycle (they happen on the coming edge) and checks what
  // the master drives. Call after Eval(), before Tick().
  void Observe() {
    auto& d = h_.dut();
    const uint64_t now = h_.cycle();
    // Valid held, payload stable.
    const Ax ar{d.m_araddr_o, d.m_arlen_o, d.m_arsize_o, d.m_arburst_o};
    const Ax aw{d.m_awaddr_o, d.m_awlen_o, d.m_awsize_o, d.m_awburst_o};
    const W w{uint64_t(d.m_wdata_o), uint64_t(d.m_wstrb_o), bool(d.m_wlast_o)};
    if (ar_wait_ && (!d.m_arvalid_o || !(ar == ar_prev_)))
      Fail("AR valid dropped or payload changed before ARREADY");
    if (aw_wait_ && (!d.m_awvalid_o || !(aw == aw_prev_)))
      Fail("AW valid dropped or payload changed before AWREADY");
    if (w_wait_ && (!d.m_wvalid_o || !(w == w_prev_)))
      Fail("W valid dropped or payload changed before WREADY");
    ar_wait_ = d.m_arvalid_o && !d.m_arready_i;
    aw_wait_ = d.m_awvalid_o && !d.m_awready_i;
    w_wait_ = d.m_wvalid_o && !d.m_wready_i;
    ar_prev_ = ar;
    aw_prev_ = aw;
    w_prev_ = w;

    if (d.m_arvalid_o && d.m_arready_i) {
      if (CheckAx("AR", ar)) {
        reads_.push_back({ar.addr, ar.len + 1u, 0, now + 1 + Latency(cfg_.read_latency)});
      }
      ++read_bursts_;
      max_reads_out_ = std::max<int>(max_reads_out_, static_cast<int>(reads_.size()));
    }
    if (d.m_rvalid_i && d.m_rready_o) {
      Burst& b = reads_.front();
      ++b.done;
      r_presenting_ = false;
      if (b.done == b.len) reads_.pop_front();
    }
    if (d.m_wvalid_o && d.m_wready_i) {
      Burst* b = WTarget();
      if (b == nullptr) {
        Fail("W beat without an accepted AW");
      } else {
        const uint64_t addr = b->addr + uint64_t(b->done) * DataBytes;
        const bool last = b->done == b->len - 1;
        if (w.last != last) {
          Fail("WLAST " + std::to_string(w.last) + " on beat " + std::to_string(b->done) +
               " of a " + std::to_string(b->len) + "-beat burst at 0x" + Hex(b->addr));
        }
        if (b->bad || SlvErr(addr)) {
          b->err = true;
        } else {
          for (int i = 0; i < DataBytes; ++i) {
            if (w.strb >> i & 1) mem_[addr + i] = static_cast<uint8_t>(w.data >> (8 * i));
          }
        }
        if (++b->done == b->len) {
          bresps_.push_back({now + 1 + Latency(cfg_.write_latency), b->err});
        }
      }
    }
    if (d.m_awvalid_o && d.m_awready_i) {
      if (CheckAx("AW", aw)) {
        writes_.push_back({aw.addr, aw.len + 1u, 0, 0});
      } else {
        writes_.push_back({0, aw.len + 1u, 0, 0, true, true});  // accepted, answered SLVERR
      }
      ++write_bursts_;
      max_writes_out_ = std::max<int>(max_writes_out_, static_cast<int>(writes_.size()));
    }
    if (d.m_bvalid_i && d.m_bready_o) {
      b_presenting_ = false;
      bresps_.pop_front();
      writes_.pop_front();
    }
  }

 private:
  struct Burst {
    uint64_t addr;
    uint32_t len;  // beats
    uint32_t done;
    uint64_t ready_at;
    bool err = false;  // a beat answered SLVERR
    bool bad = false;  // an illegal address beat: no beat of the burst is written
  };
  struct Ax {
    uint64_t addr;
    uint32_t len, size, burst;
    bool operator==(const Ax& o) const {
      return addr == o.addr && len == o.len && size == o.size && burst == o.burst;
    }
  };
  struct W {
    uint64_t data, strb;
    bool last;
    bool operator==(const W& o) const { return data == o.data && strb == o.strb && last == o.last; }
  };

  static std::string Hex(uint64_t v) {
    std::ostringstream s;
    s << std::hex << v;
    return s.str();
  }

  void Fail(const std::string& what) {
    ++violations_;
    ADD_FAILURE() << "AXI slave model: " << what << " (cycle " << h_.cycle() << ", seed "
                  << h_.seed() << ")";
  }

  // The rules of one address beat. False when the burst cannot be served.
  bool CheckAx(const char* ch, const Ax& a) {
    const std::string at =
        std::string(ch) + " 0x" + Hex(a.addr) + " len " + std::to_string(a.len) + ": ";
    bool ok = true;
    if (a.burst != 1) Fail(at + "burst type " + std::to_string(a.burst) + ", not INCR (1)");
    if (a.size != kSize) Fail(at + "size " + std::to_string(a.size) + ", not the bus width");
    if (a.addr % DataBytes != 0) Fail(at + "address not aligned to the bus width"), ok = false;
    const uint64_t bytes = uint64_t(a.len + 1) * DataBytes;
    if ((a.addr & 0xfff) + bytes > 0x1000) Fail(at + "burst crosses a 4 KiB boundary");
    if (a.addr + bytes > mem_.size()) Fail(at + "burst outside the memory"), ok = false;
    return ok;
  }

  // The write burst that takes the next W beat: the oldest accepted AW with beats missing.
  Burst* WTarget() {
    for (Burst& b : writes_) {
      if (b.done < b.len) return &b;
    }
    return nullptr;
  }

  bool SlvErr(uint64_t addr) const {
    for (const auto& r : slverr_) {
      if (addr < r.second && addr + DataBytes > r.first) return true;
    }
    return false;
  }

  uint64_t Latency(int fixed) {
    const int extra = cfg_.random_latency > 0
                          ? std::uniform_int_distribution<int>(0, cfg_.random_latency)(rng_)
                          : 0;
    return static_cast<uint64_t>(std::max(fixed - 1, 0) + extra);
  }
  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  Harness<Model>& h_;
  std::vector<uint8_t> mem_;
  std::mt19937_64 rng_;
  AxiMemConfig cfg_;
  std::vector<std::pair<uint64_t, uint64_t>> slverr_;
  std::deque<Burst> reads_, writes_;
  std::deque<std::pair<uint64_t, bool>> bresps_;  // (ready_at, SLVERR)
  bool r_presenting_ = false, b_presenting_ = false;
  bool ar_wait_ = false, aw_wait_ = false, w_wait_ = false;
  Ax ar_prev_{}, aw_prev_{};
  W w_prev_{};
  int violations_ = 0;
  uint64_t read_bursts_ = 0, write_bursts_ = 0;
  int max_reads_out_ = 0, max_writes_out_ = 0;
};

}  // namespace esact::sim
