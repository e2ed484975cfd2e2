#!/usr/bin/env bash
# Parallel ranged downloads over a real, non-loopback route (scripts/hosts.sh: two hosts on a
# bridge, links shaped to 200 Mbit/s):
#   1. the origin (tests/tools/faulty_http.py) on host 1, `tierbench cp --streams 4` on host 2;
#      the first 4 requests are reset mid-body: the copy is byte-identical, took 4 streams
#      (cp --json), and the origin saw the ranged parts plus the resumed ones;
#   2. the origin on the bridge address (the root namespace, where the services run), pacing
#      each response to 2 MB/s, `tierbench cp` with the default net.streams = auto on host 2:
#      byte-identical, and auto opened more than one stream.
# Needs root: skipped (77) otherwise, a failure when TB_REQUIRE_ROOT=1.
set -euo pipefail

src="${TB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
bin="${TB_BIN:-$src/build/tierbench}"
hosts="$src/scripts/hosts.sh"
source "$src/scripts/hosts-bed.sh"
if [ "$(id -u)" != 0 ]; then
  if [ "${TB_REQUIRE_ROOT:-}" = 1 ]; then echo "FAIL: not root (TB_REQUIRE_ROOT=1)"; exit 1; fi
  echo "SKIP: network namespaces need root"
  exit 77
fi
[ -x "$bin" ] || { echo "FAIL: tierbench binary $bin not built"; exit 1; }

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

work="$(mktemp -d /tmp/tb-hosts-transfer-XXXXXX)"
bed_private "$work" 10.78 tbx
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  bed_down
  rm -rf "$work"
}
trap cleanup EXIT

bed_up 2 --rate 200mbit || { echo "FAIL: hosts.sh up 2"; exit 1; }
mkdir -p "$work/www" "$work/out1" "$work/out2"
head -c $((16 << 20)) /dev/urandom > "$work/www/big.bin"

# start_origin NAME [exec HOST] -- FAULTY_HTTP FLAGS: starts faulty_http.py, sets $port.
start_origin() {
  local name="$1" i
  shift
  local -a prefix=()
  if [ "$1" = exec ]; then prefix=("$hosts" exec "$2"); shift 2; fi
  shift  # --
  "${prefix[@]}" /usr/bin/python3 "$src/tests/tools/faulty_http.py" --root "$work/www" \
    --port-file "$work/$name.port" --quiet "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for ((i = 0; i < 100; i++)); do [ -s "$work/$name.port" ] && break; sleep 0.1; done
  [ -s "$work/$name.port" ] || { cat "$work/$name.err"; return 1; }
  port="$(cat "$work/$name.port")"
}
# stats ADDR PORT EXPR: evaluates EXPR on the origin's /__control/stats (d) once `ready` holds.
stats() {
  /usr/bin/python3 - "$@" << 'EOF'
import json, sys, time, urllib.request
addr, port, expr, ready = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
for _ in range(100):  # the origin logs a request after its last byte: wait for the last one
    d = json.load(urllib.request.urlopen("http://%s:%s/__control/stats" % (addr, port), timeout=10))
    if eval(ready):
        break
    time.sleep(0.1)
print(eval(expr))
EOF
}
ranged='sum(1 for e in d["log"] if e["method"] == "GET" and (e["range"] or "").startswith("bytes="))'

# 1. Origin on host 1, client on host 2, resets, 4 streams.
start_origin reset exec "$TB_HOSTS_PREFIX"1 -- --bind "$TB_HOST1_ADDR" --fault reset --fail-first 4 --after 300000 ||
  { echo "FAIL: origin on host 1 did not start"; exit 1; }
url="http://$TB_HOST1_ADDR:$port/big.bin"
if "$hosts" exec "$TB_HOSTS_PREFIX"2 "$bin" cp --json --streams 4 --concurrency 4 --part-size 1MiB \
    --retries 5 "$url" "$work/out1/big.bin" > "$work/cp1.json" 2> "$work/cp1.err"; then
  cmp -s "$work/www/big.bin" "$work/out1/big.bin" && pass "host 2 <- host 1 ($url) with resets: byte-identical" ||
    fail "host 2 <- host 1: the copy differs from the origin's file"
  streams="$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["streams"], d["streams_why"])' "$work/cp1.json")"
  [ "$streams" = "4 net.streams = 4" ] && pass "parallel ranged path taken: $streams" || fail "streams: '$streams'"
  got="$(stats "$TB_HOST1_ADDR" "$port" "(d['faults'].get('reset', 0), $ranged)" "$ranged >= 16 + 3")"
  [ "$got" = "(4, 19)" ] && pass "origin: 4 resets (HEAD + 3 parts), 16 ranged parts + 3 resumed" ||
    fail "origin saw (resets, ranged GETs) = $got, want (4, 19)"
else
  cat "$work/cp1.err"
  fail "cp on host 2 from $url failed"
fi

# 2. Origin on the bridge address (root namespace), auto streams, paced per connection.
start_origin slow -- --bind "$TB_BRIDGE_ADDR" --fault slow --rate 2000000 ||
  { echo "FAIL: origin on the bridge address did not start"; exit 1; }
url="http://$TB_BRIDGE_ADDR:$port/big.bin"
head -c $((4 << 20)) "$work/www/big.bin" > "$work/www/four.bin"
url="http://$TB_BRIDGE_ADDR:$port/four.bin"
if "$hosts" exec "$TB_HOSTS_PREFIX"2 "$bin" cp --json --concurrency 4 --part-size 256KiB "$url" \
    "$work/out2/four.bin" > "$work/cp2.json" 2> "$work/cp2.err"; then
  cmp -s "$work/www/four.bin" "$work/out2/four.bin" && pass "host 2 <- bridge ($url): byte-identical" ||
    fail "host 2 <- bridge: the copy differs"
  read -r n why < <(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["streams"], d["streams_why"])' "$work/cp2.json")
  if [ "$n" -ge 2 ] && [[ "$why" == auto:* ]]; then pass "auto opened $n streams ($why)"; else fail "auto: $n ($why)"; fi
else
  cat "$work/cp2.err"
  fail "cp on host 2 from $url failed"
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all transfer checks passed"
