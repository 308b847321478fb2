# Thin front door: CMake (Ninja) builds, ctest runs, scripts/ lint and synthesize.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
WAVE := $(BUILD)/waves/esact-sim.fst

.PHONY: all deps configure build test gate sim bench minilm eval lint synth fpga wave format clean

all: build

# System tools (apt), then the Python packages the MiniLM export and the eval figures need
# (pip, into .venv/).
deps:
	@scripts/install-deps.sh
	@scripts/install-py-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The regression CI runs: lint, synthesis, then every ctest test (smoke and full).
test: lint synth build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --no-tests=error

# The gate-level regression alone (part of `make test`): the tests of the Yosys netlists of
# the '# gate-level' lines of rtl/tops.txt (docs/architecture.md section 13).
gate: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) -R Gate --no-tests=error

# Default synthetic layer through the golden model, then the whole layer through the RTL
# (esact_top) dense and with SPLS, checked against the golden model; writes the waveform.
sim: build
	@$(BUILD)/esact-sim --wave $(WAVE)

# Cycles, throughput and simulation speed of the RTL on the small and MiniLM shapes.
bench: build
	@$(BUILD)/esact-bench --json $(BUILD)/bench/results.json

# Layer 0 of all-MiniLM-L6-v2 on a real sentence, written in the layer format for
# esact-sim and the RTL (docs/minilm.md).
minilm: build
	@$(BUILD)/esact-minilm export-layer --network $(BUILD)/minilm/all-minilm-l6-v2.esn \
	  --out $(BUILD)/minilm/layer0.esl

# all-MiniLM-L6-v2 on Debian package descriptions: quality against computation removed for
# SPLS, Sanger-style and SpAtten-style; results.json, pareto.png, pam.png (docs/eval.md).
eval: build
	@$(BUILD)/esact-eval --network $(BUILD)/minilm/all-minilm-l6-v2.esn --out $(BUILD)/eval
	@.venv/bin/python scripts/eval/plot.py --results $(BUILD)/eval/results.json \
	  --pam $(BUILD)/eval/pam.json --out $(BUILD)/eval

lint: deps
	@BUILD=$(BUILD) scripts/lint.sh

synth: deps
	@BUILD=$(BUILD) scripts/synth.sh

# Units placed and routed on a Lattice ECP5 (nextpnr-ecp5 from PyPI): utilization and Fmax
# in build/fpga/summary.md (scripts/fpga.sh --docs writes docs/fpga.md).
fpga: deps
	@BUILD=$(BUILD) scripts/fpga.sh

wave:
	@scripts/install-deps.sh --wave
	@test -f $(WAVE) || $(MAKE) sim
	gtkwave $(WAVE) sim/esact.gtkw

format:
	@clang-format -i golden/*.h golden/*.cc sim/*.h sim/*.cc tests/*.cc tools/*.cc

clean:
	rm -rf $(BUILD)
