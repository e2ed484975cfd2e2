#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts and stops the real services tierbench's integration tests and benchmarks run against,
# all on 127.0.0.1 and all under one work dir (TB_SERVICES_DIR, default /tmp/tierbench-services):
#   nginx        HTTP origin serving $DIR/www on :18080 (TB_HTTP_PORT), sendfile, byte ranges
#   Ceph         ceph-mon (:13300, TB_MON_PORT) + one BlueStore ceph-osd on a 20 GiB sparse file
#                + radosgw (S3, beast on :18000, TB_S3_PORT) with a fixed test user; no mgr
#   CephFS       optional (TB_CEPHFS=0 skips): ceph-mds + ceph-fuse mount at $DIR/cephfs
# TB_SERVICES_BIND="ADDR ..." makes nginx and radosgw listen on these addresses too, e.g. the
# bridge address of scripts/hosts.sh's test bed (start it first), so its hosts reach them:
#   scripts/hosts.sh up 2 && TB_SERVICES_BIND=10.77.0.1 scripts/services.sh up
# ("up" reloads nginx and restarts radosgw when the addresses differ from the running ones;
# unset, "up" keeps them). CephFS is a mount: every host of the test bed sees it as it is.
#
# Usage: scripts/services.sh up|down|status|restart-rgw|env|smallfs SIZE|smallfs-rm PATH
#   up           start whatever is not running (idempotent); writes $DIR/services.env
#   down         unmount CephFS, stop mds, rgw, osd, mon, nginx by their saved pids; unmount
#                any smallfs left behind
#   status       one line per service; exit 0 when nginx, mon, osd, rgw run and HTTP+S3 answer
#   restart-rgw  kill radosgw (SIGKILL; TB_RGW_KILL_SIGNAL=TERM for a clean stop) and start it
#   env          print services.env (use: source <(scripts/services.sh env))
#   smallfs SIZE make a size-limited filesystem (e.g. 64M) for "scratch full" tests; prints
#                its path. smallfs-rm PATH unmounts and removes it again.
# Logs: $DIR/logs. Daemons are stopped by pid, never by name; nothing outside $DIR is touched.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/services/common.sh"
source "$HERE/services/nginx.sh"
source "$HERE/services/ceph.sh"
source "$HERE/services/cephfs.sh"
source "$HERE/services/smallfs.sh"

write_env() {
  local with_cephfs="$1" tmp="$ENV_FILE.tmp"
  kv() { printf 'export %s=%q\n' "$1" "$2"; }
  {
    echo "# Written by scripts/services.sh up at $(date -u +%FT%TZ); source it."
    kv TB_SERVICES_DIR "$DIR"
    kv TB_HTTP_ORIGIN "http://127.0.0.1:$HTTP_PORT"
    kv TB_HTTP_ROOT "$HTTP_ROOT"
    kv TB_HTTP_PORT "$HTTP_PORT"
    kv TB_S3_PORT "$S3_PORT"
    kv TB_SERVICES_BIND "$(sed -n 's/^    listen \(.*\):[0-9]*;$/\1/p' "$NGINX_CONF" | grep -v '^127\.0\.0\.1$' | tr '\n' ' ' | sed 's/ $//')"
    kv TB_S3_ENDPOINT "http://127.0.0.1:$S3_PORT"
    kv AWS_ACCESS_KEY_ID "$S3_ACCESS_KEY"
    kv AWS_SECRET_ACCESS_KEY "$S3_SECRET_KEY"
    kv AWS_REGION us-east-1
    kv AWS_DEFAULT_REGION us-east-1
    kv AWS_ENDPOINT_URL "http://127.0.0.1:$S3_PORT"
    kv TB_CEPH_CONF "$CEPH_CONF_FILE"
    kv TB_RGW_PID_FILE "$PID_DIR/rgw.pid"
    if [ "$with_cephfs" = 1 ]; then kv TB_CEPHFS_MOUNT "$CEPHFS_MOUNT"; fi
  } > "$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

# True when everything a previous "up" started still runs and answers: "up" is then a no-op.
all_up() {
  [ -f "$ENV_FILE" ] && service_running nginx nginx && service_running mon.a ceph-mon &&
    service_running osd.0 ceph-osd && service_running rgw radosgw || return 1
  if grep -q TB_CEPHFS_MOUNT "$ENV_FILE"; then
    service_running mds.a ceph-mds && cephfs_mounted || return 1
  elif [ "${TB_CEPHFS:-1}" != 0 ] && cephfs_prereqs 2> /dev/null; then
    return 1  # CephFS wanted and possible but not up: try again
  fi
  nginx_binds_current && ceph_rgw_binds_current || return 1
  curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$HTTP_PORT/" &&
    curl -s --max-time 3 "http://127.0.0.1:$S3_PORT/" | grep -q ListAllMyBucketsResult
}

cmd_up() {
  local t0
  t0="$(date +%s.%N)"
  mkdir -p "$DIR" "$LOG_DIR" "$PID_DIR" "$RUN_DIR" "$HTTP_ROOT"
  # One "up" at a time: a second caller waits for the first, then finds everything running.
  exec 9> "$DIR/.lock"
  flock -w 300 9 || die "another 'services.sh up/down' holds $DIR/.lock for 5 minutes"
  if all_up; then
    log "already up; environment: $ENV_FILE"
    return 0
  fi
  nginx_up
  ceph_up
  local with_cephfs=0
  if cephfs_up; then with_cephfs=1; fi
  write_env "$with_cephfs"
  log "all services up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s;" \
    "environment: $ENV_FILE (source it, or: source <(scripts/services.sh env))"
}

cmd_down() {
  [ -d "$DIR" ] || { log "nothing to stop: $DIR does not exist"; return 0; }
  exec 9> "$DIR/.lock"
  flock -w 300 9 || die "another 'services.sh up/down' holds $DIR/.lock"
  rm -f "$ENV_FILE"
  cephfs_down
  ceph_down
  nginx_down
  smallfs_remove_all
  log "all services stopped (data kept in $DIR; remove it to start from scratch)"
}

status_line() {  # prints one line; returns 1 when the service is stopped
  local name="$1" prog="$2" what="$3" pid rss
  pid="$(saved_pid "$name")"
  if pid_is_ours "$pid" "$prog"; then
    rss="$(awk '/^VmRSS/ {printf "%d MB", $2 / 1024}' "/proc/$pid/status" 2>/dev/null)"
    printf '%-10s running  pid %-8s rss %-8s %s\n' "$name" "$pid" "$rss" "$what"
  else
    printf '%-10s stopped\n' "$name"
    return 1
  fi
}

cmd_status() {
  local ok=0
  status_line nginx nginx "http://127.0.0.1:$HTTP_PORT (root $HTTP_ROOT)" || ok=1
  status_line mon.a ceph-mon "127.0.0.1:$MON_PORT" || ok=1
  status_line osd.0 ceph-osd "BlueStore $OSD_BLOCK" || ok=1
  status_line rgw radosgw "http://127.0.0.1:$S3_PORT" || ok=1
  status_line mds.a ceph-mds "CephFS metadata server" || true
  status_line ceph-fuse ceph-fuse "$CEPHFS_MOUNT" || true
  if curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$HTTP_PORT/"; then
    echo "http       answers"
  else
    echo "http       NOT answering"; ok=1
  fi
  if curl -s --max-time 3 "http://127.0.0.1:$S3_PORT/" | grep -q ListAllMyBucketsResult; then
    echo "s3         answers"
  else
    echo "s3         NOT answering"; ok=1
  fi
  if cephfs_mounted; then echo "cephfs     mounted at $CEPHFS_MOUNT"; else echo "cephfs     not mounted"; fi
  [ -f "$ENV_FILE" ] && echo "env        $ENV_FILE" || echo "env        (no $ENV_FILE)"
  return $ok
}

cmd_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE does not exist: run scripts/services.sh up"
  cat "$ENV_FILE"
}

cmd_restart_rgw() {
  [ -f "$CEPH_DIR/.osd-ready" ] || die "no cluster in $CEPH_DIR: run scripts/services.sh up"
  local t0
  t0="$(date +%s.%N)"
  ceph_rgw_restart
  log "radosgw back in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart-rgw) cmd_restart_rgw ;;
  env) cmd_env ;;
  smallfs) shift; smallfs_make "$@" ;;
  smallfs-rm) shift; smallfs_remove "$@" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | grep -v '^# shellcheck' | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
