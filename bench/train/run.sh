#!/usr/bin/env bash
# Training-speed benchmark: tierbench train (libtorch, C++) against the PyTorch tutorial in
# Python (bench/train/train_ref.py) with DataLoader(num_workers=0) and (num_workers=2), on the
# same generated data, at the same batch size and intra-op thread count, in one run.
# Prints each run's epoch times and test accuracy, then the epoch-time ratios.
#
# usage: bench/train/run.sh [--data DIR] [--epochs 1] [--threads 1] [--batch-size 4]
#                           [--max-steps N] [--with-autograd] [--bin PATH]
# Without --data a 50,000/10,000-image dataset is generated under $TMPDIR (or /tmp).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data="" epochs=1 threads=1 batch=4 max_steps=0 autograd=0
bin=${TB_BIN:-$root/build/tierbench}
while [ $# -gt 0 ]; do
  case $1 in
    --data) data=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --max-steps) max_steps=$2; shift 2 ;;
    --with-autograd) autograd=1; shift ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/tb-train-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -z "$data" ]; then
  data=$work/data
  if "$bin" dataset generate --help >/dev/null 2>&1; then
    "$bin" dataset generate --out "$data" --tarball none >/dev/null
  else
    "$py" "$root/tests/train/make_cifar.py" "$data"
  fi
fi

results=$work/results.jsonl
run_cpp() {  # engine
  echo "== tierbench train (engine $1, threads $threads, batch $batch)" >&2
  "$bin" train --data "$data" --epochs "$epochs" --threads "$threads" --batch-size "$batch" \
    --max-steps "$max_steps" --engine "$1" --seed 0 --no-progress --json | tail -n 1 >> "$results"
}
run_py() {  # workers
  echo "== python tutorial (DataLoader num_workers=$1, threads $threads, batch $batch)" >&2
  "$py" "$here/train_ref.py" --data "$data" --epochs "$epochs" --workers "$1" --threads "$threads" \
    --batch-size "$batch" --max-steps "$max_steps" > "$work/py.log"
  cat "$work/py.log" >&2
  tail -n 1 "$work/py.log" >> "$results"
}
: > "$results"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (timings are wall clock)" >&2
run_cpp fast
run_py 0
run_py 2
[ "$autograd" = 1 ] && run_cpp autograd
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$py" - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def name(r):
    return "C++ " + r["engine"] if "engine" in r else "Python num_workers=%d" % r["workers"]
cpp = next(r for r in rows if r.get("engine") == "fast")
print("%-24s %14s %10s" % ("run", "epoch 1 (s)", "accuracy"))
for r in rows:
    print("%-24s %14.2f %9.2f%%" % (name(r), r["epoch_seconds"][0],
                                    100 * r.get("test_accuracy", r.get("accuracy", 0))))
for r in rows:
    if r is not cpp:
        print("epoch-time ratio %s / C++ fast: %.2fx" % (name(r), r["epoch_seconds"][0] / cpp["epoch_seconds"][0]))
PY
