#!/usr/bin/env bash
# Bad input to a cluster: each a clear error within a bounded time, nothing left running.
#   rank >= world size, non-numeric variables, no rendezvous address (exit 2, before any work);
#   a rendezvous host that does not answer; world sizes that differ between ranks; two
#   processes claiming the same rank; a rank that never arrives (exit non-zero, named).
source "$(dirname "$0")/lib.sh"

# Checked before any rank meets (no plugin needed).
out=$(env RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "$TB_BIN" cluster-check 2>&1); rc=$?
expect_eq "$rc" 2 "rank >= size is a usage error"
expect_contains "$out" "RANK=2 is not below WORLD_SIZE=2" "rank >= size is named"
out=$(env RANK=one WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "$TB_BIN" cluster-check 2>&1); rc=$?
expect_eq "$rc" 2 "a non-numeric rank is a usage error"
expect_contains "$out" "RANK='one': not a non-negative integer" "the non-numeric variable is named"
out=$(env -u MASTER_ADDR RANK=0 WORLD_SIZE=2 "$TB_BIN" cluster-check 2>&1); rc=$?
expect_eq "$rc" 2 "no rendezvous for size > 1 is a usage error"
expect_contains "$out" "no rendezvous address" "the missing rendezvous is explained"
out=$(env OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=2 WORLD_SIZE=3 "$TB_BIN" cluster-check 2>&1); rc=$?
expect_eq "$rc" 2 "launchers' variables that disagree are a usage error"
expect_contains "$out" "WORLD_SIZE=3 disagrees with OMPI_COMM_WORLD_SIZE=2" "the disagreeing variables are named"
out=$(env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 "$TB_BIN" run --scenario inplace --dataset-dir /nonexistent \
  --world-timeout 0 2>&1); rc=$?
expect_eq "$rc" 2 "run: an out-of-range cluster.timeout is a usage error"
expect_contains "$out" "cluster.timeout" "run: the key is named"

need_cluster_plugin

# A rendezvous that does not answer: a port nobody listens on, a 3 s bound.
port=$(free_port)
start noanswer RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 3
rc=$(wait_rc noanswer 60)
expect_eq "$rc" 1 "a rendezvous that does not answer fails (exit 1) within the bound"
expect_contains "$(cat "$WORK/noanswer.err")" "reaching the rendezvous store at 127.0.0.1:$port" \
  "the silent rendezvous is named"

# World sizes that differ: rank 0 started for 2 ranks, rank 1 for 3.
port=$(free_port)
start size-0 RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 30
start size-1 RANK=1 WORLD_SIZE=3 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 30
for r in 0 1; do
  rc=$(wait_rc size-$r 60)
  [ "$rc" != running ] && [ "$rc" != 0 ] && pass "size mismatch: rank $r exits non-zero ($rc)" ||
    fail "size mismatch: rank $r status $rc"
  expect_contains "$(cat "$WORK/size-$r.err")" "world sizes differ" "size mismatch: rank $r says why"
done

# Two processes claim rank 1.
port=$(free_port)
start dup-0 RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 30
wait_for "$WORK/dup-0.err" "rendezvous store" 60
start dup-1a RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 30 --work-seconds 20
wait_for "$WORK/dup-1a.err" "rendezvous store" 60
start dup-1b RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 30
rc=$(wait_rc dup-1b 60)
expect_eq "$rc" 2 "a second process claiming rank 1 is refused"
expect_contains "$(cat "$WORK/dup-1b.err")" "two processes claim rank 1" "the duplicate rank is named"
for name in dup-0 dup-1a; do
  rc=$(wait_rc $name 60)
  [ "$rc" != running ] && pass "duplicate rank: $name ended ($rc)" || fail "duplicate rank: $name still running"
done

# A rank that never arrives: WORLD_SIZE=3, only ranks 0 and 1 start.
port=$(free_port)
for r in 0 1; do
  start miss-$r RANK=$r WORLD_SIZE=3 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port -- cluster-check --world-timeout 3
done
for r in 0 1; do
  rc=$(wait_rc miss-$r 60)
  [ "$rc" != running ] && [ "$rc" != 0 ] && pass "missing rank: rank $r exits non-zero ($rc)" ||
    fail "missing rank: rank $r status $rc"
  expect_contains "$(cat "$WORK/miss-$r.err")" "rank 2 did not arrive within 3 s" "missing rank: rank $r names rank 2"
done
finish
