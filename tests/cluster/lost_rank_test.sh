#!/usr/bin/env bash
# A rank killed mid-stage: every other rank exits non-zero within 60 s, naming the lost rank;
# nothing hangs and no process is left behind. Killed: a non-zero rank while both wait in
# cluster-check's work before a barrier, rank 0 (which serves the rendezvous store), and a
# rank of `tierbench run` in the middle of its train stage.
source "$(dirname "$0")/lib.sh"
need_cluster_plugin

# kill_case NAME VICTIM: 2 ranks working for a long time; VICTIM is killed once both met.
kill_case() {
  local name="$1" victim="$2" other=$((1 - $2)) port
  port=$(free_port)
  for r in 0 1; do
    start "$name-$r" RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      -- cluster-check --rounds 1 --work-seconds 3600 --world-timeout 600
  done
  wait_for "$WORK/$name-0.err" "all 2 ranks arrived" 60 || return
  wait_for "$WORK/$name-1.err" "gloo device" 60 || return
  local pid
  pid=$(pid_of "${PIDS[$((${#PIDS[@]} - 2 + victim))]}")
  [ -n "$pid" ] || { fail "$name: no process for rank $victim"; return; }
  kill -KILL "$pid"
  local rc
  rc=$(wait_rc "$name-$other" 60)
  if [ "$rc" = running ] || [ "$rc" = 0 ]; then
    fail "$name: rank $other did not exit non-zero within 60 s of rank $victim's death (status $rc)"
  else
    pass "$name: rank $other exited with status $rc"
  fi
  expect_contains "$(cat "$WORK/$name-$other.err")" "rank $victim" "$name: rank $other names the lost rank"
  expect_contains "$(cat "$WORK/$name-$other.err")" "lost" "$name: rank $other says it is lost"
}
kill_case killed-rank1 1
kill_case killed-rank0 0

# The train stage of a real run: rank 1 is killed while both train.
"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 1 --images-per-file 400 --test-images 50 --seed 6 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
port=$(free_port)
for r in 0 1; do
  start "train-$r" RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    -- run --scenario inplace --dataset-dir "$WORK/ds" --scratch "$WORK/scratch" --out "$WORK/runs/t.json" \
    --skip upload,preview --epochs 100000 --threads 1 --workers 0 --world-timeout 600 --verbose
done
if wait_for "$WORK/train-1.err" "stage train start" 300 && wait_for "$WORK/train-0.err" "stage train start" 300; then
  pid=$(pid_of "${PIDS[$((${#PIDS[@]} - 1))]}")
  kill -KILL "$pid"
  rc=$(wait_rc train-0 60)
  if [ "$rc" = running ] || [ "$rc" = 0 ]; then
    fail "train: rank 0 did not exit non-zero within 60 s of rank 1's death (status $rc)"
  else
    pass "train: rank 0 exited with status $rc"
  fi
  expect_eq "$rc" 1 "train: a lost rank fails the stage (exit 1, not an interruption)"
  res="$WORK/runs/t.json"  # rank 0 writes to --out (unmerged: rank 1 is gone)
  if [ -f "$res" ]; then
    expect_eq "$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); s=[s for s in d['stages'] if s['name']=='train'][0]; print(s['status'], 'rank 1' in s['error'])" "$res")" \
      "failed True" "train: rank 0's results name rank 1 in the failed train stage"
  else
    fail "train: rank 0 wrote no results"
  fi
fi
# Nothing left behind: every process this test started has ended.
left=0
for pid in "${PIDS[@]}"; do pgrep -P "$pid" -x tierbench >/dev/null && left=$((left + 1)); done
expect_eq "$left" 0 "no tierbench process is left behind"
finish
