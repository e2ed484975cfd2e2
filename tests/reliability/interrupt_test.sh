#!/usr/bin/env bash
# Interruption: SIGINT / SIGTERM while `tierbench run` downloads (a rate-limited origin) or
# verifies (large in-place files), and while `tierbench cp` uploads a large object to RGW.
# Each must exit 130 / 143 within ~2 s, remove its temporary files, abort the multipart
# upload (none left in the bucket, no object under the key) and, for `run`, still write the
# results JSON with the interrupted stage marked "interrupted" and later stages "skipped".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
trap 'faulty_http_stop_all; rm -rf "$WORK"' EXIT
need_env TB_S3_ENDPOINT
LIMIT_S="${TB_INTERRUPT_LIMIT_S:-2.5}"  # seconds from the signal to the exit

# interrupt SIGNAL DELAY_S CMD...: starts CMD (output in $WORK/last.*), signals it after
# DELAY_S, waits; sets rc and took (seconds from the signal to the exit).
interrupt() {
  local sig=$1 delay=$2; shift 2
  "$@" >"$WORK/last.out" 2>"$WORK/last.err" &
  local pid=$!
  sleep "$delay"
  local t0 t1
  t0=$(date +%s.%N)
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
  t1=$(date +%s.%N)
  took=$(echo "$t1 - $t0" | bc)
}
prompt() {  # NAME: exit within LIMIT_S
  if [ "$(echo "$took <= $LIMIT_S" | bc)" = 1 ]; then pass "$1: exited ${took}s after the signal"
  else fail "$1: took ${took}s after the signal (limit $LIMIT_S)"; fi
}
expect_code() { expect_eq "$rc" "$([ "$1" = INT ] && echo 130 || echo 143)" "$2: exit status for SIG$1"; }

# 1. download (origin sends 1 MiB/s; 24 MiB would take 24 s)
mkdir -p "$WORK/www"
head -c $((24 << 20)) /dev/urandom > "$WORK/www/cifar-10-python.tar.gz"
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" --fault slow --rate 1048576 || exit 1
for sig in INT TERM; do
  name="download-$sig"
  interrupt "$sig" 2 "$TB_BIN" run --origin "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" \
    --md5 "$(md5_of "$WORK/www/cifar-10-python.tar.gz")" --scratch "$WORK/scratch-$name" --out "$WORK/$name.json" \
    --skip verify,pickled,meta,upload,preview,train
  expect_code "$sig" "$name"
  prompt "$name"
  if [ -s "$WORK/$name.json" ]; then
    expect_eq "$(stage "$WORK/$name.json" download status)" interrupted "$name: download marked interrupted"
    expect_eq "$(json "$WORK/$name.json" "d['status']")" interrupted "$name: run marked interrupted"
    expect_eq "$(stage "$WORK/$name.json" extract status)" skipped "$name: later stages skipped"
  else
    fail "$name: no results JSON"
  fi
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
  interrupt "$sig" 1.5 "$TB_BIN" run --scenario inplace --dataset-dir "$WORK/inplace" --manifest "$WORK/inplace.md5" \
    --scratch "$WORK/scratch-$name" --out "$WORK/$name.json" --skip pickled,meta,upload,preview,train
  expect_code "$sig" "$name"
  prompt "$name"
  if [ -s "$WORK/$name.json" ]; then
    expect_eq "$(stage "$WORK/$name.json" verify status)" interrupted "$name: verify marked interrupted"
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
  before=$(s3_uploads "$bucket")
  interrupt "$sig" 1.5 "$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" --concurrency 4 "$WORK/big.bin" \
    "s3://$bucket/$id/$name.bin"
  expect_code "$sig" "$name"
  prompt "$name"
  expect_contains "$(cat "$WORK/last.err")" "cancel" "$name: error says it was cancelled" 
  expect_eq "$(s3_uploads "$bucket")" "$before" "$name: no incomplete multipart upload left"
  if /usr/bin/aws s3api head-object --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --key "$id/$name.bin" \
      >/dev/null 2>&1; then fail "$name: an object exists under the final key"; else pass "$name: nothing under the final key"; fi
done
finish
