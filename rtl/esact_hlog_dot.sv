// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Add-only HLog dot-product array: a stream of beats of Lanes HLog code pairs to one
/// signed sum per vector. Bit-exact with esact::HlogDot (golden/hlog.h) in AccW-bit two's
/// complement (AccW = 32 is the golden int32).
///
/// Input: one beat per cycle, lane l in a_i[5*l +: 5] and b_i[5*l +: 5] (code layout in
/// esact_pkg); in_last_i marks the last beat of a vector. A vector is one or more beats;
/// its sum is the sum over its beats and lanes of HlogMultiply(a, b).
///
/// Products without a multiplier (docs/spls.md section 2, HlogMultiply): with exponents
/// ea, eb and half bits ha, hb, s = ea + eb is one 3-bit addition, and the magnitude of
/// (2^ea + ha 2^(ea-1)) (2^eb + hb 2^(eb-1)) is two non-overlapping powers of two:
///   ha = hb = 0   2^s
///   ha ^ hb       2^s     + 2^(s-1)
///   ha = hb = 1   2^(s+1) + 2^(s-2)
/// so it is the OR of two one-hot decodes of shift amounts (s >= 1 resp. s >= 2 whenever
/// a half bit is set, since the half bit of exponent 0 is the zero code). A zero operand
/// (e = 0, h = 1) contributes nothing; the sign is sa ^ sb and is applied by a negation.
/// The encoder never produces e = 7 with h = 1 (0x0F, 0x1F; the golden HlogDecode rejects
/// them); the array takes them as +-192 and the widths cover that (a product magnitude
/// is below 2^16), so no code can overflow a product.
///
/// Pipeline: stage 1 registers the adder-tree sum of the beat's Lanes products (a
/// balanced binary tree, ProdW + clog2(Lanes) bits); stage 2 is the accumulator and the
/// output register. A beat that ends its vector moves the accumulator plus its own sum
/// into the output register and clears the accumulator in the same cycle, so vectors
/// stream back to back. Throughput one beat per cycle: only a last beat waits, and only
/// while the output register is full and not being taken.
///   in_ready_o = !s1_valid || !s1_last || !out_valid_o || out_ready_i
/// Latency: the sum of a vector is valid 2 cycles after the handshake of its last beat.
/// The accumulator wraps modulo 2^AccW (the golden int32 wraps the same way; for HLog
/// vectors from the encoder no sum of d < 2^17 products reaches 2^31).
///
/// Reset: asynchronous, active low: valids and the accumulator. The stage-1 sum and the
/// output sum are datapath registers without reset (read only behind their valid).
`include "esact_assert.svh"

module esact_hlog_dot #(
  parameter int unsigned Lanes /*verilator public*/ = 4,   ///< code pairs per beat, >= 1
  parameter int unsigned AccW  /*verilator public*/ = 32   ///< width of the signed sum, 2..32
) (
  input  logic                                    clk_i,
  input  logic                                    rst_ni,
  // Beats of code pairs
  input  logic                                    in_valid_i,
  output logic                                    in_ready_o,
  input  logic [Lanes*esact_pkg::HLOG_CODE_W-1:0] a_i,
  input  logic [Lanes*esact_pkg::HLOG_CODE_W-1:0] b_i,
  input  logic                                    in_last_i,   ///< last beat of a vector
  // One sum per vector
  output logic                                    out_valid_o,
  input  logic                                    out_ready_i,
  output logic signed [AccW-1:0]                  out_sum_o
);

  localparam int unsigned CodeW  = esact_pkg::HLOG_CODE_W;
  localparam int unsigned ExpW   = esact_pkg::HLOG_EXP_W;
  localparam int unsigned MagW   = 16;  // product magnitude < 192 * 192 < 2^16
  localparam int unsigned ProdW  = MagW + 1;
  localparam int unsigned Levels = $clog2(Lanes);   // 0 for one lane
  localparam int unsigned Leaves = 1 << Levels;     // Lanes rounded up to a power of two
  localparam int unsigned TreeW  = ProdW + Levels;
  localparam int unsigned ExtW   = (TreeW > AccW) ? TreeW : AccW;

  `ESACT_ASSERT_INIT(LanesLegal_A, Lanes >= 1)
  `ESACT_ASSERT_INIT(AccWLegal_A, AccW >= 2 && AccW <= 32)

  // ---- Products: exponent addition and two one-hot decodes --------------------------------

  logic [Leaves*ProdW-1:0] prods;  // lane l at [ProdW*l +: ProdW], signed

  for (genvar l = 0; l < Leaves; l++) begin : g_prod
    if (l < Lanes) begin : g_lane
      logic [CodeW-1:0]  ca, cb;
      logic [ExpW:0]     s;         // ea + eb, 0..14
      logic              ha, hb;
      logic              zero;      // an operand is the zero code
      logic              neg;
      logic [ExpW+1:0]   sh_hi;     // shift of the upper term: s, or s + 1 with both halves
      logic [ExpW+1:0]   sh_lo;     // shift of the lower term: s - 1, or s - 2
      logic              two_terms;
      logic [MagW-1:0]   mag;
      logic signed [ProdW-1:0] prod;

      assign ca = a_i[l*CodeW +: CodeW];
      assign cb = b_i[l*CodeW +: CodeW];
      assign ha = ca[esact_pkg::HLOG_HALF_BIT];
      assign hb = cb[esact_pkg::HLOG_HALF_BIT];
      assign s  = {1'b0, ca[esact_pkg::HLOG_EXP_LSB +: ExpW]} +
                  {1'b0, cb[esact_pkg::HLOG_EXP_LSB +: ExpW]};
      // e = 0, h = 1 is zero with either sign bit (HlogDecode).
      assign zero = (ca[esact_pkg::HLOG_EXP_LSB +: ExpW] == '0 && ha) ||
                    (cb[esact_pkg::HLOG_EXP_LSB +: ExpW] == '0 && hb);
      assign neg = ca[esact_pkg::HLOG_SIGN_BIT] ^ cb[esact_pkg::HLOG_SIGN_BIT];
      assign two_terms = ha || hb;

      always_comb begin
        sh_hi = {1'b0, s};
        sh_lo = {1'b0, s} - (ExpW + 2)'(1);
        if (ha && hb) begin
          sh_hi = {1'b0, s} + (ExpW + 2)'(1);
          sh_lo = {1'b0, s} - (ExpW + 2)'(2);
        end
        mag = '0;
        for (int unsigned b = 0; b < MagW; b++) begin
          if (sh_hi == (ExpW + 2)'(b) || (two_terms && sh_lo == (ExpW + 2)'(b))) begin
            mag[b] = 1'b1;
          end
        end
        if (zero) begin
          mag = '0;
        end
        prod = neg ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
      end

      assign prods[l*ProdW +: ProdW] = prod;
    end else begin : g_pad
      assign prods[l*ProdW +: ProdW] = '0;
    end
  end

  // ---- Adder tree ------------------------------------------------------------------------
  // Heap layout: node n = node 2n+1 + node 2n+2, leaves at Leaves-1 .. 2 Leaves-2; the
  // loop runs from the leaves up, so every node reads finished children.

  // (A flat vector, node n at [TreeW*n +: TreeW]: Yosys 0.23 would warn about an
  // unpacked array read inside the process that writes it.)
  localparam int unsigned Nodes = (Leaves << 1) - 1;

  logic [Nodes*TreeW-1:0]  node;
  logic signed [TreeW-1:0] tree_sum;

  always_comb begin
    node = '0;
    for (int unsigned l = 0; l < Leaves; l++) begin
      node[(Leaves - 1 + l)*TreeW +: TreeW] = TreeW'($signed(prods[l*ProdW +: ProdW]));
    end
    for (int unsigned k = 1; k < Leaves; k++) begin  // node n = Leaves - 1 - k
      node[(Leaves - 1 - k)*TreeW +: TreeW] =
          node[(((Leaves - 1 - k) << 1) + 1)*TreeW +: TreeW] +
          node[(((Leaves - 1 - k) << 1) + 2)*TreeW +: TreeW];
    end
  end

  assign tree_sum = $signed(node[TreeW-1:0]);

  // ---- Stage 1 (beat sum) and stage 2 (accumulator, output register) -------------------

  logic                    s1_valid_d, s1_valid_q;
  logic                    s1_last_d, s1_last_q;
  logic signed [TreeW-1:0] s1_sum_d, s1_sum_q;
  logic                    s1_fire;   // stage 1 moves into the accumulator / output
  logic                    out_free;  // the output register can take a sum this cycle
  logic                    in_fire;

  logic                    out_valid_d, out_valid_q;
  logic signed [AccW-1:0]  out_sum_d, out_sum_q;
  logic signed [AccW-1:0]  acc_d, acc_q;
  logic signed [AccW-1:0]  acc_sum;  // accumulator plus the stage-1 beat sum
  logic signed [AccW-1:0]  s1_ext;   // the beat sum in accumulator width

  assign out_free   = !out_valid_q || out_ready_i;
  assign s1_fire    = s1_valid_q && (!s1_last_q || out_free);
  assign in_ready_o = !s1_valid_q || s1_fire;
  assign in_fire    = in_valid_i && in_ready_o;

  logic signed [ExtW-1:0] s1_wide;
  assign s1_wide = ExtW'(s1_sum_q);  // sign extension (s1_sum_q is signed)
  assign s1_ext  = s1_wide[AccW-1:0];
  if (ExtW > AccW) begin : g_wrap
    // The tree is wider than the accumulator: the sum wraps modulo 2^AccW on purpose.
    logic unused_s1_wide;
    assign unused_s1_wide = ^s1_wide[ExtW-1:AccW];
  end
  assign acc_sum = acc_q + s1_ext;

  always_comb begin
    s1_valid_d  = s1_valid_q;
    s1_last_d   = s1_last_q;
    s1_sum_d    = s1_sum_q;
    acc_d       = acc_q;
    out_valid_d = out_valid_q && !out_ready_i;
    out_sum_d   = out_sum_q;
    if (in_ready_o) begin
      s1_valid_d = in_valid_i;
      s1_last_d  = in_valid_i && in_last_i;
    end
    if (in_fire) begin
      s1_sum_d = tree_sum;
    end
    if (s1_fire) begin
      acc_d = acc_sum;
      if (s1_last_q) begin
        // The vector ends: its sum to the output register, the accumulator clears.
        acc_d       = '0;
        out_valid_d = 1'b1;
        out_sum_d   = acc_sum;
      end
    end
  end

  // Control state and the accumulator: asynchronous reset.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_valid_q  <= 1'b0;
      s1_last_q   <= 1'b0;
      acc_q       <= '0;
      out_valid_q <= 1'b0;
    end else begin
      s1_valid_q  <= s1_valid_d;
      s1_last_q   <= s1_last_d;
      acc_q       <= acc_d;
      out_valid_q <= out_valid_d;
    end
  end

  // Datapath registers, not reset (read only behind their valid).
  always_ff @(posedge clk_i) begin
    s1_sum_q  <= s1_sum_d;
    out_sum_q <= out_sum_d;
  end

  assign out_valid_o = out_valid_q;
  assign out_sum_o   = out_sum_q;

  // ---- Assertions ------------------------------------------------------------------------

  // Output contract: once valid, hold valid and data until the cycle after ready.
  `ESACT_ASSERT(OutValidHeld_A, out_valid_o && !out_ready_i |=> out_valid_o)
  `ESACT_ASSERT(OutDataStable_A, out_valid_o && !out_ready_i |=> $stable(out_sum_o))
  // Input contract (the upstream's promise, checked here).
  `ESACT_ASSERT(InValidHeld_A, in_valid_i && !in_ready_o |=> in_valid_i)
  `ESACT_ASSERT(InDataStable_A, in_valid_i && !in_ready_o |=> $stable({a_i, b_i, in_last_i}))
  // Throughput: a beat that does not end a vector never waits.
  `ESACT_ASSERT(ReadyUnlessLastBlocked_A, !(s1_valid_q && s1_last_q) |-> in_ready_o)

endmodule
