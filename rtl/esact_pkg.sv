// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// ESACT package: constants and types shared by the RTL blocks.
///
/// Constants with a C++ twin in the golden model name it in parentheses (golden/hlog.h);
/// change both together. tests/rtl_hlog_quant_test.cc checks the twins that are visible
/// at the ports (the zero code, the legal width range, the code layout through every
/// code). Yosys 0.23 does not accept `import esact_pkg::*`, so refer to these as
/// `esact_pkg::NAME`.
package esact_pkg;

  // ---- Data widths -----------------------------------------------------------------------

  /// Width of one int8 activation or weight lane.
  parameter int unsigned INT8_W /*verilator public*/ = 8;

  // ---- HLog code (golden/hlog.h) ---------------------------------------------------------
  //
  // One 5-bit code serves every HLog bit-width n in [4, 8]:
  //   code[4]   sign (1 = negative)
  //   code[3:1] exponent e: position of the leading one in the int8 magnitude domain
  //   code[0]   half bit h
  //   value = (-1)^sign * (2^e + h * 2^(e-1)); the unused pattern e = 0, h = 1 is zero.

  /// Code width (kHlogCodeBits).
  parameter int unsigned HLOG_CODE_W /*verilator public*/ = 5;
  /// Exponent field width and position.
  parameter int unsigned HLOG_EXP_W /*verilator public*/   = 3;
  parameter int unsigned HLOG_EXP_LSB /*verilator public*/ = 1;
  /// Sign and half-bit positions.
  parameter int unsigned HLOG_SIGN_BIT /*verilator public*/ = 4;
  parameter int unsigned HLOG_HALF_BIT /*verilator public*/ = 0;
  /// The zero code, e = 0, h = 1, sign 0 (kHlogZero).
  parameter logic [HLOG_CODE_W-1:0] HLOG_ZERO /*verilator public*/ = 5'b00001;

  /// Width of the HLog bit-width configuration field, and its legal range
  /// (kHlogMinBits, kHlogMaxBits).
  parameter int unsigned HLOG_BITS_W = 4;
  parameter int unsigned HLOG_MIN_BITS /*verilator public*/ = 4;
  parameter int unsigned HLOG_MAX_BITS /*verilator public*/ = 8;

  /// Rounding mode of the int8 -> HLog projection (HlogRound).
  typedef enum logic [0:0] {
    HLOG_ROUND_TOWARD_ZERO = 1'b0,  ///< keep the leading one and the next bit (default, D2)
    HLOG_ROUND_NEAREST     = 1'b1   ///< nearest level, ties to the larger magnitude
  } hlog_round_e;

  // ---- Predictor (esact_predictor, golden/spls.h) -----------------------------------------

  /// Width of the predictor's power-of-two rescale fields q_shift, k_shift: every value
  /// 0..31 is legal (kPredMaxShift), so a shift is never a configuration error.
  parameter int unsigned PRED_SHIFT_W /*verilator public*/ = 5;

  /// Configuration error of an esact_predictor run, reported with done_o. The checks run
  /// in this order and the first failing one is reported.
  typedef enum logic [3:0] {
    PRED_ERR_NONE       = 4'd0,  ///< legal configuration, the run completed
    PRED_ERR_N_VALID    = 4'd1,  ///< n_valid is 0 or above NMax
    PRED_ERR_D_MODEL    = 4'd2,  ///< d_model is 0, above DMax or not a multiple of Lanes
    PRED_ERR_D_HEAD     = 4'd3,  ///< d_head is 0, above DhMax or not a multiple of Lanes
    PRED_ERR_HEADS      = 4'd4,  ///< heads is 0 or above HMax
    PRED_ERR_K          = 4'd5,  ///< k is 0 or above KMax
    PRED_ERR_W          = 4'd6,  ///< w is above WMax
    PRED_ERR_T          = 4'd7,  ///< t is above NMax
    PRED_ERR_BITS       = 4'd8,  ///< HLog bit-width outside 4..8
    PRED_ERR_HEAD_SPLIT = 4'd9   ///< heads * d_head != d_model
  } pred_err_e /*verilator public*/;  // exported to C++ for the tests

  // ---- Requantization (esact_requant, golden/quant.h Requantize) -------------------------

  /// Multiplier width (kRequantMultBits): every mult in [0, 2^16) is legal. One set for
  /// every engine: esact_gemm, esact_attn (softmax exponent scale and context
  /// requantization alike) and esact_vec.
  parameter int unsigned REQ_MULT_W /*verilator public*/ = 16;
  /// Shift field width and the largest legal shift (kRequantMaxShift).
  parameter int unsigned REQ_SHIFT_W /*verilator public*/ = 6;
  parameter int unsigned REQ_MAX_SHIFT /*verilator public*/ = 47;

  // ---- GEMM engine (esact_gemm, golden/quant.h, golden/layer.h) ---------------------------

  /// Accumulator and bias width: int32 (the bias bound MaxLinearBias keeps every partial
  /// sum inside it, kLinearAccLimit).
  parameter int unsigned GEMM_ACC_W /*verilator public*/ = 32;

  /// Configuration error of an esact_gemm run, reported with done_o. The checks run in
  /// this order and the first failing one is reported.
  typedef enum logic [2:0] {
    GEMM_ERR_NONE   = 3'd0,  ///< legal configuration, the run completed
    GEMM_ERR_N_ROWS = 3'd1,  ///< n_rows above NRowsMax (0 is legal: an empty row list)
    GEMM_ERR_IN     = 3'd2,  ///< in_features is 0 or above KMax
    GEMM_ERR_OUT    = 3'd3,  ///< out_features is 0 or above NOutMax
    GEMM_ERR_SHIFT  = 3'd4   ///< requantization shift above REQ_MAX_SHIFT
  } gemm_err_e /*verilator public*/;  // exported to C++ for the tests

  // ---- Attention engine (esact_attn, golden/quant.h, golden/engines.h) --------------------

  /// Integer softmax (IntSoftmax): fraction bits of the log2 exponent (kSoftmaxFracBits),
  /// e_j <= 2^SOFTMAX_EXP_BITS (kSoftmaxExpBits), r = floor(2^SOFTMAX_RECIP_BITS / sum)
  /// (kSoftmaxRecipBits), probabilities of SOFTMAX_PROB_BITS bits (kSoftmaxProbBits).
  parameter int unsigned SOFTMAX_FRAC_BITS /*verilator public*/  = 5;
  parameter int unsigned SOFTMAX_EXP_BITS /*verilator public*/   = 15;
  parameter int unsigned SOFTMAX_RECIP_BITS /*verilator public*/ = 30;
  parameter int unsigned SOFTMAX_PROB_BITS /*verilator public*/  = 8;

  /// Error of an esact_attn run, reported with done_o. Configuration fields are checked
  /// first, in this order; the stream errors (KV_IDX onwards) are found on the offending
  /// beat, which is taken, and end the run.
  typedef enum logic [3:0] {
    ATTN_ERR_NONE       = 4'd0,   ///< legal run, every row completed
    ATTN_ERR_N_VALID    = 4'd1,   ///< n_valid is 0 or above NMax
    ATTN_ERR_D_HEAD     = 4'd2,   ///< d_head is 0 or above DhMax
    ATTN_ERR_N_KV       = 4'd3,   ///< n_kv is 0 or above n_valid
    ATTN_ERR_N_ROWS     = 4'd4,   ///< n_rows is 0 or above n_valid
    ATTN_ERR_SM_SHIFT   = 4'd5,   ///< softmax shift above REQ_MAX_SHIFT
    ATTN_ERR_CTX_SHIFT  = 4'd6,   ///< context shift above REQ_MAX_SHIFT
    ATTN_ERR_KV_IDX     = 4'd7,   ///< a K/V row index >= n_valid
    ATTN_ERR_Q_IDX      = 4'd8,   ///< a Q row index >= n_valid
    ATTN_ERR_MASK_EMPTY = 4'd9,   ///< a key mask without a set bit
    ATTN_ERR_MASK_PAD   = 4'd10,  ///< a key mask bit >= n_valid (a padded column)
    ATTN_ERR_MASK_KV    = 4'd11   ///< a key mask bit on a K/V row that was not loaded
  } attn_err_e /*verilator public*/;  // exported to C++ for the tests

  // ---- Vector unit (esact_vec, golden/quant.h, golden/engines.h) -------------------------

  /// Lane width of the parameter-load and int32 accumulator streams (one int32 or one
  /// parameter per lane).
  parameter int unsigned VEC_WORD_W /*verilator public*/ = 32;
  /// Width of the per-column LayerNorm gain gamma (int16, LnParams::gamma).
  parameter int unsigned VEC_GAMMA_W /*verilator public*/ = 16;
  /// Width of the row-count field: 0..65535 rows per run.
  parameter int unsigned VEC_ROWS_W /*verilator public*/ = 16;
  /// Integer LayerNorm: reciprocal bits (kLnRecipBits) and fraction bits of the
  /// normalized value (kLnFracBits); n = RoundShift(c * inv, RECIP - FRAC).
  parameter int unsigned VEC_LN_RECIP_BITS /*verilator public*/ = 31;
  parameter int unsigned VEC_LN_FRAC_BITS /*verilator public*/ = 12;
  /// Entries of the activation LUT (GeluLut), indexed by the int8 input + 128.
  parameter int unsigned VEC_LUT_SIZE /*verilator public*/ = 256;
  /// Residual of RESIDUAL_LN (ResidualAdd): r = RoundShift(a * mult_a + b * mult_b,
  /// VEC_RES_SHIFT) (kResidualShift), each mult in [0, VEC_RES_MAX_MULT]
  /// (kResidualMaxMult, 2^15; a larger one is a configuration error), carried in a field
  /// of VEC_RES_MULT_W bits; r in [-2048, 2032] is VEC_RES_W signed bits (kResidualBits).
  parameter int unsigned VEC_RES_SHIFT /*verilator public*/ = 12;
  parameter int unsigned VEC_RES_MAX_MULT /*verilator public*/ = 32768;
  parameter int unsigned VEC_RES_MULT_W /*verilator public*/ = 16;
  parameter int unsigned VEC_RES_W /*verilator public*/ = 12;

  /// Operation of an esact_vec run (cfg_mode_i).
  typedef enum logic [1:0] {
    VEC_MODE_REQUANT     = 2'd0,  ///< int32 acc -> Requantize(acc, {mult, shift})
    VEC_MODE_ADD         = 2'd1,  ///< int8 a, b -> SaturateInt8(a + b)
    VEC_MODE_GELU        = 2'd2,  ///< int8 x -> lut[x + 128]
    VEC_MODE_RESIDUAL_LN = 2'd3   ///< int8 a, b -> IntLayerNorm(ResidualAdd(a, b))
  } vec_mode_e /*verilator public*/;  // exported to C++ for the tests

  /// Configuration error of an esact_vec run, reported with done_o. The checks run in
  /// the order D, N_ROWS, SHIFT, RES_MULT, NO_LUT, NO_PARAMS and the first failing one is
  /// reported (RES_MULT came later and took the next free code).
  typedef enum logic [2:0] {
    VEC_ERR_NONE      = 3'd0,  ///< legal configuration, the run completed
    VEC_ERR_D         = 3'd1,  ///< d is 0 or above DMax
    VEC_ERR_N_ROWS    = 3'd2,  ///< n_rows is 0 in a run that loads nothing
    VEC_ERR_SHIFT     = 3'd3,  ///< shift above REQ_MAX_SHIFT (REQUANT, RESIDUAL_LN)
    VEC_ERR_NO_LUT    = 3'd4,  ///< GELU without load, and no LUT loaded since reset
    VEC_ERR_NO_PARAMS = 3'd5,  ///< RESIDUAL_LN without load, and no gamma/beta of this d
    VEC_ERR_RES_MULT  = 3'd6   ///< RESIDUAL_LN: res_mult_a or _b above VEC_RES_MAX_MULT
  } vec_err_e /*verilator public*/;  // exported to C++ for the tests

  // ---- Top level (esact_top, docs/architecture.md section 12) -----------------------------

  /// Error of an esact_top run, shown in STATUS.ERR_CODE. The configuration checks run in
  /// this order before anything is read (N_TOKENS .. OVERLAP); HDR after the weight image is
  /// loaded; nothing is written for any of them. BUSY is a start while a run is in flight
  /// (the run goes on); DMA_RD, DMA_WR an AXI error response; ENGINE an engine reporting an
  /// error (not reachable with a checked configuration; kept so that nothing can hang).
  typedef enum logic [7:0] {
    TOP_ERR_NONE      = 8'd0,   ///< the layer completed
    TOP_ERR_N_TOKENS  = 8'd1,   ///< n_tokens is 0 or above NMax
    TOP_ERR_N_VALID   = 8'd2,   ///< n_valid is 0 or above n_tokens
    TOP_ERR_D_MODEL   = 8'd3,   ///< d_model is 0, above DMax or not a multiple of Lanes
    TOP_ERR_HEADS     = 8'd4,   ///< heads 0, above HMax, or d_head not a multiple of Lanes
                                ///< in 1..DhMax with heads * d_head = d_model
    TOP_ERR_D_FF      = 8'd5,   ///< d_ff is 0, above DffMax or not a multiple of Lanes
    TOP_ERR_K         = 8'd6,   ///< SPLS: k is 0, above KMax or above n_tokens
    TOP_ERR_W         = 8'd7,   ///< SPLS: w is above WMax
    TOP_ERR_T         = 8'd8,   ///< SPLS: t is above NMax
    TOP_ERR_HLOG_BITS = 8'd9,   ///< SPLS: HLog bit-width outside 4..8
    TOP_ERR_ADDR      = 8'd10,  ///< a buffer misaligned (DataW/8) or outside the address space
    TOP_ERR_SIZE      = 8'd11,  ///< a buffer smaller than the layer needs
    TOP_ERR_OVERLAP   = 8'd12,  ///< Y or DEC overlaps X, W or each other
    TOP_ERR_BUSY      = 8'd13,  ///< start while a run is in flight
    TOP_ERR_HDR       = 8'd14,  ///< a header scalar out of range (shift, residual mult)
    TOP_ERR_DMA_RD    = 8'd15,  ///< a read answered SLVERR or DECERR
    TOP_ERR_DMA_WR    = 8'd16,  ///< a write answered SLVERR or DECERR
    TOP_ERR_ENGINE    = 8'd17   ///< an engine ended with an error
  } top_err_e /*verilator public*/;  // exported to C++ for the tests

endpackage
