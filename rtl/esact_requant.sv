// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Requantization of one signed accumulator to int8 (combinational), bit-exact with
/// esact::Requantize (golden/quant.h, docs/spls.md section 7) for every acc of AccW bits,
/// mult in [0, 2^16) and shift in [0, 47]:
///
///   p = acc * mult                     AccW + 16-bit signed product
///   r = RoundShift(p, shift)           p / 2^shift rounded half away from zero
///   y = SaturateInt8(r)                clamp to [-128, 127]
///
/// Rounding half away from zero is symmetric, RoundShift(-v, s) = -RoundShift(v, s), so
/// the module works on the magnitude: with m = |acc| * mult and h = 2^(shift-1),
///   r = (m + h) >> shift               (r = m for shift 0)
/// and the result is -r or r, saturated to [-128, 127] (-r saturates at r > 128, r at
/// r > 127). |acc| of the most negative acc is 2^(AccW-1), correct as an unsigned AccW-bit
/// value. One AccW x 16 unsigned multiplier, one add of the rounding bit and one right
/// shifter by 0..47, in TW = max(AccW + 16, 47) + 1 bits (the product plus the rounding
/// carry; at least the bit 2^46 of the largest legal shift). Measured with Yosys, this is
/// smaller than the signed form (p + h - [p < 0]) >>> shift at every width used.
///
/// The one requantizer of the engines: esact_gemm (int32 accumulators, AccW 32),
/// esact_attn (the P.V context sums, AccW 16 + clog2(NMax)) and esact_vec (int32
/// accumulators and the LayerNorm's t, AccW TW). Shifts above REQ_MAX_SHIFT are a
/// configuration error that each engine reports before any data flows; the module itself
/// is total (a defined, meaningless value for shifts up to 63). AccW <= 47 keeps the
/// golden int64 product exact (AccW + 16 < 64).
`include "esact_assert.svh"

module esact_requant #(
  parameter int unsigned AccW = 32  ///< signed accumulator width, 2..47
) (
  input  logic [AccW-1:0]                     acc_i,    ///< signed accumulator
  input  logic [esact_pkg::REQ_MULT_W-1:0]    mult_i,   ///< unsigned multiplier
  input  logic [esact_pkg::REQ_SHIFT_W-1:0]   shift_i,  ///< right shift, 0..47
  output logic [esact_pkg::INT8_W-1:0]        y_o       ///< int8 result
);

  localparam int unsigned MultW  = esact_pkg::REQ_MULT_W;
  localparam int unsigned ShiftW = esact_pkg::REQ_SHIFT_W;
  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned MaxSh  = esact_pkg::REQ_MAX_SHIFT;
  localparam int unsigned PW     = AccW + MultW;  // |acc| * mult, exact
  // Product and rounding carry; the rounding bit 2^(shift-1) reaches bit MaxSh - 1 = 46.
  localparam int unsigned TW     = ((PW > MaxSh) ? PW : MaxSh) + 1;

  `ESACT_ASSERT_INIT(AccWLegal_A, AccW >= 2 && AccW <= 47)

  logic             neg;
  logic [AccW-1:0]  mag;
  logic [PW-1:0]    m;
  logic [TW-1:0]    rnd;  // 2^(shift-1), 0 for shift 0
  logic [TW-1:0]    r;
  logic             sat;  // |result| beyond the int8 range of its sign

  assign neg = acc_i[AccW-1];
  assign mag = neg ? AccW'(-acc_i) : acc_i;
  assign m   = PW'(mag) * PW'(mult_i);
  assign rnd = (shift_i == '0) ? '0 : (TW'(1) << (shift_i - ShiftW'(1)));
  assign r   = (TW'(m) + rnd) >> shift_i;
  assign sat = neg ? (r > TW'(128)) : (r > TW'(127));

  always_comb begin
    if (sat) begin
      y_o = neg ? 8'h80 : 8'h7f;
    end else begin
      y_o = neg ? DataW'(-r[DataW-1:0]) : r[DataW-1:0];
    end
  end

endmodule
