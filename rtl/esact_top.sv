// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// ESACT top level: one BERT-style post-LN encoder layer, dense or with SPLS, from external
/// memory to external memory. docs/architecture.md section 12 is the spec; the memory
/// layout is docs/memory-layout.md, the registers docs/register-map.md.
///
/// The host writes the configuration registers through the AXI4-Lite slave (esact_regs)
/// and CTRL.START. The controller then
///   CHECK    checks the configuration and the buffers (an error ends the run here: nothing
///            is read or written),
///   LOAD     reads HDR, PW (with SPLS) and X through the AXI4 master (esact_dma) into the
///            on-chip buffers, then checks the header,
///   PREDICT  starts esact_predictor (SPLS) on X and the HLog weights; it runs alongside
///            the rest of the load (PRM, WGT) and the head loop: the engines generate head
///            h as soon as the predictor has decided head h (progressive generation). Dense
///            mode sets the dense decision.
///   per head Q for the anchor rows, K and V for the needed columns (esact_gemm on the
///            head's column tiles), attention (esact_attn), and the reused rows' contexts
///            copied from their anchors,
///   OUT      output projection for the token anchors, copied to the tokens that reuse,
///   LN1      residual LayerNorm (esact_vec),
///   FFN      FFN1 (esact_gemm), GELU (esact_vec), FFN2 (esact_gemm) for the FFN rows (every
///            valid row, or the token anchors under the reuse policy, then copied),
///   LN2      residual LayerNorm into Y,
///   STORE    writes Y and the decision records,
/// and pulses done (STATUS.DONE, irq_o). Every phase streams from and to on-chip buffers
/// (esact_ram) through esact_rowsrc row-list sources, so a skipped row costs no cycle.
`include "esact_assert.svh"
`include "esact_regs_pkg.svh"

// The defaults are the small configuration that `make synth` builds (rtl/tops.txt,
// Vesact_top_m); the simulated ones set every parameter.
module esact_top #(
  parameter  int unsigned Lanes     /*verilator public*/ = 4,    ///< L: int8 per activation word
  parameter  int unsigned PredLanes /*verilator public*/ = 8,    ///< P: predictor lanes, L * 2^m
  parameter  int unsigned NMax      /*verilator public*/ = 8,    ///< max tokens
  parameter  int unsigned DMax      /*verilator public*/ = 16,   ///< max d_model
  parameter  int unsigned DffMax    /*verilator public*/ = 16,   ///< max d_ff, >= DMax
  parameter  int unsigned DhMax     /*verilator public*/ = 8,    ///< max d_head
  parameter  int unsigned HMax      /*verilator public*/ = 2,    ///< max heads
  parameter  int unsigned KMax      /*verilator public*/ = 2,    ///< max Top-k
  parameter  int unsigned WMax      /*verilator public*/ = 1,    ///< max reuse window
  parameter  int unsigned GemmRows  /*verilator public*/ = 2,    ///< GEMM PE rows
  parameter  int unsigned AttnLanes /*verilator public*/ = 4,    ///< attention MACs per cycle
  parameter  int unsigned DataW     /*verilator public*/ = 32,   ///< AXI4 data width
  parameter  int unsigned MaxBurst  /*verilator public*/ = 4,    ///< AXI4 beats per burst
  parameter  int unsigned AddrW     /*verilator public*/ = 32,   ///< AXI4 address width
  parameter  int unsigned RegAddrW  /*verilator public*/ = 12    ///< AXI4-Lite address width
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  output logic                irq_o,

  // AXI4-Lite slave: registers
  input  logic                s_awvalid_i,
  output logic                s_awready_o,
  input  logic [RegAddrW-1:0] s_awaddr_i,
  input  logic [2:0]          s_awprot_i,
  input  logic                s_wvalid_i,
  output logic                s_wready_o,
  input  logic [31:0]         s_wdata_i,
  input  logic [3:0]          s_wstrb_i,
  output logic                s_bvalid_o,
  input  logic                s_bready_i,
  output logic [1:0]          s_bresp_o,
  input  logic                s_arvalid_i,
  output logic                s_arready_o,
  input  logic [RegAddrW-1:0] s_araddr_i,
  input  logic [2:0]          s_arprot_i,
  output logic                s_rvalid_o,
  input  logic                s_rready_i,
  output logic [31:0]         s_rdata_o,
  output logic [1:0]          s_rresp_o,

  // AXI4 master: external memory
  output logic                m_arvalid_o,
  input  logic                m_arready_i,
  output logic [0:0]          m_arid_o,
  output logic [AddrW-1:0]    m_araddr_o,
  output logic [7:0]          m_arlen_o,
  output logic [2:0]          m_arsize_o,
  output logic [1:0]          m_arburst_o,
  input  logic                m_rvalid_i,
  output logic                m_rready_o,
  input  logic [0:0]          m_rid_i,
  input  logic [DataW-1:0]    m_rdata_i,
  input  logic [1:0]          m_rresp_i,
  input  logic                m_rlast_i,
  output logic                m_awvalid_o,
  input  logic                m_awready_i,
  output logic [0:0]          m_awid_o,
  output logic [AddrW-1:0]    m_awaddr_o,
  output logic [7:0]          m_awlen_o,
  output logic [2:0]          m_awsize_o,
  output logic [1:0]          m_awburst_o,
  output logic                m_wvalid_o,
  input  logic                m_wready_i,
  output logic [DataW-1:0]    m_wdata_o,
  output logic [DataW/8-1:0]  m_wstrb_o,
  output logic                m_wlast_o,
  input  logic                m_bvalid_i,
  output logic                m_bready_o,
  input  logic [0:0]          m_bid_i,
  input  logic [1:0]          m_bresp_i
);

  // ---- Geometry ------------------------------------------------------------------------------
  localparam int unsigned IdxW   = ($clog2(NMax) > 1) ? $clog2(NMax) : 1;
  localparam int unsigned HeadW  = ($clog2(HMax) > 1) ? $clog2(HMax) : 1;
  localparam int unsigned ActW   = Lanes * 8;            // activation / weight word
  localparam int unsigned PrmW   = Lanes * 32;           // bias / LN / LUT word
  localparam int unsigned PwW    = 64 * ((5 * PredLanes + 32 + 63) / 64);  // predictor word
  localparam int unsigned PGroup = PredLanes / Lanes;    // activation words per predictor beat
  localparam int unsigned PwBytes = PwW / 8;
  localparam int unsigned HdrW   = 512;                  // the 64-byte header
  localparam int unsigned RecW   = DataW * ((64 + NMax + DataW - 1) / DataW);  // decision
  localparam int unsigned Bytes  = DataW / 8;
  localparam int unsigned HwMax  = DhMax / Lanes;        // words per head row
  localparam int unsigned XWords = NMax * DMax / Lanes;  // an activation buffer of d columns
  localparam int unsigned GWords = NMax * DffMax / Lanes;
  localparam int unsigned PrmWords = (9 * DMax + DffMax + 256) / Lanes;
  localparam int unsigned WgtWords = (4 * DMax * DMax + 2 * DMax * DffMax) / Lanes;
  localparam int unsigned PwWords  = 2 * DMax * DMax / PredLanes;
  localparam int unsigned AAW    = $clog2(GWords);      // activation buffer address
  localparam int unsigned PrmAW  = $clog2(PrmWords);
  localparam int unsigned WgtAW  = $clog2(WgtWords);
  localparam int unsigned PwAW   = $clog2(PwWords);
  localparam int unsigned SpaAW  = HeadW + IdxW;
  localparam int unsigned NW     = $clog2(NMax + 1);
  localparam int unsigned WideW  = (PrmW > PwW) ? PrmW : PwW;   // loader word register
  localparam int unsigned AsmW   = (WideW > HdrW) ? WideW : HdrW;
  localparam int unsigned MaxBpw = AsmW / DataW;        // beats per word, at most

  `ESACT_ASSERT_INIT(LanesPow2_A, Lanes >= 4 && (Lanes & (Lanes - 1)) == 0 && Lanes <= 256)
  `ESACT_ASSERT_INIT(WordFitsBeats_A, (ActW / DataW) * DataW == ActW && DataW <= 64)
  `ESACT_ASSERT_INIT(DimsLegal_A, (DMax / Lanes) * Lanes == DMax &&
                     (DffMax / Lanes) * Lanes == DffMax && (DhMax / Lanes) * Lanes == DhMax &&
                     DffMax >= DMax && DhMax <= DMax)
  `ESACT_ASSERT_INIT(AddrWLegal_A, AddrW >= 12 && AddrW <= 32)
  `ESACT_ASSERT_INIT(PredLanesLegal_A, PredLanes >= Lanes && (PredLanes & (PredLanes - 1)) == 0 &&
                     (DhMax / PredLanes) * PredLanes == DhMax)

  // ---- Register block ------------------------------------------------------------------------
  logic        reg_start, run_busy, run_done, run_err;
  logic [7:0]  run_err_code;
  logic [esact_regs_pkg::N_TOKENS_VALUE_W-1:0] r_n_tokens;
  logic [esact_regs_pkg::N_VALID_VALUE_W-1:0]  r_n_valid;
  logic [esact_regs_pkg::D_MODEL_VALUE_W-1:0]  r_d_model;
  logic [esact_regs_pkg::N_HEADS_VALUE_W-1:0]  r_n_heads;
  logic [esact_regs_pkg::D_FF_VALUE_W-1:0]     r_d_ff;
  logic        r_spls_en, r_round, r_ffn_reuse;
  logic [3:0]  r_bits;
  logic [esact_regs_pkg::K_VALUE_W-1:0]        r_k;
  logic [esact_regs_pkg::W_VALUE_W-1:0]        r_w;
  logic [esact_regs_pkg::T_VALUE_W-1:0]        r_t;
  logic [63:0] r_x_addr, r_w_addr, r_y_addr, r_dec_addr;
  logic [31:0] r_x_size, r_w_size, r_y_size, r_dec_size;
  logic [63:0] cnt_dram_rd_q, cnt_dram_wr_q, cnt_act_rd_q, cnt_act_wr_q, cnt_wgt_rd_q,
               cnt_wgt_wr_q;  // bytes moved, for the energy estimate
  logic [63:0] cnt_cycles_q, cnt_predict_q, cnt_qkv_q, cnt_attn_q, cnt_out_q, cnt_ffn_q,
               cnt_ln_q, cnt_pred_ops_q, cnt_rows_reused_q,
               cnt_tok_reused_q, cnt_stall_q;

  logic [64*esact_regs_pkg::CNT_NUM-1:0] cnt_bus;  // the counters at their map indices
  esact_regs #(.AddrW(RegAddrW)) u_regs (
    .clk_i, .rst_ni,
    .s_awvalid_i, .s_awready_o, .s_awaddr_i, .s_awprot_i,
    .s_wvalid_i, .s_wready_o, .s_wdata_i, .s_wstrb_i,
    .s_bvalid_o, .s_bready_i, .s_bresp_o,
    .s_arvalid_i, .s_arready_o, .s_araddr_i, .s_arprot_i,
    .s_rvalid_o, .s_rready_i, .s_rdata_o, .s_rresp_o,
    .start_o(reg_start), .busy_i(run_busy), .done_i(run_done), .err_i(run_err),
    .err_code_i(run_err_code), .irq_o,
    .n_tokens_o(r_n_tokens), .n_valid_o(r_n_valid), .d_model_o(r_d_model),
    .n_heads_o(r_n_heads), .d_ff_o(r_d_ff), .spls_en_o(r_spls_en), .spls_hlog_bits_o(r_bits),
    .spls_round_o(r_round), .spls_ffn_policy_o(r_ffn_reuse), .k_o(r_k), .w_o(r_w), .t_o(r_t),
    .x_addr_o(r_x_addr), .x_size_o(r_x_size), .w_addr_o(r_w_addr), .w_size_o(r_w_size),
    .y_addr_o(r_y_addr), .y_size_o(r_y_size), .dec_addr_o(r_dec_addr), .dec_size_o(r_dec_size),
    .cnt_i(cnt_bus)
  );

  // ---- Controller state ----------------------------------------------------------------------
  typedef enum logic [4:0] {
    StIdle, StCheck, StHeads, StSize, StMem, StLoad, StHdr, StPredict,
    StHeadQ, StHeadK, StHeadV, StHeadAttn, StHeadCopy, StWaitPred,
    StOut, StOutCopy, StLn1, StFfn1, StGelu, StFfn2, StFfnCopy, StLn2,
    StStoreY, StStoreDec, StDone
  } state_e;

  // The activation buffers, by index (plain constants: they also select generate
  // branches, where Yosys 0.23 mis-derives modules under enum comparisons).
  localparam logic [3:0] BufX = 4'd0, BufQ = 4'd1, BufK = 4'd2, BufV = 4'd3, BufC = 4'd4,
                         BufA = 4'd5, BufH = 4'd6, BufG = 4'd7, BufF = 4'd8;
  localparam int unsigned NBuf = 9;
  typedef logic [3:0] buf_e;

  // Load targets (sections of the weight image, and X); loaded HDR, PW, X, then PRM, WGT.
  typedef enum logic [2:0] { SecHdr, SecPrm, SecWgt, SecPw, SecX } sec_e;

  state_e      state_q, state_d;
  logic [1:0]  step_q, step_d;          // 0: start the sources, 1: start the unit, 2: wait
  logic [HeadW-1:0] head_q, head_d;
  sec_e        sec_q, sec_d;
  logic [7:0]  err_q, err_d;            // esact_pkg::top_err_e of the run

  // Configuration of the run, sampled at start.
  logic [15:0] n_tok_q, n_val_q, d_q, f_q, k_q, t_q;
  logic [7:0]  heads_q, w_q;
  logic        spls_q, reuse_q;
  esact_pkg::hlog_round_e round_q;
  logic [3:0]  bits_q;
  logic [63:0] xa_q, wa_q, ya_q, da_q;
  logic [31:0] xs_q, ws_q, ys_q, ds_q;

  // Derived sizes (StHeads, StSize).
  logic [15:0] dh_q, dh_d;              // d_head
  logic [15:0] dw, fw, hw;              // words per row of d, of f, per head row
  logic [63:0] x_bytes_q, img_bytes_q, dec_bytes_q, prm_bytes_q, wgt_bytes_q, pw_bytes_q;
  logic [31:0] dwd_q, fwd_q, hwd_q;     // words of a d x d matrix, of FFN1 (= FFN2), of a head
  logic [31:0] pwd_q;                   // PW words: 2 d^2 / P
  assign dw = d_q >> $clog2(Lanes);
  assign fw = f_q >> $clog2(Lanes);
  assign hw = dh_q >> $clog2(Lanes);
  logic [15:0] pw_dw;                   // predictor beats per row of d
  assign pw_dw = d_q >> $clog2(PredLanes);

  // Header scalars.
  logic [HdrW-1:0] hdr_q;
  function automatic logic [15:0] hdr_mult(input logic [HdrW-1:0] h, input int i);
    hdr_mult = h[32*i +: 16];
  endfunction
  function automatic logic [5:0] hdr_shift(input logic [HdrW-1:0] h, input int i);
    hdr_shift = h[32*i + 16 +: 6];
  endfunction

  // Valid rows and all rows as masks.
  logic [NMax-1:0] valid_mask, tok_mask;
  always_comb begin
    for (int i = 0; i < NMax; i++) begin
      valid_mask[i] = (i < 32'(n_val_q));
      tok_mask[i]   = (i < 32'(n_tok_q));
    end
  end

  // The lowest set bit of a row list (0 for an empty list): the next row a writer or copy
  // takes, in the order the sources send them.
  function automatic logic [IdxW-1:0] lowest(input logic [NMax-1:0] v);
    lowest = '0;
    for (int r = NMax - 1; r >= 0; r--) if (v[r]) lowest = IdxW'(r);
  endfunction

  function automatic logic [NW-1:0] popcount(input logic [NMax-1:0] v);
    popcount = '0;
    for (int i = 0; i < NMax; i++) popcount = popcount + NW'(v[i]);
  endfunction

  // ---- Decisions -----------------------------------------------------------------------------
  // Per head: anchor rows, needed K/V columns, each row's anchor; per token: own token anchor
  // and its anchor. The SPA masks live in a RAM (u_spa). Written by the predictor (SPLS); in
  // dense mode the flags are set to the dense decision at StPredict, and the masks and anchor
  // indices are read as the dense ones (every valid key, the row itself).
  logic [HMax*NMax-1:0] anc_q, kv_q;
  logic [IdxW-1:0]      anch_q [HMax*NMax];
  logic [NMax-1:0]      tok_q;
  logic [IdxW-1:0]      tokt_q [NMax];
  logic [HeadW:0]       dec_heads_q;    // heads decided so far
  logic                 pred_done_q;    // token anchors complete

  logic [NMax-1:0] anc_h, kv_h, ffn_list;
  assign anc_h    = anc_q[NMax*head_q +: NMax];
  assign kv_h     = kv_q[NMax*head_q +: NMax];
  assign ffn_list = reuse_q ? tok_q : valid_mask;

  // Outputs of the stream sources that a use does not need (see the unused signal below).
  logic [IdxW*11-1:0] nc_rd_row;
  logic [IdxW*8-1:0] nc_row;
  logic [12-1:0] nc_last;
  logic [11-1:0] nc_side;
  logic nc_acc_ready;

  // ---- Engines -------------------------------------------------------------------------------
  // Predictor
  logic pred_start, pred_busy, pred_done, pred_err;
  esact_pkg::pred_err_e pred_err_code;
  logic pred_x_valid, pred_x_ready, pred_w_valid, pred_w_ready;
  logic [PredLanes*8-1:0] pred_x_data;
  logic [PwW-1:0]  pred_w_word;
  logic pred_row_valid, pred_kv_valid, pred_tok_valid;
  logic [HeadW-1:0] pred_row_head, pred_kv_head;
  logic [IdxW-1:0]  pred_row_idx, pred_row_anchor, pred_tok_idx, pred_tok_anchor;
  logic [NMax-1:0]  pred_row_mask, pred_kv_mask;

  esact_predictor #(
    .Lanes(PredLanes), .NMax(NMax), .DMax(DMax), .DhMax(DhMax), .HMax(HMax), .KMax(KMax),
    .WMax(WMax)
  ) u_predictor (
    .clk_i, .rst_ni,
    .cfg_n_valid_i($clog2(NMax+1)'(n_val_q)), .cfg_d_model_i($clog2(DMax+1)'(d_q)),
    .cfg_d_head_i($clog2(DhMax+1)'(dh_q)), .cfg_heads_i($clog2(HMax+1)'(heads_q)),
    .cfg_k_i($clog2(KMax+1)'(k_q)), .cfg_w_i($clog2(WMax+1)'(w_q)),
    .cfg_t_i($clog2(NMax+1)'(t_q)), .cfg_bits_i(bits_q),
    .cfg_round_i(round_q),
    .cfg_q_shift_i(hdr_q[32*12 +: 5]), .cfg_k_shift_i(hdr_q[32*12 + 8 +: 5]),
    .start_i(pred_start), .busy_o(pred_busy), .done_o(pred_done), .err_o(pred_err),
    .err_code_o(pred_err_code),
    .x_valid_i(pred_x_valid), .x_ready_o(pred_x_ready), .x_data_i(pred_x_data),
    .w_valid_i(pred_w_valid), .w_ready_o(pred_w_ready),
    .w_data_i(pred_w_word[32 +: 5*PredLanes]), .w_bias_i(pred_w_word[31:0]),
    .row_valid_o(pred_row_valid), .row_ready_i(1'b1), .row_head_o(pred_row_head),
    .row_idx_o(pred_row_idx), .row_anchor_o(pred_row_anchor), .row_mask_o(pred_row_mask),
    .kv_valid_o(pred_kv_valid), .kv_ready_i(1'b1), .kv_head_o(pred_kv_head),
    .kv_mask_o(pred_kv_mask),
    .tok_valid_o(pred_tok_valid), .tok_ready_i(1'b1), .tok_idx_o(pred_tok_idx),
    .tok_anchor_o(pred_tok_anchor)
  );

  // GEMM
  localparam int unsigned CtW = ($clog2(DffMax / Lanes) > 1) ? $clog2(DffMax / Lanes) : 1;
  logic gemm_start, gemm_busy, gemm_done, gemm_err;
  esact_pkg::gemm_err_e gemm_err_code;
  logic [NW-1:0]   gemm_n_rows;
  logic [15:0]     gemm_in, gemm_out;
  logic [15:0]     gemm_mult;
  logic [5:0]      gemm_shift;
  logic gx_valid, gx_ready, gw_valid, gw_ready, gb_valid, gb_ready, gy_valid;
  logic [IdxW-1:0] gx_row, gy_row;
  logic [ActW-1:0] gx_data, gw_data, gy_data;
  logic [PrmW-1:0] gb_data;
  logic [CtW-1:0]  gy_tile;

  esact_gemm #(
    .Rows(GemmRows), .Cols(Lanes), .KMax(DffMax), .NOutMax(DffMax), .NRowsMax(NMax),
    .XLanes(Lanes)
  ) u_gemm (
    .clk_i, .rst_ni,
    .cfg_n_rows_i(gemm_n_rows), .cfg_in_i($clog2(DffMax+1)'(gemm_in)),
    .cfg_out_i($clog2(DffMax+1)'(gemm_out)), .cfg_mult_i(gemm_mult), .cfg_shift_i(gemm_shift),
    .start_i(gemm_start), .busy_o(gemm_busy), .done_o(gemm_done), .err_o(gemm_err),
    .err_code_o(gemm_err_code),
    .x_valid_i(gx_valid), .x_ready_o(gx_ready), .x_row_i(gx_row), .x_data_i(gx_data),
    .w_valid_i(gw_valid), .w_ready_o(gw_ready), .w_data_i(gw_data),
    .b_valid_i(gb_valid), .b_ready_o(gb_ready), .b_data_i(gb_data),
    .y_valid_o(gy_valid), .y_ready_i(1'b1), .y_row_o(gy_row), .y_col_tile_o(gy_tile),
    .y_data_o(gy_data)
  );

  // Attention
  logic attn_start, attn_busy, attn_done, attn_err;
  esact_pkg::attn_err_e attn_err_code;
  logic kv_valid, kv_ready, aq_valid, aq_ready, ctx_valid, ctx_ready;
  logic k_valid, v_valid;
  logic [IdxW-1:0] k_row, q_row, ctx_idx;
  logic [DhMax*8-1:0] k_data, v_data, q_data, ctx_data;
  logic [NMax-1:0] q_mask;

  esact_attn #(.NMax(NMax), .DhMax(DhMax), .Lanes(AttnLanes)) u_attn (
    .clk_i, .rst_ni,
    .cfg_n_valid_i(NW'(n_val_q)), .cfg_d_head_i($clog2(DhMax+1)'(dh_q)),
    .cfg_n_kv_i(popcount(kv_h)), .cfg_n_rows_i(popcount(anc_h)),
    .cfg_sm_mult_i(hdr_mult(hdr_q, 6)), .cfg_sm_shift_i(hdr_shift(hdr_q, 6)),
    .cfg_ctx_mult_i(hdr_mult(hdr_q, 7)), .cfg_ctx_shift_i(hdr_shift(hdr_q, 7)),
    .start_i(attn_start), .busy_o(attn_busy), .done_o(attn_done), .err_o(attn_err),
    .err_code_o(attn_err_code),
    .kv_valid_i(kv_valid), .kv_ready_o(kv_ready), .kv_idx_i(k_row), .kv_k_i(k_data),
    .kv_v_i(v_data),
    .q_valid_i(aq_valid), .q_ready_o(aq_ready), .q_idx_i(q_row), .q_data_i(q_data),
    .q_mask_i(q_mask),
    .ctx_valid_o(ctx_valid), .ctx_ready_i(ctx_ready), .ctx_idx_o(ctx_idx),
    .ctx_data_o(ctx_data)
  );
  // K and V of a column travel in one beat: join the two sources.
  assign kv_valid = k_valid && v_valid;

  // Vector unit
  logic vec_start, vec_busy, vec_done, vec_err;
  esact_pkg::vec_err_e vec_err_code;
  esact_pkg::vec_mode_e vec_mode;
  logic [15:0] vec_d, vec_rows, vec_mult, vec_ra, vec_rb;
  logic [5:0]  vec_shift;
  logic vp_valid, vp_ready, va_valid, va_ready, vb_valid, vb_ready, vo_valid, vo_last;
  logic [PrmW-1:0] vp_data;
  logic [ActW-1:0] va_data, vb_data, vo_data;

  esact_vec #(.Lanes(Lanes), .DMax(DffMax)) u_vec (
    .clk_i, .rst_ni,
    .cfg_mode_i(vec_mode), .cfg_d_i($clog2(DffMax+1)'(vec_d)), .cfg_n_rows_i(vec_rows),
    .cfg_load_i(1'b1), .cfg_mult_i(vec_mult), .cfg_shift_i(vec_shift),
    .cfg_res_mult_a_i(vec_ra), .cfg_res_mult_b_i(vec_rb),
    .start_i(vec_start), .busy_o(vec_busy), .done_o(vec_done), .err_o(vec_err),
    .err_code_o(vec_err_code),
    .prm_valid_i(vp_valid), .prm_ready_o(vp_ready), .prm_data_i(vp_data),
    .a_valid_i(va_valid), .a_ready_o(va_ready), .a_data_i(va_data),
    .b_valid_i(vb_valid), .b_ready_o(vb_ready), .b_data_i(vb_data),
    .acc_valid_i(1'b0), .acc_ready_o(nc_acc_ready), .acc_data_i('0),
    .out_valid_o(vo_valid), .out_ready_i(1'b1), .out_data_o(vo_data), .out_last_o(vo_last)
  );

  // DMA
  logic dma_rd_cmd_valid, dma_rd_cmd_ready, dma_rd_valid, dma_rd_last, dma_rd_done, dma_rd_err;
  logic dma_wr_cmd_valid, dma_wr_cmd_ready, dma_wr_valid, dma_wr_ready, dma_wr_done, dma_wr_err;
  logic [AddrW-1:0] dma_rd_addr, dma_rd_len, dma_wr_addr, dma_wr_len;
  logic [DataW-1:0] dma_rd_data, dma_wr_data;
  logic dma_rd_busy, dma_wr_busy;
  logic [31:0] st_ar, st_r, st_aw, st_w, st_b;

  esact_dma #(
    .AddrW(AddrW), .DataW(DataW), .MaxBurst(MaxBurst), .IdW(1), .CntW(32)
  ) u_dma (
    .clk_i, .rst_ni,
    .rd_cmd_valid_i(dma_rd_cmd_valid), .rd_cmd_ready_o(dma_rd_cmd_ready),
    .rd_cmd_addr_i(dma_rd_addr), .rd_cmd_len_i(dma_rd_len),
    .rd_valid_o(dma_rd_valid), .rd_ready_i(1'b1), .rd_data_o(dma_rd_data),
    .rd_last_o(dma_rd_last), .rd_busy_o(dma_rd_busy), .rd_done_o(dma_rd_done),
    .rd_err_o(dma_rd_err),
    .wr_cmd_valid_i(dma_wr_cmd_valid), .wr_cmd_ready_o(dma_wr_cmd_ready),
    .wr_cmd_addr_i(dma_wr_addr), .wr_cmd_len_i(dma_wr_len),
    .wr_valid_i(dma_wr_valid), .wr_ready_o(dma_wr_ready), .wr_data_i(dma_wr_data),
    .wr_busy_o(dma_wr_busy), .wr_done_o(dma_wr_done), .wr_err_o(dma_wr_err),
    .m_arvalid_o, .m_arready_i, .m_arid_o, .m_araddr_o, .m_arlen_o, .m_arsize_o, .m_arburst_o,
    .m_rvalid_i, .m_rready_o, .m_rid_i, .m_rdata_i, .m_rresp_i, .m_rlast_i,
    .m_awvalid_o, .m_awready_i, .m_awid_o, .m_awaddr_o, .m_awlen_o, .m_awsize_o,
    .m_awburst_o, .m_wvalid_o, .m_wready_i, .m_wdata_o, .m_wstrb_o, .m_wlast_o,
    .m_bvalid_i, .m_bready_o, .m_bid_i, .m_bresp_i,
    .stall_ar_o(st_ar), .stall_r_o(st_r), .stall_aw_o(st_aw), .stall_w_o(st_w),
    .stall_b_o(st_b)
  );

  // ---- Buffers -------------------------------------------------------------------------------
  // Activation buffers X Q K V C A H F (NMax rows of d) and G (NMax rows of d_ff): row r,
  // word w at r * (words per row) + w. Ports as flat buses indexed by buf_e. X has a second
  // read port for the predictor, which reads X while the engines do.
  logic [NBuf-1:0]      ab_rd_en, ab_wr_en;
  logic [NBuf*AAW-1:0]  ab_rd_addr, ab_wr_addr;
  logic [NBuf*ActW-1:0] ab_rd_data, ab_wr_data;
  logic                 px_rd_en;
  logic [AAW-1:0]       px_rd_addr;
  logic [ActW-1:0]      px_rd_data;

  esact_ram #(.Words(XWords), .Width(ActW), .Reads(2), .AddrW(AAW)) u_buf_x (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufX]), .wr_addr_i(ab_wr_addr[AAW*BufX +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufX +: ActW]),
    .rd_en_i({px_rd_en, ab_rd_en[BufX]}), .rd_addr_i({px_rd_addr, ab_rd_addr[AAW*BufX +: AAW]}),
    .rd_data_o({px_rd_data, ab_rd_data[ActW*BufX +: ActW]})
  );
  esact_ram #(.Words(GWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_g (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufG]), .wr_addr_i(ab_wr_addr[AAW*BufG +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufG +: ActW]),
    .rd_en_i(ab_rd_en[BufG]), .rd_addr_i(ab_rd_addr[AAW*BufG +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufG +: ActW])
  );
  // Q, K, V, C, A, H and F: one read port each.
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_q (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufQ]), .wr_addr_i(ab_wr_addr[AAW*BufQ +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufQ +: ActW]),
    .rd_en_i(ab_rd_en[BufQ]), .rd_addr_i(ab_rd_addr[AAW*BufQ +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufQ +: ActW])
  );
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_k (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufK]), .wr_addr_i(ab_wr_addr[AAW*BufK +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufK +: ActW]),
    .rd_en_i(ab_rd_en[BufK]), .rd_addr_i(ab_rd_addr[AAW*BufK +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufK +: ActW])
  );
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_v (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufV]), .wr_addr_i(ab_wr_addr[AAW*BufV +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufV +: ActW]),
    .rd_en_i(ab_rd_en[BufV]), .rd_addr_i(ab_rd_addr[AAW*BufV +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufV +: ActW])
  );
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_c (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufC]), .wr_addr_i(ab_wr_addr[AAW*BufC +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufC +: ActW]),
    .rd_en_i(ab_rd_en[BufC]), .rd_addr_i(ab_rd_addr[AAW*BufC +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufC +: ActW])
  );
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_a (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufA]), .wr_addr_i(ab_wr_addr[AAW*BufA +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufA +: ActW]),
    .rd_en_i(ab_rd_en[BufA]), .rd_addr_i(ab_rd_addr[AAW*BufA +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufA +: ActW])
  );
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_h (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufH]), .wr_addr_i(ab_wr_addr[AAW*BufH +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufH +: ActW]),
    .rd_en_i(ab_rd_en[BufH]), .rd_addr_i(ab_rd_addr[AAW*BufH +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufH +: ActW])
  );
  esact_ram #(.Words(XWords), .Width(ActW), .Reads(1), .AddrW(AAW)) u_buf_f (
    .clk_i, .rst_ni,
    .wr_en_i(ab_wr_en[BufF]), .wr_addr_i(ab_wr_addr[AAW*BufF +: AAW]),
    .wr_data_i(ab_wr_data[ActW*BufF +: ActW]),
    .rd_en_i(ab_rd_en[BufF]), .rd_addr_i(ab_rd_addr[AAW*BufF +: AAW]),
    .rd_data_o(ab_rd_data[ActW*BufF +: ActW])
  );

  // Weight buffers, filled by the loader only.
  logic ld_prm_we, ld_wgt_we, ld_pw_we;
  logic [AsmW-1:0] ld_word;
  logic [31:0]     ld_addr_q;
  logic prm_rd_en, wgt_rd_en, pw_rd_en;
  logic [PrmAW-1:0] prm_rd_addr;
  logic [WgtAW-1:0] wgt_rd_addr;
  logic [PwAW-1:0]  pw_rd_addr;
  logic [PrmW-1:0]  prm_rd_data;
  logic [ActW-1:0]  wgt_rd_data;
  logic [PwW-1:0]   pw_rd_data;

  esact_ram #(.Words(PrmWords), .Width(PrmW), .Reads(1), .AddrW(PrmAW)) u_prm (
    .clk_i, .rst_ni, .wr_en_i(ld_prm_we), .wr_addr_i(PrmAW'(ld_addr_q)),
    .wr_data_i(ld_word[PrmW-1:0]), .rd_en_i(prm_rd_en), .rd_addr_i(prm_rd_addr),
    .rd_data_o(prm_rd_data)
  );
  esact_ram #(.Words(WgtWords), .Width(ActW), .Reads(1), .AddrW(WgtAW)) u_wgt (
    .clk_i, .rst_ni, .wr_en_i(ld_wgt_we), .wr_addr_i(WgtAW'(ld_addr_q)),
    .wr_data_i(ld_word[ActW-1:0]), .rd_en_i(wgt_rd_en), .rd_addr_i(wgt_rd_addr),
    .rd_data_o(wgt_rd_data)
  );
  esact_ram #(.Words(PwWords), .Width(PwW), .Reads(1), .AddrW(PwAW)) u_pw (
    .clk_i, .rst_ni, .wr_en_i(ld_pw_we), .wr_addr_i(PwAW'(ld_addr_q)),
    .wr_data_i(ld_word[PwW-1:0]), .rd_en_i(pw_rd_en), .rd_addr_i(pw_rd_addr),
    .rd_data_o(pw_rd_data)
  );

  // SPA masks: entry {head, row}.
  logic spa_we, spa_rd_en;
  logic [SpaAW-1:0] spa_rd_addr;
  logic [NMax-1:0]  spa_rd_data;
  esact_ram #(.Words(1 << SpaAW), .Width(NMax), .Reads(1), .AddrW(SpaAW)) u_spa (
    .clk_i, .rst_ni, .wr_en_i(spa_we), .wr_addr_i({pred_row_head, pred_row_idx}),
    .wr_data_i(pred_row_mask), .rd_en_i(spa_rd_en), .rd_addr_i(spa_rd_addr),
    .rd_data_o(spa_rd_data)
  );
  assign spa_we = pred_row_valid;

  // ---- Stream sources (esact_rowsrc) ---------------------------------------------------------
  // Each source is started (step 0) one cycle before its unit, so no stale beat is taken.
  // Each phase restarts only the sources it uses; a finished source stays quiet (a GEMM
  // weight or bias source may hold two words it offered too many: it issues no read then).
  logic gsrc_start, asrc_start, vsrc_start, vbsrc_start;
  logic [NMax-1:0] one_row; // a list of one row: a linear region
  logic [NMax-1:0] all_rows;
  assign one_row  = NMax'(1);
  assign all_rows = '1;

  // Predictor X (X buffer, second port) and W (PW buffer).
  logic px_start;
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW), .Group(PGroup)) u_src_px (
    .clk_i, .rst_ni, .start_i(px_start), .cfg_list_i(valid_mask), .cfg_base_i('0),
    .cfg_stride_i(AAW'(dw)), .cfg_words_i((AAW+1)'(dw)),
    .cfg_group_i($clog2(PGroup+1)'(PGroup)),
    .rd_en_o(px_rd_en), .rd_addr_o(px_rd_addr), .rd_row_o(nc_rd_row[IdxW*0 +: IdxW]),
    .rd_data_i(px_rd_data),
    .rd_side_i(1'b0), .valid_o(pred_x_valid), .ready_i(pred_x_ready), .data_o(pred_x_data),
    .side_o(nc_side[0]),
    .row_o(nc_row[IdxW*0 +: IdxW]), .last_o(nc_last[0])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(PwAW), .WordW(PwW)) u_src_pw (
    .clk_i, .rst_ni, .start_i(px_start), .cfg_list_i(one_row), .cfg_base_i('0),
    .cfg_stride_i('0), .cfg_words_i((PwAW+1)'(pwd_q)), .cfg_group_i(1'b1),
    .rd_en_o(pw_rd_en), .rd_addr_o(pw_rd_addr), .rd_row_o(nc_rd_row[IdxW*1 +: IdxW]),
    .rd_data_i(pw_rd_data),
    .rd_side_i(1'b0), .valid_o(pred_w_valid), .ready_i(pred_w_ready), .data_o(pred_w_word),
    .side_o(nc_side[1]),
    .row_o(nc_row[IdxW*1 +: IdxW]), .last_o(nc_last[1])
  );

  // GEMM X, W, B. The phase picks the X buffer, the list and the regions (below).
  buf_e gx_buf;
  logic [NMax-1:0] g_list;
  logic [15:0] gx_stride;
  logic [31:0] gw_base, gw_words, gb_base;
  logic gx_rd_en, gb_rd_en;
  logic [AAW-1:0] gx_rd_addr;
  logic [PrmAW-1:0] gb_rd_addr;
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW)) u_src_gx (
    .clk_i, .rst_ni, .start_i(gsrc_start), .cfg_list_i(g_list), .cfg_base_i('0),
    .cfg_stride_i(AAW'(gx_stride)), .cfg_words_i((AAW+1)'(gemm_in >> $clog2(Lanes))),
    .cfg_group_i(1'b1),
    .rd_en_o(gx_rd_en), .rd_addr_o(gx_rd_addr), .rd_row_o(nc_rd_row[IdxW*2 +: IdxW]),
    .rd_data_i(ab_rd_data[ActW*gx_buf +: ActW]), .rd_side_i(1'b0),
    .valid_o(gx_valid), .ready_i(gx_ready), .data_o(gx_data), .side_o(nc_side[2]), .row_o(gx_row),
    .last_o(nc_last[2])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(WgtAW), .WordW(ActW)) u_src_gw (
    .clk_i, .rst_ni, .start_i(gsrc_start), .cfg_list_i(all_rows), .cfg_base_i(WgtAW'(gw_base)),
    .cfg_stride_i('0), .cfg_words_i((WgtAW+1)'(gw_words)), .cfg_group_i(1'b1),
    .rd_en_o(wgt_rd_en), .rd_addr_o(wgt_rd_addr), .rd_row_o(nc_rd_row[IdxW*3 +: IdxW]),
    .rd_data_i(wgt_rd_data),
    .rd_side_i(1'b0), .valid_o(gw_valid), .ready_i(gw_ready), .data_o(gw_data), .side_o(nc_side[3]),
    .row_o(nc_row[IdxW*2 +: IdxW]), .last_o(nc_last[3])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(PrmAW), .WordW(PrmW)) u_src_gb (
    .clk_i, .rst_ni, .start_i(gsrc_start), .cfg_list_i(all_rows), .cfg_base_i(PrmAW'(gb_base)),
    .cfg_stride_i('0), .cfg_words_i((PrmAW+1)'(gemm_out >> $clog2(Lanes))), .cfg_group_i(1'b1),
    .rd_en_o(gb_rd_en), .rd_addr_o(gb_rd_addr), .rd_row_o(nc_rd_row[IdxW*4 +: IdxW]),
    .rd_data_i(prm_rd_data),
    .rd_side_i(1'b0), .valid_o(gb_valid), .ready_i(gb_ready), .data_o(gb_data), .side_o(nc_side[4]),
    .row_o(nc_row[IdxW*3 +: IdxW]), .last_o(nc_last[4])
  );

  // Vector unit parameters (PRM), a and b rows.
  buf_e va_buf, vb_buf;
  logic [NMax-1:0] v_list;
  logic [15:0] v_stride;
  logic [31:0] vp_base, vp_words;
  logic vp_rd_en, va_rd_en, vb_rd_en;
  logic [PrmAW-1:0] vp_rd_addr;
  logic [AAW-1:0] va_rd_addr, vb_rd_addr;
  esact_rowsrc #(.NMax(NMax), .AddrW(PrmAW), .WordW(PrmW)) u_src_vp (
    .clk_i, .rst_ni, .start_i(vsrc_start), .cfg_list_i(one_row), .cfg_base_i(PrmAW'(vp_base)),
    .cfg_stride_i('0), .cfg_words_i((PrmAW+1)'(vp_words)), .cfg_group_i(1'b1),
    .rd_en_o(vp_rd_en), .rd_addr_o(vp_rd_addr), .rd_row_o(nc_rd_row[IdxW*5 +: IdxW]),
    .rd_data_i(prm_rd_data),
    .rd_side_i(1'b0), .valid_o(vp_valid), .ready_i(vp_ready), .data_o(vp_data), .side_o(nc_side[5]),
    .row_o(nc_row[IdxW*4 +: IdxW]), .last_o(nc_last[5])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW)) u_src_va (
    .clk_i, .rst_ni, .start_i(vsrc_start), .cfg_list_i(v_list), .cfg_base_i('0),
    .cfg_stride_i(AAW'(v_stride)), .cfg_words_i((AAW+1)'(v_stride)), .cfg_group_i(1'b1),
    .rd_en_o(va_rd_en), .rd_addr_o(va_rd_addr), .rd_row_o(nc_rd_row[IdxW*6 +: IdxW]),
    .rd_data_i(ab_rd_data[ActW*va_buf +: ActW]), .rd_side_i(1'b0),
    .valid_o(va_valid), .ready_i(va_ready), .data_o(va_data), .side_o(nc_side[6]),
    .row_o(nc_row[IdxW*5 +: IdxW]), .last_o(nc_last[6])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW)) u_src_vb (
    .clk_i, .rst_ni, .start_i(vbsrc_start), .cfg_list_i(v_list), .cfg_base_i('0),
    .cfg_stride_i(AAW'(v_stride)), .cfg_words_i((AAW+1)'(v_stride)), .cfg_group_i(1'b1),
    .rd_en_o(vb_rd_en), .rd_addr_o(vb_rd_addr), .rd_row_o(nc_rd_row[IdxW*7 +: IdxW]),
    .rd_data_i(ab_rd_data[ActW*vb_buf +: ActW]), .rd_side_i(1'b0),
    .valid_o(vb_valid), .ready_i(vb_ready), .data_o(vb_data), .side_o(nc_side[7]),
    .row_o(nc_row[IdxW*6 +: IdxW]), .last_o(nc_last[7])
  );
  assign prm_rd_en   = gb_rd_en || vp_rd_en;
  assign prm_rd_addr = gb_rd_en ? gb_rd_addr : vp_rd_addr;

  // Attention K, V (needed columns) and Q (anchor rows, with the SPA mask as side word):
  // one beat = the head's dh/L words of a row.
  logic sk_rd_en, sv_rd_en, sq_rd_en;
  logic [AAW-1:0] sk_rd_addr, sv_rd_addr, sq_rd_addr;
  logic [IdxW-1:0] sq_rd_row;
  logic [NMax-1:0] q_side;
  logic [$clog2(HwMax+1)-1:0] hw_group;
  assign hw_group = $clog2(HwMax+1)'(hw);
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW), .Group(HwMax)) u_src_k (
    .clk_i, .rst_ni, .start_i(asrc_start), .cfg_list_i(kv_h), .cfg_base_i(AAW'(head_q * hw)),
    .cfg_stride_i(AAW'(dw)), .cfg_words_i((AAW+1)'(hw)), .cfg_group_i(hw_group),
    .rd_en_o(sk_rd_en), .rd_addr_o(sk_rd_addr), .rd_row_o(nc_rd_row[IdxW*8 +: IdxW]),
    .rd_data_i(ab_rd_data[ActW*BufK +: ActW]), .rd_side_i(1'b0),
    .valid_o(k_valid), .ready_i(kv_ready && v_valid), .data_o(k_data), .side_o(nc_side[8]),
    .row_o(k_row), .last_o(nc_last[8])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW), .Group(HwMax)) u_src_v (
    .clk_i, .rst_ni, .start_i(asrc_start), .cfg_list_i(kv_h), .cfg_base_i(AAW'(head_q * hw)),
    .cfg_stride_i(AAW'(dw)), .cfg_words_i((AAW+1)'(hw)), .cfg_group_i(hw_group),
    .rd_en_o(sv_rd_en), .rd_addr_o(sv_rd_addr), .rd_row_o(nc_rd_row[IdxW*9 +: IdxW]),
    .rd_data_i(ab_rd_data[ActW*BufV +: ActW]), .rd_side_i(1'b0),
    .valid_o(v_valid), .ready_i(kv_ready && k_valid), .data_o(v_data), .side_o(nc_side[9]),
    .row_o(nc_row[IdxW*7 +: IdxW]), .last_o(nc_last[9])
  );
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW), .Group(HwMax), .SideW(NMax)) u_src_q (
    .clk_i, .rst_ni, .start_i(asrc_start), .cfg_list_i(anc_h), .cfg_base_i(AAW'(head_q * hw)),
    .cfg_stride_i(AAW'(dw)), .cfg_words_i((AAW+1)'(hw)), .cfg_group_i(hw_group),
    .rd_en_o(sq_rd_en), .rd_addr_o(sq_rd_addr), .rd_row_o(sq_rd_row),
    .rd_data_i(ab_rd_data[ActW*BufQ +: ActW]), .rd_side_i(q_side),
    .valid_o(aq_valid), .ready_i(aq_ready), .data_o(q_data), .side_o(q_mask),
    .row_o(q_row), .last_o(nc_last[10])
  );
  assign q_side = spls_q ? spa_rd_data : valid_mask;

  // Store: Y (in buffer A), every row; padded rows leave as zeros.
  logic st_start, st_valid, st_ready, st_rd_en;
  logic [AAW-1:0]  st_rd_addr;
  logic [ActW-1:0] st_data;
  logic [IdxW-1:0] st_row;
  esact_rowsrc #(.NMax(NMax), .AddrW(AAW), .WordW(ActW)) u_src_st (
    .clk_i, .rst_ni, .start_i(st_start), .cfg_list_i(tok_mask), .cfg_base_i('0),
    .cfg_stride_i(AAW'(dw)), .cfg_words_i((AAW+1)'(dw)), .cfg_group_i(1'b1),
    .rd_en_o(st_rd_en), .rd_addr_o(st_rd_addr), .rd_row_o(nc_rd_row[IdxW*10 +: IdxW]),
    .rd_data_i(ab_rd_data[ActW*BufA +: ActW]), .rd_side_i(1'b0),
    .valid_o(st_valid), .ready_i(st_ready), .data_o(st_data), .side_o(nc_side[10]), .row_o(st_row),
    .last_o(nc_last[11])
  );

  // ---- Sinks ---------------------------------------------------------------------------------
  // GEMM Y: the phase's destination buffer, its row length in words, the column offset.
  buf_e gy_buf;
  logic [15:0] gy_col, gy_stride;
  assign gy_stride = (gy_buf == BufG) ? fw : dw;
  // Context writer: a beat leaves as dh/L word writes into C.
  logic cw_busy_q;
  logic [IdxW-1:0] cw_row_q;
  logic [15:0] cw_w_q;
  logic [DhMax*8-1:0] cw_data_q;
  assign ctx_ready = !cw_busy_q;
  // Vector output writer: rows of the phase's list, in order.
  buf_e vo_buf;
  logic [NMax-1:0] vo_rem_q;
  logic [15:0] vo_w_q;
  logic [IdxW-1:0] vo_row;
  assign vo_row = lowest(vo_rem_q);
  // Row copies (reused rows take their anchor's row): list, buffer, columns.
  logic cp_start;
  buf_e cp_buf;
  logic [NMax-1:0] cp_list, cp_rem_q;
  logic [15:0] cp_col, cp_words, cp_w_q;
  logic [IdxW-1:0] cp_row, cp_src;
  logic cp_rd, cp_wr_q;
  logic [AAW-1:0] cp_wr_addr_q;
  assign cp_row = lowest(cp_rem_q);
  assign cp_src = (state_q == StHeadCopy) ? anch_q[NMax*32'(head_q) + 32'(cp_row)] : tokt_q[cp_row];
  assign cp_rd  = |cp_rem_q;

  // Loader: DMA read beats assembled into the current section's words.
  logic [$clog2(MaxBpw+1)-1:0] ld_bc_q, ld_bpw;
  logic [AsmW-1:0] ld_asm_q;
  logic ld_beat;
  assign ld_beat = dma_rd_valid && (state_q == StLoad);
  always_comb begin
    unique case (sec_q)
      SecHdr:  ld_bpw = $bits(ld_bpw)'(HdrW / DataW);
      SecPrm:  ld_bpw = $bits(ld_bpw)'(PrmW / DataW);
      SecPw:   ld_bpw = $bits(ld_bpw)'(PwW / DataW);
      default: ld_bpw = $bits(ld_bpw)'(ActW / DataW);
    endcase
    ld_word = ld_asm_q;
    ld_word[DataW*ld_bc_q +: DataW] = dma_rd_data;
  end
  logic ld_word_done;
  assign ld_word_done = ld_beat && (ld_bc_q == ld_bpw - 1'b1);
  assign ld_prm_we = ld_word_done && (sec_q == SecPrm);
  assign ld_wgt_we = ld_word_done && (sec_q == SecWgt);
  assign ld_pw_we  = ld_word_done && (sec_q == SecPw);

  // Store Y: one activation word to ActW/DataW beats.
  logic [$clog2(ActW/DataW+1)-1:0] sy_bc_q;
  // Store decisions: per (head, row) fetch the SPA mask, build the record, send it DataW
  // bits at a time.
  typedef enum logic [1:0] { RecIdle, RecFetch, RecBuild, RecSend } rec_e;
  rec_e rec_st_q;
  logic [RecW-1:0] rec_q;
  logic [$clog2(RecW/DataW+1)-1:0] rec_bc_q;
  logic [HeadW-1:0] rec_h_q;
  logic [IdxW-1:0]  rec_i_q;
  logic rec_fetch;
  assign rec_fetch = rec_st_q == RecFetch;

  // ---- Phase configuration -------------------------------------------------------------------
  // What each phase runs: GEMM shape, lists, regions and buffers, vector unit mode.
  // WGT word bases: Q, K, V, O at m*dwd, FFN1 at 4 dwd, FFN2 at 4 dwd + fwd.
  // PRM word bases: biases q, k, v, o at m*dw, ffn1 at 4 dw, ffn2 at 4 dw + fw, LN1 gamma,
  // beta, LN2 gamma, beta at (5..8) dw + fw, LUT at 9 dw + fw.
  always_comb begin
    gx_buf    = BufX;
    g_list    = '0;
    gx_stride = dw;
    gemm_in   = d_q;
    gemm_out  = d_q;
    gemm_mult = '0;
    gemm_shift = '0;
    gw_base   = '0;
    gw_words  = '0;
    gb_base   = '0;
    gy_buf    = BufQ;
    gy_col    = '0;
    unique case (state_q)
      StHeadQ, StHeadK, StHeadV: begin
        g_list   = (state_q == StHeadQ) ? anc_h : kv_h;
        gemm_out = dh_q;
        gy_col   = 16'(head_q * hw);
        gw_words = hwd_q;
        unique case (state_q)
          StHeadQ: begin
            gemm_mult = hdr_mult(hdr_q, 0); gemm_shift = hdr_shift(hdr_q, 0);
            gw_base = 32'(head_q) * hwd_q;
            gb_base = 32'(head_q * hw);
            gy_buf = BufQ;
          end
          StHeadK: begin
            gemm_mult = hdr_mult(hdr_q, 1); gemm_shift = hdr_shift(hdr_q, 1);
            gw_base = dwd_q + 32'(head_q) * hwd_q;
            gb_base = 32'(dw) + 32'(head_q * hw);
            gy_buf = BufK;
          end
          default: begin
            gemm_mult = hdr_mult(hdr_q, 2); gemm_shift = hdr_shift(hdr_q, 2);
            gw_base = 2 * dwd_q + 32'(head_q) * hwd_q;
            gb_base = 2 * 32'(dw) + 32'(head_q * hw);
            gy_buf = BufV;
          end
        endcase
      end
      StOut: begin
        gx_buf = BufC; g_list = tok_q;
        gemm_mult = hdr_mult(hdr_q, 3); gemm_shift = hdr_shift(hdr_q, 3);
        gw_base = 3 * dwd_q; gw_words = dwd_q; gb_base = 3 * 32'(dw);
        gy_buf = BufA;
      end
      StFfn1: begin
        gx_buf = BufH; g_list = ffn_list; gemm_out = f_q;
        gemm_mult = hdr_mult(hdr_q, 4); gemm_shift = hdr_shift(hdr_q, 4);
        gw_base = 4 * dwd_q; gw_words = fwd_q; gb_base = 4 * 32'(dw);
        gy_buf = BufG;
      end
      StFfn2: begin
        gx_buf = BufG; g_list = ffn_list; gx_stride = fw; gemm_in = f_q;
        gemm_mult = hdr_mult(hdr_q, 5); gemm_shift = hdr_shift(hdr_q, 5);
        gw_base = 4 * dwd_q + fwd_q; gw_words = fwd_q; gb_base = 4 * 32'(dw) + 32'(fw);
        gy_buf = BufF;
      end
      default: ;
    endcase
  end
  assign gemm_n_rows = popcount(g_list);

  always_comb begin
    vec_mode = esact_pkg::VEC_MODE_RESIDUAL_LN;
    vec_d    = d_q;
    v_list   = valid_mask;
    v_stride = dw;
    vec_mult = '0;
    vec_shift = '0;
    vec_ra   = '0;
    vec_rb   = '0;
    vp_base  = '0;
    vp_words = 2 * 32'(dw);
    va_buf   = BufX;
    vb_buf   = BufA;
    vo_buf   = BufH;
    unique case (state_q)
      StLn1: begin
        vec_mult = hdr_mult(hdr_q, 8); vec_shift = hdr_shift(hdr_q, 8);
        vec_ra = hdr_q[32*10 +: 16]; vec_rb = hdr_q[32*10 + 16 +: 16];
        vp_base = 5 * 32'(dw) + 32'(fw);
      end
      StGelu: begin
        vec_mode = esact_pkg::VEC_MODE_GELU;
        vec_d = f_q; v_list = ffn_list; v_stride = fw;
        vp_base = 9 * 32'(dw) + 32'(fw); vp_words = 256 / Lanes;
        va_buf = BufG; vo_buf = BufG;
      end
      StLn2: begin
        vec_mult = hdr_mult(hdr_q, 9); vec_shift = hdr_shift(hdr_q, 9);
        vec_ra = hdr_q[32*11 +: 16]; vec_rb = hdr_q[32*11 + 16 +: 16];
        vp_base = 7 * 32'(dw) + 32'(fw);
        va_buf = BufH; vb_buf = BufF; vo_buf = BufA;
      end
      default: ;
    endcase
  end
  assign vec_rows = 16'(popcount(v_list));

  always_comb begin
    cp_buf   = BufC;
    cp_list  = valid_mask & ~anc_h;
    cp_col   = 16'(head_q * hw);
    cp_words = hw;
    unique case (state_q)
      StOutCopy: begin
        cp_buf = BufA; cp_list = valid_mask & ~tok_q; cp_col = '0; cp_words = dw;
      end
      StFfnCopy: begin
        cp_buf = BufF; cp_list = valid_mask & ~tok_q; cp_col = '0; cp_words = dw;
      end
      default: ;
    endcase
  end

  // ---- Buffer port routing -------------------------------------------------------------------
  // At most one user drives each port in a cycle (asserted below).
  always_comb begin
    ab_rd_en   = '0;
    ab_rd_addr = '0;
    ab_wr_en   = '0;
    ab_wr_addr = '0;
    ab_wr_data = '0;
    if (gx_rd_en) begin
      ab_rd_en[gx_buf] = 1'b1; ab_rd_addr[AAW*gx_buf +: AAW] = gx_rd_addr;
    end
    if (va_rd_en) begin
      ab_rd_en[va_buf] = 1'b1; ab_rd_addr[AAW*va_buf +: AAW] = va_rd_addr;
    end
    if (vb_rd_en) begin
      ab_rd_en[vb_buf] = 1'b1; ab_rd_addr[AAW*vb_buf +: AAW] = vb_rd_addr;
    end
    if (sk_rd_en) begin
      ab_rd_en[BufK] = 1'b1; ab_rd_addr[AAW*BufK +: AAW] = sk_rd_addr;
    end
    if (sv_rd_en) begin
      ab_rd_en[BufV] = 1'b1; ab_rd_addr[AAW*BufV +: AAW] = sv_rd_addr;
    end
    if (sq_rd_en) begin
      ab_rd_en[BufQ] = 1'b1; ab_rd_addr[AAW*BufQ +: AAW] = sq_rd_addr;
    end
    if (st_rd_en) begin
      ab_rd_en[BufA] = 1'b1; ab_rd_addr[AAW*BufA +: AAW] = st_rd_addr;
    end
    if (cp_rd) begin
      ab_rd_en[cp_buf] = 1'b1;
      ab_rd_addr[AAW*cp_buf +: AAW] = AAW'(cp_src * dw) + AAW'(cp_col) + AAW'(cp_w_q);
    end
    // Writes
    if (ld_word_done && sec_q == SecX) begin
      ab_wr_en[BufX] = 1'b1; ab_wr_addr[AAW*BufX +: AAW] = AAW'(ld_addr_q);
      ab_wr_data[ActW*BufX +: ActW] = ld_word[ActW-1:0];
    end
    if (gy_valid) begin
      ab_wr_en[gy_buf] = 1'b1;
      ab_wr_addr[AAW*gy_buf +: AAW] = AAW'(gy_row * gy_stride) + AAW'(gy_col) + AAW'(gy_tile);
      ab_wr_data[ActW*gy_buf +: ActW] = gy_data;
    end
    if (cw_busy_q) begin
      ab_wr_en[BufC] = 1'b1;
      ab_wr_addr[AAW*BufC +: AAW] = AAW'(cw_row_q * dw) + AAW'(head_q * hw) + AAW'(cw_w_q);
      ab_wr_data[ActW*BufC +: ActW] = cw_data_q[ActW-1:0];
    end
    if (cp_wr_q) begin
      ab_wr_en[cp_buf] = 1'b1; ab_wr_addr[AAW*cp_buf +: AAW] = cp_wr_addr_q;
      ab_wr_data[ActW*cp_buf +: ActW] = ab_rd_data[ActW*cp_buf +: ActW];
    end
    if (vo_valid) begin
      ab_wr_en[vo_buf] = 1'b1;
      ab_wr_addr[AAW*vo_buf +: AAW] = AAW'(vo_row * v_stride) + AAW'(vo_w_q);
      ab_wr_data[ActW*vo_buf +: ActW] = vo_data;
    end
  end


  assign spa_rd_en   = sq_rd_en || rec_fetch;
  assign spa_rd_addr = rec_fetch ? {rec_h_q, rec_i_q} : {head_q, sq_rd_row};

  // ---- Store streams -------------------------------------------------------------------------
  always_comb begin
    dma_wr_valid = 1'b0;
    dma_wr_data  = '0;
    st_ready     = 1'b0;
    if (state_q == StStoreY && step_q == 2'd2) begin
      dma_wr_valid = st_valid;
      dma_wr_data  = (32'(st_row) < 32'(n_val_q)) ? st_data[DataW*sy_bc_q +: DataW] : '0;
      st_ready     = dma_wr_ready && (sy_bc_q == $bits(sy_bc_q)'(ActW / DataW - 1));
    end else if (state_q == StStoreDec && step_q == 2'd2) begin
      dma_wr_valid = rec_st_q == RecSend;
      dma_wr_data  = rec_q[DataW*rec_bc_q +: DataW];
    end
  end

  // ---- Sizes and checks ----------------------------------------------------------------------
  localparam logic [63:0] AddrTop = 64'(1) << AddrW;
  function automatic logic overlaps(input logic [63:0] a, input logic [63:0] al,
                                    input logic [63:0] b, input logic [63:0] bl);
    overlaps = (a < b + bl) && (b < a + al);
  endfunction
  function automatic logic bad_addr(input logic [63:0] a, input logic [63:0] len);
    bad_addr = (a >= AddrTop) || (a[$clog2(Bytes)-1:0] != '0) || (a + len > AddrTop);
  endfunction

  logic [7:0] field_err;
  always_comb begin
    field_err = esact_pkg::TOP_ERR_NONE;
    if (n_tok_q == 0 || 32'(n_tok_q) > NMax) field_err = esact_pkg::TOP_ERR_N_TOKENS;
    else if (n_val_q == 0 || n_val_q > n_tok_q) field_err = esact_pkg::TOP_ERR_N_VALID;
    else if (d_q == 0 || 32'(d_q) > DMax || d_q[$clog2(Lanes)-1:0] != '0)
      field_err = esact_pkg::TOP_ERR_D_MODEL;
    else if (heads_q == 0 || 32'(heads_q) > HMax) field_err = esact_pkg::TOP_ERR_HEADS;
    else if (f_q == 0 || 32'(f_q) > DffMax || f_q[$clog2(Lanes)-1:0] != '0)
      field_err = esact_pkg::TOP_ERR_D_FF;
    else if (spls_q && (k_q == 0 || 32'(k_q) > KMax || k_q > n_tok_q))
      field_err = esact_pkg::TOP_ERR_K;
    else if (spls_q && 32'(w_q) > WMax) field_err = esact_pkg::TOP_ERR_W;
    else if (spls_q && 32'(t_q) > NMax) field_err = esact_pkg::TOP_ERR_T;
    else if (spls_q && (bits_q < 4 || bits_q > 8)) field_err = esact_pkg::TOP_ERR_HLOG_BITS;
  end

  logic [7:0] mem_err;
  always_comb begin
    mem_err = esact_pkg::TOP_ERR_NONE;
    if (bad_addr(xa_q, x_bytes_q) || bad_addr(wa_q, img_bytes_q) ||
        bad_addr(ya_q, x_bytes_q) || bad_addr(da_q, dec_bytes_q))
      mem_err = esact_pkg::TOP_ERR_ADDR;
    else if (64'(xs_q) < x_bytes_q || 64'(ws_q) < img_bytes_q || 64'(ys_q) < x_bytes_q ||
             64'(ds_q) < dec_bytes_q)
      mem_err = esact_pkg::TOP_ERR_SIZE;
    else if (overlaps(ya_q, x_bytes_q, xa_q, x_bytes_q) ||
             overlaps(ya_q, x_bytes_q, wa_q, img_bytes_q) ||
             overlaps(ya_q, x_bytes_q, da_q, dec_bytes_q) ||
             overlaps(da_q, dec_bytes_q, xa_q, x_bytes_q) ||
             overlaps(da_q, dec_bytes_q, wa_q, img_bytes_q))
      mem_err = esact_pkg::TOP_ERR_OVERLAP;
  end

  logic hdr_bad;
  always_comb begin
    hdr_bad = 1'b0;
    for (int i = 0; i < 10; i++) begin
      if (32'(hdr_shift(hdr_q, i)) > esact_pkg::REQ_MAX_SHIFT) hdr_bad = 1'b1;
    end
    for (int i = 20; i < 24; i++) begin
      if (32'(hdr_q[16*i +: 16]) > esact_pkg::VEC_RES_MAX_MULT) hdr_bad = 1'b1;
    end
    if (hdr_q[32*12 +: 8] > 8'd31 || hdr_q[32*12 + 8 +: 8] > 8'd31) hdr_bad = 1'b1;
  end

  // ---- Controller ----------------------------------------------------------------------------
  logic unit_done, unit_err;   // the running unit of the phase finished (with an error)
  always_comb begin
    unit_done = 1'b0;
    unit_err  = 1'b0;
    unique case (state_q)
      StHeadQ, StHeadK, StHeadV, StOut, StFfn1, StFfn2: begin
        unit_done = gemm_done; unit_err = gemm_err;
      end
      StHeadAttn: begin
        // done_o may come while the last context is still being written into C.
        unit_done = (attn_done || attn_fin_q) && !cw_busy_q; unit_err = attn_err || attn_err_q;
      end
      StLn1, StGelu, StLn2: begin
        unit_done = vec_done; unit_err = vec_err;
      end
      StHeadCopy, StOutCopy, StFfnCopy: unit_done = !cp_rd && !cp_wr_q;
      default: ;
    endcase
  end

  logic attn_fin_q, attn_err_q;  // esact_attn's done_o (and err_o) seen in this phase
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      attn_fin_q <= 1'b0;
      attn_err_q <= 1'b0;
    end else if (attn_start) begin
      attn_fin_q <= 1'b0;
      attn_err_q <= 1'b0;
    end else if (attn_done) begin
      attn_fin_q <= 1'b1;
      attn_err_q <= attn_err;
    end
  end

  logic is_run_phase;
  // Phase classes: which unit a phase runs.
  logic gemm_phase, vec_phase, copy_phase;
  assign gemm_phase   = state_q == StHeadQ || state_q == StHeadK || state_q == StHeadV ||
                        state_q == StOut || state_q == StFfn1 || state_q == StFfn2;
  assign vec_phase    = state_q == StLn1 || state_q == StGelu || state_q == StLn2;
  assign copy_phase   = state_q == StHeadCopy || state_q == StOutCopy || state_q == StFfnCopy;
  assign is_run_phase = gemm_phase || vec_phase || copy_phase || state_q == StHeadAttn;
  logic head_phase;  // Q, K, V of a head
  assign head_phase   = state_q == StHeadQ || state_q == StHeadK || state_q == StHeadV;

  // Start pulses of the phase (step 0 restarts the sources, step 1 the unit).
  logic src_start;
  assign src_start   = is_run_phase && step_q == 2'd0;
  assign gsrc_start  = src_start && gemm_phase;
  assign asrc_start  = src_start && state_q == StHeadAttn;
  assign vsrc_start  = src_start && vec_phase;
  assign vbsrc_start = src_start && ((state_q == StLn1 || state_q == StLn2));
  assign cp_start    = src_start && copy_phase;
  assign gemm_start = step_q == 2'd1 && gemm_phase;
  assign attn_start = step_q == 2'd1 && state_q == StHeadAttn;
  assign vec_start  = step_q == 2'd1 && vec_phase;
  assign px_start   = state_q == StPredict && spls_q;
  assign pred_start = px_start;
  assign st_start   = state_q == StStoreY && step_q == 2'd0;

  // DMA commands.
  always_comb begin
    dma_rd_cmd_valid = state_q == StLoad && step_q == 2'd0;
    dma_rd_addr = '0;
    dma_rd_len  = '0;
    unique case (sec_q)
      SecHdr: begin dma_rd_addr = AddrW'(wa_q); dma_rd_len = AddrW'(64); end
      SecPrm: begin dma_rd_addr = AddrW'(wa_q + 64); dma_rd_len = AddrW'(prm_bytes_q); end
      SecWgt: begin
        dma_rd_addr = AddrW'(wa_q + 64 + prm_bytes_q); dma_rd_len = AddrW'(wgt_bytes_q);
      end
      SecPw: begin
        dma_rd_addr = AddrW'(wa_q + 64 + prm_bytes_q + wgt_bytes_q);
        dma_rd_len  = AddrW'(pw_bytes_q);
      end
      default: begin dma_rd_addr = AddrW'(xa_q); dma_rd_len = AddrW'(x_bytes_q); end
    endcase
    dma_wr_cmd_valid = ((state_q == StStoreY || state_q == StStoreDec)) && step_q == 2'd1;
    dma_wr_addr = (state_q == StStoreY) ? AddrW'(ya_q) : AddrW'(da_q);
    dma_wr_len  = (state_q == StStoreY) ? AddrW'(x_bytes_q) : AddrW'(dec_bytes_q);
  end

  // Next phase after a unit finished.
  function automatic state_e next_after(input state_e s, input logic spls, input logic reuse,
                                        input logic last_head);
    unique case (s)
      StHeadQ:    next_after = StHeadK;
      StHeadK:    next_after = StHeadV;
      StHeadV:    next_after = StHeadAttn;
      StHeadAttn: next_after = spls ? StHeadCopy : (last_head ? StWaitPred : StHeadQ);
      StHeadCopy: next_after = last_head ? StWaitPred : StHeadQ;
      StOut:      next_after = spls ? StOutCopy : StLn1;
      StOutCopy:  next_after = StLn1;
      StLn1:      next_after = StFfn1;
      StFfn1:     next_after = StGelu;
      StGelu:     next_after = StFfn2;
      StFfn2:     next_after = (spls && reuse) ? StFfnCopy : StLn2;
      StFfnCopy:  next_after = StLn2;
      default:    next_after = StStoreY;
    endcase
  endfunction

  logic last_head;
  assign last_head = (32'(head_q) == 32'(heads_q) - 1);

  always_comb begin
    state_d = state_q;
    step_d  = step_q;
    head_d  = head_q;
    sec_d   = sec_q;
    err_d   = err_q;
    dh_d    = dh_q;
    unique case (state_q)
      StIdle: if (reg_start) begin
        state_d = StCheck;
        err_d   = esact_pkg::TOP_ERR_NONE;
      end
      StCheck: begin
        if (field_err != esact_pkg::TOP_ERR_NONE) begin
          err_d = field_err; state_d = StDone;
        end else begin
          dh_d = 16'(Lanes); state_d = StHeads;
        end
      end
      // d_head: the multiple of L with heads * d_head == d_model, found by counting up.
      StHeads: begin
        if (32'(heads_q) * 32'(dh_q) == 32'(d_q)) begin
          // The predictor takes d_head in beats of P.
          if (spls_q && dh_q[$clog2(PredLanes)-1:0] != '0) begin
            err_d = esact_pkg::TOP_ERR_HEADS; state_d = StDone;
          end else state_d = StSize;
        end
        else if (32'(heads_q) * 32'(dh_q) > 32'(d_q) || 32'(dh_q) >= DhMax) begin
          err_d = esact_pkg::TOP_ERR_HEADS; state_d = StDone;
        end else dh_d = dh_q + 16'(Lanes);
      end
      StSize: state_d = StMem;
      StMem: begin
        if (mem_err != esact_pkg::TOP_ERR_NONE) begin
          err_d = mem_err; state_d = StDone;
        end else begin
          state_d = StLoad; sec_d = SecHdr; step_d = 2'd0;
        end
      end
      StLoad: begin
        if (step_q == 2'd0) begin
          if (dma_rd_cmd_ready) step_d = 2'd1;
        end else if (dma_rd_done) begin
          step_d = 2'd0;
          if (dma_rd_err) begin
            err_d = esact_pkg::TOP_ERR_DMA_RD; state_d = StDone;
          end else begin
            // HDR, PW (SPLS) and X first: the predictor needs only them and starts while
            // PRM and WGT load.
            unique case (sec_q)
              SecHdr:  sec_d = spls_q ? SecPw : SecX;
              SecPw:   sec_d = SecX;
              SecX:    state_d = StHdr;
              SecPrm:  sec_d = SecWgt;
              default: begin  // SecWgt: the layer is on chip
                state_d = StHeadQ; head_d = '0;
              end
            endcase
          end
        end
      end
      StHdr: begin
        if (hdr_bad) begin
          err_d = esact_pkg::TOP_ERR_HDR; state_d = StDone;
        end else state_d = StPredict;
      end
      StPredict: begin
        state_d = StLoad; sec_d = SecPrm; step_d = 2'd0;
      end
      StWaitPred: if (pred_done_q) begin
        state_d = StOut; step_d = 2'd0;
      end
      StStoreY, StStoreDec: begin
        unique case (step_q)
          2'd0: step_d = 2'd1;
          2'd1: if (dma_wr_cmd_ready) step_d = 2'd2;
          default: if (dma_wr_done) begin
            step_d = 2'd0;
            if (dma_wr_err) begin
              err_d = esact_pkg::TOP_ERR_DMA_WR; state_d = StDone;
            end else state_d = (state_q == StStoreY) ? StStoreDec : StDone;
          end
        endcase
      end
      StDone: if (!pred_busy) state_d = StIdle;
      default: begin  // the run phases
        unique case (step_q)
          2'd0: begin
            // Head h needs the predictor's decision of head h.
            if (!(state_q == StHeadQ && 32'(dec_heads_q) <= 32'(head_q))) step_d = 2'd1;
          end
          2'd1: step_d = 2'd2;
          default: if (unit_done) begin
            step_d = 2'd0;
            if (unit_err) begin
              err_d = esact_pkg::TOP_ERR_ENGINE; state_d = StDone;
            end else begin
              state_d = next_after(state_q, spls_q, reuse_q, last_head);
              if ((state_q == StHeadAttn && !spls_q) || state_q == StHeadCopy) begin
                head_d = head_q + 1'b1;
              end
            end
          end
        endcase
      end
    endcase
  end

  assign run_busy     = state_q != StIdle;
  assign run_done     = state_q == StDone && !pred_busy;
  assign run_err      = (run_done && err_q != esact_pkg::TOP_ERR_NONE) ||
                        (reg_start && state_q != StIdle);
  assign run_err_code = (reg_start && state_q != StIdle && !run_done) ?
                        8'(esact_pkg::TOP_ERR_BUSY) : err_q;

  // ---- Sequential state ----------------------------------------------------------------------
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= StIdle;
      step_q  <= '0;
      head_q  <= '0;
      sec_q   <= SecHdr;
      err_q   <= esact_pkg::TOP_ERR_NONE;
      dh_q    <= '0;
    end else begin
      state_q <= state_d;
      step_q  <= step_d;
      head_q  <= head_d;
      sec_q   <= sec_d;
      err_q   <= err_d;
      dh_q    <= dh_d;
    end
  end

  // Configuration sampled at start; sizes computed in StSize (products of the run's dims).
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      n_tok_q <= '0; n_val_q <= '0; d_q <= '0; f_q <= '0; k_q <= '0; t_q <= '0;
      heads_q <= '0; w_q <= '0; spls_q <= 1'b0; round_q <= esact_pkg::HLOG_ROUND_TOWARD_ZERO;
      reuse_q <= 1'b0;
      bits_q <= '0; xa_q <= '0; wa_q <= '0; ya_q <= '0; da_q <= '0;
      xs_q <= '0; ws_q <= '0; ys_q <= '0; ds_q <= '0;
      x_bytes_q <= '0; img_bytes_q <= '0; dec_bytes_q <= '0; prm_bytes_q <= '0;
      wgt_bytes_q <= '0; pw_bytes_q <= '0; dwd_q <= '0; fwd_q <= '0; hwd_q <= '0;
      pwd_q <= '0;
    end else begin
      if (state_q == StIdle && reg_start) begin
        n_tok_q <= r_n_tokens; n_val_q <= r_n_valid; d_q <= r_d_model; f_q <= r_d_ff;
        k_q <= r_k; t_q <= r_t; heads_q <= r_n_heads; w_q <= r_w; spls_q <= r_spls_en;
        round_q <= r_round ? esact_pkg::HLOG_ROUND_NEAREST : esact_pkg::HLOG_ROUND_TOWARD_ZERO;
        reuse_q <= r_ffn_reuse; bits_q <= r_bits;
        xa_q <= r_x_addr; wa_q <= r_w_addr; ya_q <= r_y_addr; da_q <= r_dec_addr;
        xs_q <= r_x_size; ws_q <= r_w_size; ys_q <= r_y_size; ds_q <= r_dec_size;
      end
      if (state_q == StSize) begin
        x_bytes_q   <= 64'(n_tok_q) * 64'(d_q);
        prm_bytes_q <= 64'(4) * (64'(9) * 64'(d_q) + 64'(f_q) + 64'(256));
        wgt_bytes_q <= 64'(4) * 64'(d_q) * 64'(d_q) + 64'(2) * 64'(d_q) * 64'(f_q);
        pw_bytes_q  <= 64'(2 * PwW / 8) * 64'(d_q) * 64'(pw_dw);
        img_bytes_q <= 64'(64) + 64'(4) * (64'(9) * 64'(d_q) + 64'(f_q) + 64'(256)) +
                       64'(4) * 64'(d_q) * 64'(d_q) + 64'(2) * 64'(d_q) * 64'(f_q) +
                       64'(2 * PwW / 8) * 64'(d_q) * 64'(pw_dw);
        dec_bytes_q <= 64'(heads_q) * 64'(n_tok_q) * 64'(RecW) / 64'(8);
        dwd_q <= 32'(dw) * 32'(d_q);
        fwd_q <= 32'(fw) * 32'(d_q);
        hwd_q <= 32'(hw) * 32'(d_q);
        pwd_q <= 32'(2) * 32'(d_q) * 32'(pw_dw);
      end
    end
  end

  // Loader.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ld_bc_q   <= '0;
      ld_addr_q <= '0;
      hdr_q     <= '0;
    end else begin
      if (state_q == StLoad && step_q == 2'd0) begin
        ld_bc_q <= '0; ld_addr_q <= '0;
      end else if (ld_beat) begin
        if (ld_word_done) begin
          ld_bc_q <= '0; ld_addr_q <= ld_addr_q + 1;
          if (sec_q == SecHdr) hdr_q <= ld_word[HdrW-1:0];
        end else ld_bc_q <= ld_bc_q + 1'b1;
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (ld_beat) ld_asm_q[DataW*ld_bc_q +: DataW] <= dma_rd_data;
  end

  // Decisions.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      anc_q       <= '0;
      kv_q        <= '0;
      tok_q       <= '0;
      dec_heads_q <= '0;
      pred_done_q <= 1'b0;
    end else if (state_q == StPredict) begin
      if (spls_q) begin
        anc_q <= '0; kv_q <= '0; tok_q <= '0; dec_heads_q <= '0; pred_done_q <= 1'b0;
      end else begin
        anc_q <= {HMax{valid_mask}}; kv_q <= {HMax{valid_mask}}; tok_q <= valid_mask;
        dec_heads_q <= (HeadW+1)'(heads_q); pred_done_q <= 1'b1;
      end
    end else begin
      if (pred_row_valid) begin
        anc_q[NMax*32'(pred_row_head) + 32'(pred_row_idx)] <= pred_row_anchor == pred_row_idx;
      end
      if (pred_kv_valid) begin
        kv_q[NMax*pred_kv_head +: NMax] <= pred_kv_mask;
        dec_heads_q <= dec_heads_q + 1'b1;
      end
      if (pred_tok_valid) tok_q[pred_tok_idx] <= pred_tok_anchor == pred_tok_idx;
      if (pred_done) pred_done_q <= 1'b1;
    end
  end
  // Anchor indices come from the predictor only; dense mode reads them as the row itself
  // (record(), and no copy runs in dense mode).
  always_ff @(posedge clk_i) begin
    if (pred_row_valid) anch_q[NMax*32'(pred_row_head) + 32'(pred_row_idx)] <= pred_row_anchor;
    if (pred_tok_valid) tokt_q[pred_tok_idx] <= pred_tok_anchor;
  end

  // Context writer, vector output writer, copies.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cw_busy_q <= 1'b0; cw_row_q <= '0; cw_w_q <= '0;
      vo_rem_q <= '0; vo_w_q <= '0;
      cp_rem_q <= '0; cp_w_q <= '0; cp_wr_q <= 1'b0; cp_wr_addr_q <= '0;
    end else begin
      if (ctx_valid && ctx_ready) begin
        cw_busy_q <= 1'b1; cw_row_q <= ctx_idx; cw_w_q <= '0;
      end else if (cw_busy_q) begin
        if (cw_w_q == hw - 1'b1) cw_busy_q <= 1'b0;
        cw_w_q <= cw_w_q + 1'b1;
      end
      if (vec_start) begin
        vo_rem_q <= v_list; vo_w_q <= '0;
      end else if (vo_valid) begin
        if (vo_last) begin
          vo_rem_q[vo_row] <= 1'b0; vo_w_q <= '0;
        end else vo_w_q <= vo_w_q + 1'b1;
      end
      cp_wr_q <= cp_rd;
      cp_wr_addr_q <= AAW'(cp_row * dw) + AAW'(cp_col) + AAW'(cp_w_q);
      if (cp_start) begin
        cp_rem_q <= cp_list; cp_w_q <= '0;
      end else if (cp_rd) begin
        if (cp_w_q == cp_words - 1'b1) begin
          cp_rem_q[cp_row] <= 1'b0; cp_w_q <= '0;
        end else cp_w_q <= cp_w_q + 1'b1;
      end
    end
  end
  always_ff @(posedge clk_i) begin
    if (ctx_valid && ctx_ready) cw_data_q <= ctx_data;
    else if (cw_busy_q) cw_data_q <= cw_data_q >> ActW;
  end

  // Store Y and decision records.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sy_bc_q <= '0;
      rec_st_q <= RecIdle; rec_bc_q <= '0; rec_h_q <= '0; rec_i_q <= '0; rec_q <= '0;
    end else begin
      if (st_start) sy_bc_q <= '0;
      else if (dma_wr_valid && dma_wr_ready && state_q == StStoreY)
        sy_bc_q <= (sy_bc_q == $bits(sy_bc_q)'(ActW / DataW - 1)) ? '0 : sy_bc_q + 1'b1;
      unique case (rec_st_q)
        RecIdle: if (state_q == StStoreDec && step_q == 2'd0) begin
          rec_h_q <= '0; rec_i_q <= '0; rec_st_q <= RecFetch;
        end
        RecFetch: rec_st_q <= RecBuild;  // the SPA mask of {h, i} is read in this cycle
        RecBuild: begin
          rec_q <= record(rec_h_q, rec_i_q); rec_bc_q <= '0; rec_st_q <= RecSend;
        end
        default: if (dma_wr_valid && dma_wr_ready) begin
          if (rec_bc_q == $bits(rec_bc_q)'(RecW / DataW - 1)) begin
            rec_bc_q <= '0;
            rec_st_q <= RecFetch;
            if (32'(rec_i_q) == 32'(n_tok_q) - 1) begin
              rec_i_q <= '0; rec_h_q <= rec_h_q + 1'b1;
              if (32'(rec_h_q) == 32'(heads_q) - 1) rec_st_q <= RecIdle;
            end else rec_i_q <= rec_i_q + 1'b1;
          end else rec_bc_q <= rec_bc_q + 1'b1;
        end
      endcase
    end
  end

  function automatic logic [RecW-1:0] record(input logic [HeadW-1:0] h, input logic [IdxW-1:0] i);
    record = '0;
    if (32'(i) < 32'(n_val_q)) begin
      record[15:0]  = spls_q ? 16'(anch_q[NMax*32'(h) + 32'(i)]) : 16'(i);
      record[31:16] = spls_q ? 16'(tokt_q[i]) : 16'(i);
      record[32]    = kv_q[NMax*32'(h) + 32'(i)];
      record[64 +: NMax] = spls_q ? spa_rd_data : valid_mask;
    end else begin
      record[31:0] = 32'hFFFF_FFFF;
    end
  endfunction

  // ---- Performance counters ------------------------------------------------------------------
  // MACs per component, in the golden order (OpCounts: Q, K, V, scores, P.V, output
  // projection, FFN1, FFN2), executed and dense (on the valid rows).
  localparam int unsigned NComp = 8;
  localparam int unsigned CompQ = 0, CompK = 1, CompV = 2, CompScores = 3, CompPv = 4,
                          CompOut = 5, CompFfn1 = 6, CompFfn2 = 7;
  `ESACT_ASSERT_INIT(CntCompOrder_A,
                     esact_regs_pkg::CNT_MACS_FFN2_IDX == esact_regs_pkg::CNT_MACS_Q_IDX + 7 &&
                     esact_regs_pkg::CNT_SKIP_FFN2_IDX == esact_regs_pkg::CNT_SKIP_Q_IDX + 7)
  logic [64*NComp-1:0] macs_q, dense_q;  // component c at [64*c +: 64]
  logic [2:0]  gemm_comp;       // the component of the phase's GEMM run
  always_comb begin
    unique case (state_q)
      StHeadQ: gemm_comp = 3'(CompQ);
      StHeadK: gemm_comp = 3'(CompK);
      StHeadV: gemm_comp = 3'(CompV);
      StOut:   gemm_comp = 3'(CompOut);
      StFfn1:  gemm_comp = 3'(CompFfn1);
      default: gemm_comp = 3'(CompFfn2);
    endcase
  end

  logic load_phase, dma_moving;
  assign load_phase = (state_q == StLoad || state_q == StStoreY || state_q == StStoreDec);
  assign dma_moving = dma_rd_valid || (dma_wr_valid && dma_wr_ready);
  logic counters_clear;
  assign counters_clear = state_q == StIdle && reg_start;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_cycles_q <= '0; cnt_predict_q <= '0; cnt_qkv_q <= '0; cnt_attn_q <= '0;
      cnt_out_q <= '0; cnt_ffn_q <= '0; cnt_ln_q <= '0;
      cnt_pred_ops_q <= '0; cnt_rows_reused_q <= '0; cnt_tok_reused_q <= '0; cnt_stall_q <= '0;
    end else if (counters_clear) begin
      cnt_cycles_q <= '0; cnt_predict_q <= '0; cnt_qkv_q <= '0; cnt_attn_q <= '0;
      cnt_out_q <= '0; cnt_ffn_q <= '0; cnt_ln_q <= '0;
      cnt_pred_ops_q <= '0; cnt_rows_reused_q <= '0; cnt_tok_reused_q <= '0; cnt_stall_q <= '0;
    end else begin
      if (run_busy && !run_done) cnt_cycles_q <= cnt_cycles_q + 1;
      if (pred_busy) cnt_predict_q <= cnt_predict_q + 1;
      if (head_phase) cnt_qkv_q <= cnt_qkv_q + 1;
      if (state_q == StHeadAttn || state_q == StHeadCopy) cnt_attn_q <= cnt_attn_q + 1;
      if (state_q == StOut || state_q == StOutCopy) cnt_out_q <= cnt_out_q + 1;
      if (state_q == StFfn1 || state_q == StGelu || state_q == StFfn2 || state_q == StFfnCopy) begin
        cnt_ffn_q <= cnt_ffn_q + 1;
      end
      if (state_q == StLn1 || state_q == StLn2) cnt_ln_q <= cnt_ln_q + 1;
      if (load_phase && !dma_moving) cnt_stall_q <= cnt_stall_q + 1;
      if (pred_start) begin
        cnt_pred_ops_q <= 64'(2) * 64'(n_val_q) * 64'(d_q) * 64'(d_q) +
                          64'(n_val_q) * 64'(n_val_q) * 64'(d_q);
      end
      if (attn_start) cnt_rows_reused_q <= cnt_rows_reused_q + 64'(n_val_q) - 64'(popcount(anc_h));
      if (state_q == StOut && step_q == 2'd1)
        cnt_tok_reused_q <= 64'(n_val_q) - 64'(popcount(tok_q));
    end
  end

  // Bytes moved per cycle: external memory beats, buffer words read and written.
  localparam int unsigned NBufW = $clog2(NBuf + 2);
  logic [NBufW-1:0] act_rd_words, act_wr_words;
  always_comb begin
    act_rd_words = NBufW'(px_rd_en);
    act_wr_words = '0;
    for (int b = 0; b < NBuf; b++) begin
      act_rd_words = act_rd_words + NBufW'(ab_rd_en[b]);
      act_wr_words = act_wr_words + NBufW'(ab_wr_en[b]);
    end
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_dram_rd_q <= '0; cnt_dram_wr_q <= '0; cnt_act_rd_q <= '0; cnt_act_wr_q <= '0;
      cnt_wgt_rd_q <= '0; cnt_wgt_wr_q <= '0;
    end else if (counters_clear) begin
      cnt_dram_rd_q <= '0; cnt_dram_wr_q <= '0; cnt_act_rd_q <= '0; cnt_act_wr_q <= '0;
      cnt_wgt_rd_q <= '0; cnt_wgt_wr_q <= '0;
    end else begin
      if (dma_rd_valid) cnt_dram_rd_q <= cnt_dram_rd_q + 64'(Bytes);
      if (dma_wr_valid && dma_wr_ready) cnt_dram_wr_q <= cnt_dram_wr_q + 64'(Bytes);
      cnt_act_rd_q <= cnt_act_rd_q + 64'(act_rd_words) * 64'(Lanes);
      cnt_act_wr_q <= cnt_act_wr_q + 64'(act_wr_words) * 64'(Lanes);
      cnt_wgt_rd_q <= cnt_wgt_rd_q + (wgt_rd_en ? 64'(Lanes) : '0) +
                      (prm_rd_en ? 64'(4 * Lanes) : '0) + (pw_rd_en ? 64'(PwBytes) : '0);
      cnt_wgt_wr_q <= cnt_wgt_wr_q + (ld_wgt_we ? 64'(Lanes) : '0) +
                      (ld_prm_we ? 64'(4 * Lanes) : '0) + (ld_pw_we ? 64'(PwBytes) : '0);
    end
  end

  // MACs: a GEMM run adds rows x K x N at its start; an attention row 2 |keys| d_head (scores
  // and P.V). Dense counts are set in StSize.
  logic [63:0] attn_row_macs;
  assign attn_row_macs = 64'(popcount(q_mask)) * 64'(dh_q);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      macs_q  <= '0;
      dense_q <= '0;
    end else if (counters_clear) begin
      macs_q  <= '0;
      dense_q <= '0;
    end else begin
      if (state_q == StSize) begin
        dense_q[64*CompQ +: 64]      <= 64'(n_val_q) * 64'(d_q) * 64'(d_q);
        dense_q[64*CompK +: 64]      <= 64'(n_val_q) * 64'(d_q) * 64'(d_q);
        dense_q[64*CompV +: 64]      <= 64'(n_val_q) * 64'(d_q) * 64'(d_q);
        dense_q[64*CompOut +: 64]    <= 64'(n_val_q) * 64'(d_q) * 64'(d_q);
        dense_q[64*CompScores +: 64] <= 64'(n_val_q) * 64'(n_val_q) * 64'(d_q);
        dense_q[64*CompPv +: 64]     <= 64'(n_val_q) * 64'(n_val_q) * 64'(d_q);
        dense_q[64*CompFfn1 +: 64]   <= 64'(n_val_q) * 64'(d_q) * 64'(f_q);
        dense_q[64*CompFfn2 +: 64]   <= 64'(n_val_q) * 64'(d_q) * 64'(f_q);
      end
      if (gemm_start) begin
        macs_q[64*gemm_comp +: 64] <= macs_q[64*gemm_comp +: 64] +
                                      64'(gemm_n_rows) * 64'(gemm_in) * 64'(gemm_out);
      end
      if (aq_valid && aq_ready) begin
        macs_q[64*CompScores +: 64] <= macs_q[64*CompScores +: 64] + attn_row_macs;
        macs_q[64*CompPv +: 64]     <= macs_q[64*CompPv +: 64] + attn_row_macs;
      end
    end
  end

  logic [63:0] macs_total, dense_total;
  always_comb begin
    macs_total  = '0;
    dense_total = '0;
    for (int c = 0; c < NComp; c++) begin
      macs_total  = macs_total + macs_q[64*c +: 64];
      dense_total = dense_total + dense_q[64*c +: 64];
    end
    cnt_bus = '0;
    cnt_bus[64*esact_regs_pkg::CNT_CYCLES_IDX +: 64]        = cnt_cycles_q;
    cnt_bus[64*esact_regs_pkg::CNT_CYC_PREDICT_IDX +: 64]   = cnt_predict_q;
    cnt_bus[64*esact_regs_pkg::CNT_CYC_QKV_IDX +: 64]       = cnt_qkv_q;
    cnt_bus[64*esact_regs_pkg::CNT_CYC_ATTN_IDX +: 64]      = cnt_attn_q;
    cnt_bus[64*esact_regs_pkg::CNT_CYC_OUT_IDX +: 64]       = cnt_out_q;
    cnt_bus[64*esact_regs_pkg::CNT_CYC_FFN_IDX +: 64]       = cnt_ffn_q;
    cnt_bus[64*esact_regs_pkg::CNT_CYC_LN_IDX +: 64]        = cnt_ln_q;
    cnt_bus[64*esact_regs_pkg::CNT_MACS_EXEC_IDX +: 64]     = macs_total;
    cnt_bus[64*esact_regs_pkg::CNT_MACS_SKIPPED_IDX +: 64]  = dense_total - macs_total;
    cnt_bus[64*esact_regs_pkg::CNT_PRED_OPS_IDX +: 64]      = cnt_pred_ops_q;
    cnt_bus[64*esact_regs_pkg::CNT_ROWS_REUSED_IDX +: 64]   = cnt_rows_reused_q;
    cnt_bus[64*esact_regs_pkg::CNT_TOKENS_REUSED_IDX +: 64] = cnt_tok_reused_q;
    cnt_bus[64*esact_regs_pkg::CNT_MEM_STALL_IDX +: 64]     = cnt_stall_q;
    cnt_bus[64*esact_regs_pkg::CNT_DRAM_RD_BYTES_IDX +: 64]     = cnt_dram_rd_q;
    cnt_bus[64*esact_regs_pkg::CNT_DRAM_WR_BYTES_IDX +: 64]     = cnt_dram_wr_q;
    cnt_bus[64*esact_regs_pkg::CNT_SRAM_ACT_RD_BYTES_IDX +: 64] = cnt_act_rd_q;
    cnt_bus[64*esact_regs_pkg::CNT_SRAM_ACT_WR_BYTES_IDX +: 64] = cnt_act_wr_q;
    cnt_bus[64*esact_regs_pkg::CNT_SRAM_WGT_RD_BYTES_IDX +: 64] = cnt_wgt_rd_q;
    cnt_bus[64*esact_regs_pkg::CNT_SRAM_WGT_WR_BYTES_IDX +: 64] = cnt_wgt_wr_q;
    for (int c = 0; c < NComp; c++) begin
      cnt_bus[64*(esact_regs_pkg::CNT_MACS_Q_IDX + c) +: 64] = macs_q[64*c +: 64];
      cnt_bus[64*(esact_regs_pkg::CNT_SKIP_Q_IDX + c) +: 64] =
          dense_q[64*c +: 64] - macs_q[64*c +: 64];
    end
  end

  // ---- Assertions ----------------------------------------------------------------------------
  `ESACT_ASSERT(OneGemmXUser_A, !(gx_rd_en && va_rd_en && gx_buf == va_buf))
  `ESACT_ASSERT(CopyNotWithStreams_A, cp_rd |-> !(gx_rd_en || va_rd_en || vb_rd_en || st_rd_en))
  `ESACT_ASSERT(OnePrmUser_A, !(gb_rd_en && vp_rd_en))
  `ESACT_ASSERT(OneSpaUser_A, !(sq_rd_en && rec_fetch))
  `ESACT_ASSERT(YWriteNotWithCtx_A, !(gy_valid && cw_busy_q))
  `ESACT_ASSERT(EngineIdleAtStart_A, reg_start && state_q == StIdle |->
                !gemm_busy && !attn_busy && !vec_busy && !pred_busy)
  `ESACT_ASSERT(PredOkWhenRun_A, pred_done |-> !pred_err)

  // Unused: the DMA's read stream end marks and busy flags, the engine error codes (the
  // top reports ENGINE), the DMA's per-channel stall counters (MEM_STALL counts the load
  // and store cycles without a beat instead), the busy flags (read by assertions only).
  logic unused;
  assign unused = ^{dma_rd_last, dma_rd_busy, dma_wr_busy, gemm_err_code, attn_err_code,
                    vec_err_code, pred_err_code, st_ar, st_r, st_aw, st_w, st_b,
                    gemm_busy, attn_busy, vec_busy, pred_kv_head, nc_rd_row, nc_row, nc_last,
                    nc_side, nc_acc_ready,
                    // wider than the used range, for readable arithmetic
                    pw_bytes_q, pwd_q, pred_w_word, vec_d, gx_stride, gw_base, gw_words, gb_base,
                    vp_base, vp_words, gy_col, cp_col};

endmodule
