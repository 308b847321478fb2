// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
// Assertion macros. Every RTL block asserts through these, so the clock, the reset and
// the synthesis guard live in one place.
//
//   `ESACT_ASSERT(name, prop)
//       Concurrent property, sampled on posedge clk_i, disabled while rst_ni is low. The
//       enclosing module must have ports named clk_i and rst_ni. Simulation only: it
//       expands to nothing when SYNTHESIS is defined (Yosys reads with -DSYNTHESIS).
//       A failure prints the name and the property text and calls $error, which the C++
//       harness turns into a failure of the running test.
//
//   `ESACT_ASSERT_INIT(name, prop)
//       Elaboration-time check of a constant expression (parameter legality), written as
//       a generate-if around $error. It stays active under SYNTHESIS on purpose: the
//       lint, the simulator build and Yosys 0.23 all stop elaboration with the message,
//       so an illegal configuration fails loudly everywhere. Use it at module level,
//       not inside a procedural block. (Note: comment lines here must not begin with
//       the word "verilator", which the tool parses as a directive.)
//
// The Verilator 5.006 assertion engine evaluates only single-cycle properties: |->, |=>,
// $past, $stable, $rose, $onehot0, $isunknown. No ##N, no sequences, no `default disable
// iff`. Pass --assert to Verilator (off by default in 5.006).

`ifndef ESACT_ASSERT_SVH
`define ESACT_ASSERT_SVH

`define ESACT_ASSERT_INIT(__name, __prop)                              \
  if (!(__prop)) begin : __name                                        \
    $error(`"ESACT_ASSERT_INIT __name failed: __prop`");               \
  end

`ifndef SYNTHESIS

`define ESACT_ASSERT(__name, __prop)                                   \
  __name: assert property (@(posedge clk_i) disable iff (!rst_ni) (__prop)) \
    else $error("ESACT_ASSERT %s: %s", `"__name`", `"__prop`");

`else  // SYNTHESIS

`define ESACT_ASSERT(__name, __prop)

`endif  // SYNTHESIS

`endif  // ESACT_ASSERT_SVH
