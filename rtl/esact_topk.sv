// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Streaming row-wise Top-k: a stream of scores, one row after another, to one column
/// mask per row. Bit-exact with esact::TopKRow (golden/spls.h, docs/spls.md section 4).
///
/// Input: one score per beat, the columns of a row in order 0, 1, 2, ...; the column index
/// of a beat is its position in the row (padded beats count). in_pad_i marks a padded
/// column, which never competes; in_last_i marks the last column of the row. A row has
/// 1..NMax columns.
///
/// Output: one beat per row, out_mask_o bit j set iff column j is selected. The selected
/// set is the min(k, number of non-padded columns) largest scores among the non-padded
/// columns; equal scores go to the lower column. A row whose columns are all padded gives
/// an all-zero mask.
///
/// Datapath: a sorted insertion array of KMax (score, column) entries, best first. A
/// competing score goes below every entry with a score >= its own (the entries hold
/// earlier columns, so on a tie they stay ahead) and the last entry falls off when the
/// array is full. Keeping the best KMax is enough for every k <= KMax: the first k
/// entries of the array are the Top-k. The accepted last beat of a row is inserted and
/// the first k entries of the result are decoded into the output register in the same
/// cycle, while the array clears for the next row. Signed scores are compared as
/// unsigned keys with the sign bit inverted (same order; no signed compare in the netlist).
/// There is no multiplier: comparators, muxes and an index decoder only.
///
/// Latency and throughput: in_ready_o = !out_valid_o || out_ready_i. The block takes one
/// score per cycle whenever the output register is free or being emptied, and the mask
/// of a row is valid the cycle after the handshake of its last score. Rows stream back to
/// back without a bubble while the output is consumed: without stalls, R rows of n
/// scores take R*n cycles of input plus one cycle for the last mask (the test bound is
/// R*n + 2). While the output register is full and not taken, in_ready_o is low.
///
/// Configuration: cfg_k_i (legal 1..KMax) is used at the handshake of a row's last score;
/// hold it steady while a row is in flight and change it between rows. cfg_err_o is a
/// combinational flag, 1 while cfg_k_i is 0 or above KMax. The stream keeps flowing under
/// an illegal k: every row whose last score is accepted under cfg_err_o gives an all-zero
/// mask, so the block never hangs.
///
/// Protocol error: a row longer than NMax columns trips RowTooLong_A in simulation; the
/// hardware ignores the columns past NMax (treats them as padded) and recovers at in_last_i.
///
/// Reset: asynchronous, active low, clears the control state (entry valid bits, column
/// counter, overflow flag, output valid, output mask). The entry scores and columns are
/// not reset: an entry is read only while its valid bit is set, and it is written on the
/// edge that sets that bit.
`include "esact_assert.svh"

module esact_topk #(
  // Public: the C++ tests take them from the Verilated model instead of copying them.
  parameter int unsigned NMax   /*verilator public*/ = 16,  ///< max columns per row, >= 2
  parameter int unsigned KMax   /*verilator public*/ = 4,   ///< largest k, 1..NMax
  parameter int unsigned ScoreW /*verilator public*/ = 32   ///< signed score width, >= 2
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  // Configuration
  input  logic [$clog2(KMax+1)-1:0]   cfg_k_i,     ///< k, legal 1..KMax
  output logic                        cfg_err_o,   ///< k == 0 or k > KMax (combinational)
  // Scores of one row, columns in order 0, 1, 2, ...
  input  logic                        in_valid_i,
  output logic                        in_ready_o,
  input  logic signed [ScoreW-1:0]    in_score_i,
  input  logic                        in_pad_i,    ///< padded column: never selected
  input  logic                        in_last_i,   ///< last column of the row
  // One beat per row: bit j set = column j selected
  output logic                        out_valid_o,
  input  logic                        out_ready_i,
  output logic [NMax-1:0]             out_mask_o
);

  localparam int unsigned KW   = $clog2(KMax + 1);  // width of cfg_k_i
  localparam int unsigned IdxW = $clog2(NMax);      // column index; >= 1 since NMax >= 2

  `ESACT_ASSERT_INIT(NMaxLegal_A, NMax >= 2)
  `ESACT_ASSERT_INIT(KMaxLegal_A, KMax >= 1 && KMax <= NMax)
  `ESACT_ASSERT_INIT(ScoreWLegal_A, ScoreW >= 2)

  // ---- Configuration check ---------------------------------------------------------------

  logic k_over;
  esact_cfg_over #(.Width(KW), .Max(KMax)) u_k_over (.value_i(cfg_k_i), .over_o(k_over));
  assign cfg_err_o = (cfg_k_i == '0) || k_over;

  // ---- State -----------------------------------------------------------------------------

  // The per-entry arrays are registers and wires, never a RAM: (* mem2reg *) tells Yosys
  // so up front (it would otherwise warn "Replacing memory ... with list of registers").
  logic [KMax-1:0]                 vld_d, vld_q;  // entry p holds a column; a prefix of ones
  (* mem2reg *) logic [ScoreW-1:0] key_d [KMax];  // entry score as an unsigned key
  (* mem2reg *) logic [ScoreW-1:0] key_q [KMax];
  (* mem2reg *) logic [IdxW-1:0]   idx_d [KMax];  // entry column
  (* mem2reg *) logic [IdxW-1:0]   idx_q [KMax];
  logic [IdxW-1:0]                 col_d, col_q;  // column index of the next beat
  logic                            ovf_d, ovf_q;  // the row already had NMax columns
  logic                            out_valid_d, out_valid_q;
  logic [NMax-1:0]                 out_mask_d, out_mask_q;

  // ---- Insertion -------------------------------------------------------------------------

  logic              accept;   // input handshake this cycle
  logic              compete;  // the beat takes part in the selection
  logic [ScoreW-1:0] in_key;   // signed order == unsigned order of the key
  logic [KMax-1:0]   ge;       // entry p stays ahead of the new score (a prefix of ones)
  logic [KMax-1:0]   ge_up;    // ... the same for entry p-1 (1 for p = 0)

  assign in_ready_o = !out_valid_q || out_ready_i;
  assign accept     = in_valid_i && in_ready_o;
  assign compete    = !in_pad_i && !ovf_q;
  assign in_key     = {~in_score_i[ScoreW-1], in_score_i[ScoreW-2:0]};

  for (genvar p = 0; p < KMax; p++) begin : g_ge
    assign ge[p] = vld_q[p] && (key_q[p] >= in_key);
  end
  assign ge_up = (ge << 1) | KMax'(1);

  // The array after inserting the current beat: entry p keeps its place when it stays
  // ahead, takes the new score at the first place where it does not, and below that
  // takes entry p-1 (the last entry falls off). A non-competing beat changes nothing.
  logic [KMax-1:0]                 ins_vld;
  (* mem2reg *) logic [ScoreW-1:0] ins_key [KMax];
  (* mem2reg *) logic [IdxW-1:0]   ins_idx [KMax];

  always_comb begin
    for (int p = 0; p < KMax; p++) begin
      ins_vld[p] = vld_q[p];
      ins_key[p] = key_q[p];
      ins_idx[p] = idx_q[p];
      if (compete && !ge[p] && ge_up[p]) begin
        ins_vld[p] = 1'b1;
        ins_key[p] = in_key;
        ins_idx[p] = col_q;
      end
    end
    for (int p = 1; p < KMax; p++) begin
      if (compete && !ge[p] && !ge_up[p]) begin
        ins_vld[p] = vld_q[p-1];
        ins_key[p] = key_q[p-1];
        ins_idx[p] = idx_q[p-1];
      end
    end
  end

  // ---- Mask of the first k entries -------------------------------------------------------

  logic [NMax-1:0] mask;

  always_comb begin
    mask = '0;
    for (int p = 0; p < KMax; p++) begin
      for (int j = 0; j < NMax; j++) begin
        if (ins_vld[p] && (KW'(p) < cfg_k_i) && (ins_idx[p] == IdxW'(j))) begin
          mask[j] = 1'b1;
        end
      end
    end
    if (cfg_err_o) begin
      mask = '0;
    end
  end

  // ---- Next state ------------------------------------------------------------------------

  always_comb begin
    vld_d       = vld_q;
    col_d       = col_q;
    ovf_d       = ovf_q;
    out_valid_d = out_valid_q && !out_ready_i;
    out_mask_d  = out_mask_q;
    for (int p = 0; p < KMax; p++) begin
      key_d[p] = key_q[p];
      idx_d[p] = idx_q[p];
    end
    if (accept) begin
      for (int p = 0; p < KMax; p++) begin
        key_d[p] = ins_key[p];
        idx_d[p] = ins_idx[p];
      end
      if (in_last_i) begin
        // The row ends: its mask goes to the output register, the array clears.
        vld_d       = '0;
        col_d       = '0;
        ovf_d       = 1'b0;
        out_valid_d = 1'b1;
        out_mask_d  = mask;
      end else begin
        vld_d = ins_vld;
        col_d = col_q + IdxW'(1);
        if (col_q == IdxW'(NMax - 1)) begin
          ovf_d = 1'b1;
        end
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      vld_q       <= '0;
      col_q       <= '0;
      ovf_q       <= 1'b0;
      out_valid_q <= 1'b0;
      out_mask_q  <= '0;
    end else begin
      vld_q       <= vld_d;
      col_q       <= col_d;
      ovf_q       <= ovf_d;
      out_valid_q <= out_valid_d;
      out_mask_q  <= out_mask_d;
    end
  end

  // Entry payload: no reset (read only behind vld_q).
  always_ff @(posedge clk_i) begin
    for (int p = 0; p < KMax; p++) begin
      key_q[p] <= key_d[p];
      idx_q[p] <= idx_d[p];
    end
  end

  assign out_valid_o = out_valid_q;
  assign out_mask_o  = out_mask_q;

  // ---- Assertions ------------------------------------------------------------------------

  // Output contract: once valid, hold valid and data until the cycle after ready.
  `ESACT_ASSERT(OutValidHeld_A, out_valid_o && !out_ready_i |=> out_valid_o)
  `ESACT_ASSERT(OutDataStable_A, out_valid_o && !out_ready_i |=> $stable(out_mask_o))
  // Input contract (the upstream's promise, checked here).
  `ESACT_ASSERT(InValidHeld_A, in_valid_i && !in_ready_o |=> in_valid_i)
  `ESACT_ASSERT(InDataStable_A,
                in_valid_i && !in_ready_o |=> $stable({in_score_i, in_pad_i, in_last_i}))
  // A row has at most NMax columns.
  `ESACT_ASSERT(RowTooLong_A, accept |-> !ovf_q)
  // Throughput: an empty output register always accepts.
  `ESACT_ASSERT(ReadyWhenEmpty_A, !out_valid_o |-> in_ready_o)
  // A mask never selects more than KMax columns.
  `ESACT_ASSERT(MaskAtMostKMax_A, out_valid_o |-> $countones(out_mask_o) <= KMax)
  // The array is a prefix of valid entries, strictly ordered: larger score first, the
  // lower column first among equal scores.
  // (Verilator 5.006 fails internally on an unpacked array indexed by genvar arithmetic
  // inside a property, so the order is a wire, compiled only for simulation.)
`ifndef SYNTHESIS
  for (genvar p = 1; p < KMax; p++) begin : g_order
    logic ahead;  // entry p-1 beats entry p
    assign ahead = (key_q[p-1] > key_q[p]) || (key_q[p-1] == key_q[p] && idx_q[p-1] < idx_q[p]);
    `ESACT_ASSERT(EntriesPrefix_A, vld_q[p] |-> vld_q[p-1])
    `ESACT_ASSERT(EntriesSorted_A, vld_q[p] |-> ahead)
  end
`endif

endmodule
