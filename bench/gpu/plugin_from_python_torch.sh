#!/usr/bin/env bash
# Builds the training plugin (libtierbench_torch.so) against the libtorch inside Python's torch
# package - e.g. a CUDA build installed with pip on a GPU machine - without building the rest of
# tierbench there: it links the static tb_train, tb_dataset and tb_util of a build made
# elsewhere from the same tree (the plugin ABI must match, so use that build's tierbench).
#   bench/gpu/plugin_from_python_torch.sh LIB_DIR OUT_DIR
# LIB_DIR holds libtb_train.a, libtb_dataset.a and libtb_util.a; the plugin goes to OUT_DIR.
# Then: TB_TORCH_PLUGIN=OUT_DIR/libtierbench_torch.so tierbench train --device cuda ...
# Needs g++ and python3 with torch. Leaves out the c10d cluster (cluster.cc: Gloo's headers).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
lib="${1:?usage: $0 LIB_DIR OUT_DIR}" out="${2:?usage: $0 LIB_DIR OUT_DIR}"
py="${PYTHON:-python3}"
read -r tdir abi version cuda < <("$py" -c 'import os, torch
print(os.path.dirname(torch.__file__), int(torch.compiled_with_cxx11_abi()), torch.__version__, torch.version.cuda)')
echo "plugin_from_python_torch: torch $version (CUDA $cuda) at $tdir, _GLIBCXX_USE_CXX11_ABI=$abi"
mkdir -p "$out/obj"
flags=(-std=c++20 -O2 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -D_GLIBCXX_USE_CXX11_ABI="$abi"
  -I"$root/src" -isystem "$tdir/include" -isystem "$tdir/include/torch/csrc/api/include")
objs=()
for src in plugin net weights cuda_timer; do
  g++ "${flags[@]}" -c "$root/src/train/torch/$src.cc" -o "$out/obj/$src.o" &
  objs+=("$out/obj/$src.o")
done
for job in $(jobs -p); do wait "$job"; done
torch_libs=(-ltorch -ltorch_cpu -lc10)
[ -e "$tdir/lib/libtorch_cuda.so" ] && torch_libs+=(-ltorch_cuda -lc10_cuda)
g++ -shared -o "$out/libtierbench_torch.so" "${objs[@]}" \
  -Wl,--start-group "$lib/libtb_train.a" "$lib/libtb_dataset.a" "$lib/libtb_util.a" -Wl,--end-group \
  -L"$tdir/lib" -Wl,--no-as-needed "${torch_libs[@]}" -Wl,--as-needed -Wl,-rpath,"$tdir/lib" \
  -l:libcrypto.so.3 -ldl -pthread -Wl,--no-undefined
echo "plugin_from_python_torch: $out/libtierbench_torch.so"
