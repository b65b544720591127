#!/usr/bin/env bash
# Installs the Debian 12 packages mnemo needs, only those missing. Idempotent.
#   tools/install-deps.sh           build + test + run dependencies
#   tools/install-deps.sh --tools   also what tools/ needs (fixtures, training, benchmarks)
set -euo pipefail

packages=(
  build-essential cmake pkg-config git clang-format
  protobuf-c-compiler libprotobuf-c-dev   # ONNX reader
  libpng-dev                              # PNG in/out
  libconfig-dev                           # config files (runtime/params/config.c)
  libdnnl-dev                             # the fast cpu backend (oneDNN)
  ffmpeg                                  # headless capture to video (runtime/output/capture_video.c)
  liblo-dev liblo-tools                   # OSC control (runtime/control/osc.c); oscsend for tests
  libmicrohttpd-dev libjpeg-dev           # the web page (runtime/control/web.c) and its thumbnail
  chromium chromium-driver python3        # the web page's test in a real browser (tests/web_browser.py)
  libasound2-dev                          # MIDI control (runtime/control/control_midi.c), ALSA sequencer
  libsdl2-dev libglew-dev libegl-dev libgl-dev   # the presenter (runtime/present*.c)
  libxext-dev                             # kiosk.closed = dpms: screens off via X11 DPMS
  libgl1-mesa-dri libegl-mesa0            # Mesa's software GL (llvmpipe) when no GPU driver
  xvfb xauth                              # display tests under a virtual X server
  dpkg-dev file                           # make deb: CPack's dpkg-shlibdeps, file
  systemd                                 # the units' tests: systemd-analyze, systemd-sysusers
  libonnx-testdata                        # the ONNX node tests (tests/test_onnx_conformance.c)
)
if [[ "${1:-}" == "--tools" ]]; then
  packages+=(python3 python3-numpy python3-torch python3-onnx python3-pil python3-scipy
             python3-opencv opencv-data          # life.py's face measure (Haar + LBP cascades)
             libopenblas0-pthread)
  packages+=(clang libclang-rt-14-dev valgrind)   # make fuzz (libFuzzer), make valgrind
  # Node.js from another source (NodeSource) ships npm itself and conflicts with Debian's.
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "mnemo: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "mnemo: these packages are missing and installing them needs root:" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  echo "  (or run tools/install-deps.sh as root)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
