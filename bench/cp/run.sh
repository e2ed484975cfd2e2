#!/usr/bin/env bash
# Upload and download a generated 1,283-file dataset to/from the Ceph RGW with tierbench cp,
# /usr/bin/aws s3 cp --recursive and rclone, in one run against the same endpoint, and print
# seconds, MB/s (MB = 1e6 B) and tierbench's speedup over each. Every download is checked with
# diff -r against the source. Usage: bench/cp/run.sh [CONCURRENCY=16]
# Needs scripts/services.sh up and a built tierbench (TB_BIN, default build/tierbench).
set -uo pipefail
CONC="${1:-16}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TB_BIN="${TB_BIN:-$HERE/../../build/tierbench}"
# shellcheck disable=SC1091
[ -z "${TB_S3_ENDPOINT:-}" ] && source /tmp/tierbench-services/services.env
WORK="$(mktemp -d /tmp/tb-bench-cp.XXXXXX)"
BUCKET="tb-bench-cp-$$"
AWS=(/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT")
# (rclone 1.60 fails on any AWS_CA_BUNDLE with an http endpoint: it is unset for rclone only.)
export RCLONE_CONFIG_TBRGW_TYPE=s3 RCLONE_CONFIG_TBRGW_PROVIDER=Ceph
export RCLONE_CONFIG_TBRGW_ENDPOINT="$TB_S3_ENDPOINT" RCLONE_CONFIG_TBRGW_REGION=us-east-1
export RCLONE_CONFIG_TBRGW_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
export RCLONE_CONFIG_TBRGW_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
trap '"${AWS[@]}" s3 rb --force "s3://$BUCKET" > /dev/null 2>&1; rm -rf "$WORK"' EXIT

# The dataset: 1,277 small files (1-120 KiB) in 10 folders plus 6 x 24 MiB "batches".
DATA="$WORK/data"
mkdir -p "$DATA"
for d in $(seq 0 9); do mkdir -p "$DATA/class$d"; done
for i in $(seq 1 1277); do head -c $(((i * 7919) % 120000 + 1024)) /dev/urandom > "$DATA/class$((i % 10))/img$i.png"; done
for i in $(seq 1 6); do head -c $((24 << 20)) /dev/urandom > "$DATA/data_batch_$i"; done
FILES=$(find "$DATA" -type f | wc -l)
BYTES=$(du -sb --apparent-size "$DATA" | cut -f1)
"${AWS[@]}" s3 mb "s3://$BUCKET" > /dev/null || exit 1
echo "dataset: $FILES files, $BYTES bytes; endpoint $TB_S3_ENDPOINT; concurrency $CONC; $(nproc) CPUs"

declare -A SECS
timed() {  # timed NAME CMD...: records seconds in SECS[NAME], "" on failure
  local name="$1" t0 t1
  shift
  t0=$(date +%s.%N)
  if "$@" > "$WORK/$name.log" 2>&1; then
    t1=$(date +%s.%N)
    SECS[$name]=$(echo "$t1 - $t0" | bc -l)
    printf '%-20s %7.2f s  %7.1f MB/s\n' "$name" "${SECS[$name]}" "$(echo "$BYTES / 1000000 / ${SECS[$name]}" | bc -l)"
  else
    SECS[$name]=""
    echo "$name FAILED: $(tail -2 "$WORK/$name.log")"
  fi
}
check() { diff -r "$DATA" "$1" > /dev/null && echo "  $2: identical" || { echo "  $2: DIFFERS"; SECS[$2]=""; }; }

echo "upload:"
timed up.tierbench "$TB_BIN" cp --recursive --no-progress --concurrency "$CONC" --endpoint-url "$TB_S3_ENDPOINT" "$DATA" "s3://$BUCKET/tierbench"
timed up.aws "${AWS[@]}" s3 cp --recursive --only-show-errors "$DATA" "s3://$BUCKET/aws"
timed up.rclone env -u AWS_CA_BUNDLE rclone copy --transfers "$CONC" --checkers "$CONC" "$DATA" "tbrgw:$BUCKET/rclone"
echo "download (of the awscli upload):"
timed down.tierbench "$TB_BIN" cp --recursive --no-progress --concurrency "$CONC" --endpoint-url "$TB_S3_ENDPOINT" "s3://$BUCKET/aws" "$WORK/d.tierbench"
check "$WORK/d.tierbench" down.tierbench
timed down.aws "${AWS[@]}" s3 cp --recursive --only-show-errors "s3://$BUCKET/aws" "$WORK/d.aws"
check "$WORK/d.aws" down.aws
timed down.rclone env -u AWS_CA_BUNDLE rclone copy --transfers "$CONC" --checkers "$CONC" "tbrgw:$BUCKET/aws" "$WORK/d.rclone"
check "$WORK/d.rclone" down.rclone

echo "tierbench speedup (other tool's seconds / tierbench's seconds):"
for phase in up down; do
  for tool in aws rclone; do
    tb="${SECS[$phase.tierbench]}" other="${SECS[$phase.$tool]}"
    if [ -n "$tb" ] && [ -n "$other" ]; then
      printf '  %-5s vs %-7s %.2fx\n' "$phase" "$tool" "$(echo "$other / $tb" | bc -l)"
    else
      printf '  %-5s vs %-7s n/a (a run failed)\n' "$phase" "$tool"
    fi
  done
done
