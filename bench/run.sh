#!/usr/bin/env bash
# bench/run.sh: tierbench against the tools a user would otherwise pick, on the same data in
# the same run, and writes docs/benchmarks.md (machine facts, the command, tables).
#
#   bench/run.sh                      # defaults below; needs scripts/services.sh up and a build
#
# What it runs, for each dataset size (files) and round, interleaved so that the shared
# machine's noise hits every tool alike:
#   tierbench run (staged: download .. upload, preview; train only with TB_BENCH_TRAIN=1)
#   bench/python/pipeline.py: the reference architecture's stages with torchvision / boto3
#   shell: curl; md5sum; tar xzf; md5sum -c | xargs -P$(nproc) md5sum | curl|tee >(md5sum)|tar xz
#          | aria2c -x16
#   awscli and rclone: upload and download against the same Ceph RGW; tierbench cp for download
#   pickle.load + numpy (in pipeline.py: pickled_numpy) and peak RSS of tierbench's pickled
# Like with like: the Python pipeline's in-process stage timers are set against tierbench run's
# stage spans; a shell tool's whole-process wall time against tierbench's own whole process
# doing the same work (tierbench cp, tierbench dataset verify), timed the same way. Where
# tierbench has no verb for a stage on its own (extract), the shell tool is shown without a
# ratio. A ratio of two times under 10 ms is not printed.
# plus per-core MD5 speed (bench/md5/md5_speed.cc: OpenSSL vs multi-buffer, CPU time) and
# verify vs OpenSSL single-stream x cores. Data is page-cached (caches are not dropped).
# Results: medians over rounds and medians of per-round ratios (tierbench speedup = peer
# seconds / tierbench seconds); raw records in $TB_BENCH_WORK/records.jsonl.
#
# Environment (all optional):
#   TB_BIN                    tierbench binary (default: build/tierbench)
#   TB_BENCH_SIZES            file counts, each a dataset of N files (default "128 512 1283");
#                             1283 = preset seed-1283 (1,280 data_batch + test_batch + meta + readme)
#   TB_BENCH_IMAGES_PER_FILE  images per data_batch file (default 40; the reference
#                             architecture's full size is 1000, about 4 GB at 1,283 files)
#   TB_BENCH_ROUNDS           rounds per size (default 3)
#   TB_BENCH_TRAIN            1: also time training (tierbench vs bench/train/train_ref.py)
#   TB_BENCH_WORK             scratch folder (default /tmp/tb-bench; removed at the end unless
#                             TB_BENCH_KEEP=1)
#   TB_BENCH_OUT              report path (default docs/benchmarks.md)
#   TB_BENCH_CP_MIB           size for bench/cp/http_download.sh (default 256; 0 skips it)
#   TB_BENCH_CP_S3            1: also run bench/cp/run.sh (S3 copy of its own file set)
#   TB_BENCH_SETTLE           seconds the file system settles after deleting finished trees
#                             (default 30; see retire() below)
#   TB_BENCH_TIER             0: skip bench/tier.sh, which runs after the report (about a
#                             minute: tierbench's stages against cat/md5sum/curl/awscli/rclone
#                             on the same tier, cold cache) and adds its section to the report
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TB_BIN="$(realpath "${TB_BIN:-$ROOT/build/tierbench}")"
SIZES="${TB_BENCH_SIZES:-128 512 1283}"
IPF="${TB_BENCH_IMAGES_PER_FILE:-40}"
ROUNDS="${TB_BENCH_ROUNDS:-3}"
WORK="${TB_BENCH_WORK:-/tmp/tb-bench}"
OUT="${TB_BENCH_OUT:-$ROOT/docs/benchmarks.md}"
PY=/usr/bin/python3
[ -x "$TB_BIN" ] || { echo "bench: no tierbench binary at $TB_BIN (build first or set TB_BIN)" >&2; exit 2; }
MD5_SPEED="$(dirname "$TB_BIN")/bench/md5_speed"  # bench/CMakeLists.txt builds it beside tierbench
[ -x "$MD5_SPEED" ] || { echo "bench: no md5_speed at $MD5_SPEED (build the md5_speed target)" >&2; exit 2; }
if [ -z "${TB_HTTP_ORIGIN:-}" ]; then
  [ -f /tmp/tierbench-services/services.env ] || { echo "bench: run scripts/services.sh up first" >&2; exit 2; }
  # shellcheck disable=SC1091
  source /tmp/tierbench-services/services.env
fi
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-$TB_S3_ENDPOINT}"
export RCLONE_CONFIG_TBRGW_TYPE=s3 RCLONE_CONFIG_TBRGW_PROVIDER=Ceph
export RCLONE_CONFIG_TBRGW_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" RCLONE_CONFIG_TBRGW_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
export RCLONE_CONFIG_TBRGW_ENDPOINT="$TB_S3_ENDPOINT" RCLONE_CONFIG_TBRGW_REGION="${AWS_REGION:-us-east-1}"
AWS=(/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT")
# rclone's AWS SDK refuses a custom CA bundle on its transport; the endpoint is plain http.
rcl() { env -u AWS_CA_BUNDLE rclone "$@"; }
BUCKET="tb-bench-$$"
WWW="$TB_HTTP_ROOT/tb-bench-$$"
NPROC="$(nproc)"
rm -rf "$WORK"
mkdir -p "$WORK" "$WWW"
cleanup() {
  [ "${TB_BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
  rm -rf "$WWW"
  "${AWS[@]}" s3 rb --force "s3://$BUCKET" > /dev/null 2>&1 || true
}
trap cleanup EXIT
REC="$WORK/records.jsonl"
: > "$REC"
: > "$WORK/failures.txt"
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }
# a failed run is reported (in the log and docs/benchmarks.md) and left out of the medians
fail() { echo "[bench] FAILED: $*" >&2; echo "$*" >> "$WORK/failures.txt"; }
# record TOOL STAGE SIZE ROUND SECONDS BYTES [EXTRA_JSON]
record() {
  printf '{"tool":"%s","stage":"%s","size":%s,"round":%s,"seconds":%s,"bytes":%s%s}\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "${7:+,$7}" >> "$REC"
}
now() { date +%s.%N; }
# retire DIR: takes a finished run's files out of the way. ext4 skips inodes freed in the last
# 5-30 s when it allocates new ones, so deleting 1,283 files right before the next tool creates
# 1,283 makes that tool pay for the deletion. Small runs park their trees and delete them all
# at the end of a round, then let the file system settle; large runs (disk space) delete at
# once and settle after each.
SETTLE="${TB_BENCH_SETTLE:-30}"
retire() {
  [ -e "$1" ] || return 0
  if [ "$IPF" -gt 100 ]; then
    rm -rf "$1"
    sleep "$SETTLE"
  else
    mkdir -p "$WORK/retired"
    mv "$1" "$WORK/retired/$(date +%s%N)"
  fi
}
settle_round() {
  [ -d "$WORK/retired" ] || return 0
  rm -rf "$WORK/retired"
  sync
  sleep "$SETTLE"
}
since() { printf '%.6f' "$(echo "$(now) - $1" | bc -l)"; }
# timed TOOL STAGE SIZE ROUND BYTES CMD...: runs CMD, records its wall seconds
timed() {
  local tool="$1" stage="$2" size="$3" round="$4" bytes="$5" t0
  shift 5
  t0=$(now)
  if ! "$@" > "$WORK/last.out" 2> "$WORK/last.err"; then
    fail "$tool $stage ($size files, round $round): $(tail -1 "$WORK/last.err")"
    return 0
  fi
  record "$tool" "$stage" "$size" "$round" "$(since "$t0")" "$bytes"
}

"${AWS[@]}" s3 mb "s3://$BUCKET" > /dev/null

# ---- per-core MD5 speed (CPU time, in memory) ----
log "md5 kernels: OpenSSL vs multi-buffer"
"$MD5_SPEED" 32 9 > "$WORK/md5_speed.json"

# ---- datasets ----
declare -A NTRAIN DS URL MD5 BYTES
for n in $SIZES; do
  NTRAIN[$n]=$((n - 3))  # + test_batch, batches.meta, readme.html
  DS[$n]="$WORK/ds-$n"
  log "generating $n files x $IPF images"
  "$TB_BIN" dataset generate --out "${DS[$n]}" --preset seed-1283 --train-files "${NTRAIN[$n]}" \
    --images-per-file "$IPF" > /dev/null
  mkdir -p "$WWW/$n"
  cp "${DS[$n]}/cifar-10-python.tar.gz" "${DS[$n]}/cifar-10-python.tar.gz.md5" "${DS[$n]}/cifar-10-batches-py.md5" "$WWW/$n/"
  URL[$n]="$TB_HTTP_ORIGIN/tb-bench-$$/$n/cifar-10-python.tar.gz"
  MD5[$n]="$(cut -d' ' -f1 < "${DS[$n]}/cifar-10-python.tar.gz.md5")"
  BYTES[$n]="$(du -sb --apparent-size "${DS[$n]}/cifar-10-batches-py" | cut -f1)"
  TAR_BYTES=$(stat -c %s "${DS[$n]}/cifar-10-python.tar.gz")
  echo "{\"size\":$n,\"dataset_bytes\":${BYTES[$n]},\"tarball_bytes\":$TAR_BYTES,\"images_per_file\":$IPF}" >> "$WORK/datasets.jsonl"
done

stages_json() {  # tierbench results JSON -> records
  $PY - "$1" "$2" "$3" "$REC" <<'PYEOF'
import json, sys
res, size, rnd, rec = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
d = json.load(open(res))
with open(rec, "a") as f:
    for s in d["stages"]:
        if s["status"] == "ok":
            f.write(json.dumps({"tool": "tierbench", "stage": s["name"], "size": int(size), "round": int(rnd),
                                "seconds": s["seconds"], "bytes": s.get("bytes", 0)}) + "\n")
    f.write(json.dumps({"tool": "tierbench", "stage": "total", "size": int(size), "round": int(rnd),
                        "seconds": d["total_seconds"], "bytes": 0}) + "\n")
    # streaming ingest overlaps download..verify: wall clock of the data stages
    data = [s for s in d["stages"] if s["name"] in ("download", "integrity", "extract", "verify", "pickled", "meta")]
    if len(data) == 6 and all(s["status"] == "ok" for s in data):
        wall = sum(s["seconds"] for s in data) - d.get("overlapped_seconds", 0.0)
        f.write(json.dumps({"tool": "tierbench", "stage": "data-wall", "size": int(size), "round": int(rnd),
                            "seconds": wall, "bytes": 0}) + "\n")
        f.write(json.dumps({"tool": "tierbench", "stage": "ingest-wall", "size": int(size), "round": int(rnd),
                            "seconds": wall - data[4]["seconds"] - data[5]["seconds"], "bytes": 0}) + "\n")
PYEOF
}

for ((r = 1; r <= ROUNDS; r++)); do
  for n in $SIZES; do
    log "round $r, $n files"
    ds="${DS[$n]}/cifar-10-batches-py"
    b="${BYTES[$n]}"
    tb_skip="train"
    [ "${TB_BENCH_TRAIN:-0}" = 1 ] && tb_skip=""
    # tierbench, staged scenario, every data stage
    t0=$(now)
    "$TB_BIN" run --scenario staged --label bench --scratch "$WORK/tb" --origin "${URL[$n]}" --md5 "${MD5[$n]}" \
      --manifest "$WWW/$n/cifar-10-batches-py.md5" --upload-to "s3://$BUCKET/tb-$n-$r" \
      ${tb_skip:+--skip $tb_skip} --max-steps 200 --epochs 1 --out "$WORK/tb-$n-$r.json" > "$WORK/tb.out" 2>&1 ||
      fail "tierbench run ($n files, round $r): $(grep -m1 FAILED "$WORK/tb.out" || tail -1 "$WORK/tb.out")"
    [ -f "$WORK/tb-$n-$r.json" ] && stages_json "$WORK/tb-$n-$r.json" "$n" "$r"
    retire "$WORK/tb"
    # what integrity + verify add to download + extract (streaming ingest overlaps them)
    for mode in plain checked; do
      sk=pickled,meta,upload,preview,train
      [ "$mode" = plain ] && sk="integrity,verify,$sk"
      timed tierbench "ingest-$mode" "$n" "$r" "$b" "$TB_BIN" run --scenario staged --label ingest --scratch "$WORK/tb" \
        --origin "${URL[$n]}" --md5 "${MD5[$n]}" --manifest "$WWW/$n/cifar-10-batches-py.md5" --skip "$sk" \
        --out "$WORK/ingest.json"
      retire "$WORK/tb"
    done
    # the Python pipeline
    py_stages="download,integrity,extract,verify,pickled,pickled_numpy,meta,upload,preview"
    [ "${TB_BENCH_TRAIN:-0}" = 1 ] && py_stages="$py_stages,train"
    $PY "$HERE/python/pipeline.py" --url "${URL[$n]}" --md5 "${MD5[$n]}" --manifest "$WWW/$n/cifar-10-batches-py.md5" \
      --scratch "$WORK/py" --bucket "$BUCKET" --prefix "py-$n-$r" --endpoint-url "$TB_S3_ENDPOINT" \
      --stages "$py_stages" > "$WORK/py.json" 2> "$WORK/py.err" ||
      fail "python pipeline ($n files, round $r): $(tail -1 "$WORK/py.err")"
    [ -s "$WORK/py.json" ] && $PY - "$WORK/py.json" "$n" "$r" "$REC" <<'PYEOF'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
with open(sys.argv[4], "a") as f:
    for st, secs in d["stages"].items():
        f.write(json.dumps({"tool": "python", "stage": st, "size": int(sys.argv[2]), "round": int(sys.argv[3]),
                            "seconds": secs, "bytes": d["bytes"].get(st, 0)}) + "\n")
PYEOF
    retire "$WORK/py"
    # shell pipelines
    sh="$WORK/sh"
    retire "$sh"
    mkdir -p "$sh/x"
    timed shell download "$n" "$r" 0 curl -sf -o "$sh/t.tgz" "${URL[$n]}"
    # tierbench as a whole process too, timed the same way as the shell tools (like with like)
    timed tierbench-proc download "$n" "$r" 0 "$TB_BIN" cp --no-progress "${URL[$n]}" "$sh/tb.tgz"
    timed shell integrity "$n" "$r" 0 md5sum "$sh/t.tgz"
    [ "$(cut -d' ' -f1 < "$WORK/last.out")" = "${MD5[$n]}" ] || { echo "bench: shell md5 mismatch" >&2; exit 1; }
    echo "${MD5[$n]}  t.tgz" > "$sh/t.md5"
    timed tierbench-proc integrity "$n" "$r" 0 "$TB_BIN" dataset verify --quiet --manifest "$sh/t.md5" --root "$sh"
    timed shell extract "$n" "$r" 0 tar xzf "$sh/t.tgz" -C "$sh/x"
    timed shell verify "$n" "$r" "$b" bash -c "cd '$sh/x' && md5sum -c --quiet '$WWW/$n/cifar-10-batches-py.md5'"
    timed xargs verify "$n" "$r" "$b" bash -c "cd '$sh/x' && cut -c35- '$WWW/$n/cifar-10-batches-py.md5' | xargs -P$NPROC -n 32 md5sum > ../sums && diff -q <(sort -k2 ../sums) <(sort -k2 '$WWW/$n/cifar-10-batches-py.md5')"
    retire "$sh/x"
    mkdir -p "$sh/x"
    timed stream download+integrity+extract "$n" "$r" 0 bash -c "curl -sf '${URL[$n]}' | tee >(md5sum > '$sh/stream.md5') | tar xz -C '$sh/x'"
    timed aria2c download "$n" "$r" 0 aria2c -q -x16 -s16 --file-allocation=none --allow-overwrite=true -d "$sh" -o a.tgz "${URL[$n]}"
    # upload and download against the same RGW
    timed awscli upload "$n" "$r" "$b" "${AWS[@]}" s3 cp --recursive --only-show-errors "$ds" "s3://$BUCKET/aws-$n-$r/cifar-10-batches-py"
    timed rclone upload "$n" "$r" "$b" rcl copy --transfers 16 --checkers 16 --s3-no-check-bucket "$ds" "tbrgw:$BUCKET/rclone-$n-$r/cifar-10-batches-py"
    timed tierbench-proc upload "$n" "$r" "$b" "$TB_BIN" cp --recursive --no-progress "$ds" "s3://$BUCKET/tbcp-$n-$r/cifar-10-batches-py"
    timed tierbench s3download "$n" "$r" "$b" "$TB_BIN" cp --recursive --no-progress "s3://$BUCKET/aws-$n-$r" "$sh/tbd"
    timed awscli s3download "$n" "$r" "$b" "${AWS[@]}" s3 cp --recursive --only-show-errors "s3://$BUCKET/aws-$n-$r" "$sh/awsd"
    timed rclone s3download "$n" "$r" "$b" rcl copy --transfers 16 --checkers 16 "tbrgw:$BUCKET/aws-$n-$r" "$sh/rcd"
    retire "$sh"
    # verify alone, page-cached: tierbench vs one OpenSSL stream (x cores)
    timed tierbench verify-cached "$n" "$r" "$b" "$TB_BIN" dataset verify --quiet --manifest "${DS[$n]}/cifar-10-batches-py.md5" --root "${DS[$n]}"
    timed openssl single-stream "$n" "$r" "$b" bash -c "openssl md5 '$ds'/* > /dev/null"
    # peak RSS of tierbench's pickled stage alone (inplace: the files where they are)
    /usr/bin/time -f '%M' -o "$WORK/rss" "$TB_BIN" run --scenario inplace --label rss --scratch "$WORK/rss-scratch" \
      --dataset-dir "$ds" --manifest "${DS[$n]}/cifar-10-batches-py.md5" --skip verify,upload,preview,train \
      --out "$WORK/rss.json" > /dev/null 2>&1 && record tierbench pickled-rss "$n" "$r" 0 0 "\"maxrss_kb\":$(tail -1 "$WORK/rss")" ||
      fail "tierbench pickled-only run ($n files, round $r)"
    retire "$WORK/rss-scratch"
  done
  settle_round
done

# ---- optional: bench/cp's HTTP download comparison (tierbench cp vs curl vs aria2c) ----
if [ -x "$ROOT/bench/cp/http_download.sh" ] && [ "${TB_BENCH_CP_MIB:-256}" != 0 ]; then
  log "bench/cp/http_download.sh ${TB_BENCH_CP_MIB:-256} MiB"
  TB_BIN="$TB_BIN" "$ROOT/bench/cp/http_download.sh" "${TB_BENCH_CP_MIB:-256}" "$ROUNDS" > "$WORK/cp.txt" 2>&1 || true
fi
if [ -x "$ROOT/bench/cp/run.sh" ] && [ "${TB_BENCH_CP_S3:-0}" = 1 ]; then
  log "bench/cp/run.sh (S3 upload/download of bench/cp's own 1,283-file set)"
  { echo; echo "\$ bench/cp/run.sh"; TB_BIN="$TB_BIN" "$ROOT/bench/cp/run.sh" 2>&1; } >> "$WORK/cp.txt" || true
fi

log "writing $OUT"
$PY "$HERE/report.py" --records "$REC" --datasets "$WORK/datasets.jsonl" --md5 "$WORK/md5_speed.json" \
  --cp "$WORK/cp.txt" --failures "$WORK/failures.txt" --tb-bin "$TB_BIN" --rounds "$ROUNDS" --images-per-file "$IPF" --out "$OUT"
# tierbench against the raw tier (cold cache): its own section of $OUT, which report.py rewrote
if [ "${TB_BENCH_TIER:-1}" = 1 ]; then
  log "bench/tier.sh (tierbench against the raw tier, cold cache)"
  TB_BIN="$TB_BIN" "$HERE/tier.sh" --reps "$ROUNDS" --md "$OUT" > "$WORK/tier.txt" 2>&1 ||
    log "bench/tier.sh failed (its section is missing): $(tail -1 "$WORK/tier.txt")"
fi
cp "$REC" "${OUT%.md}.records.jsonl"
log "done: $OUT"
