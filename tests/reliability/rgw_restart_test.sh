#!/usr/bin/env bash
# S3 outage: radosgw is killed and restarted (scripts/services.sh restart-rgw, ~3 s down) in
# the middle of a large multipart upload. With the default retries the upload still completes
# and the object reads back byte-identical; with --retries 0 it fails with exit 1 naming the
# destination and leaves no incomplete multipart upload behind.
# Disturbs every RGW user for ~3 s twice: skipped unless TB_RELIABILITY_RGW_RESTART=1 or CI
# (TB_REQUIRE_SERVICES=1). It runs alone so that no other test sees the outage:
# ctest: RUN_SERIAL
source "$(dirname "$0")/lib.sh"
need_env TB_S3_ENDPOINT TB_RGW_PID_FILE
if [ "${TB_RELIABILITY_RGW_RESTART:-${TB_REQUIRE_SERVICES:-0}}" != 1 ]; then
  echo "skipping: restarts RGW (set TB_RELIABILITY_RGW_RESTART=1)"; exit 77
fi
SERVICES="$TB_SOURCE_DIR/scripts/services.sh"
bucket=tb-reliability
id="rgw-restart-$$-$RANDOM"
/usr/bin/aws s3api create-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" >/dev/null 2>&1 || true
abort_ours() {  # aborts any upload this test left under its prefix (so reruns start clean)
  /usr/bin/aws s3api list-multipart-uploads --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --prefix "$id/" \
    --query 'Uploads[].[Key,UploadId]' --output text 2>/dev/null | grep -v '^None$' | while read -r key up; do
    [ -n "$up" ] && /usr/bin/aws s3api abort-multipart-upload --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" \
      --key "$key" --upload-id "$up" >/dev/null 2>&1
  done
}
trap 'abort_ours; /usr/bin/aws s3 rm --endpoint-url "$TB_S3_ENDPOINT" --recursive --only-show-errors "s3://$bucket/$id/" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
head -c $((32 << 20)) /dev/urandom > "$WORK/chunk"
for i in $(seq 32); do cat "$WORK/chunk"; done > "$WORK/big.bin"  # 1 GiB
rm -f "$WORK/chunk"
want=$(md5_of "$WORK/big.bin")

# upload_with_restart NAME [CP FLAGS]: starts the upload, restarts RGW once parts are flowing.
upload_with_restart() {
  local name=$1; shift
  : >"$WORK/$name.err"
  "$TB_BIN" cp --progress --endpoint-url "$TB_S3_ENDPOINT" --concurrency 2 --part-size 8MiB "$@" "$WORK/big.bin" \
    "s3://$bucket/$id/$name.bin" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$! i
  # Restart once bytes are flowing (cp's own progress line; awscli polling is too slow).
  for ((i = 0; i < 600; i++)); do progressed "$WORK/$name.err" cp && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then "$SERVICES" restart-rgw >"$WORK/$name.restart" 2>&1 || fail "restart-rgw"
  else fail "$name: upload finished before RGW could be restarted"; fi
  wait "$pid"
  rc=$?
}
upload_with_restart survive
expect_rc "$rc" 0 "upload across an RGW restart"
[ "$rc" = 0 ] || tail -3 "$WORK/survive.err" >&2
"$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "s3://$bucket/$id/survive.bin" "$WORK/back.bin" >/dev/null 2>&1
expect_eq "$(md5_of "$WORK/back.bin")" "$want" "object read back after the restart is byte-identical"
rm -f "$WORK/back.bin"
expect_eq "$(s3_uploads "$bucket" "$id/")" 0 "no incomplete multipart upload after the completed upload"

upload_with_restart fail --retries 0
expect_rc "$rc" 1 "upload without retries across an RGW restart"
expect_contains "$(cat "$WORK/fail.err")" "s3://$bucket/$id/fail.bin" "error names the destination"
for ((i = 0; i < 50; i++)); do /usr/bin/aws s3api head-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" \
  >/dev/null 2>&1 && break; sleep 0.2; done
# The AbortMultipartUpload sent while RGW is down retries on its own budget (s3_client.cc),
# so even with --retries 0 the failed upload is aborted once RGW is back.
expect_eq "$(s3_uploads "$bucket" "$id/")" 0 "failed upload left no incomplete multipart upload"
/usr/bin/aws s3api head-object --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --key "$id/fail.bin" >/dev/null 2>&1 \
  && fail "failed upload: object exists under the final key" || pass "failed upload: nothing under the final key"
finish
