// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// HLog encoder: one signed magnitude to one 5-bit HLog code (combinational).
///
/// The input is sign and magnitude, neg_i and mag_i = m in 0..128, so that an int8 value
/// (esact_hlog_quant, the predictor's X lanes: m = |x|) and a re-quantized projection
/// (esact_predictor: m = min(128, |v| >> shift)) share one encoder. A magnitude above 128
/// is not a legal input (an assertion in the users checks it; the encoder then returns an
/// unspecified but valid code).
///
/// Bit-exact with esact::HlogEncode (golden/hlog.h, docs/spls.md section 2) of the value
/// (neg_i ? -m : m). With s = 8 - bits (0..4) the lowest exponent and e the position of
/// the leading one of m:
///
///   toward zero  m < 2^s          -> zero code
///                otherwise        -> exponent e, half bit h = (e > s) ? m[e-1] : 0
///   nearest      the toward-zero level lo rounded up to the next level hi when
///                2m >= lo + hi (ties to the larger magnitude); 128 stays 128.
///
/// Nearest rounding needs no adder or comparator: hi - lo is always one step of the level
/// grid, so "2m >= lo + hi" is one bit of m, the bit just below the kept ones:
///   m < 2^(s+1)  (below the grid, or on its lowest exponent, which has no half step):
///                round bit m[s-1] (none when s = 0); 0 -> 2^s, 2^s -> 2^(s+1)
///   e > s        round bit m[e-2] (none when e < 2); {e, h} + 1, h carrying into e
/// The exhaustive test (tests/rtl_hlog_quant_test.cc) checks this against the golden.
///
/// The sign bit is neg_i unless the result is the zero code, which never carries a sign
/// (so neg_i with m = 0, or a negative value that rounds to zero, gives HLOG_ZERO). A
/// bits_i outside [4, 8] is not a legal configuration; the encoder then outputs the zero
/// code.
module esact_hlog_enc (
  input  logic                              neg_i,    ///< sign: 1 = negative
  input  logic [esact_pkg::INT8_W-1:0]      mag_i,    ///< magnitude m, legal 0..128
  input  logic [esact_pkg::HLOG_BITS_W-1:0] bits_i,   ///< HLog bit-width n, legal 4..8
  input  esact_pkg::hlog_round_e            round_i,  ///< rounding mode
  output logic [esact_pkg::HLOG_CODE_W-1:0] code_o    ///< HLog code
);

  localparam int unsigned DataW  = esact_pkg::INT8_W;
  localparam int unsigned ExpW   = esact_pkg::HLOG_EXP_W;
  localparam int unsigned LevelW = ExpW + 1;  // {exponent, half bit}

  logic             bits_legal;
  logic [ExpW-1:0]  shift;      // s = 8 - bits, the lowest exponent
  logic [DataW-1:0] mag;        // m, 0..128
  logic [DataW-1:0] above;      // above[i] = |mag[7:i+1]
  logic [DataW-1:0] lead_oh;    // one-hot leading one of mag (zero for mag = 0)
  logic [ExpW-1:0]  lead;       // e, the leading-one position of mag
  logic             next_bit;   // m[e-1], the bit below the leading one (0 for e = 0)
  logic             round_bit;  // m[e-2] (0 for e < 2)
  logic             low_bit;    // m[s-1] (0 for s = 0)
  logic             is_zero;
  logic [ExpW-1:0]  exp_val;
  logic             half;

  assign bits_legal = (bits_i >= esact_pkg::HLOG_BITS_W'(esact_pkg::HLOG_MIN_BITS)) &&
                      (bits_i <= esact_pkg::HLOG_BITS_W'(esact_pkg::HLOG_MAX_BITS));

  // Magnitude and leading one. The bits below the leading one are AND-OR selections by
  // the one-hot leading-one vector; no shifter.
  always_comb begin
    mag = mag_i;

    above[DataW-1] = 1'b0;
    for (int i = DataW - 2; i >= 0; i--) begin
      above[i] = above[i+1] | mag[i+1];
    end
    lead_oh = mag & ~above;

    lead = '0;
    for (int i = 0; i < DataW; i++) begin
      if (lead_oh[i]) begin
        lead = lead | ExpW'(i);
      end
    end
    next_bit  = |(lead_oh[DataW-1:1] & mag[DataW-2:0]);
    round_bit = |(lead_oh[DataW-1:2] & mag[DataW-3:0]);
  end

  // Level selection.
  always_comb begin
    is_zero = 1'b1;
    exp_val = '0;
    half    = 1'b0;

    // s = 8 - bits; only meaningful when bits_legal (bits 4..8 give 0..4).
    shift = ExpW'(esact_pkg::HLOG_BITS_W'(esact_pkg::HLOG_MAX_BITS) - bits_i);

    unique case (shift)
      3'd1:    low_bit = mag[0];
      3'd2:    low_bit = mag[1];
      3'd3:    low_bit = mag[2];
      3'd4:    low_bit = mag[3];
      default: low_bit = 1'b0;
    endcase

    if (mag == '0 || lead < shift) begin
      // Below the lowest level 2^s: zero, or 2^s when rounding to nearest.
      if (round_i == esact_pkg::HLOG_ROUND_NEAREST && low_bit) begin
        is_zero = 1'b0;
        exp_val = shift;
      end
    end else if (lead == shift) begin
      // On the lowest exponent, which has no half step: 2^s, or 2^(s+1) when rounding up.
      is_zero = 1'b0;
      exp_val = lead;
      if (round_i == esact_pkg::HLOG_ROUND_NEAREST && low_bit) begin
        exp_val = lead + 1'b1;
      end
    end else begin
      // e > s: keep the leading one and the next bit; nearest adds the round bit, the
      // half bit carrying into the exponent. e = 7 only for m = 128, whose lower bits
      // are zero, so the sum never overflows.
      is_zero = 1'b0;
      {exp_val, half} = {lead, next_bit};
      if (round_i == esact_pkg::HLOG_ROUND_NEAREST) begin
        {exp_val, half} = {exp_val, half} + LevelW'(round_bit);
      end
    end

    if (!bits_legal) begin
      is_zero = 1'b1;
    end
  end

  always_comb begin
    code_o = esact_pkg::HLOG_ZERO;
    if (!is_zero) begin
      code_o[esact_pkg::HLOG_SIGN_BIT]        = neg_i;
      code_o[esact_pkg::HLOG_EXP_LSB +: ExpW] = exp_val;
      code_o[esact_pkg::HLOG_HALF_BIT]        = half;
    end
  end

endmodule
