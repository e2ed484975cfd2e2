#!/usr/bin/env bash
# Network faults between tierbench and an HTTP origin (tests/tools/faulty_http.py): connection
# reset mid-body, truncated body with a correct Content-Length, 500/503 bursts, a stall past
# the low-speed timeout, 429 + Retry-After -> `cp` and `run` still complete with the right md5;
# more failures than retries -> exit 1 naming the URL and no partial file; flipped bytes ->
# caught by the integrity stage's md5. Needs no services (faulty_http.py is local).
# The stall case gives cp --read-timeout 2, so it does not wait out the default 30 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
trap 'faulty_http_stop_all; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/www" "$WORK/dl"
head -c $((6 << 20)) /dev/urandom > "$WORK/www/cifar-10-python.tar.gz"
want=$(md5_of "$WORK/www/cifar-10-python.tar.gz")
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" || exit 1
src="$FAULTY_HTTP_URL/cifar-10-python.tar.gz"
set_fault() { curl -fsS "$FAULTY_HTTP_URL/__control/set?$1" >/dev/null && curl -fsS -X POST "$FAULTY_HTTP_URL/__control/reset" >/dev/null; }
requests() { json <(curl -fsS "$FAULTY_HTTP_URL/__control/stats") "d['requests']"; }

# recovers NAME QUERY [CP FLAGS]: cp under the fault must complete with the right md5.
recovers() {
  local name=$1 query=$2; shift 2
  set_fault "$query"
  local dst="$WORK/dl/$name.bin" t0=$SECONDS
  "$TB_BIN" cp --concurrency 4 --part-size 1MiB "$@" "$src" "$dst" >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  expect_rc "$rc" 0 "cp through $name"
  [ "$rc" = 0 ] || cat "$WORK/$name.err" >&2
  expect_eq "$(md5_of "$dst" 2>/dev/null)" "$want" "$name: md5 of the copy matches ($(requests) requests, $((SECONDS - t0)) s)"
  expect_no_temp "$WORK/dl" "$name"
}
recovers reset "fault=reset&fail_first=2&after=100000"
recovers truncate "fault=truncate&fail_first=2&after=300000"
recovers http500 "fault=status&status=500&fail_first=3"
recovers http503 "fault=status&status=503&fail_first=4"
recovers http429 "fault=429&retry_after=1&fail_first=2"
recovers stall "fault=stall&stall=45&fail_first=1&after=65536" --read-timeout 2

# The same faults through `tierbench run` (download + integrity against the known md5).
run_dl() {  # NAME QUERY
  set_fault "$2"
  "$TB_BIN" run --origin "$src" --md5 "$want" --scratch "$WORK/scratch-$1" --out "$WORK/$1.json" \
    --skip extract,verify,pickled,meta,upload,preview,train >"$WORK/$1.out" 2>"$WORK/$1.err"
  rc=$?
  err=$(cat "$WORK/$1.err")
}
run_dl run-reset "fault=reset&fail_first=2&after=100000"
expect_rc "$rc" 0 "run through resets"
expect_eq "$(stage "$WORK/run-reset.json" integrity status)" ok "run through resets: integrity ok"
run_dl run-503 "fault=status&status=503&fail_first=3"
expect_rc "$rc" 0 "run through a 503 burst"

# Flipped bytes: the transfer "succeeds"; the md5 must catch it.
run_dl run-flip "fault=flip&flips=3&after=4000000"
expect_rc "$rc" 1 "run with flipped bytes"
expect_eq "$(stage "$WORK/run-flip.json" download status)" ok "flip: download itself completed"
expect_eq "$(stage "$WORK/run-flip.json" integrity status)" failed "flip: integrity stage fails"
expect_contains "$err" "$want" "flip: error gives the expected md5"

# More failures than retries: exit 1, error names the URL and the status, nothing at DST.
set_fault "fault=status&status=503&fail_first=-1"
"$TB_BIN" cp --retries 2 "$src" "$WORK/dl/never.bin" >"$WORK/never.out" 2>"$WORK/never.err"
rc=$?
err=$(cat "$WORK/never.err")
expect_rc "$rc" 1 "cp past its retries"
expect_contains "$err" "$src" "exhausted retries: error names the URL"
expect_contains "$err" "503" "exhausted retries: error gives the status"
[ ! -e "$WORK/dl/never.bin" ] && pass "exhausted retries: no file at the destination" || fail "partial destination file"
expect_no_temp "$WORK/dl" "exhausted retries"
# (A reset after some progress is resumed with a Range request, so it must be one that makes
# no progress at all to exhaust the retries.)
run_dl run-never "fault=reset&fail_first=-1&after=0"
expect_rc "$rc" 1 "run past its retries (every response reset before any byte)"
expect_contains "$err" "stage download" "run: error names the stage"
expect_contains "$err" "$src" "run: error names the URL"
[ -z "$(find "$WORK/scratch-run-never" -name 'cifar-10-python.tar.gz')" ] && pass "run: no tarball under its final name" \
  || fail "run: a partial tarball has its final name"
expect_no_temp "$WORK/scratch-run-never" "run past its retries"
finish
