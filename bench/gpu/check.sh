#!/usr/bin/env bash
# The training stage on a GPU machine: builds the plugin against Python's CUDA libtorch
# (plugin_from_python_torch.sh), then trains the tutorial CNN on the same generated data on
# CUDA and on the CPU (1 epoch, same seed) and runs the inplace pipeline with training on
# CUDA. Prints what each JSON says: device, compute clock, samples/s, AU, accuracy.
#   bench/gpu/check.sh KIT_DIR OUT_DIR
# KIT_DIR: tierbench (built elsewhere from this tree), libtb_{train,dataset,util}.a, and in
# lib/ the shared libraries tierbench needs that the GPU machine may lack.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="$(cd "${1:?usage: $0 KIT_DIR OUT_DIR}" && pwd)" out="${2:?usage: $0 KIT_DIR OUT_DIR}"
mkdir -p "$out"
nvidia-smi -L || true
export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$root/bench/gpu/plugin_from_python_torch.sh" "$kit" /tmp/tb-plugin || exit 1
export TB_TORCH_PLUGIN=/tmp/tb-plugin/libtierbench_torch.so
tb="$kit/tierbench"
"$tb" doctor 2>&1 | grep -i -E 'train|device|torch' | head -5
data=/tmp/tb-gpu-data
"$tb" dataset generate --out "$data" --train-files 5 --images-per-file 10000 --test-images 10000 --seed 1 \
  --tarball none > /dev/null || exit 1
summary() {
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print("%-22s %-10s %-26s %8.0f img/s  AU %.3f  first batch %.2f s  compute %.2f s  wait %.2f s  acc %.4f  train %.1f s" % (sys.argv[2],
  d["device"], d.get("compute_clock","?"), d["samples_per_second"], d.get("au") or -1, d["first_batch_seconds"],
  d["compute_seconds"], d["data_wait_seconds"], d["test_accuracy"], d["train_seconds"]))' "$1" "$2"
}
for cfg in "cuda 4 fast" "cpu 4 fast" "cuda 64 fast" "cpu 64 fast" "cuda 4 autograd"; do
  read -r dev batch engine <<< "$cfg"
  name="train-$dev-b$batch-$engine"
  if "$tb" train --data "$data" --device "$dev" --batch-size "$batch" --engine "$engine" --epochs 1 --seed 1 \
    --log-every 0 --json > "$out/$name.json" 2> "$out/$name.log"; then
    summary "$out/$name.json" "$dev batch $batch $engine"
  else
    echo "$name failed:"; tail -5 "$out/$name.log"
  fi
done
"$tb" run --label "inplace on CUDA" --scenario inplace --scratch /tmp/tb-gpu-scratch \
  --dataset-dir "$data/cifar-10-batches-py" --device cuda --epochs 1 --seed 1 --out "$out/run-cuda.json" \
  > "$out/run-cuda.log" 2>&1 && tail -20 "$out/run-cuda.log" || { echo "run failed:"; tail -20 "$out/run-cuda.log"; }
