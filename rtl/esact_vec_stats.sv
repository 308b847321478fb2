// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Per-row statistics of the integer LayerNorm (esact::IntLayerNorm, docs/spls.md
/// section 7), sequential: from the row length d, the row sum S = sum(r) and the sum of
/// squares Q = sum(r^2) of one residual row it computes the two constants that turn each
/// r_i into c_i * inv in one multiply-subtract:
///
///   V    = d * Q - S^2                 (= floor(sum(c_i^2) / d), exactly)
///   s    = max(1, isqrt(V))
///   inv  = floor(2^31 / s)
///   dinv = d * inv,  sinv = S * inv    so  c_i * inv = r_i * dinv - sinv
///
/// Why V needs no division: with c_i = r_i d - S, sum(c_i^2) = d^2 Q - 2 d S^2 + d S^2 =
/// d (d Q - S^2), so sum(c^2) / d is the integer d Q - S^2. This also removes the second
/// pass over the row that sum(c^2) would need: S and Q are summed while the row streams in.
///
/// One shared signed multiplier (XW x YW) does d*Q, S*S, d*inv and S*inv in turn; the
/// square root is digit by digit, SqPerCycle result bits per cycle (the golden
/// esact::Isqrt loop, started from a fixed power of four: steps above the leading digit
/// leave the root at 0, so the result is the same); the reciprocal is a restoring
/// division of 2^31 by s, DivPerCycle quotient bits per cycle.
///
/// Timing: start_i is taken while busy_o is low (d, S and Q are sampled then, and d*Q is
/// formed on that edge). States SQUARE (S*S, V), SQRT (SqCycles), DIV (DivCycles),
/// DINV, SINV, DONE; done_o is high for the one cycle of DONE with dinv_o/sinv_o valid
/// (they hold until the next start). From the start edge to the edge that ends DONE:
///   Cycles = 4 + SqCycles + DivCycles,  SqCycles = ceil(ceil((DW + QW) / 2) / SqPerCycle),
///   DivCycles = 32 / DivPerCycle = 8.
/// busy_o is high from the cycle after the start edge through DONE, so back-to-back rows
/// start Cycles + 1 edges apart. The parent passes its own figure as Cycles; an
/// elaboration check keeps the two formulas equal.
///
/// Outputs dinv_o and sinv_o are modulo 2^PW (two's complement). The parent uses them in
/// r * dinv - sinv, whose true value fits in PW bits, so the modular result is exact.
`include "esact_assert.svh"

module esact_vec_stats #(
  parameter int unsigned DW         = 6,   ///< width of d (unsigned), >= 1
  parameter int unsigned SumW       = 17,  ///< width of S (signed), >= DW + 1
  parameter int unsigned QW         = 28,  ///< width of Q (unsigned)
  parameter int unsigned PW         = 37,  ///< width of dinv_o, sinv_o (modulo 2^PW)
  parameter int unsigned SqPerCycle = 3,   ///< square-root digits per cycle, >= 1
  parameter int unsigned Cycles     = 18   ///< the parent's latency figure (checked)
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   start_i,   ///< taken while !busy_o
  input  logic [DW-1:0]          d_i,
  input  logic signed [SumW-1:0] sum_i,
  input  logic [QW-1:0]          sumsq_i,
  output logic                   busy_o,
  output logic                   done_o,    ///< one cycle, results valid
  output logic [PW-1:0]          dinv_o,
  output logic [PW-1:0]          sinv_o
);

  localparam int unsigned RecipBits   = esact_pkg::VEC_LN_RECIP_BITS;
  localparam int unsigned InvW        = RecipBits + 1;            // inv <= 2^31
  localparam int unsigned VW          = DW + QW;                  // V <= d * Q < 2^VW
  localparam int unsigned SqCycles    = ((VW + 1) / 2 + SqPerCycle - 1) / SqPerCycle;
  localparam int unsigned SqDigits    = SqCycles * SqPerCycle;    // >= VW / 2
  localparam int unsigned RootW       = 2 * SqDigits;             // remainder, root, bit
  localparam int unsigned SW          = SqDigits;                 // s < 2^SW
  localparam int unsigned DivPerCycle = 4;
  localparam int unsigned DivCycles   = InvW / DivPerCycle;
  localparam int unsigned XW          = SumW;                     // d or S, signed
  localparam int unsigned YW0         = (QW + 1 > SumW) ? QW + 1 : SumW;
  localparam int unsigned YW          = (YW0 > InvW + 1) ? YW0 : InvW + 1;  // Q, S or inv
  localparam int unsigned ProdW       = XW + YW;
  localparam int unsigned CntW        = 4;

  `ESACT_ASSERT_INIT(WidthsLegal_A, DW >= 1 && SumW >= DW + 1 && PW <= ProdW && VW <= ProdW)
  `ESACT_ASSERT_INIT(SqPerCycleLegal_A, SqPerCycle >= 1)
  `ESACT_ASSERT_INIT(DivSplit_A, (InvW / DivPerCycle) * DivPerCycle == InvW)
  `ESACT_ASSERT_INIT(CountersFit_A, SqCycles < 16 && DivCycles < 16)
  `ESACT_ASSERT_INIT(CyclesAgree_A, Cycles == 4 + SqCycles + DivCycles)

  typedef enum logic [2:0] {
    StIdle   = 3'd0,
    StSquare = 3'd1,  // V = d*Q - S*S
    StSqrt   = 3'd2,  // SqPerCycle root digits per cycle
    StDiv    = 3'd3,  // DivPerCycle quotient bits per cycle
    StDinv   = 3'd4,  // d * inv
    StSinv   = 3'd5,  // S * inv
    StDone   = 3'd6
  } state_e;

  state_e                  state_d, state_q;
  logic [CntW-1:0]         cnt_d, cnt_q;
  // Datapath registers (no reset: each is written before it is read in a row).
  logic [DW-1:0]           d_d, d_q;
  logic signed [SumW-1:0]  s_d, s_q;
  logic [VW-1:0]           dq_d, dq_q;        // d * Q
  logic [RootW-1:0]        rem_d, rem_q;      // isqrt remainder
  logic [RootW-1:0]        root_d, root_q;
  logic [RootW-1:0]        bit_d, bit_q;      // current power of four
  logic [SW:0]             drem_d, drem_q;    // division remainder
  logic [InvW-1:0]         inv_d, inv_q;      // quotient bits so far, then inv
  logic [PW-1:0]           dinv_d, dinv_q, sinv_d, sinv_q;

  // ---- Shared multiplier -----------------------------------------------------------------

  logic signed [XW-1:0]    mx;
  logic signed [YW-1:0]    my;
  logic signed [ProdW-1:0] mx_e, my_e, mp;

  always_comb begin
    unique case (state_q)
      StSquare: begin
        mx = s_q;
        my = {{(YW - SumW){s_q[SumW-1]}}, s_q};
      end
      StDinv: begin
        mx = {{(XW - DW){1'b0}}, d_q};
        my = {{(YW - InvW){1'b0}}, inv_q};
      end
      StSinv: begin
        mx = s_q;
        my = {{(YW - InvW){1'b0}}, inv_q};
      end
      default: begin  // StIdle: d * Q of the row being started
        mx = {{(XW - DW){1'b0}}, d_i};
        my = {{(YW - QW){1'b0}}, sumsq_i};
      end
    endcase
  end

  assign mx_e = {{(ProdW - XW){mx[XW-1]}}, mx};
  assign my_e = {{(ProdW - YW){my[YW-1]}}, my};
  assign mp   = mx_e * my_e;

  // V = d*Q - S^2 >= 0 (Cauchy-Schwarz), below 2^VW.
  logic signed [ProdW-1:0] v_full;
  assign v_full = $signed({{(ProdW - VW){1'b0}}, dq_q}) - mp;

  // ---- Square root: SqPerCycle digit steps of esact::Isqrt per cycle ---------------------

  logic [RootW-1:0] sq_rem, sq_root, sq_bit, sq_trial;

  always_comb begin
    sq_rem  = rem_q;
    sq_root = root_q;
    sq_bit  = bit_q;
    sq_trial = '0;
    for (int unsigned i = 0; i < SqPerCycle; i++) begin
      sq_trial = sq_root + sq_bit;
      if (sq_rem >= sq_trial) begin
        sq_rem  = sq_rem - sq_trial;
        sq_root = (sq_root >> 1) + sq_bit;
      end else begin
        sq_root = sq_root >> 1;
      end
      sq_bit = sq_bit >> 2;
    end
  end

  // ---- Reciprocal: DivPerCycle restoring steps of 2^31 / s per cycle ---------------------

  logic [SW-1:0]   divisor;  // s = max(1, isqrt(V))
  logic [SW:0]     dv_rem;
  logic [InvW-1:0] dv_quo;

  assign divisor = (root_q == '0) ? SW'(1) : root_q[SW-1:0];

  always_comb begin
    dv_rem = drem_q;
    dv_quo = inv_q;
    for (int unsigned j = 0; j < DivPerCycle; j++) begin
      // The dividend 2^31 has its only one in the first (most significant) step.
      dv_rem = {dv_rem[SW-1:0], (cnt_q == '0) && (j == 0)};
      if (dv_rem >= {1'b0, divisor}) begin
        dv_rem = dv_rem - {1'b0, divisor};
        dv_quo = {dv_quo[InvW-2:0], 1'b1};
      end else begin
        dv_quo = {dv_quo[InvW-2:0], 1'b0};
      end
    end
  end

  // ---- Sequence --------------------------------------------------------------------------

  always_comb begin
    state_d = state_q;
    cnt_d   = cnt_q;
    d_d     = d_q;
    s_d     = s_q;
    dq_d    = dq_q;
    rem_d   = rem_q;
    root_d  = root_q;
    bit_d   = bit_q;
    drem_d  = drem_q;
    inv_d   = inv_q;
    dinv_d  = dinv_q;
    sinv_d  = sinv_q;

    unique case (state_q)
      StIdle: begin
        if (start_i) begin
          state_d = StSquare;
          d_d     = d_i;
          s_d     = sum_i;
          dq_d    = mp[VW-1:0];
        end
      end
      StSquare: begin
        state_d = StSqrt;
        cnt_d   = '0;
        rem_d   = RootW'(v_full[VW-1:0]);
        root_d  = '0;
        bit_d   = RootW'(1) << (RootW - 2);
      end
      StSqrt: begin
        rem_d  = sq_rem;
        root_d = sq_root;
        bit_d  = sq_bit;
        cnt_d  = cnt_q + CntW'(1);
        if (cnt_q == CntW'(SqCycles - 1)) begin
          state_d = StDiv;
          cnt_d   = '0;
          drem_d  = '0;
          inv_d   = '0;
        end
      end
      StDiv: begin
        drem_d = dv_rem;
        inv_d  = dv_quo;
        cnt_d  = cnt_q + CntW'(1);
        if (cnt_q == CntW'(DivCycles - 1)) begin
          state_d = StDinv;
        end
      end
      StDinv: begin
        state_d = StSinv;
        dinv_d  = mp[PW-1:0];
      end
      StSinv: begin
        state_d = StDone;
        sinv_d  = mp[PW-1:0];
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
      state_q <= StIdle;
      cnt_q   <= '0;
    end else begin
      state_q <= state_d;
      cnt_q   <= cnt_d;
    end
  end

  always_ff @(posedge clk_i) begin
    d_q    <= d_d;
    s_q    <= s_d;
    dq_q   <= dq_d;
    rem_q  <= rem_d;
    root_q <= root_d;
    bit_q  <= bit_d;
    drem_q <= drem_d;
    inv_q  <= inv_d;
    dinv_q <= dinv_d;
    sinv_q <= sinv_d;
  end

  assign busy_o = (state_q != StIdle);
  assign done_o = (state_q == StDone);
  assign dinv_o = dinv_q;
  assign sinv_o = sinv_q;

  // Bits of the shared product that a step does not use.
  logic unused_mp;
  assign unused_mp = ^mp[ProdW-1:VW] ^ ^v_full[ProdW-1:VW];

  // ---- Assertions ------------------------------------------------------------------------

  // V = d Q - S^2 is never negative and fits VW bits (S and Q come from one row).
  `ESACT_ASSERT(VarianceRange_A,
      state_q == StSquare |-> v_full[ProdW-1:VW] == '0)
  // The square root fits the divisor width; the quotient is at most 2^31.
  `ESACT_ASSERT(RootFits_A, state_q == StDiv |-> (root_q >> SW) == '0)
  `ESACT_ASSERT(InvRange_A, state_q == StDinv |-> inv_q <= InvW'(64'd1 << RecipBits))
  `ESACT_ASSERT(NoStartWhileBusy_A, busy_o |-> !start_i)

endmodule
