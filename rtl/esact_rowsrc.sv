// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Row-list stream source of esact_top: reads the listed rows of an esact_ram buffer and
/// sends them as a valid/ready stream, Group words per beat at most.
///
/// start_i samples the configuration and drops whatever is still buffered from a previous
/// run. Then, for each row r set in cfg_list_i, ascending, the unit reads the cfg_words_i
/// words at cfg_base_i + r * cfg_stride_i + w (w = 0 .. words-1) and sends them in beats of
/// cfg_group_i words (word g of a beat at data_o[WordW*g +: WordW]; words >= group are
/// left over from earlier beats and meaningless). row_o is r, last_o marks the row's last
/// beat, side_o the side word read with the beat's last word (rd_side_i: the caller reads a
/// second memory at rd_row_o in the same cycle, e.g. the SPA mask of a Q row). A stride of
/// 0 repeats one region once per set bit (the GEMM weights, once per row tile). After the
/// last row the unit stays quiet until the next start_i.
///
/// Reads are issued while the two-entry output buffer has room for the word in flight, so
/// the stream runs at one word per cycle (one beat per group words) under any back-pressure.
/// The read port must return the word one cycle after rd_en_o (esact_ram).
`include "esact_assert.svh"

module esact_rowsrc #(
  parameter  int unsigned NMax  = 16,  ///< rows in the list, >= 2
  parameter  int unsigned AddrW = 8,   ///< buffer word address width, >= 1
  parameter  int unsigned WordW = 64,  ///< bits per buffer word
  parameter  int unsigned Group = 1,   ///< largest number of words per beat, >= 1
  parameter  int unsigned SideW = 1,   ///< side word width, >= 1
  localparam int unsigned IdxW  = ($clog2(NMax) > 1) ? $clog2(NMax) : 1,
  localparam int unsigned GW    = $clog2(Group + 1)
) (
  input  logic                   clk_i,
  input  logic                   rst_ni,
  input  logic                   start_i,
  input  logic [NMax-1:0]        cfg_list_i,    ///< rows to send
  input  logic [AddrW-1:0]       cfg_base_i,    ///< word address of row 0, word 0
  input  logic [AddrW-1:0]       cfg_stride_i,  ///< words from one row to the next
  input  logic [AddrW:0]         cfg_words_i,   ///< words per row, >= 1, a multiple of group
  input  logic [GW-1:0]          cfg_group_i,   ///< words per beat, 1..Group
  output logic                   rd_en_o,
  output logic [AddrW-1:0]       rd_addr_o,
  output logic [IdxW-1:0]        rd_row_o,
  input  logic [WordW-1:0]       rd_data_i,
  input  logic [SideW-1:0]       rd_side_i,
  output logic                   valid_o,
  input  logic                   ready_i,
  output logic [Group*WordW-1:0] data_o,
  output logic [SideW-1:0]       side_o,
  output logic [IdxW-1:0]        row_o,
  output logic                   last_o
);

  `ESACT_ASSERT_INIT(NMaxLegal_A, NMax >= 2)
  `ESACT_ASSERT_INIT(GroupLegal_A, Group >= 1)

  // One buffered word: {side, row, last word of its row, last word of its beat, data}.
  localparam int unsigned EntW = SideW + IdxW + 2 + WordW;

  logic             active_q;
  logic [NMax-1:0]  rem_q, rem_d;
  logic [AddrW:0]   wc_q, wc_d;       // word of the current row
  logic [GW-1:0]    gi_q, gi_d;       // word of the current beat, issue side
  logic [AddrW-1:0] base_q, stride_q;
  logic [AddrW:0]   words_q;
  logic [GW-1:0]    group_q;

  // Lowest remaining row.
  logic [IdxW-1:0] row;
  always_comb begin
    row = '0;
    for (int r = NMax - 1; r >= 0; r--) begin
      if (rem_q[r]) row = IdxW'(r);
    end
  end

  // Output buffer: two entries, head at index 0.
  logic [EntW-1:0] ent0_q, ent1_q;
  logic [1:0]      cnt_q, cnt_d;
  logic            fly_q;             // a read returns this cycle
  logic [IdxW+1:0] fly_meta_q;        // {row, row last, beat last} of that read
  logic [GW-1:0]   ga_q, ga_d;        // words of the head beat already assembled
  logic [Group*WordW-1:0] asm_q;

  logic [EntW-1:0] head;
  logic            head_glast;
  assign head       = ent0_q;
  assign head_glast = head[WordW];

  logic pop, push, issue, row_last, beat_last;
  assign pop       = (cnt_q != 2'd0) && (!head_glast || ready_i);
  assign push      = fly_q;
  assign issue     = active_q && (|rem_q) &&
                     ({1'b0, cnt_q} + {2'b0, fly_q} - {2'b0, pop} <= 3'd1);
  assign row_last  = (wc_q == words_q - 1'b1);
  assign beat_last = (gi_q == group_q - 1'b1);

  assign rd_en_o   = issue;
  assign rd_row_o  = row;
  assign rd_addr_o = base_q + AddrW'(row * stride_q) + AddrW'(wc_q);

  always_comb begin
    rem_d = rem_q;
    wc_d  = wc_q;
    gi_d  = gi_q;
    if (issue) begin
      wc_d = row_last ? '0 : wc_q + 1'b1;
      gi_d = beat_last ? '0 : gi_q + 1'b1;
      if (row_last) rem_d[row] = 1'b0;
    end
    cnt_d = cnt_q + {1'b0, push} - {1'b0, pop};
    ga_d  = ga_q;
    if (pop) ga_d = head_glast ? '0 : ga_q + 1'b1;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q   <= 1'b0;
      rem_q      <= '0;
      wc_q       <= '0;
      gi_q       <= '0;
      cnt_q      <= '0;
      fly_q      <= 1'b0;
      fly_meta_q <= '0;
      ga_q       <= '0;
      base_q     <= '0;
      stride_q   <= '0;
      words_q    <= '0;
      group_q    <= '0;
    end else if (start_i) begin
      active_q   <= 1'b1;
      rem_q      <= cfg_list_i;
      wc_q       <= '0;
      gi_q       <= '0;
      cnt_q      <= '0;
      fly_q      <= 1'b0;
      ga_q       <= '0;
      base_q     <= cfg_base_i;
      stride_q   <= cfg_stride_i;
      words_q    <= cfg_words_i;
      group_q    <= cfg_group_i;
    end else begin
      rem_q      <= rem_d;
      wc_q       <= wc_d;
      gi_q       <= gi_d;
      cnt_q      <= cnt_d;
      fly_q      <= issue;
      fly_meta_q <= {row, row_last, beat_last};
      ga_q       <= ga_d;
    end
  end

  // Datapath registers, not reset: read only behind cnt_q and ga_q.
  logic [EntW-1:0] new_ent;
  assign new_ent = {rd_side_i, fly_meta_q, rd_data_i};
  always_ff @(posedge clk_i) begin
    if (pop) begin
      ent0_q <= (cnt_q == 2'd2) ? ent1_q : new_ent;
      if (cnt_q == 2'd2 && push) ent1_q <= new_ent;
    end else if (push) begin
      if (cnt_q == 2'd0) ent0_q <= new_ent;
      else ent1_q <= new_ent;
    end
    if (pop && !head_glast) asm_q[WordW*ga_q +: WordW] <= head[WordW-1:0];
  end

  always_comb begin
    data_o = asm_q;
    data_o[WordW*ga_q +: WordW] = head[WordW-1:0];
  end
  assign valid_o = (cnt_q != 2'd0) && head_glast;
  assign side_o  = head[EntW-1 -: SideW];
  assign row_o   = head[WordW+2 +: IdxW];
  assign last_o  = head[WordW+1];

  `ESACT_ASSERT(PushFits_A, push |-> (cnt_q != 2'd2 || pop))
  `ESACT_ASSERT(ValidHeld_A, valid_o && !ready_i && !start_i |=> valid_o && $stable(data_o))
  `ESACT_ASSERT(GroupInRange_A, start_i |-> cfg_group_i >= 1 && cfg_group_i <= GW'(Group))

endmodule
