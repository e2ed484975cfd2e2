#!/usr/bin/env bash
# Decode throughput of the 'pickled' stage: tierbench's LoadSplit vs Python pickle.load +
# numpy the way torchvision.datasets.CIFAR10 does it, on the same generated files, in one run
# (interleaved rounds, warm page cache for both).
#   usage: bench/dataset/decode.sh [TB_BIN] [DIR]   (DIR: a generated dataset; made if missing)
set -euo pipefail
TB_BIN="${1:-${TB_BIN:-build/tierbench}}"
DIR="${2:-/tmp/tb-bench-decode}"
ROUNDS="${ROUNDS:-3}"
if [ ! -f "$DIR/cifar-10-batches-py/batches.meta" ]; then
  "$TB_BIN" dataset generate --out "$DIR" --train-files 5 --images-per-file 10000 --test-images 10000 --tarball none >/dev/null
fi
cat "$DIR"/cifar-10-batches-py/data_batch_* > /dev/null  # warm the page cache
for round in $(seq "$ROUNDS"); do
  for threads in 1 2; do
    "$TB_BIN" dataset load "$DIR" --split train --threads "$threads" --json |
      /usr/bin/python3 -c "import json,sys; r=json.load(sys.stdin)['runs'][0]; print(f'tierbench LoadSplit threads=$threads: {r[\"file_bytes\"]/1e6:.1f} MB in {r[\"seconds\"]:.3f} s = {r[\"mb_per_s\"]:.0f} MB/s')"
  done
  /usr/bin/python3 - "$DIR/cifar-10-batches-py" <<'PY'
import glob, os, pickle, sys, time
import numpy as np
d = sys.argv[1]
files = sorted(glob.glob(os.path.join(d, "data_batch_*")), key=lambda p: int(p.rsplit("_", 1)[1]))
t0 = time.perf_counter()
data, targets = [], []
for path in files:  # torchvision.datasets.CIFAR10.__init__
    with open(path, "rb") as f:
        entry = pickle.load(f, encoding="latin1")
        data.append(entry["data"])
        targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
data = np.vstack(data).reshape(-1, 3, 32, 32)
secs = time.perf_counter() - t0
size = sum(os.path.getsize(p) for p in files)
print(f"python pickle.load+numpy (torchvision): {size/1e6:.1f} MB in {secs:.3f} s = {size/1e6/secs:.0f} MB/s")
PY
done
