#!/usr/bin/env bash
# net.streams = auto against fixed stream counts over a rate-limited, non-loopback link: two
# hosts of scripts/hosts.sh (root), the origin (tests/tools/faulty_http.py) on host 1,
# `tierbench cp` on host 2, interleaved rounds, md5-checked, ratios of the same round.
#   link    the link is the limit (tc tbf at RATE): more streams cannot help; auto should
#           match one stream (ratio ~1)
#   paced   the origin paces every response to 2 MB/s (a per-connection limit, like a long
#           round trip or a throttling server): auto should open more streams
# Usage: sudo bench/cp/streams_hosts.sh [RATE=200mbit] [SIZE_MIB=64] [ROUNDS=3]
# Prints one line per run and, per case, the median of (1-stream seconds / other seconds).
set -euo pipefail
RATE="${1:-200mbit}"
SIZE_MIB="${2:-64}"
ROUNDS="${3:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/../.."
TB_BIN="${TB_BIN:-$SRC/build/tierbench}"
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
WORK="$(mktemp -d /tmp/tb-bench-streams.XXXXXX)"
source "$SRC/scripts/hosts-bed.sh"
bed_private "$WORK" 10.76 tbb
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  bed_down
  rm -rf "$WORK"
}
trap cleanup EXIT
bed_up 2 --rate "$RATE" || exit 1
mkdir -p "$WORK/www" "$WORK/out"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/www/link.bin"
head -c $((8 << 20)) /dev/urandom > "$WORK/www/paced.bin"

origin() {  # NAME FLAGS...: starts an origin on host 1, prints its URL
  local name="$1" i
  shift
  "$SRC/scripts/hosts.sh" exec "${TB_HOSTS%% *}" /usr/bin/python3 "$SRC/tests/tools/faulty_http.py" \
    --bind "$TB_HOST1_ADDR" --root "$WORK/www" --port-file "$WORK/$name.port" --quiet "$@" > /dev/null 2>&1 &
  PIDS+=($!)
  for ((i = 0; i < 100; i++)); do [ -s "$WORK/$name.port" ] && break; sleep 0.1; done
  echo "http://$TB_HOST1_ADDR:$(cat "$WORK/$name.port")"
}
LINK_URL="$(origin link)"
PACED_URL="$(origin paced --fault slow --rate 2000000)"

declare -A SECS
run() {  # CASE URL STREAMS PART_SIZE
  local c="$1" url="$2" streams="$3" part="$4" t0 t1 out why
  rm -f "$WORK/out/x.bin"
  t0=$(date +%s.%N)
  out="$("$SRC/scripts/hosts.sh" exec "${TB_HOSTS##* }" "$TB_BIN" cp --json --streams "$streams" \
    --part-size "$part" "$url" "$WORK/out/x.bin")"
  t1=$(date +%s.%N)
  cmp -s "$WORK/out/x.bin" "$WORK/www/$(basename "$url")" || { echo "$c/$streams: copy differs" >&2; exit 1; }
  why="$(echo "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["streams"], "-", d["streams_why"])')"
  SECS[$c/$streams]="${SECS[$c/$streams]:-} $(echo "$t1 - $t0" | bc -l)"
  printf '%-6s streams=%-4s %6.2f s  (%s)\n' "$c" "$streams" "$(echo "$t1 - $t0" | bc -l)" "$why"
}

echo "link $RATE each way; link: $SIZE_MIB MiB in 1 MiB parts, paced: 8 MiB in 256 KiB parts at 2 MB/s per connection; $ROUNDS rounds; $(nproc) CPUs"
for ((r = 1; r <= ROUNDS; r++)); do
  for s in 1 auto 4; do run link "$LINK_URL/link.bin" "$s" 1MiB; done
  for s in 1 auto; do run paced "$PACED_URL/paced.bin" "$s" 256KiB; done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() {  # CASE STREAMS: median over rounds of (1-stream seconds / STREAMS seconds)
  local -a one other
  read -r -a one <<< "${SECS[$1/1]}"
  read -r -a other <<< "${SECS[$1/$2]}"
  for i in "${!one[@]}"; do echo "${one[$i]} / ${other[$i]}" | bc -l; done | tr '\n' ' ' | median
}
echo "speedup over one stream (median of per-round ratios):"
printf '  link   auto %.2fx   4 streams %.2fx\n' "$(ratio link auto)" "$(ratio link 4)"
printf '  paced  auto %.2fx\n' "$(ratio paced auto)"
