// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Sparse attention engine: for one head, the context rows of the anchor rows over each
/// row's own key list. Bit-exact with esact::AttendRow (golden/engines.h, docs/spls.md
/// section 7): scores q . k_j (int32 in the golden, ScoreW bits here, exact), the integer
/// softmax IntSoftmax, then ctx[c] = Requantize(sum_j p_j v_j[c], ctx_rq).
///
/// Run (one head): configure the cfg_* inputs, pulse start_i while busy_o is low (start_i
/// is ignored while busy). The configuration is sampled on the start edge. The unit then
///   1. checks the configuration (CHECK, 1 cycle);
///   2. takes n_kv K/V beats (LOAD): a row index and the d_head int8 of K and of V of that
///      row (any order; a repeated index overwrites). Only the columns some anchor needs
///      are sent (compaction): a column never sent costs nothing;
///   3. per anchor, n_rows times: takes one Q beat (a row index, the Q row, and the key
///      mask: bit j set = key j in the row's list, the list ascending), then computes
///      SCORE (q . k_j for each key, Lanes MACs per cycle), EXP (one key per cycle:
///      exponent, LUT, sum), RECIP (16-step divider), PV (sum_j p_j v_j, Lanes MACs per
///      cycle, then requantization) and hands the context row to the output register;
///   4. waits until the last context beat is taken and raises done_o for one cycle.
/// Rows that reuse an anchor's context are never sent: they cost nothing here.
///
/// Beats: lane c (column c of the head) of kv_k_i, kv_v_i, q_data_i, ctx_data_o is at
/// [8*c +: 8]. Lanes c >= d_head of the inputs are ignored; those of ctx_data_o are 0.
/// ctx_idx_o repeats the Q beat's row index; contexts leave in Q order.
///
/// busy_o is high from the cycle after the start edge up to and including the done_o
/// cycle. err_o / err_code_o are valid from the done_o cycle on and hold until the next
/// start; ATTN_ERR_NONE for a completed run. Errors (esact_pkg::attn_err_e):
///   - configuration (CHECK, first failing check): N_VALID (n_valid 0 or > NMax), D_HEAD
///     (0 or > DhMax), N_KV (0 or > n_valid), N_ROWS (0 or > n_valid), SM_SHIFT,
///     CTX_SHIFT (> 47). 2 cycles from the start edge to done_o; nothing is consumed.
///   - stream: KV_IDX (a K/V index >= n_valid), Q_IDX (a Q index >= n_valid),
///     MASK_EMPTY, MASK_PAD (a mask bit >= n_valid: padded columns are never keys),
///     MASK_KV (a mask bit on a row that was not loaded in this run). The offending beat
///     is taken, nothing more is consumed, a context beat already in the output register
///     is still delivered, then done_o rises.
/// The K/V and Q sources keep the valid/ready contract from the start edge to done_o;
/// after it they may withdraw beats the unit did not take. Every mult (16 bits) is legal.
///
/// Datapath: one MAC array of Lanes signed 9 x 8 multipliers, shared by SCORE (a = q,
/// b = K, summed by an adder tree into one score) and PV (a = p for every lane, b = V,
/// one accumulator per lane). Beats go through a fixed pipeline without back-pressure:
///   issue (buffer read) -> R (row/score registers) -> O (operand registers; PV: the
///   probability p = min(255, RoundShift(e * r, 22)) is formed here) -> P (products) ->
///   A (SCORE: tree + accumulate, score to the score buffer, running max; PV: per-lane
///   accumulate, at a chunk's last key into the requant register) -> Q (PV: Lanes
///   esact_requant into the context assembly register).
/// EXP reads the score buffer, esact_attn_exp turns max - s into e (1 register stage),
/// e overwrites the score and is summed; esact_attn_recip divides 2^30 by the sum.
/// SCORE runs key-major (for each key its ceil(dh/Lanes) chunks); PV chunk-major (for
/// each chunk of Lanes columns all keys), so it needs Lanes accumulators, not DhMax.
///
/// Buffers (unpacked arrays, written before they are read, not reset):
///   K, V   NMax x DhMax*8 bits each; written by a K/V beat (one full row), read one row
///          per issue into a row register, the Lanes-column chunk picked in stage O
///   S      NMax x ScoreW bits: the scores of the row's keys by list position, then their e
///
/// Cycle count without stalls, per anchor row with k keys, nb = ceil(d_head / Lanes):
///   T_row = 1 (Q) + (k nb + 3) (SCORE) + (k + 2) (EXP) + 17 (RECIP) + (k nb + 4) (PV)
///           + 1 (OUT) = 2 k nb + k + 28
///   T     = 2 + n_kv + sum_rows T_row + 1     start edge to the edge that raises done_o
/// docs/architecture.md section "esact_attn"; tests/rtl_attn_test.cc checks T exactly.
`include "esact_assert.svh"

module esact_attn #(
  parameter  int unsigned NMax  /*verilator public*/ = 16,  ///< max tokens (keys, rows), >= 2
  parameter  int unsigned DhMax /*verilator public*/ = 8,   ///< max head width
  parameter  int unsigned Lanes /*verilator public*/ = 4,   ///< MACs per cycle; 2^m, Lanes | DhMax
  /// Row index width (at least 1), count widths, row bus width.
  localparam int unsigned IdxW  = ($clog2(NMax) > 1) ? $clog2(NMax) : 1,
  localparam int unsigned NW    = $clog2(NMax + 1),
  localparam int unsigned DhW   = $clog2(DhMax + 1),
  localparam int unsigned RowW  = DhMax * esact_pkg::INT8_W
) (
  input  logic                                 clk_i,
  input  logic                                 rst_ni,
  // Run-time configuration, sampled at start_i
  input  logic [NW-1:0]                        cfg_n_valid_i,   ///< valid tokens, 1..NMax
  input  logic [DhW-1:0]                       cfg_d_head_i,    ///< dh, 1..DhMax
  input  logic [NW-1:0]                        cfg_n_kv_i,      ///< K/V beats, 1..n_valid
  input  logic [NW-1:0]                        cfg_n_rows_i,    ///< anchor rows, 1..n_valid
  input  logic [esact_pkg::REQ_MULT_W-1:0]     cfg_sm_mult_i,   ///< softmax_rq.mult
  input  logic [esact_pkg::REQ_SHIFT_W-1:0]    cfg_sm_shift_i,  ///< softmax_rq.shift, 0..47
  input  logic [esact_pkg::REQ_MULT_W-1:0]     cfg_ctx_mult_i,  ///< ctx_rq.mult
  input  logic [esact_pkg::REQ_SHIFT_W-1:0]    cfg_ctx_shift_i, ///< ctx_rq.shift, 0..47
  // Control
  input  logic                                 start_i,
  output logic                                 busy_o,
  output logic                                 done_o,          ///< one-cycle pulse
  output logic                                 err_o,
  output esact_pkg::attn_err_e                 err_code_o,
  // K/V rows: index, K row, V row
  input  logic                                 kv_valid_i,
  output logic                                 kv_ready_o,
  input  logic [IdxW-1:0]                      kv_idx_i,
  input  logic [RowW-1:0]                      kv_k_i,
  input  logic [RowW-1:0]                      kv_v_i,
  // Anchor rows: index, Q row, key mask
  input  logic                                 q_valid_i,
  output logic                                 q_ready_o,
  input  logic [IdxW-1:0]                      q_idx_i,
  input  logic [RowW-1:0]                      q_data_i,
  input  logic [NMax-1:0]                      q_mask_i,
  // Context rows
  output logic                                 ctx_valid_o,
  input  logic                                 ctx_ready_i,
  output logic [IdxW-1:0]                      ctx_idx_o,
  output logic [RowW-1:0]                      ctx_data_o
);

  // ---- Widths and sizes ------------------------------------------------------------------

  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned MultW  = esact_pkg::REQ_MULT_W;
  localparam int unsigned ShW    = esact_pkg::REQ_SHIFT_W;
  localparam int unsigned LW     = Lanes * DataW;            // one chunk of Lanes columns
  localparam int unsigned NbMax  = DhMax / Lanes;            // chunks per row
  localparam int unsigned CW     = ($clog2(NbMax) > 1) ? $clog2(NbMax) : 1;
  localparam int unsigned LaneSh = $clog2(Lanes);
  /// |q . k| <= 2^14 dh; one bit more than needed, so the adder tree (ProdW + log2 Lanes)
  /// always fits.
  localparam int unsigned ScoreW = 17 + $clog2(DhMax);
  localparam int unsigned EW     = esact_pkg::SOFTMAX_EXP_BITS + 1;   // e, r <= 2^15
  localparam int unsigned SumW   = EW + $clog2(NMax);                 // sum <= NMax 2^15
  localparam int unsigned ProbW  = esact_pkg::SOFTMAX_PROB_BITS;      // p <= 255
  localparam int unsigned RecipB = esact_pkg::SOFTMAX_RECIP_BITS;
  localparam int unsigned PeW    = 2 * EW;                            // e * r <= 2^30
  /// |sum_j p_j v_j| <= 255 * 128 * NMax < 2^(15 + log2 NMax).
  localparam int unsigned AccW   = 16 + $clog2(NMax);
  localparam int unsigned AW     = ProbW + 1;                         // q int8 or p uint8
  localparam int unsigned ProdW  = AW + DataW;
  localparam int unsigned Levels = $clog2(Lanes);
  localparam int unsigned Leaves = 1 << Levels;
  localparam int unsigned TreeW  = ProdW + Levels;

  `ESACT_ASSERT_INIT(NMaxLegal_A, NMax >= 2 && NMax <= 4096)
  `ESACT_ASSERT_INIT(LanesPow2_A, Lanes >= 1 && (Lanes & (Lanes - 1)) == 0)
  `ESACT_ASSERT_INIT(DhMaxLegal_A, DhMax >= Lanes && (DhMax & (Lanes - 1)) == 0 && DhMax <= 1024)

  // ---- Sampled configuration -------------------------------------------------------------

  localparam int unsigned CfgW = 3 * NW + DhW + 2 * (MultW + ShW);

  logic [CfgW-1:0]  cfg_in, cfg_d, cfg_q;
  logic [NW-1:0]    n_q, nkv_q, nrows_q;
  logic [DhW-1:0]   dh_q;
  logic [MultW-1:0] smm_q, cxm_q;
  logic [ShW-1:0]   sms_q, cxs_q;

  assign cfg_in = {cfg_n_valid_i, cfg_d_head_i, cfg_n_kv_i, cfg_n_rows_i, cfg_sm_mult_i,
                   cfg_sm_shift_i, cfg_ctx_mult_i, cfg_ctx_shift_i};
  assign {n_q, dh_q, nkv_q, nrows_q, smm_q, sms_q, cxm_q, cxs_q} = cfg_q;

  // Derived (valid once CHECK has passed): the last chunk, the live columns, the valid keys.
  logic [DhW:0]     dh_up;
  logic [CW-1:0]    nb_last;    // ceil(dh / Lanes) - 1
  logic [RowW-1:0]  lane_bits;  // all ones on the bytes of columns < dh
  logic [NMax-1:0]  col_ok;     // key j < n_valid

  assign dh_up   = {1'b0, dh_q} + (DhW + 1)'(Lanes - 1);
  assign nb_last = CW'((dh_up >> LaneSh) - (DhW + 1)'(1));

  always_comb begin
    for (int unsigned c = 0; c < DhMax; c++) begin
      lane_bits[c*DataW +: DataW] = (DhW'(c) < dh_q) ? {DataW{1'b1}} : '0;
    end
    for (int unsigned j = 0; j < NMax; j++) begin
      col_ok[j] = NW'(j) < n_q;
    end
  end

  // ---- Control state ---------------------------------------------------------------------

  typedef enum logic [3:0] {
    StIdle  = 4'd0,
    StCheck = 4'd1,   // configuration check
    StLoad  = 4'd2,   // K/V rows in
    StQ     = 4'd3,   // waiting for an anchor row
    StScore = 4'd4,   // q . k_j into the score buffer
    StExp   = 4'd5,   // e_j and their sum
    StRecip = 4'd6,   // floor(2^30 / sum)
    StPv    = 4'd7,   // sum_j p_j v_j, requantized into the context register
    StOut   = 4'd8,   // context to the output register
    StDrain = 4'd9,   // the last context beat leaves
    StDone  = 4'd10   // done_o
  } state_e;

  state_e               state_d, state_q;
  esact_pkg::attn_err_e err_d, err_q;
  logic [NMax-1:0]      ld_d, ld_q;           // K/V row j loaded in this run
  logic [NW-1:0]        kv_cnt_d, kv_cnt_q;   // K/V beats taken
  logic [NW-1:0]        rows_d, rows_q;       // anchor rows completed
  logic [IdxW-1:0]      qidx_d, qidx_q;       // row index of the current anchor
  logic [NMax-1:0]      mask_d, mask_q;       // key mask of the current anchor
  logic [NMax-1:0]      rem_d, rem_q;         // keys still to issue in this pass
  logic [IdxW-1:0]      s_d, s_q;             // list position of the key being issued
  logic [CW-1:0]        c_d, c_q;             // chunk being issued
  logic                 iss_done_d, iss_done_q;  // every beat of the phase issued
  logic [IdxW-1:0]      klast_d, klast_q;     // k - 1

  // ---- Configuration check ---------------------------------------------------------------

  logic n_over, dh_over, sms_over, cxs_over;

  esact_cfg_over #(.Width(NW),  .Max(NMax))  u_n_over  (.value_i(n_q),  .over_o(n_over));
  esact_cfg_over #(.Width(DhW), .Max(DhMax)) u_dh_over (.value_i(dh_q), .over_o(dh_over));
  esact_cfg_over #(.Width(ShW), .Max(esact_pkg::REQ_MAX_SHIFT)) u_sms_over (
    .value_i(sms_q), .over_o(sms_over));
  esact_cfg_over #(.Width(ShW), .Max(esact_pkg::REQ_MAX_SHIFT)) u_cxs_over (
    .value_i(cxs_q), .over_o(cxs_over));

  esact_pkg::attn_err_e field_err;
  always_comb begin
    field_err = esact_pkg::ATTN_ERR_NONE;
    if (n_q == '0 || n_over) begin
      field_err = esact_pkg::ATTN_ERR_N_VALID;
    end else if (dh_q == '0 || dh_over) begin
      field_err = esact_pkg::ATTN_ERR_D_HEAD;
    end else if (nkv_q == '0 || nkv_q > n_q) begin
      field_err = esact_pkg::ATTN_ERR_N_KV;
    end else if (nrows_q == '0 || nrows_q > n_q) begin
      field_err = esact_pkg::ATTN_ERR_N_ROWS;
    end else if (sms_over) begin
      field_err = esact_pkg::ATTN_ERR_SM_SHIFT;
    end else if (cxs_over) begin
      field_err = esact_pkg::ATTN_ERR_CTX_SHIFT;
    end
  end

  // ---- K/V and Q streams -----------------------------------------------------------------

  logic                 kv_fire, kv_bad, kv_we;
  logic                 q_fire;
  esact_pkg::attn_err_e q_err;

  assign kv_ready_o = (state_q == StLoad);
  assign kv_fire    = kv_valid_i && kv_ready_o;
  assign kv_bad     = NW'(kv_idx_i) >= n_q;
  assign kv_we      = kv_fire && !kv_bad;

  assign q_ready_o = (state_q == StQ);
  assign q_fire    = q_valid_i && q_ready_o;

  always_comb begin
    q_err = esact_pkg::ATTN_ERR_NONE;
    if (NW'(q_idx_i) >= n_q) begin
      q_err = esact_pkg::ATTN_ERR_Q_IDX;
    end else if (q_mask_i == '0) begin
      q_err = esact_pkg::ATTN_ERR_MASK_EMPTY;
    end else if ((q_mask_i & ~col_ok) != '0) begin
      q_err = esact_pkg::ATTN_ERR_MASK_PAD;
    end else if ((q_mask_i & ~ld_q) != '0) begin
      q_err = esact_pkg::ATTN_ERR_MASK_KV;
    end
  end

  // ---- Issue: the next key of the pass (lowest set bit of rem) ---------------------------

  logic [NMax-1:0] low;       // one-hot lowest set bit of rem_q
  logic [NMax-1:0] rem_next;  // rem_q without it
  logic [IdxW-1:0] key_j;     // its index
  logic            key_last;  // it is the last key of the pass
  logic            iss;       // a beat issues this cycle
  logic            c_last;    // the chunk being issued is the row's last

  assign low      = rem_q & (~rem_q + NMax'(1));
  assign rem_next = rem_q & ~low;
  assign key_last = (rem_next == '0);
  assign c_last   = (c_q == nb_last);

  always_comb begin
    key_j = '0;
    for (int unsigned j = 0; j < NMax; j++) begin
      if (low[j]) begin
        key_j = key_j | IdxW'(j);
      end
    end
  end

  assign iss = ((state_q == StScore) || (state_q == StExp) || (state_q == StPv)) && !iss_done_q;

  // ---- Pipeline registers ----------------------------------------------------------------

  // R: buffer read registers and the tags of the issued beat.
  logic              r_valid_d, r_valid_q;
  logic              r_last_d, r_last_q;    // SCORE: last chunk of a key; PV: last key
  logic              r_final_d, r_final_q;  // last beat of the phase
  logic [IdxW-1:0]   r_s_d, r_s_q;
  logic [CW-1:0]     r_c_d, r_c_q;
  logic [RowW-1:0]   k_row_q, v_row_q;      // buffer read registers (no reset)
  logic [ScoreW-1:0] sb_rd_q;

  // O: operand registers (SCORE and PV).
  logic               o_valid_d, o_valid_q;
  logic               o_last_d, o_last_q;
  logic               o_final_d, o_final_q;
  logic [IdxW-1:0]    o_s_d, o_s_q;
  logic [CW-1:0]      o_c_d, o_c_q;
  logic [Lanes*AW-1:0] a_op_d, a_op_q;       // lane l at [AW*l +: AW], signed
  logic [LW-1:0]      b_op_d, b_op_q;        // lane l at [8*l +: 8], signed

  // P: products.
  logic                   p_valid_d, p_valid_q;
  logic                   p_last_d, p_last_q;
  logic                   p_final_d, p_final_q;
  logic [IdxW-1:0]        p_s_d, p_s_q;
  logic [CW-1:0]          p_c_d, p_c_q;
  logic [Lanes*ProdW-1:0] prod_d, prod_q;    // lane l at [ProdW*l +: ProdW], signed

  // A: score accumulator, running max, per-lane P.V accumulators; Q: requant register.
  logic signed [ScoreW-1:0] sacc_d, sacc_q;
  logic signed [ScoreW-1:0] max_d, max_q;
  logic [Lanes*AccW-1:0]    acc_d, acc_q;    // lane l at [AccW*l +: AccW], signed
  logic                     res_valid_d, res_valid_q;
  logic                     res_final_d, res_final_q;
  logic [CW-1:0]            res_c_d, res_c_q;
  logic [Lanes*AccW-1:0]    res_d, res_q;

  // EXP: tags beside esact_attn_exp's register; the running sum.
  logic [IdxW-1:0]   ex_s_d, ex_s_q;
  logic              ex_final_d, ex_final_q;
  logic [SumW-1:0]   sum_d, sum_q;

  // Rows.
  logic [RowW-1:0]   q_d, q_q;              // Q row, columns >= dh zeroed
  logic [RowW-1:0]   asm_d, asm_q;          // context being assembled
  logic              ctx_valid_d, ctx_valid_q;
  logic [IdxW-1:0]   ctx_idx_d, ctx_idx_q;
  logic [RowW-1:0]   ctx_data_d, ctx_data_q;

  // ---- Buffers ---------------------------------------------------------------------------
  // Each memory is written and read in its own always_ff with the enable inside (one write
  // port, one synchronous read port into a read register). No reset: a K/V row is read
  // only if its ld bit is set (MASK_KV otherwise), a score-buffer entry only after SCORE
  // (scores) or EXP (e) of the same row wrote it.

  logic [RowW-1:0]   k_mem [NMax];
  logic [RowW-1:0]   v_mem [NMax];
  logic [ScoreW-1:0] s_mem [NMax];

  logic              sb_we;
  logic [IdxW-1:0]   sb_waddr;
  logic [ScoreW-1:0] sb_wdata;

  always_ff @(posedge clk_i) begin
    if (kv_we) begin
      k_mem[kv_idx_i] <= kv_k_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (kv_we) begin
      v_mem[kv_idx_i] <= kv_v_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (iss && state_q == StScore) begin
      k_row_q <= k_mem[key_j];
    end
  end

  always_ff @(posedge clk_i) begin
    if (iss && state_q == StPv) begin
      v_row_q <= v_mem[key_j];
    end
  end

  always_ff @(posedge clk_i) begin
    if (sb_we) begin
      s_mem[sb_waddr] <= sb_wdata;
    end
  end

  always_ff @(posedge clk_i) begin
    if (iss && (state_q == StExp || state_q == StPv)) begin
      sb_rd_q <= s_mem[s_q];
    end
  end

  // ---- Stage O: chunk select, probability, operands --------------------------------------

  logic [LW-1:0]    q_chunk, k_chunk, v_chunk;
  logic [EW-1:0]    recip;
  logic [PeW-1:0]   pe;          // e * r
  logic [PeW-1:0]   pr;          // RoundShift(e * r, 22)
  logic [ProbW-1:0] prob;

  always_comb begin
    q_chunk = q_q[LW-1:0];
    k_chunk = k_row_q[LW-1:0];
    v_chunk = v_row_q[LW-1:0];
    for (int unsigned b = 1; b < NbMax; b++) begin
      if (r_c_q == CW'(b)) begin
        q_chunk = q_q[b*LW +: LW];
        k_chunk = k_row_q[b*LW +: LW];
        v_chunk = v_row_q[b*LW +: LW];
      end
    end
  end

  // p = min(255, RoundShift(e * r, 22)) (SoftmaxProb): e * r <= 2^30, so pr <= 256.
  assign pe   = PeW'(sb_rd_q[EW-1:0]) * PeW'(recip);
  assign pr   = (pe + (PeW'(1) << (RecipB - ProbW - 1))) >> (RecipB - ProbW);
  assign prob = (pr > PeW'((1 << ProbW) - 1)) ? {ProbW{1'b1}} : pr[ProbW-1:0];

  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      if (state_q == StScore) begin
        a_op_d[l*AW +: AW] = {q_chunk[l*DataW + DataW - 1], q_chunk[l*DataW +: DataW]};
      end else begin
        a_op_d[l*AW +: AW] = {1'b0, prob};
      end
    end
    b_op_d    = (state_q == StScore) ? k_chunk : v_chunk;
    o_valid_d = r_valid_q && (state_q == StScore || state_q == StPv);
    o_last_d  = r_last_q;
    o_final_d = r_final_q;
    o_s_d     = r_s_q;
    o_c_d     = r_c_q;
  end

  // ---- Stage P: Lanes signed 9 x 8 products ----------------------------------------------

  for (genvar l = 0; l < Lanes; l++) begin : g_mac
    logic signed [AW-1:0]    a;
    logic signed [DataW-1:0] b;
    assign a = $signed(a_op_q[l*AW +: AW]);
    assign b = $signed(b_op_q[l*DataW +: DataW]);
    assign prod_d[l*ProdW +: ProdW] = ProdW'(a) * ProdW'(b);
  end

  assign p_valid_d = o_valid_q;
  assign p_last_d  = o_last_q;
  assign p_final_d = o_final_q;
  assign p_s_d     = o_s_q;
  assign p_c_d     = o_c_q;

  // ---- Stage A: adder tree and accumulators ----------------------------------------------
  // Heap layout as in esact_hlog_dot: node n = node 2n+1 + node 2n+2, leaves at
  // Leaves-1 .. 2 Leaves-2 (a flat vector: Yosys 0.23 warns about an unpacked array read
  // inside the process that writes it).

  localparam int unsigned Nodes = (Leaves << 1) - 1;

  logic [Nodes*TreeW-1:0]   node;
  logic signed [ScoreW-1:0] tree_sum;   // the beat's Lanes products
  logic signed [ScoreW-1:0] score;      // sacc + tree_sum

  always_comb begin
    node = '0;
    for (int unsigned l = 0; l < Leaves; l++) begin
      if (l < Lanes) begin
        node[(Leaves - 1 + l)*TreeW +: TreeW] = TreeW'($signed(prod_q[l*ProdW +: ProdW]));
      end
    end
    for (int unsigned k = 1; k < Leaves; k++) begin  // node n = Leaves - 1 - k
      node[(Leaves - 1 - k)*TreeW +: TreeW] =
          node[(((Leaves - 1 - k) << 1) + 1)*TreeW +: TreeW] +
          node[(((Leaves - 1 - k) << 1) + 2)*TreeW +: TreeW];
    end
  end

  assign tree_sum = ScoreW'($signed(node[TreeW-1:0]));
  assign score    = sacc_q + tree_sum;

  logic [Lanes*AccW-1:0] lane_sum;  // acc + product, per lane

  for (genvar l = 0; l < Lanes; l++) begin : g_acc
    assign lane_sum[l*AccW +: AccW] =
        acc_q[l*AccW +: AccW] + AccW'($signed(prod_q[l*ProdW +: ProdW]));
  end

  logic score_we;   // SCORE: a key's score is complete
  logic pv_step;    // PV: a beat accumulates
  assign score_we = p_valid_q && p_last_q && (state_q == StScore);
  assign pv_step  = p_valid_q && (state_q == StPv);

  always_comb begin
    sacc_d      = sacc_q;
    max_d       = max_q;
    acc_d       = acc_q;
    res_d       = res_q;
    res_valid_d = pv_step && p_last_q;
    res_final_d = p_final_q;
    res_c_d     = p_c_q;
    if (p_valid_q && state_q == StScore) begin
      sacc_d = p_last_q ? '0 : score;
      if (p_last_q && (p_s_q == '0 || score > max_q)) begin
        max_d = score;
      end
    end
    if (pv_step) begin
      acc_d = p_last_q ? '0 : lane_sum;
      if (p_last_q) begin
        res_d = lane_sum;
      end
    end
    if (q_fire) begin
      sacc_d = '0;
      acc_d  = '0;
    end
  end

  // ---- Stage Q: requantization into the context register ---------------------------------

  logic [LW-1:0] rq;

  for (genvar l = 0; l < Lanes; l++) begin : g_rq
    esact_requant #(
      .AccW (AccW)
    ) u_rq (
      .acc_i   (res_q[l*AccW +: AccW]),
      .mult_i  (cxm_q),
      .shift_i (cxs_q),
      .y_o     (rq[l*DataW +: DataW])
    );
  end

  always_comb begin
    asm_d = asm_q;
    if (res_valid_q) begin
      for (int unsigned b = 0; b < NbMax; b++) begin
        if (res_c_q == CW'(b)) begin
          asm_d[b*LW +: LW] = rq;
        end
      end
    end
  end

  // ---- EXP: e_j = exp(max - s_j), sum, reciprocal ----------------------------------------

  logic              ex_in_valid;
  logic [ScoreW-1:0] diff;
  logic              ex_valid;
  logic [EW-1:0]     ex_e;
  logic [SumW-1:0]   sum_next;
  logic              recip_start, recip_busy, recip_valid;

  assign ex_in_valid = r_valid_q && (state_q == StExp);
  assign diff        = ScoreW'(max_q - $signed(sb_rd_q));

  esact_attn_exp #(
    .DiffW (ScoreW)
  ) u_exp (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .in_valid_i  (ex_in_valid),
    .diff_i      (diff),
    .mult_i      (smm_q),
    .shift_i     (sms_q),
    .out_valid_o (ex_valid),
    .e_o         (ex_e)
  );

  assign ex_s_d      = ex_in_valid ? r_s_q : ex_s_q;
  assign ex_final_d  = ex_in_valid ? r_final_q : ex_final_q;
  assign sum_next    = sum_q + SumW'(ex_e);
  assign recip_start = ex_valid && ex_final_q;

  esact_attn_recip #(
    .SumW (SumW)
  ) u_recip (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .start_i (recip_start),
    .sum_i   (sum_next),
    .busy_o  (recip_busy),
    .valid_o (recip_valid),
    .recip_o (recip)
  );

  always_comb begin
    sum_d = sum_q;
    if (ex_valid) begin
      sum_d = sum_next;
    end
    if (q_fire) begin
      sum_d = '0;
    end
  end

  // Score buffer write: a score (SCORE, stage A) or an e (EXP), never both.
  always_comb begin
    sb_we    = score_we || ex_valid;
    sb_waddr = ex_valid ? ex_s_q : p_s_q;
    sb_wdata = ex_valid ? ScoreW'(ex_e) : ScoreW'(score);
  end

  // ---- Next state --------------------------------------------------------------------------

  logic out_free;  // the output register can take a context this cycle
  assign out_free = !ctx_valid_q || ctx_ready_i;

  always_comb begin
    state_d    = state_q;
    err_d      = err_q;
    cfg_d      = cfg_q;
    ld_d       = ld_q;
    kv_cnt_d   = kv_cnt_q;
    rows_d     = rows_q;
    qidx_d     = qidx_q;
    mask_d     = mask_q;
    rem_d      = rem_q;
    s_d        = s_q;
    c_d        = c_q;
    iss_done_d = iss_done_q;
    klast_d    = klast_q;
    q_d        = q_q;

    ctx_valid_d = ctx_valid_q && !ctx_ready_i;
    ctx_idx_d   = ctx_idx_q;
    ctx_data_d  = ctx_data_q;

    // Issue tags into stage R.
    r_valid_d = iss;
    r_last_d  = (state_q == StScore) ? c_last : key_last;
    r_final_d = (state_q == StExp) ? (s_q == klast_q) : (c_last && key_last);
    r_s_d     = s_q;
    r_c_d     = c_q;

    unique case (state_q)
      StIdle: begin
        if (start_i) begin
          state_d  = StCheck;
          cfg_d    = cfg_in;
          err_d    = esact_pkg::ATTN_ERR_NONE;
          ld_d     = '0;
          kv_cnt_d = '0;
          rows_d   = '0;
        end
      end
      StCheck: begin
        if (field_err != esact_pkg::ATTN_ERR_NONE) begin
          err_d   = field_err;
          state_d = StDone;
        end else begin
          state_d = StLoad;
        end
      end
      StLoad: begin
        if (kv_fire) begin
          if (kv_bad) begin
            err_d   = esact_pkg::ATTN_ERR_KV_IDX;
            state_d = StDrain;
          end else begin
            for (int unsigned j = 0; j < NMax; j++) begin
              if (kv_idx_i == IdxW'(j)) begin
                ld_d[j] = 1'b1;
              end
            end
            kv_cnt_d = kv_cnt_q + NW'(1);
            if (kv_cnt_q == nkv_q - NW'(1)) begin
              state_d = StQ;
            end
          end
        end
      end
      StQ: begin
        if (q_fire) begin
          if (q_err != esact_pkg::ATTN_ERR_NONE) begin
            err_d   = q_err;
            state_d = StDrain;
          end else begin
            state_d    = StScore;
            qidx_d     = q_idx_i;
            q_d        = q_data_i & lane_bits;
            mask_d     = q_mask_i;
            rem_d      = q_mask_i;
            s_d        = '0;
            c_d        = '0;
            iss_done_d = 1'b0;
          end
        end
      end
      StScore: begin
        // Key-major: every chunk of a key, then the next key.
        if (iss) begin
          c_d = c_q + CW'(1);
          if (c_last) begin
            c_d   = '0;
            s_d   = s_q + IdxW'(1);
            rem_d = rem_next;
            if (key_last) begin
              iss_done_d = 1'b1;
              klast_d    = s_q;
            end
          end
        end
        if (score_we && p_final_q) begin
          state_d    = StExp;
          s_d        = '0;
          iss_done_d = 1'b0;
        end
      end
      StExp: begin
        if (iss) begin
          s_d = s_q + IdxW'(1);
          if (s_q == klast_q) begin
            iss_done_d = 1'b1;
          end
        end
        if (recip_start) begin
          state_d = StRecip;
        end
      end
      StRecip: begin
        if (recip_valid) begin
          state_d    = StPv;
          s_d        = '0;
          c_d        = '0;
          rem_d      = mask_q;
          iss_done_d = 1'b0;
        end
      end
      StPv: begin
        // Chunk-major: every key of a chunk, then the next chunk.
        if (iss) begin
          s_d   = s_q + IdxW'(1);
          rem_d = rem_next;
          if (key_last) begin
            s_d   = '0;
            rem_d = mask_q;
            c_d   = c_q + CW'(1);
            if (c_last) begin
              iss_done_d = 1'b1;
            end
          end
        end
        if (res_valid_q && res_final_q) begin
          state_d = StOut;
        end
      end
      StOut: begin
        if (out_free) begin
          ctx_valid_d = 1'b1;
          ctx_idx_d   = qidx_q;
          ctx_data_d  = asm_q & lane_bits;
          rows_d      = rows_q + NW'(1);
          state_d     = (rows_q == nrows_q - NW'(1)) ? StDrain : StQ;
        end
      end
      StDrain: begin
        if (out_free) begin
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

  // Control state: asynchronous reset.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      err_q       <= esact_pkg::ATTN_ERR_NONE;
      cfg_q       <= '0;
      ld_q        <= '0;
      kv_cnt_q    <= '0;
      rows_q      <= '0;
      qidx_q      <= '0;
      mask_q      <= '0;
      rem_q       <= '0;
      s_q         <= '0;
      c_q         <= '0;
      iss_done_q  <= 1'b0;
      klast_q     <= '0;
      r_valid_q   <= 1'b0;
      r_last_q    <= 1'b0;
      r_final_q   <= 1'b0;
      r_s_q       <= '0;
      r_c_q       <= '0;
      o_valid_q   <= 1'b0;
      o_last_q    <= 1'b0;
      o_final_q   <= 1'b0;
      o_s_q       <= '0;
      o_c_q       <= '0;
      p_valid_q   <= 1'b0;
      p_last_q    <= 1'b0;
      p_final_q   <= 1'b0;
      p_s_q       <= '0;
      p_c_q       <= '0;
      res_valid_q <= 1'b0;
      res_final_q <= 1'b0;
      res_c_q     <= '0;
      ex_s_q      <= '0;
      ex_final_q  <= 1'b0;
      ctx_valid_q <= 1'b0;
      ctx_idx_q   <= '0;
    end else begin
      state_q     <= state_d;
      err_q       <= err_d;
      cfg_q       <= cfg_d;
      ld_q        <= ld_d;
      kv_cnt_q    <= kv_cnt_d;
      rows_q      <= rows_d;
      qidx_q      <= qidx_d;
      mask_q      <= mask_d;
      rem_q       <= rem_d;
      s_q         <= s_d;
      c_q         <= c_d;
      iss_done_q  <= iss_done_d;
      klast_q     <= klast_d;
      r_valid_q   <= r_valid_d;
      r_last_q    <= r_last_d;
      r_final_q   <= r_final_d;
      r_s_q       <= r_s_d;
      r_c_q       <= r_c_d;
      o_valid_q   <= o_valid_d;
      o_last_q    <= o_last_d;
      o_final_q   <= o_final_d;
      o_s_q       <= o_s_d;
      o_c_q       <= o_c_d;
      p_valid_q   <= p_valid_d;
      p_last_q    <= p_last_d;
      p_final_q   <= p_final_d;
      p_s_q       <= p_s_d;
      p_c_q       <= p_c_d;
      res_valid_q <= res_valid_d;
      res_final_q <= res_final_d;
      res_c_q     <= res_c_d;
      ex_s_q      <= ex_s_d;
      ex_final_q  <= ex_final_d;
      ctx_valid_q <= ctx_valid_d;
      ctx_idx_q   <= ctx_idx_d;
    end
  end

  // Datapath registers: no reset. Each is written before it is read in a row: q, the
  // accumulators and the sum at the Q handshake, the operands and products behind their
  // valid bits, max at a row's first score, asm chunk by chunk before OUT reads it.
  always_ff @(posedge clk_i) begin
    a_op_q     <= a_op_d;
    b_op_q     <= b_op_d;
    prod_q     <= prod_d;
    sacc_q     <= sacc_d;
    max_q      <= max_d;
    acc_q      <= acc_d;
    res_q      <= res_d;
    sum_q      <= sum_d;
    q_q        <= q_d;
    asm_q      <= asm_d;
    ctx_data_q <= ctx_data_d;
  end

  assign busy_o      = (state_q != StIdle);
  assign done_o      = (state_q == StDone);
  assign err_code_o  = err_q;
  assign err_o       = (err_q != esact_pkg::ATTN_ERR_NONE);
  assign ctx_valid_o = ctx_valid_q;
  assign ctx_idx_o   = ctx_idx_q;
  assign ctx_data_o  = ctx_data_q;

  // The divider's busy flag matters only to the assertion below.
  logic unused_recip_busy;
  assign unused_recip_busy = recip_busy;

  // ---- Assertions ------------------------------------------------------------------------

  // Input contracts hold within a run: after done_o a source may withdraw what it offered.
  logic in_run;
  assign in_run = busy_o && !done_o;
  `ESACT_ASSERT(KvValidHeld_A, in_run && kv_valid_i && !kv_ready_o |=> kv_valid_i)
  `ESACT_ASSERT(KvDataStable_A, in_run && kv_valid_i && !kv_ready_o |=>
      $stable(kv_idx_i) && $stable(kv_k_i) && $stable(kv_v_i))
  `ESACT_ASSERT(QValidHeld_A, in_run && q_valid_i && !q_ready_o |=> q_valid_i)
  `ESACT_ASSERT(QDataStable_A, in_run && q_valid_i && !q_ready_o |=>
      $stable(q_idx_i) && $stable(q_data_i) && $stable(q_mask_i))
  // The output contract.
  `ESACT_ASSERT(CtxValidHeld_A, ctx_valid_o && !ctx_ready_i |=> ctx_valid_o)
  `ESACT_ASSERT(CtxDataStable_A, ctx_valid_o && !ctx_ready_i |=>
      $stable(ctx_idx_o) && $stable(ctx_data_o))
  // Only loaded K/V rows are read; SCORE and PV issue a key of the list.
  `ESACT_ASSERT(ReadLoaded_A, iss && (state_q == StScore || state_q == StPv) |->
      low != '0 && (low & ~ld_q) == '0)
  // The divider is idle when a row's sum arrives; the pipeline is empty between phases.
  `ESACT_ASSERT(RecipIdle_A, recip_start |-> !recip_busy)
  `ESACT_ASSERT(PipeEmptyAtQ_A, state_q == StQ |->
      !r_valid_q && !o_valid_q && !p_valid_q && !res_valid_q && !ex_valid)
  `ESACT_ASSERT(ExpOnlyInExp_A, ex_valid |-> state_q == StExp)
  `ESACT_ASSERT(DoneWhileBusy_A, done_o |-> busy_o)
  `ESACT_ASSERT(NoCtxWhenIdle_A, !busy_o |-> !ctx_valid_o)

endmodule
