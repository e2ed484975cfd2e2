#!/usr/bin/env bash
# The multi-host test bed (scripts/hosts.sh): brings up 2 hosts with a rate limit and checks
#   - host -> host and host -> bridge address reachability over TCP (a server on host 2 and
#     one on the bridge address in the root namespace, each answering a token),
#   - each host sees its own hostname and the others' names in its /etc/hosts (not loopback),
#     and has no default route,
#   - the tbf qdisc on both ends of each link,
#   - CephFS (when mounted) readable from a host, mpirun launching one rank per host through
#     `hosts.sh agent` (when Open MPI is installed),
#   - "up" again is a no-op, "down" leaves no namespace, link, process or file behind,
#   - a failure half-way through "up" (a link name taken by someone else) removes what up
#     made and leaves the other object alone,
#   - "reap" removes a bed whose owner (TB_HOSTS_OWNER) is gone and keeps a live owner's.
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

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A bed of our own: private state dir, a prefix and a /24 nobody else uses.
work="$(mktemp -d /tmp/tb-hosts-test-XXXXXX)"
bed_private "$work" 10.77 tbt 100 150
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  bed_down
  ip link delete dev "${TB_HOSTS_PREFIX}2v" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# One-shot TCP server: answers TOKEN to the first connection, then exits; prints READY first.
serve_token() {  # ADDR TOKEN PORTFILE
  exec /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0)); s.listen(1)
open(sys.argv[3] + ".tmp", "w").write(str(s.getsockname()[1]) + "\n")
import os; os.rename(sys.argv[3] + ".tmp", sys.argv[3])
s.settimeout(60); c, _ = s.accept(); c.sendall(sys.argv[2].encode()); c.close()' "$@"
}
wait_file() { local i; for ((i = 0; i < 100; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
fetch() {  # ADDR PORT: prints what the server sent
  /usr/bin/python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print(c.recv(100).decode())' "$1" "$2"
}

"$hosts" up 2 --rate 200mbit > "$work/up.log" 2>&1 || { cat "$work/up.log"; fail "hosts.sh up 2"; exit 1; }
# shellcheck disable=SC1091
source "$TB_HOSTS_DIR/hosts.env"
h1="${TB_HOSTS%% *}" h2="${TB_HOSTS##* }"
[ "$TB_HOSTS_N" = 2 ] && [ "$h1" = "${TB_HOSTS_PREFIX}1" ] && [ "$h2" = "${TB_HOSTS_PREFIX}2" ] &&
  [ "$TB_BRIDGE_ADDR" = "$TB_HOSTS_SUBNET.1" ] && pass "hosts.env: $TB_HOSTS, bridge $TB_BRIDGE_ADDR" ||
  fail "hosts.env: TB_HOSTS='$TB_HOSTS' TB_BRIDGE_ADDR='$TB_BRIDGE_ADDR'"

# host -> host: the server runs on host 2, the client on host 1.
token="h2-$RANDOM"
"$hosts" exec "$h2" bash -c "$(declare -f serve_token); serve_token $TB_HOST2_ADDR $token $work/p2" &
pids+=($!)
if wait_file "$work/p2" && got="$("$hosts" exec 1 bash -c "$(declare -f fetch); fetch $TB_HOST2_ADDR $(cat "$work/p2")")" &&
  [ "$got" = "$token" ]; then
  pass "host 1 reaches host 2 at $TB_HOST2_ADDR"
else
  fail "host 1 -> host 2 ($TB_HOST2_ADDR): got '${got:-}'"
fi
# host -> bridge: the server in the root namespace on the bridge address.
token="br-$RANDOM"
serve_token "$TB_BRIDGE_ADDR" "$token" "$work/pb" &
pids+=($!)
if wait_file "$work/pb" && got="$("$hosts" exec "$h1" bash -c "$(declare -f fetch); fetch $TB_BRIDGE_ADDR $(cat "$work/pb")")" &&
  [ "$got" = "$token" ]; then
  pass "host 1 reaches the bridge address $TB_BRIDGE_ADDR"
else
  fail "host 1 -> bridge ($TB_BRIDGE_ADDR): got '${got:-}'"
fi
# Loopback inside a host is the host's own: the root namespace's 127.0.0.1 listener is not there.
if "$hosts" exec "$h1" bash -c "$(declare -f fetch); fetch 127.0.0.1 $(cat "$work/pb")" > /dev/null 2>&1; then
  fail "host 1 reached a port on the root namespace's loopback"
else
  pass "127.0.0.1 on a host is the host's own loopback"
fi

# Identity: hostname, names resolve to bed addresses, no default route.
got="$("$hosts" exec "$h1" sh -c 'hostname; getent hosts "$(hostname)" | cut -d" " -f1; getent hosts '"$h2"' | cut -d" " -f1; ip route show default')"
want="$(printf '%s\n%s\n%s' "$h1" "$TB_HOST1_ADDR" "$TB_HOST2_ADDR")"
[ "$got" = "$want" ] && pass "host 1: hostname $h1, names resolve to bed addresses, no default route" ||
  fail "host 1 identity: got '$got', want '$want'"
[ "$(hostname)" != "$h1" ] && ! grep -q "$h1" /etc/hosts && pass "the machine's hostname and /etc/hosts are untouched" ||
  fail "hostname or /etc/hosts of the machine changed"

# Rate limit on both ends of both links.
for i in 1 2; do
  outer="$(tc qdisc show dev "${TB_HOSTS_PREFIX}${i}v")"
  inner="$(ip netns exec "${TB_HOSTS_PREFIX}$i" tc qdisc show dev eth0)"
  if [[ "$outer" == *"tbf"*"rate 200Mbit"* && "$inner" == *"tbf"*"rate 200Mbit"* ]]; then
    pass "host $i: tbf 200Mbit on both ends of its link"
  else
    fail "host $i qdiscs: outer '$outer' inner '$inner'"
  fi
done

# CephFS is a mount in the root mount namespace: a host sees it (when the services run).
env_file="${TB_SERVICES_ENV:-/tmp/tierbench-services/services.env}"
# shellcheck disable=SC1090
cephfs="$( ( [ -f "$env_file" ] && source "$env_file" && echo "${TB_CEPHFS_MOUNT:-}" ) || true)"
if [ -n "$cephfs" ] && timeout 5 stat -f "$cephfs" > /dev/null 2>&1; then
  f="$cephfs/tb-hosts-test-$$-$RANDOM"
  echo "cephfs-$RANDOM" > "$f"
  got="$("$hosts" exec "$h2" cat "$f" 2>&1 || true)"
  [ "$got" = "$(cat "$f")" ] && pass "host 2 reads CephFS at $cephfs" || fail "host 2 reads CephFS: '$got'"
  rm -f "$f"
else
  echo "NOTE: CephFS not mounted; its check is left out"
fi

# mpirun launching through the agent: one rank per host, each on its own host.
if command -v mpirun > /dev/null; then
  got="$(timeout 120 mpirun --allow-run-as-root -np 2 --host "$h1,$h2" --mca plm_rsh_agent "$TB_HOSTS_AGENT" \
    --mca oob_tcp_if_include "$TB_HOSTS_CIDR" --mca btl_tcp_if_include "$TB_HOSTS_CIDR" \
    sh -c 'echo "$OMPI_COMM_WORLD_RANK $(hostname)"' 2> "$work/mpirun.err" | sort || true)"
  [ "$got" = "$(printf '0 %s\n1 %s' "$h1" "$h2")" ] && pass "mpirun through 'hosts.sh agent': rank 0 on $h1, rank 1 on $h2" ||
    { cat "$work/mpirun.err"; fail "mpirun through the agent: '$got'"; }
else
  echo "NOTE: mpirun not installed (openmpi-bin); its check is left out"
fi

# up again with the same shape: a no-op.
"$hosts" up 2 --rate 200mbit > "$work/up2.log" 2>&1 && grep -q "already up" "$work/up2.log" &&
  pass "up again is a no-op" || { cat "$work/up2.log"; fail "second up"; }

# down: nothing left (a process left running on a host is stopped, too).
"$hosts" exec "$h1" sleep 300 &
pids+=($!)
sleeper=$!
for _ in $(seq 50); do [ -n "$(ip netns pids "$h1" 2> /dev/null)" ] && break; sleep 0.1; done
"$hosts" down > "$work/down.log" 2>&1 || { cat "$work/down.log"; fail "hosts.sh down"; }
wait "$sleeper" 2> /dev/null || true
left_ns="$(ip netns list | grep "^$TB_HOSTS_PREFIX" || true)"
left_links="$(ip -o link show | awk -F': ' '{print $2}' | grep "^$TB_HOSTS_PREFIX" || true)"
left_addr="$(ip -4 -o addr show | grep " $TB_HOSTS_SUBNET\." || true)"
if [ -z "$left_ns$left_links$left_addr" ] && [ ! -e "$TB_HOSTS_DIR/hosts.env" ] &&
  [ ! -e "$TB_HOSTS_DIR/created" ] && ! kill -0 "$sleeper" 2> /dev/null; then
  pass "down leaves no namespace, link, address, process or state file"
else
  fail "left after down: ns '$left_ns' links '$left_links' addr '$left_addr' files '$(ls "$TB_HOSTS_DIR")'"
fi

# A failure half-way: host 2's link name is taken by a link that is not ours.
ip link add "${TB_HOSTS_PREFIX}2v" type bridge  # (no dummy driver on every kernel)
if "$hosts" up 2 > "$work/up3.log" 2>&1; then
  fail "up succeeded although ${TB_HOSTS_PREFIX}2v was taken"
else
  left_ns="$(ip netns list | grep "^$TB_HOSTS_PREFIX" || true)"
  left_links="$(ip -o link show | awk -F': ' '{print $2}' | grep "^$TB_HOSTS_PREFIX" | grep -v "^${TB_HOSTS_PREFIX}2v$" || true)"
  if [ -z "$left_ns$left_links" ] && ip link show dev "${TB_HOSTS_PREFIX}2v" > /dev/null 2>&1 &&
    grep -q "removing what it created" "$work/up3.log"; then
    pass "a failed up removes what it made and keeps the foreign link"
  else
    cat "$work/up3.log"
    fail "after a failed up: ns '$left_ns' links '$left_links'"
  fi
fi
ip link delete dev "${TB_HOSTS_PREFIX}2v"

# reap: a bed whose owner is gone (a test killed outright, no EXIT trap) is removed by the
# next `reap`; one whose owner runs is kept. The registry is private to this test.
export TB_HOSTS_REGISTRY="$work/registry"
sleep 300 &
owner=$!
pids+=($!)
TB_HOSTS_OWNER=$owner "$hosts" up 1 > "$work/up4.log" 2>&1 || { cat "$work/up4.log"; fail "up owned by $owner"; }
"$hosts" reap > "$work/reap1.log" 2>&1
netns_of_bed() { ip netns list | grep "^$TB_HOSTS_PREFIX" || true; }
[ -n "$(netns_of_bed)" ] && pass "reap keeps a bed whose owner runs" || fail "reap removed a live owner's bed"
kill "$owner"
wait "$owner" 2> /dev/null || true
"$hosts" reap > "$work/reap2.log" 2>&1
if [ -z "$(netns_of_bed)" ] && grep -q "which is gone" "$work/reap2.log" && [ -z "$(ls "$work/registry")" ]; then
  pass "reap removes the bed of an owner that is gone, and its registration"
else
  cat "$work/reap2.log"
  fail "after reap: ns '$(netns_of_bed)', registry '$(ls "$work/registry")'"
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all hosts checks passed"
