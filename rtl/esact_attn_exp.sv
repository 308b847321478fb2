// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Integer softmax exponential of one score: the distance to the row maximum to the
/// unnormalized weight e. Bit-exact with esact::SoftmaxExp(esact::SoftmaxExponent(max,
/// score, {mult, shift})) (golden/quant.h, docs/spls.md section 7) for diff = max - score:
///
///   x = RoundShift(diff * mult, shift)                 log2 units, 5 fraction bits
///   e = LUT[x mod 32] >> (x / 32), or 0 once x / 32 > 15 (x >= 512)
///   LUT[f] = round(2^15 * 2^(-f/32))                   (kSoftmaxExp2Lut, 32 x 16 bits)
///
/// diff >= 0, so the rounding (half away from zero) is an add of 2^(shift-1) before the
/// shift. The golden clamp of x to uint32 does not matter: every x >= 512 gives 0. The
/// LUT is a constant case table; tests/rtl_attn_test.cc checks every entry and every x
/// in 0..600 against kSoftmaxExp2Lut through this module.
///
/// Pipeline: one register stage, no back-pressure: out_valid_o / e_o are in_valid_i and
/// the result of the inputs of the previous cycle. One multiplier (DiffW x 16), a right
/// shifter of the product by 0..47, a 32-entry table and a 0..15 right shifter.
///
/// Reset: asynchronous, active low, clears out_valid_o. e_o is not reset (read only
/// behind out_valid_o).
`include "esact_assert.svh"

module esact_attn_exp #(
  parameter int unsigned DiffW /*verilator public*/ = 22  ///< width of diff, 1..40
) (
  input  logic                                   clk_i,
  input  logic                                   rst_ni,
  input  logic                                   in_valid_i,
  input  logic [DiffW-1:0]                       diff_i,    ///< max - score, unsigned
  input  logic [esact_pkg::REQ_MULT_W-1:0]       mult_i,    ///< softmax mult
  input  logic [esact_pkg::REQ_SHIFT_W-1:0]      shift_i,   ///< softmax shift, 0..47
  output logic                                   out_valid_o,
  output logic [esact_pkg::SOFTMAX_EXP_BITS:0]   e_o        ///< 0..2^15
);

  localparam int unsigned MultW = esact_pkg::REQ_MULT_W;
  localparam int unsigned ShW   = esact_pkg::REQ_SHIFT_W;
  localparam int unsigned FracW = esact_pkg::SOFTMAX_FRAC_BITS;       // 5
  localparam int unsigned EW    = esact_pkg::SOFTMAX_EXP_BITS + 1;    // 16
  localparam int unsigned XW    = FracW + 4;                          // x < 512 matters
  localparam int unsigned PW    = DiffW + MultW;                      // diff * mult
  // The rounding bit 2^(shift-1) reaches bit 46: the sum needs max(PW, 47) + 1 bits.
  localparam int unsigned TW    = ((PW > esact_pkg::REQ_MAX_SHIFT) ? PW
                                                                   : esact_pkg::REQ_MAX_SHIFT) + 1;

  `ESACT_ASSERT_INIT(DiffWLegal_A, DiffW >= 1 && DiffW <= 40)
  `ESACT_ASSERT_INIT(LutShape_A, FracW == 5 && EW == 16)

  // ---- x = RoundShift(diff * mult, shift) ------------------------------------------------

  logic [PW-1:0] prod;
  logic [TW-1:0] rnd;     // 2^(shift-1), 0 for shift 0
  logic [TW-1:0] t;
  logic [TW-1:0] x;
  logic          big;     // x >= 512: every LUT entry shifts out

  assign prod = PW'(diff_i) * PW'(mult_i);
  assign rnd  = (shift_i == '0) ? '0 : (TW'(1) << (shift_i - ShW'(1)));
  assign t    = TW'(prod) + rnd;
  assign x    = t >> shift_i;
  assign big  = |x[TW-1:XW];

  // ---- e = LUT[x mod 32] >> (x / 32) -----------------------------------------------------

  logic [EW-1:0] lut;

  // round(2^15 * 2^(-f/32)), f = x mod 32 (kSoftmaxExp2Lut).
  always_comb begin
    unique case (x[FracW-1:0])
      5'd0:    lut = 16'd32768;
      5'd1:    lut = 16'd32066;
      5'd2:    lut = 16'd31379;
      5'd3:    lut = 16'd30706;
      5'd4:    lut = 16'd30048;
      5'd5:    lut = 16'd29405;
      5'd6:    lut = 16'd28774;
      5'd7:    lut = 16'd28158;
      5'd8:    lut = 16'd27554;
      5'd9:    lut = 16'd26964;
      5'd10:   lut = 16'd26386;
      5'd11:   lut = 16'd25821;
      5'd12:   lut = 16'd25268;
      5'd13:   lut = 16'd24726;
      5'd14:   lut = 16'd24196;
      5'd15:   lut = 16'd23678;
      5'd16:   lut = 16'd23170;
      5'd17:   lut = 16'd22674;
      5'd18:   lut = 16'd22188;
      5'd19:   lut = 16'd21713;
      5'd20:   lut = 16'd21247;
      5'd21:   lut = 16'd20792;
      5'd22:   lut = 16'd20347;
      5'd23:   lut = 16'd19911;
      5'd24:   lut = 16'd19484;
      5'd25:   lut = 16'd19066;
      5'd26:   lut = 16'd18658;
      5'd27:   lut = 16'd18258;
      5'd28:   lut = 16'd17867;
      5'd29:   lut = 16'd17484;
      5'd30:   lut = 16'd17109;
      5'd31:   lut = 16'd16743;
      default: lut = '0;
    endcase
  end

  logic [EW-1:0] e;
  assign e = big ? '0 : (lut >> x[FracW +: 4]);

  // ---- Output register -------------------------------------------------------------------

  logic          valid_q;
  logic [EW-1:0] e_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
    end else begin
      valid_q <= in_valid_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_valid_i) begin
      e_q <= e;
    end
  end

  assign out_valid_o = valid_q;
  assign e_o         = e_q;

  // The legal shift range (the caller checks its configuration).
  `ESACT_ASSERT(ShiftRange_A, in_valid_i |-> 32'(shift_i) <= esact_pkg::REQ_MAX_SHIFT)
  `ESACT_ASSERT(ExpRange_A, out_valid_o |-> e_o <= EW'(1 << esact_pkg::SOFTMAX_EXP_BITS))

endmodule
