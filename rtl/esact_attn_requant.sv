// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Context requantization of one lane, combinational: esact::Requantize(acc, {mult,
/// shift}) = SaturateInt8(RoundShift(acc * mult, shift)) (golden/quant.h, docs/spls.md
/// section 7), bit-exact for mult in [0, 2^16) and shift in [0, 47].
///
/// RoundShift rounds half away from zero, so it works on the magnitude: with
/// m = |acc| * mult, r = (m + 2^(shift-1)) >> shift (r = m for shift 0), and the result
/// is -r or r, saturated to [-128, 127]. |acc| of the most negative acc is 2^(AccW-1),
/// correct as an unsigned AccW-bit value. One AccW x 16 multiplier and one right shifter
/// of the product by 0..47.
`include "esact_assert.svh"

module esact_attn_requant #(
  parameter int unsigned AccW = 23  ///< signed accumulator width, 2..40
) (
  input  logic signed [AccW-1:0]                 acc_i,
  input  logic [esact_pkg::ATTN_MULT_W-1:0]      mult_i,
  input  logic [esact_pkg::ATTN_SHIFT_W-1:0]     shift_i,  ///< 0..47
  output logic [esact_pkg::INT8_W-1:0]           q_o       ///< int8
);

  localparam int unsigned MultW = esact_pkg::ATTN_MULT_W;
  localparam int unsigned ShW   = esact_pkg::ATTN_SHIFT_W;
  localparam int unsigned PW    = AccW + MultW;
  localparam int unsigned TW    = ((PW > esact_pkg::ATTN_MAX_SHIFT) ? PW
                                                                    : esact_pkg::ATTN_MAX_SHIFT) + 1;

  `ESACT_ASSERT_INIT(AccWLegal_A, AccW >= 2 && AccW <= 40)

  logic            neg;
  logic [AccW-1:0] mag;
  logic [PW-1:0]   m;
  logic [TW-1:0]   rnd;
  logic [TW-1:0]   r;
  logic            sat;  // |result| beyond the int8 range of its sign

  assign neg = acc_i[AccW-1];
  assign mag = neg ? AccW'(-acc_i) : AccW'(acc_i);
  assign m   = PW'(mag) * PW'(mult_i);
  assign rnd = (shift_i == '0) ? '0 : (TW'(1) << (shift_i - ShW'(1)));
  assign r   = (TW'(m) + rnd) >> shift_i;
  assign sat = neg ? (r > TW'(128)) : (r > TW'(127));

  always_comb begin
    if (sat) begin
      q_o = neg ? 8'h80 : 8'h7f;
    end else begin
      q_o = neg ? 8'(-r[7:0]) : r[7:0];
    end
  end

endmodule
