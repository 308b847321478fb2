// Copyright ESACT contributors. SPDX-License-Identifier: Apache-2.0
//
/// Configuration range check: over_o = value_i > Max.
///
/// When the field is too narrow to hold a value above Max, the comparison is constant
/// (and a lint warning), so it is not built: over_o is 0. Every unit checks its run-time
/// configuration fields through this one module.
module esact_cfg_over #(
  parameter int unsigned Width = 4,  ///< field width, 1..32
  parameter int unsigned Max   = 8   ///< largest legal value
) (
  input  logic [Width-1:0] value_i,
  output logic             over_o
);

  if (((64'd1 << Width) - 64'd1) > 64'(Max)) begin : g_compare
    assign over_o = value_i > Width'(Max);
  end else begin : g_fits
    assign over_o = 1'b0;
    logic unused_value;
    assign unused_value = ^value_i;
  end

endmodule
