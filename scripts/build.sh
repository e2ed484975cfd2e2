#!/usr/bin/env bash
# Configures and builds tierbench into ./build (Ninja, ccache). With libtorch installed the
# training plugin is built too. Extra CMake arguments pass through, e.g. -DTB_SANITIZE=address.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR="${TB_BUILD_DIR:-build}"
torch=OFF
[ -f /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake ] && torch=ON
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTB_WITH_TORCH="${TB_WITH_TORCH:-$torch}" "$@" >/dev/null
ninja -C "$BUILD_DIR" -j"$(nproc)"
