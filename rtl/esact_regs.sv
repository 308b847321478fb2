// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// AXI4-Lite register block of ESACT: the map of docs/register-map.md, whose single source
/// is rtl/esact_regmap.json (offsets, fields and resets come from the generated package
/// esact_regs_pkg, rtl/esact_regs_pkg.svh). esact_top instantiates it next to the layer
/// controller.
///
/// AXI4-Lite slave, 32-bit data, AddrW-bit byte addresses (the two low bits are ignored,
/// every access is one word). The five channels follow the AXI valid/ready rules:
///   - Write: AW and W are accepted independently, in either order or in the same cycle
///     (s_awready_o, s_wready_o are high while the slave holds no address, respectively
///     no data, and no write response is pending). The write takes effect on the clock
///     edge on which the second of the two is accepted (or both), and the response is
///     valid from the next cycle until the B handshake. One write is outstanding at a
///     time: AW and W are not accepted while a response waits.
///   - Read: s_arready_o = !s_rvalid_o; the data and response of an accepted address are
///     valid the next cycle and held until the R handshake. One read is outstanding.
///   - Responses: OKAY for a mapped offset. SLVERR for an offset no register occupies
///     (reads return 0) and for a write to a read-only register (ID, VERSION, IRQ, the
///     counters), which changes nothing. Writes to STATUS are OKAY (only its W1C bits act).
///   - WSTRB selects the bytes written in RW fields; a W1C or W1P bit acts only when its
///     byte is strobed. s_awprot_i and s_arprot_i are ignored.
///
/// Controller side: every RW configuration field is an output (the controller samples
/// them at start); a write of 1 to CTRL.START gives a start_o pulse of exactly one cycle,
/// forwarded whatever busy_i says (the controller reports a start while busy through
/// err_code). done_i and err_i are one-cycle event pulses that set the sticky STATUS.DONE
/// and STATUS.ERR (err_i also captures err_code_i); an event in the cycle of a clearing
/// write wins. irq_o = CTRL.IRQ_EN & STATUS.DONE, registered state only.
///
/// Counters: the controller drives cnt_i, 64 bits per counter at the map index
/// (esact_regs_pkg::CNT_<NAME>_IDX), so a counter is one JSON line. A read of a LO register
/// returns bits 31:0 and latches bits 63:32 of the same cycle into that counter's HI
/// snapshot, which the HI register returns: read LO, then HI, for a consistent value.
///
/// Reset: asynchronous, active low; every register takes its value of the map.
`include "esact_assert.svh"
`include "esact_regs_pkg.svh"

module esact_regs #(
  parameter int unsigned AddrW = 12  ///< AXI address width, REGS_ADDR_W_MIN..32
) (
  input  logic                clk_i,
  input  logic                rst_ni,

  // AXI4-Lite slave
  input  logic                s_awvalid_i,
  output logic                s_awready_o,
  input  logic [AddrW-1:0]    s_awaddr_i,
  input  logic [2:0]          s_awprot_i,
  input  logic                s_wvalid_i,
  output logic                s_wready_o,
  input  logic [31:0]         s_wdata_i,
  input  logic [3:0]          s_wstrb_i,
  output logic                s_bvalid_o,
  input  logic                s_bready_i,
  output logic [1:0]          s_bresp_o,
  input  logic                s_arvalid_i,
  output logic                s_arready_o,
  input  logic [AddrW-1:0]    s_araddr_i,
  input  logic [2:0]          s_arprot_i,
  output logic                s_rvalid_o,
  input  logic                s_rready_i,
  output logic [31:0]         s_rdata_o,
  output logic [1:0]          s_rresp_o,

  // Controller: control and status
  output logic                start_o,     ///< one-cycle pulse per write of CTRL.START = 1
  input  logic                busy_i,      ///< STATUS.BUSY
  input  logic                done_i,      ///< pulse: sets STATUS.DONE
  input  logic                err_i,       ///< pulse: sets STATUS.ERR, captures err_code_i
  input  logic [esact_regs_pkg::STATUS_ERR_CODE_W-1:0] err_code_i,
  output logic                irq_o,       ///< CTRL.IRQ_EN & STATUS.DONE

  // Controller: configuration (docs/register-map.md)
  output logic [esact_regs_pkg::N_TOKENS_VALUE_W-1:0] n_tokens_o,
  output logic [esact_regs_pkg::N_VALID_VALUE_W-1:0]  n_valid_o,
  output logic [esact_regs_pkg::D_MODEL_VALUE_W-1:0]  d_model_o,
  output logic [esact_regs_pkg::N_HEADS_VALUE_W-1:0]  n_heads_o,
  output logic [esact_regs_pkg::D_FF_VALUE_W-1:0]     d_ff_o,
  output logic [esact_regs_pkg::SPLS_EN_W-1:0]        spls_en_o,
  output logic [esact_regs_pkg::SPLS_HLOG_BITS_W-1:0] spls_hlog_bits_o,
  output logic [esact_regs_pkg::SPLS_ROUND_W-1:0]     spls_round_o,
  output logic [esact_regs_pkg::SPLS_FFN_POLICY_W-1:0] spls_ffn_policy_o,
  output logic [esact_regs_pkg::K_VALUE_W-1:0]        k_o,
  output logic [esact_regs_pkg::W_VALUE_W-1:0]        w_o,
  output logic [esact_regs_pkg::T_VALUE_W-1:0]        t_o,
  output logic [63:0]         x_addr_o,
  output logic [esact_regs_pkg::X_SIZE_VALUE_W-1:0]   x_size_o,
  output logic [63:0]         w_addr_o,
  output logic [esact_regs_pkg::W_SIZE_VALUE_W-1:0]   w_size_o,
  output logic [63:0]         y_addr_o,
  output logic [esact_regs_pkg::Y_SIZE_VALUE_W-1:0]   y_size_o,
  output logic [63:0]         dec_addr_o,
  output logic [esact_regs_pkg::DEC_SIZE_VALUE_W-1:0] dec_size_o,

  // Controller: performance counters (64 bits each)
  input  logic [64*esact_regs_pkg::CNT_NUM-1:0] cnt_i  ///< counter i at [64*i +: 64]
);

  localparam int unsigned CfgNum = esact_regs_pkg::CFG_NUM;
  localparam int unsigned CntNum = esact_regs_pkg::CNT_NUM;
  localparam logic [1:0] RespOkay = 2'b00;
  localparam logic [1:0] RespSlvErr = 2'b10;

  `ESACT_ASSERT_INIT(AddrWLegal_A, AddrW >= esact_regs_pkg::REGS_ADDR_W_MIN && AddrW <= 32)
  `ESACT_ASSERT_INIT(CfgTableLegal_A, CfgNum >= 1 && esact_regs_pkg::REGS_DATA_W == 32)


  // ---- State -----------------------------------------------------------------------------

  logic               aw_got_q, aw_got_d;    // an accepted write address waits for its data
  logic [AddrW-1:0]   awaddr_q, awaddr_d;
  logic               w_got_q, w_got_d;      // accepted write data waits for its address
  logic [31:0]        wdata_q, wdata_d;
  logic [3:0]         wstrb_q, wstrb_d;
  logic               bvalid_q, bvalid_d;
  logic [1:0]         bresp_q, bresp_d;
  logic               rvalid_q, rvalid_d;
  logic [31:0]        rdata_q, rdata_d;
  logic [1:0]         rresp_q, rresp_d;

  logic               start_q, start_d;
  logic               irq_en_q, irq_en_d;
  logic               done_q, done_d;
  logic               err_q, err_d;
  logic [esact_regs_pkg::STATUS_ERR_CODE_W-1:0] err_code_q, err_code_d;
  logic [CfgNum*32-1:0] cfg_q, cfg_d;
  logic [CntNum*32-1:0] hi_snap_q, hi_snap_d;  // HI halves latched by LO reads

  // ---- Handshakes ------------------------------------------------------------------------

  assign s_awready_o = !aw_got_q && !bvalid_q;
  assign s_wready_o  = !w_got_q && !bvalid_q;
  assign s_arready_o = !rvalid_q;

  logic aw_hs, w_hs, ar_hs, wr_fire;
  assign aw_hs = s_awvalid_i && s_awready_o;
  assign w_hs  = s_wvalid_i && s_wready_o;
  assign ar_hs = s_arvalid_i && s_arready_o;
  // The write happens once both its address and its data have been accepted.
  assign wr_fire = (aw_got_q || aw_hs) && (w_got_q || w_hs);

  logic [AddrW-1:0] wr_addr_raw;
  logic [31:0] wr_addr, rd_addr, wr_data, wr_bits;
  logic [3:0]  wr_strb;
  assign wr_addr_raw = aw_got_q ? awaddr_q : s_awaddr_i;
  assign wr_addr = 32'(wr_addr_raw) & ~32'h3;
  assign rd_addr = 32'(s_araddr_i) & ~32'h3;
  assign wr_data = w_got_q ? wdata_q : s_wdata_i;
  assign wr_strb = w_got_q ? wstrb_q : s_wstrb_i;
  // The written bits: byte lanes of WSTRB.
  assign wr_bits = {{8{wr_strb[3]}}, {8{wr_strb[2]}}, {8{wr_strb[1]}}, {8{wr_strb[0]}}};

  // ---- Read mux --------------------------------------------------------------------------

  // rd_map: the offset is a register; rd_val: its value (without snapshot side effects).
  logic        rd_map;
  logic [31:0] rd_val;
  logic [31:0] status_val;
  always_comb begin
    status_val = '0;
    status_val[esact_regs_pkg::STATUS_BUSY_LSB +: esact_regs_pkg::STATUS_BUSY_W] = busy_i;
    status_val[esact_regs_pkg::STATUS_DONE_LSB +: esact_regs_pkg::STATUS_DONE_W] = done_q;
    status_val[esact_regs_pkg::STATUS_ERR_LSB +: esact_regs_pkg::STATUS_ERR_W] = err_q;
    status_val[esact_regs_pkg::STATUS_ERR_CODE_LSB +: esact_regs_pkg::STATUS_ERR_CODE_W] =
        err_code_q;
  end

  always_comb begin
    rd_map = 1'b0;
    rd_val = '0;
    if (rd_addr == esact_regs_pkg::ID_OFFSET) begin
      rd_map = 1'b1;
      rd_val[esact_regs_pkg::ID_VALUE_LSB +: esact_regs_pkg::ID_VALUE_W] =
          esact_regs_pkg::ID_VALUE_RESET;
    end
    if (rd_addr == esact_regs_pkg::VERSION_OFFSET) begin
      rd_map = 1'b1;
      rd_val[esact_regs_pkg::VERSION_MINOR_LSB +: esact_regs_pkg::VERSION_MINOR_W] =
          esact_regs_pkg::VERSION_MINOR_RESET;
      rd_val[esact_regs_pkg::VERSION_MAJOR_LSB +: esact_regs_pkg::VERSION_MAJOR_W] =
          esact_regs_pkg::VERSION_MAJOR_RESET;
    end
    if (rd_addr == esact_regs_pkg::CTRL_OFFSET) begin
      rd_map = 1'b1;  // START reads 0
      rd_val[esact_regs_pkg::CTRL_IRQ_EN_LSB +: esact_regs_pkg::CTRL_IRQ_EN_W] = irq_en_q;
    end
    if (rd_addr == esact_regs_pkg::STATUS_OFFSET) begin
      rd_map = 1'b1;
      rd_val = status_val;
    end
    if (rd_addr == esact_regs_pkg::IRQ_OFFSET) begin
      rd_map = 1'b1;
      rd_val[esact_regs_pkg::IRQ_PENDING_LSB +: esact_regs_pkg::IRQ_PENDING_W] = irq_o;
    end
    for (int unsigned i = 0; i < CfgNum; i++) begin
      if (rd_addr == esact_regs_pkg::CFG_OFFSETS[32*i +: 32]) begin
        rd_map = 1'b1;
        rd_val = cfg_q[32*i +: 32];
      end
    end
    for (int unsigned i = 0; i < CntNum; i++) begin
      if (rd_addr == esact_regs_pkg::CNT_BASE + 32'(8 * i)) begin
        rd_map = 1'b1;
        rd_val = cnt_i[64*i +: 32];
      end
      if (rd_addr == esact_regs_pkg::CNT_BASE + 32'(8 * i + 4)) begin
        rd_map = 1'b1;
        rd_val = hi_snap_q[32*i +: 32];
      end
    end
  end

  // ---- Write decode ----------------------------------------------------------------------

  // wr_map: the offset is a register; wr_ro: a read-only one (SLVERR, no change).
  logic wr_map, wr_ro;
  always_comb begin
    wr_map = 1'b0;
    wr_ro = 1'b0;
    if (wr_addr == esact_regs_pkg::ID_OFFSET || wr_addr == esact_regs_pkg::VERSION_OFFSET ||
        wr_addr == esact_regs_pkg::IRQ_OFFSET) begin
      wr_map = 1'b1;
      wr_ro = 1'b1;
    end
    if (wr_addr == esact_regs_pkg::CTRL_OFFSET || wr_addr == esact_regs_pkg::STATUS_OFFSET) begin
      wr_map = 1'b1;
    end
    for (int unsigned i = 0; i < CfgNum; i++) begin
      if (wr_addr == esact_regs_pkg::CFG_OFFSETS[32*i +: 32]) wr_map = 1'b1;
    end
    for (int unsigned i = 0; i < 2 * CntNum; i++) begin
      if (wr_addr == esact_regs_pkg::CNT_BASE + 32'(4 * i)) begin
        wr_map = 1'b1;
        wr_ro = 1'b1;
      end
    end
  end

  logic wr_ok;
  assign wr_ok = wr_map && !wr_ro;

  // ---- Next state ------------------------------------------------------------------------

  // Written ones in strobed bytes: the W1P and W1C actions.
  logic [31:0] wr_ones;
  assign wr_ones = wr_data & wr_bits;

  always_comb begin
    aw_got_d   = aw_got_q;
    awaddr_d   = awaddr_q;
    w_got_d    = w_got_q;
    wdata_d    = wdata_q;
    wstrb_d    = wstrb_q;
    bvalid_d   = bvalid_q;
    bresp_d    = bresp_q;
    rvalid_d   = rvalid_q;
    rdata_d    = rdata_q;
    rresp_d    = rresp_q;
    start_d    = 1'b0;
    irq_en_d   = irq_en_q;
    done_d     = done_q;
    err_d      = err_q;
    err_code_d = err_code_q;
    cfg_d      = cfg_q;
    hi_snap_d  = hi_snap_q;

    // Write channels.
    if (s_bvalid_o && s_bready_i) bvalid_d = 1'b0;
    if (wr_fire) begin
      aw_got_d = 1'b0;
      w_got_d  = 1'b0;
      bvalid_d = 1'b1;
      bresp_d  = wr_ok ? RespOkay : RespSlvErr;
    end else begin
      if (aw_hs) begin
        aw_got_d = 1'b1;
        awaddr_d = s_awaddr_i;
      end
      if (w_hs) begin
        w_got_d = 1'b1;
        wdata_d = s_wdata_i;
        wstrb_d = s_wstrb_i;
      end
    end

    // Register writes.
    if (wr_fire && wr_addr == esact_regs_pkg::CTRL_OFFSET) begin
      start_d = |wr_ones[esact_regs_pkg::CTRL_START_LSB +: esact_regs_pkg::CTRL_START_W];
      if (wr_bits[esact_regs_pkg::CTRL_IRQ_EN_LSB]) begin
        irq_en_d = wr_data[esact_regs_pkg::CTRL_IRQ_EN_LSB];
      end
    end
    if (wr_fire && wr_addr == esact_regs_pkg::STATUS_OFFSET) begin
      if (|wr_ones[esact_regs_pkg::STATUS_DONE_LSB +: esact_regs_pkg::STATUS_DONE_W]) begin
        done_d = esact_regs_pkg::STATUS_DONE_RESET;
      end
      if (|wr_ones[esact_regs_pkg::STATUS_ERR_LSB +: esact_regs_pkg::STATUS_ERR_W]) begin
        err_d = esact_regs_pkg::STATUS_ERR_RESET;
        err_code_d = esact_regs_pkg::STATUS_ERR_CODE_RESET;
      end
    end
    for (int unsigned i = 0; i < CfgNum; i++) begin
      if (wr_fire && wr_addr == esact_regs_pkg::CFG_OFFSETS[32*i +: 32]) begin
        cfg_d[32*i +: 32] = ((cfg_q[32*i +: 32] & ~wr_bits) | (wr_data & wr_bits)) &
                            esact_regs_pkg::CFG_WMASKS[32*i +: 32];
      end
    end
    // Controller events win over a clearing write in the same cycle.
    if (done_i) done_d = 1'b1;
    if (err_i) begin
      err_d = 1'b1;
      err_code_d = err_code_i;
    end

    // Read channels.
    if (s_rvalid_o && s_rready_i) rvalid_d = 1'b0;
    if (ar_hs) begin
      rvalid_d = 1'b1;
      rdata_d  = rd_map ? rd_val : '0;
      rresp_d  = rd_map ? RespOkay : RespSlvErr;
      for (int unsigned i = 0; i < CntNum; i++) begin
        if (rd_addr == esact_regs_pkg::CNT_BASE + 32'(8 * i)) begin
          hi_snap_d[32*i +: 32] = cnt_i[64*i+32 +: 32];
        end
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_got_q   <= 1'b0;
      awaddr_q   <= '0;
      w_got_q    <= 1'b0;
      wdata_q    <= '0;
      wstrb_q    <= '0;
      bvalid_q   <= 1'b0;
      bresp_q    <= RespOkay;
      rvalid_q   <= 1'b0;
      rdata_q    <= '0;
      rresp_q    <= RespOkay;
      start_q    <= 1'b0;
      irq_en_q   <= esact_regs_pkg::CTRL_IRQ_EN_RESET;
      done_q     <= esact_regs_pkg::STATUS_DONE_RESET;
      err_q      <= esact_regs_pkg::STATUS_ERR_RESET;
      err_code_q <= esact_regs_pkg::STATUS_ERR_CODE_RESET;
      cfg_q      <= esact_regs_pkg::CFG_RESETS;
      hi_snap_q  <= '0;
    end else begin
      aw_got_q   <= aw_got_d;
      awaddr_q   <= awaddr_d;
      w_got_q    <= w_got_d;
      wdata_q    <= wdata_d;
      wstrb_q    <= wstrb_d;
      bvalid_q   <= bvalid_d;
      bresp_q    <= bresp_d;
      rvalid_q   <= rvalid_d;
      rdata_q    <= rdata_d;
      rresp_q    <= rresp_d;
      start_q    <= start_d;
      irq_en_q   <= irq_en_d;
      done_q     <= done_d;
      err_q      <= err_d;
      err_code_q <= err_code_d;
      cfg_q      <= cfg_d;
      hi_snap_q  <= hi_snap_d;
    end
  end

  // ---- Outputs ---------------------------------------------------------------------------

  assign s_bvalid_o = bvalid_q;
  assign s_bresp_o  = bresp_q;
  assign s_rvalid_o = rvalid_q;
  assign s_rdata_o  = rdata_q;
  assign s_rresp_o  = rresp_q;
  assign start_o    = start_q;
  assign irq_o      = irq_en_q && done_q;

  // Field of configuration register `idx` at [lsb +: w].
  `define ESACT_REGS_CFG(__reg, __fld) \
    cfg_q[32*esact_regs_pkg::``__reg``_IDX + esact_regs_pkg::``__reg``_``__fld``_LSB \
          +: esact_regs_pkg::``__reg``_``__fld``_W]
  assign n_tokens_o        = `ESACT_REGS_CFG(N_TOKENS, VALUE);
  assign n_valid_o         = `ESACT_REGS_CFG(N_VALID, VALUE);
  assign d_model_o         = `ESACT_REGS_CFG(D_MODEL, VALUE);
  assign n_heads_o         = `ESACT_REGS_CFG(N_HEADS, VALUE);
  assign d_ff_o            = `ESACT_REGS_CFG(D_FF, VALUE);
  assign spls_en_o         = `ESACT_REGS_CFG(SPLS, EN);
  assign spls_hlog_bits_o  = `ESACT_REGS_CFG(SPLS, HLOG_BITS);
  assign spls_round_o      = `ESACT_REGS_CFG(SPLS, ROUND);
  assign spls_ffn_policy_o = `ESACT_REGS_CFG(SPLS, FFN_POLICY);
  assign k_o               = `ESACT_REGS_CFG(K, VALUE);
  assign w_o               = `ESACT_REGS_CFG(W, VALUE);
  assign t_o               = `ESACT_REGS_CFG(T, VALUE);
  assign x_addr_o          = {`ESACT_REGS_CFG(X_ADDR_HI, VALUE), `ESACT_REGS_CFG(X_ADDR_LO, VALUE)};
  assign x_size_o          = `ESACT_REGS_CFG(X_SIZE, VALUE);
  assign w_addr_o          = {`ESACT_REGS_CFG(W_ADDR_HI, VALUE), `ESACT_REGS_CFG(W_ADDR_LO, VALUE)};
  assign w_size_o          = `ESACT_REGS_CFG(W_SIZE, VALUE);
  assign y_addr_o          = {`ESACT_REGS_CFG(Y_ADDR_HI, VALUE), `ESACT_REGS_CFG(Y_ADDR_LO, VALUE)};
  assign y_size_o          = `ESACT_REGS_CFG(Y_SIZE, VALUE);
  assign dec_addr_o        = {`ESACT_REGS_CFG(DEC_ADDR_HI, VALUE),
                              `ESACT_REGS_CFG(DEC_ADDR_LO, VALUE)};
  assign dec_size_o        = `ESACT_REGS_CFG(DEC_SIZE, VALUE);
  `undef ESACT_REGS_CFG

  // The protection attributes mean nothing to this map; of the written ones only the
  // W1C and W1P bits are looked at.
  logic unused_regs;
  assign unused_regs = ^{s_awprot_i, s_arprot_i, wr_ones};

  // ---- Assertions ------------------------------------------------------------------------

  // What this slave drives: responses held and stable until taken, and never before the
  // request; one outstanding write and one read.
  `ESACT_ASSERT(BValidHeld_A, s_bvalid_o && !s_bready_i |=> s_bvalid_o)
  `ESACT_ASSERT(BRespStable_A, s_bvalid_o && !s_bready_i |=> $stable(s_bresp_o))
  `ESACT_ASSERT(RValidHeld_A, s_rvalid_o && !s_rready_i |=> s_rvalid_o)
  `ESACT_ASSERT(RDataStable_A,
                s_rvalid_o && !s_rready_i |=> $stable(s_rdata_o) && $stable(s_rresp_o))
  `ESACT_ASSERT(BAfterAwAndW_A, !s_bvalid_o |=> !s_bvalid_o || $past(wr_fire))
  `ESACT_ASSERT(RAfterAr_A, !s_rvalid_o |=> !s_rvalid_o || $past(ar_hs))
  `ESACT_ASSERT(OneWrite_A, s_bvalid_o |-> !s_awready_o && !s_wready_o)
  `ESACT_ASSERT(OneRead_A, s_rvalid_o |-> !s_arready_o)
  `ESACT_ASSERT(StartPulse_A, start_o |=> !start_o)
  `ESACT_ASSERT(OutputsKnown_A, !$isunknown({s_awready_o, s_wready_o, s_bvalid_o, s_arready_o,
                                             s_rvalid_o, start_o, irq_o}))
  // What the master must do (assumptions, checked): valid held until ready, payload
  // stable meanwhile, no unknown valid.
  `ESACT_ASSERT(AwValidHeld_A, s_awvalid_i && !s_awready_o |=> s_awvalid_i)
  `ESACT_ASSERT(AwStable_A,
                s_awvalid_i && !s_awready_o |=> $stable(s_awaddr_i) && $stable(s_awprot_i))
  `ESACT_ASSERT(WValidHeld_A, s_wvalid_i && !s_wready_o |=> s_wvalid_i)
  `ESACT_ASSERT(WStable_A,
                s_wvalid_i && !s_wready_o |=> $stable(s_wdata_i) && $stable(s_wstrb_i))
  `ESACT_ASSERT(ArValidHeld_A, s_arvalid_i && !s_arready_o |=> s_arvalid_i)
  `ESACT_ASSERT(ArStable_A,
                s_arvalid_i && !s_arready_o |=> $stable(s_araddr_i) && $stable(s_arprot_i))
  `ESACT_ASSERT(InputsKnown_A, !$isunknown({s_awvalid_i, s_wvalid_i, s_bready_i, s_arvalid_i,
                                            s_rready_i, done_i, err_i}))

endmodule
