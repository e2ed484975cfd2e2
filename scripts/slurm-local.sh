#!/usr/bin/env bash
# A one-machine Slurm cluster (munged + slurmctld + slurmd, Debian's slurm-wlm and munge) in
# a folder of its own, for trying and testing `srun` launches without systemd or root's
# /etc/slurm:
#   scripts/slurm-local.sh up DIR [--hosts]
#                starts it; prints "export SLURM_CONF=DIR/slurm.conf"
#   scripts/slurm-local.sh down DIR   stops what `up DIR` started (by pid file and command line)
# Ports are free ones picked at start. Without --hosts the one node is this host with its CPU
# count, on loopback. With --hosts every host of the running test bed (scripts/hosts.sh; its
# hosts.env under TB_HOSTS_DIR) is a node: one slurmd per host, started inside it (`hosts.sh
# exec`, node name = the host's name, address = its address on the bridge), and slurmctld in
# this namespace on the bridge address; `srun -N n` then places tasks on n hosts, each in
# its own network namespace, and SLURM_JOB_NODELIST names hosts the ranks can resolve.
set -euo pipefail
cmd="${1:-}"
DIR="${2:-}"
BED=0
[ "${3:-}" = --hosts ] && BED=1
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: $0 up DIR [--hosts] | down DIR" >&2; exit 2; }
TB_HOSTS_SH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/hosts.sh"
DIR="$(realpath -m "$DIR")"

# True when pid runs `prog` with a command line naming our folder (never someone else's).
ours() {
  local pid="$1" prog="$2" cmdline
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$prog"* && "$cmdline" == *"$DIR/"* ]]
}

down() {
  local name prog pid i names=() f
  for f in "$DIR"/slurmd*.bgpid; do [ -e "$f" ] && names+=("$(basename "$f" .bgpid):slurmd"); done
  for name in "${names[@]}" slurmctld:slurmctld munged:munged; do
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
  local host cpus ctl_addr=127.0.0.1 nodes i
  host="$(hostname)"
  cpus="$(nproc)"
  local names=("$host") addrs=(127.0.0.1)
  if [ "$BED" = 1 ]; then
    # shellcheck disable=SC1091
    source "${TB_HOSTS_DIR:-/tmp/tierbench-hosts}/hosts.env" ||
      { echo "slurm-local: --hosts: no test bed is up (scripts/hosts.sh up N)" >&2; exit 3; }
    ctl_addr="$TB_BRIDGE_ADDR"
    read -r -a names <<< "$TB_HOSTS"
    read -r -a addrs <<< "$TB_HOST_ADDRS"
  fi
  nodes="$(IFS=,; echo "${names[*]}")"
  local node_lines=""
  for i in "${!names[@]}"; do
    node_lines+="NodeName=${names[$i]} NodeAddr=${addrs[$i]} CPUs=$cpus State=UNKNOWN"$'\n'
  done
  cat >"$DIR/slurm.conf" <<CONF
ClusterName=tierbench
SlurmctldHost=$host($ctl_addr)
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
SlurmdPidFile=$DIR/slurmd.%n.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
${node_lines}PartitionName=local Nodes=$nodes Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  slurmctld -D -c -i -f "$DIR/slurm.conf" >"$DIR/slurmctld.out" 2>&1 &
  echo $! >"$DIR/slurmctld.bgpid"
  if [ "$BED" = 1 ]; then
    for i in "${!names[@]}"; do
      "$TB_HOSTS_SH" exec "${names[$i]}" "$(command -v slurmd)" -D -N "${names[$i]}" -f "$DIR/slurm.conf" \
        >"$DIR/slurmd.${names[$i]}.out" 2>&1 &
      echo $! >"$DIR/slurmd.${names[$i]}.bgpid"
    done
  else
    slurmd -D -f "$DIR/slurm.conf" >"$DIR/slurmd.out" 2>&1 &
    echo $! >"$DIR/slurmd.bgpid"
  fi
  # Ready when every node is idle.
  for ((i = 0; i < 300; i++)); do
    if [ "$(SLURM_CONF="$DIR/slurm.conf" sinfo -h -N -o %t 2>/dev/null | grep -cx idle)" = "${#names[@]}" ]; then
      echo "export SLURM_CONF=$DIR/slurm.conf"
      return 0
    fi
    sleep 0.1
  done
  echo "slurm-local: the node did not become idle; logs in $DIR" >&2
  tail -n 5 "$DIR/slurmctld.out" "$DIR"/slurmd*.out "$DIR"/slurmd*.log >&2 || true
  down
  exit 1
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
