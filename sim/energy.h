// An energy estimate of one layer run from esact_top's own counters (docs/energy.md):
// per-operation energies of a published 45 nm table times the operation counts the RTL
// counted. An estimate, not a measurement: no wires, clock tree, leakage or control logic.
#pragma once

#include <cstdint>

namespace esact::sim {

// Energy per operation, picojoules, 45 nm, 0.9 V (M. Horowitz, "Computing's energy
// problem (and what we can do about it)", ISSCC 2014, the table as reprinted in S. Han et
// al., "EIE", ISCA 2016, Table I): 8-bit integer multiply 0.2 pJ, 8-bit add 0.03 pJ, 32-bit
// add 0.1 pJ, 32-bit SRAM read 5 pJ, 32-bit DRAM read 640 pJ.
struct EnergyTable {
  double mac_pj = 0.2 + 0.1;            // int8 x int8 multiply, 32-bit accumulate
  double hlog_product_pj = 0.03 + 0.1;  // exponent add (8-bit class) + accumulate
  double sram_pj_per_byte = 5.0 / 4;    // on-chip buffer access
  double dram_pj_per_byte = 640.0 / 4;  // external memory access
};

// What the counters of one run give (esact_top: MACS_EXEC, PRED_OPS, SRAM_* and DRAM_*
// bytes, plus the dense MAC count MACS_EXEC + MACS_SKIPPED and the attention MACs).
struct EnergyCounts {
  int64_t macs = 0;            // int8 MACs executed
  int64_t macs_dense = 0;      // MACs of the dense layer (ops counted for effective TOPS/W)
  int64_t attention_macs = 0;  // of which scores and P.V
  int64_t pred_ops = 0;        // HLog products of the predictor
  int64_t pam_ops = 0;         // of which the PAM (attention side of the prediction)
  int64_t sram_bytes = 0;      // on-chip buffers, read and written
  int64_t dram_bytes = 0;      // external memory, read and written
};

struct EnergyEstimate {
  double mac_uj = 0, pred_uj = 0, sram_uj = 0, dram_uj = 0;
  double total_uj = 0;
  double attention_uj = 0;                 // scores and P.V MACs plus the PAM products
  double tops_per_w = 0;                   // 2 x executed MACs per joule, in TOPS/W
  double tops_per_w_dense_equivalent = 0;  // 2 x dense MACs per joule: the work done
  double tops_per_w_no_dram = 0;           // the same without the DRAM term (on-chip only)
};

EnergyEstimate EstimateEnergy(const EnergyCounts& c, const EnergyTable& t = EnergyTable{});

}  // namespace esact::sim
