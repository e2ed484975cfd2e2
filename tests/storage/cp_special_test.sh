#!/usr/bin/env bash
# tierbench cp --recursive over a tree holding entries that are no regular file: FIFOs, sockets,
# dangling symlinks, symlink loops, symlinks to directories. Each must be named on stderr with
# its kind and counted; without --skip-special the copy exits 1, with it exits 0 and still
# prints the count. Regular files (and symlinks to them) are copied; nothing blocks on a FIFO.
# Then cp to a bucket that does not exist (Ceph RGW): refused unless --create-bucket.
source "$(dirname "$0")/../pipeline/lib.sh"
ENV_FILE="${TB_SERVICES_ENV:-/tmp/tierbench-services/services.env}"
# shellcheck disable=SC1090
[ -z "${TB_S3_ENDPOINT:-}" ] && [ -f "$ENV_FILE" ] && source "$ENV_FILE"
BUCKET=""
cleanup() {
  rm -rf "$WORK"
  [ -n "$BUCKET" ] && /usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$BUCKET" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT

src="$WORK/src"
mkdir -p "$src/sub"
head -c 100000 /dev/urandom > "$src/a.bin"
head -c 3000 /dev/urandom > "$src/sub/b.bin"
mkfifo "$src/sub/pipe"
ln -s "no-such-target" "$src/dangling"
ln -s "sub/b.bin" "$src/link-to-b"
ln -s "sub" "$src/link-to-dir"
ln -s "loop" "$src/loop"
"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$src/sock"
[ -S "$src/sock" ] || fail "could not create a socket in the source tree"

# 1. default: copy the rest, report each entry, exit 1
"$TB_BIN" cp --recursive "$src" "$WORK/dst1" >"$WORK/out1" 2>"$WORK/err1" </dev/null
rc=$?
err=$(cat "$WORK/err1")
expect_eq "$rc" 1 "cp --recursive with special entries exits 1"
for entry in "sub/pipe: FIFO" "dangling: dangling symlink" "loop: unresolvable symlink" \
             "link-to-dir: symlink to a directory (not followed)" "sock: socket"; do
  expect_contains "$err" "not copied $src/$entry" "reports $entry"
done
expect_contains "$err" "5 entries not copied (not regular files); --skip-special" "counts them and names the flag"
cmp -s "$src/a.bin" "$WORK/dst1/a.bin" && cmp -s "$src/sub/b.bin" "$WORK/dst1/sub/b.bin" \
  && cmp -s "$src/sub/b.bin" "$WORK/dst1/link-to-b" && pass "regular files copied" || fail "regular files not copied"
expect_contains "$(cat "$WORK/out1")" "copied 3 files" "summary counts the copied files"
left=$(find "$WORK/dst1" ! -type f ! -type d)
[ -z "$left" ] && pass "nothing but files and directories at the destination" || fail "destination holds: $left"

# 2. --skip-special: success, the entries still counted
"$TB_BIN" cp --recursive --skip-special "$src" "$WORK/dst2" >"$WORK/out2" 2>"$WORK/err2" </dev/null
rc=$?
expect_eq "$rc" 0 "cp --recursive --skip-special exits 0"
expect_contains "$(cat "$WORK/err2")" "5 entries not copied (not regular files)" "--skip-special still prints the count"
expect_contains "$(cat "$WORK/err2")" "skipped $src/sub/pipe: FIFO" "--skip-special still names the entries"

# 3. --json carries the count and the entries
"$TB_BIN" cp --recursive --skip-special --json "$src" "$WORK/dst3" >"$WORK/out3" 2>/dev/null </dev/null
expect_eq "$(json "$WORK/out3" "d['skipped']")" 5 "--json: skipped count"
expect_eq "$(json "$WORK/out3" "sorted(e['key'] for e in d['skipped_entries'])")" \
  "['dangling', 'link-to-dir', 'loop', 'sock', 'sub/pipe']" "--json: skipped entries"

# 4. more entries than are named: the rest are counted
mkdir -p "$WORK/many"
for i in $(seq 1 25); do mkfifo "$WORK/many/p$i"; done
echo x > "$WORK/many/file"
"$TB_BIN" cp --recursive "$WORK/many" "$WORK/dst4" >/dev/null 2>"$WORK/err4" </dev/null
expect_eq "$?" 1 "25 FIFOs: exit 1"
expect_eq "$(grep -c 'not copied .*: FIFO' "$WORK/err4")" 20 "names the first 20"
expect_contains "$(cat "$WORK/err4")" "... and 5 more" "counts the rest"
expect_contains "$(cat "$WORK/err4")" "25 entries not copied" "total count"

# 5. a bucket that does not exist: cp refuses (NoSuchBucket), --create-bucket creates it
if [ -z "${TB_S3_ENDPOINT:-}" ]; then
  [ "${TB_REQUIRE_SERVICES:-0}" = 1 ] && fail "TB_S3_ENDPOINT not set" || echo "skipping the bucket cases: TB_S3_ENDPOINT not set"
  [ "$failures" = 0 ] && [ "${TB_REQUIRE_SERVICES:-0}" != 1 ] && { echo "partly skipped"; exit 77; }
  finish
fi
BUCKET="tb-misc-cp-$$-$RANDOM"
"$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "$src/a.bin" "s3://$BUCKET/a.bin" >/dev/null 2>"$WORK/err5"
rc=$?
expect_eq "$rc" 1 "cp to a missing bucket exits 1"
expect_contains "$(cat "$WORK/err5")" "NoSuchBucket" "error says the bucket is missing"
if /usr/bin/aws s3api head-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$BUCKET" >/dev/null 2>&1; then
  fail "cp created the bucket without --create-bucket"
else pass "no bucket created without --create-bucket"; fi
"$TB_BIN" cp --create-bucket --endpoint-url "$TB_S3_ENDPOINT" "$src/a.bin" "s3://$BUCKET/a.bin" >/dev/null 2>"$WORK/err6"
expect_eq "$?" 0 "cp --create-bucket exits 0"
expect_contains "$(cat "$WORK/err6")" "created bucket $BUCKET" "cp says it created the bucket"
/usr/bin/aws s3 cp --endpoint-url "$TB_S3_ENDPOINT" "s3://$BUCKET/a.bin" "$WORK/back.bin" >/dev/null 2>&1
cmp -s "$src/a.bin" "$WORK/back.bin" && pass "object readable with awscli" || fail "object not there"
finish
