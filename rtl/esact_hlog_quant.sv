// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// HLog quantizer: a stream of int8 vectors to a stream of HLog code vectors.
///
/// Each beat carries Lanes int8 values, lane l in in_data_i[8*l +: 8]; the output beat
/// carries their codes, lane l in out_data_o[5*l +: 5] (code layout in esact_pkg). The
/// encoding is esact_hlog_enc, bit-exact with esact::HlogEncode (golden/hlog.h).
///
/// Pipeline: one registered stage. in_ready_o = !out_valid_o || out_ready_i, so the block
/// takes one beat per cycle when the output is not back-pressured, and the first code
/// appears the cycle after the input handshake.
///
/// Configuration: cfg_bits_i and cfg_round_i are sampled with each input beat (the
/// codes of a beat use the configuration present at its input handshake); hold them
/// steady while a stream is in flight. cfg_err_o is a combinational flag, 1 while
/// cfg_bits_i is outside [4, 8]. The stream keeps flowing under an illegal width:
/// every accepted beat comes out with all lanes set to the zero code, so the block
/// never hangs and a consumer never sees a half-configured encoding.
///
/// After reset out_valid_o is 0 and out_data_o holds zero codes.
`include "esact_assert.svh"

module esact_hlog_quant #(
  parameter int unsigned Lanes = 4  ///< int8 values per beat, >= 1
) (
  input  logic                                    clk_i,
  input  logic                                    rst_ni,
  // Configuration
  input  logic [esact_pkg::HLOG_BITS_W-1:0]       cfg_bits_i,   ///< HLog bit-width n, 4..8
  input  esact_pkg::hlog_round_e                  cfg_round_i,  ///< rounding mode
  output logic                                    cfg_err_o,    ///< cfg_bits_i out of range
  // int8 input stream
  input  logic                                    in_valid_i,
  output logic                                    in_ready_o,
  input  logic [Lanes*esact_pkg::INT8_W-1:0]      in_data_i,
  // HLog code output stream
  output logic                                    out_valid_o,
  input  logic                                    out_ready_i,
  output logic [Lanes*esact_pkg::HLOG_CODE_W-1:0] out_data_o
);

  localparam int unsigned DataW = esact_pkg::INT8_W;
  localparam int unsigned CodeW = esact_pkg::HLOG_CODE_W;

  `ESACT_ASSERT_INIT(LanesLegal_A, Lanes >= 1)

  // ---- Configuration check ---------------------------------------------------------------

  assign cfg_err_o =
      (cfg_bits_i < esact_pkg::HLOG_BITS_W'(esact_pkg::HLOG_MIN_BITS)) ||
      (cfg_bits_i > esact_pkg::HLOG_BITS_W'(esact_pkg::HLOG_MAX_BITS));

  // ---- Encoders, one per lane ------------------------------------------------------------
  // An illegal cfg_bits_i makes every encoder output the zero code.

  logic [Lanes*CodeW-1:0] code;

  for (genvar l = 0; l < Lanes; l++) begin : g_lane
    logic [DataW-1:0] value;
    logic             neg;
    logic [DataW-1:0] mag;  // |x|, 0..128 (x = -128 gives 8'h80 = 128)

    assign value = in_data_i[l*DataW +: DataW];
    assign neg   = value[DataW-1];
    assign mag   = neg ? DataW'(-value) : value;

    esact_hlog_enc u_enc (
      .neg_i   (neg),
      .mag_i   (mag),
      .bits_i  (cfg_bits_i),
      .round_i (cfg_round_i),
      .code_o  (code[l*CodeW +: CodeW])
    );
  end

  // ---- Pipeline register -----------------------------------------------------------------

  logic                   valid_d, valid_q;
  logic [Lanes*CodeW-1:0] data_d, data_q;

  assign in_ready_o = !valid_q || out_ready_i;

  always_comb begin
    valid_d = valid_q;
    data_d  = data_q;
    if (in_ready_o) begin
      valid_d = in_valid_i;
      if (in_valid_i) begin
        data_d = code;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      data_q  <= {Lanes{esact_pkg::HLOG_ZERO}};
    end else begin
      valid_q <= valid_d;
      data_q  <= data_d;
    end
  end

  assign out_valid_o = valid_q;
  assign out_data_o  = data_q;

  // ---- Assertions ------------------------------------------------------------------------

  // Output contract: once valid, hold valid and data until the cycle after ready.
  `ESACT_ASSERT(OutValidHeld_A, out_valid_o && !out_ready_i |=> out_valid_o)
  `ESACT_ASSERT(OutDataStable_A, out_valid_o && !out_ready_i |=> $stable(out_data_o))
  // Input contract (the upstream's promise, checked here).
  `ESACT_ASSERT(InValidHeld_A, in_valid_i && !in_ready_o |=> in_valid_i)
  `ESACT_ASSERT(InDataStable_A, in_valid_i && !in_ready_o |=> $stable(in_data_i))
  // Throughput: an empty stage always accepts.
  `ESACT_ASSERT(ReadyWhenEmpty_A, !out_valid_o |-> in_ready_o)

endmodule
