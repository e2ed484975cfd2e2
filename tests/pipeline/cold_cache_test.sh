#!/usr/bin/env bash
# Cold and warm reads, and where the bytes came from. On a block-device filesystem (ext4 or
# the like, not tmpfs) an in-place run with --cold reads at least 90 % of the dataset from the
# device in verify; a warm repeat reads next to nothing from it and is flagged as cached. A cold
# request that cannot be honoured (the dataset on tmpfs, or on CephFS through ceph-fuse) is
# reported on stderr, under the table and in the results, never silently claimed.
source "$(dirname "$0")/lib.sh"

# A folder on a filesystem backed by a block device, else "".
block_dir() {
  for d in "${TMPDIR:-/tmp}" /var/tmp; do
    local src
    src=$(findmnt -n -o SOURCE --target "$d" 2>/dev/null | head -1)
    local type
    type=$(stat -f -c %T "$d" 2>/dev/null)
    if [[ "$src" == /dev/* && "$type" != tmpfs ]]; then echo "$d"; return; fi
  done
}
BD=$(block_dir)
if [ -z "$BD" ]; then echo "skipping: no block-device filesystem for the dataset (/tmp and /var/tmp are not)"; exit 77; fi
DATA="$(mktemp -d "$BD/tb-cold-test.XXXXXX")"
SHM=""
CEPH=""
cleanup() { rm -rf "$WORK" "$DATA" ${SHM:+"$SHM"} ${CEPH:+"$CEPH"}; }
trap cleanup EXIT

run() {
  local name=$1; shift
  timeout 300 "$TB_BIN" run --out "$WORK/$name.json" --log "$WORK/$name.log" --scratch "$WORK/s-$name" \
    --scenario inplace --skip upload,preview,train "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
}
io() { json "$1" "[s for s in d['stages'] if s['name']=='$2'][0]['io']$3"; }

"$TB_BIN" dataset generate --out "$DATA" --train-files 2 --images-per-file 2000 --test-images 1000 --seed 5 \
  >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
ds="$DATA/cifar-10-batches-py"
size=$("$PY" -c "
import os,sys
names=[l.split(None,1)[1].strip().split('/')[-1] for l in open(sys.argv[1]) if l.strip()]
print(sum(os.path.getsize(os.path.join(sys.argv[2],n)) for n in names))" "$DATA/cifar-10-batches-py.md5" "$ds")
echo "dataset: $size bytes on $(stat -f -c %T "$ds") ($BD)"

# 1. Cold: verify reads the dataset from the device.
run cold --dataset-dir "$ds" --cold --columns device,cache
expect_eq "$rc" 0 "cold run exits 0 ($(tail -2 "$WORK/cold.err"))"
dev=$(io "$WORK/cold.json" verify "['device_read_bytes']")
if [ "$dev" -ge $((size * 9 / 10)) ]; then pass "cold verify read $dev of $size bytes from the device"
else fail "cold verify read only $dev of $size bytes from the device"; fi
expect_eq "$(io "$WORK/cold.json" verify "['cache']['mode']")" cold "cache mode recorded"
expect_eq "$(io "$WORK/cold.json" verify "['cache']['honoured']")" True "eviction honoured on a block device"
expect_eq "$(io "$WORK/cold.json" verify "['cache']['evicted_bytes'] >= $size")" True "evicted bytes recorded"
expect_eq "$(io "$WORK/cold.json" verify "['potential_caching']")" False "cold verify not flagged as cached"
expect_eq "$(io "$WORK/cold.json" pickled "['device_read_bytes'] >= $size * 9 // 10")" True \
  "pickled is evicted again after verify read the files"
expect_contains "$(cat "$WORK/cold.out")" "Device MB" "--columns adds the device column"
expect_contains "$(cat "$WORK/cold.log")" "cache: verify: evicted" "the log says what was evicted"

# 2. Warm repeat: the same files come from the page cache, and the run says so.
run warm --dataset-dir "$ds"
expect_eq "$rc" 0 "warm run exits 0"
dev=$(io "$WORK/warm.json" verify "['device_read_bytes']")
if [ "$dev" -le $((size / 20)) ]; then pass "warm verify read $dev bytes from the device (≈ 0)"
else fail "warm verify read $dev of $size bytes from the device (expected ≈ 0)"; fi
expect_eq "$(io "$WORK/warm.json" verify "['potential_caching']")" True "warm verify flagged as potential caching"
expect_eq "$(io "$WORK/warm.json" verify "['cache']['mode']")" warm "warm mode recorded"
expect_contains "$(cat "$WORK/warm.out")" "verify: potential caching" "the table notes the caching"

# 3. Cold on tmpfs cannot be honoured: reported, not silent.
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
  SHM=$(mktemp -d /dev/shm/tb-cold-test.XXXXXX)
  cp -r "$ds" "$DATA/cifar-10-batches-py.md5" "$SHM/"
  run shm --dataset-dir "$SHM/cifar-10-batches-py" --cold
  expect_eq "$rc" 0 "cold run on tmpfs exits 0"
  expect_contains "$(cat "$WORK/shm.err")" "cold cache not honoured: the inputs are on tmpfs" "stderr says so"
  expect_contains "$(cat "$WORK/shm.out")" "verify: cold cache not honoured" "the table says so"
  expect_eq "$(io "$WORK/shm.json" verify "['cache']['honoured']")" False "results: not honoured"
  expect_eq "$(io "$WORK/shm.json" verify "['potential_caching']")" True "results: tmpfs reads are cached reads"
else
  skip_part "/dev/shm is not tmpfs"
fi

# 4. Cold on CephFS (ceph-fuse): the kernel counts no device reads there; unverifiable, said so.
[ -f /tmp/tierbench-services/services.env ] && source /tmp/tierbench-services/services.env
if [ -n "${TB_CEPHFS_MOUNT:-}" ] && [ -d "$TB_CEPHFS_MOUNT" ]; then
  CEPH=$(mktemp -d "$TB_CEPHFS_MOUNT/tb-cold-test.XXXXXX")
  cp -r "$ds" "$DATA/cifar-10-batches-py.md5" "$CEPH/"
  run ceph --dataset-dir "$CEPH/cifar-10-batches-py" --cold
  expect_eq "$rc" 0 "cold run on CephFS exits 0"
  expect_contains "$(cat "$WORK/ceph.err")" "cold cache not honoured" "stderr says so on CephFS"
  expect_eq "$(io "$WORK/ceph.json" verify "['cache']['honoured']")" False "results: not honoured on CephFS"
  expect_eq "$(io "$WORK/ceph.json" verify "['device_counted']")" False "results: device reads not counted"
  expect_contains "$(io "$WORK/ceph.json" verify "['notes']")" "device reads are not counted" "results: note"
elif [ "${TB_REQUIRE_SERVICES:-0}" = 1 ]; then
  fail "TB_CEPHFS_MOUNT not set"
else
  skip_part "TB_CEPHFS_MOUNT not set (run scripts/services.sh up)"
fi

# 5. Bad values are usage errors naming the key or flag.
run badcache --dataset-dir "$ds" --set pipeline.cache=lukewarm
expect_eq "$rc" 2 "pipeline.cache = lukewarm is refused"
expect_contains "$(cat "$WORK/badcache.err")" "pipeline.cache" "the error names the key"
run baddrop --dataset-dir "$ds" --set pipeline.cache_drop=some
expect_eq "$rc" 2 "pipeline.cache_drop = some is refused"
run badcols --dataset-dir "$ds" --columns device,disk
expect_eq "$rc" 2 "--columns with an unknown name is refused"
expect_contains "$(cat "$WORK/badcols.err")" "unknown column 'disk'" "the error names the column"
finish
