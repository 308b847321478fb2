// esact_regs, the AXI4-Lite register block, against the register map of the generated
// header sim/esact_regs.h (single source rtl/esact_regmap.json), for each configuration of
// rtl/tops.txt (AddrW 12 and 10). Every AXI transaction goes through sim/axil_driver.h,
// with random valid delays and random B/R back-pressure unless a test says otherwise.
//
//   Regs/<cfg>.ResetValues           every register, every counter and every
//                                    configuration port after reset
//   Regs/<cfg>.RwRoundTripAllOrders  random writes with random WSTRB to every RW register,
//                                    AW first, W first, together and independent, under
//                                    no, random and heavy stalls; read-back and ports
//                                    checked against a shadow model
//   Regs/<cfg>.ReadOnlyWritesRejected  SLVERR, nothing changes
//   Regs/<cfg>.UnmappedSlvErr        every unmapped word of the address space answers
//                                    SLVERR (reads 0); the low address bits are ignored
//   Regs/<cfg>.StatusW1cAndIrq       sticky DONE/ERR, W1C with strobes, ERR_CODE, irq_o,
//                                    an event in the cycle of the clearing write wins
//   Regs/<cfg>.StartPulse            exactly one one-cycle start_o per write of 1
//   Regs/<cfg>.CounterSnapshot       LO latches HI: every LO/HI pair is one sample while
//                                    the counters move with carries into HI
//   Regs.ContractViolationFailsTheTest  a master that breaks AXI trips the RTL assertions
//
// Seeds: ESACT_SEED (default 1) is mixed with the test name; each test prints its seed.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "Vesact_regs_a12.h"
#include "Vesact_regs_a10.h"
#include "sim/axil_driver.h"
#include "sim/esact_regs.h"
#include "sim/harness.h"

namespace esact {
namespace {

namespace r = esact::regs;
using sim::AxiLiteDriver;
using sim::AxiOrder;
using sim::AxiResp;
using sim::AxiTraffic;
using sim::Harness;
using sim::TestSeed;

static_assert(r::kDataWidth == 32, "32-bit registers");

template <class M, int A>
struct Dut {
  using Model = M;
  static constexpr int kAddrW = A;
};
using DutA12 = Dut<Vesact_regs_a12, 12>;
using DutA10 = Dut<Vesact_regs_a10, 10>;
static_assert(DutA10::kAddrW >= r::kAddrWidthMin, "a10 reaches every register");

const r::Register& RegAt(uint32_t offset) {
  for (const auto& reg : r::kRegisters) {
    if (reg.offset == offset) return reg;
  }
  ADD_FAILURE() << "no register at 0x" << std::hex << offset;
  return r::kRegisters[0];
}

uint32_t StrobeBits(uint8_t strb) {
  uint32_t m = 0;
  for (int b = 0; b < 4; ++b) {
    if (strb >> b & 1) m |= 0xffu << (8 * b);
  }
  return m;
}

// The DUT, its AXI master and the controller side: start pulses counted, done/err pulses
// and counter values driven, one hook per cycle.
template <class D>
class Bench {
 public:
  using Model = typename D::Model;
  using Driver = AxiLiteDriver<Model, D::kAddrW>;

  explicit Bench(uint64_t seed, AxiTraffic traffic = AxiTraffic::Random())
      : h_(seed), axi_(h_, seed ^ 0x9e3779b97f4a7c15ull, traffic), rng_(seed + 1) {
    h_->busy_i = 0;
    h_->done_i = 0;
    h_->err_i = 0;
    h_->err_code_i = 0;
    for (int i = 0; i < r::kNumCounters; ++i) SetCnt(i, 0);
    h_.Reset();
    axi_.OnCycle([this] { Cycle(); });
  }

  Harness<Model>& h() { return h_; }
  Model& dut() { return h_.dut(); }
  Driver& axi() { return axi_; }
  std::mt19937_64& rng() { return rng_; }

  // Drives the counter input of map index i (cnt_i[64 i +: 64], 32-bit words of the bus).
  void SetCnt(int i, uint64_t v) {
    Model& d = h_.dut();
    d.cnt_i[2 * i] = static_cast<uint32_t>(v);
    d.cnt_i[2 * i + 1] = static_cast<uint32_t>(v >> 32);
  }

  // A done_i / err_i pulse in the next cycle the bench runs.
  void PulseDone() { done_next_ = true; }
  void PulseErr(uint8_t code) {
    err_next_ = true;
    err_code_next_ = code;
  }
  void OnCycle(std::function<void()> f) { user_hook_ = std::move(f); }

  int start_cycles() const { return start_cycles_; }
  int start_pulses() const { return start_pulses_; }

 private:
  void Cycle() {
    Model& d = h_.dut();
    if (d.start_o) {
      ++start_cycles_;
      if (!start_prev_) ++start_pulses_;
    }
    start_prev_ = d.start_o;
    d.done_i = done_next_;
    d.err_i = err_next_;
    d.err_code_i = err_next_ ? err_code_next_ : 0;
    done_next_ = err_next_ = false;
    if (user_hook_) user_hook_();
  }

  Harness<Model> h_;
  Driver axi_;
  std::mt19937_64 rng_;
  std::function<void()> user_hook_;
  bool done_next_ = false, err_next_ = false, start_prev_ = false;
  uint8_t err_code_next_ = 0;
  int start_cycles_ = 0, start_pulses_ = 0;
};

// Shadow of the RW state: cfg registers and CTRL.IRQ_EN.
struct Shadow {
  std::map<uint32_t, uint32_t> reg;  // offset -> value
  Shadow() {
    for (const auto& x : r::kRegisters) {
      if (x.cfg || x.offset == r::kCtrl) reg[x.offset] = x.reset;
    }
  }
  void Write(uint32_t offset, uint32_t data, uint8_t strb) {
    const r::Register& x = RegAt(offset);
    const uint32_t bits = StrobeBits(strb) & x.rw_mask;
    reg[offset] = (reg[offset] & ~bits) | (data & bits);
  }
};

template <class Model>
uint64_t Field(const Shadow& s, uint32_t offset, uint32_t mask, int lsb) {
  return (s.reg.at(offset) & mask) >> lsb;
}

// Every configuration port equals the shadow.
template <class Model>
void ExpectPorts(Model& d, const Shadow& s) {
  auto f = [&](uint32_t off, uint32_t mask, int lsb) { return Field<Model>(s, off, mask, lsb); };
  auto a64 = [&](uint32_t lo, uint32_t hi) { return uint64_t{s.reg.at(hi)} << 32 | s.reg.at(lo); };
  EXPECT_EQ(d.n_tokens_o, f(r::kNTokens, r::kNTokensValueMask, r::kNTokensValueLsb));
  EXPECT_EQ(d.n_valid_o, f(r::kNValid, r::kNValidValueMask, r::kNValidValueLsb));
  EXPECT_EQ(d.d_model_o, f(r::kDModel, r::kDModelValueMask, r::kDModelValueLsb));
  EXPECT_EQ(d.n_heads_o, f(r::kNHeads, r::kNHeadsValueMask, r::kNHeadsValueLsb));
  EXPECT_EQ(d.d_ff_o, f(r::kDFf, r::kDFfValueMask, r::kDFfValueLsb));
  EXPECT_EQ(d.spls_en_o, f(r::kSpls, r::kSplsEnMask, r::kSplsEnLsb));
  EXPECT_EQ(d.spls_hlog_bits_o, f(r::kSpls, r::kSplsHlogBitsMask, r::kSplsHlogBitsLsb));
  EXPECT_EQ(d.spls_round_o, f(r::kSpls, r::kSplsRoundMask, r::kSplsRoundLsb));
  EXPECT_EQ(d.spls_ffn_policy_o, f(r::kSpls, r::kSplsFfnPolicyMask, r::kSplsFfnPolicyLsb));
  EXPECT_EQ(d.k_o, f(r::kK, r::kKValueMask, r::kKValueLsb));
  EXPECT_EQ(d.w_o, f(r::kW, r::kWValueMask, r::kWValueLsb));
  EXPECT_EQ(d.t_o, f(r::kT, r::kTValueMask, r::kTValueLsb));
  EXPECT_EQ(d.x_addr_o, a64(r::kXAddrLo, r::kXAddrHi));
  EXPECT_EQ(d.w_addr_o, a64(r::kWAddrLo, r::kWAddrHi));
  EXPECT_EQ(d.y_addr_o, a64(r::kYAddrLo, r::kYAddrHi));
  EXPECT_EQ(d.dec_addr_o, a64(r::kDecAddrLo, r::kDecAddrHi));
  EXPECT_EQ(d.x_size_o, s.reg.at(r::kXSize));
  EXPECT_EQ(d.w_size_o, s.reg.at(r::kWSize));
  EXPECT_EQ(d.y_size_o, s.reg.at(r::kYSize));
  EXPECT_EQ(d.dec_size_o, s.reg.at(r::kDecSize));
}

// Every register read back against the shadow (STATUS, IRQ: idle controller, nothing set).
template <class B>
void ExpectAllRegisters(B& b, const Shadow& s) {
  for (const auto& x : r::kRegisters) {
    const auto rd = b.axi().Read(x.offset);
    EXPECT_EQ(rd.resp, AxiResp::kOkay) << x.name;
    const uint32_t want = s.reg.count(x.offset) ? (s.reg.at(x.offset) & ~x.w1p_mask) : x.reset;
    EXPECT_EQ(rd.data, want) << x.name << std::hex << " got 0x" << rd.data << " want 0x" << want;
  }
}

bool Mapped(uint32_t word) {
  for (const auto& x : r::kRegisters) {
    if (x.offset == word) return true;
  }
  for (const auto& c : r::kCounters) {
    if (c.lo == word || c.hi == word) return true;
  }
  return false;
}

template <class D>
class Regs : public ::testing::Test {};

struct DutName {
  template <class D>
  static std::string GetName(int) {
    return "a" + std::to_string(D::kAddrW);
  }
};
using Duts = ::testing::Types<DutA12, DutA10>;
TYPED_TEST_SUITE(Regs, Duts, DutName);

TYPED_TEST(Regs, ResetValues) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed);
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> cnt(r::kNumCounters);
  for (int i = 0; i < r::kNumCounters; ++i) b.SetCnt(i, cnt[i] = rng());
  Shadow s;
  EXPECT_EQ(r::kIdReset, 0x45534143u);  // 'ESAC'
  EXPECT_EQ(r::kVersionReset, r::kVersionMajor << 16 | r::kVersionMinor);
  EXPECT_EQ(b.dut().irq_o, 0);
  EXPECT_EQ(b.dut().start_o, 0);
  ExpectPorts(b.dut(), s);
  ExpectAllRegisters(b, s);
  for (const auto& c : r::kCounters) {
    EXPECT_EQ(b.axi().ReadOk(c.lo), static_cast<uint32_t>(cnt[c.index])) << c.name;
    EXPECT_EQ(b.axi().ReadOk(c.hi), static_cast<uint32_t>(cnt[c.index] >> 32)) << c.name;
  }
  EXPECT_EQ(b.start_cycles(), 0);
  // The counter ports follow the map's index order: each LO reads its own port.
  for (int i = 0; i < r::kNumCounters; ++i) b.SetCnt(i, 0x1000u + i);
  for (const auto& c : r::kCounters) EXPECT_EQ(b.axi().ReadOk(c.lo), 0x1000u + c.index) << c.name;
}

TYPED_TEST(Regs, RwRoundTripAllOrders) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::vector<uint32_t> rw;
  for (const auto& x : r::kRegisters) {
    if (x.cfg) rw.push_back(x.offset);
  }
  rw.push_back(r::kCtrl);
  const AxiTraffic traffics[] = {AxiTraffic::None(), AxiTraffic::Random(), AxiTraffic::Heavy()};
  const AxiOrder orders[] = {AxiOrder::kAwFirst, AxiOrder::kWFirst, AxiOrder::kTogether,
                             AxiOrder::kIndependent, AxiOrder::kRandom};
  const uint8_t strobes[] = {0xf, 0x0, 0x1, 0x2, 0x4, 0x8, 0x3, 0xc, 0x5, 0xa, 0x6, 0x9, 0xe, 0x7};
  int t_index = 0;
  for (const AxiTraffic& traffic : traffics) {
    for (const AxiOrder order : orders) {
      SCOPED_TRACE("traffic " + std::to_string(t_index) + " order " +
                   std::to_string(static_cast<int>(order)));
      Bench<TypeParam> b(seed + 7 * t_index + static_cast<int>(order), traffic);
      std::mt19937_64& rng = b.rng();
      Shadow s;
      int starts = 0;
      for (int n = 0; n < 120; ++n) {
        const uint32_t off = rw[rng() % rw.size()];
        const uint32_t data = static_cast<uint32_t>(rng());
        const uint8_t strb = rng() % 3 ? strobes[rng() % std::size(strobes)] : rng() % 16;
        ASSERT_EQ(b.axi().Write(off, data, strb, order), AxiResp::kOkay) << std::hex << off;
        s.Write(off, data, strb);
        if (off == r::kCtrl && (data & StrobeBits(strb) & r::kCtrlStartMask)) ++starts;
        if (rng() % 2) {
          const uint32_t check = rw[rng() % rw.size()];
          EXPECT_EQ(b.axi().ReadOk(check), s.reg[check]) << RegAt(check).name;
        }
        if (n % 16 == 0) {
          b.h().Eval();
          ExpectPorts(b.dut(), s);
        }
      }
      b.axi().Idle(2);
      ExpectPorts(b.dut(), s);
      ExpectAllRegisters(b, s);
      EXPECT_EQ(b.start_pulses(), starts);
      EXPECT_EQ(b.start_cycles(), starts);
      if (::testing::Test::HasFailure()) return;
    }
    ++t_index;
  }
}

TYPED_TEST(Regs, ReadOnlyWritesRejected) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed, AxiTraffic::Random());
  std::mt19937_64& rng = b.rng();
  for (int i = 0; i < r::kNumCounters; ++i) b.SetCnt(i, rng());
  Shadow s;
  std::vector<uint32_t> ro;
  for (const auto& x : r::kRegisters) {
    if (!x.writable) ro.push_back(x.offset);
  }
  for (const auto& c : r::kCounters) {
    ro.push_back(c.lo);
    ro.push_back(c.hi);
  }
  ASSERT_GE(ro.size(), 3u + 2 * r::kNumCounters);
  for (int pass = 0; pass < 3; ++pass) {
    for (const uint32_t off : ro) {
      // LO first, so that HI reads its snapshot of the fixed counter value.
      const uint32_t before_lo = (off >= r::kCntBase) ? b.axi().ReadOk(off & ~4u) : 0;
      const uint32_t before = b.axi().ReadOk(off);
      EXPECT_EQ(b.axi().Write(off, static_cast<uint32_t>(rng()), 0xf), AxiResp::kSlvErr)
          << std::hex << "0x" << off;
      if (off >= r::kCntBase) {
        EXPECT_EQ(b.axi().ReadOk(off & ~4u), before_lo);
      }
      EXPECT_EQ(b.axi().ReadOk(off), before) << std::hex << "0x" << off;
    }
  }
  ExpectAllRegisters(b, s);
  ExpectPorts(b.dut(), s);
  EXPECT_EQ(b.start_cycles(), 0);
}

TYPED_TEST(Regs, UnmappedSlvErr) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed, AxiTraffic::Random());
  std::mt19937_64& rng = b.rng();
  Shadow s;
  // Fill the RW registers first, so that a stray write would show.
  for (auto& [off, v] : s.reg) {
    const uint32_t data = static_cast<uint32_t>(rng()) & ~r::kCtrlStartMask;
    ASSERT_EQ(b.axi().Write(off, data), AxiResp::kOkay);
    s.Write(off, data, 0xf);
  }
  // Reserved ranges are unmapped.
  for (const auto& range : r::kReserved) {
    for (uint32_t w = range.lo & ~3u; w <= range.hi; w += 4) EXPECT_FALSE(Mapped(w));
  }
  int unmapped = 0;
  constexpr uint32_t kSpace = uint32_t{1} << TypeParam::kAddrW;
  for (uint32_t w = 0; w < kSpace; w += 4) {
    if (Mapped(w)) continue;
    ++unmapped;
    const uint32_t addr = w + static_cast<uint32_t>(rng() % 4);  // low bits ignored
    const auto rd = b.axi().Read(addr);
    EXPECT_EQ(rd.resp, AxiResp::kSlvErr) << std::hex << "0x" << addr;
    EXPECT_EQ(rd.data, 0u) << std::hex << "0x" << addr;
    EXPECT_EQ(b.axi().Write(addr, static_cast<uint32_t>(rng()), rng() % 16), AxiResp::kSlvErr)
        << std::hex << "0x" << addr;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(unmapped, 0);
  ExpectAllRegisters(b, s);
  ExpectPorts(b.dut(), s);
  // The two low address bits are ignored on mapped registers too.
  for (uint32_t lo = 1; lo < 4; ++lo) {
    EXPECT_EQ(b.axi().ReadOk(r::kId + lo), r::kIdReset);
    EXPECT_EQ(b.axi().Write(r::kK + lo, 0x1234, 0xf), AxiResp::kOkay);
    EXPECT_EQ(b.axi().ReadOk(r::kK), 0x1234u & r::kKValueMask);
  }
}

TYPED_TEST(Regs, StatusW1cAndIrq) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed, AxiTraffic::Random());
  auto& axi = b.axi();
  auto status = [&] { return axi.ReadOk(r::kStatus); };
  const uint32_t done = r::kStatusDoneMask, err = r::kStatusErrMask;
  // BUSY mirrors busy_i.
  b.dut().busy_i = 1;
  EXPECT_EQ(status(), r::kStatusBusyMask);
  b.dut().busy_i = 0;
  EXPECT_EQ(status(), 0u);
  // DONE is sticky; irq_o needs IRQ_EN.
  b.PulseDone();
  axi.Idle(3);
  EXPECT_EQ(status(), done);
  EXPECT_EQ(b.dut().irq_o, 0);
  EXPECT_EQ(axi.ReadOk(r::kIrq), 0u);
  ASSERT_EQ(axi.Write(r::kCtrl, r::kCtrlIrqEnMask), AxiResp::kOkay);
  b.h().Eval();
  EXPECT_EQ(b.dut().irq_o, 1);
  EXPECT_EQ(axi.ReadOk(r::kIrq), r::kIrqPendingMask);
  // W1C needs the strobe of its byte, and a 0 does not clear.
  const uint8_t done_byte = uint8_t{1} << (r::kStatusDoneLsb / 8);
  ASSERT_EQ(axi.Write(r::kStatus, done, 0xf & ~done_byte), AxiResp::kOkay);
  ASSERT_EQ(axi.Write(r::kStatus, ~done, 0xf), AxiResp::kOkay);
  EXPECT_EQ(status(), done);
  EXPECT_EQ(b.dut().irq_o, 1);
  ASSERT_EQ(axi.Write(r::kStatus, done, done_byte), AxiResp::kOkay);
  EXPECT_EQ(status(), 0u);
  b.h().Eval();
  EXPECT_EQ(b.dut().irq_o, 0);
  EXPECT_EQ(axi.ReadOk(r::kIrq), 0u);
  // ERR captures the code; clearing DONE leaves it; clearing ERR clears the code.
  b.PulseErr(0x5a);
  b.PulseDone();
  axi.Idle(2);
  EXPECT_EQ(status(), done | err | 0x5au << r::kStatusErrCodeLsb);
  ASSERT_EQ(axi.Write(r::kStatus, done), AxiResp::kOkay);
  EXPECT_EQ(status(), err | 0x5au << r::kStatusErrCodeLsb);
  b.PulseErr(0xc3);  // a later error replaces the code
  axi.Idle(1);
  EXPECT_EQ(status(), err | 0xc3u << r::kStatusErrCodeLsb);
  ASSERT_EQ(axi.Write(r::kStatus, err), AxiResp::kOkay);
  EXPECT_EQ(status(), 0u);
  // A done_i in the cycle of the clearing write wins: the hook raises it on the W
  // handshake, which (AW first) is the cycle the write takes effect.
  b.PulseDone();
  axi.Idle(1);
  for (int i = 0; i < 4; ++i) {
    bool armed = true;
    b.OnCycle([&] {
      auto& d = b.dut();
      if (armed && d.s_wvalid_i && d.s_wready_o) {
        d.done_i = 1;
        armed = false;
      }
    });
    ASSERT_EQ(axi.Write(r::kStatus, done, 0xf, AxiOrder::kAwFirst), AxiResp::kOkay);
    b.OnCycle(nullptr);
    EXPECT_FALSE(armed);
    EXPECT_EQ(status(), done) << "done_i in the clearing cycle must win";
  }
  ASSERT_EQ(axi.Write(r::kStatus, done | err), AxiResp::kOkay);
  EXPECT_EQ(status(), 0u);
  ASSERT_EQ(axi.Write(r::kCtrl, 0), AxiResp::kOkay);
  b.PulseDone();
  axi.Idle(2);
  b.h().Eval();
  EXPECT_EQ(b.dut().irq_o, 0);
  EXPECT_EQ(b.start_cycles(), 0);
}

TYPED_TEST(Regs, StartPulse) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed, AxiTraffic::Random());
  std::mt19937_64& rng = b.rng();
  auto& axi = b.axi();
  int want = 0;
  for (int n = 0; n < 200; ++n) {
    const uint32_t data = static_cast<uint32_t>(rng());
    const uint8_t strb = rng() % 16;
    b.dut().busy_i = rng() % 2;  // forwarded whether busy or not
    ASSERT_EQ(axi.Write(r::kCtrl, data, strb), AxiResp::kOkay);
    if (data & StrobeBits(strb) & r::kCtrlStartMask) ++want;
    if (rng() % 4 == 0) axi.Idle(static_cast<int>(rng() % 3));
  }
  axi.Idle(3);
  EXPECT_GT(want, 20);
  EXPECT_EQ(b.start_pulses(), want);
  EXPECT_EQ(b.start_cycles(), want) << "every pulse is exactly one cycle";
  // START reads 0.
  EXPECT_EQ(axi.ReadOk(r::kCtrl) & r::kCtrlStartMask, 0u);
  // Back to back under no stalls, still one cycle each.
  axi.set_traffic(AxiTraffic::None());
  for (int n = 0; n < 10; ++n) ASSERT_EQ(axi.Write(r::kCtrl, r::kCtrlStartMask), AxiResp::kOkay);
  axi.Idle(2);
  EXPECT_EQ(b.start_pulses(), want + 10);
  EXPECT_EQ(b.start_cycles(), want + 10);
}

TYPED_TEST(Regs, CounterSnapshot) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed, AxiTraffic::Random());
  std::mt19937_64& rng = b.rng();
  // Each counter starts just below a carry into HI and moves by random steps every cycle,
  // so that LO wraps often; every value ever driven is recorded.
  std::vector<uint64_t> v(r::kNumCounters);
  std::vector<std::set<uint64_t>> seen(r::kNumCounters);
  for (int i = 0; i < r::kNumCounters; ++i) {
    v[i] = (uint64_t{static_cast<uint32_t>(rng())} << 32) | 0xffff0000u;
    b.SetCnt(i, v[i]);
    seen[i].insert(v[i]);
  }
  std::mt19937_64 step_rng(seed ^ 0xabcdef);
  b.OnCycle([&] {
    for (int i = 0; i < r::kNumCounters; ++i) {
      if (step_rng() % 3 == 0) continue;
      v[i] += step_rng() % (uint64_t{1} << 30);
      b.SetCnt(i, v[i]);
      seen[i].insert(v[i]);
    }
  });
  std::vector<uint64_t> last(r::kNumCounters, 0);
  int hi_changes = 0;
  for (int n = 0; n < 300; ++n) {
    const auto& c = r::kCounters[rng() % r::kNumCounters];
    const uint32_t lo = b.axi().ReadOk(c.lo);
    if (rng() % 3 == 0) b.axi().Idle(static_cast<int>(rng() % 5));
    const uint32_t hi = b.axi().ReadOk(c.hi);
    const uint32_t hi_again = b.axi().ReadOk(c.hi);  // HI re-reads its snapshot
    EXPECT_EQ(hi, hi_again) << c.name;
    const uint64_t value = uint64_t{hi} << 32 | lo;
    EXPECT_TRUE(seen[c.index].count(value))
        << c.name << ": 0x" << std::hex << value << " was never one sample of the counter";
    EXPECT_GE(value, last[c.index]) << c.name;
    if (last[c.index] && (value >> 32) != (last[c.index] >> 32)) ++hi_changes;
    last[c.index] = value;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(hi_changes, 10) << "the test must see carries into HI";
}

// ---- The RTL assertions catch a master that breaks the protocol -------------------------

void ViolateAxi() {
  Bench<DutA12> b(5, AxiTraffic::None());
  auto& d = b.dut();
  // A write is accepted; its response is held (bready low), so AW is not ready.
  d.s_bready_i = 0;
  d.s_awvalid_i = 1;
  d.s_awaddr_i = r::kK;
  d.s_wvalid_i = 1;
  d.s_wdata_i = 1;
  d.s_wstrb_i = 0xf;
  b.h().Tick();
  d.s_wvalid_i = 0;
  d.s_awaddr_i = r::kT;  // a second write address presented while !awready
  b.h().Tick();
  d.s_awaddr_i = r::kW;  // the violation: the address changes while valid && !ready
  b.h().Tick();
  b.h().Tick();
}

TEST(Regs, ContractViolationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(ViolateAxi(), "RTL reported an error");
}

}  // namespace
}  // namespace esact
