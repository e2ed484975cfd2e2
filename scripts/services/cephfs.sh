# shellcheck shell=bash
# Optional CephFS (sourced by scripts/services.sh): ceph-mds + "ceph fs new" + a ceph-fuse
# mount at $CEPHFS_MOUNT, the in-place "shared filesystem" tier. Never fatal: every function
# returns non-zero with a reason on stderr, and "up" goes on without TB_CEPHFS_MOUNT.

# True when the mount table lists the mount point, even when it is stale (mountpoint(1)
# cannot stat a mount whose ceph-fuse died: "Transport endpoint is not connected").
cephfs_in_mount_table() { awk -v p="$CEPHFS_MOUNT" '$2 == p {found = 1} END {exit !found}' /proc/self/mounts; }

# True when CephFS is mounted and answers.
cephfs_mounted() {
  cephfs_in_mount_table && timeout 5 stat -f "$CEPHFS_MOUNT" > /dev/null 2>&1
}

cephfs_prereqs() {
  [ -c /dev/fuse ] || { log "CephFS skipped: /dev/fuse is missing"; return 1; }
  if ! command -v ceph-mds > /dev/null || ! command -v ceph-fuse > /dev/null; then
    log "CephFS skipped: ceph-mds/ceph-fuse not installed (apt-get install ceph-mds ceph-fuse fuse3)"
    return 1
  fi
}

cephfs_make_fs() {
  [ -f "$CEPH_DIR/.cephfs-ready" ] && return 0
  local out="$LOG_DIR/cephfs-bootstrap.log"
  {
    if ! cephc fs ls 2>/dev/null | grep -q 'name: cephfs,'; then
      cephc osd pool create cephfs_metadata 8 &&
      cephc osd pool create cephfs_data 8 &&
      cephc fs new cephfs cephfs_metadata cephfs_data
    fi
  } >> "$out" 2>&1 || { tail_log "$out"; log "CephFS skipped: 'ceph fs new' failed"; return 1; }
  touch "$CEPH_DIR/.cephfs-ready"
}

cephfs_mds_up() {
  if ! service_running mds.a ceph-mds; then
    mkdir -p "$CEPH_DIR/mds.a"
    rm -f "$RUN_DIR/mds.a.pid"
    ceph-mds -c "$CEPH_CONF_FILE" -i a >> "$LOG_DIR/ceph-mds.out" 2>&1 9>&- < /dev/null || {
      tail_log "$LOG_DIR/mds.a.log"; log "CephFS skipped: ceph-mds did not start"; return 1; }
    local pid
    pid="$(wait_pid_file "$RUN_DIR/mds.a.pid" 20)" || {
      tail_log "$LOG_DIR/mds.a.log"; log "CephFS skipped: ceph-mds wrote no pid file"; return 1; }
    echo "$pid" > "$PID_DIR/mds.a.pid"
  fi
  local start=$SECONDS
  until cephc mds stat 2>/dev/null | grep -q 'up:active'; do
    if ((SECONDS - start >= 60)) || ! service_running mds.a ceph-mds; then
      tail_log "$LOG_DIR/mds.a.log"; log "CephFS skipped: the MDS did not become active"; return 1
    fi
    sleep 0.3
  done
}

cephfs_mount() {
  cephfs_mounted && return 0
  # A dead ceph-fuse leaves a stale mount ("Transport endpoint is not connected").
  if cephfs_in_mount_table; then cephfs_unmount; fi
  mkdir -p "$CEPHFS_MOUNT"
  rm -f "$RUN_DIR/ceph-fuse.pid"
  ceph-fuse -c "$CEPH_CONF_FILE" -n client.admin --client_fs=cephfs \
      --pid_file "$RUN_DIR/ceph-fuse.pid" --log_file "$LOG_DIR/ceph-fuse.log" \
      "$CEPHFS_MOUNT" >> "$LOG_DIR/ceph-fuse.out" 2>&1 9>&- < /dev/null || {
    tail_log "$LOG_DIR/ceph-fuse.out"; tail_log "$LOG_DIR/ceph-fuse.log"
    log "CephFS skipped: ceph-fuse mount failed"; return 1; }
  local pid
  pid="$(wait_pid_file "$RUN_DIR/ceph-fuse.pid" 10)" && echo "$pid" > "$PID_DIR/ceph-fuse.pid"
  cephfs_mounted || { log "CephFS skipped: $CEPHFS_MOUNT is not a working mount"; return 1; }
}

cephfs_up() {
  if [ "${TB_CEPHFS:-1}" = 0 ]; then log "CephFS skipped (TB_CEPHFS=0)"; return 1; fi
  cephfs_prereqs && cephfs_make_fs && cephfs_mds_up && cephfs_mount || return 1
  log "CephFS mounted at $CEPHFS_MOUNT (mds pid $(saved_pid mds.a), ceph-fuse pid $(saved_pid ceph-fuse))"
}

cephfs_unmount() {
  if cephfs_in_mount_table; then
    log "unmounting $CEPHFS_MOUNT"
    fusermount3 -u "$CEPHFS_MOUNT" 2>/dev/null || fusermount -u "$CEPHFS_MOUNT" 2>/dev/null ||
      umount "$CEPHFS_MOUNT" 2>/dev/null || umount -l "$CEPHFS_MOUNT" ||
      log "could not unmount $CEPHFS_MOUNT"
  fi
  stop_service ceph-fuse ceph-fuse 10
}

cephfs_down() {
  cephfs_unmount
  stop_service mds.a ceph-mds 15
}
