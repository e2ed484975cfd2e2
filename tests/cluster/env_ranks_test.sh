#!/usr/bin/env bash
# Ranks started by plain torchrun-style variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
# on loopback: 2 and 4 ranks pass rounds of barrier, all-gather and mean all-reduce, and
# 2 ranks run the inplace scenario with every stage bracketed by barriers, rank 0 writing the
# merged results to --out and rank 1 its own beside them, each rank its own log. Under TORCHELASTIC_USE_AGENT_STORE (torchrun's agent serves the
# store) every rank connects as a client: Python torch's TCPStore plays the agent.
source "$(dirname "$0")/lib.sh"
need_cluster_plugin

for n in 2 4; do
  port=$(free_port)
  for ((r = 0; r < n; r++)); do
    start "check$n-$r" RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      -- cluster-check --rounds 5 --world-timeout 60
  done
  for ((r = 0; r < n; r++)); do
    expect_eq "$(wait_rc "check$n-$r" 120)" 0 "$n ranks: rank $r passed the collectives"
    expect_contains "$(cat "$WORK/check$n-$r.out")" "rank $r/$n" "$n ranks: rank $r reports its place"
    expect_contains "$(cat "$WORK/check$n-$r.err")" "gloo device" "$n ranks: rank $r logs its Gloo device"
  done
done

if "$PY" -c 'import torch.distributed' 2>/dev/null; then
  port=$(free_port)
  ( "$PY" -c "
import sys, datetime, torch.distributed as dist
s = dist.TCPStore('127.0.0.1', int(sys.argv[1]), None, True, datetime.timedelta(seconds=120), wait_for_workers=False)
print('agent store up', flush=True)
s.wait(['tierbench/done/0', 'tierbench/done/1'], datetime.timedelta(seconds=120))
print('both ranks done', flush=True)
" "$port" >"$WORK/agent.out" 2>&1; echo $? >"$WORK/agent.rc" ) &
  PIDS+=($!)
  wait_for "$WORK/agent.out" "agent store up" 60
  for r in 0 1; do
    start "agent-$r" RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port TORCHELASTIC_USE_AGENT_STORE=True \
      -- cluster-check --rounds 3 --world-timeout 60
  done
  for r in 0 1; do
    expect_eq "$(wait_rc "agent-$r" 120)" 0 "agent store: rank $r passed"
    if grep -qF "served by this rank" "$WORK/agent-$r.err"; then fail "agent store: rank $r served a store itself"; fi
  done
  expect_eq "$(wait_rc agent 60)" 0 "agent store: the agent's store saw both ranks finish"
else
  skip_part "/usr/bin/python3 has no torch (Debian python3-torch): the agent-store case did not run"
fi

"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 2 --images-per-file 200 --test-images 100 --seed 5 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
port=$(free_port)
for r in 0 1; do
  start "run-$r" RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    -- run --scenario inplace --dataset-dir "$WORK/ds" --scratch "$WORK/scratch" --out "$WORK/runs/r.json" \
    --skip upload,train --world-timeout 120 --verbose
done
for r in 0 1; do
  expect_eq "$(wait_rc "run-$r" 300)" 0 "run: rank $r exits 0"
  res="$WORK/runs/r.rank$r.json"
  [ "$r" = 0 ] && res="$WORK/runs/r.json"  # rank 0: the merged results, where --out says
  [ -f "$res" ] || { fail "run: rank $r wrote no $res"; continue; }
  expect_eq "$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['status'], [s['status'] for s in d['stages'] if s['name']=='verify'][0], [s['status'] for s in d['stages'] if s['name']=='pickled'][0])" "$res")" \
    "ok ok ok" "run: rank $r verified and decoded the dataset"
  log="$WORK/runs/r.rank$r.log"
  expect_contains "$(cat "$log")" "stage verify end status=ok" "run: rank $r has its own log"
  expect_contains "$(cat "$WORK/run-$r.err")" "all 2 ranks arrived" "run: rank $r met the other rank"
done

# A stage that fails on one rank fails on every rank, naming it: rank 1 verifies a copy of
# the dataset with one byte changed.
cp -r "$WORK/ds" "$WORK/ds-bad"
"$PY" - "$WORK/ds-bad/cifar-10-batches-py/data_batch_1" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 0xFF]))
PY
port=$(free_port)
start bad-0 RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
  -- run --scenario inplace --dataset-dir "$WORK/ds" --scratch "$WORK/scratch2" --out "$WORK/runs/b.json" \
  --skip upload,train --world-timeout 120
start bad-1 RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
  -- run --scenario inplace --dataset-dir "$WORK/ds-bad" --manifest "$WORK/ds/cifar-10-batches-py.md5" \
  --scratch "$WORK/scratch2" --out "$WORK/runs/b.json" --skip upload,train --world-timeout 120
for r in 0 1; do expect_eq "$(wait_rc "bad-$r" 300)" 1 "one rank's failed verify: rank $r exits 1"; done
verify0=$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); s=[s for s in d['stages'] if s['name']=='verify'][0]; print(s['status'], s['error'])" "$WORK/runs/b.json")
expect_contains "$verify0" "failed stage verify: rank 1 failed: 1 file(s) differ" "rank 0's verify fails naming rank 1"
expect_contains "$verify0" "data_batch_1" "rank 0's error carries rank 1's cause"
expect_eq "$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print([s['status'] for s in d['stages'] if s['name']=='pickled'][0])" "$WORK/runs/b.json")" \
  skipped "the stages after the failed one are skipped on rank 0 too"
finish
