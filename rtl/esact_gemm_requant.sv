// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Requantization of one int32 accumulator to int8 (combinational), bit-exact with
/// esact::Requantize (golden/quant.h, docs/spls.md section 7):
///
///   p = acc * mult                     48-bit signed product (mult < 2^16, |p| < 2^47)
///   r = RoundShift(p, shift)           p / 2^shift rounded half away from zero
///   y = SaturateInt8(r)                clamp to [-128, 127]
///
/// The rounding needs no magnitude: with h = 2^(shift-1) and shift >= 1,
///   p >= 0:  (p + h) >>> shift          = floor((p + h) / 2^shift)
///   p <  0:  (p + h - 1) >>> shift      = -floor((-p + h) / 2^shift)   (2^shift - h = h)
/// and shift = 0 returns p. One add and one arithmetic shift of 49 bits (the 48-bit product
/// plus the rounding carry). Shifts above 47 are rejected by the controller's
/// configuration check; the module itself is total (shifts up to 63 give 0 or -1).
module esact_gemm_requant (
  input  logic [esact_pkg::GEMM_ACC_W-1:0]   acc_i,    ///< int32 accumulator
  input  logic [esact_pkg::GEMM_MULT_W-1:0]  mult_i,   ///< unsigned multiplier
  input  logic [esact_pkg::GEMM_SHIFT_W-1:0] shift_i,  ///< right shift, 0..47
  output logic [esact_pkg::INT8_W-1:0]       y_o       ///< int8 result
);

  localparam int unsigned AccW   = esact_pkg::GEMM_ACC_W;
  localparam int unsigned MultW  = esact_pkg::GEMM_MULT_W;
  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned ProdW  = AccW + MultW + 1;  // 49: product and rounding carry
  localparam logic signed [ProdW-1:0] YMax = ProdW'(127);
  localparam logic signed [ProdW-1:0] YMin = -ProdW'(128);

  logic signed [AccW-1:0]    acc_s;
  logic signed [MultW:0]     mult_s;   // zero-extended, so a signed multiply
  logic signed [ProdW-1:0]   prod;
  logic signed [ProdW-1:0]   bias;     // h - [p < 0], or 0 for shift 0
  logic signed [ProdW-1:0]   rounded;

  assign acc_s  = acc_i;
  assign mult_s = {1'b0, mult_i};
  assign prod   = ProdW'(acc_s) * ProdW'(mult_s);

  always_comb begin
    bias = '0;
    if (shift_i != '0) begin
      bias = (ProdW'(1) << (shift_i - 1'b1)) - ProdW'(prod[ProdW-1]);
    end
  end

  assign rounded = (prod + bias) >>> shift_i;

  // Saturate: above 127 or below -128 (the bits above bit 7 are not all copies of bit 7).
  always_comb begin
    if (rounded > YMax) begin
      y_o = YMax[DataW-1:0];
    end else if (rounded < YMin) begin
      y_o = YMin[DataW-1:0];
    end else begin
      y_o = rounded[DataW-1:0];
    end
  end

endmodule
