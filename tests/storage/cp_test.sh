#!/usr/bin/env bash
# tierbench cp end to end: POSIX -> POSIX trees, naming rules, exit codes, HTTP download from
# nginx, and POSIX -> S3 -> POSIX round trips interoperating with /usr/bin/aws (Ceph RGW).
set -uo pipefail
: "${TB_BIN:?TB_BIN must point at the tierbench binary}"
ENV_FILE="${TB_SERVICES_ENV:-/tmp/tierbench-services/services.env}"
# shellcheck disable=SC1090
[ -z "${TB_HTTP_ORIGIN:-}" ] && [ -f "$ENV_FILE" ] && source "$ENV_FILE"
WORK="$(mktemp -d /tmp/tb-cp-test.XXXXXX)"
HTTP_SUB=""
BUCKET=""
cleanup() {
  rm -rf "$WORK"
  [ -n "$HTTP_SUB" ] && rm -rf "${TB_HTTP_ROOT:?}/$HTTP_SUB"
  [ -n "$BUCKET" ] && /usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$BUCKET" > /dev/null 2>&1
  return 0
}
trap cleanup EXIT
failures=0
skipped=0  # sections skipped for want of a service: the test then exits 77, never 0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
have_service() {  # have_service VAR...: true when set; a failure when required
  for v in "$@"; do
    if [ -z "${!v:-}" ]; then
      if [ "${TB_REQUIRE_SERVICES:-0}" = 1 ]; then fail "$v not set"; else echo "skipping: $v not set"; skipped=1; fi
      return 1
    fi
  done
}
expect_rc() {  # expect_rc WANT DESC CMD...
  local want="$1" desc="$2" rc
  shift 2
  "$@" > "$WORK/out" 2> "$WORK/err"
  rc=$?
  if [ "$rc" = "$want" ]; then pass "$desc"; else fail "$desc: exit $rc, want $want: $(cat "$WORK/err")"; fi
}
same_tree() {  # same_tree A B DESC
  if diff -r "$1" "$2" > "$WORK/diff" 2>&1; then pass "$3"; else fail "$3: $(head -5 "$WORK/diff")"; fi
}

# A tree with empty, tiny, odd-named, nested and multi-part files.
SRC="$WORK/src"
mkdir -p "$SRC/a/b/c" "$SRC/with space" "$SRC/unicodé"
: > "$SRC/empty"
printf x > "$SRC/one"
for i in $(seq 1 40); do head -c $((i * 1000)) /dev/urandom > "$SRC/a/b/f$i"; done
head -c 5000 /dev/urandom > "$SRC/with space/plus+and%percent"
head -c 3000 /dev/urandom > "$SRC/unicodé/日本.bin"
head -c $((20 * 1024 * 1024 + 7)) /dev/urandom > "$SRC/a/b/c/large.bin"
nfiles=$(find "$SRC" -type f | wc -l)

# POSIX -> POSIX tree.
expect_rc 0 "cp --recursive posix->posix" "$TB_BIN" cp --recursive --part-size 1MiB --concurrency 4 "$SRC" "$WORK/copy"
same_tree "$SRC" "$WORK/copy" "tree copy is identical"
grep -q "copied $nfiles files" "$WORK/out" && pass "summary counts $nfiles files" || fail "summary: $(cat "$WORK/out")"
[ -z "$(find "$WORK/copy" -name '.*tb-tmp*')" ] && pass "no temp files left" || fail "temp files left"

# Single objects: aws-style naming.
mkdir -p "$WORK/dir"
expect_rc 0 "cp file to existing dir" "$TB_BIN" cp "$SRC/a/b/f3" "$WORK/dir"
cmp -s "$SRC/a/b/f3" "$WORK/dir/f3" && pass "file keeps its name in dir" || fail "dir/f3 differs"
expect_rc 0 "cp file to new dir/" "$TB_BIN" cp "$SRC/one" "$WORK/newdir/"
cmp -s "$SRC/one" "$WORK/newdir/one" && pass "dst ending in / is a dir" || fail "newdir/one differs"
expect_rc 0 "cp --json" "$TB_BIN" cp --json "$SRC/a/b/c/large.bin" "$WORK/large.copy"
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['bytes']==20971527 and d['files']==1, d" \
  "$WORK/out" && pass "json summary" || fail "json summary: $(cat "$WORK/out")"
cmp -s "$SRC/a/b/c/large.bin" "$WORK/large.copy" && pass "large single file exact" || fail "large copy differs"

# Usage and failures.
expect_rc 2 "missing DST is a usage error" "$TB_BIN" cp "$SRC/one"
expect_rc 2 "unknown flag is a usage error" "$TB_BIN" cp --bogus "$SRC/one" "$WORK/x"
expect_rc 2 "directory without --recursive" "$TB_BIN" cp "$SRC" "$WORK/x"
expect_rc 2 "unknown scheme" "$TB_BIN" cp "$SRC/one" "ftp://host/x"
expect_rc 1 "missing source fails" "$TB_BIN" cp "$WORK/nope.bin" "$WORK/x"
grep -q "$WORK/nope.bin" "$WORK/err" && pass "error names the path" || fail "error: $(cat "$WORK/err")"
[ ! -e "$WORK/x" ] && pass "nothing created on failure" || fail "$WORK/x exists"

# HTTP origin (nginx) -> POSIX.
if have_service TB_HTTP_ORIGIN TB_HTTP_ROOT; then
  HTTP_SUB="tb-cp-test-$$"
  mkdir -p "$TB_HTTP_ROOT/$HTTP_SUB/sub dir"
  cp "$SRC/a/b/c/large.bin" "$TB_HTTP_ROOT/$HTTP_SUB/sub dir/large+1.bin"
  expect_rc 0 "cp http->posix" "$TB_BIN" cp "$TB_HTTP_ORIGIN/$HTTP_SUB/sub%20dir/large+1.bin" "$WORK/http/"
  cmp -s "$SRC/a/b/c/large.bin" "$WORK/http/large+1.bin" && pass "http download exact" || fail "http download differs"
  expect_rc 1 "http 404 fails" "$TB_BIN" cp "$TB_HTTP_ORIGIN/$HTTP_SUB/missing.bin" "$WORK/http/"
  grep -q "404" "$WORK/err" && grep -qF "$TB_HTTP_ORIGIN/$HTTP_SUB/missing.bin" "$WORK/err" &&
    pass "404 names URL and status" || fail "404 message: $(cat "$WORK/err")"
fi

# POSIX -> S3 -> POSIX, and interop with awscli both ways.
if have_service TB_S3_ENDPOINT; then
  AWS=(/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT")
  BUCKET="tb-cp-test-$$"
  if "${AWS[@]}" s3 mb "s3://$BUCKET" > /dev/null 2>&1; then
    expect_rc 0 "cp --recursive posix->s3" "$TB_BIN" cp --recursive --endpoint-url "$TB_S3_ENDPOINT" "$SRC" "s3://$BUCKET/up"
    expect_rc 0 "cp --recursive s3->posix" "$TB_BIN" cp --recursive --endpoint-url "$TB_S3_ENDPOINT" "s3://$BUCKET/up" "$WORK/s3back"
    same_tree "$SRC" "$WORK/s3back" "posix->s3->posix identical"
    "${AWS[@]}" s3 cp --recursive --only-show-errors "s3://$BUCKET/up" "$WORK/awsback" > /dev/null 2>&1
    same_tree "$SRC" "$WORK/awsback" "aws reads what tierbench uploaded"
    "${AWS[@]}" s3 cp --recursive --only-show-errors "$SRC" "s3://$BUCKET/byaws" > /dev/null 2>&1
    expect_rc 0 "cp s3->posix of aws upload" "$TB_BIN" cp --recursive "s3://$BUCKET/byaws" "$WORK/tbback" --endpoint-url "$TB_S3_ENDPOINT"
    same_tree "$SRC" "$WORK/tbback" "tierbench reads what aws uploaded (multipart ETags included)"
    expect_rc 0 "cp single object s3->dir" "$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "s3://$BUCKET/up/a/b/f7" "$WORK/single/"
    cmp -s "$SRC/a/b/f7" "$WORK/single/f7" && pass "single object exact" || fail "single object differs"
    expect_rc 1 "missing s3 object fails" "$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "s3://$BUCKET/up/none" "$WORK/single/"
    grep -q "$BUCKET" "$WORK/err" && pass "s3 error names the bucket" || fail "s3 error: $(cat "$WORK/err")"
  else
    fail "could not create bucket $BUCKET with /usr/bin/aws"
  fi
fi

if [ "$failures" != 0 ]; then echo "$failures failure(s)"; exit 1; fi
if [ "$skipped" = 1 ]; then echo "passed, but sections were skipped (services not running)"; exit 77; fi
echo "all passed"
