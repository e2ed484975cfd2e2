#!/usr/bin/env bash
# Ranks launched by Open MPI (`mpirun -np N`) on this host: rank and world come from
# OMPI_COMM_WORLD_*, the rendezvous defaults to loopback (every rank is local) on the port
# MASTER_PORT names; 2 ranks pass cluster-check and run the inplace scenario with barriers.
source "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null || skip "mpirun is not installed (Debian openmpi-bin)"
need_cluster_plugin
MPI=(mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp)

port=$(free_port)
( env MASTER_PORT=$port "${MPI[@]}" -np 2 "$TB_BIN" cluster-check --rounds 5 --world-timeout 60 \
    >"$WORK/mpi2.out" 2>"$WORK/mpi2.err"; echo $? >"$WORK/mpi2.rc" ) &
PIDS+=($!)
expect_eq "$(wait_rc mpi2 120)" 0 "mpirun -np 2: both ranks pass"
for r in 0 1; do
  expect_contains "$(cat "$WORK/mpi2.out")" "rank $r/2" "mpirun -np 2: rank $r reports"
done
expect_contains "$(cat "$WORK/mpi2.err")" "launcher mpi" "mpirun -np 2: the launcher is Open MPI"

"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 2 --images-per-file 200 --test-images 100 --seed 7 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
port=$(free_port)
( env MASTER_PORT=$port "${MPI[@]}" -np 2 "$TB_BIN" run --scenario inplace --dataset-dir "$WORK/ds" \
    --scratch "$WORK/scratch" --out "$WORK/runs/m.json" --skip upload,train --world-timeout 120 \
    >"$WORK/mrun.out" 2>"$WORK/mrun.err"; echo $? >"$WORK/mrun.rc" ) &
PIDS+=($!)
expect_eq "$(wait_rc mrun 300)" 0 "mpirun run: both ranks exit 0"
for r in 0 1; do
  res="$WORK/runs/m.rank$r.json"
  [ "$r" = 0 ] && res="$WORK/runs/m.json"  # rank 0: the merged results
  if [ -f "$res" ]; then
    expect_eq "$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['status'])" "$res")" ok \
      "mpirun run: rank $r's results are ok"
  else
    fail "mpirun run: rank $r wrote no results"
  fi
done
finish
