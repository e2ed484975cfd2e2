# Sourced, not run: a private test bed of scripts/hosts.sh for one test or bench script, so
# that several can run at once without sharing state, names or addresses (tests/hosts/*_test.sh,
# bench/scale.sh, bench/cp/streams_hosts.sh). Root is the caller's check.
#   bed_private WORK NET PREFIX [FIRST [COUNT]]
#                 exports TB_HOSTS_DIR=WORK/bed, TB_HOSTS_PREFIX = PREFIX and a random number
#                 (PREFIX: 3 letters, so the name stays within hosts.sh's 8 characters) and
#                 TB_HOSTS_SUBNET = NET.x, x in FIRST..FIRST+COUNT-1 (default 0..249), a /24
#                 no address of this machine is in (each caller has its own NET)
#   bed_up N [--rate RATE]
#                 scripts/hosts.sh reap (the beds of tests killed outright), then
#                 scripts/hosts.sh up owned by this shell; on a failure prints its log to
#                 stderr and returns 1;
#                 then sources hosts.env (TB_HOSTS, TB_HOSTi_ADDR, TB_BRIDGE_ADDR, TB_HOSTS_CIDR,
#                 TB_HOSTS_EXEC, TB_HOSTS_AGENT, ...)
#   bed_down      scripts/hosts.sh down, quietly (for the caller's EXIT trap)
TB_HOSTS_SH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/hosts.sh"

bed_private() {
  local first="${4:-0}" count="${5:-250}" _
  export TB_HOSTS_DIR="$1/bed" TB_HOSTS_PREFIX="$3$((RANDOM % 10000))"
  for _ in $(seq 50); do
    TB_HOSTS_SUBNET="$2.$((first + RANDOM % count))"
    ip -4 -o addr show | awk '{print $4}' | grep -q "^$TB_HOSTS_SUBNET\." || break
  done
  export TB_HOSTS_SUBNET
}

bed_up() {
  local log="$TB_HOSTS_DIR.up.log"
  "$TB_HOSTS_SH" reap > "$log" 2>&1 || true
  TB_HOSTS_OWNER=$$ "$TB_HOSTS_SH" up "$@" >> "$log" 2>&1 || { cat "$log" >&2; return 1; }
  # shellcheck disable=SC1091
  source "$TB_HOSTS_DIR/hosts.env"
}

bed_down() { "$TB_HOSTS_SH" down > /dev/null 2>&1 || true; }
