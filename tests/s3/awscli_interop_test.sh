#!/usr/bin/env bash
# Interop with the reference S3 client: what `tierbench cp` uploads, /usr/bin/aws downloads
# byte-identical, and the reverse; for single-PUT and multipart sizes and awkward keys.
# Negative checks use exit codes only (Debian's awscli crashes printing RGW's empty <Message/>).
set -uo pipefail
: "${TB_BIN:?TB_BIN must point at the tierbench binary}"
ENV_FILE="${TB_SERVICES_ENV:-/tmp/tierbench-services/services.env}"
if [ -z "${TB_S3_ENDPOINT:-}" ] && [ -f "$ENV_FILE" ]; then set -a; . "$ENV_FILE"; set +a; fi
if [ -z "${TB_S3_ENDPOINT:-}" ]; then
  if [ "${TB_REQUIRE_SERVICES:-0}" = 1 ]; then echo "FAIL: TB_S3_ENDPOINT not set" >&2; exit 1; fi
  echo "skipping: TB_S3_ENDPOINT not set (run scripts/services.sh up)"; exit 77
fi
AWS=(/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" --region "${AWS_REGION:-us-east-1}")
WORK="$(mktemp -d /tmp/tb-s3-interop.XXXXXX)"
BUCKET="tb-interop-$$-$RANDOM"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
cleanup() {
  "${AWS[@]}" s3 rb "s3://$BUCKET" --force >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AWS[@]}" s3 mb "s3://$BUCKET" >/dev/null || { echo "FAIL: aws s3 mb" >&2; exit 1; }

# name size: 0 B, 1 B, exactly one part, multipart (with a 5 MiB part size: 4 parts).
declare -A SIZES=([empty]=0 [one]=1 [part]=8388608 [multi]=17000003)
for name in "${!SIZES[@]}"; do
  head -c "${SIZES[$name]}" /dev/urandom > "$WORK/$name.src"
done

for name in "${!SIZES[@]}"; do
  key="tb-up/dir with space/$name+%ü.bin"
  if "$TB_BIN" cp --part-size 5MiB "$WORK/$name.src" "s3://$BUCKET/$key" >"$WORK/cp.log" 2>&1; then
    if "${AWS[@]}" s3 cp "s3://$BUCKET/$key" "$WORK/$name.aws" >/dev/null 2>&1 &&
       cmp -s "$WORK/$name.src" "$WORK/$name.aws"; then
      pass "tierbench up -> aws down: $name (${SIZES[$name]} B)"
    else
      fail "aws download of tierbench upload differs or failed: $name"
    fi
  else
    fail "tierbench cp upload $name: $(cat "$WORK/cp.log")"
  fi

  key2="aws-up/$name (copy)&=.bin"
  if "${AWS[@]}" s3 cp "$WORK/$name.src" "s3://$BUCKET/$key2" >/dev/null 2>&1; then
    if "$TB_BIN" cp "s3://$BUCKET/$key2" "$WORK/$name.tb" >"$WORK/cp.log" 2>&1 &&
       cmp -s "$WORK/$name.src" "$WORK/$name.tb"; then
      pass "aws up -> tierbench down: $name"
    else
      fail "tierbench download of aws upload differs or failed: $name: $(cat "$WORK/cp.log")"
    fi
  else
    fail "aws upload $name"
  fi
done

# Multipart ETag as awscli sees it: tierbench's 17 MB upload with 5 MiB parts has 4 parts.
etag=$("${AWS[@]}" s3api head-object --bucket "$BUCKET" --key "tb-up/dir with space/multi+%ü.bin" \
         --query ETag --output text 2>/dev/null)
# Expected value from coreutils, independent of tierbench: md5 of the 4 parts' binary md5s.
mkdir "$WORK/parts" && split -b 5242880 -d "$WORK/multi.src" "$WORK/parts/p."
parts=("$WORK"/parts/p.*)
want="$(for p in "${parts[@]}"; do printf '%b' "$(md5sum < "$p" | cut -c1-32 | sed 's/../\\x&/g')"; done |
  md5sum | cut -c1-32)-${#parts[@]}"
[ "${etag//\"/}" = "$want" ] && pass "multipart ETag $etag = md5 of the part md5s (md5sum)" ||
  fail "multipart ETag '$etag', md5sum over the 5 MiB parts gives '$want'"
# No multipart upload left behind.
uploads=$("${AWS[@]}" s3api list-multipart-uploads --bucket "$BUCKET" --query 'length(Uploads || `[]`)' --output text 2>/dev/null)
[ "$uploads" = 0 ] && pass "no incomplete multipart uploads" || fail "incomplete uploads left: $uploads"

# Negative: a wrong secret fails for both clients (exit codes only) and tierbench names the cause.
if AWS_SECRET_ACCESS_KEY=wrong-secret "$TB_BIN" cp "$WORK/one.src" "s3://$BUCKET/neg" >"$WORK/neg.log" 2>&1; then
  fail "tierbench cp with a wrong secret succeeded"
else
  grep -q SignatureDoesNotMatch "$WORK/neg.log" && pass "wrong secret -> SignatureDoesNotMatch" ||
    fail "wrong-secret error lacks SignatureDoesNotMatch: $(cat "$WORK/neg.log")"
  grep -q wrong-secret "$WORK/neg.log" && fail "secret printed in error output"
fi
if AWS_SECRET_ACCESS_KEY=wrong-secret "${AWS[@]}" s3 cp "$WORK/one.src" "s3://$BUCKET/neg" >/dev/null 2>&1; then
  fail "aws cp with a wrong secret succeeded"
else
  pass "aws with a wrong secret fails too"
fi
if "$TB_BIN" cp "s3://tb-no-such-bucket-$$/x" "$WORK/x" >"$WORK/neg.log" 2>&1; then
  fail "download from a missing bucket succeeded"
else
  grep -q NoSuchBucket "$WORK/neg.log" && pass "missing bucket -> NoSuchBucket" ||
    fail "missing-bucket error lacks NoSuchBucket: $(cat "$WORK/neg.log")"
fi

if [ "$failures" = 0 ]; then echo "all passed"; exit 0; else echo "$failures failure(s)"; exit 1; fi
