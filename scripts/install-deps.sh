#!/usr/bin/env bash
# Checks for every tool the build needs and installs what is missing with apt-get (as root,
# or through sudo). Without either it prints the exact command and fails.
#   scripts/install-deps.sh          build, test and synthesis tools
#   scripts/install-deps.sh --wave   also the waveform viewer (make wave)
set -euo pipefail

# "probe:debian-package"; a probe starting with / is a file, "py-venv" is Python's venv
# module (Debian's python3-venv, for the MiniLM export's virtualenv), anything else a
# command. zlib is for the FST waveform writer that the Verilated models link.
tools=(
  verilator:verilator
  cmake:cmake
  ninja:ninja-build
  g++:g++
  ccache:ccache
  yosys:yosys
  python3:python3
  py-venv:python3-venv
  /usr/include/gtest/gtest.h:libgtest-dev
  /usr/include/fmt/format.h:libfmt-dev
  /usr/include/zlib.h:zlib1g-dev
)
if [[ "${1:-}" == "--wave" ]]; then
  tools+=(gtkwave:gtkwave)
fi

missing=()
for entry in "${tools[@]}"; do
  probe=${entry%%:*}
  pkg=${entry##*:}
  if [[ $probe == /* ]]; then
    [[ -e $probe ]] || missing+=("$pkg")
  elif [[ $probe == py-venv ]]; then
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("$pkg")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
echo "install-deps: missing packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sh -c "DEBIAN_FRONTEND=noninteractive $cmd"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo sh -c "DEBIAN_FRONTEND=noninteractive $cmd"
else
  echo "install-deps: cannot install without root. Run this, then retry:" >&2
  echo "  sudo sh -c '$cmd'" >&2
  exit 1
fi
