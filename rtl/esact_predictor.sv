// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// SPLS prediction unit: from one layer input X (int8) and the offline HLog weights W^_K,
/// W^_Q it produces, per head, the SPA index set of every row, the reuse map and the
/// needed-K/V mask, and per token the token anchor. Bit-exact with esact::Predict
/// (golden/spls.h, docs/spls.md sections 2 to 5). Add-only: HLog products are exponent
/// additions and shifts (esact_hlog_dot); there is no multiplier anywhere, also not in
/// the address generation (counters and adders only).
///
/// Run: configure the cfg_* inputs, pulse start_i while busy_o is low (start_i is ignored
/// while busy). The configuration is sampled on the start edge. The unit then
///   1. checks the configuration (CHECK, 1 + heads cycles: heads * d_head == d_model is
///      checked by adding d_head heads times, no multiplier);
///   2. takes X: n_valid rows of d_model int8, row-major, d_model/Lanes beats per row,
///      lane l of beat b of row i = x[i][b*Lanes + l]; each beat is HLog-encoded by Lanes
///      esact_hlog_enc lanes into the X^ buffer (XLOAD);
///   3. per head h: K~ = X^ W^_K + b_K column by column (KPROJ): a W column and its bias
///      are buffered, the n rows of X^ stream through the dot array against it, the
///      column's bias is added to each sum (32 bits) and the result is re-quantized
///      (min(128, |v| >> k_shift), esact_hlog_enc with the run's bits and rounding =
///      esact::PredictRequant) into the K^ buffer; the same for Q^ (QPROJ, q_shift);
///      then the PAM rows (PAM): for each row i the n scores Q^[i].K^[j], j = 0..n-1,
///      through the dot array into esact_topk (in_last at j = n-1), whose row masks go
///      to esact_reuse;
///   4. waits until the row, kv and tok outputs of the layer are all taken (DRAIN) and
///      raises done_o for one cycle.
/// busy_o is high from the cycle after the start edge up to and including the done_o
/// cycle. err_o / err_code_o are valid from the done_o cycle on and hold until the next
/// start; err_code_o is PRED_ERR_NONE for a completed run. An illegal configuration is
/// reported after the CHECK cycles (2 cycles from the start edge to done_o for a field,
/// heads + 2 for the head split): nothing of X or W is consumed (x_ready_o and w_ready_o
/// stay low), no output beat is produced, done_o rises, busy_o falls. The X and W
/// sources keep the valid/ready contract from the start edge to done_o; after done_o they
/// may withdraw beats the unit did not take.
///
/// Legal configuration (esact_pkg::pred_err_e, checked in this order): 1 <= n_valid <=
/// NMax; d_model a multiple of Lanes in Lanes..DMax; d_head a multiple of Lanes in
/// Lanes..DhMax; 1 <= heads <= HMax; 1 <= k <= KMax (k > n_valid selects all n columns,
/// like the golden min(k, n)); w <= WMax; t <= NMax; 4 <= bits <= 8; heads * d_head ==
/// d_model. Every q_shift, k_shift in 0..31 is legal.
///
/// W stream: per head h = 0..heads-1, first the d_head columns of W^_K that belong to the
/// head (columns h*d_head + c, c = 0..d_head-1), then those of W^_Q. Column c is
/// d_model/Lanes beats of HLog codes, lane l of beat b = W^[b*Lanes + l][h*d_head + c]
/// (the offline HLog weights transposed, column by column). Sideband w_bias_i: the int32
/// bias of the column (b_K[h*d_head + c] resp. b_Q[h*d_head + c]; 0 for a layer without
/// bias), part of the beat under the same valid/ready contract. The source presents it
/// with every beat of the column; the unit samples it only on the handshake of the
/// column's last beat (the value on the other beats is not looked at). Legal biases obey
/// |b| <= 2^31 - 1 - 2^14 * d_model (esact::MaxLinearBias): then K~ and Q~ fit 32 bits.
/// The W loader is independent of the compute: it fills a two-column ping-pong buffer
/// (codes and bias) whenever a slot is free, from the end of CHECK on (so the first
/// columns load while X streams in).
///
/// Outputs: the three streams of esact_reuse, unchanged (row decisions in head-major
/// order, one kv mask per head, then the n token anchors).
///
/// Buffers (unpacked arrays of Lanes-code words, synchronous read into the dot array's
/// operand registers, written before they are read, not reset):
///   X^   NMax * DMax/Lanes words, row i beat b at i * d_model/Lanes + b
///   W    2 * DMax/Lanes words (two column slots), and one 32-bit bias register per slot
///   column bias queue  4 x 32 bits: a column's bias moves from its slot into entry
///        (column mod 4) with the column's first issued beat and is read (combinationally)
///        by the output side for every sum of the column. A column's sums end at most 3 cycles after
///        its last beat issues (operand register, two dot stages; a projection never
///        stalls the array), so only columns c-3..c are ever pending when column c starts.
///   K^   NMax * DhMax/Lanes words as Lanes banks of codes, row j word w lane l = column
///        w*Lanes + l of the head, at j * d_head/Lanes + w; Q^ the same.
///
/// Cycle count without stalls, start edge to the edge that raises done_o (L = Lanes,
/// n = n_valid, d = d_model, dh = d_head, H = heads):
///   C_h = 2 * (dh * n * d/L + 3) + n * n * dh/L + 3           per head
///   T   = 1 + (H + 1) + n * d/L + H * C_h + n + 3
/// (start edge, CHECK, XLOAD, per head the two projections and the PAM rows, each
/// followed by a 3-cycle drain: operand register and the dot array's two stages; then
/// Top-k, reuse and the n token beats). The column bias costs no cycle: it is added
/// between the dot array's output register and the re-quantization, combinationally.
/// docs/architecture.md section 6; the test checks T exactly.
`include "esact_assert.svh"

module esact_predictor #(
  parameter  int unsigned Lanes /*verilator public*/ = 4,   ///< products per cycle, X lanes; 2^m
  parameter  int unsigned NMax  /*verilator public*/ = 16,  ///< max tokens, >= 2
  parameter  int unsigned DMax  /*verilator public*/ = 32,  ///< max d_model, Lanes | DMax
  parameter  int unsigned DhMax /*verilator public*/ = 16,  ///< max d_head, Lanes | DhMax <= DMax
  parameter  int unsigned HMax  /*verilator public*/ = 4,   ///< max heads, >= 1
  parameter  int unsigned KMax  /*verilator public*/ = 4,   ///< max Top-k, 1..NMax
  parameter  int unsigned WMax  /*verilator public*/ = 4,   ///< max reuse window, >= 1
  /// Row/token index width and head index width (the esact_reuse ports), at least 1.
  localparam int unsigned IdxW  = ($clog2(NMax) > 1) ? $clog2(NMax) : 1,
  localparam int unsigned HeadW = ($clog2(HMax) > 1) ? $clog2(HMax) : 1,
  /// Width of the W column bias and of K~, Q~ (the golden int32).
  localparam int unsigned BiasW = 32
) (
  input  logic                                    clk_i,
  input  logic                                    rst_ni,
  // Run-time configuration, sampled at start_i
  input  logic [$clog2(NMax+1)-1:0]               cfg_n_valid_i,  ///< tokens n, 1..NMax
  input  logic [$clog2(DMax+1)-1:0]               cfg_d_model_i,  ///< d, Lanes | d
  input  logic [$clog2(DhMax+1)-1:0]              cfg_d_head_i,   ///< dh, Lanes | dh
  input  logic [$clog2(HMax+1)-1:0]               cfg_heads_i,    ///< heads * dh == d
  input  logic [$clog2(KMax+1)-1:0]               cfg_k_i,        ///< Top-k, 1..KMax
  input  logic [$clog2(WMax+1)-1:0]               cfg_w_i,        ///< window, 0..WMax
  input  logic [$clog2(NMax+1)-1:0]               cfg_t_i,        ///< threshold, 0..NMax
  input  logic [esact_pkg::HLOG_BITS_W-1:0]       cfg_bits_i,     ///< HLog width, 4..8
  input  esact_pkg::hlog_round_e                  cfg_round_i,    ///< HLog rounding
  input  logic [esact_pkg::PRED_SHIFT_W-1:0]      cfg_q_shift_i,  ///< Q~ rescale, 0..31
  input  logic [esact_pkg::PRED_SHIFT_W-1:0]      cfg_k_shift_i,  ///< K~ rescale, 0..31
  // Control
  input  logic                                    start_i,
  output logic                                    busy_o,
  output logic                                    done_o,         ///< one-cycle pulse
  output logic                                    err_o,
  output esact_pkg::pred_err_e                    err_code_o,
  // X: int8 rows, lane l in [8*l +: 8]
  input  logic                                    x_valid_i,
  output logic                                    x_ready_o,
  input  logic [Lanes*esact_pkg::INT8_W-1:0]      x_data_i,
  // W: HLog weight columns, lane l in [5*l +: 5]
  input  logic                                    w_valid_i,
  output logic                                    w_ready_o,
  input  logic [Lanes*esact_pkg::HLOG_CODE_W-1:0] w_data_i,
  input  logic signed [BiasW-1:0]                 w_bias_i,       ///< column bias, last beat
  // Row decisions (esact_reuse)
  output logic                                    row_valid_o,
  input  logic                                    row_ready_i,
  output logic [HeadW-1:0]                        row_head_o,
  output logic [IdxW-1:0]                         row_idx_o,
  output logic [IdxW-1:0]                         row_anchor_o,
  output logic [NMax-1:0]                         row_mask_o,
  // Needed-K/V mask per head (esact_reuse)
  output logic                                    kv_valid_o,
  input  logic                                    kv_ready_i,
  output logic [HeadW-1:0]                        kv_head_o,
  output logic [NMax-1:0]                         kv_mask_o,
  // Token anchors (esact_reuse)
  output logic                                    tok_valid_o,
  input  logic                                    tok_ready_i,
  output logic [IdxW-1:0]                         tok_idx_o,
  output logic [IdxW-1:0]                         tok_anchor_o
);

  // ---- Widths and sizes ------------------------------------------------------------------

  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned CodeW  = esact_pkg::HLOG_CODE_W;
  localparam int unsigned WordW  = Lanes * CodeW;         // one buffer word
  localparam int unsigned LaneW  = $clog2(Lanes);         // 0 for one lane
  localparam int unsigned DbMax  = DMax / Lanes;          // X^ words per row
  localparam int unsigned DhbMax = DhMax / Lanes;         // K^/Q^ words per row
  localparam int unsigned XDepth = NMax * DbMax;          // elaboration-time constants
  localparam int unsigned WDepth = 2 * DbMax;
  localparam int unsigned KDepth = NMax * DhbMax;
  localparam int unsigned XAW    = ($clog2(XDepth) > 1) ? $clog2(XDepth) : 1;
  localparam int unsigned WAW    = ($clog2(WDepth) > 1) ? $clog2(WDepth) : 1;
  localparam int unsigned KAW    = ($clog2(KDepth) > 1) ? $clog2(KDepth) : 1;
  localparam int unsigned BeatW  = ($clog2(DbMax) > 1) ? $clog2(DbMax) : 1;  // 0..DbMax-1
  localparam int unsigned ColMax = (DhMax > NMax) ? DhMax : NMax;
  localparam int unsigned ColW   = ($clog2(ColMax) > 1) ? $clog2(ColMax) : 1;
  localparam int unsigned DhIdxW = ($clog2(DhMax) > 1) ? $clog2(DhMax) : 1;
  /// Dot sums: |X^ W^| < 2^15 * d for any 5-bit W code (192 * 128 < 2^15); |PAM| <=
  /// 2^14 * dh. K~ and Q~ (dot sum plus bias) are BiasW = 32 bits.
  localparam int unsigned AccW   = 16 + $clog2(DMax);
  localparam int unsigned NW     = $clog2(NMax + 1);
  localparam int unsigned DW     = $clog2(DMax + 1);
  localparam int unsigned DhW    = $clog2(DhMax + 1);
  localparam int unsigned HW     = $clog2(HMax + 1);
  localparam int unsigned KW     = $clog2(KMax + 1);
  localparam int unsigned WW     = $clog2(WMax + 1);
  localparam int unsigned BitsW  = esact_pkg::HLOG_BITS_W;
  localparam int unsigned ShiftW = esact_pkg::PRED_SHIFT_W;
  localparam int unsigned ChkW   = $clog2(HMax * DhMax + 1);  // heads * dh by addition
  localparam int unsigned CmpW   = ((ChkW > DW) ? ChkW : DW) + 1;

  `ESACT_ASSERT_INIT(LanesPow2_A, Lanes >= 1 && (Lanes & (Lanes - 1)) == 0)
  `ESACT_ASSERT_INIT(NMaxLegal_A, NMax >= 2)
  `ESACT_ASSERT_INIT(DMaxLegal_A, DMax >= Lanes && (DMax & (Lanes - 1)) == 0 && DMax <= 65536)
  `ESACT_ASSERT_INIT(DhMaxLegal_A, DhMax >= Lanes && (DhMax & (Lanes - 1)) == 0 && DhMax <= DMax)
  `ESACT_ASSERT_INIT(HMaxLegal_A, HMax >= 1)
  `ESACT_ASSERT_INIT(KMaxLegal_A, KMax >= 1 && KMax <= NMax)
  `ESACT_ASSERT_INIT(WMaxLegal_A, WMax >= 1)

  // ---- Sampled configuration -------------------------------------------------------------

  // One register of all fields, loaded on the start edge.
  localparam int unsigned CfgW = 2 * NW + DW + DhW + HW + KW + WW + BitsW + 1 + 2 * ShiftW;

  logic [CfgW-1:0]         cfg_in, cfg_d, cfg_q;
  logic [NW-1:0]           n_q;
  logic [DW-1:0]           d_q;
  logic [DhW-1:0]          dh_q;
  logic [HW-1:0]           heads_q;
  logic [KW-1:0]           k_q;
  logic [WW-1:0]           w_q;
  logic [NW-1:0]           t_q;
  logic [BitsW-1:0]        bits_q;
  logic                    round_bit_q;
  esact_pkg::hlog_round_e  round_q;
  logic [ShiftW-1:0]       q_shift_q, k_shift_q;

  assign cfg_in = {cfg_n_valid_i, cfg_d_model_i, cfg_d_head_i, cfg_heads_i, cfg_k_i, cfg_w_i,
                   cfg_t_i, cfg_bits_i, cfg_round_i, cfg_q_shift_i, cfg_k_shift_i};
  assign {n_q, d_q, dh_q, heads_q, k_q, w_q, t_q, bits_q, round_bit_q, q_shift_q, k_shift_q} =
      cfg_q;
  // (A select, not a cast: Yosys 0.23 does not parse a cast to a package type.)
  assign round_q = round_bit_q ? esact_pkg::HLOG_ROUND_NEAREST : esact_pkg::HLOG_ROUND_TOWARD_ZERO;

  // Derived loop bounds (valid once CHECK has passed: every field is then in range).
  logic [IdxW-1:0]   n_last;     // n - 1
  logic [BeatW-1:0]  db_last;    // d/Lanes - 1
  logic [BeatW-1:0]  dhb_last;   // dh/Lanes - 1
  logic [KAW-1:0]    dhb;        // dh/Lanes
  logic [DhIdxW-1:0] dh_last;    // dh - 1
  logic [HeadW-1:0]  head_last;  // heads - 1

  assign n_last    = IdxW'(n_q - NW'(1));
  assign db_last   = BeatW'((d_q >> LaneW) - DW'(1));
  assign dhb_last  = BeatW'((dh_q >> LaneW) - DhW'(1));
  logic [DhW-1:0] dh_words;
  assign dh_words  = dh_q >> LaneW;
  assign dhb       = KAW'(dh_words);
  // With Lanes = DhMax, dh/Lanes is at most 1 and KAW may be narrower than DhW.
  logic unused_dh_words;
  assign unused_dh_words = ^dh_words;
  assign dh_last   = DhIdxW'(dh_q - DhW'(1));
  assign head_last = HeadW'(heads_q - HW'(1));

  // ---- Control state ---------------------------------------------------------------------

  typedef enum logic [2:0] {
    StIdle  = 3'd0,
    StCheck = 3'd1,  // configuration check
    StXLoad = 3'd2,  // X in, HLog-encoded into X^
    StKProj = 3'd3,  // K^ of the current head
    StQProj = 3'd4,  // Q^ of the current head
    StPam   = 3'd5,  // PAM rows of the current head into Top-k and reuse
    StDrain = 3'd6,  // the last outputs of the layer
    StDone  = 3'd7   // done_o
  } state_e;

  state_e               state_d, state_q;
  esact_pkg::pred_err_e err_d, err_q;
  logic [HW-1:0]        chk_cnt_d, chk_cnt_q;   // heads added so far
  logic [ChkW-1:0]      chk_acc_d, chk_acc_q;   // chk_cnt * dh
  logic [HeadW-1:0]     head_d, head_q;         // head being computed
  logic                 rows_seen_d, rows_seen_q;  // last row / kv / tok beat taken
  logic                 kv_seen_d, kv_seen_q;
  logic                 tok_seen_d, tok_seen_q;

  logic proj, pam;  // a projection phase / the PAM phase
  assign proj = (state_q == StKProj) || (state_q == StQProj);
  assign pam  = (state_q == StPam);

  // ---- Configuration check ---------------------------------------------------------------

  logic n_over, d_over, dh_over, h_over, k_over, w_over, t_over;  // field above its maximum

  esact_cfg_over #(.Width(NW),  .Max(NMax))  u_n_over  (.value_i(n_q),     .over_o(n_over));
  esact_cfg_over #(.Width(NW),  .Max(NMax))  u_t_over  (.value_i(t_q),     .over_o(t_over));
  esact_cfg_over #(.Width(DW),  .Max(DMax))  u_d_over  (.value_i(d_q),     .over_o(d_over));
  esact_cfg_over #(.Width(DhW), .Max(DhMax)) u_dh_over (.value_i(dh_q),    .over_o(dh_over));
  esact_cfg_over #(.Width(HW),  .Max(HMax))  u_h_over  (.value_i(heads_q), .over_o(h_over));
  esact_cfg_over #(.Width(KW),  .Max(KMax))  u_k_over  (.value_i(k_q),     .over_o(k_over));
  esact_cfg_over #(.Width(WW),  .Max(WMax))  u_w_over  (.value_i(w_q),     .over_o(w_over));

  esact_pkg::pred_err_e field_err;
  always_comb begin
    field_err = esact_pkg::PRED_ERR_NONE;
    if (n_q == '0 || n_over) begin
      field_err = esact_pkg::PRED_ERR_N_VALID;
    end else if (d_q == '0 || d_over || (d_q & DW'(Lanes - 1)) != '0) begin
      field_err = esact_pkg::PRED_ERR_D_MODEL;
    end else if (dh_q == '0 || dh_over || (dh_q & DhW'(Lanes - 1)) != '0) begin
      field_err = esact_pkg::PRED_ERR_D_HEAD;
    end else if (heads_q == '0 || h_over) begin
      field_err = esact_pkg::PRED_ERR_HEADS;
    end else if (k_q == '0 || k_over) begin
      field_err = esact_pkg::PRED_ERR_K;
    end else if (w_over) begin
      field_err = esact_pkg::PRED_ERR_W;
    end else if (t_over) begin
      field_err = esact_pkg::PRED_ERR_T;
    end else if (bits_q < BitsW'(esact_pkg::HLOG_MIN_BITS) ||
                 bits_q > BitsW'(esact_pkg::HLOG_MAX_BITS)) begin
      field_err = esact_pkg::PRED_ERR_BITS;
    end
  end

  // ---- W loader: two column slots --------------------------------------------------------

  logic              wl_active_d, wl_active_q;  // columns still to come in this run
  logic              wl_sel_d, wl_sel_q;        // slot being filled
  logic [BeatW-1:0]  wl_beat_d, wl_beat_q;
  logic [DhIdxW-1:0] wl_col_d, wl_col_q;        // column within the head's K or Q half
  logic              wl_qhalf_d, wl_qhalf_q;    // 0: W^_K columns, 1: W^_Q columns
  logic [HeadW-1:0]  wl_head_d, wl_head_q;
  logic [1:0]        slot_full_d, slot_full_q;
  logic              rd_sel_d, rd_sel_q;        // slot being computed with
  logic              slot_release;              // the compute is done with slot rd_sel_q
  logic              w_fire;
  logic [WAW-1:0]    w_waddr;

  assign w_ready_o = wl_active_q && !slot_full_q[wl_sel_q];
  assign w_fire    = w_valid_i && w_ready_o;
  assign w_waddr   = (wl_sel_q ? WAW'(DbMax) : WAW'(0)) + WAW'(wl_beat_q);

  // ---- X in --------------------------------------------------------------------------------

  logic             x_fire;
  logic [WordW-1:0] x_codes;

  assign x_ready_o = (state_q == StXLoad);
  assign x_fire    = x_valid_i && x_ready_o;

  for (genvar l = 0; l < Lanes; l++) begin : g_x_enc
    logic [DataW-1:0] value;
    logic             neg;
    logic [DataW-1:0] mag;  // |x|, 0..128

    assign value = x_data_i[l*DataW +: DataW];
    assign neg   = value[DataW-1];
    assign mag   = neg ? DataW'(-value) : value;

    esact_hlog_enc u_enc (
      .neg_i   (neg),
      .mag_i   (mag),
      .bits_i  (bits_q),
      .round_i (round_q),
      .code_o  (x_codes[l*CodeW +: CodeW])
    );
  end

  // ---- Issue: operand addresses, one beat per cycle into the operand registers ----------
  // XLOAD uses it_beat/it_row/it_addr_a as the X^ write counters. KPROJ/QPROJ: it_col is
  // the W column, it_row the X^ row, it_addr_a the X^ word. PAM: it_col is the row i,
  // it_row the column j, it_addr_a the Q^ row base i*dh/Lanes, it_addr_b the K^ word.

  logic [BeatW-1:0] it_beat_d, it_beat_q;
  logic [IdxW-1:0]  it_row_d, it_row_q;
  logic [ColW-1:0]  it_col_d, it_col_q;
  logic [XAW-1:0]   it_addr_a_d, it_addr_a_q;
  logic [KAW-1:0]   it_addr_b_d, it_addr_b_q;
  logic             it_done_d, it_done_q;  // every beat of the phase issued

  logic             iss_valid, iss_last, iss_fire;
  logic             r_valid_d, r_valid_q;  // the operand registers hold a beat
  logic             r_last_d, r_last_q;    // ... the last of its vector
  logic             r_adv;                 // the operand registers take the next beat
  logic             dot_in_ready;
  logic [XAW-1:0]   x_raddr;
  logic [WAW-1:0]   w_raddr;
  logic [KAW-1:0]   q_raddr, k_raddr;
  logic             beat_last_row;         // last beat of a dot-product vector
  logic             col_last;              // it_col at its last value for the phase

  assign beat_last_row = pam ? (it_beat_q == dhb_last) : (it_beat_q == db_last);
  assign col_last      = pam ? (ColW'(it_col_q) == ColW'(n_last))
                             : (ColW'(it_col_q) == ColW'(dh_last));
  assign iss_valid = !it_done_q && (pam || (proj && slot_full_q[rd_sel_q]));
  assign iss_last  = beat_last_row;
  assign r_adv     = !r_valid_q || dot_in_ready;
  assign iss_fire  = iss_valid && r_adv;

  assign x_raddr = it_addr_a_q;
  assign w_raddr = (rd_sel_q ? WAW'(DbMax) : WAW'(0)) + WAW'(it_beat_q);
  assign q_raddr = KAW'(it_addr_a_q) + KAW'(it_beat_q);
  assign k_raddr = it_addr_b_q;

  assign slot_release = proj && iss_fire && beat_last_row && (it_row_q == n_last);

  // ---- Output side: re-quantization into K^/Q^, or scores into Top-k --------------------

  logic                   dot_out_valid, dot_out_ready, dot_out_fire;
  logic signed [AccW-1:0] dot_sum;
  logic [IdxW-1:0]        ot_a_d, ot_a_q;      // PROJ: row; PAM: column j
  logic [ColW-1:0]        ot_b_d, ot_b_q;      // PROJ: column; PAM: row i
  logic [KAW-1:0]         ot_ptr_d, ot_ptr_q;  // PROJ: K^/Q^ word of (row, column)
  logic                   ot_a_last, ot_b_last, phase_done;
  logic                   topk_in_ready;
  logic [ColW-1:0]        ot_b_next;           // PROJ: next column, its word is >> LaneW

  logic [ColW-1:0]        ot_b_word;
  assign ot_b_next = ot_b_q + ColW'(1);
  assign ot_b_word = ot_b_next >> LaneW;

  assign dot_out_ready = pam ? topk_in_ready : 1'b1;
  assign dot_out_fire  = dot_out_valid && dot_out_ready;
  assign ot_a_last     = (ot_a_q == n_last);
  assign ot_b_last     = pam ? (ColW'(ot_b_q) == ColW'(n_last))
                             : (ColW'(ot_b_q) == ColW'(dh_last));
  assign phase_done    = dot_out_fire && ot_a_last && ot_b_last;

  // ---- Column biases ---------------------------------------------------------------------
  // The loader writes a column's bias into its slot's register with the column's last
  // beat (the slot is free then, so nothing reads the register). With the column's first
  // issued beat (its slot is full) the bias moves into the queue entry column mod 4, which
  // the output side reads at its column ot_b for each of the column's n sums. Register
  // files written before they are read, not reset (the memory idiom of the buffers).

  // Columns c-3..c can be pending when column c starts (its last sum follows a column's
  // last beat by at most 3 cycles), so column mod 4 never overwrites a pending entry.
  localparam int unsigned CbDepth = 4;
  localparam int unsigned CbAW    = 2;

  logic signed [BiasW-1:0] slot_bias_q [2];
  logic signed [BiasW-1:0] col_bias_q [CbDepth];
  logic                    wl_col_end;  // the last beat of a column is taken
  logic                    cb_we;       // the first beat of a projection column issues
  logic signed [BiasW-1:0] proj_bias;   // bias of the column ot_b
  logic signed [BiasW-1:0] proj_sum;    // K~ or Q~ = dot sum + bias

  assign wl_col_end = w_fire && (wl_beat_q == db_last);
  assign cb_we      = proj && iss_fire && (it_row_q == '0) && (it_beat_q == '0);

  always_ff @(posedge clk_i) begin
    if (wl_col_end) begin
      slot_bias_q[wl_sel_q] <= w_bias_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (cb_we) begin
      col_bias_q[CbAW'(it_col_q)] <= slot_bias_q[rd_sel_q];
    end
  end

  assign proj_bias = col_bias_q[CbAW'(ot_b_q)];
  // Sign extension of the dot sum (dot_sum is signed, AccW <= 32), then the bias: a legal
  // bias keeps |sum| <= 2^31 - 1. (A bias outside the bound, which the golden model
  // rejects, wraps modulo 2^32.)
  assign proj_sum  = BiasW'(dot_sum) + proj_bias;

  // Re-quantization (esact::PredictRequant): mag = min(128, |v| >> shift), then HLog.
  // |v| of the most negative sum is 2^(BiasW-1), correct as an unsigned BiasW-bit value.
  logic              rq_neg;
  logic [BiasW-1:0]  rq_abs, rq_shifted;
  logic [DataW-1:0]  rq_mag;
  logic [CodeW-1:0]  rq_code;

  assign rq_neg     = proj_sum[BiasW-1];
  assign rq_abs     = rq_neg ? BiasW'(-proj_sum) : BiasW'(proj_sum);
  assign rq_shifted = rq_abs >> ((state_q == StKProj) ? k_shift_q : q_shift_q);
  assign rq_mag     = (|rq_shifted[BiasW-1:DataW-1]) ? DataW'(128) : DataW'(rq_shifted[6:0]);

  esact_hlog_enc u_rq_enc (
    .neg_i   (rq_neg),
    .mag_i   (rq_mag),
    .bits_i  (bits_q),
    .round_i (round_q),
    .code_o  (rq_code)
  );

  logic             kq_we;    // write the code of (ot_a, ot_b) into K^ or Q^
  logic [Lanes-1:0] kq_lane; // one-hot lane of the column

  assign kq_we = proj && dot_out_fire;
  always_comb begin
    kq_lane = '0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      if ((ColW'(ot_b_q) & ColW'(Lanes - 1)) == ColW'(l)) begin
        kq_lane[l] = 1'b1;
      end
    end
  end

  // ---- Buffers ---------------------------------------------------------------------------
  // Each memory is written and read in its own always_ff with the enable inside: the
  // memory-inference idiom (one write port, one synchronous read port into an operand
  // register), kept out of the _d/_q style of the control state on purpose. No reset:
  // every word is written before it is read (X^ rows < n, W slots marked full, K^/Q^
  // rows < n and columns < dh).

  logic [WordW-1:0] x_buf [XDepth];
  logic [WordW-1:0] w_buf [WDepth];
  logic [WordW-1:0] x_rd_q, w_rd_q, q_rd_q, k_rd_q;  // operand registers (no reset)

  always_ff @(posedge clk_i) begin
    if (x_fire) begin
      x_buf[it_addr_a_q] <= x_codes;
    end
  end

  always_ff @(posedge clk_i) begin
    if (iss_fire && proj) begin
      x_rd_q <= x_buf[x_raddr];
    end
  end

  always_ff @(posedge clk_i) begin
    if (w_fire) begin
      w_buf[w_waddr] <= w_data_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (iss_fire && proj) begin
      w_rd_q <= w_buf[w_raddr];
    end
  end

  for (genvar l = 0; l < Lanes; l++) begin : g_bank
    logic [CodeW-1:0] k_bank [KDepth];
    logic [CodeW-1:0] q_bank [KDepth];

    always_ff @(posedge clk_i) begin
      if (kq_we && kq_lane[l] && state_q == StKProj) begin
        k_bank[ot_ptr_q] <= rq_code;
      end
    end

    always_ff @(posedge clk_i) begin
      if (kq_we && kq_lane[l] && state_q == StQProj) begin
        q_bank[ot_ptr_q] <= rq_code;
      end
    end

    always_ff @(posedge clk_i) begin
      if (iss_fire && pam) begin
        k_rd_q[l*CodeW +: CodeW] <= k_bank[k_raddr];
      end
    end

    always_ff @(posedge clk_i) begin
      if (iss_fire && pam) begin
        q_rd_q[l*CodeW +: CodeW] <= q_bank[q_raddr];
      end
    end
  end

  // ---- Dot-product array -----------------------------------------------------------------

  esact_hlog_dot #(
    .Lanes (Lanes),
    .AccW  (AccW)
  ) u_dot (
    .clk_i (clk_i),
    .rst_ni (rst_ni),
    .in_valid_i  (r_valid_q),
    .in_ready_o  (dot_in_ready),
    .a_i         (pam ? q_rd_q : x_rd_q),
    .b_i         (pam ? k_rd_q : w_rd_q),
    .in_last_i   (r_last_q),
    .out_valid_o (dot_out_valid),
    .out_ready_i (dot_out_ready),
    .out_sum_o   (dot_sum)
  );

  // ---- Top-k and reuse -------------------------------------------------------------------

  logic            topk_cfg_err, reuse_cfg_err;
  logic            mask_valid, mask_ready;
  logic [NMax-1:0] mask;

  esact_topk #(
    .NMax   (NMax),
    .KMax   (KMax),
    .ScoreW (AccW)
  ) u_topk (
    .clk_i (clk_i),
    .rst_ni (rst_ni),
    .cfg_k_i     (k_q),
    .cfg_err_o   (topk_cfg_err),
    .in_valid_i  (pam && dot_out_valid),
    .in_ready_o  (topk_in_ready),
    .in_score_i  (dot_sum),
    .in_pad_i    (1'b0),
    .in_last_i   (ot_a_last),
    .out_valid_o (mask_valid),
    .out_ready_i (mask_ready),
    .out_mask_o  (mask)
  );

  esact_reuse #(
    .NMax (NMax),
    .WMax (WMax),
    .HMax (HMax)
  ) u_reuse (
    .clk_i (clk_i),
    .rst_ni (rst_ni),
    .clear_i       (state_q == StCheck),
    .cfg_w_i       (w_q),
    .cfg_t_i       (t_q),
    .cfg_n_valid_i (n_q),
    .cfg_heads_i   (heads_q),
    .cfg_err_o     (reuse_cfg_err),
    .in_valid_i    (mask_valid),
    .in_ready_o    (mask_ready),
    .in_mask_i     (mask),
    .row_valid_o (row_valid_o),
    .row_ready_i (row_ready_i),
    .row_head_o (row_head_o),
    .row_idx_o (row_idx_o),
    .row_anchor_o (row_anchor_o),
    .row_mask_o (row_mask_o),
    .kv_valid_o (kv_valid_o),
    .kv_ready_i (kv_ready_i),
    .kv_head_o (kv_head_o),
    .kv_mask_o (kv_mask_o),
    .tok_valid_o (tok_valid_o),
    .tok_ready_i (tok_ready_i),
    .tok_idx_o (tok_idx_o),
    .tok_anchor_o (tok_anchor_o)
  );

  // ---- Next state --------------------------------------------------------------------------

  always_comb begin
    state_d     = state_q;
    err_d       = err_q;
    chk_cnt_d   = chk_cnt_q;
    chk_acc_d   = chk_acc_q;
    head_d      = head_q;
    rows_seen_d = rows_seen_q;
    kv_seen_d   = kv_seen_q;
    tok_seen_d  = tok_seen_q;

    wl_active_d = wl_active_q;
    wl_sel_d    = wl_sel_q;
    wl_beat_d   = wl_beat_q;
    wl_col_d    = wl_col_q;
    wl_qhalf_d  = wl_qhalf_q;
    wl_head_d   = wl_head_q;
    slot_full_d = slot_full_q;
    rd_sel_d    = rd_sel_q;

    it_beat_d   = it_beat_q;
    it_row_d    = it_row_q;
    it_col_d    = it_col_q;
    it_addr_a_d = it_addr_a_q;
    it_addr_b_d = it_addr_b_q;
    it_done_d   = it_done_q;
    ot_a_d      = ot_a_q;
    ot_b_d      = ot_b_q;
    ot_ptr_d    = ot_ptr_q;
    r_valid_d   = r_valid_q;
    r_last_d    = r_last_q;
    cfg_d       = cfg_q;

    // Operand registers: take the issued beat, or empty, whenever the dot array moves.
    if (r_adv) begin
      r_valid_d = iss_valid;
      r_last_d  = iss_valid && iss_last;
    end

    // W loader.
    if (w_fire) begin
      wl_beat_d = wl_beat_q + BeatW'(1);
      if (wl_beat_q == db_last) begin
        wl_beat_d             = '0;
        slot_full_d[wl_sel_q] = 1'b1;
        wl_sel_d              = !wl_sel_q;
        wl_col_d              = wl_col_q + DhIdxW'(1);
        if (wl_col_q == dh_last) begin
          wl_col_d   = '0;
          wl_qhalf_d = !wl_qhalf_q;
          if (wl_qhalf_q) begin
            wl_head_d = wl_head_q + HeadW'(1);
            if (wl_head_q == head_last) begin
              wl_active_d = 1'b0;
            end
          end
        end
      end
    end
    if (slot_release) begin
      slot_full_d[rd_sel_q] = 1'b0;
      rd_sel_d              = !rd_sel_q;
    end

    // X load counters.
    if (x_fire) begin
      it_beat_d   = it_beat_q + BeatW'(1);
      it_addr_a_d = it_addr_a_q + XAW'(1);
      if (it_beat_q == db_last) begin
        it_beat_d = '0;
        it_row_d  = it_row_q + IdxW'(1);
      end
    end

    // Issue counters.
    if (iss_fire) begin
      it_beat_d = it_beat_q + BeatW'(1);
      if (proj) begin
        it_addr_a_d = it_addr_a_q + XAW'(1);
      end else begin
        it_addr_b_d = it_addr_b_q + KAW'(1);
      end
      if (beat_last_row) begin
        it_beat_d = '0;
        it_row_d  = it_row_q + IdxW'(1);
        if (it_row_q == n_last) begin
          it_row_d = '0;
          it_col_d = it_col_q + ColW'(1);
          if (proj) begin
            it_addr_a_d = '0;
          end else begin
            it_addr_b_d = '0;
            it_addr_a_d = it_addr_a_q + XAW'(dhb);
          end
          if (col_last) begin
            it_done_d = 1'b1;
          end
        end
      end
    end

    // Output counters.
    if (dot_out_fire) begin
      ot_a_d = ot_a_q + IdxW'(1);
      if (proj) begin
        ot_ptr_d = ot_ptr_q + dhb;
      end
      if (ot_a_last) begin
        ot_a_d   = '0;
        ot_b_d   = ot_b_next;
        ot_ptr_d = KAW'(ot_b_word);
      end
    end

    // Layer outputs taken.
    if (row_valid_o && row_ready_i && row_head_o == head_last && row_idx_o == n_last) begin
      rows_seen_d = 1'b1;
    end
    if (kv_valid_o && kv_ready_i && kv_head_o == head_last) begin
      kv_seen_d = 1'b1;
    end
    if (tok_valid_o && tok_ready_i && tok_idx_o == n_last) begin
      tok_seen_d = 1'b1;
    end

    // Phase sequencing. A new phase starts with every issue and output counter at zero.
    unique case (state_q)
      StIdle: begin
        if (start_i) begin
          state_d     = StCheck;
          cfg_d       = cfg_in;
          err_d       = esact_pkg::PRED_ERR_NONE;
          chk_cnt_d   = '0;
          chk_acc_d   = '0;
          rows_seen_d = 1'b0;
          kv_seen_d   = 1'b0;
          tok_seen_d  = 1'b0;
        end
      end
      StCheck: begin
        if (field_err != esact_pkg::PRED_ERR_NONE) begin
          err_d   = field_err;
          state_d = StDone;
        end else if (chk_cnt_q == heads_q) begin
          if (CmpW'(chk_acc_q) != CmpW'(d_q)) begin
            err_d   = esact_pkg::PRED_ERR_HEAD_SPLIT;
            state_d = StDone;
          end else begin
            state_d     = StXLoad;
            head_d      = '0;
            wl_active_d = 1'b1;
            wl_sel_d    = 1'b0;
            wl_beat_d   = '0;
            wl_col_d    = '0;
            wl_qhalf_d  = 1'b0;
            wl_head_d   = '0;
            slot_full_d = '0;
            rd_sel_d    = 1'b0;
            it_beat_d   = '0;
            it_row_d    = '0;
            it_col_d    = '0;
            it_addr_a_d = '0;
            it_addr_b_d = '0;
            it_done_d   = 1'b0;
            ot_a_d      = '0;
            ot_b_d      = '0;
            ot_ptr_d    = '0;
          end
        end else begin
          chk_cnt_d = chk_cnt_q + HW'(1);
          chk_acc_d = chk_acc_q + ChkW'(dh_q);
        end
      end
      StXLoad: begin
        if (x_fire && it_beat_q == db_last && it_row_q == n_last) begin
          state_d     = StKProj;
          it_beat_d   = '0;
          it_row_d    = '0;
          it_addr_a_d = '0;
        end
      end
      StKProj, StQProj, StPam: begin
        if (phase_done) begin
          it_beat_d   = '0;
          it_row_d    = '0;
          it_col_d    = '0;
          it_addr_a_d = '0;
          it_addr_b_d = '0;
          it_done_d   = 1'b0;
          ot_a_d      = '0;
          ot_b_d      = '0;
          ot_ptr_d    = '0;
          if (state_q == StKProj) begin
            state_d = StQProj;
          end else if (state_q == StQProj) begin
            state_d = StPam;
          end else if (head_q == head_last) begin
            state_d = StDrain;
          end else begin
            state_d = StKProj;
            head_d  = head_q + HeadW'(1);
          end
        end
      end
      StDrain: begin
        if (rows_seen_q && kv_seen_q && tok_seen_q) begin
          state_d = StDone;
        end
      end
      StDone: begin
        state_d = StIdle;
      end
      default: begin
        state_d = StIdle;
      end
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      err_q       <= esact_pkg::PRED_ERR_NONE;
      chk_cnt_q   <= '0;
      chk_acc_q   <= '0;
      head_q      <= '0;
      rows_seen_q <= 1'b0;
      kv_seen_q   <= 1'b0;
      tok_seen_q  <= 1'b0;
      wl_active_q <= 1'b0;
      wl_sel_q    <= 1'b0;
      wl_beat_q   <= '0;
      wl_col_q    <= '0;
      wl_qhalf_q  <= 1'b0;
      wl_head_q   <= '0;
      slot_full_q <= '0;
      rd_sel_q    <= 1'b0;
      it_beat_q   <= '0;
      it_row_q    <= '0;
      it_col_q    <= '0;
      it_addr_a_q <= '0;
      it_addr_b_q <= '0;
      it_done_q   <= 1'b0;
      ot_a_q      <= '0;
      ot_b_q      <= '0;
      ot_ptr_q    <= '0;
      r_valid_q   <= 1'b0;
      r_last_q    <= 1'b0;
      cfg_q       <= '0;
    end else begin
      state_q     <= state_d;
      err_q       <= err_d;
      chk_cnt_q   <= chk_cnt_d;
      chk_acc_q   <= chk_acc_d;
      head_q      <= head_d;
      rows_seen_q <= rows_seen_d;
      kv_seen_q   <= kv_seen_d;
      tok_seen_q  <= tok_seen_d;
      wl_active_q <= wl_active_d;
      wl_sel_q    <= wl_sel_d;
      wl_beat_q   <= wl_beat_d;
      wl_col_q    <= wl_col_d;
      wl_qhalf_q  <= wl_qhalf_d;
      wl_head_q   <= wl_head_d;
      slot_full_q <= slot_full_d;
      rd_sel_q    <= rd_sel_d;
      it_beat_q   <= it_beat_d;
      it_row_q    <= it_row_d;
      it_col_q    <= it_col_d;
      it_addr_a_q <= it_addr_a_d;
      it_addr_b_q <= it_addr_b_d;
      it_done_q   <= it_done_d;
      ot_a_q      <= ot_a_d;
      ot_b_q      <= ot_b_d;
      ot_ptr_q    <= ot_ptr_d;
      r_valid_q   <= r_valid_d;
      r_last_q    <= r_last_d;
      cfg_q       <= cfg_d;
    end
  end

  assign busy_o     = (state_q != StIdle);
  assign done_o     = (state_q == StDone);
  assign err_code_o = err_q;
  assign err_o      = (err_q != esact_pkg::PRED_ERR_NONE);

  // ---- Assertions ------------------------------------------------------------------------

  // Input contracts (the upstream's promise, checked here) hold within a run: after done_o
  // a source may withdraw what it offered (an errored run takes nothing).
  logic in_run;
  assign in_run = busy_o && !done_o;
  `ESACT_ASSERT(XValidHeld_A, in_run && x_valid_i && !x_ready_o |=> x_valid_i)
  `ESACT_ASSERT(XDataStable_A, in_run && x_valid_i && !x_ready_o |=> $stable(x_data_i))
  `ESACT_ASSERT(WValidHeld_A, in_run && w_valid_i && !w_ready_o |=> w_valid_i)
  `ESACT_ASSERT(WDataStable_A,
      in_run && w_valid_i && !w_ready_o |=> $stable({w_data_i, w_bias_i}))
  // A configuration that passed CHECK is legal for Top-k and reuse too.
  `ESACT_ASSERT(SubCfgLegal_A,
      state_q inside {StXLoad, StKProj, StQProj, StPam, StDrain} |->
      !topk_cfg_err && !reuse_cfg_err)
  // Buffer addresses stay inside the run's rows and columns.
  `ESACT_ASSERT(XAddrRange_A, (x_fire || (iss_fire && proj)) |-> 32'(it_addr_a_q) < XDepth)
  `ESACT_ASSERT(KAddrRange_A, iss_fire && pam |-> 32'(k_raddr) < KDepth && 32'(q_raddr) < KDepth)
  `ESACT_ASSERT(KWriteRange_A, kq_we |-> 32'(ot_ptr_q) < KDepth)
  // The W slot being computed with is full; the loader never overwrites a full slot.
  `ESACT_ASSERT(WSlotFull_A, iss_fire && proj |-> slot_full_q[rd_sel_q])
  `ESACT_ASSERT(WSlotFree_A, w_fire |-> !slot_full_q[wl_sel_q])
  // A column's bias enters the queue only when the entry it takes is no longer pending:
  // the output side is at most CbDepth - 1 columns behind the issue side.
  `ESACT_ASSERT(ColBiasFree_A, cb_we |-> 32'(ColW'(it_col_q - ot_b_q)) < CbDepth)
  // The re-quantized magnitude is a legal encoder input.
  `ESACT_ASSERT(RequantRange_A, kq_we |-> rq_mag <= DataW'(128))
  // Dot results only arrive in a compute phase; done comes with busy.
  `ESACT_ASSERT(DotOutInPhase_A, dot_out_valid |-> proj || pam)
  `ESACT_ASSERT(DoneWhileBusy_A, done_o |-> busy_o)
  // No output beat outside a run.
  `ESACT_ASSERT(NoRowWhenIdle_A, !busy_o |-> !row_valid_o && !kv_valid_o && !tok_valid_o)

endmodule
