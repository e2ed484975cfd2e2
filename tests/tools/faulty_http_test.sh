#!/usr/bin/env bash
# Self-test of tests/tools/faulty_http.py with curl: normal GET/HEAD/ranges, then every fault
# (reset, truncate, N x 503 then 200, 429 + Retry-After, stall, stall-headers, flipped bytes,
# slow), the control URLs, command-line fault selection and the faulty_http.sh helpers.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=faulty_http.sh
source "$HERE/faulty_http.sh"
work="$(mktemp -d /tmp/tb-faulty-http-test-XXXXXX)"
export FAULTY_HTTP_LOG_DIR="$work"
UPSTREAM_DIRS=()
S3_BUCKETS=()
BG_PIDS=()
cleanup() {
  local b
  for b in "${BG_PIDS[@]}"; do kill "$b" 2> /dev/null || true; done
  faulty_http_stop_all
  for b in "${S3_BUCKETS[@]}"; do
    /usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$b" > /dev/null 2>&1 || true
  done
  rm -rf "$work" "${UPSTREAM_DIRS[@]}"
}
trap cleanup EXIT

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() {  # ok DESCRIPTION COMMAND...
  local d="$1"
  shift
  if "$@"; then pass "$d"; else fail "$d"; fi
}
expect() {  # expect DESCRIPTION GOT WANT
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# get URL [curl args] -> prints "curl_exit http_code", body in $work/body
get() {
  local url="$1" rc=0 code
  shift
  code="$(curl -s -o "$work/body" -w '%{http_code}' "$@" "$url")" || rc=$?
  echo "$rc $code"
}

mkdir -p "$work/www/sub"
head -c 1000000 /dev/urandom > "$work/www/sub/data.bin"
src="$work/www/sub/data.bin"
cp "$src" "$src.orig"
slice() { dd if="$1" of="$4" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }

faulty_http_start "$work/www"
base="$FAULTY_HTTP_URL"
url="$base/sub/data.bin"

# --- normal serving -------------------------------------------------------------------------
expect "GET 200" "$(get "$url")" "0 200"
ok "GET body identical" cmp -s "$work/body" "$src"
len="$(curl -sI "$url" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-length" {print $2}')"
expect "HEAD Content-Length" "$len" 1000000
expect "Range 206" "$(get "$url" -r 1000-1999)" "0 206"
slice "$src" 1000 1000 "$work/want"
ok "Range bytes right" cmp -s "$work/body" "$work/want"
expect "suffix Range 206" "$(get "$url" -H 'Range: bytes=-10')" "0 206"
slice "$src" 999990 10 "$work/want"
ok "suffix Range bytes right" cmp -s "$work/body" "$work/want"
expect "unsatisfiable Range 416" "$(get "$url" -r 2000000-2000001)" "0 416"
expect "missing file 404" "$(get "$base/nope.bin")" "0 404"
expect "path escaping the root 404" "$(get "$base/../../etc/passwd" --path-as-is)" "0 404"
reuse="$(curl -sv -o /dev/null -o /dev/null "$url" "$url" 2>&1 | grep -c 'Re-using existing connection' || true)"
expect "keep-alive: second request reuses the connection" "$reuse" 1

# --- faults via query parameters ------------------------------------------------------------
expect "reset -> curl 56 (connection reset)" "$(get "$url?fault=reset&after=300000" | cut -d' ' -f1)" 56
size="$(stat -c %s "$work/body")"
if ((size <= 300000)); then pass "reset after <= 300000 bytes ($size)"; else fail "reset sent $size bytes"; fi
expect "truncate -> curl 18 (partial body)" "$(get "$url?fault=truncate&after=1234")" "18 200"
expect "truncate sent exactly 1234 bytes" "$(stat -c %s "$work/body")" 1234
q="fault=status&status=503&fail_first=2"
codes="$(for _ in 1 2 3 4; do get "$url?$q" | cut -d' ' -f2; done | tr '\n' ' ')"
expect "2 x 503 then success" "$codes" "503 503 200 200 "
expect "500 on a range request" "$(get "$url?fault=status&status=500" -r 0-9)" "0 500"
retry="$(curl -s -D - -o /dev/null "$url?fault=429&retry_after=7" | tr -d '\r' |
  awk 'NR == 1 {print $2} tolower($1) == "retry-after:" {print $2}' | tr '\n' ' ')"
expect "429 with Retry-After: 7" "$retry" "429 7 "
# curl 28 after --max-time 1 is the client's timeout firing during the 20 s silence.
expect "stall mid-body -> client timeout (curl 28)" "$(get "$url?fault=stall&stall=20" --max-time 1 | cut -d' ' -f1)" 28
expect "stall-headers -> client timeout (curl 28)" "$(get "$url?fault=stall-headers&stall=20" --max-time 1)" "28 000"
expect "flip -> 200 with full length" "$(get "$url?fault=flip&after=4242&flips=3")" "0 200"
expect "flip length" "$(stat -c %s "$work/body")" 1000000
diffs="$(cmp -l "$work/body" "$src" | awk '{print $1}' | tr '\n' ' ' || true)"
expect "flip changed bytes 4243-4245 (1-based)" "$diffs" "4243 4244 4245 "
expect "slow -> 206" "$(get "$url?fault=slow&rate=1000000" -r 0-499999)" "0 206"
ok "slow body intact" cmp -s "$work/body" <(head -c 500000 "$src")
# Pacing, from the server's own log (written once the body is sent; wait for it): 500 kB at
# 1 MB/s goes out in 5 chunks of 100 kB, and no chunk leaves before its due time (bytes
# already sent / rate) -- an unpaced server writes every chunk at once.
paced=""
for _ in $(seq 100); do
  paced="$(curl -s "$base/__control/stats" | /usr/bin/python3 -c '
import json, sys
e = [e for e in json.load(sys.stdin)["log"] if e["fault"] == "slow"]
if e:
    p = e[-1]["paced"]
    late = all(t >= sent / 1e6 for sent, t in p)
    print(" ".join(str(sent) for sent, _ in p), "on-time" if late else "EARLY %s" % p)')"
  [ -n "$paced" ] && break
  sleep 0.1  # polls for the log entry; the assertion does not depend on how long it takes
done
expect "slow: 5 chunks of 100 kB, none before its time at 1 MB/s" "$paced" "0 100000 200000 300000 400000 on-time"
expect "bad fault name -> 400" "$(get "$url?fault=bogus")" "0 400"
expect "query does not pick another file (range through a fault-free query)" \
  "$(get "$url?fault=none" -r 0-0)" "0 206"

# --- control URLs ---------------------------------------------------------------------------
stats="$(curl -s "$base/__control/stats")"
faults="$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["faults"].get("status", 0), d["faults"].get("reset", 0), d["by_path"]["/sub/data.bin"] > 10)' <<< "$stats")"
expect "stats count faults and requests" "$faults" "3 1 True"
expect "control set fault=status" "$(curl -s -o /dev/null -w '%{http_code}' "$base/__control/set?fault=status&status=502&fail_first=1")" 200
expect "server-wide fault applies once" "$(get "$url" | cut -d' ' -f2) $(get "$url" | cut -d' ' -f2)" "502 200"
curl -s -o /dev/null "$base/__control/set?fault=none"
curl -s -o /dev/null -X POST "$base/__control/reset"
expect "reset clears stats" "$(curl -s "$base/__control/stats" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" 0

# --- faults from the command line -----------------------------------------------------------
faulty_http_start "$work/www" --fault reset --fail-first 1 --after 10
url="$FAULTY_HTTP_URL/sub/data.bin"
expect "--fault reset --fail-first 1: first request reset" "$(get "$url" | cut -d' ' -f1)" 56
expect "--fault reset --fail-first 1: then success" "$(get "$url")" "0 200"
ok "body after the fault identical" cmp -s "$work/body" "$src"
ok "prints LISTENING line" grep -q "^LISTENING ${FAULTY_HTTP_URL#http://}$" "$FAULTY_HTTP_DIR/out"

# --- hold, hold-request and drop (file mode), match -----------------------------------------
# held URL: waits until the server lists a held request for URL's path (the event), prints it.
held() {
  local h="" i
  for ((i = 0; i < 600; i++)); do  # the bound only stops a hang
    h="$(curl -s "$1/__control/stats" | /usr/bin/python3 -c 'import json,sys; print(" ".join(h["path"] for h in json.load(sys.stdin)["held"]))')"
    [ -n "$h" ] && break
    sleep 0.05
  done
  echo "$h"
}
# bg_get URL OUT [curl args]: a GET in the background; its "curl_exit http_code" lands in OUT.
bg_get() {
  local url="$1" out="$2"
  shift 2
  (rc=0; code="$(curl -s -o "$out.body" -w '%{http_code}' "$@" "$url")" || rc=$?; echo "$rc $code" > "$out") &
  BG_PIDS+=("$!")
}
faulty_http_start "$work/www"
base="$FAULTY_HTTP_URL"
url="$base/sub/data.bin"
bg_get "$url?fault=hold&after=1000" "$work/hold"
expect "hold: listed under held" "$(held "$base")" "/sub/data.bin"
curl -s -o /dev/null "$base/__control/release"
wait "${BG_PIDS[@]}"
expect "hold then release: 200" "$(cat "$work/hold")" "0 200"
ok "hold then release: body identical" cmp -s "$work/hold.body" "$src"
curl -s -o /dev/null "$base/__control/reset"  # re-arms the hold
bg_get "$url?fault=hold&after=1000" "$work/drop"
expect "hold again after reset: held" "$(held "$base")" "/sub/data.bin"
curl -s -o /dev/null "$base/__control/drop"
wait "${BG_PIDS[@]}"
expect "hold then drop: connection reset (curl 56)" "$(cut -d' ' -f1 "$work/drop")" 56
expect "drop: 1000 bytes had arrived at most" "$(($(stat -c %s "$work/drop.body") <= 1000))" 1
bg_get "$url?fault=hold-request" "$work/holdreq"
expect "hold-request: held before any answer" "$(held "$base")" "/sub/data.bin"
head -c 5000 /dev/urandom > "$work/www/sub/data.bin.new"
mv "$work/www/sub/data.bin.new" "$work/www/sub/data.bin"  # changed while the request waits
curl -s -o /dev/null "$base/__control/release"
wait "${BG_PIDS[@]}"
expect "hold-request then release: 200" "$(cat "$work/holdreq")" "0 200"
ok "hold-request: the file as it is after the release" cmp -s "$work/holdreq.body" "$work/www/sub/data.bin"
cp "$src.orig" "$src"
BG_PIDS=()
curl -s -o /dev/null "$base/__control/set?fault=status&status=503&match=other"
expect "match: a path without the text is not faulted" "$(get "$url" | cut -d' ' -f2)" 200
cp "$src" "$work/www/sub/other.bin"
expect "match: a path with the text is" "$(get "$base/sub/other.bin" | cut -d' ' -f2)" 503
faulty_http_stop_all

# --- proxy mode (--upstream) ----------------------------------------------------------------
# In front of nginx (the shared origin) where it runs, else in front of a second faulty_http
# serving files, so the proxy is tested either way.
if [ -n "${TB_HTTP_ORIGIN:-}" ] && [ -d "${TB_HTTP_ROOT:-}" ] && curl -s -o /dev/null "$TB_HTTP_ORIGIN/"; then
  sub="tb-faulty-http-test-$$"
  mkdir -p "$TB_HTTP_ROOT/$sub/sub"
  cp "$src" "$TB_HTTP_ROOT/$sub/sub/data.bin"
  UPSTREAM_DIRS+=("$TB_HTTP_ROOT/$sub")
  upstream="$TB_HTTP_ORIGIN"
  path="/$sub/sub/data.bin"
  server=nginx
else
  [ "${TB_REQUIRE_SERVICES:-0}" = 1 ] && fail "nginx (TB_HTTP_ORIGIN) not running"
  faulty_http_start "$work/www"
  upstream="$FAULTY_HTTP_URL"
  path="/sub/data.bin"
  server=faulty_http
fi
echo "proxy tests in front of $server ($upstream)"
faulty_http_proxy "$upstream"
base="$FAULTY_HTTP_URL"
url="$base$path"
expect "proxy: GET 200" "$(get "$url")" "0 200"
ok "proxy: GET body identical" cmp -s "$work/body" "$src"
hdrs="$(curl -sI "$url" | tr -d '\r')"
expect "proxy: HEAD Content-Length from upstream" "$(awk -F': ' 'tolower($1) == "content-length" {print $2}' <<< "$hdrs")" 1000000
expect "proxy: the upstream's Server header, not the proxy's" "$(awk -F': ' 'tolower($1) == "server" {print $2}' <<< "$hdrs" | cut -d/ -f1)" "$server"
expect "proxy: Range 206" "$(get "$url" -r 1000-1999)" "0 206"
slice "$src" 1000 1000 "$work/want"
ok "proxy: Range bytes right" cmp -s "$work/body" "$work/want"
expect "proxy: 404 passed through" "$(get "$base${path%/data.bin}/nope.bin" | cut -d' ' -f2)" 404
# The query is forwarded (a faulty_http upstream applies it: its own fault) and selects no
# fault in the proxy.
get "$url?fault=truncate&after=10" > /dev/null
expect "proxy: ?fault= in the query selects no fault in the proxy" "$(curl -s "$base/__control/stats" |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["log"][-1]["fault"])')" none
if [ "$server" = nginx ]; then
  ok "proxy: ... nginx ignores it: body identical" cmp -s "$work/body" "$src"
else
  expect "proxy: ... the upstream applied it (10 bytes)" "$(stat -c %s "$work/body")" 10
fi
curl -s -o /dev/null "$base/__control/set?fault=reset&after=300000&fail_first=1&match=data.bin"
expect "proxy: HEAD is never faulted" "$(curl -s -o /dev/null -w '%{http_code}' -I "$url")" 200
expect "proxy: a GET without the match text is not faulted" "$(get "$base${path%/data.bin}/nope.bin" | cut -d' ' -f2)" 404
expect "proxy: server-wide reset strikes the matching GET (curl 56)" "$(get "$url" -r 100000-899999 | cut -d' ' -f1)" 56
if (($(stat -c %s "$work/body") <= 300000)); then pass "proxy: reset after <= 300000 bytes of the range"; else fail "proxy: reset sent $(stat -c %s "$work/body") bytes"; fi
expect "proxy: fail_first 1: the next GET passes" "$(get "$url" -r 100000-899999)" "0 206"
slice "$src" 100000 800000 "$work/want"
ok "proxy: ... with the right bytes" cmp -s "$work/body" "$work/want"
curl -s -o /dev/null "$base/__control/set?fault=status&status=503&fail_first=2"
codes="$(for _ in 1 2 3; do get "$url" | cut -d' ' -f2; done | tr '\n' ' ')"
expect "proxy: 2 x 503 then the upstream's answer" "$codes" "503 503 200 "
curl -s -o /dev/null "$base/__control/set?fault=flip&after=4242&flips=2&fail_first=-1"
expect "proxy: flip" "$(get "$url")" "0 200"
expect "proxy: flip changed bytes 4243-4244" "$(cmp -l "$work/body" "$src" | awk '{print $1}' | tr '\n' ' ' || true)" "4243 4244 "
curl -s -o /dev/null "$base/__control/set?fault=hold&after=1000"
bg_get "$url" "$work/phold" -r 0-499999
expect "proxy: hold: listed under held" "$(held "$base")" "$path"
curl -s -o /dev/null "$base/__control/release"
wait "${BG_PIDS[@]}"
BG_PIDS=()
expect "proxy: hold then release: 206" "$(cat "$work/phold")" "0 206"
ok "proxy: ... the range intact" cmp -s "$work/phold.body" <(head -c 500000 "$src")
curl -s -o /dev/null "$base/__control/set?fault=none"
log="$(curl -s "$base/__control/stats" | /usr/bin/python3 -c '
import json, sys
log = json.load(sys.stdin)["log"]
print(" ".join("%s:%s:%s:%s" % (e["method"], e["fault"], e["status"], e["range"]) for e in log if e["fault"] != "none"))')"
expect "proxy: the log records each fault with the upstream's status and the range" "$log" \
  "GET:reset:206:bytes=100000-899999 GET:status:503:None GET:status:503:None GET:flip:200:None GET:hold:206:bytes=0-499999"
faulty_http_stop_all
faulty_http_proxy "http://127.0.0.1:1"
expect "proxy: an upstream that cannot be reached is a 502" "$(get "$FAULTY_HTTP_URL/x" | cut -d' ' -f2)" 502
faulty_http_stop_all
rc=0
/usr/bin/python3 "$FAULTY_HTTP_PY" --upstream "http://127.0.0.1:1/path" 2> "$work/usage" || rc=$?
expect "proxy: --upstream with a path is a usage error (exit 2)" "$rc $(grep -c 'no path, query or credentials' "$work/usage")" "2 1"

# --- proxy mode in front of Ceph RGW: SigV4 made for the proxy's address verifies -----------
if [ -n "${TB_S3_ENDPOINT:-}" ] && [ -x /usr/bin/aws ] && curl -s -o /dev/null "$TB_S3_ENDPOINT/"; then
  faulty_http_proxy "$TB_S3_ENDPOINT" --fault reset --after 1000 --match no-such-text
  s3p() { /usr/bin/aws --endpoint-url "$FAULTY_HTTP_URL" s3api "$@" > /dev/null; }
  bucket="tb-faulty-http-test-$$-$RANDOM"
  S3_BUCKETS+=("$bucket")
  ok "RGW through the proxy: create-bucket" s3p create-bucket --bucket "$bucket"
  ok "RGW through the proxy: put-object" s3p put-object --bucket "$bucket" --key sub/data.bin --body "$src"
  ok "RGW through the proxy: get-object" s3p get-object --bucket "$bucket" --key sub/data.bin "$work/s3body"
  ok "RGW through the proxy: body identical" cmp -s "$work/s3body" "$src"
  rc=0
  AWS_SECRET_ACCESS_KEY=wrong-secret s3p head-object --bucket "$bucket" --key sub/data.bin > /dev/null 2>&1 || rc=$?
  expect "RGW through the proxy: a wrong secret still fails" "$((rc != 0))" 1
  statuses="$(curl -s "$FAULTY_HTTP_URL/__control/stats" | /usr/bin/python3 -c '
import json, sys
print(" ".join("%s:%s" % (e["method"], e["status"]) for e in json.load(sys.stdin)["log"]))')"
  expect "RGW through the proxy: signatures verified (200s), the wrong one refused (403)" "$statuses" \
    "PUT:200 PUT:200 GET:200 HEAD:403"
  faulty_http_stop_all
elif [ "${TB_REQUIRE_SERVICES:-0}" = 1 ]; then
  fail "RGW (TB_S3_ENDPOINT) or /usr/bin/aws missing"
else
  echo "skipping the RGW proxy checks: no TB_S3_ENDPOINT or /usr/bin/aws"
fi

if ((failures > 0)); then
  echo "faulty_http_test: $failures check(s) FAILED"
  exit 1
fi
echo "faulty_http_test: all checks passed"
