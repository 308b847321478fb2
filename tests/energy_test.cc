// The energy estimate of sim/energy.h: each term is its count times the table's energy, and
// TOPS/W is operations per picojoule.
#include "sim/energy.h"

#include <gtest/gtest.h>

namespace esact::sim {
namespace {

TEST(Energy, EachTermIsCountTimesEnergy) {
  const EnergyTable t;
  EnergyCounts c;
  c.macs = 1'000'000;
  c.macs_dense = 2'000'000;
  c.attention_macs = 100'000;
  c.pred_ops = 300'000;
  c.pam_ops = 50'000;
  c.sram_bytes = 4'000'000;
  c.dram_bytes = 10'000;
  const EnergyEstimate e = EstimateEnergy(c, t);
  EXPECT_DOUBLE_EQ(e.mac_uj, 1e6 * t.mac_pj * 1e-6);
  EXPECT_DOUBLE_EQ(e.pred_uj, 3e5 * t.hlog_product_pj * 1e-6);
  EXPECT_DOUBLE_EQ(e.sram_uj, 4e6 * t.sram_pj_per_byte * 1e-6);
  EXPECT_DOUBLE_EQ(e.dram_uj, 1e4 * t.dram_pj_per_byte * 1e-6);
  EXPECT_DOUBLE_EQ(e.total_uj, e.mac_uj + e.pred_uj + e.sram_uj + e.dram_uj);
  EXPECT_DOUBLE_EQ(e.attention_uj, (1e5 * t.mac_pj + 5e4 * t.hlog_product_pj) * 1e-6);
  // 2 ops per MAC; ops per pJ = TOPS/W.
  EXPECT_DOUBLE_EQ(e.tops_per_w, 2e6 / (e.total_uj * 1e6));
  EXPECT_DOUBLE_EQ(e.tops_per_w_dense_equivalent, 4e6 / (e.total_uj * 1e6));
  EXPECT_DOUBLE_EQ(e.tops_per_w_no_dram, 4e6 / ((e.total_uj - e.dram_uj) * 1e6));
}

TEST(Energy, PublishedTable) {
  // Horowitz, ISSCC 2014 (45 nm): 8-bit mult 0.2 pJ, 32-bit add 0.1 pJ, 8-bit add 0.03 pJ,
  // 32-bit SRAM 5 pJ, 32-bit DRAM 640 pJ.
  const EnergyTable t;
  EXPECT_DOUBLE_EQ(t.mac_pj, 0.3);
  EXPECT_DOUBLE_EQ(t.hlog_product_pj, 0.13);
  EXPECT_DOUBLE_EQ(t.sram_pj_per_byte, 1.25);
  EXPECT_DOUBLE_EQ(t.dram_pj_per_byte, 160.0);
}

TEST(Energy, NothingCountedIsZero) {
  const EnergyEstimate e = EstimateEnergy(EnergyCounts{});
  EXPECT_EQ(e.total_uj, 0.0);
  EXPECT_EQ(e.tops_per_w, 0.0);
}

}  // namespace
}  // namespace esact::sim
