# shellcheck shell=bash
# Size-limited filesystems for "scratch full" tests (sourced by scripts/services.sh).
#   scripts/services.sh smallfs 64M     -> prints a fresh mount point under $DIR/smallfs/
#   scripts/services.sh smallfs-rm PATH -> unmounts and removes it
# A tmpfs with size=SIZE (root can mount it on this machine; it uses RAM, so keep SIZE small:
# a few MiB to a few hundred MiB). Writes past SIZE fail with ENOSPC, like a full disk.

SMALLFS_DIR="$DIR/smallfs"

smallfs_make() {
  local size="${1:-}"
  [[ "$size" =~ ^[0-9]+[KkMmGg]?$ ]] || die "usage: services.sh smallfs SIZE (e.g. 64M)"
  mkdir -p "$SMALLFS_DIR"
  local mnt
  mnt="$(mktemp -d "$SMALLFS_DIR/fs-XXXXXX")"
  if ! mount -t tmpfs -o "size=$size,mode=0755" tmpfs "$mnt" 2> "$mnt.err"; then
    local why
    why="$(cat "$mnt.err")"
    rm -f "$mnt.err"; rmdir "$mnt"
    die "cannot mount a $size tmpfs (needs root / CAP_SYS_ADMIN): $why"
  fi
  rm -f "$mnt.err"
  echo "$mnt"
}

smallfs_remove() {
  local mnt="${1:-}"
  [ -n "$mnt" ] || die "usage: services.sh smallfs-rm PATH"
  mnt="$(realpath -m "$mnt")"
  [[ "$mnt" == "$SMALLFS_DIR"/fs-* ]] || die "$mnt was not made by 'services.sh smallfs'"
  if mountpoint -q "$mnt"; then umount "$mnt" || die "cannot unmount $mnt"; fi
  rmdir "$mnt" 2>/dev/null || true
}

# Removes every smallfs left behind (called by "down").
smallfs_remove_all() {
  local mnt
  for mnt in "$SMALLFS_DIR"/fs-*; do
    [ -d "$mnt" ] && smallfs_remove "$mnt"
  done
  return 0
}
