// EstimateEnergy (sim/energy.h).
#include "sim/energy.h"

namespace esact::sim {

EnergyEstimate EstimateEnergy(const EnergyCounts& c, const EnergyTable& t) {
  constexpr double kPjPerUj = 1e6;
  EnergyEstimate e;
  e.mac_uj = static_cast<double>(c.macs) * t.mac_pj / kPjPerUj;
  e.pred_uj = static_cast<double>(c.pred_ops) * t.hlog_product_pj / kPjPerUj;
  e.sram_uj = static_cast<double>(c.sram_bytes) * t.sram_pj_per_byte / kPjPerUj;
  e.dram_uj = static_cast<double>(c.dram_bytes) * t.dram_pj_per_byte / kPjPerUj;
  e.total_uj = e.mac_uj + e.pred_uj + e.sram_uj + e.dram_uj;
  e.attention_uj = (static_cast<double>(c.attention_macs) * t.mac_pj +
                    static_cast<double>(c.pam_ops) * t.hlog_product_pj) /
                   kPjPerUj;
  // Operations per picojoule are tera-operations per second per watt.
  const auto tops_per_w = [](int64_t macs, double uj) {
    return uj > 0 ? 2.0 * static_cast<double>(macs) / (uj * kPjPerUj) : 0.0;
  };
  e.tops_per_w = tops_per_w(c.macs, e.total_uj);
  e.tops_per_w_dense_equivalent = tops_per_w(c.macs_dense, e.total_uj);
  e.tops_per_w_no_dram = tops_per_w(c.macs_dense, e.total_uj - e.dram_uj);
  return e;
}

}  // namespace esact::sim
