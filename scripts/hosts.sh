#!/usr/bin/env bash
# A multi-host test bed on one machine: N "hosts" as Linux network namespaces on a bridge, so
# that HTTP, S3 and the launchers run over a real, non-loopback route (root required).
#   host i       network namespace ${PREFIX}i (default tbh1..tbhN), lo up, eth0 = one end of a
#                veth pair whose other end (${PREFIX}iv) sits on the bridge; address
#                SUBNET.(i+1); no default route: a host reaches the other hosts and the bridge
#                address only
#   bridge       ${PREFIX}br with SUBNET.1 (TB_BRIDGE_ADDR): the root namespace, where the
#                services run (scripts/services.sh listens there too when TB_SERVICES_BIND
#                names it; see its header)
#   rate         --rate RATE (e.g. 100mbit, 1gbit): a tc tbf qdisc on both ends of each host's
#                link (into and out of the host); netem is not needed
#
# Usage: scripts/hosts.sh up N [--rate RATE] | down | status | env | exec HOST CMD... |
#                         agent HOST CMD...
#   up N         create N hosts (idempotent: the same N and rate is a no-op, another shape is
#                rebuilt); writes $DIR/hosts.env; on any failure removes what it created
#   down         stops processes still running on a host, removes the namespaces, veths and the
#                bridge this script created (listed in $DIR/created), and their files
#   status       one line per host; exit 1 when the bed is not up
#   env          print hosts.env (use: source <(scripts/hosts.sh env))
#   exec HOST CMD...  run CMD "on" HOST (name or index): its own network namespace, hostname
#                and /etc/hosts (names of every host and of the bridge), through
#                `unshare --mount --uts` + `nsenter --net`, so daemons that read /sys (slurmd)
#                work, unlike `ip netns exec`
#   agent HOST CMD... the same with ssh's calling convention (the words joined and run by sh):
#                for `mpirun --mca plm_rsh_agent "scripts/hosts.sh agent"`
#   reap         removes the beds whose owner is gone: `up` run with TB_HOSTS_OWNER=PID (the
#                tests and benches do, through scripts/hosts-bed.sh) registers the bed under
#                $REGISTRY with that process and its start time; a test killed outright (no
#                EXIT trap) leaves its bed registered, and the next `reap` takes it down
# Settings: TB_HOSTS_DIR (default /tmp/tierbench-hosts), TB_HOSTS_PREFIX (default tbh, at
# most 8 characters), TB_HOSTS_SUBNET (first three octets, default 10.77.0; must be unused).
# Nothing outside what $DIR/created lists is ever removed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${TB_HOSTS_DIR:-/tmp/tierbench-hosts}"
PREFIX="${TB_HOSTS_PREFIX:-tbh}"
SUBNET="${TB_HOSTS_SUBNET:-10.77.0}"
BRIDGE="${PREFIX}br"
BRIDGE_ADDR="$SUBNET.1"
ENV_FILE="$DIR/hosts.env"
CREATED="$DIR/created"   # one "KIND NAME" line per object this script made, in order
LOG_DIR="$DIR/logs"
REGISTRY="${TB_HOSTS_REGISTRY:-/run/tierbench-hosts}"  # one file per owned bed: DIR PID START

log() { printf '[hosts %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

check_settings() {
  [[ "$PREFIX" =~ ^[a-z][a-z0-9]{0,7}$ ]] ||
    die "TB_HOSTS_PREFIX='$PREFIX': 1 to 8 lower-case letters or digits, starting with a letter"
  [[ "$SUBNET" =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] ||
    die "TB_HOSTS_SUBNET='$SUBNET': the first three octets of a /24, e.g. 10.77.0"
}

need_root() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, veth, bridge, tc)"
  local tool
  for tool in ip tc unshare nsenter mount hostname; do
    command -v "$tool" > /dev/null || die "'$tool' not found (Debian: iproute2, util-linux)"
  done
}

host_addr() { echo "$SUBNET.$(($1 + 1))"; }

# Records an object as ours right after it was made (a name that was taken makes the "add"
# fail first, so someone else's object is never listed).
record() { echo "$1 $2" >> "$CREATED"; }

netns_exists() { [ -e "/run/netns/$1" ]; }
link_exists() { ip link show dev "$1" > /dev/null 2>&1; }

# Bytes per second of a tc rate such as 100mbit, 1gbit, 500kbit, 10mbps (bytes).
rate_bytes() {
  local r="${1,,}" n unit
  [[ "$r" =~ ^([0-9]+)([a-z]*)$ ]] || return 1
  n="${BASH_REMATCH[1]}"; unit="${BASH_REMATCH[2]}"
  case "$unit" in
    bit) echo $((n / 8)) ;;
    kbit) echo $((n * 1000 / 8)) ;;
    mbit) echo $((n * 1000000 / 8)) ;;
    gbit) echo $((n * 1000000000 / 8)) ;;
    bps) echo "$n" ;;
    kbps) echo $((n * 1000)) ;;
    mbps) echo $((n * 1000000)) ;;
    gbps) echo $((n * 1000000000)) ;;
    *) return 1 ;;
  esac
}

# tbf on one device: burst of 10 ms at the rate, at least 128 KiB (veth hands over 64 KiB
# segments; a burst smaller than a packet would drop it).
shape() {
  local ns="$1" dev="$2" rate="$3" bytes burst
  bytes="$(rate_bytes "$rate")"
  burst=$((bytes / 100))
  ((burst >= 131072)) || burst=131072
  if [ -n "$ns" ]; then
    ip -n "$ns" link show dev "$dev" > /dev/null || return 1
    tc -n "$ns" qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency 100ms
  else
    tc qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency 100ms
  fi
}

# /etc/hosts seen by the processes on host $1: every host by name, the bridge as
# "$BRIDGE services", localhost on loopback (the host's own name is NOT loopback: c10d/Gloo
# publishes the address its hostname resolves to).
write_hosts_file() {
  local n="$1" i
  {
    echo "# Written by scripts/hosts.sh up for the hosts ${PREFIX}1..${PREFIX}$n"
    echo "127.0.0.1 localhost"
    echo "::1 localhost ip6-localhost ip6-loopback"
    echo "$BRIDGE_ADDR $BRIDGE"
    for ((i = 1; i <= n; i++)); do echo "$(host_addr "$i") $PREFIX$i"; done
  } > "$DIR/etc/hosts.tmp"
  mv "$DIR/etc/hosts.tmp" "$DIR/etc/hosts"
}

write_env() {
  local n="$1" rate="$2" i names="" addrs="" tmp="$ENV_FILE.tmp"
  kv() { printf 'export %s=%q\n' "$1" "$2"; }
  for ((i = 1; i <= n; i++)); do
    names+="${names:+ }$PREFIX$i"
    addrs+="${addrs:+ }$(host_addr "$i")"
  done
  {
    echo "# Written by scripts/hosts.sh up at $(date -u +%FT%TZ); source it."
    kv TB_HOSTS_DIR "$DIR"
    kv TB_HOSTS "$names"
    kv TB_HOSTS_N "$n"
    kv TB_HOST_ADDRS "$addrs"
    for ((i = 1; i <= n; i++)); do kv "TB_HOST${i}_ADDR" "$(host_addr "$i")"; done
    kv TB_BRIDGE "$BRIDGE"
    kv TB_BRIDGE_ADDR "$BRIDGE_ADDR"
    kv TB_HOSTS_CIDR "$SUBNET.0/24"
    kv TB_HOSTS_RATE "$rate"
    kv TB_HOSTS_EXEC "$HERE/hosts.sh exec"
    kv TB_HOSTS_AGENT "$HERE/hosts.sh agent"
  } > "$tmp"
  mv "$tmp" "$ENV_FILE"
}

# Removes what $CREATED lists, newest first; objects that no longer exist are skipped.
teardown() {
  [ -f "$CREATED" ] || return 0
  local kind name pids pid i
  rm -f "$ENV_FILE"
  while read -r kind name; do
    case "$kind" in
      netns)
        netns_exists "$name" || continue
        pids="$(ip netns pids "$name" 2> /dev/null || true)"
        if [ -n "$pids" ]; then
          log "stopping processes still running on $name: $(echo "$pids" | tr '\n' ' ')"
          for pid in $pids; do kill -TERM "$pid" 2> /dev/null || true; done
          for ((i = 0; i < 50; i++)); do
            [ -z "$(ip netns pids "$name" 2> /dev/null)" ] && break
            sleep 0.1
          done
          for pid in $(ip netns pids "$name" 2> /dev/null); do kill -KILL "$pid" 2> /dev/null || true; done
        fi
        ip netns delete "$name" || log "could not delete network namespace $name"
        ;;
      link)
        if link_exists "$name"; then ip link delete dev "$name" || log "could not delete link $name"; fi
        ;;
    esac
  done < <(tac "$CREATED")
  rm -f "$CREATED" "$REGISTRY/$PREFIX"
  rm -rf "${DIR:?}/etc"
}

# The start time of process PID (clock ticks since boot), empty when it does not run.
start_time() { sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | awk '{print $20}'; }

cmd_reap() {
  need_root
  local entry dir pid start prefix
  for entry in "$REGISTRY"/*; do
    [ -f "$entry" ] || continue
    read -r dir pid start < "$entry" || continue
    [ -n "$pid" ] && [ "$(start_time "$pid")" = "$start" ] && continue  # its owner still runs
    prefix="$(basename "$entry")"
    log "removing the test bed $prefix of process $pid, which is gone ($dir)"
    TB_HOSTS_DIR="$dir" TB_HOSTS_PREFIX="$prefix" TB_HOSTS_OWNER="" "$HERE/hosts.sh" down || true
    rm -f "$entry"
  done
}

# up's failure path: whatever was made so far goes again.
on_up_error() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" != 0 ]; then
    log "up failed (exit $rc): removing what it created"
    teardown
  fi
  exit "$rc"
}

cmd_up() {
  local n="${1:-}" rate=""
  shift || true
  while [ $# -gt 0 ]; do
    case "$1" in
      --rate) rate="${2:-}"; shift 2 || die "--rate needs a value (e.g. 1gbit)" ;;
      --rate=*) rate="${1#--rate=}"; shift ;;
      *) die "unknown argument '$1' (usage: up N [--rate RATE])" ;;
    esac
  done
  [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 200)) || die "up N: N must be 1..200, got '$n'"
  if [ -n "$rate" ]; then
    local rb
    rb="$(rate_bytes "$rate")" && ((rb > 0)) ||
      die "--rate '$rate': expected a positive rate, e.g. 100mbit, 1gbit, 500kbit or 10mbps"
  fi
  need_root
  check_settings
  mkdir -p "$DIR" "$LOG_DIR"
  exec 9> "$DIR/.lock"
  flock -w 60 9 || die "another 'hosts.sh up/down' holds $DIR/.lock"
  if [ -f "$ENV_FILE" ] && [ -f "$CREATED" ]; then
    local old_n old_rate
    old_n="$(sed -n 's/^export TB_HOSTS_N=//p' "$ENV_FILE")"
    old_rate="$(sed -n 's/^export TB_HOSTS_RATE=//p' "$ENV_FILE")"
    [ "$old_rate" = "''" ] && old_rate=""
    if [ "$old_n" = "$n" ] && [ "$old_rate" = "$rate" ] && link_exists "$BRIDGE" && netns_exists "$PREFIX$n"; then
      log "already up: $n hosts${rate:+ at $rate}; environment: $ENV_FILE"
      return 0
    fi
    log "up with another shape ($old_n hosts${old_rate:+ at $old_rate}): rebuilding"
  fi
  teardown
  if link_exists "$BRIDGE"; then die "a link named $BRIDGE exists but was not made by this script ($CREATED)"; fi
  if ip -4 -o addr show | awk '{print $4}' | grep -q "^$SUBNET\."; then
    die "subnet $SUBNET.0/24 is already in use on this machine: set TB_HOSTS_SUBNET"
  fi
  local i ns veth
  for ((i = 1; i <= n; i++)); do
    netns_exists "$PREFIX$i" && die "a network namespace named $PREFIX$i exists but was not made by this script"
  done
  trap on_up_error EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  : > "$CREATED"
  mkdir -p "$DIR/etc"
  ip link add "$BRIDGE" type bridge
  record link "$BRIDGE"
  ip addr add "$BRIDGE_ADDR/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for ((i = 1; i <= n; i++)); do
    ns="$PREFIX$i"
    veth="${PREFIX}${i}v"
    ip netns add "$ns"
    record netns "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    record link "$veth"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$(host_addr "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    if [ -n "$rate" ]; then
      shape "" "$veth" "$rate"
      shape "$ns" eth0 "$rate"
    fi
  done
  write_hosts_file "$n"
  write_env "$n" "$rate"
  if [ -n "${TB_HOSTS_OWNER:-}" ]; then
    mkdir -p "$REGISTRY"
    echo "$DIR $TB_HOSTS_OWNER $(start_time "$TB_HOSTS_OWNER")" > "$REGISTRY/$PREFIX"
  fi
  trap - EXIT INT TERM
  log "$n hosts up (${PREFIX}1..$PREFIX$n, $(host_addr 1)..$(host_addr "$n"), bridge $BRIDGE" \
    "$BRIDGE_ADDR${rate:+, links shaped to $rate}); environment: $ENV_FILE"
}

cmd_down() {
  need_root
  check_settings
  [ -d "$DIR" ] || { log "nothing to remove: $DIR does not exist"; return 0; }
  exec 9> "$DIR/.lock"
  flock -w 60 9 || die "another 'hosts.sh up/down' holds $DIR/.lock"
  if [ ! -f "$CREATED" ]; then
    rm -f "$ENV_FILE"
    log "nothing to remove"
    return 0
  fi
  teardown
  log "test bed removed"
}

cmd_status() {
  [ -f "$ENV_FILE" ] || { echo "hosts      down (no $ENV_FILE)"; return 1; }
  local n i ns ok=0 qd
  n="$(sed -n 's/^export TB_HOSTS_N=//p' "$ENV_FILE")"
  link_exists "$BRIDGE" && echo "bridge     $BRIDGE $BRIDGE_ADDR" || { echo "bridge     $BRIDGE missing"; ok=1; }
  for ((i = 1; i <= n; i++)); do
    ns="$PREFIX$i"
    if netns_exists "$ns"; then
      qd="$(tc -n "$ns" qdisc show dev eth0 2> /dev/null | awk '$2 == "tbf" {print "rate " $8}')"
      printf '%-10s %s %s\n' "$ns" "$(host_addr "$i")" "${qd:-unshaped}"
    else
      echo "$ns missing"; ok=1
    fi
  done
  return $ok
}

cmd_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE does not exist: run scripts/hosts.sh up N"
  cat "$ENV_FILE"
}

# The namespace name of a host given by name or 1-based index.
resolve_host() {
  local h="$1"
  [[ "$h" =~ ^[0-9]+$ ]] && h="$PREFIX$h"
  [[ "$h" == "$PREFIX"* ]] && netns_exists "$h" && [ -f "$DIR/etc/hosts" ] ||
    die "no host '$1' in the test bed (run scripts/hosts.sh up N; hosts: ${PREFIX}1..)"
  echo "$h"
}

cmd_exec() {
  [ $# -ge 2 ] || die "usage: exec HOST CMD..."
  local ns
  ns="$(resolve_host "$1")"
  shift
  # A private mount namespace (nothing leaks back) with this host's /etc/hosts and a private
  # UTS namespace with its hostname; then only the network namespace is entered, so /sys and
  # cgroups stay those of the machine.
  exec unshare --mount --uts -- /bin/sh -c \
    'mount --bind "$1" /etc/hosts && hostname "$2" && ns="$3" && shift 3 && exec nsenter --net="/run/netns/$ns" -- "$@"' \
    hosts-exec "$DIR/etc/hosts" "$ns" "$ns" "$@"
}

cmd_agent() {
  [ $# -ge 2 ] || die "usage: agent HOST CMD..."
  local host="$1"
  shift
  cmd_exec "$host" /bin/sh -c "$*"
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  exec) shift; check_settings; cmd_exec "$@" ;;
  agent) shift; check_settings; cmd_agent "$@" ;;
  reap) cmd_reap ;;
  *) echo "usage: $0 up N [--rate RATE] | down | status | env | exec HOST CMD... | agent HOST CMD... | reap" >&2; exit 2 ;;
esac
