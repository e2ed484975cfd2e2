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

launched_check s2 "srun -n2" slurm timeout 120 srun -n2
launched_run srun "srun run" 8 timeout 300 srun -n2
finish
