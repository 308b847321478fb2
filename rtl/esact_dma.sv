// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// AXI4 master DMA of ESACT: two independent engines that move DataW/8-aligned regions
/// between external memory and valid/ready streams (docs/architecture.md, "esact_dma").
///
/// Read engine: a command (rd_cmd_addr_i, rd_cmd_len_i: byte address and byte length) is
/// accepted when rd_cmd_ready_o (the engine is idle). The region is read with INCR bursts
/// (ARBURST 01, ARSIZE log2(DataW/8), ARLEN <= MaxBurst-1, never crossing a 4 KiB
/// boundary), at most 2 bursts outstanding, and streamed out in address order on rd_*_o
/// with rd_last_o on the region's final beat. rd_done_o pulses one cycle after that beat
/// is accepted; rd_err_o pulses with it when any beat answered RRESP != OKAY (the beats
/// are still streamed, their data is what the slave returned).
///
/// Write engine: a command (wr_cmd_addr_i, wr_cmd_len_i) plus exactly len/(DataW/8) beats
/// on wr_*_i. AW bursts follow the same rules; W beats carry WSTRB all ones and WLAST on
/// each burst's last beat; at most 2 bursts wait for their B. wr_done_o pulses one cycle
/// after the last B; wr_err_o with it when any BRESP != OKAY.
///
/// Illegal command (address or length not a multiple of DataW/8, zero length, or a
/// region past the top of the address space): accepted, nothing is issued and no stream
/// beat moves; done and err pulse together in the next cycle.
///
/// Stall counters (CntW bits, wrapping, reset to 0): cycles in which a valid waits on its
/// ready, per channel: AR and AW and W (this master waits on the slave), R (the slave's
/// R waits on this master, i.e. on the read stream sink), B (always 0: BREADY is high).
///
/// All AXI IDs are 0 (in-order). No combinational path from an input to an output: R and
/// W go through two-entry buffers (full throughput), every AXI output is registered
/// state or a function of registered state.
///
/// Reset: asynchronous, active low, of all control state; the data buffers are not reset
/// (nothing reads them before they are written).
`include "esact_assert.svh"

module esact_dma #(
  parameter int unsigned AddrW    = 32,  ///< AXI address width (>= 12)
  parameter int unsigned DataW    = 64,  ///< AXI data width: power of two, 32..1024
  parameter int unsigned MaxBurst = 16,  ///< beats per burst: 1..256, MaxBurst*DataW/8 <= 4096
  parameter int unsigned IdW      = 1,   ///< AXI ID width (IDs driven 0)
  parameter int unsigned CntW     = 32   ///< stall counter width
) (
  input  logic                clk_i,
  input  logic                rst_ni,

  // Read engine: command, data stream out, status
  input  logic                rd_cmd_valid_i,
  output logic                rd_cmd_ready_o,
  input  logic [AddrW-1:0]    rd_cmd_addr_i,
  input  logic [AddrW-1:0]    rd_cmd_len_i,
  output logic                rd_valid_o,
  input  logic                rd_ready_i,
  output logic [DataW-1:0]    rd_data_o,
  output logic                rd_last_o,
  output logic                rd_busy_o,
  output logic                rd_done_o,   ///< pulse: command finished
  output logic                rd_err_o,    ///< pulse with rd_done_o: illegal or RRESP error

  // Write engine: command, data stream in, status
  input  logic                wr_cmd_valid_i,
  output logic                wr_cmd_ready_o,
  input  logic [AddrW-1:0]    wr_cmd_addr_i,
  input  logic [AddrW-1:0]    wr_cmd_len_i,
  input  logic                wr_valid_i,
  output logic                wr_ready_o,
  input  logic [DataW-1:0]    wr_data_i,
  output logic                wr_busy_o,
  output logic                wr_done_o,   ///< pulse: last B received
  output logic                wr_err_o,    ///< pulse with wr_done_o: illegal or BRESP error

  // AXI4 master: read address, read data
  output logic                m_arvalid_o,
  input  logic                m_arready_i,
  output logic [IdW-1:0]      m_arid_o,
  output logic [AddrW-1:0]    m_araddr_o,
  output logic [7:0]          m_arlen_o,
  output logic [2:0]          m_arsize_o,
  output logic [1:0]          m_arburst_o,
  input  logic                m_rvalid_i,
  output logic                m_rready_o,
  input  logic [IdW-1:0]      m_rid_i,
  input  logic [DataW-1:0]    m_rdata_i,
  input  logic [1:0]          m_rresp_i,
  input  logic                m_rlast_i,

  // AXI4 master: write address, write data, write response
  output logic                m_awvalid_o,
  input  logic                m_awready_i,
  output logic [IdW-1:0]      m_awid_o,
  output logic [AddrW-1:0]    m_awaddr_o,
  output logic [7:0]          m_awlen_o,
  output logic [2:0]          m_awsize_o,
  output logic [1:0]          m_awburst_o,
  output logic                m_wvalid_o,
  input  logic                m_wready_i,
  output logic [DataW-1:0]    m_wdata_o,
  output logic [DataW/8-1:0]  m_wstrb_o,
  output logic                m_wlast_o,
  input  logic                m_bvalid_i,
  output logic                m_bready_o,
  input  logic [IdW-1:0]      m_bid_i,
  input  logic [1:0]          m_bresp_i,

  // Stall counters: cycles a valid waited on its ready
  output logic [CntW-1:0]     stall_ar_o,
  output logic [CntW-1:0]     stall_r_o,
  output logic [CntW-1:0]     stall_aw_o,
  output logic [CntW-1:0]     stall_w_o,
  output logic [CntW-1:0]     stall_b_o
);

  localparam int unsigned NB   = DataW / 8;        // bytes per beat
  localparam int unsigned S    = $clog2(NB);       // log2 bytes per beat
  localparam int unsigned BeatW = AddrW - S;       // beats of a region
  localparam int unsigned NW   = 9;                // beats of one burst, 1..256
  localparam logic [1:0] BurstIncr = 2'b01;
  localparam logic [1:0] RespOkay = 2'b00;
  localparam logic [NW-1:0] MaxBurstN = NW'(MaxBurst);

  `ESACT_ASSERT_INIT(AddrWLegal_A, AddrW >= 12 && AddrW <= 64)
  `ESACT_ASSERT_INIT(DataWLegal_A, DataW >= 32 && DataW <= 1024 && (1 << $clog2(DataW)) == DataW)
  `ESACT_ASSERT_INIT(MaxBurstLegal_A, MaxBurst >= 1 && MaxBurst <= 256 && MaxBurst * (DataW / 8) <= 4096)
  `ESACT_ASSERT_INIT(IdWLegal_A, IdW >= 1)
  `ESACT_ASSERT_INIT(CntWLegal_A, CntW >= 1 && CntW <= 64)

  // Beats of the next burst: the beats left, at most MaxBurst, and not past the 4 KiB
  // boundary above the address (addr_4k: its offset in its 4 KiB page).
  function automatic logic [NW-1:0] burst_beats(input logic [11:0] addr_4k,
                                                input logic [BeatW-1:0] left);
    logic [12:0] to_4k;   // bytes to the boundary, 1..4096
    logic [NW-1:0] n;
    to_4k = 13'd4096 - {1'b0, addr_4k};
    n = (to_4k >> S) > 13'(MaxBurst) ? MaxBurstN : NW'(to_4k >> S);
    if (left < BeatW'(n)) n = NW'(left);
    burst_beats = n;
  endfunction

  // A command is legal when aligned, non-empty and within the address space.
  function automatic logic cmd_legal(input logic [AddrW-1:0] addr, input logic [AddrW-1:0] len);
    logic [AddrW:0] end_addr;
    end_addr = {1'b0, addr} + {1'b0, len};
    cmd_legal = addr[S-1:0] == '0 && len[S-1:0] == '0 && len != '0 &&
                !(end_addr[AddrW] && end_addr[AddrW-1:0] != '0);
  endfunction

  // ==== Read engine ========================================================================

  logic                rd_busy_q, rd_busy_d;
  logic                rd_done_q, rd_done_d;
  logic                rd_errp_q, rd_errp_d;     // error pulse
  logic                rd_err_q, rd_err_d;       // sticky RRESP error of the command
  logic [AddrW-1:0]    ar_next_q, ar_next_d;     // address of the next burst
  logic [BeatW-1:0]    ar_left_q, ar_left_d;     // beats not yet requested
  logic [BeatW-1:0]    r_left_q, r_left_d;       // beats not yet received
  logic [1:0]          ar_out_q, ar_out_d;       // bursts accepted on AR, RLAST not seen
  logic                arvalid_q, arvalid_d;
  logic [AddrW-1:0]    araddr_q, araddr_d;
  logic [7:0]          arlen_q, arlen_d;
  // R buffer: two entries, head is the stream output.
  logic                rb_full, rb_empty;
  logic [DataW:0]      rb_head;                  // {last, data}

  logic rd_cmd_hs, ar_hs, r_hs, rs_hs, rd_legal;
  logic [NW-1:0] ar_n;
  assign rd_cmd_ready_o = !rd_busy_q && !rd_done_q;
  assign rd_cmd_hs = rd_cmd_valid_i && rd_cmd_ready_o;
  assign rd_legal  = cmd_legal(rd_cmd_addr_i, rd_cmd_len_i);
  assign ar_hs     = arvalid_q && m_arready_i;
  assign m_rready_o = !rb_full;
  assign r_hs      = m_rvalid_i && m_rready_o;
  assign rd_valid_o = !rb_empty;
  assign rs_hs     = rd_valid_o && rd_ready_i;
  assign ar_n      = burst_beats(ar_next_q[11:0], ar_left_q);

  always_comb begin
    rd_busy_d = rd_busy_q;
    rd_done_d = 1'b0;
    rd_errp_d = 1'b0;
    rd_err_d  = rd_err_q;
    ar_next_d = ar_next_q;
    ar_left_d = ar_left_q;
    r_left_d  = r_left_q;
    ar_out_d  = ar_out_q;
    arvalid_d = arvalid_q;
    araddr_d  = araddr_q;
    arlen_d   = arlen_q;
    if (rd_cmd_hs) begin
      if (rd_legal) begin
        rd_busy_d = 1'b1;
        rd_err_d  = 1'b0;
        ar_next_d = rd_cmd_addr_i;
        ar_left_d = rd_cmd_len_i[AddrW-1:S];
        r_left_d  = rd_cmd_len_i[AddrW-1:S];
      end else begin
        rd_done_d = 1'b1;
        rd_errp_d = 1'b1;
      end
    end
    if (ar_hs) arvalid_d = 1'b0;
    // A new burst once the previous address is accepted and fewer than 2 are in flight.
    if (rd_busy_q && !arvalid_q && ar_left_q != '0 && ar_out_q != 2'd2) begin
      arvalid_d = 1'b1;
      araddr_d  = ar_next_q;
      arlen_d   = 8'(ar_n - NW'(1));
      ar_next_d = ar_next_q + (AddrW'(ar_n) << S);
      ar_left_d = ar_left_q - BeatW'(ar_n);
    end
    ar_out_d = ar_out_q + (ar_hs ? 2'd1 : 2'd0) - ((r_hs && m_rlast_i) ? 2'd1 : 2'd0);
    if (r_hs) begin
      r_left_d = r_left_q - BeatW'(1);
      if (m_rresp_i != RespOkay) rd_err_d = 1'b1;
    end
    // The region's last beat leaves on the stream.
    if (rs_hs && rb_head[DataW]) begin
      rd_busy_d = 1'b0;
      rd_done_d = 1'b1;
      rd_errp_d = rd_err_q;
    end
  end

  // R buffer: R beats in (with the region's last-beat flag), the read stream out.
  esact_fifo2 #(
    .Width    (DataW + 1),
    .ResetData(1'b0)
  ) u_rb (
    .clk_i,
    .rst_ni,
    .push_i (r_hs),
    .data_i ({r_left_q == BeatW'(1), m_rdata_i}),
    .pop_i  (rs_hs),
    .data_o (rb_head),
    .full_o (rb_full),
    .empty_o(rb_empty)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_busy_q <= 1'b0;
      rd_done_q <= 1'b0;
      rd_errp_q <= 1'b0;
      rd_err_q  <= 1'b0;
      ar_next_q <= '0;
      ar_left_q <= '0;
      r_left_q  <= '0;
      ar_out_q  <= '0;
      arvalid_q <= 1'b0;
      araddr_q  <= '0;
      arlen_q   <= '0;
    end else begin
      rd_busy_q <= rd_busy_d;
      rd_done_q <= rd_done_d;
      rd_errp_q <= rd_errp_d;
      rd_err_q  <= rd_err_d;
      ar_next_q <= ar_next_d;
      ar_left_q <= ar_left_d;
      r_left_q  <= r_left_d;
      ar_out_q  <= ar_out_d;
      arvalid_q <= arvalid_d;
      araddr_q  <= araddr_d;
      arlen_q   <= arlen_d;
    end
  end

  assign rd_data_o   = rb_head[DataW-1:0];
  assign rd_last_o   = rb_head[DataW];
  assign rd_busy_o   = rd_busy_q;
  assign rd_done_o   = rd_done_q;
  assign rd_err_o    = rd_errp_q;
  assign m_arvalid_o = arvalid_q;
  assign m_arid_o    = '0;
  assign m_araddr_o  = araddr_q;
  assign m_arlen_o   = arlen_q;
  assign m_arsize_o  = 3'(S);
  assign m_arburst_o = BurstIncr;

  // ==== Write engine =======================================================================

  logic                wr_busy_q, wr_busy_d;
  logic                wr_done_q, wr_done_d;
  logic                wr_errp_q, wr_errp_d;
  logic                wr_err_q, wr_err_d;
  logic [AddrW-1:0]    aw_next_q, aw_next_d;
  logic [BeatW-1:0]    aw_left_q, aw_left_d;     // beats not yet announced on AW
  logic [BeatW-1:0]    in_left_q, in_left_d;     // beats not yet taken from the stream
  logic [1:0]          b_pend_q, b_pend_d;       // bursts raised on AW whose B is pending
  logic                awvalid_q, awvalid_d;
  logic [AddrW-1:0]    awaddr_q, awaddr_d;
  logic [7:0]          awlen_q, awlen_d;
  // Burst lengths raised on AW, waiting for their W beats (two entries).
  logic                wl_full, wl_empty;
  logic [7:0]          wl_head;
  // The W burst being sent.
  logic                w_act_q, w_act_d;
  logic [7:0]          w_len_q, w_len_d;
  logic [7:0]          w_beat_q, w_beat_d;
  // W buffer: two entries, head drives WDATA.
  logic                wb_full, wb_empty;
  logic [DataW-1:0]    wb_head;

  logic wr_cmd_hs, aw_hs, w_hs, b_hs, ws_hs, wr_legal, aw_raise, wl_pop;
  logic [NW-1:0] aw_n;
  assign wr_cmd_ready_o = !wr_busy_q && !wr_done_q;
  assign wr_cmd_hs = wr_cmd_valid_i && wr_cmd_ready_o;
  assign wr_legal  = cmd_legal(wr_cmd_addr_i, wr_cmd_len_i);
  assign aw_hs     = awvalid_q && m_awready_i;
  assign m_wvalid_o = w_act_q && !wb_empty;
  assign w_hs      = m_wvalid_o && m_wready_i;
  assign m_bready_o = 1'b1;
  assign b_hs      = m_bvalid_i && m_bready_o;
  assign wr_ready_o = wr_busy_q && in_left_q != '0 && !wb_full;
  assign ws_hs     = wr_valid_i && wr_ready_o;
  assign aw_n      = burst_beats(aw_next_q[11:0], aw_left_q);
  assign aw_raise  = wr_busy_q && !awvalid_q && aw_left_q != '0 && b_pend_q != 2'd2;
  assign wl_pop    = !w_act_q && !wl_empty;

  always_comb begin
    wr_busy_d = wr_busy_q;
    wr_done_d = 1'b0;
    wr_errp_d = 1'b0;
    wr_err_d  = wr_err_q;
    aw_next_d = aw_next_q;
    aw_left_d = aw_left_q;
    in_left_d = in_left_q;
    awvalid_d = awvalid_q;
    awaddr_d  = awaddr_q;
    awlen_d   = awlen_q;
    w_act_d   = w_act_q;
    w_len_d   = w_len_q;
    w_beat_d  = w_beat_q;
    if (wr_cmd_hs) begin
      if (wr_legal) begin
        wr_busy_d = 1'b1;
        wr_err_d  = 1'b0;
        aw_next_d = wr_cmd_addr_i;
        aw_left_d = wr_cmd_len_i[AddrW-1:S];
        in_left_d = wr_cmd_len_i[AddrW-1:S];
      end else begin
        wr_done_d = 1'b1;
        wr_errp_d = 1'b1;
      end
    end
    if (aw_hs) awvalid_d = 1'b0;
    if (aw_raise) begin
      awvalid_d = 1'b1;
      awaddr_d  = aw_next_q;
      awlen_d   = 8'(aw_n - NW'(1));
      aw_next_d = aw_next_q + (AddrW'(aw_n) << S);
      aw_left_d = aw_left_q - BeatW'(aw_n);
    end
    if (ws_hs) in_left_d = in_left_q - BeatW'(1);
    // W bursts, in AW order.
    if (wl_pop) begin
      w_act_d  = 1'b1;
      w_len_d  = wl_head;
      w_beat_d = '0;
    end
    if (w_hs) begin
      w_beat_d = w_beat_q + 8'd1;
      if (w_beat_q == w_len_q) w_act_d = 1'b0;
    end
    if (b_hs) begin
      if (m_bresp_i != RespOkay) wr_err_d = 1'b1;
      // The last B of the command.
      if (b_pend_q == 2'd1 && aw_left_q == '0 && !aw_raise) begin
        wr_busy_d = 1'b0;
        wr_done_d = 1'b1;
        wr_errp_d = wr_err_q || m_bresp_i != RespOkay;
      end
    end
  end

  always_comb begin
    b_pend_d = b_pend_q + (aw_raise ? 2'd1 : 2'd0) - (b_hs ? 2'd1 : 2'd0);
  end

  // Burst-length queue: AWLEN of each burst raised on AW, popped when its W burst starts
  // (control state: reset). Never full on a raise: it holds at most b_pend_q entries.
  esact_fifo2 #(
    .Width    (8),
    .ResetData(1'b1)
  ) u_wl (
    .clk_i,
    .rst_ni,
    .push_i (aw_raise),
    .data_i (awlen_d),
    .pop_i  (wl_pop),
    .data_o (wl_head),
    .full_o (wl_full),
    .empty_o(wl_empty)
  );

  // W buffer: the write stream in, head drives WDATA.
  esact_fifo2 #(
    .Width    (DataW),
    .ResetData(1'b0)
  ) u_wb (
    .clk_i,
    .rst_ni,
    .push_i (ws_hs),
    .data_i (wr_data_i),
    .pop_i  (w_hs),
    .data_o (wb_head),
    .full_o (wb_full),
    .empty_o(wb_empty)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_busy_q <= 1'b0;
      wr_done_q <= 1'b0;
      wr_errp_q <= 1'b0;
      wr_err_q  <= 1'b0;
      aw_next_q <= '0;
      aw_left_q <= '0;
      in_left_q <= '0;
      b_pend_q  <= '0;
      awvalid_q <= 1'b0;
      awaddr_q  <= '0;
      awlen_q   <= '0;
      w_act_q   <= 1'b0;
      w_len_q   <= '0;
      w_beat_q  <= '0;
    end else begin
      wr_busy_q <= wr_busy_d;
      wr_done_q <= wr_done_d;
      wr_errp_q <= wr_errp_d;
      wr_err_q  <= wr_err_d;
      aw_next_q <= aw_next_d;
      aw_left_q <= aw_left_d;
      in_left_q <= in_left_d;
      b_pend_q  <= b_pend_d;
      awvalid_q <= awvalid_d;
      awaddr_q  <= awaddr_d;
      awlen_q   <= awlen_d;
      w_act_q   <= w_act_d;
      w_len_q   <= w_len_d;
      w_beat_q  <= w_beat_d;
    end
  end

  assign wr_busy_o   = wr_busy_q;
  assign wr_done_o   = wr_done_q;
  assign wr_err_o    = wr_errp_q;
  assign m_awvalid_o = awvalid_q;
  assign m_awid_o    = '0;
  assign m_awaddr_o  = awaddr_q;
  assign m_awlen_o   = awlen_q;
  assign m_awsize_o  = 3'(S);
  assign m_awburst_o = BurstIncr;
  assign m_wdata_o   = wb_head;
  assign m_wstrb_o   = '1;
  assign m_wlast_o   = w_beat_q == w_len_q;

  // ==== Stall counters =====================================================================

  logic [CntW-1:0] st_ar_q, st_r_q, st_aw_q, st_w_q, st_b_q;
  logic [CntW-1:0] st_ar_d, st_r_d, st_aw_d, st_w_d, st_b_d;
  always_comb begin
    st_ar_d = st_ar_q + CntW'(m_arvalid_o && !m_arready_i);
    st_r_d  = st_r_q + CntW'(m_rvalid_i && !m_rready_o);
    st_aw_d = st_aw_q + CntW'(m_awvalid_o && !m_awready_i);
    st_w_d  = st_w_q + CntW'(m_wvalid_o && !m_wready_i);
    st_b_d  = st_b_q + CntW'(m_bvalid_i && !m_bready_o);
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_ar_q <= '0;
      st_r_q  <= '0;
      st_aw_q <= '0;
      st_w_q  <= '0;
      st_b_q  <= '0;
    end else begin
      st_ar_q <= st_ar_d;
      st_r_q  <= st_r_d;
      st_aw_q <= st_aw_d;
      st_w_q  <= st_w_d;
      st_b_q  <= st_b_d;
    end
  end
  assign stall_ar_o = st_ar_q;
  assign stall_r_o  = st_r_q;
  assign stall_aw_o = st_aw_q;
  assign stall_w_o  = st_w_q;
  assign stall_b_o  = st_b_q;

  // IDs are all 0 (in order); the slave's IDs are only checked. The burst-length queue's
  // full flag is only checked (it cannot fill on a raise).
  logic unused_id;
  assign unused_id = ^{m_rid_i, m_bid_i, wl_full};

  // ==== Assertions =========================================================================

`ifndef SYNTHESIS
  // Shadow state for the checks: lengths of the read bursts accepted on AR (oldest first)
  // and the beat within the current R burst; W beats announced on AW and not yet sent;
  // AW handshakes and completed W bursts whose B has not come.
  logic [1:0]  sr_cnt_q;
  logic [7:0]  sr_len0_q, sr_len1_q, sr_beat_q;
  logic [9:0]  sw_ann_q;
  logic [1:0]  sb_aw_q, sb_w_q;
  logic [12:0] ar_end, aw_end;
  assign ar_end = {1'b0, m_araddr_o[11:0]} + ((13'(m_arlen_o) + 13'd1) << S);
  assign aw_end = {1'b0, m_awaddr_o[11:0]} + ((13'(m_awlen_o) + 13'd1) << S);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sr_cnt_q  <= '0;
      sr_len0_q <= '0;
      sr_len1_q <= '0;
      sr_beat_q <= '0;
      sw_ann_q  <= '0;
      sb_aw_q   <= '0;
      sb_w_q    <= '0;
    end else begin
      if (r_hs && m_rlast_i) begin
        sr_len0_q <= (sr_cnt_q == 2'd2) ? sr_len1_q : m_arlen_o;
        if (ar_hs && sr_cnt_q == 2'd2) sr_len1_q <= m_arlen_o;
      end else if (ar_hs) begin
        if (sr_cnt_q == 2'd0) sr_len0_q <= m_arlen_o;
        else sr_len1_q <= m_arlen_o;
      end
      sr_cnt_q  <= sr_cnt_q + 2'(ar_hs) - 2'(r_hs && m_rlast_i);
      sr_beat_q <= r_hs ? (m_rlast_i ? 8'd0 : sr_beat_q + 8'd1) : sr_beat_q;
      sw_ann_q  <= sw_ann_q + (aw_raise ? 10'(aw_n) : 10'd0) - 10'(w_hs);
      sb_aw_q   <= sb_aw_q + 2'(aw_hs) - 2'(b_hs);
      sb_w_q    <= sb_w_q + 2'(w_hs && m_wlast_o) - 2'(b_hs);
    end
  end

  // What this master drives: valid held until ready, payload stable while waiting.
  `ESACT_ASSERT(ArValidHeld_A, m_arvalid_o && !m_arready_i |=> m_arvalid_o)
  `ESACT_ASSERT(ArStable_A, m_arvalid_o && !m_arready_i |=>
                $stable({m_araddr_o, m_arlen_o, m_arsize_o, m_arburst_o, m_arid_o}))
  `ESACT_ASSERT(AwValidHeld_A, m_awvalid_o && !m_awready_i |=> m_awvalid_o)
  `ESACT_ASSERT(AwStable_A, m_awvalid_o && !m_awready_i |=>
                $stable({m_awaddr_o, m_awlen_o, m_awsize_o, m_awburst_o, m_awid_o}))
  `ESACT_ASSERT(WValidHeld_A, m_wvalid_o && !m_wready_i |=> m_wvalid_o)
  `ESACT_ASSERT(WStable_A, m_wvalid_o && !m_wready_i |=>
                $stable({m_wdata_o, m_wstrb_o, m_wlast_o}))
  // Burst rules: INCR, full-width beats, at most MaxBurst beats, never across 4 KiB.
  `ESACT_ASSERT(ArBurst_A, m_arvalid_o |-> m_arburst_o == BurstIncr && m_arsize_o == 3'(S) &&
                32'(m_arlen_o) < MaxBurst && m_araddr_o[S-1:0] == '0)
  `ESACT_ASSERT(AwBurst_A, m_awvalid_o |-> m_awburst_o == BurstIncr && m_awsize_o == 3'(S) &&
                32'(m_awlen_o) < MaxBurst && m_awaddr_o[S-1:0] == '0)
  `ESACT_ASSERT(Ar4k_A, m_arvalid_o |-> ar_end <= 13'd4096)
  `ESACT_ASSERT(Aw4k_A, m_awvalid_o |-> aw_end <= 13'd4096)
  // W: WLAST exactly on the last beat of the burst announced; never more beats than
  // announced; all strobes.
  `ESACT_ASSERT(WLastOnLen_A, m_wvalid_o |-> w_act_q && (m_wlast_o == (w_beat_q == w_len_q)))
  `ESACT_ASSERT(WAnnounced_A, m_wvalid_o |-> sw_ann_q != '0)
  `ESACT_ASSERT(WStrbFull_A, m_wvalid_o |-> &m_wstrb_o)
  `ESACT_ASSERT(ArOutstanding_A, ar_out_q <= 2'd2 && b_pend_q <= 2'd2)
  `ESACT_ASSERT(WlRoom_A, aw_raise |-> !wl_full)
  // The slave: R and B valid held and stable; R only for an accepted burst, RLAST on its
  // announced beat; B only after the burst's AW and WLAST; IDs 0.
  `ESACT_ASSERT(RValidHeld_A, m_rvalid_i && !m_rready_o |=> m_rvalid_i)
  `ESACT_ASSERT(RStable_A, m_rvalid_i && !m_rready_o |=>
                $stable({m_rdata_i, m_rresp_i, m_rlast_i, m_rid_i}))
  `ESACT_ASSERT(BValidHeld_A, m_bvalid_i && !m_bready_o |=> m_bvalid_i)
  `ESACT_ASSERT(BStable_A, m_bvalid_i && !m_bready_o |=> $stable({m_bresp_i, m_bid_i}))
  `ESACT_ASSERT(RForBurst_A, m_rvalid_i |-> sr_cnt_q != 2'd0 && m_rid_i == '0)
  `ESACT_ASSERT(RLastOnLen_A, m_rvalid_i |-> m_rlast_i == (sr_beat_q == sr_len0_q))
  `ESACT_ASSERT(BAfterAwAndW_A, m_bvalid_i |-> sb_aw_q != 2'd0 && sb_w_q != 2'd0 &&
                m_bid_i == '0)
  // Streams: valid held, data stable (this side and the other).
  `ESACT_ASSERT(RdStreamHeld_A, rd_valid_o && !rd_ready_i |=> rd_valid_o &&
                $stable({rd_data_o, rd_last_o}))
  `ESACT_ASSERT(WrStreamHeld_A, wr_valid_i && !wr_ready_o |=> wr_valid_i && $stable(wr_data_i))
  `ESACT_ASSERT(RdCmdHeld_A, rd_cmd_valid_i && !rd_cmd_ready_o |=> rd_cmd_valid_i &&
                $stable({rd_cmd_addr_i, rd_cmd_len_i}))
  `ESACT_ASSERT(WrCmdHeld_A, wr_cmd_valid_i && !wr_cmd_ready_o |=> wr_cmd_valid_i &&
                $stable({wr_cmd_addr_i, wr_cmd_len_i}))
  // Status: done pulses one cycle, err only with done.
  `ESACT_ASSERT(RdErrWithDone_A, rd_err_o |-> rd_done_o)
  `ESACT_ASSERT(WrErrWithDone_A, wr_err_o |-> wr_done_o)
  `ESACT_ASSERT(RdDonePulse_A, rd_done_o |=> !rd_done_o)
  `ESACT_ASSERT(WrDonePulse_A, wr_done_o |=> !wr_done_o)
  `ESACT_ASSERT(OutputsKnown_A, !$isunknown({m_arvalid_o, m_awvalid_o, m_wvalid_o, m_rready_o,
                m_bready_o, rd_valid_o, wr_ready_o, rd_cmd_ready_o, wr_cmd_ready_o,
                rd_done_o, wr_done_o, rd_err_o, wr_err_o}))
`endif  // SYNTHESIS

endmodule
