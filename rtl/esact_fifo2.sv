// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Two-entry FIFO with registered status: the buffer behind a valid/ready stream that
/// keeps full throughput without a combinational path from the consumer's ready to the
/// producer's ready (esact_dma uses it for R, W and the AW burst lengths).
///
/// Interface: push and pop enables, qualified by the caller. push_i writes data_i and is
/// legal only when !full_o; pop_i drops the head and is legal only when !empty_o. Both in
/// one cycle are allowed. data_o is the head, meaningful while !empty_o. full_o and empty_o are
/// functions of registered state only, so a stream wrapper is ready_o = !full_o,
/// valid_o = !empty_o.
///
/// Reset: asynchronous, active low, of the entry count. The data registers are reset to
/// 0 only when ResetData is set; otherwise they stay unreset (nothing reads them before
/// they are written).
`include "esact_assert.svh"

module esact_fifo2 #(
  parameter int unsigned Width     = 8,    ///< bits per entry (>= 1)
  parameter bit          ResetData = 1'b0  ///< reset the data registers to 0
) (
  input  logic             clk_i,
  input  logic             rst_ni,

  input  logic             push_i,   ///< write data_i (only when !full_o)
  input  logic [Width-1:0] data_i,
  input  logic             pop_i,    ///< drop the head (only when !empty_o)
  output logic [Width-1:0] data_o,   ///< head entry, meaningful while !empty_o
  output logic             full_o,   ///< two entries held
  output logic             empty_o   ///< no entry held
);

  `ESACT_ASSERT_INIT(WidthLegal_A, Width >= 1)

  logic [1:0]       cnt_q, cnt_d;
  logic [Width-1:0] head_q, head_d;
  logic [Width-1:0] tail_q, tail_d;

  always_comb begin
    cnt_d  = cnt_q + (push_i ? 2'd1 : 2'd0) - (pop_i ? 2'd1 : 2'd0);
    head_d = head_q;
    tail_d = tail_q;
    if (pop_i) begin
      // Pop: the tail moves up, or the entry pushed now goes straight to the head.
      if (cnt_q == 2'd2) head_d = tail_q;
      else if (push_i) head_d = data_i;
    end else if (push_i) begin
      if (cnt_q == 2'd0) head_d = data_i;
      else tail_d = data_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '0;
    end else begin
      cnt_q <= cnt_d;
    end
  end

  if (ResetData) begin : g_data_rst
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        head_q <= '0;
        tail_q <= '0;
      end else begin
        head_q <= head_d;
        tail_q <= tail_d;
      end
    end
  end else begin : g_data_norst
    always_ff @(posedge clk_i) begin
      head_q <= head_d;
      tail_q <= tail_d;
    end
  end

  assign data_o  = head_q;
  assign full_o  = cnt_q == 2'd2;
  assign empty_o = cnt_q == 2'd0;

`ifndef SYNTHESIS
  `ESACT_ASSERT(PushNotFull_A, push_i |-> !full_o)
  `ESACT_ASSERT(PopNotEmpty_A, pop_i |-> !empty_o)
  `ESACT_ASSERT(CntLegal_A, cnt_q <= 2'd2)
  `ESACT_ASSERT(StatusKnown_A, !$isunknown({full_o, empty_o}))
`endif  // SYNTHESIS

endmodule
