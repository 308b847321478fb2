// AXI4-Lite master for the Harness: blocking Read() and Write() on a model whose slave
// ports are named s_aw*, s_w*, s_b*, s_ar*, s_r* (esact_regs, later esact_top).
//
// Every transaction inserts a random delay (0..max_valid_delay cycles) before each valid it
// raises (AW, W, AR), and drives random back-pressure on B and R (ready low with
// probability b_stall / r_stall in each cycle, also before the response is there). The
// order of AW and W is chosen per write: AW first (W raised only after the AW handshake),
// W first, both in the same cycle, or two independent delays. Valid is held and the
// payload is stable until the handshake, as AXI requires; the slave's own assertions check
// its side. Every wait is cycle-bounded and fails the test instead of hanging.
//
// The test can hook each cycle (OnCycle): the hook runs after Eval() and before Tick(), so
// it sees the outputs of the cycle and may change other inputs (counters, done_i).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <ostream>
#include <random>
#include <string>

#include "sim/harness.h"

namespace esact::sim {

enum class AxiResp : uint8_t { kOkay = 0, kExOkay = 1, kSlvErr = 2, kDecErr = 3 };

inline const char* AxiRespName(AxiResp r) {
  switch (r) {
    case AxiResp::kOkay:
      return "OKAY";
    case AxiResp::kExOkay:
      return "EXOKAY";
    case AxiResp::kSlvErr:
      return "SLVERR";
    default:
      return "DECERR";
  }
}

inline void PrintTo(AxiResp r, std::ostream* os) { *os << AxiRespName(r); }

// Traffic shape of an AxiLiteDriver.
struct AxiTraffic {
  int max_valid_delay = 0;  // idle cycles before each valid: uniform 0..max
  double b_stall = 0.0;     // probability that bready is low in a cycle
  double r_stall = 0.0;     // probability that rready is low in a cycle

  static AxiTraffic None() { return {}; }
  static AxiTraffic Random() { return {4, 0.4, 0.4}; }
  static AxiTraffic Heavy() { return {12, 0.8, 0.8}; }
};

enum class AxiOrder { kRandom, kAwFirst, kWFirst, kTogether, kIndependent };

template <class Model, int AddrW>
class AxiLiteDriver {
 public:
  static_assert(AddrW >= 1 && AddrW <= 32, "AXI address width");
  static constexpr uint32_t kAddrMask =
      AddrW == 32 ? 0xffffffffu : static_cast<uint32_t>((uint64_t{1} << AddrW) - 1);
  static constexpr uint64_t kMaxCycles = 2000;  // per transaction

  struct ReadResult {
    uint32_t data;
    AxiResp resp;
  };

  AxiLiteDriver(Harness<Model>& h, uint64_t seed, AxiTraffic traffic = AxiTraffic::None())
      : h_(h), rng_(seed), traffic_(traffic) {
    SetIdle();
  }

  void set_traffic(AxiTraffic t) { traffic_ = t; }
  void OnCycle(std::function<void()> hook) { hook_ = std::move(hook); }

  // All master outputs idle (valids low, readies high).
  void SetIdle() {
    auto& d = h_.dut();
    d.s_awvalid_i = 0;
    d.s_awaddr_i = 0;
    d.s_awprot_i = 0;
    d.s_wvalid_i = 0;
    d.s_wdata_i = 0;
    d.s_wstrb_i = 0;
    d.s_bready_i = 1;
    d.s_arvalid_i = 0;
    d.s_araddr_i = 0;
    d.s_arprot_i = 0;
    d.s_rready_i = 1;
  }

  // One cycle with the bus idle (the hook still runs).
  void Idle(int cycles = 1) {
    for (int i = 0; i < cycles; ++i) {
      h_.Eval();
      if (hook_) hook_();
      h_.Tick();
    }
  }

  AxiResp Write(uint32_t addr, uint32_t data, uint8_t strb = 0xf,
                AxiOrder order = AxiOrder::kRandom) {
    auto& d = h_.dut();
    if (order == AxiOrder::kRandom) {
      order = static_cast<AxiOrder>(Uniform(1, 4));
    }
    const uint64_t t0 = h_.cycle();
    uint64_t aw_at = t0 + Delay(), w_at = t0 + Delay();
    if (order == AxiOrder::kTogether) w_at = aw_at;
    const bool w_waits = order == AxiOrder::kAwFirst, aw_waits = order == AxiOrder::kWFirst;
    bool aw_done = false, w_done = false;
    d.s_awaddr_i = addr & kAddrMask;
    d.s_awprot_i = static_cast<uint8_t>(Uniform(0, 7));
    d.s_wdata_i = data;
    d.s_wstrb_i = strb & 0xf;
    for (uint64_t i = 0; i < kMaxCycles; ++i) {
      const uint64_t now = h_.cycle();
      d.s_awvalid_i = !aw_done && now >= aw_at && !(aw_waits && !w_done);
      d.s_wvalid_i = !w_done && now >= w_at && !(w_waits && !aw_done);
      d.s_bready_i = !Chance(traffic_.b_stall);
      h_.Eval();
      if (hook_) hook_();
      const bool aw_hs = d.s_awvalid_i && d.s_awready_o;
      const bool w_hs = d.s_wvalid_i && d.s_wready_o;
      const bool b_hs = d.s_bvalid_o && d.s_bready_i;
      if (d.s_bvalid_o && !(aw_done && w_done)) {
        ADD_FAILURE() << "B valid before both AW and W were accepted (write 0x" << std::hex << addr
                      << std::dec << ", cycle " << now << ")";
      }
      const AxiResp resp = static_cast<AxiResp>(d.s_bresp_o);
      h_.Tick();
      if (aw_hs) {
        aw_done = true;
        if (w_waits) w_at = h_.cycle() + Delay();
      }
      if (w_hs) {
        w_done = true;
        if (aw_waits) aw_at = h_.cycle() + Delay();
      }
      if (b_hs) {
        d.s_awvalid_i = 0;
        d.s_wvalid_i = 0;
        d.s_bready_i = Chance(0.5);
        return resp;
      }
      if (h_.rtl_finished()) break;
    }
    ADD_FAILURE() << "AXI write to 0x" << std::hex << addr << std::dec
                  << " did not complete within " << kMaxCycles << " cycles (seed " << h_.seed()
                  << ")";
    SetIdle();
    return AxiResp::kDecErr;
  }

  ReadResult Read(uint32_t addr) {
    auto& d = h_.dut();
    const uint64_t ar_at = h_.cycle() + Delay();
    bool ar_done = false;
    d.s_araddr_i = addr & kAddrMask;
    d.s_arprot_i = static_cast<uint8_t>(Uniform(0, 7));
    for (uint64_t i = 0; i < kMaxCycles; ++i) {
      d.s_arvalid_i = !ar_done && h_.cycle() >= ar_at;
      d.s_rready_i = !Chance(traffic_.r_stall);
      h_.Eval();
      if (hook_) hook_();
      const bool ar_hs = d.s_arvalid_i && d.s_arready_o;
      const bool r_hs = d.s_rvalid_o && d.s_rready_i;
      if (d.s_rvalid_o && !ar_done) {
        ADD_FAILURE() << "R valid before AR was accepted (read 0x" << std::hex << addr << std::dec
                      << ")";
      }
      const ReadResult r{static_cast<uint32_t>(d.s_rdata_o), static_cast<AxiResp>(d.s_rresp_o)};
      h_.Tick();
      if (ar_hs) ar_done = true;
      if (r_hs) {
        d.s_arvalid_i = 0;
        d.s_rready_i = Chance(0.5);
        return r;
      }
      if (h_.rtl_finished()) break;
    }
    ADD_FAILURE() << "AXI read of 0x" << std::hex << addr << std::dec << " did not complete within "
                  << kMaxCycles << " cycles (seed " << h_.seed() << ")";
    SetIdle();
    return {0, AxiResp::kDecErr};
  }

  // Read that must answer OKAY; returns the data.
  uint32_t ReadOk(uint32_t addr) {
    const ReadResult r = Read(addr);
    EXPECT_EQ(r.resp, AxiResp::kOkay) << "read 0x" << std::hex << addr;
    return r.data;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  uint64_t Delay() { return static_cast<uint64_t>(Uniform(0, traffic_.max_valid_delay)); }

  Harness<Model>& h_;
  std::mt19937_64 rng_;
  AxiTraffic traffic_;
  std::function<void()> hook_;
};

}  // namespace esact::sim
