#!/usr/bin/env bash
# Ranks launched by Open MPI (`mpirun -np N`) on this host: rank and world come from
# OMPI_COMM_WORLD_*, the rendezvous defaults to loopback (every rank is local) on the port
# MASTER_PORT names; 2 ranks pass cluster-check and run the inplace scenario with barriers.
# (mpirun placing one rank per network-namespace host: tests/hosts/ranks_test.sh.)
source "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null || skip "mpirun is not installed (Debian openmpi-bin)"
need_cluster_plugin
MPI=(mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp -np 2)

launched_check mpi2 "mpirun -np 2" mpi env MASTER_PORT="$(free_port)" "${MPI[@]}"
launched_run mrun "mpirun run" 7 env MASTER_PORT="$(free_port)" "${MPI[@]}"
finish
