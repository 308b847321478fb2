// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Vector unit: requantization, residual add, integer LayerNorm and a run-time LUT
/// activation (GELU) over rows of up to DMax elements, Lanes elements per beat. Bit-exact
/// with the golden rules (golden/quant.h, golden/engines.h, docs/spls.md section 7):
///
///   VEC_MODE_REQUANT      acc (int32)  -> Requantize(acc, {mult, shift})
///   VEC_MODE_ADD          a, b (int8)  -> SaturateInt8(a + b)
///   VEC_MODE_GELU         a (int8)     -> lut[a + 128]                (ApplyLut)
///   VEC_MODE_RESIDUAL_LN  a, b (int8)  -> IntLayerNorm(r, {gamma, beta, mult, shift}),
///                                         r = RoundShift(a * res_mult_a + b * res_mult_b, 12)
///                                         (ResidualLayerNorm, ResidualScale{res_mult_a,
///                                         res_mult_b}; ResidualAdd; 4096, 4096 is a + b)
///
/// Run: set the cfg_* inputs, pulse start_i while busy_o is low (ignored while busy); the
/// configuration is sampled on the start edge. The unit then
///   1. checks the configuration (CHECK, one cycle);
///   2. if cfg_load_i and the mode has parameters, takes them from the prm stream (LOAD):
///        GELU         256/Lanes beats, lane l of beat k (bits [32l +: 8]) = lut[k*Lanes + l];
///        RESIDUAL_LN  ceil(d/Lanes) gamma beats (lane l, bits [32l +: 16] = gamma[k*Lanes+l]),
///                     then ceil(d/Lanes) beta beats (lane l, bits [32l +: 32]);
///      the parameters stay loaded for later runs (cfg_load_i = 0) until the next load of
///      the same kind or a reset;
///   3. processes n_rows rows of d elements (ROWS): ceil(d/Lanes) beats per row on each
///      input stream of the mode and on the output, lane l of beat k of a row = element
///      k*Lanes + l; in a row's last beat, the lanes at and above d are ignored on input
///      and 0 on output; out_last_o marks each row's last beat;
///   4. raises done_o for one cycle after the last output beat has been taken.
/// busy_o is high from the cycle after the start edge up to and including the done_o
/// cycle. err_o / err_code_o are valid from done_o on and hold until the next start.
/// n_rows = 0 with a load is a load-only run.
///
/// Legal configuration (esact_pkg::vec_err_e, checked in this order): 1 <= d <= DMax;
/// n_rows >= 1 unless the run loads; shift <= 47 in REQUANT and RESIDUAL_LN (every mult is
/// legal); res_mult_a, res_mult_b <= 2^15 in RESIDUAL_LN (other modes ignore them); a GELU
/// run without load needs a LUT loaded since reset; a RESIDUAL_LN run without load needs
/// gamma/beta loaded with the same d. An illegal configuration ends 2 cycles after the
/// start edge (done_o), takes no beat from any stream and produces none.
/// The sources keep the valid/ready contract from the start edge to done_o.
///
/// Streams: a (int8 lanes, [8l +: 8]): GELU input, ADD and LN operand a; b (int8): ADD and
/// LN operand b, joined with a, beat by beat; acc (int32 lanes, [32l +: 32]): REQUANT input;
/// prm (32-bit lanes): parameter loads; out (int8 lanes). Streams a mode does not use keep
/// ready low.
///
/// Datapath (one beat per cycle, a global-enable pipeline: every stage moves when the
/// output register is empty or taken):
///   issue -> S1 (operands) -> S2 (normalized n / LUT / saturated sum) -> S3 (t) -> OUT
///   REQUANT: S1 acc; S3 t = acc; OUT Requantize(t).
///   ADD:     S1 a + b (9 bits); S2 SaturateInt8(a + b).
///   GELU:    S1 a; S2 lut[a + 128].
///   LN:      S1 r from the row buffer, gamma, beta, and the row's dinv, sinv;
///            S2 n = RoundShift(r * dinv - sinv, 19) (= RoundShift(c * inv, 19));
///            S3 t = n * gamma + beta; OUT Requantize(t).
/// Elementwise modes take one input beat per cycle into S1; the output follows 4 cycles
/// later.
///
/// LayerNorm rows flow through three concurrent stages over Slots = 3 row-buffer slots:
///   INGEST  takes a and b beats; IN1 forms r = RoundShift(a ma + b mb, 12) (ma, mb =
///           res_mult_a, _b) into the ingest register, IN2 (the next cycle) stores r in
///           the slot and sums S = sum(r) and Q = sum(r^2) (two stages: one multiplier
///           level per cycle);
///   STATS   esact_vec_stats: V = d Q - S^2 (= floor(sum(c^2)/d)), s = max(1, isqrt(V)),
///           inv = floor(2^31 / s), dinv = d inv, sinv = S inv (StatsCycles per row,
///           three square-root digits per cycle);
///   OUTPUT  reads the slot back through the pipeline (one beat per cycle), frees it.
/// So a row is read twice (in, out) and the sequential part overlaps the other rows.
///
/// Cycle counts without stalls (start edge to the edge that raises done_o, L = Lanes,
/// db = ceil(d/L), n = n_rows, LB = load beats or 0, Cs = StatsCycles):
///   elementwise   6 + LB + n*db (one beat per cycle); a load-only run 2 + LB;
///   LN            8 + LB + 2*db + Cs for one row, then at most
///                 max(db, Cs + 1, ceil((2*db + Cs + 3)/3)) per further row; exactly one
///                 row per db cycles when db >= Cs + 2 (exact recurrence:
///                 docs/architecture.md, "esact_vec").
///
/// Widths (K = clog2(DMax), HK = ceil(K/2)); all exact, see docs/architecture.md:
///   a*ma + b*mb 24 (in [-2^23, 127*2^16] for mults <= 2^15), r 12 ([-2048, 2032]),
///   S 12+K (|S| <= 2^11 d), Q 23+K (Q <= 2^22 d), V = dQ - S^2 DW+23+K,
///   dinv/sinv and r*dinv-sinv PW = 34+HK (modulo 2^PW, the true |c*inv| < sqrt(d) 2^32),
///   n NW = 15+HK, t TW = max(31+HK, 33), requant product TW+16 (rounded in TW+17);
///   ADD's a + b 9.
`include "esact_assert.svh"

module esact_vec #(
  parameter  int unsigned Lanes /*verilator public*/ = 4,   ///< elements per beat; 2^m, <= 256
  parameter  int unsigned DMax  /*verilator public*/ = 32,  ///< max row length d, >= Lanes
  /// Width of the d field.
  localparam int unsigned DW    = $clog2(DMax + 1)
) (
  input  logic                                   clk_i,
  input  logic                                   rst_ni,
  // Run-time configuration, sampled at start_i
  input  esact_pkg::vec_mode_e                   cfg_mode_i,
  input  logic [DW-1:0]                          cfg_d_i,       ///< row length, 1..DMax
  input  logic [esact_pkg::VEC_ROWS_W-1:0]       cfg_n_rows_i,  ///< rows
  input  logic                                   cfg_load_i,    ///< load LUT / gamma, beta
  input  logic [esact_pkg::REQ_MULT_W-1:0]       cfg_mult_i,    ///< requant multiplier
  input  logic [esact_pkg::REQ_SHIFT_W-1:0]      cfg_shift_i,   ///< requant shift, <= 47
  input  logic [esact_pkg::VEC_RES_MULT_W-1:0]   cfg_res_mult_a_i,  ///< residual mult of a
  input  logic [esact_pkg::VEC_RES_MULT_W-1:0]   cfg_res_mult_b_i,  ///< of b; both <= 2^15
  // Control
  input  logic                                   start_i,
  output logic                                   busy_o,
  output logic                                   done_o,        ///< one-cycle pulse
  output logic                                   err_o,
  output esact_pkg::vec_err_e                    err_code_o,
  // Parameter loads: 32-bit lanes
  input  logic                                   prm_valid_i,
  output logic                                   prm_ready_o,
  input  logic [Lanes*esact_pkg::VEC_WORD_W-1:0] prm_data_i,
  // int8 operand a
  input  logic                                   a_valid_i,
  output logic                                   a_ready_o,
  input  logic [Lanes*esact_pkg::INT8_W-1:0]     a_data_i,
  // int8 operand b
  input  logic                                   b_valid_i,
  output logic                                   b_ready_o,
  input  logic [Lanes*esact_pkg::INT8_W-1:0]     b_data_i,
  // int32 accumulators
  input  logic                                   acc_valid_i,
  output logic                                   acc_ready_o,
  input  logic [Lanes*esact_pkg::VEC_WORD_W-1:0] acc_data_i,
  // int8 results
  output logic                                   out_valid_o,
  input  logic                                   out_ready_i,
  output logic [Lanes*esact_pkg::INT8_W-1:0]     out_data_o,
  output logic                                   out_last_o     ///< last beat of a row
);

  // ---- Widths and sizes ------------------------------------------------------------------

  localparam int unsigned DataW    = esact_pkg::INT8_W;
  localparam int unsigned WordW    = esact_pkg::VEC_WORD_W;
  localparam int unsigned GammaW   = esact_pkg::VEC_GAMMA_W;
  localparam int unsigned RowsW    = esact_pkg::VEC_ROWS_W;
  localparam int unsigned MultW    = esact_pkg::REQ_MULT_W;
  localparam int unsigned ShiftW   = esact_pkg::REQ_SHIFT_W;
  localparam int unsigned LutSize  = esact_pkg::VEC_LUT_SIZE;
  localparam int unsigned LnShift  = esact_pkg::VEC_LN_RECIP_BITS - esact_pkg::VEC_LN_FRAC_BITS;
  localparam int unsigned LaneW    = $clog2(Lanes);             // 0 for one lane
  localparam int unsigned DbMax    = (DMax + Lanes - 1) / Lanes;  // beats per row
  localparam int unsigned Slots    /*verilator public*/ = 3;     // LN row-buffer slots
  localparam int unsigned RowDepth = Slots * DbMax;
  localparam int unsigned LutBeats = LutSize / Lanes;
  localparam int unsigned K        = $clog2(DMax);
  localparam int unsigned HK       = (K + 1) / 2;
  localparam int unsigned ResMultW = esact_pkg::VEC_RES_MULT_W;
  localparam int unsigned ResShift = esact_pkg::VEC_RES_SHIFT;
  localparam int unsigned AddW     = DataW + 1;                 // ADD: a + b
  // a ma + b mb: |a m| <= 2^7 2^15 = 2^22 each, the sum in [-2^23, 127 2^16].
  localparam int unsigned ResPW    = DataW + $clog2(esact_pkg::VEC_RES_MAX_MULT) + 1;
  localparam int unsigned RW       = esact_pkg::VEC_RES_W;      // r in [-2048, 2032]
  localparam int unsigned SumW     = RW + K;                    // |S| <= 2^11 d <= 2^(11+K)
  localparam int unsigned QW       = 2 * RW - 1 + K;            // Q <= 2^22 d <= 2^(22+K)
  localparam int unsigned PW       = esact_pkg::VEC_LN_RECIP_BITS + 3 + HK;  // c * inv
  localparam int unsigned NW       = PW - LnShift;              // n
  localparam int unsigned TW       = (NW + GammaW > WordW + 1) ? NW + GammaW : WordW + 1;
  localparam int unsigned BeatW    = ($clog2(DbMax) > 1) ? $clog2(DbMax) : 1;
  localparam int unsigned LdMax    = (2 * DbMax > LutBeats) ? 2 * DbMax : LutBeats;
  localparam int unsigned LdW      = ($clog2(LdMax) > 1) ? $clog2(LdMax) : 1;
  localparam int unsigned RowAW    = ($clog2(RowDepth) > 1) ? $clog2(RowDepth) : 1;
  localparam int unsigned SlotW    = 2;
  localparam int unsigned LutIdxW  = $clog2(LutSize * DataW);
  /// esact_vec_stats latency, start edge to the edge that ends its DONE cycle: three
  /// square-root digits per cycle keep Cs + 2 <= db for the MiniLM row (d 384, 16 lanes).
  localparam int unsigned StatsVW  = DW + QW;
  localparam int unsigned StatsSq  = 3;
  localparam int unsigned StatsCycles /*verilator public*/ =
      4 + ((StatsVW + 1) / 2 + StatsSq - 1) / StatsSq + 8;

  `ESACT_ASSERT_INIT(LanesLegal_A, Lanes >= 1 && Lanes <= LutSize && (Lanes & (Lanes - 1)) == 0)
  `ESACT_ASSERT_INIT(DMaxLegal_A, DMax >= Lanes && DMax >= 2 && DMax <= 65535)
  // The residual's widths agree with the package: r is the rounded sum without its shift.
  `ESACT_ASSERT_INIT(ResWidths_A, RW == ResPW - ResShift && ResShift >= 1 &&
                     (64'd1 << ResMultW) > 64'(esact_pkg::VEC_RES_MAX_MULT))

  // ---- Sampled configuration -------------------------------------------------------------

  localparam int unsigned ModeW = 2;
  localparam int unsigned CfgW  = ModeW + DW + RowsW + 1 + MultW + ShiftW + 2 * ResMultW;

  logic [CfgW-1:0]     cfg_in, cfg_d, cfg_q;
  logic [ModeW-1:0]    mode_q;
  logic [DW-1:0]       d_q;
  logic [RowsW-1:0]    n_rows_q;
  logic                load_q;
  logic [MultW-1:0]    mult_q;
  logic [ShiftW-1:0]   shift_q;
  logic [ResMultW-1:0] res_mult_a_q, res_mult_b_q;

  assign cfg_in = {cfg_mode_i, cfg_d_i, cfg_n_rows_i, cfg_load_i, cfg_mult_i, cfg_shift_i,
                   cfg_res_mult_a_i, cfg_res_mult_b_i};
  assign {mode_q, d_q, n_rows_q, load_q, mult_q, shift_q, res_mult_a_q, res_mult_b_q} = cfg_q;

  logic m_requant, m_add, m_gelu, m_ln;
  assign m_requant = (mode_q == esact_pkg::VEC_MODE_REQUANT);
  assign m_add     = (mode_q == esact_pkg::VEC_MODE_ADD);
  assign m_gelu    = (mode_q == esact_pkg::VEC_MODE_GELU);
  assign m_ln      = (mode_q == esact_pkg::VEC_MODE_RESIDUAL_LN);

  // Derived (valid once CHECK has passed).
  logic [DW-1:0]    d_m1;       // d - 1
  logic [BeatW-1:0] db_last;    // ceil(d/L) - 1
  logic [RowsW-1:0] n_last;     // n_rows - 1
  logic [Lanes-1:0] last_mask;  // lanes of a row's last beat that are < d

  assign d_m1    = d_q - DW'(1);
  assign db_last = BeatW'(d_m1 >> LaneW);
  assign n_last  = n_rows_q - RowsW'(1);
  assign last_mask[0] = 1'b1;
  for (genvar l = 1; l < Lanes; l++) begin : g_last_mask
    assign last_mask[l] = (DW'(l) <= (d_m1 & DW'(Lanes - 1)));
  end

  // ---- Control state ---------------------------------------------------------------------

  typedef enum logic [2:0] {
    StIdle  = 3'd0,
    StCheck = 3'd1,
    StLoad  = 3'd2,
    StRows  = 3'd3,
    StDone  = 3'd4
  } state_e;

  state_e              state_d, state_q;
  esact_pkg::vec_err_e err_d, err_q;
  logic                lut_ok_d, lut_ok_q;  // a LUT has been loaded since reset
  logic [DW-1:0]       ln_d_d, ln_d_q;      // d of the loaded gamma/beta, 0: none
  logic                rows;                // ROWS phase
  assign rows = (state_q == StRows);

  // ---- Configuration check ---------------------------------------------------------------

  logic d_over, shift_over, res_a_over, res_b_over, loads;
  esact_pkg::vec_err_e field_err;

  esact_cfg_over #(.Width(DW), .Max(DMax)) u_d_over (.value_i(d_q), .over_o(d_over));
  esact_cfg_over #(.Width(ShiftW), .Max(esact_pkg::REQ_MAX_SHIFT)) u_shift_over (
    .value_i (shift_q),
    .over_o  (shift_over)
  );
  esact_cfg_over #(.Width(ResMultW), .Max(esact_pkg::VEC_RES_MAX_MULT)) u_res_a_over (
    .value_i (res_mult_a_q),
    .over_o  (res_a_over)
  );
  esact_cfg_over #(.Width(ResMultW), .Max(esact_pkg::VEC_RES_MAX_MULT)) u_res_b_over (
    .value_i (res_mult_b_q),
    .over_o  (res_b_over)
  );

  assign loads = load_q && (m_gelu || m_ln);

  always_comb begin
    field_err = esact_pkg::VEC_ERR_NONE;
    if (d_q == '0 || d_over) begin
      field_err = esact_pkg::VEC_ERR_D;
    end else if (n_rows_q == '0 && !loads) begin
      field_err = esact_pkg::VEC_ERR_N_ROWS;
    end else if ((m_requant || m_ln) && shift_over) begin
      field_err = esact_pkg::VEC_ERR_SHIFT;
    end else if (m_ln && (res_a_over || res_b_over)) begin
      field_err = esact_pkg::VEC_ERR_RES_MULT;
    end else if (m_gelu && !load_q && !lut_ok_q) begin
      field_err = esact_pkg::VEC_ERR_NO_LUT;
    end else if (m_ln && !load_q && ln_d_q != d_q) begin
      field_err = esact_pkg::VEC_ERR_NO_PARAMS;
    end
  end

  // ---- Parameter load --------------------------------------------------------------------

  logic [LdW-1:0] ld_beat_d, ld_beat_q;
  logic           ld_beta_d, ld_beta_q;  // LN: 0 gamma beats, 1 beta beats
  logic           prm_fire, ld_last, lut_we, gamma_we, beta_we;

  assign prm_ready_o = (state_q == StLoad);
  assign prm_fire    = prm_valid_i && prm_ready_o;
  assign ld_last     = m_gelu ? (ld_beat_q == LdW'(LutBeats - 1))
                              : (ld_beat_q == LdW'(db_last));
  assign lut_we      = prm_fire && m_gelu;
  assign gamma_we    = prm_fire && m_ln && !ld_beta_q;
  assign beta_we     = prm_fire && m_ln && ld_beta_q;

  // ---- Pipeline enable and issue ---------------------------------------------------------
  // Every stage moves when the output register is empty or taken.

  logic pipe_en;
  logic out_valid_q;
  assign pipe_en = !out_valid_q || out_ready_i;

  // Input side: ingest (LN) and elementwise issue share the beat and row counters.
  logic [BeatW-1:0] in_beat_d, in_beat_q;
  logic [RowsW-1:0] in_row_d, in_row_q;
  logic             in_done_d, in_done_q;   // every row of the run taken
  logic [SlotW-1:0] in_sel_d, in_sel_q;     // LN: slot being filled
  logic             in_beat_last, in_row_last;
  logic [Lanes-1:0] in_mask;

  assign in_beat_last = (in_beat_q == db_last);
  assign in_row_last  = (in_row_q == n_last);
  assign in_mask      = in_beat_last ? last_mask : '1;

  // Per-slot state of the LN row buffer.
  localparam logic [1:0] SlotFree  = 2'd0;  // INGEST may fill it
  localparam logic [1:0] SlotFull  = 2'd1;  // row in, S and Q valid: STATS next
  localparam logic [1:0] SlotReady = 2'd2;  // dinv, sinv valid: OUTPUT next

  logic [Slots*2-1:0] slot_st_d, slot_st_q;
  logic [1:0]         in_slot_st, st_slot_st, o_slot_st;
  logic [SlotW-1:0]   st_sel_d, st_sel_q;   // slot in / next for STATS
  logic [SlotW-1:0]   o_sel_d, o_sel_q;     // slot in / next for OUTPUT

  always_comb begin
    in_slot_st = SlotFree;
    st_slot_st = SlotFree;
    o_slot_st  = SlotFree;
    for (int unsigned s = 0; s < Slots; s++) begin
      if (in_sel_q == SlotW'(s)) in_slot_st = slot_st_q[2*s +: 2];
      if (st_sel_q == SlotW'(s)) st_slot_st = slot_st_q[2*s +: 2];
      if (o_sel_q == SlotW'(s))  o_slot_st  = slot_st_q[2*s +: 2];
    end
  end

  // Elementwise issue: the mode's input stream(s) straight into S1.
  logic ew_active, ew_valid, ew_fire;
  assign ew_active = rows && !m_ln && !in_done_q;
  assign ew_valid  = ew_active && (m_requant ? acc_valid_i :
                                   m_gelu    ? a_valid_i   : (a_valid_i && b_valid_i));
  assign ew_fire   = ew_valid && pipe_en;

  // LN ingest: a and b joined into a free slot, independent of the pipeline.
  logic ing_ok, ing_fire;
  assign ing_ok   = rows && m_ln && !in_done_q && (in_slot_st == SlotFree);
  assign ing_fire = ing_ok && a_valid_i && b_valid_i;

  always_comb begin
    a_ready_o   = 1'b0;
    b_ready_o   = 1'b0;
    acc_ready_o = 1'b0;
    if (ing_ok) begin
      a_ready_o = b_valid_i;
      b_ready_o = a_valid_i;
    end else if (ew_active && pipe_en) begin
      acc_ready_o = m_requant;
      a_ready_o   = m_gelu || (m_add && b_valid_i);
      b_ready_o   = m_add && a_valid_i;
    end
  end

  // ADD: a + b per lane. LN ingest, IN1: the residual r per lane, into the ingest register.
  logic [Lanes*AddW-1:0]  ab_word;   // a + b lanes, 9-bit two's complement
  logic [Lanes*RW-1:0]    res_word;  // r lanes, 12-bit two's complement
  logic [Lanes*DataW-1:0] a_word;

  assign a_word = a_data_i;

  for (genvar l = 0; l < Lanes; l++) begin : g_ab
    logic signed [DataW-1:0] a, b;
    logic signed [ResPW-1:0] a_e, b_e, ma_e, mb_e, p, p_r;

    assign a    = a_data_i[l*DataW +: DataW];
    assign b    = b_data_i[l*DataW +: DataW];
    assign ab_word[l*AddW +: AddW] = {a[DataW-1], a} + {b[DataW-1], b};
    assign a_e  = {{(ResPW - DataW){a[DataW-1]}}, a};
    assign b_e  = {{(ResPW - DataW){b[DataW-1]}}, b};
    assign ma_e = {{(ResPW - ResMultW){1'b0}}, res_mult_a_q};
    assign mb_e = {{(ResPW - ResMultW){1'b0}}, res_mult_b_q};
    // a ma + b mb, exact in ResPW bits for mults <= 2^15 (checked in CHECK).
    assign p    = a_e * ma_e + b_e * mb_e;
    // RoundShift(p, 12) = (p + 2^11 - neg) >>> 12; p + 2^11 < 2^23 does not overflow.
    assign p_r  = p + $signed(ResPW'(1) << (ResShift - 1)) - $signed(ResPW'(p[ResPW-1]));
    assign res_word[l*RW +: RW] = p_r[ResPW-1:ResShift];
    // The bits below the shift are rounded away.
    logic unused_frac;
    assign unused_frac = ^p_r[ResShift-1:0];
  end

  // The ingest register (IN1 -> IN2): one beat of r with its slot, address and row end.
  logic                ir_v_q;      // holds a beat (reset)
  logic                ir_last_q;   // the row's last beat
  logic [SlotW-1:0]    ir_sel_q;    // its slot
  logic [RowAW-1:0]    ir_addr_q;   // its row-buffer word
  logic [Lanes*RW-1:0] ir_r_q;      // its r lanes
  logic [Lanes-1:0]    ir_mask;     // its lanes < d

  assign ir_mask = ir_last_q ? last_mask : '1;

  // IN2: the masked sums of the beat.
  logic [Lanes*2*RW-1:0]  sq_word;   // masked r^2 lanes (<= 2^22)
  logic signed [SumW-1:0] beat_sum;
  logic [QW-1:0]          beat_sq;

  for (genvar l = 0; l < Lanes; l++) begin : g_sq
    logic signed [RW-1:0]   r;
    logic signed [2*RW-1:0] rm;  // masked r, widened for its square

    assign r  = ir_r_q[l*RW +: RW];
    assign rm = ir_mask[l] ? {{RW{r[RW-1]}}, r} : '0;
    assign sq_word[l*2*RW +: 2*RW] = rm * rm;
  end

  always_comb begin
    beat_sum = '0;
    beat_sq  = '0;
    for (int unsigned l = 0; l < Lanes; l++) begin
      if (ir_mask[l]) begin
        beat_sum = beat_sum + {{(SumW - RW){ir_r_q[l*RW+RW-1]}}, ir_r_q[l*RW +: RW]};
      end
      beat_sq = beat_sq + QW'(sq_word[l*2*RW +: 2*RW]);
    end
  end

  logic signed [SumW-1:0] sacc_d, sacc_q;  // S of the row being ingested
  logic [QW-1:0]          qacc_d, qacc_q;  // Q of the row being ingested

  // ---- Row buffer slots: S, Q, then dinv, sinv per slot ----------------------------------

  logic [Slots*SumW-1:0] slot_s_d, slot_s_q;
  logic [Slots*QW-1:0]   slot_q_d, slot_q_q;
  logic [Slots*PW-1:0]   slot_dinv_d, slot_dinv_q;
  logic [Slots*PW-1:0]   slot_sinv_d, slot_sinv_q;

  // Slot base addresses in the row buffer.
  logic [RowAW-1:0] in_base, o_base;
  always_comb begin
    in_base = '0;
    o_base  = '0;
    for (int unsigned s = 0; s < Slots; s++) begin
      if (in_sel_q == SlotW'(s)) in_base = RowAW'(s * DbMax);
      if (o_sel_q == SlotW'(s))  o_base  = RowAW'(s * DbMax);
    end
  end

  // ---- STATS -----------------------------------------------------------------------------

  logic                   st_start, st_busy, st_done;
  logic signed [SumW-1:0] st_sum;
  logic [QW-1:0]          st_sumsq;
  logic [PW-1:0]          st_dinv, st_sinv;

  always_comb begin
    st_sum   = '0;
    st_sumsq = '0;
    for (int unsigned s = 0; s < Slots; s++) begin
      if (st_sel_q == SlotW'(s)) begin
        st_sum   = slot_s_q[s*SumW +: SumW];
        st_sumsq = slot_q_q[s*QW +: QW];
      end
    end
  end

  assign st_start = rows && m_ln && !st_busy && (st_slot_st == SlotFull);

  esact_vec_stats #(
    .DW         (DW),
    .SumW       (SumW),
    .QW         (QW),
    .PW         (PW),
    .SqPerCycle (StatsSq),
    .Cycles     (StatsCycles)
  ) u_stats (
    .clk_i   (clk_i),
    .rst_ni  (rst_ni),
    .start_i (st_start),
    .d_i     (d_q),
    .sum_i   (st_sum),
    .sumsq_i (st_sumsq),
    .busy_o  (st_busy),
    .done_o  (st_done),
    .dinv_o  (st_dinv),
    .sinv_o  (st_sinv)
  );

  // ---- OUTPUT issue (LN) -----------------------------------------------------------------

  logic [BeatW-1:0] o_beat_d, o_beat_q;
  logic [RowsW-1:0] o_row_d, o_row_q;
  logic             o_beat_last, o_valid, o_fire;
  logic [PW-1:0]    o_dinv, o_sinv;

  assign o_beat_last = (o_beat_q == db_last);
  assign o_valid     = rows && m_ln && (o_slot_st == SlotReady);
  assign o_fire      = o_valid && pipe_en;

  always_comb begin
    o_dinv = '0;
    o_sinv = '0;
    for (int unsigned s = 0; s < Slots; s++) begin
      if (o_sel_q == SlotW'(s)) begin
        o_dinv = slot_dinv_q[s*PW +: PW];
        o_sinv = slot_sinv_q[s*PW +: PW];
      end
    end
  end

  logic             iss_fire, iss_row_last, iss_run_last;
  logic [Lanes-1:0] iss_mask;

  assign iss_fire     = o_fire || ew_fire;
  assign iss_mask     = m_ln ? (o_beat_last ? last_mask : '1) : in_mask;
  assign iss_row_last = m_ln ? o_beat_last : in_beat_last;
  assign iss_run_last = m_ln ? (o_beat_last && o_row_q == n_last) : (in_beat_last && in_row_last);

  // ---- Memories --------------------------------------------------------------------------
  // One write port and one synchronous read port each (the read register is the S1
  // operand register); not reset: a slot is read only after INGEST wrote it, gamma/beta
  // only after a load of this d, the LUT only after a load (ln_d_q, lut_ok_q).

  logic [Lanes*RW-1:0]     row_mem   [RowDepth];
  logic [Lanes*GammaW-1:0] gamma_mem [DbMax];
  logic [Lanes*WordW-1:0]  beta_mem  [DbMax];
  logic [LutSize*DataW-1:0] lut_q;

  logic [Lanes*GammaW-1:0] gamma_word;
  logic [Lanes*DataW-1:0]  lut_word;
  for (genvar l = 0; l < Lanes; l++) begin : g_prm
    assign gamma_word[l*GammaW +: GammaW] = prm_data_i[l*WordW +: GammaW];
    assign lut_word[l*DataW +: DataW]     = prm_data_i[l*WordW +: DataW];
  end

  // The ingest register's datapath (no reset: read only behind ir_v_q).
  always_ff @(posedge clk_i) begin
    if (ing_fire) begin
      ir_last_q <= in_beat_last;
      ir_sel_q  <= in_sel_q;
      ir_addr_q <= in_base + RowAW'(in_beat_q);
      ir_r_q    <= res_word;
    end
  end

  always_ff @(posedge clk_i) begin
    if (ir_v_q) begin
      row_mem[ir_addr_q] <= ir_r_q;
    end
  end

  always_ff @(posedge clk_i) begin
    if (gamma_we) begin
      gamma_mem[BeatW'(ld_beat_q)] <= gamma_word;
    end
  end

  always_ff @(posedge clk_i) begin
    if (beta_we) begin
      beta_mem[BeatW'(ld_beat_q)] <= prm_data_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (lut_we) begin
      lut_q[(LutIdxW'(ld_beat_q) << (LaneW + $clog2(DataW))) +: Lanes*DataW] <= lut_word;
    end
  end

  // ---- S1: operands ----------------------------------------------------------------------

  logic                     v1_q, rl1_q, nl1_q;
  logic [Lanes-1:0]         mask1_q;
  logic [Lanes*RW-1:0]      row_rd_q;    // LN: r from the row buffer
  logic [Lanes*GammaW-1:0]  gamma_rd_q;  // LN: gamma
  logic [Lanes*WordW-1:0]   beta_rd_q;   // LN: beta
  logic [PW-1:0]            dinv1_q, sinv1_q;
  logic [Lanes*AddW-1:0]    ew_r_q;      // ADD: a + b; GELU: a (sign-extended)
  logic [Lanes*WordW-1:0]   ew_acc_q;    // REQUANT: acc

  always_ff @(posedge clk_i) begin
    if (o_fire) begin
      row_rd_q   <= row_mem[o_base + RowAW'(o_beat_q)];
      gamma_rd_q <= gamma_mem[o_beat_q];
      beta_rd_q  <= beta_mem[o_beat_q];
      dinv1_q    <= o_dinv;
      sinv1_q    <= o_sinv;
    end
  end

  logic [Lanes*AddW-1:0] a_ext;
  for (genvar l = 0; l < Lanes; l++) begin : g_a_ext
    assign a_ext[l*AddW +: AddW] = {a_word[l*DataW+DataW-1], a_word[l*DataW +: DataW]};
  end

  always_ff @(posedge clk_i) begin
    if (ew_fire) begin
      ew_r_q   <= m_gelu ? a_ext : ab_word;
      ew_acc_q <= acc_data_i;
    end
  end

  logic [Lanes*WordW-1:0] w1;
  assign w1 = m_ln ? beta_rd_q : ew_acc_q;

  // ---- S1 -> S2: normalize (LN), LUT (GELU), saturate (ADD) -------------------------------

  logic [Lanes*NW-1:0] x2_d;
  logic [Lanes-1:0]    n_fits;   // assertion support: n fits NW bits

  for (genvar l = 0; l < Lanes; l++) begin : g_s1
    logic signed [RW-1:0]   r;         // LN: r
    logic signed [AddW-1:0] e;         // ADD: a + b; GELU: a
    logic signed [PW-1:0]   r_e, p;
    logic signed [PW:0]     p_r;       // p + 2^18 - neg, one bit wider
    logic signed [PW:0]     n_full;
    logic [DataW-1:0]       lut_v, sat_v, ew_v;

    assign r   = row_rd_q[l*RW +: RW];
    assign e   = ew_r_q[l*AddW +: AddW];
    assign r_e = {{(PW - RW){r[RW-1]}}, r};
    // c * inv = r * dinv - sinv, exact modulo 2^PW (|c * inv| < 2^(PW-2)).
    assign p      = r_e * $signed(dinv1_q) - $signed(sinv1_q);
    assign p_r    = {p[PW-1], p} + $signed((PW+1)'(1) << (LnShift - 1)) - $signed((PW+1)'(p[PW-1]));
    assign n_full = p_r >>> LnShift;
    // (Bit slices, not >>>: against the unsigned '1 the shift would be logical.)
    assign n_fits[l] = (n_full[PW:NW-1] == '0) || (n_full[PW:NW-1] == '1);

    // GELU: lut[x + 128], x + 128 = x with the sign bit inverted.
    assign lut_v = lut_q[{~e[DataW-1], e[DataW-2:0], 3'b000} +: DataW];
    // ADD: SaturateInt8(a + b).
    assign sat_v = (e > $signed(AddW'(127))) ? DataW'(127) :
                   (e < -$signed(AddW'(128))) ? DataW'(8'h80) : e[DataW-1:0];
    assign ew_v  = m_gelu ? lut_v : sat_v;

    assign x2_d[l*NW +: NW] = m_ln ? n_full[NW-1:0] : {{(NW - DataW){ew_v[DataW-1]}}, ew_v};
  end

  // ---- S2 --------------------------------------------------------------------------------

  logic                    v2_q, rl2_q, nl2_q;
  logic [Lanes-1:0]        mask2_q;
  logic [Lanes*NW-1:0]     x2_q;
  logic [Lanes*GammaW-1:0] g2_q;
  logic [Lanes*WordW-1:0]  w2_q;

  // ---- S2 -> S3: t = n * gamma + beta (LN), acc (REQUANT), the 8-bit result otherwise -----

  logic [Lanes*TW-1:0] t3_d;

  for (genvar l = 0; l < Lanes; l++) begin : g_s2
    logic signed [NW-1:0]     x;
    logic signed [GammaW-1:0] g;
    logic signed [WordW-1:0]  w;
    logic signed [TW-1:0]     x_e, g_e, w_e, t_ln;

    assign x    = x2_q[l*NW +: NW];
    assign g    = g2_q[l*GammaW +: GammaW];
    assign w    = w2_q[l*WordW +: WordW];
    assign x_e  = {{(TW - NW){x[NW-1]}}, x};
    assign g_e  = {{(TW - GammaW){g[GammaW-1]}}, g};
    assign w_e  = {{(TW - WordW){w[WordW-1]}}, w};
    assign t_ln = x_e * g_e + w_e;

    assign t3_d[l*TW +: TW] = m_ln ? t_ln : (m_requant ? w_e : x_e);
  end

  // ---- S3 --------------------------------------------------------------------------------

  logic                    v3_q, rl3_q, nl3_q;
  logic [Lanes-1:0]        mask3_q;
  logic [Lanes*TW-1:0]     t3_q;

  // ---- S3 -> OUT: Requantize (LN, REQUANT) or the 8-bit result; lanes >= d are 0 ---------

  logic [Lanes*DataW-1:0] y_d;

  for (genvar l = 0; l < Lanes; l++) begin : g_s3
    logic [DataW-1:0] rq;

    esact_requant #(
      .AccW (TW)
    ) u_requant (
      .acc_i   (t3_q[l*TW +: TW]),
      .mult_i  (mult_q),
      .shift_i (shift_q),
      .y_o     (rq)
    );

    assign y_d[l*DataW +: DataW] = !mask3_q[l]         ? '0 :
                                   (m_ln || m_requant) ? rq : t3_q[l*TW +: DataW];
  end

  // ---- OUT -------------------------------------------------------------------------------

  logic                   out_last_q, out_end_q;  // last beat of a row / of the run
  logic [Lanes*DataW-1:0] out_data_q;
  logic                   out_fire;

  assign out_fire = out_valid_q && out_ready_i;

  // Pipeline datapath registers (no reset; read only behind their valid bits).
  always_ff @(posedge clk_i) begin
    if (pipe_en) begin
      mask1_q    <= iss_mask;
      x2_q       <= x2_d;
      g2_q       <= gamma_rd_q;
      w2_q       <= w1;
      mask2_q    <= mask1_q;
      t3_q       <= t3_d;
      mask3_q    <= mask2_q;
      out_data_q <= y_d;
    end
  end

  // ---- Next state ------------------------------------------------------------------------

  // The slot after s.
  function automatic logic [SlotW-1:0] next_slot(input logic [SlotW-1:0] s);
    next_slot = (s == SlotW'(Slots - 1)) ? '0 : s + SlotW'(1);
  endfunction

  always_comb begin
    state_d     = state_q;
    err_d       = err_q;
    cfg_d       = cfg_q;
    lut_ok_d    = lut_ok_q;
    ln_d_d      = ln_d_q;
    ld_beat_d   = ld_beat_q;
    ld_beta_d   = ld_beta_q;
    in_beat_d   = in_beat_q;
    in_row_d    = in_row_q;
    in_done_d   = in_done_q;
    in_sel_d    = in_sel_q;
    st_sel_d    = st_sel_q;
    o_sel_d     = o_sel_q;
    o_beat_d    = o_beat_q;
    o_row_d     = o_row_q;
    slot_st_d   = slot_st_q;
    sacc_d      = sacc_q;
    qacc_d      = qacc_q;
    slot_s_d    = slot_s_q;
    slot_q_d    = slot_q_q;
    slot_dinv_d = slot_dinv_q;
    slot_sinv_d = slot_sinv_q;

    // Input side: LN ingest or elementwise issue (one of them per mode).
    if (ing_fire || ew_fire) begin
      in_beat_d = in_beat_q + BeatW'(1);
      if (in_beat_last) begin
        in_beat_d = '0;
        in_row_d  = in_row_q + RowsW'(1);
        if (in_row_last) begin
          in_done_d = 1'b1;
        end
      end
    end
    if (ing_fire && in_beat_last) begin
      in_sel_d = next_slot(in_sel_q);
    end
    // IN2: the beat in the ingest register is summed (and stored); a row's last beat
    // makes its slot FULL.
    if (ir_v_q) begin
      sacc_d = sacc_q + beat_sum;
      qacc_d = qacc_q + beat_sq;
      if (ir_last_q) begin
        sacc_d = '0;
        qacc_d = '0;
        for (int unsigned s = 0; s < Slots; s++) begin
          if (ir_sel_q == SlotW'(s)) begin
            slot_s_d[s*SumW +: SumW] = sacc_q + beat_sum;
            slot_q_d[s*QW +: QW]     = qacc_q + beat_sq;
            slot_st_d[2*s +: 2]      = SlotFull;
          end
        end
      end
    end

    // STATS done: the slot's constants are ready for OUTPUT.
    if (st_done) begin
      st_sel_d = next_slot(st_sel_q);
      for (int unsigned s = 0; s < Slots; s++) begin
        if (st_sel_q == SlotW'(s)) begin
          slot_dinv_d[s*PW +: PW] = st_dinv;
          slot_sinv_d[s*PW +: PW] = st_sinv;
          slot_st_d[2*s +: 2]     = SlotReady;
        end
      end
    end

    // OUTPUT: the slot is free once its last beat is issued.
    if (o_fire) begin
      o_beat_d = o_beat_q + BeatW'(1);
      if (o_beat_last) begin
        o_beat_d = '0;
        o_row_d  = o_row_q + RowsW'(1);
        o_sel_d  = next_slot(o_sel_q);
        for (int unsigned s = 0; s < Slots; s++) begin
          if (o_sel_q == SlotW'(s)) begin
            slot_st_d[2*s +: 2] = SlotFree;
          end
        end
      end
    end

    // Parameter load.
    if (prm_fire) begin
      ld_beat_d = ld_beat_q + LdW'(1);
      if (ld_last) begin
        ld_beat_d = '0;
        ld_beta_d = 1'b1;
      end
    end

    unique case (state_q)
      StIdle: begin
        if (start_i) begin
          state_d = StCheck;
          cfg_d   = cfg_in;
          err_d   = esact_pkg::VEC_ERR_NONE;
        end
      end
      StCheck: begin
        if (field_err != esact_pkg::VEC_ERR_NONE) begin
          err_d   = field_err;
          state_d = StDone;
        end else begin
          state_d   = loads ? StLoad : StRows;
          ld_beat_d = '0;
          ld_beta_d = 1'b0;
          in_beat_d = '0;
          in_row_d  = '0;
          in_done_d = 1'b0;
          in_sel_d  = '0;
          st_sel_d  = '0;
          o_sel_d   = '0;
          o_beat_d  = '0;
          o_row_d   = '0;
          slot_st_d = '0;
          sacc_d    = '0;
          qacc_d    = '0;
          // A load replaces the parameters: they are invalid until it completes.
          if (loads && m_gelu) lut_ok_d = 1'b0;
          if (loads && m_ln)   ln_d_d   = '0;
        end
      end
      StLoad: begin
        if (prm_fire && ld_last && (m_gelu || ld_beta_q)) begin
          if (m_gelu) lut_ok_d = 1'b1;
          if (m_ln)   ln_d_d   = d_q;
          state_d = (n_rows_q == '0) ? StDone : StRows;
        end
      end
      StRows: begin
        if (out_fire && out_end_q) begin
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
      err_q       <= esact_pkg::VEC_ERR_NONE;
      cfg_q       <= '0;
      lut_ok_q    <= 1'b0;
      ln_d_q      <= '0;
      ld_beat_q   <= '0;
      ld_beta_q   <= 1'b0;
      in_beat_q   <= '0;
      in_row_q    <= '0;
      in_done_q   <= 1'b0;
      in_sel_q    <= '0;
      st_sel_q    <= '0;
      o_sel_q     <= '0;
      o_beat_q    <= '0;
      o_row_q     <= '0;
      slot_st_q   <= '0;
      ir_v_q      <= 1'b0;
      sacc_q      <= '0;
      qacc_q      <= '0;
      v1_q        <= 1'b0;
      rl1_q       <= 1'b0;
      nl1_q       <= 1'b0;
      v2_q        <= 1'b0;
      rl2_q       <= 1'b0;
      nl2_q       <= 1'b0;
      v3_q        <= 1'b0;
      rl3_q       <= 1'b0;
      nl3_q       <= 1'b0;
      out_valid_q <= 1'b0;
      out_last_q  <= 1'b0;
      out_end_q   <= 1'b0;
    end else begin
      state_q     <= state_d;
      err_q       <= err_d;
      cfg_q       <= cfg_d;
      lut_ok_q    <= lut_ok_d;
      ln_d_q      <= ln_d_d;
      ld_beat_q   <= ld_beat_d;
      ld_beta_q   <= ld_beta_d;
      in_beat_q   <= in_beat_d;
      in_row_q    <= in_row_d;
      in_done_q   <= in_done_d;
      in_sel_q    <= in_sel_d;
      st_sel_q    <= st_sel_d;
      o_sel_q     <= o_sel_d;
      o_beat_q    <= o_beat_d;
      o_row_q     <= o_row_d;
      slot_st_q   <= slot_st_d;
      ir_v_q      <= ing_fire;
      sacc_q      <= sacc_d;
      qacc_q      <= qacc_d;
      if (pipe_en) begin
        v1_q        <= iss_fire;
        rl1_q       <= iss_fire && iss_row_last;
        nl1_q       <= iss_fire && iss_run_last;
        v2_q        <= v1_q;
        rl2_q       <= rl1_q;
        nl2_q       <= nl1_q;
        v3_q        <= v2_q;
        rl3_q       <= rl2_q;
        nl3_q       <= nl2_q;
        out_valid_q <= v3_q;
        out_last_q  <= rl3_q;
        out_end_q   <= nl3_q;
      end
    end
  end

  // Slot registers (no reset: read only in the slot state that follows their write).
  always_ff @(posedge clk_i) begin
    slot_s_q    <= slot_s_d;
    slot_q_q    <= slot_q_d;
    slot_dinv_q <= slot_dinv_d;
    slot_sinv_q <= slot_sinv_d;
  end

  assign busy_o      = (state_q != StIdle);
  assign done_o      = (state_q == StDone);
  assign err_code_o  = err_q;
  assign err_o       = (err_q != esact_pkg::VEC_ERR_NONE);
  assign out_valid_o = out_valid_q;
  assign out_data_o  = out_data_q;
  assign out_last_o  = out_last_q;

  // ---- Assertions ------------------------------------------------------------------------

  // Input contracts (the upstream's promise, checked here) hold within a run.
  logic in_run;
  assign in_run = busy_o && !done_o;
  `ESACT_ASSERT(AValidHeld_A, in_run && a_valid_i && !a_ready_o |=> a_valid_i)
  `ESACT_ASSERT(ADataStable_A, in_run && a_valid_i && !a_ready_o |=> $stable(a_data_i))
  `ESACT_ASSERT(BValidHeld_A, in_run && b_valid_i && !b_ready_o |=> b_valid_i)
  `ESACT_ASSERT(BDataStable_A, in_run && b_valid_i && !b_ready_o |=> $stable(b_data_i))
  `ESACT_ASSERT(AccValidHeld_A, in_run && acc_valid_i && !acc_ready_o |=> acc_valid_i)
  `ESACT_ASSERT(AccDataStable_A, in_run && acc_valid_i && !acc_ready_o |=> $stable(acc_data_i))
  `ESACT_ASSERT(PrmValidHeld_A, in_run && prm_valid_i && !prm_ready_o |=> prm_valid_i)
  `ESACT_ASSERT(PrmDataStable_A, in_run && prm_valid_i && !prm_ready_o |=> $stable(prm_data_i))
  // Output contract: once valid, hold valid and data until the cycle after ready.
  `ESACT_ASSERT(OutValidHeld_A, out_valid_o && !out_ready_i |=> out_valid_o)
  `ESACT_ASSERT(OutDataStable_A, out_valid_o && !out_ready_i |=> $stable(out_data_o))
  `ESACT_ASSERT(OutLastStable_A, out_valid_o && !out_ready_i |=> $stable(out_last_o))
  // Streams move only in their phase; no output beat outside a run.
  `ESACT_ASSERT(NoInputOutsideRows_A, !rows |-> !a_ready_o && !b_ready_o && !acc_ready_o)
  `ESACT_ASSERT(NoOutputWhenIdle_A, !busy_o |-> !out_valid_o)
  `ESACT_ASSERT(DoneWhileBusy_A, done_o |-> busy_o)
  // The normalized value n fits NW bits (|n| <= sqrt(d) 2^12 + 1) in every lane < d.
  `ESACT_ASSERT(NormFits_A, v1_q && m_ln |-> (n_fits | ~mask1_q) == '1)
  // Slot order: STATS takes a full slot, OUTPUT reads a ready one.
  `ESACT_ASSERT(StatsOnFull_A, st_done |-> st_slot_st == SlotFull)
  // The ingest register's slot is still being filled (FREE) when its beat is stored.
  logic ir_slot_free;
  always_comb begin
    ir_slot_free = 1'b0;
    for (int unsigned s = 0; s < Slots; s++) begin
      if (ir_sel_q == SlotW'(s)) ir_slot_free = (slot_st_q[2*s +: 2] == SlotFree);
    end
  end
  `ESACT_ASSERT(IngestIntoFree_A, ir_v_q |-> ir_slot_free)
  for (genvar s = 0; s < Slots; s++) begin : g_slot_assert
    `ESACT_ASSERT(SlotStateLegal_A, slot_st_q[2*s +: 2] != 2'd3)  // FREE, FULL or READY
  end
  // The row counters stay inside the run.
  `ESACT_ASSERT(RowsInRange_A, rows |-> in_row_q <= n_rows_q && o_row_q <= n_rows_q)

endmodule
