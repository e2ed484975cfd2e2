#!/usr/bin/env bash
# Ranks launched by Slurm's srun on a one-machine Slurm cluster (scripts/slurm-local.sh,
# started here and stopped at the end, also after a failure): rank and world come from
# SLURM_PROCID / SLURM_STEP_NUM_TASKS, the rendezvous from the first host of the nodelist;
# 2 ranks pass cluster-check and run the inplace scenario with barriers.
source "$(dirname "$0")/lib.sh"
for prog in srun sinfo slurmctld slurmd munged mungekey; do
  command -v "$prog" >/dev/null || PATH="$PATH:/usr/sbin" command -v "$prog" >/dev/null ||
    { echo "skipping: $prog is not installed (Debian slurm-wlm, munge)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "skipping: not root: the one-machine Slurm cluster runs its daemons as root"; exit 77; }
need_cluster_plugin
SLURM_DIR="$WORK/slurm"
stop_slurm() { "${TB_SOURCE_DIR:-$(dirname "$0")/../..}/scripts/slurm-local.sh" down "$SLURM_DIR"; cleanup; }
trap stop_slurm EXIT
if ! eval "$("${TB_SOURCE_DIR:-$(dirname "$0")/../..}/scripts/slurm-local.sh" up "$SLURM_DIR")"; then
  fail "the one-machine Slurm cluster did not start (logs above)"
  finish
fi

( timeout 120 srun -n2 "$TB_BIN" cluster-check --rounds 5 --world-timeout 60 >"$WORK/s2.out" 2>"$WORK/s2.err"
  echo $? >"$WORK/s2.rc" ) &
PIDS+=($!)
expect_eq "$(wait_rc s2 150)" 0 "srun -n2: both ranks pass"
for r in 0 1; do expect_contains "$(cat "$WORK/s2.out")" "rank $r/2" "srun -n2: rank $r reports"; done
expect_contains "$(cat "$WORK/s2.err")" "launcher slurm" "srun -n2: the launcher is Slurm"

"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 2 --images-per-file 200 --test-images 100 --seed 8 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
( timeout 300 srun -n2 "$TB_BIN" run --scenario inplace --dataset-dir "$WORK/ds" --scratch "$WORK/scratch" \
    --out "$WORK/runs/s.json" --skip upload,train --world-timeout 120 >"$WORK/srun.out" 2>"$WORK/srun.err"
  echo $? >"$WORK/srun.rc" ) &
PIDS+=($!)
expect_eq "$(wait_rc srun 330)" 0 "srun run: both ranks exit 0"
for r in 0 1; do
  res="$WORK/runs/s.rank$r.json"
  [ "$r" = 0 ] && res="$WORK/runs/s.json"  # rank 0: the merged results
  if [ -f "$res" ]; then
    expect_eq "$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['status'])" "$res")" ok \
      "srun run: rank $r's results are ok"
  else
    fail "srun run: rank $r wrote no results"
  fi
done
finish
