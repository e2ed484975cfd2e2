#!/usr/bin/env bash
# scripts/services.sh's TB_SERVICES_BIND with the test bed: a private nginx (the origin, started
# by the services' own nginx functions in a work dir of its own, on a free port; the shared
# services are never touched) listens on the bed's bridge address too, so a host fetches a file
# over the bed; asked to listen on 127.0.0.1 only again, it reloads and the host no longer
# reaches it; an address the machine does not have is refused with a clear message.
# Needs root: skipped (77) otherwise, a failure when TB_REQUIRE_ROOT=1.
set -euo pipefail

src="${TB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
hosts="$src/scripts/hosts.sh"
source "$src/scripts/hosts-bed.sh"
if [ "$(id -u)" != 0 ]; then
  if [ "${TB_REQUIRE_ROOT:-}" = 1 ]; then echo "FAIL: not root (TB_REQUIRE_ROOT=1)"; exit 1; fi
  echo "SKIP: network namespaces need root"
  exit 77
fi
command -v nginx > /dev/null || { echo "FAIL: nginx not installed (scripts/install-deps.sh)"; exit 1; }

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

work="$(mktemp -d /tmp/tb-hosts-bind-XXXXXX)"
bed_private "$work" 10.79 tbs
export TB_SERVICES_DIR="$work/svc"
TB_HTTP_PORT="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export TB_HTTP_PORT
# nginx_up / nginx_down of scripts/services.sh, in a subshell with the given TB_SERVICES_BIND.
svc() {
  local bind="$1" fn="$2"
  (
    export TB_SERVICES_BIND="$bind"
    source "$src/scripts/services/common.sh"
    source "$src/scripts/services/nginx.sh"
    mkdir -p "$DIR" "$LOG_DIR" "$PID_DIR"
    "$fn"
  )
}
cleanup() {
  svc "" nginx_down > /dev/null 2>&1 || true
  bed_down
  rm -rf "$work"
}
trap cleanup EXIT

bed_up 1 || { echo "FAIL: hosts.sh up 1"; exit 1; }
mkdir -p "$work/svc/www"
head -c 3000000 /dev/urandom > "$work/svc/www/f.bin"
on_host() { "$hosts" exec "${TB_HOSTS%% *}" "$@"; }

if svc "$TB_BRIDGE_ADDR" nginx_up 2> "$work/nginx.log"; then
  if on_host curl -fsS --max-time 10 -o "$work/got.bin" "http://$TB_BRIDGE_ADDR:$TB_HTTP_PORT/f.bin" &&
    cmp -s "$work/got.bin" "$work/svc/www/f.bin"; then
    pass "host 1 fetches from nginx at the bridge address $TB_BRIDGE_ADDR:$TB_HTTP_PORT"
  else
    fail "host 1 could not fetch http://$TB_BRIDGE_ADDR:$TB_HTTP_PORT/f.bin"
  fi
  curl -fsS --max-time 10 -o /dev/null "http://127.0.0.1:$TB_HTTP_PORT/f.bin" &&
    pass "nginx still answers on 127.0.0.1" || fail "nginx no longer answers on 127.0.0.1"
else
  cat "$work/nginx.log"
  fail "nginx_up with TB_SERVICES_BIND=$TB_BRIDGE_ADDR"
fi

# Back to loopback only: a reload, same pid, the host is refused.
pid_before="$(cat "$work/svc/pids/nginx.pid" 2> /dev/null || true)"
if svc "" nginx_up 2> "$work/nginx2.log" && grep -q "reloaded" "$work/nginx2.log"; then
  for _ in $(seq 50); do  # the old workers finish gracefully; wait until the bridge socket is gone
    on_host curl -s --max-time 2 -o /dev/null "http://$TB_BRIDGE_ADDR:$TB_HTTP_PORT/f.bin" || break
    sleep 0.1
  done
  if on_host curl -s --max-time 2 -o /dev/null "http://$TB_BRIDGE_ADDR:$TB_HTTP_PORT/f.bin"; then
    fail "host 1 still reaches nginx after TB_SERVICES_BIND was emptied"
  else
    [ "$(cat "$work/svc/pids/nginx.pid")" = "$pid_before" ] &&
      pass "emptied TB_SERVICES_BIND: nginx reloaded (same pid), host 1 refused" ||
      fail "nginx was restarted instead of reloaded"
  fi
else
  cat "$work/nginx2.log"
  fail "nginx_up with TB_SERVICES_BIND emptied"
fi

# An address this machine does not have: refused, naming the variable and the fix.
if svc "192.0.2.254" nginx_up 2> "$work/nginx3.log"; then
  fail "TB_SERVICES_BIND=192.0.2.254 (not an address here) was accepted"
else
  grep -q "TB_SERVICES_BIND: 192.0.2.254 is not an address of this machine" "$work/nginx3.log" &&
    pass "an address the machine lacks is refused with a clear message" ||
    { cat "$work/nginx3.log"; fail "unclear refusal"; }
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all services-bind checks passed"
