#!/usr/bin/env bash
# Atomic outputs under a crash: tierbench is killed with SIGKILL in the middle of a download
# (rate-limited origin), an extract (a large member) and an S3 multipart upload. No file may
# exist under its final name unless complete (only dot-prefixed ".NAME.tb-tmp.*" temporaries
# may remain), and no object may exist under the final S3 key (the orphaned multipart upload
# is invisible to readers; this test aborts it afterwards).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
need_env TB_S3_ENDPOINT
bucket=tb-reliability
id="crash-$$-$RANDOM"
trap 'faulty_http_stop_all; rm -rf "$WORK"' EXIT
# kill9_when COND_CMD CMD...: starts CMD, waits until COND_CMD succeeds (max 60 s), SIGKILLs it
# and reaps it: the checks that follow see the files exactly as the crash left them.
kill9_when() {
  local cond=$1; shift
  "$@" >"$WORK/last.out" 2>"$WORK/last.err" &
  local pid=$! i
  for ((i = 0; i < 600; i++)); do eval "$cond" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; wait "$pid" 2>/dev/null; pass "killed -9 while: $cond"
  else wait "$pid"; fail "process ended before the crash point ($cond): $(tail -2 "$WORK/last.err")"; fi
}

# 1. download
mkdir -p "$WORK/www"
head -c $((24 << 20)) /dev/urandom > "$WORK/www/cifar-10-python.tar.gz"
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" --fault slow --rate 2097152 || exit 1
kill9_when '[ -n "$(temp_files "$WORK/s1")" ]' "$TB_BIN" run --origin "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" \
  --md5 "$(md5_of "$WORK/www/cifar-10-python.tar.gz")" --scratch "$WORK/s1" --out "$WORK/r1.json" \
  --skip verify,pickled,meta,upload,preview,train
[ -z "$(find "$WORK/s1" -name cifar-10-python.tar.gz)" ] && pass "download: no tarball under its final name" \
  || fail "download: a partial tarball has its final name"
echo "download: temporaries left by the crash: $(temp_files "$WORK/s1" | wc -l)"
faulty_http_stop_all

# 2. extract: a 1.5 GiB member (zeros, ~1.5 MiB compressed) takes seconds to write
mkdir -p "$WORK/t/cifar-10-batches-py"
echo "small" > "$WORK/t/cifar-10-batches-py/batches.meta"
truncate -s 1536M "$WORK/t/cifar-10-batches-py/data_batch_1"
tar -C "$WORK/t" -cf - cifar-10-batches-py | gzip -1 > "$WORK/cifar-10-python.tar.gz"
rm -rf "$WORK/t"
kill9_when '[ -n "$(temp_files "$WORK/s2/extract")" ]' "$TB_BIN" run --origin "$WORK/cifar-10-python.tar.gz" \
  --md5 "$(md5_of "$WORK/cifar-10-python.tar.gz")" --scratch "$WORK/s2" --out "$WORK/r2.json" \
  --skip verify,pickled,meta,upload,preview,train
f="$WORK/s2/extract/cifar-10-batches-py/data_batch_1"
if [ ! -e "$f" ]; then pass "extract: no data_batch_1 under its final name"
elif [ "$(stat -c %s "$f")" = $((1536 << 20)) ]; then pass "extract: data_batch_1 exists only complete"
else fail "extract: a partial data_batch_1 ($(stat -c %s "$f") bytes) has its final name"; fi
bad=$(find "$WORK/s2/extract" -type f ! -name '.*.tb-tmp.*' ! -name batches.meta ! -name data_batch_1)
[ -z "$bad" ] && pass "extract: only complete files or temporaries" || fail "extract: unexpected files $bad"

# 3. S3 multipart upload
/usr/bin/aws s3api create-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" >/dev/null 2>&1 || true
head -c $((64 << 20)) /dev/urandom > "$WORK/chunk"
for i in $(seq 12); do cat "$WORK/chunk"; done > "$WORK/big.bin"
rm -f "$WORK/chunk"
kill9_when '[ "$(s3_uploads "$bucket" "$id/")" != 0 ]' "$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" \
  --concurrency 4 "$WORK/big.bin" "s3://$bucket/$id/big.bin"
if /usr/bin/aws s3api head-object --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --key "$id/big.bin" >/dev/null 2>&1
then fail "upload: an object exists under the final key after the crash"; else pass "upload: nothing under the final key"; fi
# Clean up the orphaned upload(s) of this key (what a lifecycle rule would do).
/usr/bin/aws s3api list-multipart-uploads --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --prefix "$id/" \
  --query 'Uploads[].UploadId' --output text 2>/dev/null | tr '\t' '\n' | grep -v '^None$' | while read -r up; do
  [ -n "$up" ] && /usr/bin/aws s3api abort-multipart-upload --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" \
    --key "$id/big.bin" --upload-id "$up" >/dev/null 2>&1
done
finish
