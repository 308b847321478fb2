// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Row-list int8 GEMM engine: for each row r of a row list,
///   y[r][c] = Requantize(sum_k x[r][k] * W[k][c] + bias[c], {mult, shift}),  c < N,
/// bit-exact with esact::LinearRow / esact::LinearRows (golden/engines.h). Rows that are not
/// in the list are never sent and cost no cycle (compaction).
///
/// Array: Rows x Cols output-stationary int8 MACs (esact_gemm_pe). A row tile is up to Rows
/// consecutive rows of the list; a column tile is Cols output columns. For one (row tile,
/// column tile) step the array runs K cycles: in cycle k, x[r][k] is broadcast along PE row
/// r (from the X tile buffer) and W[k][c] along PE column c (straight from the W stream);
/// the bias preloads the accumulators with the step's k = 0 and the last product writes the
/// finished sums into a drain register bank, from which one row per cycle is requantized
/// (Cols esact_requant) into the Y output register while the next step computes.
///
/// Run: configure the cfg_* inputs, pulse start_i while busy_o is low (ignored while busy).
/// The configuration is sampled on the start edge; the unit checks it (one cycle), then
///   - loads the X rows of the list, row tile by row tile, into a two-slot X tile buffer
///     (the next row tile loads while the current one computes);
///   - per row tile, per column tile: takes one B beat (Cols int32 biases, into a one-beat
///     bias register loaded ahead) and K W beats (one per cycle, into the array);
///   - emits per (row tile, column tile) one Y beat per row of the tile;
///   - raises done_o for one cycle once the last Y beat has been taken.
/// busy_o is high from the cycle after the start edge up to and including the done_o cycle.
/// err_o / err_code_o are valid from done_o on and hold until the next start; GEMM_ERR_NONE
/// for a completed run. An illegal configuration (esact_pkg::gemm_err_e, checked in this
/// order: n_rows > NRowsMax; in_features 0 or > KMax; out_features 0 or > NOutMax; shift >
/// 47) and an empty row list (n_rows = 0) take 2 cycles from the start edge to done_o and
/// consume nothing. Every mult (16 bits) is legal. Sources keep the valid/ready contract
/// from the start edge to done_o; after it they may withdraw beats the unit did not take.
///
/// Streams (L = XLanes, K = in_features, N = out_features, n = n_rows, XB = ceil(K/L),
/// RT = ceil(n/Rows), CT = ceil(N/Cols)):
///   X  n rows in list order, XB beats per row; lane l of beat b = x[row][b*L + l] (lanes
///      at k >= K are ignored); x_row_i = the row's index, the same on every beat of the row.
///   W  per row tile, per column tile j: K beats of Cols int8, lane c of beat k =
///      W[k][j*Cols + c] (lanes of columns >= N are ignored). RT * CT * K beats.
///   B  per row tile, per column tile j: one beat of Cols int32, lane c = bias[j*Cols + c]
///      (lanes of columns >= N ignored). RT * CT beats.
///   Y  per row tile, per column tile j, per row of the tile in list order: y_row_o = the
///      row index, y_col_tile_o = j, lane c of y_data_o = y[row][j*Cols + c] (0 for columns
///      >= N). n * CT beats.
///
/// Cycle count without stalls (sources always valid, sink always ready), start edge to the
/// edge that raises done_o, with r0 = rows of the first tile, r_last = rows of the last:
///   T = 5 + r0 * XB + RT * CT * K + r_last      when K > Rows and Rows * XB <= CT * K
/// (2 start/check, the first row tile's X load, one cycle per MAC step, 1 operand stage,
/// the last drain, 2 to done). Otherwise (drain-bound K <= Rows, or X-load-bound shapes)
///   T <= 5 + r0 * XB + RT * max(CT * max(K, Rows + 1), Rows * XB + 1) + Rows.
/// docs/architecture.md section "esact_gemm"; tests/rtl_gemm_test.cc checks both.
`include "esact_assert.svh"

module esact_gemm #(
  parameter  int unsigned Rows     /*verilator public*/ = 16,  ///< PE rows (rows per tile), >= 1
  parameter  int unsigned Cols     /*verilator public*/ = 16,  ///< PE columns, >= 1
  parameter  int unsigned KMax     /*verilator public*/ = 64,  ///< max in_features, >= 1
  parameter  int unsigned NOutMax  /*verilator public*/ = 64,  ///< max out_features, >= 1
  parameter  int unsigned NRowsMax /*verilator public*/ = 32,  ///< max rows in a list (tokens), >= 2
  parameter  int unsigned XLanes   /*verilator public*/ = 16,  ///< int8 per X beat, a power of two
  /// Row index width (x_row_i, y_row_o) and column tile index width, at least 1.
  localparam int unsigned RowW = ($clog2(NRowsMax) > 1) ? $clog2(NRowsMax) : 1,
  localparam int unsigned CtW  = ($clog2((NOutMax + Cols - 1) / Cols) > 1) ?
                                 $clog2((NOutMax + Cols - 1) / Cols) : 1
) (
  input  logic                                     clk_i,
  input  logic                                     rst_ni,
  // Run-time configuration, sampled at start_i
  input  logic [$clog2(NRowsMax+1)-1:0]            cfg_n_rows_i,  ///< rows in the list, 0..NRowsMax
  input  logic [$clog2(KMax+1)-1:0]                cfg_in_i,      ///< K, 1..KMax
  input  logic [$clog2(NOutMax+1)-1:0]             cfg_out_i,     ///< N, 1..NOutMax
  input  logic [esact_pkg::REQ_MULT_W-1:0]         cfg_mult_i,    ///< requant mult, any
  input  logic [esact_pkg::REQ_SHIFT_W-1:0]        cfg_shift_i,   ///< requant shift, 0..47
  // Control
  input  logic                                     start_i,
  output logic                                     busy_o,
  output logic                                     done_o,        ///< one-cycle pulse
  output logic                                     err_o,
  output esact_pkg::gemm_err_e                     err_code_o,
  // X: the listed rows, lane l in [8*l +: 8]
  input  logic                                     x_valid_i,
  output logic                                     x_ready_o,
  input  logic [RowW-1:0]                          x_row_i,
  input  logic [XLanes*esact_pkg::INT8_W-1:0]      x_data_i,
  // W: one weight row k of a column tile, lane c in [8*c +: 8]
  input  logic                                     w_valid_i,
  output logic                                     w_ready_o,
  input  logic [Cols*esact_pkg::INT8_W-1:0]        w_data_i,
  // B: the biases of a column tile, lane c in [32*c +: 32]
  input  logic                                     b_valid_i,
  output logic                                     b_ready_o,
  input  logic [Cols*esact_pkg::GEMM_ACC_W-1:0]    b_data_i,
  // Y: one output row of a column tile, lane c in [8*c +: 8]
  output logic                                     y_valid_o,
  input  logic                                     y_ready_i,
  output logic [RowW-1:0]                          y_row_o,
  output logic [CtW-1:0]                           y_col_tile_o,
  output logic [Cols*esact_pkg::INT8_W-1:0]        y_data_o
);

  // ---- Widths and sizes ------------------------------------------------------------------

  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned AccW   = esact_pkg::GEMM_ACC_W;
  localparam int unsigned MultW  = esact_pkg::REQ_MULT_W;
  localparam int unsigned ShiftW = esact_pkg::REQ_SHIFT_W;
  localparam int unsigned XWordW = XLanes * DataW;                  // one X beat
  localparam int unsigned LaneW  = $clog2(XLanes);                  // 0 for one lane
  localparam int unsigned XbMax  = (KMax + XLanes - 1) / XLanes;    // X beats per row
  localparam int unsigned XDepth = 2 * XbMax;                       // words per row bank
  localparam int unsigned XAW    = ($clog2(XDepth) > 1) ? $clog2(XDepth) : 1;
  localparam int unsigned BeatW  = ($clog2(XbMax) > 1) ? $clog2(XbMax) : 1;
  localparam int unsigned KIdxW  = ($clog2(KMax) > 1) ? $clog2(KMax) : 1;    // k, 0..KMax-1
  localparam int unsigned RIdxW  = ($clog2(Rows) > 1) ? $clog2(Rows) : 1;    // row in a tile
  localparam int unsigned RCntW  = $clog2(Rows + 1);                         // rows in a tile
  localparam int unsigned NW     = $clog2(NRowsMax + 1);
  localparam int unsigned KW     = $clog2(KMax + 1);
  localparam int unsigned OW     = $clog2(NOutMax + 1);
  localparam int unsigned CntW   = ((NW > RCntW) ? NW : RCntW) + 1;           // row counts
  localparam int unsigned ColW   = $clog2(NOutMax + Cols + 1);                // column base

  `ESACT_ASSERT_INIT(RowsLegal_A, Rows >= 1)
  `ESACT_ASSERT_INIT(ColsLegal_A, Cols >= 1)
  `ESACT_ASSERT_INIT(KMaxLegal_A, KMax >= 1 && KMax <= 65536)
  `ESACT_ASSERT_INIT(NOutMaxLegal_A, NOutMax >= 1 && NOutMax <= 65536)
  `ESACT_ASSERT_INIT(NRowsMaxLegal_A, NRowsMax >= 2 && NRowsMax <= 65536)
  `ESACT_ASSERT_INIT(XLanesPow2_A, XLanes >= 1 && (XLanes & (XLanes - 1)) == 0)

  // ---- Sampled configuration -------------------------------------------------------------

  localparam int unsigned CfgW = NW + KW + OW + MultW + ShiftW;

  logic [CfgW-1:0]   cfg_in, cfg_d, cfg_q;
  logic [NW-1:0]     n_q;      // rows in the list
  logic [KW-1:0]     k_q;      // in_features
  logic [OW-1:0]     nout_q;   // out_features
  logic [MultW-1:0]  mult_q;
  logic [ShiftW-1:0] shift_q;

  assign cfg_in = {cfg_n_rows_i, cfg_in_i, cfg_out_i, cfg_mult_i, cfg_shift_i};
  assign {n_q, k_q, nout_q, mult_q, shift_q} = cfg_q;

  // Derived loop bounds (valid once CHECK has passed).
  logic [KIdxW-1:0] k_last;   // K - 1
  logic [BeatW-1:0] xb_last;  // ceil(K / XLanes) - 1
  logic [KW-1:0]    k_m1;

  assign k_m1    = k_q - KW'(1);
  assign k_last  = KIdxW'(k_m1);
  assign xb_last = BeatW'(k_m1 >> LaneW);

  // ---- Control state ---------------------------------------------------------------------

  typedef enum logic [1:0] {
    StIdle  = 2'd0,
    StCheck = 2'd1,  // configuration check
    StRun   = 2'd2,  // streams active
    StDone  = 2'd3   // done_o
  } state_e;

  state_e               state_d, state_q;
  esact_pkg::gemm_err_e err_d, err_q;
  logic                 run;

  assign run = (state_q == StRun);

  // ---- Configuration check ---------------------------------------------------------------

  logic n_over, k_over, out_over, shift_over;

  esact_cfg_over #(.Width(NW), .Max(NRowsMax)) u_n_over   (.value_i(n_q),     .over_o(n_over));
  esact_cfg_over #(.Width(KW), .Max(KMax))     u_k_over   (.value_i(k_q),     .over_o(k_over));
  esact_cfg_over #(.Width(OW), .Max(NOutMax))  u_out_over (.value_i(nout_q),  .over_o(out_over));
  esact_cfg_over #(.Width(ShiftW), .Max(esact_pkg::REQ_MAX_SHIFT)) u_shift_over (
    .value_i(shift_q),
    .over_o (shift_over)
  );

  esact_pkg::gemm_err_e field_err;
  always_comb begin
    field_err = esact_pkg::GEMM_ERR_NONE;
    if (n_over) begin
      field_err = esact_pkg::GEMM_ERR_N_ROWS;
    end else if (k_q == '0 || k_over) begin
      field_err = esact_pkg::GEMM_ERR_IN;
    end else if (nout_q == '0 || out_over) begin
      field_err = esact_pkg::GEMM_ERR_OUT;
    end else if (shift_over) begin
      field_err = esact_pkg::GEMM_ERR_SHIFT;
    end
  end

  // ---- X loader: two row-tile slots ------------------------------------------------------

  logic              ld_slot_d, ld_slot_q;    // slot being filled
  logic [RIdxW-1:0]  ld_row_d, ld_row_q;      // row within the tile
  logic [BeatW-1:0]  ld_beat_d, ld_beat_q;    // beat within the row
  logic [NW-1:0]     ld_left_d, ld_left_q;    // list rows not yet loaded
  logic [RCntW-1:0]  ld_rows;                 // rows of the tile being loaded
  logic [1:0]        slot_full_d, slot_full_q;
  logic [2*RCntW-1:0] slot_rows_d, slot_rows_q;  // rows in each slot's tile, slot s at [s*RCntW]
  logic [RCntW-1:0]  cp_rows;                 // rows of the tile being computed
  logic              x_fire;
  logic [XAW-1:0]    x_waddr;

  assign ld_rows   = (CntW'(ld_left_q) > CntW'(Rows)) ? RCntW'(Rows) : RCntW'(ld_left_q);
  assign x_ready_o = run && (ld_left_q != '0) && !slot_full_q[ld_slot_q];
  assign x_fire    = x_valid_i && x_ready_o;
  assign x_waddr   = XAW'(ld_slot_q ? XbMax : 0) + XAW'(ld_beat_q);

  // ---- Bias loader: one bias register, loaded ahead --------------------------------------

  logic              b_full_d, b_full_q;
  logic              bl_active_d, bl_active_q;  // biases still to come
  logic [ColW-1:0]   bl_col0_d, bl_col0_q;      // first column of the next bias beat
  logic [NW-1:0]     bl_left_d, bl_left_q;      // list rows whose biases are still to come
  logic [AccW*Cols-1:0] b_q;                    // bias register (datapath, no reset)
  logic              b_fire;

  assign b_ready_o = run && bl_active_q && !b_full_q;
  assign b_fire    = b_valid_i && b_ready_o;

  always_ff @(posedge clk_i) begin
    if (b_fire) begin
      b_q <= b_data_i;
    end
  end

  // ---- Issue: one MAC step per cycle -----------------------------------------------------

  logic              cp_active_d, cp_active_q;  // steps still to issue
  logic              cp_slot_d, cp_slot_q;      // slot being computed with
  logic [KIdxW-1:0]  cp_k_d, cp_k_q;
  logic [CtW-1:0]    cp_ct_d, cp_ct_q;          // column tile
  logic [ColW-1:0]   cp_col0_d, cp_col0_q;      // its first column
  logic [NW-1:0]     cp_left_d, cp_left_q;      // list rows not yet computed
  logic              cp_first, cp_klast, cp_ctlast;
  logic [Cols-1:0]   cp_cmask;                  // columns of the tile below N
  logic              iss_ok, iss_fire;
  logic [XAW-1:0]    x_raddr;
  logic [KIdxW-1:0]  x_lane;

  // Stage 1 (operand registers into the array).
  logic              s1_valid_d, s1_valid_q;
  logic              s1_last_d, s1_last_q;      // the step's last product
  logic              s1_stall, s1_adv;

  // Drain bank and Y output register.
  logic              dr_busy_d, dr_busy_q;
  logic [RIdxW-1:0]  dr_row_d, dr_row_q;        // next row to requantize
  logic              dr_move;                   // a drain row moves into the Y register
  logic              y_valid_d, y_valid_q;
  logic              y_adv;

  assign cp_first  = (cp_k_q == '0);
  assign cp_klast  = (cp_k_q == k_last);
  assign cp_ctlast = (cp_col0_q + ColW'(Cols)) >= ColW'(nout_q);
  for (genvar c = 0; c < Cols; c++) begin : g_cmask
    assign cp_cmask[c] = (cp_col0_q + ColW'(c)) < ColW'(nout_q);
  end

  // A last product waits in stage 1 while the drain bank still holds the previous step.
  assign s1_stall  = s1_valid_q && s1_last_q && dr_busy_q;
  assign s1_adv    = s1_valid_q && !s1_stall;
  assign iss_ok    = run && cp_active_q && slot_full_q[cp_slot_q] && (!cp_first || b_full_q) &&
                     !s1_stall;
  assign w_ready_o = iss_ok;
  assign iss_fire  = iss_ok && w_valid_i;
  assign x_raddr   = XAW'(cp_slot_q ? XbMax : 0) + XAW'(cp_k_q >> LaneW);
  assign x_lane    = cp_k_q & KIdxW'(XLanes - 1);
  assign cp_rows   = slot_rows_q[(cp_slot_q ? RCntW : 0) +: RCntW];

  // ---- X tile buffer and operand registers -----------------------------------------------
  // Rows banks of XDepth words (slot s, beat b at s*XbMax + b), one write port (the loader,
  // into the bank of its row) and one synchronous read port per bank (the issue, into the
  // row's operand register). Memory-inference idiom: enable inside always_ff. No reset:
  // a word is written before it is read (rows of a partial tile past its end compute
  // garbage that is never drained).

  logic [Rows*DataW-1:0] x_op;                   // operand registers (no reset), row r
  logic [Cols*DataW-1:0] w_op_q;                 // at [r*8 +: 8], column c at [c*8 +: 8]

  for (genvar r = 0; r < Rows; r++) begin : g_xbank
    logic [XWordW-1:0] bank [XDepth];
    logic [XWordW-1:0] rd_word;
    logic [DataW-1:0]  op_q;

    always_ff @(posedge clk_i) begin
      if (x_fire && ld_row_q == RIdxW'(r)) begin
        bank[x_waddr] <= x_data_i;
      end
    end

    assign rd_word = bank[x_raddr];

    always_ff @(posedge clk_i) begin
      if (iss_fire) begin
        op_q <= rd_word[x_lane*DataW +: DataW];
      end
    end

    assign x_op[r*DataW +: DataW] = op_q;
  end

  always_ff @(posedge clk_i) begin
    if (iss_fire) begin
      w_op_q <= w_data_i;
    end
  end

  // Row indices of each slot's rows (slot s, row r at s*Rows + r), written at a row's
  // first beat; and the step metadata that travels with the last product (stage 1), then
  // with the drain bank: row indices, rows in the tile, column tile, column mask.
  // Row r of a tile at [r*RowW +: RowW]. Not reset: written before read.
  logic [Rows*RowW-1:0] slot_idx0_q, slot_idx1_q;
  logic [Rows*RowW-1:0] s1_idx_q, dr_idx_q;
  logic [RowW-1:0]  ld_idx;   // index of the row being loaded (its first beat's)
  logic [RCntW-1:0] s1_rows_q;
  logic [CtW-1:0]   s1_ct_q;
  logic [Cols-1:0]  s1_cmask_q;
  logic [RCntW-1:0] dr_rows_q;
  logic [CtW-1:0]   dr_ct_q;
  logic [Cols-1:0]  dr_cmask_q;
  logic             dr_load;

  assign dr_load = s1_adv && s1_last_q;

  assign ld_idx = ld_slot_q ? slot_idx1_q[ld_row_q*RowW +: RowW]
                           : slot_idx0_q[ld_row_q*RowW +: RowW];

  always_ff @(posedge clk_i) begin
    if (x_fire && ld_beat_q == '0 && !ld_slot_q) begin
      slot_idx0_q[ld_row_q*RowW +: RowW] <= x_row_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (x_fire && ld_beat_q == '0 && ld_slot_q) begin
      slot_idx1_q[ld_row_q*RowW +: RowW] <= x_row_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (iss_fire && cp_klast) begin
      s1_idx_q   <= cp_slot_q ? slot_idx1_q : slot_idx0_q;
      s1_rows_q  <= cp_rows;
      s1_ct_q    <= cp_ct_q;
      s1_cmask_q <= cp_cmask;
    end
  end

  always_ff @(posedge clk_i) begin
    if (dr_load) begin
      dr_idx_q   <= s1_idx_q;
      dr_rows_q  <= s1_rows_q;
      dr_ct_q    <= s1_ct_q;
      dr_cmask_q <= s1_cmask_q;
    end
  end

  // ---- PE array --------------------------------------------------------------------------

  logic pe_load, pe_mac, pe_drain;
  assign pe_load  = iss_fire && cp_first;     // bias into the accumulators
  assign pe_mac   = s1_adv && !s1_last_q;
  assign pe_drain = dr_load;

  // Drain bank: PE (r, c) at [(c*Rows + r)*AccW +: AccW], so a column's Rows sums are
  // one slice.
  logic [Cols*Rows*AccW-1:0] dr_sums;

  for (genvar r = 0; r < Rows; r++) begin : g_row
    for (genvar c = 0; c < Cols; c++) begin : g_col
      esact_gemm_pe u_pe (
        .clk_i   (clk_i),
        .x_i     (x_op[r*DataW +: DataW]),
        .w_i     (w_op_q[c*DataW +: DataW]),
        .bias_i  (b_q[c*AccW +: AccW]),
        .load_i  (pe_load),
        .mac_i   (pe_mac),
        .drain_i (pe_drain),
        .drain_o (dr_sums[(c*Rows + r)*AccW +: AccW])
      );
    end
  end

  // ---- Requantization and the Y output register ------------------------------------------

  logic [Cols*DataW-1:0] rq_data;
  logic [Cols*DataW-1:0] y_data_q;
  logic [RowW-1:0]       y_row_q;
  logic [CtW-1:0]        y_ct_q;

  for (genvar c = 0; c < Cols; c++) begin : g_rq
    logic [Rows*AccW-1:0] col;
    logic [DataW-1:0]     y;

    assign col = dr_sums[c*Rows*AccW +: Rows*AccW];

    esact_requant #(
      .AccW (AccW)
    ) u_rq (
      .acc_i   (col[dr_row_q*AccW +: AccW]),
      .mult_i  (mult_q),
      .shift_i (shift_q),
      .y_o     (y)
    );

    assign rq_data[c*DataW +: DataW] = dr_cmask_q[c] ? y : '0;
  end

  assign y_adv   = !y_valid_q || y_ready_i;
  assign dr_move = dr_busy_q && y_adv;

  always_ff @(posedge clk_i) begin
    if (dr_move) begin
      y_data_q <= rq_data;
      y_row_q  <= dr_idx_q[dr_row_q*RowW +: RowW];
      y_ct_q   <= dr_ct_q;
    end
  end

  assign y_valid_o    = y_valid_q;
  assign y_data_o     = y_data_q;
  assign y_row_o      = y_row_q;
  assign y_col_tile_o = y_ct_q;

  // ---- Next state --------------------------------------------------------------------------

  always_comb begin
    state_d     = state_q;
    err_d       = err_q;
    cfg_d       = cfg_q;
    ld_slot_d   = ld_slot_q;
    ld_row_d    = ld_row_q;
    ld_beat_d   = ld_beat_q;
    ld_left_d   = ld_left_q;
    slot_full_d = slot_full_q;
    slot_rows_d = slot_rows_q;
    b_full_d    = b_full_q;
    bl_active_d = bl_active_q;
    bl_col0_d   = bl_col0_q;
    bl_left_d   = bl_left_q;
    cp_active_d = cp_active_q;
    cp_slot_d   = cp_slot_q;
    cp_k_d      = cp_k_q;
    cp_ct_d     = cp_ct_q;
    cp_col0_d   = cp_col0_q;
    cp_left_d   = cp_left_q;
    s1_valid_d  = s1_valid_q;
    s1_last_d   = s1_last_q;
    dr_busy_d   = dr_busy_q;
    dr_row_d    = dr_row_q;
    y_valid_d   = y_valid_q;

    // X loader.
    if (x_fire) begin
      ld_beat_d = ld_beat_q + BeatW'(1);
      if (ld_beat_q == xb_last) begin
        ld_beat_d = '0;
        ld_row_d  = ld_row_q + RIdxW'(1);
        if (CntW'(ld_row_q) == CntW'(ld_rows) - CntW'(1)) begin
          ld_row_d                 = '0;
          slot_full_d[ld_slot_q]   = 1'b1;
          slot_rows_d[(ld_slot_q ? RCntW : 0) +: RCntW] = ld_rows;
          ld_slot_d                = !ld_slot_q;
          ld_left_d                = ld_left_q - NW'(ld_rows);
        end
      end
    end

    // Bias loader: per row tile, one beat per column tile.
    if (b_fire) begin
      b_full_d  = 1'b1;
      bl_col0_d = bl_col0_q + ColW'(Cols);
      if ((bl_col0_q + ColW'(Cols)) >= ColW'(nout_q)) begin
        bl_col0_d = '0;
        if (CntW'(bl_left_q) > CntW'(Rows)) begin
          bl_left_d = bl_left_q - NW'(Rows);
        end else begin
          bl_left_d   = '0;
          bl_active_d = 1'b0;
        end
      end
    end

    // Issue.
    if (iss_fire) begin
      if (cp_first) begin
        b_full_d = 1'b0;  // the bias went into the accumulators
      end
      cp_k_d = cp_k_q + KIdxW'(1);
      if (cp_klast) begin
        cp_k_d    = '0;
        cp_ct_d   = cp_ct_q + CtW'(1);
        cp_col0_d = cp_col0_q + ColW'(Cols);
        if (cp_ctlast) begin
          // The X slot has been read for the last time: free it for the loader.
          cp_ct_d                = '0;
          cp_col0_d              = '0;
          slot_full_d[cp_slot_q] = 1'b0;
          cp_slot_d              = !cp_slot_q;
          cp_left_d              = cp_left_q - NW'(cp_rows);
          if (CntW'(cp_left_q) == CntW'(cp_rows)) begin
            cp_active_d = 1'b0;
          end
        end
      end
    end

    // Stage 1.
    if (iss_fire) begin
      s1_valid_d = 1'b1;
      s1_last_d  = cp_klast;
    end else if (s1_adv) begin
      s1_valid_d = 1'b0;
      s1_last_d  = 1'b0;
    end

    // Drain bank: loaded by a last product, emptied one row per cycle into Y.
    if (dr_load) begin
      dr_busy_d = 1'b1;
      dr_row_d  = '0;
    end else if (dr_move) begin
      dr_row_d = dr_row_q + RIdxW'(1);
      if (CntW'(dr_row_q) == CntW'(dr_rows_q) - CntW'(1)) begin
        dr_busy_d = 1'b0;
        dr_row_d  = '0;
      end
    end

    // Y output register.
    if (dr_move) begin
      y_valid_d = 1'b1;
    end else if (y_ready_i) begin
      y_valid_d = 1'b0;
    end

    // Run sequencing.
    unique case (state_q)
      StIdle: begin
        if (start_i) begin
          state_d = StCheck;
          cfg_d   = cfg_in;
          err_d   = esact_pkg::GEMM_ERR_NONE;
        end
      end
      StCheck: begin
        if (field_err != esact_pkg::GEMM_ERR_NONE) begin
          err_d   = field_err;
          state_d = StDone;
        end else if (n_q == '0) begin
          state_d = StDone;  // empty row list: nothing to do
        end else begin
          state_d     = StRun;
          ld_slot_d   = 1'b0;
          ld_row_d    = '0;
          ld_beat_d   = '0;
          ld_left_d   = n_q;
          slot_full_d = '0;
          b_full_d    = 1'b0;
          bl_active_d = 1'b1;
          bl_col0_d   = '0;
          bl_left_d   = n_q;
          cp_active_d = 1'b1;
          cp_slot_d   = 1'b0;
          cp_k_d      = '0;
          cp_ct_d     = '0;
          cp_col0_d   = '0;
          cp_left_d   = n_q;
        end
      end
      StRun: begin
        if (!cp_active_q && !s1_valid_q && !dr_busy_q && !y_valid_q) begin
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
      state_q        <= StIdle;
      err_q          <= esact_pkg::GEMM_ERR_NONE;
      cfg_q          <= '0;
      ld_slot_q      <= 1'b0;
      ld_row_q       <= '0;
      ld_beat_q      <= '0;
      ld_left_q      <= '0;
      slot_full_q    <= '0;
      slot_rows_q    <= '0;
      b_full_q       <= 1'b0;
      bl_active_q    <= 1'b0;
      bl_col0_q      <= '0;
      bl_left_q      <= '0;
      cp_active_q    <= 1'b0;
      cp_slot_q      <= 1'b0;
      cp_k_q         <= '0;
      cp_ct_q        <= '0;
      cp_col0_q      <= '0;
      cp_left_q      <= '0;
      s1_valid_q     <= 1'b0;
      s1_last_q      <= 1'b0;
      dr_busy_q      <= 1'b0;
      dr_row_q       <= '0;
      y_valid_q      <= 1'b0;
    end else begin
      state_q        <= state_d;
      err_q          <= err_d;
      cfg_q          <= cfg_d;
      ld_slot_q      <= ld_slot_d;
      ld_row_q       <= ld_row_d;
      ld_beat_q      <= ld_beat_d;
      ld_left_q      <= ld_left_d;
      slot_full_q    <= slot_full_d;
      slot_rows_q    <= slot_rows_d;
      b_full_q       <= b_full_d;
      bl_active_q    <= bl_active_d;
      bl_col0_q      <= bl_col0_d;
      bl_left_q      <= bl_left_d;
      cp_active_q    <= cp_active_d;
      cp_slot_q      <= cp_slot_d;
      cp_k_q         <= cp_k_d;
      cp_ct_q        <= cp_ct_d;
      cp_col0_q      <= cp_col0_d;
      cp_left_q      <= cp_left_d;
      s1_valid_q     <= s1_valid_d;
      s1_last_q      <= s1_last_d;
      dr_busy_q      <= dr_busy_d;
      dr_row_q       <= dr_row_d;
      y_valid_q      <= y_valid_d;
    end
  end

  assign busy_o     = (state_q != StIdle);
  assign done_o     = (state_q == StDone);
  assign err_code_o = err_q;
  assign err_o      = (err_q != esact_pkg::GEMM_ERR_NONE);

  // ---- Assertions ------------------------------------------------------------------------

  // Input contracts (the upstream's promise, checked here) hold within a run: after done_o
  // a source may withdraw what it offered (an errored run takes nothing).
  logic in_run;
  assign in_run = busy_o && !done_o;
  `ESACT_ASSERT(XValidHeld_A, in_run && x_valid_i && !x_ready_o |=> x_valid_i)
  `ESACT_ASSERT(XDataStable_A, in_run && x_valid_i && !x_ready_o |=> $stable(x_data_i))
  `ESACT_ASSERT(XRowStable_A, in_run && x_valid_i && !x_ready_o |=> $stable(x_row_i))
  `ESACT_ASSERT(WValidHeld_A, in_run && w_valid_i && !w_ready_o |=> w_valid_i)
  `ESACT_ASSERT(WDataStable_A, in_run && w_valid_i && !w_ready_o |=> $stable(w_data_i))
  `ESACT_ASSERT(BValidHeld_A, in_run && b_valid_i && !b_ready_o |=> b_valid_i)
  `ESACT_ASSERT(BDataStable_A, in_run && b_valid_i && !b_ready_o |=> $stable(b_data_i))
  // A row index is a token index, the same on every beat of the row.
  `ESACT_ASSERT(XRowRange_A, x_fire |-> 32'(x_row_i) < NRowsMax)
  `ESACT_ASSERT(XRowSame_A, x_fire && ld_beat_q != '0 |-> x_row_i == ld_idx)
  // Output contract: valid held, data stable until taken.
  `ESACT_ASSERT(YValidHeld_A, y_valid_o && !y_ready_i |=> y_valid_o)
  `ESACT_ASSERT(YDataStable_A,
      y_valid_o && !y_ready_i |=> $stable(y_data_o) && $stable(y_row_o) && $stable(y_col_tile_o))
  // Buffer discipline: the loader fills a free slot, the issue reads a full one; buffer
  // addresses stay in range; the accumulators are never loaded and accumulated at once;
  // the drain bank is loaded only when empty.
  `ESACT_ASSERT(LoadFreeSlot_A, x_fire |-> !slot_full_q[ld_slot_q])
  `ESACT_ASSERT(IssueFullSlot_A, iss_fire |-> slot_full_q[cp_slot_q])
  `ESACT_ASSERT(XAddrRange_A, x_fire |-> 32'(x_waddr) < XDepth && 32'(ld_row_q) < Rows)
  `ESACT_ASSERT(XReadRange_A, iss_fire |-> 32'(x_raddr) < XDepth)
  `ESACT_ASSERT(IssueInTile_A, iss_fire |-> CntW'(cp_left_q) >= CntW'(cp_rows) && cp_rows != '0)
  `ESACT_ASSERT(LoadOrMac_A, !(pe_load && pe_mac))
  `ESACT_ASSERT(DrainEmpty_A, dr_load |-> !dr_busy_q)
  `ESACT_ASSERT(DrainRowRange_A, dr_busy_q |-> CntW'(dr_row_q) < CntW'(dr_rows_q))
  `ESACT_ASSERT(BiasAtFirst_A, iss_fire && cp_first |-> b_full_q)
  // Done comes with busy; no stream moves outside a run.
  `ESACT_ASSERT(DoneWhileBusy_A, done_o |-> busy_o)
  `ESACT_ASSERT(NoReadyWhenIdle_A, !run |-> !x_ready_o && !w_ready_o && !b_ready_o)
  `ESACT_ASSERT(NoYWhenIdle_A, !busy_o |-> !y_valid_o)
  `ESACT_ASSERT(DoneDrained_A, done_o |-> !s1_valid_q && !dr_busy_q && !y_valid_q)

endmodule
