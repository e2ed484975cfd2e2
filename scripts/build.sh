#!/usr/bin/env bash
# Configures and builds tierbench into ./build (Ninja, ccache). CMake finds libtorch itself and
# then builds the training plugin too; TB_WITH_TORCH=ON|OFF overrides that. Extra CMake
# arguments pass through, e.g. -DTB_SANITIZE=address.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR="${TB_BUILD_DIR:-build}"
args=()
[ -n "${TB_WITH_TORCH:-}" ] && args+=(-DTB_WITH_TORCH="$TB_WITH_TORCH")
mkdir -p "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${args[@]}" "$@" > "$BUILD_DIR/cmake.log" 2>&1 \
  || { cat "$BUILD_DIR/cmake.log" >&2; exit 1; }
grep '^-- tierbench:' "$BUILD_DIR/cmake.log" || true
ninja -C "$BUILD_DIR" -j"$(nproc)"
