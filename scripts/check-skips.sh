#!/usr/bin/env bash
# Fails when CTest skipped a test that may not skip. Reads CTest's output (the list under
# "The following tests did not run:") and the allowed skips: one line per test, a regular
# expression matched against the whole CTest name, then the reason (# starts a comment).
# Prints every skipped test with its verdict.
# Usage: scripts/check-skips.sh CTEST_OUTPUT ALLOWED_SKIPS
set -euo pipefail
out="$1" allowed="$2"
[ -r "$out" ] || { echo "check-skips: cannot read CTest output $out" >&2; exit 1; }
[ -r "$allowed" ] || { echo "check-skips: cannot read $allowed" >&2; exit 1; }
# Lines like "	 12 - SigV4Suite.EveryVectorMatches (Skipped)".
mapfile -t skipped < <(sed -n '/^The following tests did not run:/,/^[^[:space:]]/ s/^[[:space:]]*[0-9][0-9]* - \(.*\) (Skipped)$/\1/p' "$out")
if [ ${#skipped[@]} -eq 0 ]; then
  echo "check-skips: no test skipped"
  exit 0
fi
bad=0
for name in "${skipped[@]}"; do
  reason=""
  while read -r pattern why; do
    case "$pattern" in ''|'#'*) continue ;; esac
    if [[ "$name" =~ ^($pattern)$ ]]; then reason="$why"; break; fi
  done < "$allowed"
  if [ -n "$reason" ]; then
    echo "check-skips: skipped (allowed: $reason): $name"
  else
    echo "check-skips: SKIPPED BUT REQUIRED: $name (a test that needs a service or peer may not skip here)" >&2
    bad=1
  fi
done
exit "$bad"
