#!/usr/bin/env bash
# bench/input_modes.sh: SageMaker's training input modes side by side (train.input_mode):
# time to first batch and epoch seconds of File, FastFile (no cache, and a cache larger than
# the dataset) and Pipe, on the seed-1283 layout (1,280 training files of 40 images + the
# test batch) in Ceph RGW, printed as ratios against File mode measured in the same run.
# The route to RGW: loopback (default), or with --hosts a namespace host of the test bed
# (scripts/hosts.sh) reaching a radosgw of this script's own on the bridge address over a
# link shaped to RATE (tc tbf, both directions).
#
#   file      `tierbench cp --recursive` of the S3 prefix to a local folder (timed: the fetch
#             that SageMaker's File mode does before the container starts), then train from it
#             with train.shuffle = files
#   fastfile  train straight from s3:// (read-ahead 4, no cache)
#   cached    fastfile with --cache-bytes 1GiB (epoch 2 from the cache)
#   pipe      train straight from s3://, one object at a time
#
# Same bytes: every mode reads the same 1,283 objects, and all train with one seed and file
# order (the weights_md5 column must be equal). Same cache state: before each measured rep
# every mode has run once (warm-up, discarded), so RGW's and the OSD's caches hold the data
# for all; the local copy of file mode is fetched again each rep (warm page cache on both
# sides). The order of the modes rotates per rep; the table shows medians of R reps.
# Clocks: first_batch_seconds and epoch_seconds are the trainer's own (steady clock,
# CLOCK_MONOTONIC, src/train/train.h TrainSummary); the fetch is timed with Python's
# time.monotonic() around the cp process. "to first batch incl. fetch" adds the fetch to file
# mode's first batch, which is what a File-mode job waits for.
# Same route: every mode of a run (the fetch of file mode included) reads over the same route
# - all on loopback, or all from the same namespace host over the same shaped link - and the
# table's first line says which; compare tables of different routes only mode by mode.
#
# Usage: bench/input_modes.sh [--reps R] [--epochs E] [--small] [--keep] [--hosts [--rate RATE]]
#   --reps R     measured reps (default 3)    --epochs E  epochs per run (default 2)
#   --small      80 training files instead of the preset (a quick look)
#   --hosts      run the trainer and file mode's fetch on host 1 of a private one-host test bed
#                (scripts/hosts-bed.sh, subnet 10.74.x), S3 = a radosgw of this script's own on
#                the bridge address (the running Ceph cluster, client.rgw.a key, beast with
#                tcp_nodelay=1, its own port, pid and log); needs root and TB_CEPH_CONF. The
#                bed, the radosgw and the bucket are removed on exit.
#   --rate RATE  the host's link rate with --hosts (tc rate: 500mbit default, 1gbit, 100mbit)
# Environment: TB_BIN (default build/tierbench); services.env (TB_S3_ENDPOINT, TB_CEPH_CONF).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TB_BIN="${TB_BIN:-$ROOT/build/tierbench}"
REPS=3 EPOCHS=2 SMALL=0 KEEP=0 HOSTS_BED=0 RATE=500mbit RATE_SET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --epochs) EPOCHS="$2"; shift 2 ;;
    --small) SMALL=1; shift ;;
    --keep) KEEP=1; shift ;;
    --hosts) HOSTS_BED=1; shift ;;
    --rate) RATE="${2:-}"; RATE_SET=1; shift 2 ;;
    --help|-h) sed -n '2,/^[^#]/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
    *) echo "input_modes.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -z "${TB_S3_ENDPOINT:-}" ] && [ -f /tmp/tierbench-services/services.env ] && source /tmp/tierbench-services/services.env
: "${TB_S3_ENDPOINT:?no RGW: run scripts/services.sh up}"
if [ "$HOSTS_BED" = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "input_modes.sh: --hosts needs root (network namespaces, veth, tc: scripts/hosts.sh)" >&2; exit 2; }
  [ -n "${TB_CEPH_CONF:-}" ] && [ -f "$TB_CEPH_CONF" ] ||
    { echo "input_modes.sh: --hosts needs the running Ceph cluster (TB_CEPH_CONF from services.env)" >&2; exit 2; }
  command -v radosgw > /dev/null || { echo "input_modes.sh: --hosts needs radosgw (Debian: radosgw)" >&2; exit 2; }
  [[ "$RATE" =~ ^[0-9]+[a-zA-Z]*$ ]] || { echo "input_modes.sh: --rate '$RATE': a tc rate such as 500mbit or 1gbit" >&2; exit 2; }
elif [ "$RATE_SET" = 1 ]; then
  echo "input_modes.sh: --rate shapes the test bed's link: use it with --hosts" >&2; exit 2
fi
W=$(mktemp -d "${TMPDIR:-/var/tmp}/tb-input-modes.XXXXXX")
bucket="bench-input-modes-$$"
S3="$TB_S3_ENDPOINT" route="loopback" rgw_pid=""
aws_s3() { aws --endpoint-url "$S3" s3 "$@"; }
# on CMD...: runs CMD where the trainer runs (host 1 of the bed with --hosts, else here).
on() { if [ "$HOSTS_BED" = 1 ]; then "$ROOT/scripts/hosts.sh" exec 1 "$@"; else "$@"; fi; }
cleanup() {
  # The bucket lives in the shared cluster: removed through our radosgw, else the shared one.
  aws_s3 rb --force "s3://$bucket" > /dev/null 2>&1 ||
    aws --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$bucket" > /dev/null 2>&1 || true
  if [ -n "$rgw_pid" ]; then kill -TERM "$rgw_pid" 2> /dev/null || true; wait "$rgw_pid" 2> /dev/null || true; fi
  if [ "$HOSTS_BED" = 1 ]; then bed_down; fi
  [ "$KEEP" = 1 ] && echo "kept $W" || rm -rf "$W"
}
# shellcheck source=../scripts/hosts-bed.sh
[ "$HOSTS_BED" = 1 ] && source "$ROOT/scripts/hosts-bed.sh"
trap cleanup EXIT

if [ "$HOSTS_BED" = 1 ]; then
  bed_private "$W" 10.74 tbm
  bed_up 1 --rate "$RATE" || { echo "input_modes.sh: scripts/hosts.sh up 1 --rate $RATE failed" >&2; exit 1; }
  # Our radosgw on the bridge address (a host cannot reach the root namespace's loopback):
  # the cluster's client.rgw.a key, its own port, pid, socket and log; tcp_nodelay=1 as
  # scripts/services/ceph.sh sets it (without it each small GET waits for a delayed ACK).
  port=$(/usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$TB_BRIDGE_ADDR")
  radosgw -c "$TB_CEPH_CONF" -n client.rgw.a -f --rgw_frontends "beast endpoint=$TB_BRIDGE_ADDR:$port tcp_nodelay=1" \
    --pid_file "$W/rgw.pid" --admin_socket "$W/rgw.asok" --log_file "$W/rgw.log" --debug_rgw 1 > "$W/rgw.out" 2>&1 &
  rgw_pid=$!
  S3="http://$TB_BRIDGE_ADDR:$port"
  deadline=$((SECONDS + 60))
  until on curl -fs -o /dev/null "$S3/"; do
    [ "$SECONDS" -lt "$deadline" ] && kill -0 "$rgw_pid" 2> /dev/null ||
      { tail -20 "$W/rgw.log" "$W/rgw.out" >&2; echo "input_modes.sh: radosgw on $S3 did not answer" >&2; exit 1; }
    sleep 0.2
  done
  route="namespace host $TB_HOSTS (${TB_HOST1_ADDR}) over a $RATE link to radosgw $S3"
fi

if [ "$SMALL" = 1 ]; then
  "$TB_BIN" dataset generate --out "$W/ds" --train-files 80 --images-per-file 40 --test-images 200 --tarball none > /dev/null
else
  "$TB_BIN" dataset generate --out "$W/ds" --preset seed-1283 --tarball none > /dev/null
fi
uri="s3://$bucket/cifar-10-batches-py"
aws_s3 mb "s3://$bucket" > /dev/null
"$TB_BIN" cp --recursive --endpoint-url "$S3" "$W/ds/cifar-10-batches-py" "$uri" > /dev/null
objects=$(ls "$W/ds/cifar-10-batches-py" | grep -c -v readme)
bytes=$(du -sb --exclude=readme.html "$W/ds/cifar-10-batches-py" | cut -f1)
echo "dataset: $objects objects, $bytes bytes in $uri (RGW $S3); $EPOCHS epochs, $REPS reps"

# run MODE REP: one training run; its summary JSON (plus fetch_seconds) in $W/MODE-REP.json.
run() {
  local mode="$1" rep="$2" data="$uri" fetch=0
  local -a flags=(--input-mode "$mode")
  case "$mode" in
    file)
      rm -rf "$W/local"
      fetch=$(on /usr/bin/python3 -c 'import subprocess,sys,time; t=time.monotonic(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(time.monotonic()-t)' \
        "$TB_BIN" cp --recursive --endpoint-url "$S3" "$uri" "$W/local/cifar-10-batches-py")
      data="$W/local"
      flags+=(--shuffle files) ;;
    cached) flags=(--input-mode fastfile --cache-bytes 1GiB) ;;
  esac
  on env AWS_ENDPOINT_URL="$S3" "$TB_BIN" train --data "$data" "${flags[@]}" --epochs "$EPOCHS" --seed 1 \
    --device cpu --log-every 0 --no-evaluate --json 2> "$W/$mode-$rep.err" | tail -1 |
    /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["fetch_seconds"]=float(sys.argv[1]); print(json.dumps(d))' "$fetch" \
    > "$W/$mode-$rep.json"
}

modes=(file fastfile cached pipe)
for m in "${modes[@]}"; do run "$m" warm; done
for ((r = 0; r < REPS; r++)); do
  for ((k = 0; k < ${#modes[@]}; k++)); do run "${modes[$(((k + r) % ${#modes[@]}))]}" "$r"; done
done

/usr/bin/python3 - "$W" "$REPS" "$route" "${modes[@]}" <<'EOF'
import json, statistics, sys
w, reps, route, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
rows = {}
for m in modes:
    runs = [json.load(open(f"{w}/{m}-{r}.json")) for r in range(reps)]
    med = lambda f: statistics.median(f(d) for d in runs)
    epochs = len(runs[0]["epoch_seconds"])
    rows[m] = {
        "fetch": med(lambda d: d["fetch_seconds"]),
        "first": med(lambda d: d["first_batch_seconds"]),
        "first_all": med(lambda d: d["first_batch_seconds"] + d["fetch_seconds"]),
        "epochs": [med(lambda d, e=e: d["epoch_seconds"][e]) for e in range(epochs)],
        "bytes": runs[0].get("input_bytes_per_epoch", []),
        "gets": runs[0].get("input_gets_per_epoch", []),
        "md5": {d["weights_md5"] for d in runs},
    }
f = rows["file"]
print("route (every mode, file mode's fetch included):", route)
print("clock: trainer's steady clock (first batch, epochs); Python time.monotonic() for file mode's fetch")
print(f"{'mode':9} {'fetch s':>8} {'1st batch s':>11} {'incl fetch':>10} {'x file':>7} {'x file+f':>8}  "
      + "  ".join(f"{'epoch'+str(e+1)+' s':>9} {'x file':>6}" for e in range(len(f['epochs'])))
      + "  bytes/epoch  GETs/epoch  weights_md5")
for m, r in rows.items():
    line = (f"{m:9} {r['fetch']:8.2f} {r['first']:11.3f} {r['first_all']:10.3f} {r['first']/f['first']:7.2f} "
            f"{r['first_all']/f['first_all']:8.2f}  ")
    line += "  ".join(f"{s:9.2f} {s/fs:6.2f}" for s, fs in zip(r["epochs"], f["epochs"]))
    line += f"  {r['bytes']}  {r['gets']}  {','.join(sorted(r['md5']))[:12]}"
    print(line)
same = len({x for r in rows.values() for x in r["md5"]}) == 1
print("same weights in every mode:", "yes" if same else "NO")
EOF
