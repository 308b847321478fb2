// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// One lane of fixed-point requantization, combinational: bit-exact with
/// esact::Requantize (golden/quant.h, docs/spls.md section 7):
///
///   out = SaturateInt8(RoundShift(value * mult, shift))
///
/// RoundShift(v, s) is v / 2^s rounded half away from zero (s = 0 returns v). With
/// h = 2^(s-1) that is (v + h) >> s for v >= 0 and -((-v + h) >> s) = (v + h - 1) >> s
/// (arithmetic shift, i.e. floor) for v < 0, so one adder and one arithmetic shifter
/// serve both signs.
///
/// Widths: value is InW-bit signed, mult is unsigned [0, 2^16), so the product is exact in
/// ProdW = InW + 17 bits; the rounding addition gets one more bit. The golden model forms
/// value * mult in int64: exact as long as InW + 16 < 64, which the parameter check keeps.
/// shift_i above 47 (VEC_MAX_SHIFT) is a configuration error that esact_vec reports
/// before any data flows; the lane still computes a defined (meaningless) value for it.
`include "esact_assert.svh"

module esact_vec_requant #(
  parameter int unsigned InW = 33  ///< signed input width, 30..47
) (
  input  logic signed [InW-1:0]                     value_i,
  input  logic [esact_pkg::VEC_MULT_W-1:0]          mult_i,
  input  logic [esact_pkg::VEC_SHIFT_W-1:0]         shift_i,
  output logic [esact_pkg::INT8_W-1:0]              out_o
);

  localparam int unsigned MultW  = esact_pkg::VEC_MULT_W;
  localparam int unsigned ShiftW = esact_pkg::VEC_SHIFT_W;
  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned ProdW  = InW + MultW + 1;  // signed product, exact
  localparam int unsigned SumW   = ProdW + 1;        // product plus rounding bias

  // SumW >= 48 holds the bias 2^46 of the largest legal shift; InW + 16 < 64 keeps the
  // golden int64 product exact.
  `ESACT_ASSERT_INIT(InWLegal_A, InW >= 30 && InW <= 47)

  // ---- Product ---------------------------------------------------------------------------

  logic signed [ProdW-1:0] value_e, mult_e, prod;

  assign value_e = {{(ProdW - InW){value_i[InW-1]}}, value_i};
  assign mult_e  = {{(ProdW - MultW){1'b0}}, mult_i};
  assign prod    = value_e * mult_e;

  // ---- RoundShift: (prod + h - neg) >>> shift, h = 2^(shift-1), nothing for shift 0 ----

  logic                    neg;
  logic [SumW-1:0]         half;
  logic signed [SumW-1:0]  bias, sum, shifted;

  assign neg  = prod[ProdW-1];
  assign half = (shift_i == '0) ? '0 : (SumW'(1) << (shift_i - ShiftW'(1)));
  assign bias = (shift_i == '0) ? '0 : $signed(half - SumW'(neg));
  assign sum  = $signed({prod[ProdW-1], prod}) + bias;
  assign shifted = sum >>> shift_i;

  // ---- SaturateInt8 ----------------------------------------------------------------------

  localparam logic signed [SumW-1:0] MaxI8 = SumW'(127);
  localparam logic signed [SumW-1:0] MinI8 = -(SumW'(128));

  always_comb begin
    if (shifted > MaxI8) begin
      out_o = DataW'(127);
    end else if (shifted < MinI8) begin
      out_o = DataW'(8'h80);
    end else begin
      out_o = shifted[DataW-1:0];
    end
  end

endmodule
