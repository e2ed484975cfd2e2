#!/usr/bin/env bash
# Download throughput from the nginx origin: tierbench cp vs curl vs aria2c, same file, same
# run, interleaved rounds. Usage: bench/cp/http_download.sh [SIZE_MIB=1024] [ROUNDS=3]
# Needs scripts/services.sh up (TB_HTTP_ORIGIN, TB_HTTP_ROOT) and a built tierbench (TB_BIN,
# default build/tierbench). Prints one line per run and the median MB/s per tool (MB = 1e6 B).
# "tierbench" uses the defaults (net.streams = auto: one stream, doubled up to 16 while the
# aggregate rate grows; 8 MiB ranged parts appended in order); "tb-c1" forces one stream.
# Downloads land in /tmp (TB_BENCH_DIR overrides) and are md5-checked after each run.
set -euo pipefail
SIZE_MIB="${1:-1024}"
ROUNDS="${2:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TB_BIN="${TB_BIN:-$HERE/../../build/tierbench}"
# shellcheck disable=SC1091
[ -z "${TB_HTTP_ORIGIN:-}" ] && source /tmp/tierbench-services/services.env
OUT="$(mktemp -d "${TB_BENCH_DIR:-/tmp}/tb-bench-http.XXXXXX")"
NAME="tb-bench-$$-${SIZE_MIB}m.bin"
trap 'rm -rf "$OUT" "${TB_HTTP_ROOT:?}/$NAME"' EXIT
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$TB_HTTP_ROOT/$NAME"
URL="$TB_HTTP_ORIGIN/$NAME"
WANT="$(md5sum < "$TB_HTTP_ROOT/$NAME" | cut -d' ' -f1)"
BYTES=$((SIZE_MIB * 1024 * 1024))
declare -A RATES

run() {  # run TOOL CMD...: times one download into $OUT/TOOL.bin, checks its md5
  local tool="$1" t0 t1 secs rate
  shift
  rm -f "$OUT/$tool.bin"
  sync
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc -l)
  [ "$(md5sum < "$OUT/$tool.bin" | cut -d' ' -f1)" = "$WANT" ] || { echo "$tool: md5 mismatch" >&2; exit 1; }
  rate=$(echo "$BYTES / 1000000 / $secs" | bc -l)
  printf '%-10s %6.2f s  %8.1f MB/s\n' "$tool" "$secs" "$rate"
  RATES[$tool]="${RATES[$tool]:-} $rate"
  rm -f "$OUT/$tool.bin"
}

echo "file: $SIZE_MIB MiB from $URL; $ROUNDS rounds; $(nproc) CPUs"
for ((r = 1; r <= ROUNDS; r++)); do
  run tierbench "$TB_BIN" cp --no-progress "$URL" "$OUT/tierbench.bin"
  run tb-c1 "$TB_BIN" cp --no-progress --concurrency 1 "$URL" "$OUT/tb-c1.bin"
  run curl curl -sf -o "$OUT/curl.bin" "$URL"
  run aria2c aria2c -q -x16 -s16 -k8M --file-allocation=falloc --allow-overwrite=true -d "$OUT" -o aria2c.bin "$URL"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tbm=$(echo "${RATES[tierbench]}" | median)
echo "median MB/s:"
for tool in tierbench tb-c1 curl aria2c; do
  m=$(echo "${RATES[$tool]}" | median)
  printf '  %-10s %8.1f  (tierbench/%s = %.2fx)\n' "$tool" "$m" "$tool" "$(echo "$tbm / $m" | bc -l)"
done
