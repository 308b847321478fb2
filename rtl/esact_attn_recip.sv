// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Softmax reciprocal r = floor(2^30 / sum) by a sequential restoring divider, one
/// quotient bit per cycle. Bit-exact with esact::SoftmaxRecip (golden/quant.h) for
/// sum >= 2^15, which IntSoftmax guarantees (the row maximum contributes e = 2^15).
///
/// Then 2^30 < sum * 2^16, so the quotient has 16 bits (r <= 2^15) and 16 steps suffice:
/// the divisor starts at sum * 2^15 and halves each step; a step subtracts it from the
/// remainder (initially 2^30) when it fits and shifts the outcome into the quotient.
///
/// Handshake: start_i (ignored while busy) samples sum_i; busy_o is high for the 16
/// steps, then valid_o rises and recip_o holds the result until the next start_i.
/// Latency: start_i in cycle t gives valid_o in cycle t + 17.
///
/// Reset: asynchronous, active low: busy, valid and the step counter. The remainder,
/// divisor and quotient registers are not reset (written by start_i before any read).
`include "esact_assert.svh"

module esact_attn_recip #(
  parameter int unsigned SumW /*verilator public*/ = 20  ///< width of sum, 17..40
) (
  input  logic                                   clk_i,
  input  logic                                   rst_ni,
  input  logic                                   start_i,
  input  logic [SumW-1:0]                        sum_i,    ///< 2^15 .. 2^SumW - 1
  output logic                                   busy_o,
  output logic                                   valid_o,
  output logic [esact_pkg::SOFTMAX_EXP_BITS:0]   recip_o   ///< floor(2^30 / sum), <= 2^15
);

  localparam int unsigned QW   = esact_pkg::SOFTMAX_EXP_BITS + 1;                 // 16
  localparam int unsigned RemW = esact_pkg::SOFTMAX_RECIP_BITS + 1;               // 2^30
  localparam int unsigned DivW = SumW + QW - 1;                                   // sum << 15
  localparam int unsigned CmpW = ((DivW > RemW) ? DivW : RemW) + 1;

  `ESACT_ASSERT_INIT(SumWLegal_A, SumW >= 17 && SumW <= 40)

  logic            busy_d, busy_q;
  logic            valid_d, valid_q;
  logic [3:0]      step_d, step_q;      // quotient bit 15 - step
  logic [RemW-1:0] rem_d, rem_q;
  logic [DivW-1:0] div_d, div_q;
  logic [QW-1:0]   quo_d, quo_q;
  logic            fits;                // the divisor fits into the remainder
  logic [CmpW-1:0] diff;

  assign diff = CmpW'(rem_q) - CmpW'(div_q);
  assign fits = !diff[CmpW-1];

  always_comb begin
    busy_d  = busy_q;
    valid_d = valid_q;
    step_d  = step_q;
    rem_d   = rem_q;
    div_d   = div_q;
    quo_d   = quo_q;
    if (busy_q) begin
      if (fits) begin
        rem_d = RemW'(diff);
      end
      quo_d  = {quo_q[QW-2:0], fits};
      div_d  = div_q >> 1;
      step_d = step_q + 4'd1;
      if (step_q == 4'(QW - 1)) begin
        busy_d  = 1'b0;
        valid_d = 1'b1;
      end
    end else if (start_i) begin
      busy_d  = 1'b1;
      valid_d = 1'b0;
      step_d  = '0;
      rem_d   = RemW'(1) << esact_pkg::SOFTMAX_RECIP_BITS;
      div_d   = DivW'(sum_i) << (QW - 1);
      quo_d   = '0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q  <= 1'b0;
      valid_q <= 1'b0;
      step_q  <= '0;
    end else begin
      busy_q  <= busy_d;
      valid_q <= valid_d;
      step_q  <= step_d;
    end
  end

  always_ff @(posedge clk_i) begin
    rem_q <= rem_d;
    div_q <= div_d;
    quo_q <= quo_d;
  end

  assign busy_o  = busy_q;
  assign valid_o = valid_q;
  assign recip_o = quo_q;

  // The quotient fits 16 bits only for sum >= 2^15.
  `ESACT_ASSERT(SumMin_A, start_i && !busy_q |-> sum_i >= SumW'(1 << esact_pkg::SOFTMAX_EXP_BITS))
  `ESACT_ASSERT(RecipMax_A, valid_o |-> recip_o <= QW'(1 << esact_pkg::SOFTMAX_EXP_BITS))

endmodule
