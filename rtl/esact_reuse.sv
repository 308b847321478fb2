// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Local-similarity reuse unit (docs/spls.md section 5): per head and row, the reuse
/// decision of esact::ReuseMap; per head, the needed-K/V mask of esact::NeededKv; per
/// token, the token anchor of esact::TokenAnchors (golden/spls.h), bit for bit.
///
/// Input: the SPA rows of one layer as column masks, head 0 rows 0..n-1, then head 1,
/// ..., head H-1 (n = cfg_n_valid_i, H = cfg_heads_i); bit j of in_mask_i set means
/// column j is selected. Bits at and above n should be zero; they are not masked, they
/// pass to row_mask_o and count in overlaps and in kv_mask_o like any other bit.
///
/// Outputs, three valid/ready streams:
///   row  one decision per input row, in input order: head, row index, anchor
///        (row_anchor_o == row_idx_o when the row is an anchor) and the row's mask.
///   kv   per head, the needed-K/V mask (OR of the head's anchor-row masks). It becomes
///        valid on the same edge as the head's last row decision (the streams are
///        independent, there is no handshake order between row and kv).
///   tok  after the kv beat of the last head has been taken: tokens 0..n-1 in order,
///        each with its token anchor (tok_anchor_o == tok_idx_o: own anchor).
/// After the last tok beat the unit takes the first row of the next layer (head 0,
/// row 0). While the tok beats drain, in_ready_o is low.
///
/// Decision: row i of a head compares with the anchors among rows max(0, i-w) .. i-1 of
/// the same head (a shift register of the last WMax rows' masks and anchor flags,
/// cleared at every head start). Overlap = popcount(in_mask_i & mask_j) by a loop of
/// additions; among anchors with overlap >= t the largest overlap wins, ties to the
/// nearer row. The decision is combinational from the registered window and in_mask_i
/// and is registered on the accepting edge, together with the window shift.
///
/// Latency and throughput: a row decision is valid the cycle after the row's input
/// handshake; one row per cycle when the row (and, on a head's last row, the kv) output
/// is not back-pressured: in_ready_o = !row_valid_o || row_ready_i, and on a head's last
/// row also !kv_valid_o || kv_ready_i. No bubble between heads. Cycle promise: with
/// a source that never idles and sinks that are always ready, a layer of H heads x n
/// rows is complete (all row, kv and tok beats taken) H*n + n + 2 cycles after its first
/// row was offered (H*n row cycles, 1 cycle for the last kv beat, 1 turnaround cycle,
/// n tok cycles). The test checks this against H*n + H + n + 4.
///
/// Storage: window WMax x (NMax mask + 1 anchor flag); the kv accumulator (NMax) and
/// the kv output register (NMax + head); per token an anchor index (IdxW) and a
/// "same anchor in every head so far" flag; the row output register; counters.
/// The window masks and the per-token anchors are not reset: they are written before
/// they are read (a window mask is only read under its reset anchor flag; a token's
/// anchor is written by head 0 before head 1 or the tok beats read it).
///
/// Configuration: all cfg_* inputs must be held steady while a layer is in flight (from
/// its first row to its last tok beat); changing them mid-layer gives wrong decisions
/// but never a hang (the counters compare with >=, clamped to the legal range).
/// cfg_err_o (combinational) is 1 while cfg_n_valid_i is outside 1..NMax, cfg_heads_i
/// outside 1..HMax, cfg_w_i > WMax or cfg_t_i > NMax. Under cfg_err_o the unit keeps
/// draining: n and H are clamped to [1, NMax] and [1, HMax] for the layer counters, and
/// every row is decided an anchor (so kv_mask_o is the OR of all the head's rows and
/// every token is its own token anchor).
///
/// clear_i (synchronous) drops all state, including output beats not yet taken (their
/// valids fall without a handshake: the consumers are being cleared too), and the next
/// accepted row is head 0 row 0 of a new layer. in_ready_o is low while clear_i is high,
/// and the upstream may drop a waiting row in that cycle (the input assertions allow it).
///
/// After reset all valids are 0, the unit waits for head 0 row 0.
`include "esact_assert.svh"

module esact_reuse #(
  // Public: the C++ tests read the configuration from the model (<prefix>_esact_reuse.h).
  parameter  int unsigned NMax /*verilator public*/ = 16,  ///< max tokens (rows, columns), >= 2
  parameter  int unsigned WMax /*verilator public*/ = 4,   ///< largest window, >= 1
  parameter  int unsigned HMax /*verilator public*/ = 4,   ///< largest number of heads, >= 1
  /// Row/token index width and head index width, never below 1.
  localparam int unsigned IdxW  = ($clog2(NMax) > 1) ? $clog2(NMax) : 1,
  localparam int unsigned HeadW = ($clog2(HMax) > 1) ? $clog2(HMax) : 1
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  logic                       clear_i,        ///< synchronous: drop state, new layer
  // Configuration (held steady during a layer)
  input  logic [$clog2(WMax+1)-1:0]  cfg_w_i,        ///< window 0..WMax (0: no reuse)
  input  logic [$clog2(NMax+1)-1:0]  cfg_t_i,        ///< overlap threshold 0..NMax
  input  logic [$clog2(NMax+1)-1:0]  cfg_n_valid_i,  ///< rows per head 1..NMax
  input  logic [$clog2(HMax+1)-1:0]  cfg_heads_i,    ///< heads 1..HMax
  output logic                       cfg_err_o,      ///< a cfg_* field is illegal
  // SPA rows
  input  logic                       in_valid_i,
  output logic                       in_ready_o,
  input  logic [NMax-1:0]            in_mask_i,
  // Row decisions
  output logic                       row_valid_o,
  input  logic                       row_ready_i,
  output logic [HeadW-1:0]           row_head_o,
  output logic [IdxW-1:0]            row_idx_o,
  output logic [IdxW-1:0]            row_anchor_o,
  output logic [NMax-1:0]            row_mask_o,
  // Needed-K/V mask per head
  output logic                       kv_valid_o,
  input  logic                       kv_ready_i,
  output logic [HeadW-1:0]           kv_head_o,
  output logic [NMax-1:0]            kv_mask_o,
  // Token anchors
  output logic                       tok_valid_o,
  input  logic                       tok_ready_i,
  output logic [IdxW-1:0]            tok_idx_o,
  output logic [IdxW-1:0]            tok_anchor_o
);

  localparam int unsigned CntW  = $clog2(NMax + 1);  // n_valid, t, overlap
  localparam int unsigned WCfgW = $clog2(WMax + 1);  // cfg_w_i
  localparam int unsigned HCfgW = $clog2(HMax + 1);  // cfg_heads_i

  `ESACT_ASSERT_INIT(NMaxLegal_A, NMax >= 2)
  `ESACT_ASSERT_INIT(WMaxLegal_A, WMax >= 1)
  `ESACT_ASSERT_INIT(HMaxLegal_A, HMax >= 1)

  // ---- Configuration check and clamped layer shape ---------------------------------------

  logic n_over, h_over, w_over, t_over;  // field above its maximum

  esact_cfg_over #(.Width(CntW),  .Max(NMax)) u_n_over (.value_i(cfg_n_valid_i), .over_o(n_over));
  esact_cfg_over #(.Width(CntW),  .Max(NMax)) u_t_over (.value_i(cfg_t_i),       .over_o(t_over));
  esact_cfg_over #(.Width(HCfgW), .Max(HMax)) u_h_over (.value_i(cfg_heads_i),   .over_o(h_over));
  esact_cfg_over #(.Width(WCfgW), .Max(WMax)) u_w_over (.value_i(cfg_w_i),       .over_o(w_over));

  assign cfg_err_o = (cfg_n_valid_i == '0) || n_over || (cfg_heads_i == '0) || h_over ||
                     w_over || t_over;

  // n and H for the counters, always in [1, NMax] and [1, HMax].
  logic [CntW-1:0]  n_eff;
  logic [HCfgW-1:0] h_eff;
  always_comb begin
    n_eff = cfg_n_valid_i;
    if (cfg_n_valid_i == '0) begin
      n_eff = CntW'(1);
    end else if (n_over) begin
      n_eff = CntW'(NMax);
    end
    h_eff = cfg_heads_i;
    if (cfg_heads_i == '0) begin
      h_eff = HCfgW'(1);
    end else if (h_over) begin
      h_eff = HCfgW'(HMax);
    end
  end

  // ---- State -----------------------------------------------------------------------------

  typedef enum logic [0:0] {
    PhRows = 1'b0,  // taking rows, emitting row and kv beats
    PhTok  = 1'b1   // emitting the token anchors (after the last kv beat is taken)
  } phase_e;

  phase_e           phase_d, phase_q;
  logic [IdxW-1:0]  row_cnt_d, row_cnt_q;     // row of the next input
  logic [HeadW-1:0] head_cnt_d, head_cnt_q;   // head of the next input
  logic [IdxW-1:0]  tok_cnt_d, tok_cnt_q;     // token of the current tok beat

  // Flat buses (Yosys 0.23 keeps whole-array copies of unpacked arrays out of
  // always_comb), slot s at [s*NMax +: NMax], token k at [k*IdxW +: IdxW]; the products
  // are of elaboration constants only, no multiplier is built.

  // Window: slot s holds row (row_cnt_q - 1 - s) of the current head.
  localparam int unsigned WinW = WMax * NMax;
  logic [WinW-1:0]      win_mask_d, win_mask_q;
  logic [WMax-1:0]      win_anchor_d, win_anchor_q;  // slot holds an anchor of this head

  logic [NMax-1:0]  kv_acc_d, kv_acc_q;          // OR of this head's anchor masks so far

  // Per token: anchor seen in head 0, and "every head so far reused that same anchor".
  logic [NMax*IdxW-1:0] tok_anc_d, tok_anc_q;
  logic [NMax-1:0]  tok_same_d, tok_same_q;

  // Output registers.
  logic             row_valid_d, row_valid_q;
  logic [HeadW-1:0] row_head_d, row_head_q;
  logic [IdxW-1:0]  row_idx_d, row_idx_q;
  logic [IdxW-1:0]  row_anchor_d, row_anchor_q;
  logic [NMax-1:0]  row_mask_d, row_mask_q;
  logic             kv_valid_d, kv_valid_q;
  logic [HeadW-1:0] kv_head_d, kv_head_q;
  logic [NMax-1:0]  kv_mask_d, kv_mask_q;

  // ---- Decision (combinational from the window and in_mask_i) ----------------------------

  function automatic logic [CntW-1:0] popcount(input logic [NMax-1:0] v);
    popcount = '0;
    for (int unsigned b = 0; b < NMax; b++) begin
      popcount = popcount + CntW'(v[b]);
    end
  endfunction

  logic            found;
  logic [CntW-1:0] best_ov;
  logic [IdxW-1:0] best_row;
  logic [CntW-1:0] ov;
  always_comb begin
    found    = 1'b0;
    best_ov  = '0;
    best_row = row_cnt_q;
    ov       = '0;
    // Nearest slot first: moving further away needs a strictly larger overlap. A slot
    // qualifies if it holds an anchor of this head, lies inside the window (s < w) and
    // overlaps by at least t.
    for (int unsigned s = 0; s < WMax; s++) begin
      ov = popcount(in_mask_i & win_mask_q[s*NMax +: NMax]);
      if (win_anchor_q[s] && (WCfgW'(s) < cfg_w_i) && (ov >= cfg_t_i) &&
          (!found || ov > best_ov)) begin
        found    = 1'b1;
        best_ov  = ov;
        best_row = row_cnt_q - IdxW'(s + 1);
      end
    end
  end

  logic            dec_anchor;  // the row is an anchor
  logic [IdxW-1:0] dec_row;     // its anchor row
  assign dec_anchor = !found || cfg_err_o;
  assign dec_row    = dec_anchor ? row_cnt_q : best_row;

  // ---- Handshakes and counters -----------------------------------------------------------

  logic last_row, last_head, last_tok;
  assign last_row  = (CntW'(row_cnt_q) + CntW'(1)) >= n_eff;
  assign last_head = (HCfgW'(head_cnt_q) + HCfgW'(1)) >= h_eff;
  assign last_tok  = (CntW'(tok_cnt_q) + CntW'(1)) >= n_eff;

  logic row_slot_free, kv_slot_free, in_hs, tok_hs;
  assign row_slot_free = !row_valid_q || row_ready_i;
  assign kv_slot_free  = !kv_valid_q || kv_ready_i;
  assign in_ready_o    = (phase_q == PhRows) && !clear_i && row_slot_free &&
                         (!last_row || kv_slot_free);
  assign in_hs         = in_valid_i && in_ready_o;
  assign tok_valid_o   = (phase_q == PhTok) && !kv_valid_q;
  assign tok_hs        = tok_valid_o && tok_ready_i;

  always_comb begin
    phase_d      = phase_q;
    row_cnt_d    = row_cnt_q;
    head_cnt_d   = head_cnt_q;
    tok_cnt_d    = tok_cnt_q;
    win_mask_d   = win_mask_q;
    win_anchor_d = win_anchor_q;
    kv_acc_d     = kv_acc_q;
    tok_anc_d    = tok_anc_q;
    tok_same_d   = tok_same_q;
    row_valid_d  = row_valid_q && !row_ready_i;
    row_head_d   = row_head_q;
    row_idx_d    = row_idx_q;
    row_anchor_d = row_anchor_q;
    row_mask_d   = row_mask_q;
    kv_valid_d   = kv_valid_q && !kv_ready_i;
    kv_head_d    = kv_head_q;
    kv_mask_d    = kv_mask_q;

    if (in_hs) begin
      // Row decision out.
      row_valid_d  = 1'b1;
      row_head_d   = head_cnt_q;
      row_idx_d    = row_cnt_q;
      row_anchor_d = dec_row;
      row_mask_d   = in_mask_i;
      // Token bookkeeping.
      for (int unsigned k = 0; k < NMax; k++) begin
        if (row_cnt_q == IdxW'(k)) begin
          if (head_cnt_q == '0) begin
            tok_anc_d[k*IdxW +: IdxW] = dec_row;
            tok_same_d[k]             = !dec_anchor;
          end else begin
            tok_same_d[k] = tok_same_q[k] && !dec_anchor &&
                            (tok_anc_q[k*IdxW +: IdxW] == dec_row);
          end
        end
      end
      if (last_row) begin
        // Head done: kv beat out, window and accumulator start over.
        kv_valid_d   = 1'b1;
        kv_head_d    = head_cnt_q;
        kv_mask_d    = kv_acc_q | (dec_anchor ? in_mask_i : '0);
        kv_acc_d     = '0;
        win_anchor_d = '0;
        row_cnt_d    = '0;
        if (last_head) begin
          head_cnt_d = '0;
          tok_cnt_d  = '0;
          phase_d    = PhTok;
        end else begin
          head_cnt_d = head_cnt_q + HeadW'(1);
        end
      end else begin
        if (dec_anchor) begin
          kv_acc_d = kv_acc_q | in_mask_i;
        end
        // Shift the window by one slot; the oldest row drops out.
        win_mask_d   = WinW'({win_mask_q, in_mask_i});
        win_anchor_d = WMax'({win_anchor_q, dec_anchor});
        row_cnt_d = row_cnt_q + IdxW'(1);
      end
    end

    if (tok_hs) begin
      if (last_tok) begin
        tok_cnt_d = '0;
        phase_d   = PhRows;
      end else begin
        tok_cnt_d = tok_cnt_q + IdxW'(1);
      end
    end

    if (clear_i) begin
      phase_d      = PhRows;
      row_cnt_d    = '0;
      head_cnt_d   = '0;
      tok_cnt_d    = '0;
      win_anchor_d = '0;
      kv_acc_d     = '0;
      row_valid_d  = 1'b0;
      kv_valid_d   = 1'b0;
    end
  end

  // Control state and output registers: asynchronous reset.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      phase_q      <= PhRows;
      row_cnt_q    <= '0;
      head_cnt_q   <= '0;
      tok_cnt_q    <= '0;
      win_anchor_q <= '0;
      kv_acc_q     <= '0;
      tok_same_q   <= '0;
      row_valid_q  <= 1'b0;
      row_head_q   <= '0;
      row_idx_q    <= '0;
      row_anchor_q <= '0;
      row_mask_q   <= '0;
      kv_valid_q   <= 1'b0;
      kv_head_q    <= '0;
      kv_mask_q    <= '0;
    end else begin
      phase_q      <= phase_d;
      row_cnt_q    <= row_cnt_d;
      head_cnt_q   <= head_cnt_d;
      tok_cnt_q    <= tok_cnt_d;
      win_anchor_q <= win_anchor_d;
      kv_acc_q     <= kv_acc_d;
      tok_same_q   <= tok_same_d;
      row_valid_q  <= row_valid_d;
      row_head_q   <= row_head_d;
      row_idx_q    <= row_idx_d;
      row_anchor_q <= row_anchor_d;
      row_mask_q   <= row_mask_d;
      kv_valid_q   <= kv_valid_d;
      kv_head_q    <= kv_head_d;
      kv_mask_q    <= kv_mask_d;
    end
  end

  // Datapath storage, not reset (written before read, see the header).
  always_ff @(posedge clk_i) begin
    win_mask_q <= win_mask_d;
    tok_anc_q  <= tok_anc_d;
  end

  // ---- Outputs ---------------------------------------------------------------------------

  assign row_valid_o  = row_valid_q;
  assign row_head_o   = row_head_q;
  assign row_idx_o    = row_idx_q;
  assign row_anchor_o = row_anchor_q;
  assign row_mask_o   = row_mask_q;
  assign kv_valid_o   = kv_valid_q;
  assign kv_head_o    = kv_head_q;
  assign kv_mask_o    = kv_mask_q;
  // From registers only, so stable while the beat waits.
  assign tok_idx_o    = tok_cnt_q;
  logic [IdxW-1:0] tok_anc_sel;
  logic            tok_same_sel;
  always_comb begin
    tok_anc_sel  = '0;
    tok_same_sel = 1'b0;
    for (int unsigned k = 0; k < NMax; k++) begin
      if (tok_cnt_q == IdxW'(k)) begin
        tok_anc_sel  = tok_anc_q[k*IdxW +: IdxW];
        tok_same_sel = tok_same_q[k];
      end
    end
  end
  assign tok_anchor_o = tok_same_sel ? tok_anc_sel : tok_cnt_q;

  // ---- Assertions ------------------------------------------------------------------------

  // Output contracts: once valid, hold valid and data until the cycle after ready (a
  // clear_i drops a waiting beat on purpose).
  `ESACT_ASSERT(RowValidHeld_A, row_valid_o && !row_ready_i && !clear_i |=> row_valid_o)
  `ESACT_ASSERT(RowDataStable_A, row_valid_o && !row_ready_i && !clear_i |=>
      $stable({row_head_o, row_idx_o, row_anchor_o, row_mask_o}))
  `ESACT_ASSERT(KvValidHeld_A, kv_valid_o && !kv_ready_i && !clear_i |=> kv_valid_o)
  `ESACT_ASSERT(KvDataStable_A, kv_valid_o && !kv_ready_i && !clear_i |=>
      $stable({kv_head_o, kv_mask_o}))
  `ESACT_ASSERT(TokValidHeld_A, tok_valid_o && !tok_ready_i && !clear_i |=> tok_valid_o)
  `ESACT_ASSERT(TokDataStable_A, tok_valid_o && !tok_ready_i && !clear_i |=>
      $stable({tok_idx_o, tok_anchor_o}))
  // Input contract (the upstream's promise, checked here). The upstream may drop a
  // waiting row in the cycle clear_i is raised (it is being cleared with the layer).
  `ESACT_ASSERT(InValidHeld_A, in_valid_i && !in_ready_o && !clear_i |=> in_valid_i || clear_i)
  `ESACT_ASSERT(InDataStable_A, in_valid_i && !in_ready_o && !clear_i |=>
      $stable(in_mask_i) || clear_i)
  // Decisions: an anchor is never later than its row; reuse never chains across heads.
  `ESACT_ASSERT(RowAnchorOrder_A, row_valid_o |-> row_anchor_o <= row_idx_o)
  `ESACT_ASSERT(TokAnchorOrder_A, tok_valid_o |-> tok_anchor_o <= tok_idx_o)
  // Counters stay inside the clamped layer shape.
  `ESACT_ASSERT(RowCntRange_A, 32'(row_cnt_q) < NMax)
  `ESACT_ASSERT(HeadCntRange_A, 32'(head_cnt_q) < HMax)
  `ESACT_ASSERT(TokCntRange_A, 32'(tok_cnt_q) < NMax)
  // Throughput: with both output slots free the unit takes a row.
  `ESACT_ASSERT(ReadyWhenEmpty_A,
      phase_q == PhRows && !clear_i && !row_valid_o && !kv_valid_o |-> in_ready_o)
  // The tok beats never overlap a pending kv beat (in-order streams).
  `ESACT_ASSERT(TokAfterKv_A, tok_valid_o |-> !kv_valid_o)

endmodule
