#!/usr/bin/env bash
# Checks the services started by scripts/services.sh as a user would: nginx (GET 200, Range
# 206 with the right bytes, 404), RGW through Debian's awscli (mb/cp/ls/ranged get/rm/rb,
# multipart ETag), SigV4 enforcement (wrong secret / unknown key / anonymous -> 403), and
# a CephFS write+read when TB_CEPHFS_MOUNT is set. Fails when a service is down.
# Environment: the service variables, else ${TB_SERVICES_ENV:-/tmp/tierbench-services/services.env}.
# Without them the test is skipped (exit 77), or fails when TB_REQUIRE_SERVICES=1.
set -euo pipefail

if [ -z "${TB_S3_ENDPOINT:-}" ]; then
  env_file="${TB_SERVICES_ENV:-${TB_SERVICES_DIR:-/tmp/tierbench-services}/services.env}"
  # shellcheck disable=SC1090
  [ -f "$env_file" ] && source "$env_file"
fi
if [ -z "${TB_S3_ENDPOINT:-}" ] || [ -z "${TB_HTTP_ORIGIN:-}" ]; then
  if [ "${TB_REQUIRE_SERVICES:-}" = 1 ]; then
    echo "FAIL: service variables not set and no services.env (run scripts/services.sh up)"
    exit 1
  fi
  echo "SKIP: services not running (run scripts/services.sh up)"
  exit 77
fi

AWS=/usr/bin/aws   # Debian's awscli v2; it ignores AWS_ENDPOINT_URL, so pass --endpoint-url
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_REGION="${AWS_REGION:-us-east-1}"
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
aws_s3() { timeout 120 "$AWS" --endpoint-url "$TB_S3_ENDPOINT" "$@"; }

work="$(mktemp -d /tmp/tb-services-test-XXXXXX)"
tag="tb-services-test-$$-$RANDOM"
bucket="$tag"
bucket_removed=0
cleanup() {
  rm -rf "$work" "${TB_HTTP_ROOT:?}/$tag.bin"
  [ -n "${TB_CEPHFS_MOUNT:-}" ] && rm -f "$TB_CEPHFS_MOUNT/$tag.bin"
  [ "$bucket_removed" = 1 ] || aws_s3 s3 rb "s3://$bucket" --force > /dev/null 2>&1 || true
}
trap cleanup EXIT

md5() { md5sum "$1" | cut -d' ' -f1; }
slice() {  # slice FILE OFFSET LENGTH OUT
  dd if="$1" of="$4" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none
}

# --- nginx ---------------------------------------------------------------------------------
head -c 3000000 /dev/urandom > "$TB_HTTP_ROOT/$tag.bin"
url="$TB_HTTP_ORIGIN/$tag.bin"
code="$(curl -s -o "$work/get.bin" -w '%{http_code}' --max-time 20 "$url" || true)"
if [ "$code" = 200 ] && cmp -s "$work/get.bin" "$TB_HTTP_ROOT/$tag.bin"; then
  pass "nginx GET $url -> 200, same bytes"
else
  fail "nginx GET $url -> '$code' (want 200 and identical bytes)"
fi
code="$(curl -s -D "$work/range.h" -o "$work/range.bin" -w '%{http_code}' --max-time 20 \
  -r 1000000-1999999 "$url" || true)"
slice "$TB_HTTP_ROOT/$tag.bin" 1000000 1000000 "$work/range.want"
if [ "$code" = 206 ] && cmp -s "$work/range.bin" "$work/range.want" &&
   grep -qi '^content-range: bytes 1000000-1999999/3000000' "$work/range.h"; then
  pass "nginx Range 1000000-1999999 -> 206, right bytes and Content-Range"
else
  fail "nginx Range request -> '$code' (want 206, the right 1000000 bytes, Content-Range)"
fi
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$TB_HTTP_ORIGIN/$tag-missing" || true)"
if [ "$code" = 404 ]; then pass "nginx missing file -> 404"; else fail "nginx missing file -> '$code' (want 404)"; fi
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$TB_HTTP_ORIGIN/" || true)"
if [ "$code" = 403 ] || [ "$code" = 404 ]; then pass "nginx autoindex off (/ -> $code)"
else fail "nginx / -> '$code' (want 403/404: autoindex must be off)"; fi

# --- RGW via awscli ------------------------------------------------------------------------
head -c 20000000 /dev/urandom > "$work/up.bin"   # > 8 MB: awscli uses multipart
if aws_s3 s3 mb "s3://$bucket" > "$work/mb.log" 2>&1; then
  pass "aws s3 mb s3://$bucket"
else
  fail "aws s3 mb s3://$bucket (exit $?): $(tail -n 3 "$work/mb.log")"
fi
if aws_s3 s3 cp --only-show-errors "$work/up.bin" "s3://$bucket/dir/obj.bin" > "$work/cp.log" 2>&1; then
  pass "aws s3 cp upload (20 MB, multipart)"
else
  fail "aws s3 cp upload: $(tail -n 3 "$work/cp.log")"
fi
if aws_s3 s3 ls "s3://$bucket/dir/" 2> "$work/ls.err" | grep -q ' 20000000 obj.bin$'; then
  pass "aws s3 ls lists obj.bin with its size"
else
  fail "aws s3 ls does not list obj.bin (20000000 bytes): $(tail -n 3 "$work/ls.err")"
fi
if aws_s3 s3 cp --only-show-errors "s3://$bucket/dir/obj.bin" "$work/down.bin" > "$work/cpd.log" 2>&1 &&
   [ "$(md5 "$work/down.bin")" = "$(md5 "$work/up.bin")" ]; then
  pass "aws s3 cp download, md5 matches"
else
  fail "aws s3 cp download or md5 mismatch: $(tail -n 3 "$work/cpd.log")"
fi

# Direct SigV4 requests with curl (awscli takes seconds per call on a loaded machine), and
# SigV4 enforcement: check HTTP status and exit codes, never awscli's text.
sig() {  # sig KEY SECRET PATH [curl args...] -> HTTP status of a SigV4-signed request
  local key="$1" secret="$2" path="$3"
  shift 3
  curl -s -w '%{http_code}' --max-time 20 --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$key:$secret" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@" \
    "$TB_S3_ENDPOINT$path" || true
}
obj="/$bucket/dir/obj.bin"
code="$(sig "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$obj" -I -o "$work/head.h")"
etag="$(grep -is '^etag:' "$work/head.h" | tr -d '\r' | cut -d' ' -f2 || true)"
if [ "$code" = 200 ] && [[ "$etag" == *-3\" ]]; then
  pass "signed HEAD -> 200, multipart ETag $etag"
else
  fail "signed HEAD -> '$code', ETag '$etag' (want 200 and a 3-part ETag)"
fi
slice "$work/up.bin" 5000000 100 "$work/s3range.want"
code="$(sig "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$obj" -r 5000000-5000099 -o "$work/s3range.bin")"
if [ "$code" = 206 ] && cmp -s "$work/s3range.bin" "$work/s3range.want"; then
  pass "signed ranged GET -> 206, right 100 bytes"
else
  fail "signed ranged GET -> '$code' or other bytes (want 206)"
fi
code="$(sig "$AWS_ACCESS_KEY_ID" "wrong$AWS_SECRET_ACCESS_KEY" "$obj" -o /dev/null)"
if [ "$code" = 403 ]; then pass "wrong secret -> 403"; else fail "wrong secret -> '$code' (want 403)"; fi
code="$(sig TBUNKNOWNACCESSKEY00 "$AWS_SECRET_ACCESS_KEY" "$obj" -o /dev/null)"
if [ "$code" = 403 ]; then pass "unknown access key -> 403"; else fail "unknown access key -> '$code' (want 403)"; fi
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$TB_S3_ENDPOINT$obj" || true)"
if [ "$code" = 403 ]; then pass "anonymous GET of a private object -> 403"; else fail "anonymous GET -> '$code' (want 403)"; fi
if AWS_SECRET_ACCESS_KEY="wrong$AWS_SECRET_ACCESS_KEY" aws_s3 s3api list-buckets > /dev/null 2>&1; then
  fail "awscli with a wrong secret succeeded"
else
  pass "awscli with a wrong secret exits non-zero"
fi

if aws_s3 s3 rm --only-show-errors "s3://$bucket/dir/obj.bin" > /dev/null 2>&1 &&
   [ "$(sig "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$obj" -I -o /dev/null)" = 404 ]; then
  pass "aws s3 rm, object gone (HEAD -> 404)"
else
  fail "aws s3 rm or object still there"
fi
if aws_s3 s3 rb "s3://$bucket" > /dev/null 2>&1; then
  pass "aws s3 rb"
  bucket_removed=1
else
  fail "aws s3 rb"
fi

# --- CephFS --------------------------------------------------------------------------------
if [ -n "${TB_CEPHFS_MOUNT:-}" ]; then
  fstype="$(timeout 10 stat -f -c %T "$TB_CEPHFS_MOUNT" 2>/dev/null || true)"
  head -c 8000000 /dev/urandom > "$work/fs.bin"
  if [[ "$fstype" == fuse* ]] && timeout 60 cp "$work/fs.bin" "$TB_CEPHFS_MOUNT/$tag.bin" &&
     timeout 60 sync -f "$TB_CEPHFS_MOUNT/$tag.bin" &&
     [ "$(timeout 60 md5sum < "$TB_CEPHFS_MOUNT/$tag.bin" | cut -d' ' -f1)" = "$(md5 "$work/fs.bin")" ]; then
    pass "CephFS ($fstype) at $TB_CEPHFS_MOUNT: 8 MB written and read back intact"
  else
    fail "CephFS at $TB_CEPHFS_MOUNT (type '$fstype'): write+read failed"
  fi
else
  echo "NOTE: TB_CEPHFS_MOUNT not set, CephFS not checked"
fi

if ((failures > 0)); then
  echo "services_test: $failures check(s) FAILED"
  exit 1
fi
echo "services_test: all checks passed"
