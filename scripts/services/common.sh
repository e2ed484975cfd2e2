# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings are used by the other sourced files
# Shared helpers for scripts/services.sh (sourced, not run). Everything lives under $DIR.
# Processes are identified by saved pid files AND by their command line naming our work dir,
# so a recycled pid or someone else's daemon is never signalled.

DIR="${TB_SERVICES_DIR:-/tmp/tierbench-services}"
HTTP_PORT="${TB_HTTP_PORT:-18080}"
S3_PORT="${TB_S3_PORT:-18000}"
MON_PORT="${TB_MON_PORT:-13300}"
HTTP_ROOT="$DIR/www"
LOG_DIR="$DIR/logs"
PID_DIR="$DIR/pids"   # our own copies: ceph removes its pid files on exit
RUN_DIR="$DIR/run"    # ceph run_dir (pid files, admin sockets)
CEPH_DIR="$DIR/ceph"
CEPH_CONF_FILE="$CEPH_DIR/ceph.conf"
CEPHFS_MOUNT="$DIR/cephfs"
ENV_FILE="$DIR/services.env"
CEPH_TIMEOUT="${TB_CEPH_TIMEOUT:-15}"
# Extra IPv4 addresses (space-separated) nginx and radosgw listen on besides 127.0.0.1, e.g. the
# bridge address of scripts/hosts.sh's test bed so that its hosts reach the services. Unset:
# "up" keeps whatever the running services listen on; set (even empty): "up" applies it.
BIND_ADDRS="${TB_SERVICES_BIND:-}"
BIND_WANTED="${TB_SERVICES_BIND+set}"
# Fixed test credentials (a throwaway single-node cluster on loopback only).
S3_USER="tbtest"
S3_ACCESS_KEY="TBTESTACCESSKEY00001"
S3_SECRET_KEY="tbtestsecretkey0000000000000000000000001"

log() { printf '[services %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Prints the last lines of a log file to stderr, to explain a failure.
tail_log() {
  local f="$1"
  if [ -s "$f" ]; then
    log "--- last lines of $f ---"
    tail -n "${2:-25}" "$f" >&2
    log "--- end of $f ---"
  fi
}

# Fails with the tail of the given logs.
fail_with_logs() {
  local msg="$1"; shift
  local f
  for f in "$@"; do tail_log "$f"; done
  die "$msg"
}

# Every ceph/rados CLI call goes through here: without a mgr some commands hang forever.
cephc() { CEPH_CONF="$CEPH_CONF_FILE" timeout "$CEPH_TIMEOUT" ceph "$@"; }
rgw_admin() { CEPH_CONF="$CEPH_CONF_FILE" timeout "$CEPH_TIMEOUT" radosgw-admin "$@"; }

# Reads a saved pid ("" when none).
saved_pid() { if [ -f "$PID_DIR/$1.pid" ]; then tr -dc '0-9' < "$PID_DIR/$1.pid"; fi; }

# True when pid is alive and its command line contains both the program and our work dir.
pid_is_ours() {
  local pid="$1" prog="$2" cmd
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *"$prog"* && "$cmd" == *"$DIR/"* ]]
}

# True when the service (name = pid file name) runs with our saved pid.
service_running() { pid_is_ours "$(saved_pid "$1")" "$2"; }

# Waits up to $1 seconds for a pid file to appear and returns its pid on stdout.
wait_pid_file() {
  local file="$1" secs="$2" i
  for ((i = 0; i < secs * 10; i++)); do
    if [ -s "$file" ]; then tr -dc '0-9' < "$file"; return 0; fi
    sleep 0.1
  done
  return 1
}

# Stops a service by its saved pid: SIGTERM, then SIGKILL after $3 seconds (default 15).
stop_service() {
  local name="$1" prog="$2" grace="${3:-15}" pid i
  pid="$(saved_pid "$name")"
  if ! pid_is_ours "$pid" "$prog"; then
    rm -f "$PID_DIR/$name.pid"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_is_ours "$pid" "$prog" || break
    sleep 0.1
  done
  if pid_is_ours "$pid" "$prog"; then
    log "$name (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$PID_DIR/$name.pid"
}

# Checks TB_SERVICES_BIND: IPv4 addresses this machine has now (the services bind them).
check_bind_addrs() {
  local a
  for a in $BIND_ADDRS; do
    [[ "$a" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "TB_SERVICES_BIND: '$a' is not an IPv4 address"
    [ "$a" != 127.0.0.1 ] || die "TB_SERVICES_BIND: 127.0.0.1 is always served; name only extra addresses"
    ip -4 -o addr show | awk '{print $4}' | grep -q "^${a//./\\.}/" ||
      die "TB_SERVICES_BIND: $a is not an address of this machine (for the test bed: scripts/hosts.sh up N first)"
  done
}

# True when something listens on 127.0.0.1:$1.
port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# Waits up to $2 seconds until curl gets an HTTP answer (any status) from URL $1.
wait_http() {
  local url="$1" secs="$2" start=$SECONDS
  while ((SECONDS - start < secs)); do
    if curl -s -o /dev/null --max-time 2 "$url"; then return 0; fi
    sleep 0.2
  done
  return 1
}
