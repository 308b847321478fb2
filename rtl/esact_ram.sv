// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// On-chip buffer of esact_top: Words words of Width bits, one write port and Reads
/// synchronous read ports (1 or 2). A read enabled in cycle t presents mem[addr] on its
/// rd_data_o from cycle t+1 and holds it until the port's next enabled read, so the
/// reader may take the word whenever it likes (esact_rowsrc relies on this).
///
/// The array is not reset (every buffer is written before it is read: the loader fills
/// the weight buffers, the engines write the activations before the next phase reads
/// them). A write and a read of the same word in one cycle return the old word.
/// Without a memory library Yosys builds flip-flops; an ASIC flow maps each instance to
/// an SRAM macro of the same shape (2 read ports: the X buffer only, see esact_top).
`include "esact_assert.svh"

module esact_ram #(
  parameter  int unsigned Words = 16,  ///< depth, >= 2
  parameter  int unsigned Width = 8,   ///< bits per word, >= 1
  parameter  int unsigned Reads = 1,   ///< read ports, 1..2
  parameter  int unsigned AddrW = $clog2(Words)  ///< address width, 2^AddrW >= Words
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   wr_en_i,
  input  logic [AddrW-1:0]       wr_addr_i,
  input  logic [Width-1:0]       wr_data_i,
  input  logic [Reads-1:0]       rd_en_i,
  input  logic [Reads*AddrW-1:0] rd_addr_i,   ///< port p at [AddrW*p +: AddrW]
  output logic [Reads*Width-1:0] rd_data_o    ///< port p at [Width*p +: Width]
);

  `ESACT_ASSERT_INIT(WordsLegal_A, Words >= 2)
  `ESACT_ASSERT_INIT(ReadsLegal_A, Reads >= 1 && Reads <= 2)
  `ESACT_ASSERT_INIT(AddrWLegal_A, AddrW >= $clog2(Words) && AddrW <= 31)

  localparam int unsigned IW = ($clog2(Words) > 1) ? $clog2(Words) : 1;  // index bits
  logic [Width-1:0] mem_q [Words];

  always_ff @(posedge clk_i) begin
    if (wr_en_i) mem_q[wr_addr_i[IW-1:0]] <= wr_data_i;
  end

  for (genvar p = 0; p < Reads; p++) begin : g_rd
    logic [Width-1:0] q_q;
    always_ff @(posedge clk_i) begin
      if (rd_en_i[p]) q_q <= mem_q[rd_addr_i[AddrW*p +: IW]];
    end
    assign rd_data_o[Width*p +: Width] = q_q;
    `ESACT_ASSERT(RdAddrInRange_A, rd_en_i[p] |->
                  {1'b0, rd_addr_i[AddrW*p +: AddrW]} < (AddrW+1)'(Words))
  end

  // Address bits above the index are checked to be 0 by the range assertions.
  if (AddrW > IW) begin : g_unused_hi
    logic unused_hi;
    assign unused_hi = ^{wr_addr_i[AddrW-1:IW]};
  end

  `ESACT_ASSERT(WrAddrInRange_A, wr_en_i |-> {1'b0, wr_addr_i} < (AddrW+1)'(Words))

endmodule
