#!/usr/bin/env bash
# Per-stage seconds and aggregate MB/s for 1, 2 and 4 ranks, in one run, on the multi-host test
# bed (scripts/hosts.sh: network namespaces on a bridge, links shaped to RATE). Rank r runs on
# host r+1 with torchrun-style variables (RANK, WORLD_SIZE, MASTER_ADDR = host 1); rank 0
# writes the merged results (a stage's seconds = the cluster span, bytes summed, MB/s =
# aggregate), and `tierbench compare` prints the scaling view of the three runs.
#   inplace   every rank reads the same dataset folder (a local directory, shared by the
#             namespaces) and verify/pickled split its files (each file hashed and decoded once)
#   staged    the tarball comes from an origin on the bridge address (the root namespace) over
#             each host's shaped link; each host downloads, checks and unpacks its own copy
#             (once per host); upload is off (no S3 inside the namespaces). pipeline.stream =
#             false for every world size: several ranks run those stages in order, so one rank
#             must too for the spans to compare like with like
# Training runs a few steps only (train.max_steps): the bench is about the data stages; the
# train row shows the data-parallel step rate.
#
# CAVEAT: every rank shares this machine's cores (2 on the CI machine). More ranks add network
# paths and parallel streams, not CPU: compute-bound stages cannot scale here, and the numbers
# measure the coordination cost and the link, not a real cluster's speedup.
#
# Usage: sudo bench/scale.sh [--rate RATE (default 1gbit)] [--ranks "1 2 4"] [--scenario
#        inplace|staged|both (default both)] [--files N (training files, default 40)]
#        [--keep DIR (copy the results there)]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/.."
TB_BIN="${TB_BIN:-$SRC/build/tierbench}"
HOSTS="$SRC/scripts/hosts.sh"
source "$SRC/scripts/hosts-bed.sh"
PY=/usr/bin/python3
RATE=1gbit
RANKS="1 2 4"
SCENARIOS="inplace staged"
FILES=40
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) RATE="$2"; shift 2 ;;
    --ranks) RANKS="$2"; shift 2 ;;
    --scenario) [ "$2" = both ] && SCENARIOS="inplace staged" || SCENARIOS="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --keep) KEEP="$2"; shift 2 ;;
    -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "bench/scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/scale.sh: needs root (network namespaces)" >&2; exit 2; }
[ -x "$TB_BIN" ] || { echo "bench/scale.sh: $TB_BIN is not built (scripts/build.sh)" >&2; exit 2; }
max=0
for n in $RANKS; do [ "$n" -gt "$max" ] && max=$n; done

WORK="$(mktemp -d /tmp/tb-bench-scale.XXXXXX)"
bed_private "$WORK" 10.75 tbs
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  bed_down
  rm -rf "$WORK"
}
trap cleanup EXIT

bed_up "$max" --rate "$RATE" || exit 1
mkdir -p "$WORK/www"
"$TB_BIN" dataset generate --out "$WORK/www" --train-files "$FILES" --images-per-file 1000 --test-images 1000 \
  --seed 11 > /dev/null
bytes=$(du -sb "$WORK/www/cifar-10-batches-py" | cut -f1)

# The origin for the staged runs: on the bridge address, reachable from every host.
"$PY" "$SRC/tests/tools/faulty_http.py" --root "$WORK/www" --bind "$TB_BRIDGE_ADDR" \
  --port-file "$WORK/origin.port" --quiet > "$WORK/origin.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/origin.port" ] && break; sleep 0.1; done
[ -s "$WORK/origin.port" ] || { cat "$WORK/origin.out"; exit 1; }
origin="http://$TB_BRIDGE_ADDR:$(cat "$WORK/origin.port")"

echo "bench/scale.sh: $(nproc) cores shared by every rank; links $RATE; dataset $FILES x 1000 images" \
  "($bytes bytes, $((FILES + 3)) files); warm page cache; wall spans (cluster span per stage)"

# run_world SCENARIO N: N ranks, rank r on host r+1; prints rank 0's results path.
run_world() {
  local scenario="$1" n="$2" r port=$((29000 + RANDOM % 1000)) rc=0
  local out="$WORK/results/$scenario-$n.json" pids=()
  mkdir -p "$WORK/results"
  local -a args=(run --scenario "$scenario" --label "$scenario x$n" --out "$out" --scratch "$WORK/scratch-$scenario-$n"
    --skip upload --max-steps 50 --no-progress --world-timeout 300 --set pipeline.stream=false)
  if [ "$scenario" = inplace ]; then
    args+=(--dataset-dir "$WORK/www/cifar-10-batches-py")
  else
    args+=(--origin "$origin/cifar-10-python.tar.gz" --manifest "$WORK/www/cifar-10-batches-py.md5")
  fi
  for ((r = 0; r < n; r++)); do
    "$HOSTS" exec "$((r + 1))" env RANK=$r WORLD_SIZE="$n" LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 \
      MASTER_ADDR="$TB_HOST1_ADDR" MASTER_PORT=$port "$TB_BIN" "${args[@]}" \
      > "$WORK/$scenario-$n-$r.out" 2> "$WORK/$scenario-$n-$r.err" &
    pids+=($!)
  done
  for ((r = 0; r < n; r++)); do wait "${pids[$r]}" || rc=$?; done
  if [ "$rc" != 0 ]; then
    echo "bench/scale.sh: $scenario with $n ranks failed (exit $rc):" >&2
    tail -5 "$WORK/$scenario-$n-"*.err >&2
    return 1
  fi
  echo "$out"
}

for scenario in $SCENARIOS; do
  files=()
  for n in $RANKS; do files+=("$(run_world "$scenario" "$n")"); done
  echo
  echo "== $scenario: per stage, seconds (cluster span) and aggregate MB/s by ranks"
  "$PY" - "${files[@]}" << 'EOF'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
names = [s["name"] for s in runs[0]["stages"] if any(
    next(x for x in r["stages"] if x["name"] == s["name"])["status"] == "ok" for r in runs)]
head = "%-10s" % "stage" + "".join("%20s" % ("%d rank%s" % (r.get("world_size", 1), "" if r.get("world_size", 1) == 1 else "s")) for r in runs)
print(head)
for name in names:
    cells = []
    for r in runs:
        s = next(x for x in r["stages"] if x["name"] == name)
        if s["status"] != "ok":
            cells.append("%20s" % s["status"])
        else:
            cells.append("%20s" % ("%.2f s %7.1f MB/s" % (s["seconds"], s["mb_per_s"])))
    print("%-10s" % name + "".join(cells))
print("%-10s" % "total" + "".join("%20s" % ("%.2f s" % r["total_seconds"]) for r in runs))
base = runs[0]
for r in runs[1:]:
    n = r.get("world_size", 1)
    for name in ("verify", "pickled", "download"):
        a = next((x for x in base["stages"] if x["name"] == name and x["status"] == "ok"), None)
        b = next((x for x in r["stages"] if x["name"] == name and x["status"] == "ok"), None)
        if a and b and a["seconds"] >= 0.01 and b["seconds"] >= 0.01:
            print("  %s: %d ranks vs %d: speedup %.2fx (ideal %dx)" % (name, n, base.get("world_size", 1),
                  a["seconds"] / b["seconds"], n // base.get("world_size", 1)))
EOF
  "$TB_BIN" compare "${files[@]}" | sed -n '/Scaling/,$p'
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP" && cp "${files[@]}" "$KEEP/"; fi
done
