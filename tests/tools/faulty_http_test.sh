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
cleanup() {
  faulty_http_stop_all
  rm -rf "$work"
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

if ((failures > 0)); then
  echo "faulty_http_test: $failures check(s) FAILED"
  exit 1
fi
echo "faulty_http_test: all checks passed"
