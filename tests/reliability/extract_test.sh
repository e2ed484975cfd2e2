#!/usr/bin/env bash
# Hostile tarballs through `tierbench run` (stage extract, dataset/archive.cc): absolute paths,
# '..' components, symlinks out of the destination and files written through them, hard links
# out, device nodes, FIFOs, a bzip2 decompression bomb past the expansion limit and more
# entries than the entry limit. Each must fail the extract stage with exit 1 and an error that
# names the entry; nothing may appear outside the scratch dir and no temporary file may remain.
# Needs no services. TB_RELIABILITY_QUICK=1 skips the two slow cases (bomb, entry count).
source "$(dirname "$0")/lib.sh"
outside="$WORK/outside"
mkdir -p "$outside"
echo "victim" > "$outside/victim.txt"
snapshot() { (cd "$WORK" && find . -path ./scratch -prune -o -print | grep -v '^\./\(tarballs\|results\)' | sort); }
mkdir -p "$WORK/tarballs" "$WORK/results"
before=$(snapshot)

# attack KIND EXPECTED_ENTRY EXPECTED_CAUSE
attack() {
  local kind=$1 entry=$2 cause=$3 tar="$WORK/tarballs/$1.tar"
  if [ "$kind" = bomb ]; then
    cp "$(dirname "$0")/data/bomb-1.25GiB.tar.bz2" "$tar"
  else
    "$PY" "$MAKE_TAR" "$kind" "$tar" "$outside" || { fail "$kind: cannot build the tarball"; return; }
  fi
  rm -rf "$WORK/scratch"
  local out="$WORK/results/$kind.json"
  "$TB_BIN" run --origin "$tar" --md5 "$(md5_of "$tar")" --scratch "$WORK/scratch" \
    --skip verify,pickled,meta,upload,preview,train --out "$out" >/dev/null 2>"$WORK/results/$kind.err"
  local rc=$? err
  err=$(cat "$WORK/results/$kind.err")
  expect_rc "$rc" 1 "$kind"
  expect_eq "$(stage "$out" extract status)" failed "$kind: extract stage failed"
  expect_contains "$err" "entry '$entry'" "$kind: error names the entry"
  expect_contains "$err" "$cause" "$kind: error gives the cause"
  expect_eq "$(snapshot)" "$before" "$kind: nothing created or changed outside scratch"
  expect_eq "$(cat "$outside/victim.txt")" victim "$kind: file outside untouched"
  [ ! -e /tmp/outside-dotdot.txt ] || fail "$kind: /tmp/outside-dotdot.txt was written"
  local bad
  bad=$(find "$WORK/scratch" \( -type c -o -type b -o -type p -o -type s \) -print; \
        find "$WORK/scratch" -type l -lname '/*' -print; find "$WORK/scratch" -type l -lname '*..*' -print)
  [ -z "$bad" ] && pass "$kind: no device, FIFO or escaping link in scratch" || fail "$kind: created $bad"
  expect_no_temp "$WORK/scratch" "$kind"
}

rm -f /tmp/outside-dotdot.txt
attack abs "$outside/abs.txt" "absolute path"
attack dotdot "cifar-10-batches-py/../../../../outside-dotdot.txt" "'..' component"
attack symlink "cifar-10-batches-py/esc" "points outside the destination"
attack symrel "esc" "points outside the destination"
attack hardlink "cifar-10-batches-py/hl" "points outside the destination"
attack hardrel "cifar-10-batches-py/hl" "points outside the destination"
attack device "cifar-10-batches-py/null" "device node"
attack blockdev "cifar-10-batches-py/disk" "device node"
attack fifo "cifar-10-batches-py/pipe" "FIFO"
if [ "${TB_RELIABILITY_QUICK:-0}" = 1 ]; then
  skip_part "the bomb and entry-count cases (TB_RELIABILITY_QUICK=1)"
else
  attack bomb "cifar-10-batches-py/data_batch_1" "expands past the limit"
  attack entries "cifar-10-batches-py/" "more than 1000000 entries"
fi
finish
