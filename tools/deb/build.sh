#!/usr/bin/env bash
# Builds mnemo's Debian package (`make deb`): a Release build in its own folder with
# prefix /usr, for any x86-64 CPU (no -march=native) and with no path into this source
# tree, then CPack's DEB generator. CPU-only by default, so that it depends only on
# Debian's archive; --cuda adds the cuda backend (the CUDA runtime and cuDNN then come
# from NVIDIA's repository: name their packages in MNEMO_DEB_EXTRA_DEPENDS).
#   tools/deb/build.sh [BUILD_DIR] [--cuda]     -> BUILD_DIR/package/mnemo_<version>_<arch>.deb
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=build-deb
cuda=OFF
for arg in "$@"; do
  case "$arg" in
  --cuda) cuda=ON ;;
  -*) echo "usage: $0 [BUILD_DIR] [--cuda]" >&2; exit 2 ;;
  *) build=$arg ;;
  esac
done
jobs=${JOBS:-$(nproc)}

if [[ $cuda == ON ]]; then
  echo "mnemo deb: with the cuda backend (if nvcc and cuDNN are found)"
else
  echo "mnemo deb: CPU-only (make deb DEB_CUDA=1 adds the cuda backend)"
fi
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DMNEMO_WITH_CUDA=$cuda -DMNEMO_NATIVE_CPU=OFF -DMNEMO_SOURCE_TREE_FALLBACK=OFF \
  -DMNEMO_BUILD_TESTS=OFF ${MNEMO_DEB_CMAKE_FLAGS:-} >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
grep -E 'mnemo backends|CMake Warning' -A1 "$build.configure.log" | sed 's/^-- /mnemo deb: /'
cmake --build "$build" -j "$jobs"
rm -f "$build"/package/mnemo_*.deb
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log"; exit 1; }
deb=$(ls "$build"/package/mnemo_*.deb)
echo "mnemo deb: $deb"
