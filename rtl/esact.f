// ESACT RTL file list, in compile order (package, leaves, then the units that use them, the
// top last), paths from the repository root. For tools that take a -f file:
//   verilator --lint-only -Wall --assert -f rtl/esact.f rtl/lint.vlt --top-module esact_top
// The include files (rtl/esact_assert.svh, rtl/esact_regs_pkg.svh) are found through
// +incdir. `make lint` checks that every module file is listed exactly once, the package
// first and the top last, and lints esact_top from this list.
+incdir+rtl
rtl/esact_pkg.sv
rtl/esact_fifo2.sv
rtl/esact_ram.sv
rtl/esact_rowsrc.sv
rtl/esact_requant.sv
rtl/esact_cfg_over.sv
rtl/esact_hlog_enc.sv
rtl/esact_hlog_quant.sv
rtl/esact_hlog_dot.sv
rtl/esact_topk.sv
rtl/esact_reuse.sv
rtl/esact_predictor.sv
rtl/esact_gemm_pe.sv
rtl/esact_gemm.sv
rtl/esact_attn_exp.sv
rtl/esact_attn_recip.sv
rtl/esact_attn.sv
rtl/esact_vec_stats.sv
rtl/esact_vec.sv
rtl/esact_regs.sv
rtl/esact_dma.sv
rtl/esact_top.sv
