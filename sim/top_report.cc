// TopReport (sim/top_driver.h): the derived figures, the text and the JSON of `make sim`.
#include <fmt/format.h>

#include <string>

#include "sim/top_driver.h"

namespace esact::sim {

namespace {
double Ratio(double a, double b) { return b > 0 ? a / b : 0.0; }
}  // namespace

double TopReport::speedup() const {
  return Ratio(static_cast<double>(dense.run.counter("CYCLES")),
               static_cast<double>(spls.run.counter("CYCLES")));
}

double TopReport::ideal_speedup() const {
  return Ratio(static_cast<double>(macs_dense), static_cast<double>(macs_executed));
}

double TopReport::pe_utilization() const {
  return Ratio(static_cast<double>(macs_executed),
               static_cast<double>(spls.run.counter("CYCLES")) * mac_units);
}

double TopReport::sim_cycles_per_s() const {
  return Ratio(static_cast<double>(dense.run.cycles + spls.run.cycles),
               dense.seconds + spls.seconds);
}

EnergyEstimate TopReport::Energy(const TopCheck& c) const {
  const TopRun& r = c.run;
  EnergyCounts n;
  n.macs = static_cast<int64_t>(r.counter("MACS_EXEC"));
  n.macs_dense = n.macs + static_cast<int64_t>(r.counter("MACS_SKIPPED"));
  n.attention_macs = static_cast<int64_t>(r.counter("MACS_SCORES") + r.counter("MACS_PV"));
  n.pred_ops = static_cast<int64_t>(r.counter("PRED_OPS"));
  n.pam_ops = n.pred_ops > 0 ? pam_ops : 0;
  n.sram_bytes =
      static_cast<int64_t>(r.counter("SRAM_ACT_RD_BYTES") + r.counter("SRAM_ACT_WR_BYTES") +
                           r.counter("SRAM_WGT_RD_BYTES") + r.counter("SRAM_WGT_WR_BYTES"));
  n.dram_bytes = static_cast<int64_t>(r.counter("DRAM_RD_BYTES") + r.counter("DRAM_WR_BYTES"));
  return EstimateEnergy(n);
}

std::string TopReport::Json() const {
  const EnergyEstimate ed = Energy(dense), es = Energy(spls);
  return fmt::format(
      "{{\"pass\": {}, \"mismatches\": {}, \"decisions_identical\": {}, \"err_code\": {}, "
      "\"cycles\": {}, \"cycles_dense\": {}, \"speedup\": {:.4f}, \"ideal_speedup\": {:.4f}, "
      "\"pe_utilization\": {:.4f}, \"macs_dense\": {}, \"macs_executed\": {}, "
      "\"predictor_ops\": {}, \"rows_reused\": {}, \"tokens_reused\": {}, "
      "\"mem_stall_cycles\": {}, \"sim_cycles_per_s\": {:.0f}, \"energy_uj_dense\": {:.3f}, "
      "\"energy_uj\": {:.3f}, \"dram_energy_uj\": {:.3f}, \"tops_per_w_dense\": {:.4f}, "
      "\"tops_per_w\": {:.4f}, \"tops_per_w_no_dram\": {:.4f}, "
      "\"attention_energy_ratio\": {:.4f}}}",
      pass() ? "true" : "false", dense.mismatches + spls.mismatches,
      dense.decision_diff.empty() && spls.decision_diff.empty() ? "true" : "false",
      spls.err_code != 0 ? spls.err_code : dense.err_code, spls.run.counter("CYCLES"),
      dense.run.counter("CYCLES"), speedup(), ideal_speedup(), pe_utilization(), macs_dense,
      macs_executed, predictor_ops, spls.run.counter("ROWS_REUSED"),
      spls.run.counter("TOKENS_REUSED"), spls.run.counter("MEM_STALL"), sim_cycles_per_s(),
      ed.total_uj, es.total_uj, es.dram_uj, ed.tops_per_w_dense_equivalent,
      es.tops_per_w_dense_equivalent, es.tops_per_w_no_dram,
      es.attention_uj > 0 ? ed.attention_uj / es.attention_uj : 0.0);
}

std::string TopReport::Text() const {
  std::string out = fmt::format("{:<28}{:>14}{:>14}\n", "", "dense", "SPLS");
  const auto row = [&](const char* label, const char* counter) {
    out += fmt::format("{:<28}{:>14}{:>14}\n", label, dense.run.counter(counter),
                       spls.run.counter(counter));
  };
  row("cycles, start to done", "CYCLES");
  row("  predictor busy", "CYC_PREDICT");
  row("  Q, K, V generation", "CYC_QKV");
  row("  attention (+ row copies)", "CYC_ATTN");
  row("  output projection", "CYC_OUT");
  row("  FFN", "CYC_FFN");
  row("  LayerNorm", "CYC_LN");
  row("  memory stall (load/store)", "MEM_STALL");
  row("MACs executed", "MACS_EXEC");
  row("MACs skipped", "MACS_SKIPPED");
  row("predictor HLog products", "PRED_OPS");
  row("(head, row) pairs reused", "ROWS_REUSED");
  row("tokens reused", "TOKENS_REUSED");
  const auto verdict = [](const TopCheck& c) {
    if (c.err_code != 0) return fmt::format("error code {}", c.err_code);
    return fmt::format("{} Y mismatches, decisions {}", c.mismatches,
                       c.decision_diff.empty() ? "identical" : c.decision_diff);
  };
  out += fmt::format("dense against the golden model: {}\n", verdict(dense));
  out += fmt::format("SPLS  against the golden model: {}\n", verdict(spls));
  out += fmt::format(
      "speedup {:.2f}x (ideal {:.2f}x from the skipped MACs), MAC utilization {:.1f}% of {} "
      "MACs/cycle, simulation {:.0f} cycles/s\n",
      speedup(), ideal_speedup(), 100 * pe_utilization(), mac_units, sim_cycles_per_s());
  const EnergyEstimate ed = Energy(dense), es = Energy(spls);
  out += fmt::format(
      "energy estimate (45 nm table, docs/energy.md): dense {:.1f} uJ, SPLS {:.1f} uJ "
      "(DRAM {:.1f}); {:.3f} -> {:.3f} TOPS/W dense-equivalent ({:.3f} without DRAM); "
      "attention-level energy dense/SPLS {:.2f}x\n",
      ed.total_uj, es.total_uj, es.dram_uj, ed.tops_per_w_dense_equivalent,
      es.tops_per_w_dense_equivalent, es.tops_per_w_no_dram,
      es.attention_uj > 0 ? ed.attention_uj / es.attention_uj : 0.0);
  out += pass() ? "PASS\n" : "FAIL\n";
  return out;
}

}  // namespace esact::sim
