// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// One processing element of esact_gemm: an int8 x int8 multiplier, an int32 output-
/// stationary accumulator and one int32 drain register.
///
///   load_i   acc <= bias_i                    (the issue of k = 0 of a tile)
///   mac_i    acc <= acc + x_i * w_i           (a product of k < K-1)
///   drain_i  drain <= acc + x_i * w_i         (the tile's last product: the finished sum
///                                              goes to the drain register, so the
///                                              accumulator is free for the next tile)
///
/// load_i and mac_i are never high together (the controller asserts it); drain_i may come
/// with load_i (the last product of one tile and the bias of the next in the same cycle).
/// The sum wraps modulo 2^32 like int32; the bias bound (MaxLinearBias) keeps every
/// partial sum of a legal layer inside int32, so the result is exact. Datapath registers
/// only, not reset: the accumulator is loaded before it is used and the drain register is
/// written before it is read.
module esact_gemm_pe (
  input  logic                                clk_i,
  input  logic [esact_pkg::INT8_W-1:0]        x_i,      ///< int8 activation (row broadcast)
  input  logic [esact_pkg::INT8_W-1:0]        w_i,      ///< int8 weight (column broadcast)
  input  logic [esact_pkg::GEMM_ACC_W-1:0]    bias_i,   ///< int32 bias of the column
  input  logic                                load_i,
  input  logic                                mac_i,
  input  logic                                drain_i,
  output logic [esact_pkg::GEMM_ACC_W-1:0]    drain_o   ///< finished int32 sum
);

  localparam int unsigned DataW = esact_pkg::INT8_W;
  localparam int unsigned AccW  = esact_pkg::GEMM_ACC_W;
  localparam int unsigned ProdW = 2 * DataW;

  logic signed [DataW-1:0] x_s, w_s;
  logic signed [ProdW-1:0] prod;
  logic [AccW-1:0]         sum;
  logic [AccW-1:0]         acc_d, acc_q, drain_d, drain_q;

  assign x_s  = x_i;
  assign w_s  = w_i;
  assign prod = ProdW'(x_s) * ProdW'(w_s);  // 16-bit signed: |x * w| <= 2^14
  assign sum  = acc_q + AccW'(prod);        // sign-extended

  always_comb begin
    acc_d   = acc_q;
    drain_d = drain_q;
    if (load_i) begin
      acc_d = bias_i;
    end else if (mac_i) begin
      acc_d = sum;
    end
    if (drain_i) begin
      drain_d = sum;
    end
  end

  always_ff @(posedge clk_i) begin
    acc_q   <= acc_d;
    drain_q <= drain_d;
  end

  assign drain_o = drain_q;

endmodule
