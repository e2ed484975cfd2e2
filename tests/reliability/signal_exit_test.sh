#!/usr/bin/env bash
# Exit status and leftovers after SIGINT / SIGTERM, each sent on an event the process reports
# (a line on its output), never after a fixed delay:
#   - `train` once training has started: 130 / 143, no model.pth, no temporary file;
#   - `run` once its train stage has started: 130 / 143, results written with the train stage
#     "interrupted", no model.pth;
#   - sequential extract (pipeline.stream=false) once the extract stage has started, on a plain
#     .tar whose one member is 1 GiB: 130, the stage "interrupted", the member not under its
#     final name (the stage stopped inside the member), no temporary file left.
# Needs no services.
source "$(dirname "$0")/lib.sh"

# on_line SIG PATTERN OUTFILE CMD...: runs CMD with its stdout and stderr into a pipe read line
# by line (copied to OUTFILE); sends SIG the first time a line contains PATTERN; sets rc and
# signalled (1 when the signal was sent).
on_line() {
  local sig=$1 pattern=$2 out=$3 pid line
  shift 3
  rm -f "$WORK/events"
  mkfifo "$WORK/events"
  "$@" >"$WORK/events" 2>&1 </dev/null &
  pid=$!
  signalled=0
  : > "$out"
  while IFS= read -r line; do
    printf '%s\n' "$line" >> "$out"
    if [ "$signalled" = 0 ] && [[ "$line" == *"$pattern"* ]]; then
      kill -s "$sig" "$pid"
      signalled=1
    fi
  done < "$WORK/events"
  wait "$pid"
  rc=$?
}
want_code() { [ "$1" = INT ] && echo 130 || echo 143; }

"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 1 --images-per-file 2000 --test-images 200 --seed 2 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }

# 1. train
for sig in TERM INT; do
  name="train-$sig"
  on_line "$sig" "loss:" "$WORK/$name.out" "$TB_BIN" train --data "$WORK/ds" --epochs 100000 --log-every 1 \
    --model-dir "$WORK/$name-model" --sm-prefix "$WORK/$name-sm"
  if grep -qi "plugin" "$WORK/$name.out" && [ "$signalled" = 0 ]; then
    echo "skipping the train cases: $(head -1 "$WORK/$name.out")"
    break
  fi
  expect_eq "$signalled" 1 "$name: training started (a loss line)"
  expect_eq "$rc" "$(want_code "$sig")" "$name: exit status for SIG$sig"
  expect_contains "$(cat "$WORK/$name.out")" "interrupted" "$name: says it was interrupted"
  [ ! -e "$WORK/$name-model/model.pth" ] && pass "$name: no model.pth" || fail "$name: a model.pth was written"
  expect_no_temp "$WORK/$name-model" "$name"
done

# 2. run, interrupted in its train stage
for sig in TERM INT; do
  name="run-$sig"
  on_line "$sig" "stage train start" "$WORK/$name.out" "$TB_BIN" run --scenario inplace --dataset-dir "$WORK/ds" \
    --skip upload,preview --epochs 100000 --scratch "$WORK/$name-scratch" --out "$WORK/$name.json" --verbose
  expect_eq "$signalled" 1 "$name: the train stage started"
  expect_eq "$rc" "$(want_code "$sig")" "$name: exit status for SIG$sig"
  expect_interrupted "$WORK/$name.json" "$name" train pickled ok
  [ ! -e "$WORK/$name-scratch/model/model.pth" ] && pass "$name: no model.pth" || fail "$name: a model.pth was written"
  expect_no_temp "$WORK/$name-scratch" "$name"
done

# 3. sequential extract of a plain tar with one 1 GiB member
mkdir -p "$WORK/big/cifar-10-batches-py"
head -c $((1 << 30)) /dev/zero > "$WORK/big/cifar-10-batches-py/data_batch_1"
tar -cf "$WORK/big.tar" -C "$WORK/big" cifar-10-batches-py
member_md5=$(md5_of "$WORK/big/cifar-10-batches-py/data_batch_1")
rm -rf "$WORK/big"
for sig in INT TERM; do
  name="extract-$sig"
  on_line "$sig" "stage extract start" "$WORK/$name.out" "$TB_BIN" run --origin "$WORK/big.tar" \
    --md5 "$(md5_of "$WORK/big.tar")" --set pipeline.stream=false --skip verify,pickled,meta,upload,preview,train \
    --scratch "$WORK/$name-scratch" --out "$WORK/$name.json" --verbose
  expect_eq "$signalled" 1 "$name: the extract stage started"
  expect_eq "$rc" "$(want_code "$sig")" "$name: exit status for SIG$sig"
  if [ -s "$WORK/$name.json" ]; then
    expect_eq "$(stage "$WORK/$name.json" extract status)" interrupted "$name: extract marked interrupted"
  else
    fail "$name: no results JSON"
  fi
  member="$WORK/$name-scratch/extract/cifar-10-batches-py/data_batch_1"
  if [ -e "$member" ]; then
    [ "$(md5_of "$member")" = "$member_md5" ] && fail "$name: the member was written to its end after the signal" ||
      fail "$name: a partial member is under its final name"
  else
    pass "$name: stopped inside the member, nothing under its final name"
  fi
  expect_no_temp "$WORK/$name-scratch" "$name"
  rm -rf "$WORK/$name-scratch"
done
finish
