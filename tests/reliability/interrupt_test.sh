#!/usr/bin/env bash
# Interruption: SIGINT / SIGTERM while `tierbench run` downloads (a rate-limited origin) or
# verifies (large in-place files), and while `tierbench cp` uploads a large object to RGW.
# Each is signalled once its work is seen under way (an event: a temporary file, a progress
# line), never after a fixed sleep. Each must exit 130 / 143 having stopped mid-work (the
# origin's log shows an unfinished body; verify names how many files it had done), remove its
# temporary files, abort the multipart upload (none left under the key, no object under it)
# and, for `run`, still write the results JSON with the interrupted stage marked
# "interrupted" and later stages "skipped". The time from signal to exit is printed only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
trap 'faulty_http_stop_all; rm -rf "$WORK"' EXIT
need_env TB_S3_ENDPOINT

# interrupt SIGNAL COND CMD...: starts CMD (output in $WORK/last.*), polls until the shell
# condition COND holds (the work is under way; at most 120 s), signals it, waits; sets rc and
# took (seconds from the signal to the exit, for the log only). A command that ends before
# COND holds is a failure (rc=none).
interrupt() {
  local sig=$1 cond=$2 i; shift 2
  : >"$WORK/last.out"; : >"$WORK/last.err"  # COND must not see the previous command's output
  "$@" >"$WORK/last.out" 2>"$WORK/last.err" &
  local pid=$!
  for ((i = 0; i < 1200; i++)); do eval "$cond" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if ! kill -0 "$pid" 2>/dev/null || ! eval "$cond"; then
    wait "$pid"
    rc=none
    fail "ended or never got under way ($cond) before SIG$sig: $(tail -c 300 "$WORK/last.err")"
    return
  fi
  local t0 t1
  t0=$(date +%s.%N)
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
  t1=$(date +%s.%N)
  took=$(echo "$t1 - $t0" | bc)
  echo "SIG$sig: exited ${took}s after the signal"
}

expect_code() { expect_eq "$rc" "$([ "$1" = INT ] && echo 130 || echo 143)" "$2: exit status for SIG$1"; }

# 1. download (origin sends 1 MiB/s; 24 MiB would take 24 s)
mkdir -p "$WORK/www"
head -c $((24 << 20)) /dev/urandom > "$WORK/www/cifar-10-python.tar.gz"
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" --fault slow --rate 1048576 || exit 1
for sig in INT TERM; do
  name="download-$sig"
  curl -s -o /dev/null "$FAULTY_HTTP_URL/__control/reset"
  interrupt "$sig" '[ -n "$(temp_files "$WORK/scratch-$name")" ]' \
    "$TB_BIN" run --origin "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" \
    --md5 "$(md5_of "$WORK/www/cifar-10-python.tar.gz")" --scratch "$WORK/scratch-$name" --out "$WORK/$name.json" \
    --skip verify,pickled,meta,upload,preview,train
  expect_code "$sig" "$name"
  # The origin logs a request when it ends: wait for it, then read how far the body got.
  sent=""
  for ((i = 0; i < 100; i++)); do
    sent=$(curl -s "$FAULTY_HTTP_URL/__control/stats" | "$PY" -c '
import json, sys
e = [e for e in json.load(sys.stdin)["log"] if e.get("paced")]
print(e[-1]["paced"][-1][0] if e else "")')
    [ -n "$sent" ] && break
    sleep 0.1
  done
  # `sent` is where the last chunk (rate / 10 bytes) started: more chunks were due.
  if [ -n "$sent" ] && [ $((sent + (1048576 / 10))) -lt $((24 << 20)) ]; then
    pass "$name: stopped mid-download (the origin's last chunk started at byte $sent of 24 MiB)"
  else fail "$name: the origin's log does not show an unfinished body (last chunk at '$sent')"; fi
  expect_interrupted "$WORK/$name.json" "$name" download extract skipped
  expect_no_temp "$WORK/scratch-$name" "$name"
  [ -z "$(find "$WORK/scratch-$name" -name cifar-10-python.tar.gz)" ] && pass "$name: no tarball under its final name" \
    || fail "$name: a partial tarball has its final name"
done
faulty_http_stop_all

# 2. verify (in place: 512 sparse files of 32 MiB = 16 GiB, several seconds even with
#    multi-buffer MD5 on every core; verify polls the cancel flag between batches of 1 GiB)
data="$WORK/inplace/cifar-10-batches-py"
mkdir -p "$data"
: > "$data/batches.meta"  # marks a CIFAR dataset dir; not in the manifest
: > "$WORK/inplace.md5"
for i in $(seq 1 512); do
  truncate -s 32M "$data/data_$i"
  echo "0123456789abcdef0123456789abcdef  cifar-10-batches-py/data_$i" >> "$WORK/inplace.md5"
done
for sig in INT TERM; do
  name="verify-$sig"
  interrupt "$sig" 'progressed "$WORK/last.err" verify' "$TB_BIN" run --progress --scenario inplace --dataset-dir "$WORK/inplace" \
    --manifest "$WORK/inplace.md5" --scratch "$WORK/scratch-$name" --out "$WORK/$name.json" \
    --skip pickled,meta,upload,preview,train
  expect_code "$sig" "$name"
  if [ -s "$WORK/$name.json" ]; then
    expect_eq "$(stage "$WORK/$name.json" verify status)" interrupted "$name: verify marked interrupted"
    done_files=$(grep -ao 'verify interrupted after [0-9]* of 512 files' "$WORK/$name.json" "$WORK/last.err" | head -1 |
      sed 's/.*after \([0-9]*\) of.*/\1/')
    if [ -n "$done_files" ] && [ "$done_files" -lt 512 ]; then pass "$name: stopped after $done_files of 512 files"
    else fail "$name: verify did not stop mid-way: $(tail -c 300 "$WORK/last.err")"; fi
  else
    fail "$name: no results JSON"
  fi
done

# 3. upload (cp of a 1 GiB file to RGW as a multipart upload)
bucket=tb-reliability
/usr/bin/aws s3api create-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" >/dev/null 2>&1 || true
id="interrupt-$$-$RANDOM"
head -c $((64 << 20)) /dev/urandom > "$WORK/chunk"
for i in $(seq 16); do cat "$WORK/chunk"; done > "$WORK/big.bin"
rm -f "$WORK/chunk"
for sig in INT TERM; do
  name="upload-$sig"
  interrupt "$sig" 'progressed "$WORK/last.err" cp' \
    "$TB_BIN" cp --progress --endpoint-url "$TB_S3_ENDPOINT" --concurrency 4 "$WORK/big.bin" "s3://$bucket/$id/$name.bin"
  expect_code "$sig" "$name"
  expect_contains "$(cat "$WORK/last.err")" "cancel" "$name: error says it was cancelled" 
  expect_eq "$(s3_uploads "$bucket" "$id/$name.bin")" 0 "$name: no incomplete multipart upload left"
  if /usr/bin/aws s3api head-object --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --key "$id/$name.bin" \
      >/dev/null 2>&1; then fail "$name: an object exists under the final key"; else pass "$name: nothing under the final key"; fi
done
finish
