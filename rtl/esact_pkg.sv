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

endpackage
