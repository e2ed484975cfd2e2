#!/usr/bin/env bash
# Upload of one local folder to the Ceph RGW: tierbench cp --recursive vs awscli vs rclone
# (--transfers/--checkers CONC), interleaved over ROUNDS rounds (the tool order rotates each
# round), each upload into a fresh prefix of one bucket. Prints each run, the per-round ratios
# (peer seconds / tierbench seconds, same round) and their medians.
# Usage: bench/cp/upload.sh DIR [ROUNDS=3] [CONC=16]
#   TB_BIN      tierbench binary (default build/tierbench)
#   TB_BASE_BIN optional second tierbench binary timed as "tb-base" in the same rounds
#   TB_TOOLS    tools to run (default "tierbench aws rclone", plus tb-base when TB_BASE_BIN)
# Example (the 1,283-file set): build/tierbench dataset generate --out /tmp/ds --preset seed-1283
#   --tarball none && bench/cp/upload.sh /tmp/ds/cifar-10-batches-py 5
set -uo pipefail
DATA="${1:?usage: upload.sh DIR [ROUNDS] [CONC]}"
ROUNDS="${2:-3}"
CONC="${3:-16}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TB_BIN="${TB_BIN:-$HERE/../../build/tierbench}"
# shellcheck disable=SC1091
[ -z "${TB_S3_ENDPOINT:-}" ] && source /tmp/tierbench-services/services.env
BUCKET="tb-bench-up-$$"
AWS=(/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT")
export RCLONE_CONFIG_TBRGW_TYPE=s3 RCLONE_CONFIG_TBRGW_PROVIDER=Ceph
export RCLONE_CONFIG_TBRGW_ENDPOINT="$TB_S3_ENDPOINT" RCLONE_CONFIG_TBRGW_REGION=us-east-1
export RCLONE_CONFIG_TBRGW_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
export RCLONE_CONFIG_TBRGW_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
LOG="$(mktemp -d /tmp/tb-bench-up.XXXXXX)"
trap '"${AWS[@]}" s3 rb --force "s3://$BUCKET" > /dev/null 2>&1; rm -rf "$LOG"' EXIT
TOOLS="${TB_TOOLS:-tierbench aws rclone${TB_BASE_BIN:+ tb-base}}"
FILES=$(find "$DATA" -type f | wc -l)
BYTES=$(du -sb --apparent-size "$DATA" | cut -f1)
"${AWS[@]}" s3 mb "s3://$BUCKET" > /dev/null || exit 1
echo "upload of $DATA: $FILES files, $BYTES bytes; $ROUNDS rounds; concurrency $CONC; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"

upload() {  # upload TOOL PREFIX
  case "$1" in
    tierbench) "$TB_BIN" cp --recursive --no-progress --concurrency "$CONC" --endpoint-url "$TB_S3_ENDPOINT" "$DATA" "s3://$BUCKET/$2" ;;
    tb-base) "$TB_BASE_BIN" cp --recursive --no-progress --concurrency "$CONC" --endpoint-url "$TB_S3_ENDPOINT" "$DATA" "s3://$BUCKET/$2" ;;
    aws) "${AWS[@]}" s3 cp --recursive --only-show-errors "$DATA" "s3://$BUCKET/$2" ;;
    rclone) env -u AWS_CA_BUNDLE rclone copy --transfers "$CONC" --checkers "$CONC" "$DATA" "tbrgw:$BUCKET/$2" ;;
  esac
}

declare -A SECS
for ((r = 1; r <= ROUNDS; r++)); do
  read -r -a order <<< "$TOOLS"
  n=${#order[@]}
  for ((k = 0; k < n; k++)); do
    tool="${order[$(((k + r - 1) % n))]}"
    t0=$(date +%s.%N)
    if upload "$tool" "r$r-$tool" > "$LOG/$tool.$r.log" 2>&1; then
      t1=$(date +%s.%N)
      s=$(echo "$t1 - $t0" | bc -l)
      SECS[$tool.$r]=$s
      printf 'round %d  %-10s %7.2f s  %7.1f MB/s\n' "$r" "$tool" "$s" "$(echo "$BYTES / 1000000 / $s" | bc -l)"
    else
      SECS[$tool.$r]=""
      echo "round $r  $tool FAILED: $(tail -2 "$LOG/$tool.$r.log")"
    fi
  done
  # Free RGW's space between rounds (not timed).
  "${AWS[@]}" s3 rm --recursive --only-show-errors "s3://$BUCKET/" > /dev/null 2>&1
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "n/a"}'; }
echo "per-round speedup of tierbench (peer s / tierbench s, same round) and median:"
for tool in $TOOLS; do
  [ "$tool" = tierbench ] && continue
  ratios=""
  for ((r = 1; r <= ROUNDS; r++)); do
    tb="${SECS[tierbench.$r]:-}" other="${SECS[$tool.$r]:-}"
    [ -n "$tb" ] && [ -n "$other" ] && ratios="$ratios $(echo "$other / $tb" | bc -l)"
  done
  printf '  vs %-8s rounds:%s  median %s\n' "$tool" "$(for x in $ratios; do printf ' %.2f' "$x"; done)" \
    "$(echo "$ratios" | median | xargs printf '%.2fx')"
done
for tool in $TOOLS; do
  all=""
  for ((r = 1; r <= ROUNDS; r++)); do all="$all ${SECS[$tool.$r]:-}"; done
  printf '  median seconds %-10s %s\n' "$tool" "$(echo "$all" | median)"
done
