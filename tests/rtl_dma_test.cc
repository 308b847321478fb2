// esact_dma, the AXI4 master DMA, against the AXI slave memory model sim/axi_mem.h, for each
// configuration of rtl/tops.txt (DataW 64 MaxBurst 16, DataW 32 MaxBurst 4).
//
//   Dma/<cfg>.Copy<Traffic>     random regions (one beat to several bursts, addresses near
//                               4 KiB boundaries) read while another region is written with
//                               random data, then the read data written back elsewhere;
//                               stream data and the whole memory image compared byte for
//                               byte; traffic: no stalls; random latency, back-pressure and
//                               R/B gaps with random stream stalls; heavy latency and
//                               back-pressure with bursty stream stalls
//   Dma/<cfg>.NoStallThroughput no stalls: no stall counted, bounded cycles per beat, two
//                               read bursts outstanding under latency
//   Dma/<cfg>.IllegalCommands   misaligned address or length, zero length, past the top of
//                               the address space: done + err, nothing issued, no beat moves
//   Dma/<cfg>.SlvErr            SLVERR injected inside a region: done + err on both engines,
//                               all beats streamed, nothing written outside the region
//   Dma.SlaveViolationFailsTheTest  a wrong RLAST from the slave trips the RTL assertion
//
// Every wait is bounded. Seeds: ESACT_SEED (default 1) mixed with the test name; each test
// prints its seed.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "Vesact_dma_d32_b4.h"
#include "Vesact_dma_d64_b16.h"
#include "sim/axi_mem.h"
#include "sim/harness.h"

namespace esact {
namespace {

using sim::AxiMem;
using sim::AxiMemConfig;
using sim::Harness;
using sim::StallSpec;
using sim::StreamSink;
using sim::StreamSource;
using sim::TestSeed;

template <class M, int Bytes, int Burst>
struct Dut {
  using Model = M;
  static constexpr int kBytes = Bytes;     // DataW / 8
  static constexpr int kMaxBurst = Burst;  // beats
};
using DutD64 = Dut<Vesact_dma_d64_b16, 8, 16>;
using DutD32 = Dut<Vesact_dma_d32_b4, 4, 4>;

constexpr size_t kMemBytes = 64 * 1024;

struct Cmd {
  uint32_t addr;
  uint32_t len;
};

struct Traffic {
  AxiMemConfig mem;
  StallSpec stream;
};

// The DUT, the memory, the command sources, the read sink and the write source; Step() is
// one cycle of all of them. Done and error pulses are counted.
template <class D>
class Bench {
 public:
  using Model = typename D::Model;
  static constexpr int kBytes = D::kBytes;

  Bench(uint64_t seed, const Traffic& t)
      : h_(seed),
        mem_(h_, kMemBytes, seed ^ 0x51ed270b, t.mem),
        rd_cmd_(StallSpec::Random(0.3), seed + 1),
        wr_cmd_(StallSpec::Random(0.3), seed + 2),
        rd_(t.stream, seed + 3),
        wr_(t.stream, seed + 4) {
    auto& d = h_.dut();
    d.rd_cmd_valid_i = 0;
    d.rd_cmd_addr_i = 0;
    d.rd_cmd_len_i = 0;
    d.rd_ready_i = 0;
    d.wr_cmd_valid_i = 0;
    d.wr_cmd_addr_i = 0;
    d.wr_cmd_len_i = 0;
    d.wr_valid_i = 0;
    d.wr_data_i = 0;
    std::mt19937_64 rng(seed + 5);
    for (auto& b : mem_.bytes()) b = static_cast<uint8_t>(rng());
    h_.Reset();
  }

  Harness<Model>& h() { return h_; }
  Model& dut() { return h_.dut(); }
  AxiMem<Model, kBytes>& mem() { return mem_; }
  StreamSource<Cmd>& rd_cmd() { return rd_cmd_; }
  StreamSource<Cmd>& wr_cmd() { return wr_cmd_; }
  StreamSink<std::pair<uint64_t, bool>>& rd() { return rd_; }
  StreamSource<uint64_t>& wr() { return wr_; }
  int rd_done() const { return rd_done_; }
  int rd_err() const { return rd_err_; }
  int wr_done() const { return wr_done_; }
  int wr_err() const { return wr_err_; }
  int rd_last() const { return rd_last_; }

  void Step() {
    auto& d = h_.dut();
    mem_.Drive();
    rd_cmd_.Prepare();
    wr_cmd_.Prepare();
    rd_.Prepare();
    wr_.Prepare();
    d.rd_cmd_valid_i = rd_cmd_.valid();
    if (rd_cmd_.valid()) {
      d.rd_cmd_addr_i = rd_cmd_.front().addr;
      d.rd_cmd_len_i = rd_cmd_.front().len;
    }
    d.wr_cmd_valid_i = wr_cmd_.valid();
    if (wr_cmd_.valid()) {
      d.wr_cmd_addr_i = wr_cmd_.front().addr;
      d.wr_cmd_len_i = wr_cmd_.front().len;
    }
    d.rd_ready_i = rd_.ready();
    d.wr_valid_i = wr_.valid();
    if (wr_.valid()) {
      d.wr_data_i = static_cast<std::remove_reference_t<decltype(d.wr_data_i)>>(wr_.front());
    }
    h_.Eval();
    mem_.Observe();
    rd_cmd_.Observe(d.rd_cmd_ready_o);
    wr_cmd_.Observe(d.wr_cmd_ready_o);
    if (rd_.Observe(d.rd_valid_o, {uint64_t(d.rd_data_o), bool(d.rd_last_o)}) && d.rd_last_o) {
      ++rd_last_;
    }
    wr_.Observe(d.wr_ready_o);
    rd_done_ += d.rd_done_o;
    rd_err_ += d.rd_err_o;
    wr_done_ += d.wr_done_o;
    wr_err_ += d.wr_err_o;
    if (d.rd_err_o && !d.rd_done_o) ADD_FAILURE() << "rd_err_o without rd_done_o";
    if (d.wr_err_o && !d.wr_done_o) ADD_FAILURE() << "wr_err_o without wr_done_o";
    h_.Tick();
  }

  // Steps until pred() holds, at most max_cycles; a gtest failure on timeout or RTL error.
  bool Run(const std::function<bool()>& pred, uint64_t max_cycles, const std::string& what) {
    for (uint64_t i = 0; i <= max_cycles; ++i) {
      h_.Eval();
      if (h_.rtl_finished()) {
        ADD_FAILURE() << "RTL stopped at cycle " << h_.cycle() << " waiting for " << what;
        return false;
      }
      if (pred()) return true;
      Step();
    }
    ADD_FAILURE() << "timeout: " << what << " not within " << max_cycles << " cycles (seed "
                  << h_.seed() << ")";
    return false;
  }

 private:
  Harness<Model> h_;
  AxiMem<Model, kBytes> mem_;
  StreamSource<Cmd> rd_cmd_, wr_cmd_;
  StreamSink<std::pair<uint64_t, bool>> rd_;
  StreamSource<uint64_t> wr_;
  int rd_done_ = 0, rd_err_ = 0, wr_done_ = 0, wr_err_ = 0, rd_last_ = 0;
};

// A region of 1 .. 3 * MaxBurst + 3 beats, mostly starting a few beats below a 4 KiB
// boundary, inside [lo, hi).
template <class D>
Cmd RandomRegion(std::mt19937_64& rng, uint32_t lo, uint32_t hi) {
  const uint32_t beats = 1 + rng() % (3 * D::kMaxBurst + 3);
  const uint32_t len = beats * D::kBytes;
  uint32_t addr;
  if (rng() % 4 != 0) {
    const uint32_t page = (lo + 0x1000 + rng() % (hi - lo - 0x2000)) & ~0xfffu;
    addr = page - static_cast<uint32_t>(rng() % (2 * D::kMaxBurst + 2)) * D::kBytes;
  } else {
    addr = (lo + static_cast<uint32_t>(rng() % (hi - lo - len))) & ~uint32_t(D::kBytes - 1);
  }
  if (addr + len > hi) addr = (hi - len) & ~uint32_t(D::kBytes - 1);
  if (addr < lo) addr = lo;
  return {addr, len};
}

uint64_t Bound(uint32_t beats) { return 2000 + 80 * uint64_t{beats}; }

template <class D>
class Dma : public ::testing::Test {};
using Duts = ::testing::Types<DutD64, DutD32>;
class DutName {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kBytes == 8 ? "d64_b16" : "d32_b4";
  }
};
TYPED_TEST_SUITE(Dma, Duts, DutName);

// Reads region a while writing random data to region b; then writes the data read from a
// to region c. Checks the stream, the pulses and the whole memory image.
template <class D>
void RunCopies(const Traffic& t, int rounds) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<D> b(seed, t);
  std::mt19937_64 rng(seed + 7);
  std::vector<uint8_t> want = b.mem().bytes();
  constexpr uint32_t kHalf = kMemBytes / 2;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Cmd a = RandomRegion<D>(rng, 0, kHalf);
    const Cmd w = RandomRegion<D>(rng, kHalf, kMemBytes);
    const uint32_t a_beats = a.len / D::kBytes, w_beats = w.len / D::kBytes;
    // Phase 1: read a, write random data to b, concurrently.
    const int rd0 = b.rd_done(), wr0 = b.wr_done();
    const size_t got0 = b.rd().received().size();
    b.rd_cmd().Push(a);
    b.wr_cmd().Push(w);
    for (uint32_t i = 0; i < w_beats; ++i) {
      uint64_t v = rng();
      if (D::kBytes == 4) v &= 0xffffffffu;
      b.wr().Push(v);
      for (int k = 0; k < D::kBytes; ++k) want[w.addr + i * D::kBytes + k] = uint8_t(v >> (8 * k));
    }
    ASSERT_TRUE(b.Run([&] { return b.rd_done() > rd0 && b.wr_done() > wr0; },
                      Bound(a_beats + w_beats), "read and write done"));
    EXPECT_EQ(b.rd_err(), 0);
    EXPECT_EQ(b.wr_err(), 0);
    EXPECT_TRUE(b.wr().done()) << "every write beat taken";
    const auto& got = b.rd().received();
    ASSERT_EQ(got.size() - got0, a_beats) << "read 0x" << std::hex << a.addr << " len " << a.len;
    std::vector<uint64_t> data;
    for (uint32_t i = 0; i < a_beats; ++i) {
      const auto& beat = got[got0 + i];
      EXPECT_EQ(beat.second, i + 1 == a_beats) << "rd_last_o on beat " << i;
      for (int k = 0; k < D::kBytes; ++k) {
        ASSERT_EQ(uint8_t(beat.first >> (8 * k)), want[a.addr + i * D::kBytes + k])
            << "read 0x" << std::hex << a.addr << " len 0x" << a.len << std::dec << ": beat " << i
            << " byte " << k;
      }
      data.push_back(beat.first);
    }
    ASSERT_TRUE(b.mem().bytes() == want)
        << "memory image after writing 0x" << std::hex << w.addr << " len 0x" << w.len;
    // Phase 2: the data read from a written back to a region c in the upper half.
    const Cmd c0 = RandomRegion<D>(rng, kHalf, kMemBytes);
    const Cmd c{std::min<uint32_t>(c0.addr, kMemBytes - a.len), a.len};
    const int wr1 = b.wr_done();
    b.wr_cmd().Push(c);
    for (uint32_t i = 0; i < a_beats; ++i) {
      b.wr().Push(data[i]);
      for (int k = 0; k < D::kBytes; ++k) {
        want[c.addr + i * D::kBytes + k] = uint8_t(data[i] >> (8 * k));
      }
    }
    ASSERT_TRUE(b.Run([&] { return b.wr_done() > wr1; }, Bound(a_beats), "write-back done"));
    EXPECT_EQ(b.wr_err(), 0);
    ASSERT_TRUE(b.mem().bytes() == want)
        << "memory image after writing back to 0x" << std::hex << c.addr << " len 0x" << c.len;
    EXPECT_FALSE(b.dut().rd_busy_o);
    EXPECT_FALSE(b.dut().wr_busy_o);
    EXPECT_TRUE(b.mem().idle());
  }
  EXPECT_EQ(b.mem().violations(), 0);
  EXPECT_LE(b.mem().max_reads_outstanding(), 2);
  EXPECT_LE(b.mem().max_writes_outstanding(), 2);
  EXPECT_EQ(b.rd_last(), rounds) << "rd_last_o once per region";
  std::printf("%d rounds in %lu cycles, %lu read and %lu write bursts\n", rounds,
              static_cast<unsigned long>(b.h().cycle()),
              static_cast<unsigned long>(b.mem().read_bursts()),
              static_cast<unsigned long>(b.mem().write_bursts()));
}

TYPED_TEST(Dma, CopyNoStall) {
  RunCopies<TypeParam>({AxiMemConfig::None(), StallSpec::None()}, 200);
}
TYPED_TEST(Dma, CopyRandomStall) {
  RunCopies<TypeParam>({AxiMemConfig::Random(), StallSpec::Random(0.3)}, 200);
}
TYPED_TEST(Dma, CopyHeavyStall) {
  RunCopies<TypeParam>({AxiMemConfig::Heavy(), StallSpec::Bursty(0.2, 12)}, 100);
}

TYPED_TEST(Dma, NoStallThroughput) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  AxiMemConfig lat = AxiMemConfig::None();
  lat.read_latency = 6;
  Bench<TypeParam> b(seed, {lat, StallSpec::None()});
  constexpr int kBeats = 8 * TypeParam::kMaxBurst;
  b.rd_cmd().Push({0x100u * TypeParam::kBytes, uint32_t(kBeats * TypeParam::kBytes)});
  ASSERT_TRUE(b.Run([&] { return b.rd_done() == 1; }, Bound(kBeats), "read done"));
  const uint64_t rd_cycles = b.h().cycle();
  b.wr_cmd().Push({0x200u * TypeParam::kBytes, uint32_t(kBeats * TypeParam::kBytes)});
  for (int i = 0; i < kBeats; ++i) b.wr().Push(i);
  ASSERT_TRUE(b.Run([&] { return b.wr_done() == 1; }, Bound(kBeats), "write done"));
  const uint64_t wr_cycles = b.h().cycle() - rd_cycles;
  EXPECT_EQ(b.mem().max_reads_outstanding(), 2) << "two reads in flight hide the latency";
  // Per burst at most the address cycle it waits for and the latency, overlapped by the
  // second burst: bounded by beats plus a fixed cost per burst.
  EXPECT_LE(rd_cycles, uint64_t(kBeats + 8 * 4 + 20)) << "read of " << kBeats << " beats";
  EXPECT_LE(wr_cycles, uint64_t(kBeats + 8 * 4 + 20)) << "write of " << kBeats << " beats";
  auto& d = b.dut();
  EXPECT_EQ(d.stall_ar_o, 0u);
  EXPECT_EQ(d.stall_aw_o, 0u);
  EXPECT_EQ(d.stall_w_o, 0u);
  EXPECT_EQ(d.stall_r_o, 0u);
  EXPECT_EQ(d.stall_b_o, 0u);
  // Under back-pressure the counters count.
  b.mem().set_config(AxiMemConfig::Heavy());
  b.rd_cmd().Push({0, uint32_t(kBeats * TypeParam::kBytes)});
  b.wr_cmd().Push({0x4000, uint32_t(kBeats * TypeParam::kBytes)});
  for (int i = 0; i < kBeats; ++i) b.wr().Push(i);
  ASSERT_TRUE(b.Run([&] { return b.rd_done() == 2 && b.wr_done() == 2; }, Bound(2 * kBeats),
                    "stalled transfers done"));
  EXPECT_GT(d.stall_ar_o, 0u);
  EXPECT_GT(d.stall_aw_o, 0u);
  EXPECT_GT(d.stall_w_o, 0u);
  EXPECT_EQ(d.stall_b_o, 0u) << "BREADY is always high";
  std::printf("read %d beats: %lu cycles, write: %lu cycles (DataW %d)\n", kBeats,
              static_cast<unsigned long>(rd_cycles), static_cast<unsigned long>(wr_cycles),
              8 * TypeParam::kBytes);
}

TYPED_TEST(Dma, IllegalCommands) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  Bench<TypeParam> b(seed, {AxiMemConfig::Random(), StallSpec::Random(0.3)});
  constexpr uint32_t kB = TypeParam::kBytes;
  const std::vector<uint8_t> before = b.mem().bytes();
  const std::vector<Cmd> bad = {
      {0x1000 + 1, 4 * kB},
      {0x1000 + kB / 2, 4 * kB},
      {0x1000, 4 * kB + 1},
      {0x1000, kB / 2},
      {0x1000, 0},
      {0, 0},
      {0xffffffffu & ~(kB - 1), 2 * kB},
      {0xfffff000u, 0x2000},
  };
  b.wr().Push(0x1234);  // a beat offered all along: no illegal command may take it
  for (const Cmd& c : bad) {
    SCOPED_TRACE("addr 0x" + std::to_string(c.addr) + " len " + std::to_string(c.len));
    const int rd0 = b.rd_done(), wr0 = b.wr_done(), re0 = b.rd_err(), we0 = b.wr_err();
    b.rd_cmd().Push(c);
    b.wr_cmd().Push(c);
    ASSERT_TRUE(b.Run([&] { return b.rd_done() > rd0 && b.wr_done() > wr0; }, 100,
                      "done of an illegal command"));
    EXPECT_EQ(b.rd_err(), re0 + 1);
    EXPECT_EQ(b.wr_err(), we0 + 1);
    for (int i = 0; i < 10; ++i) b.Step();
    EXPECT_EQ(b.wr().sent(), 0u) << "no write beat taken";
    EXPECT_FALSE(b.dut().rd_busy_o);
    EXPECT_FALSE(b.dut().wr_busy_o);
  }
  EXPECT_EQ(b.mem().read_bursts(), 0u);
  EXPECT_EQ(b.mem().write_bursts(), 0u);
  EXPECT_TRUE(b.rd().received().empty());
  EXPECT_TRUE(b.mem().bytes() == before);
  // The engines still work: the offered beat and three more go to a legal region.
  const int wr0 = b.wr_done(), rd0 = b.rd_done();
  b.wr_cmd().Push({0x2000, 4 * kB});
  for (int i = 0; i < 3; ++i) b.wr().Push(0x55 + i);
  b.rd_cmd().Push({0x3000 - 2 * kB, 4 * kB});
  ASSERT_TRUE(b.Run([&] { return b.wr_done() > wr0 && b.rd_done() > rd0; }, Bound(8),
                    "legal commands after illegal ones"));
  EXPECT_EQ(b.mem().bytes()[0x2000], 0x34);
  EXPECT_EQ(b.mem().bytes()[0x2000 + kB], 0x55);
  EXPECT_EQ(b.rd().received().size(), 4u);
  EXPECT_EQ(b.mem().violations(), 0);
}

TYPED_TEST(Dma, SlvErr) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed + 9);
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Traffic t = round % 2 ? Traffic{AxiMemConfig::Random(), StallSpec::Random(0.3)}
                                : Traffic{AxiMemConfig::Heavy(), StallSpec::Bursty(0.2, 12)};
    Bench<TypeParam> b(seed + round, t);
    constexpr uint32_t kB = TypeParam::kBytes;
    const Cmd r = RandomRegion<TypeParam>(rng, 0, kMemBytes / 2);
    const Cmd w = RandomRegion<TypeParam>(rng, kMemBytes / 2, kMemBytes);
    const uint32_t r_beats = r.len / kB, w_beats = w.len / kB;
    // One beat inside each region answers SLVERR (a byte range inside the beat).
    const uint32_t r_bad = r.addr + kB * static_cast<uint32_t>(rng() % r_beats);
    const uint32_t w_bad = w.addr + kB * static_cast<uint32_t>(rng() % w_beats);
    b.mem().InjectSlvErr(r_bad + 1, r_bad + 2);
    b.mem().InjectSlvErr(w_bad, w_bad + 1);
    std::vector<uint8_t> want = b.mem().bytes();
    b.rd_cmd().Push(r);
    b.wr_cmd().Push(w);
    for (uint32_t i = 0; i < w_beats; ++i) {
      const uint64_t v = rng() & (kB == 4 ? 0xffffffffull : ~0ull);
      b.wr().Push(v);
      const uint32_t at = w.addr + i * kB;
      if (at == w_bad) continue;  // the SLVERR beat writes nothing
      for (uint32_t k = 0; k < kB; ++k) want[at + k] = uint8_t(v >> (8 * k));
    }
    ASSERT_TRUE(b.Run([&] { return b.rd_done() == 1 && b.wr_done() == 1; },
                      Bound(r_beats + w_beats), "done with SLVERR"));
    EXPECT_EQ(b.rd_err(), 1);
    EXPECT_EQ(b.wr_err(), 1);
    EXPECT_EQ(b.rd().received().size(), r_beats) << "every beat streamed";
    EXPECT_EQ(b.rd_last(), 1);
    EXPECT_TRUE(b.mem().bytes() == want) << "nothing written outside the region";
    EXPECT_EQ(b.mem().violations(), 0);
    // The next command of each engine is clean again.
    b.mem().ClearSlvErr();
    b.rd_cmd().Push(r);
    ASSERT_TRUE(b.Run([&] { return b.rd_done() == 2; }, Bound(r_beats), "clean read"));
    EXPECT_EQ(b.rd_err(), 1);
    if (::testing::Test::HasFailure()) return;
  }
}

// ---- The RTL assertions catch a slave that breaks the protocol --------------------------

void WrongRlast() {
  Harness<Vesact_dma_d64_b16> h(3);
  auto& d = h.dut();
  d.rd_cmd_valid_i = 0;
  d.wr_cmd_valid_i = 0;
  d.wr_valid_i = 0;
  d.rd_ready_i = 1;
  d.m_arready_i = 1;
  d.m_awready_i = 0;
  d.m_wready_i = 0;
  d.m_rvalid_i = 0;
  d.m_rlast_i = 0;
  d.m_rresp_i = 0;
  d.m_rid_i = 0;
  d.m_rdata_i = 0;
  d.m_bvalid_i = 0;
  d.m_bresp_i = 0;
  d.m_bid_i = 0;
  h.Reset();
  d.rd_cmd_valid_i = 1;
  d.rd_cmd_addr_i = 0x100;
  d.rd_cmd_len_i = 4 * 8;  // one burst of 4 beats
  h.Tick();
  d.rd_cmd_valid_i = 0;
  for (int i = 0; i < 3; ++i) h.Tick();  // AR issued and accepted
  d.m_rvalid_i = 1;
  d.m_rlast_i = 1;  // the violation: RLAST on the first of 4 beats
  h.Tick();
  d.m_rvalid_i = 0;
  h.Tick();
}

TEST(Dma, SlaveViolationFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(WrongRlast(), "RTL reported an error");
}

}  // namespace
}  // namespace esact
