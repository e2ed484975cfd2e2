#!/usr/bin/env bash
# A one-machine Slurm cluster (munged + slurmctld + slurmd, Debian's slurm-wlm and munge) in
# a folder of its own, for trying and testing `srun` launches without systemd or root's
# /etc/slurm:
#   scripts/slurm-local.sh up DIR     starts it; prints "export SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm-local.sh down DIR   stops what `up DIR` started (by pid file and command line)
# Ports are free ones picked at start; the node is this host with its CPU count, on loopback.
set -euo pipefail
cmd="${1:-}"
DIR="${2:-}"
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: $0 up|down DIR" >&2; exit 2; }
DIR="$(realpath -m "$DIR")"

# True when pid runs `prog` with a command line naming our folder (never someone else's).
ours() {
  local pid="$1" prog="$2" cmdline
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$prog"* && "$cmdline" == *"$DIR/"* ]]
}

down() {
  local name prog pid i
  for name in slurmd:slurmd slurmctld:slurmctld munged:munged; do
    prog="${name#*:}"
    pid="$(cat "$DIR/${name%%:*}.bgpid" 2>/dev/null || true)"
    ours "$pid" "$prog" || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do ours "$pid" "$prog" || break; sleep 0.1; done
    ours "$pid" "$prog" && kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$DIR"/*.bgpid
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }

up() {
  for prog in munged mungekey slurmctld slurmd srun sinfo; do
    command -v "$prog" >/dev/null || PATH="$PATH:/usr/sbin" command -v "$prog" >/dev/null ||
      { echo "slurm-local: $prog is not installed (Debian slurm-wlm, munge)" >&2; exit 3; }
  done
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$DIR/state"
  chmod 755 "$DIR"
  trap 'down' ERR
  [ -f "$DIR/munge.key" ] || { mungekey --create --keyfile="$DIR/munge.key" >/dev/null; chmod 400 "$DIR/munge.key"; }
  munged --force --foreground --socket="$DIR/munge.sock" --key-file="$DIR/munge.key" --log-file="$DIR/munged.log" \
    --pid-file="$DIR/munged.pid" --seed-file="$DIR/munged.seed" >"$DIR/munged.out" 2>&1 &
  echo $! >"$DIR/munged.bgpid"
  for ((i = 0; i < 100; i++)); do [ -S "$DIR/munge.sock" ] && break; sleep 0.1; done
  local host cpus
  host="$(hostname)"
  cpus="$(nproc)"
  cat >"$DIR/slurm.conf" <<CONF
ClusterName=tierbench
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$DIR/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool.%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  slurmctld -D -c -i -f "$DIR/slurm.conf" >"$DIR/slurmctld.out" 2>&1 &
  echo $! >"$DIR/slurmctld.bgpid"
  slurmd -D -f "$DIR/slurm.conf" >"$DIR/slurmd.out" 2>&1 &
  echo $! >"$DIR/slurmd.bgpid"
  # Ready when the node is idle.
  for ((i = 0; i < 300; i++)); do
    if SLURM_CONF="$DIR/slurm.conf" sinfo -h -o %t 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$DIR/slurm.conf"
      return 0
    fi
    sleep 0.1
  done
  echo "slurm-local: the node did not become idle; logs in $DIR" >&2
  tail -n 5 "$DIR/slurmctld.out" "$DIR/slurmd.out" >&2 || true
  down
  exit 1
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
