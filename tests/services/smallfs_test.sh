#!/usr/bin/env bash
# Checks "scripts/services.sh smallfs SIZE": a size-limited filesystem for "scratch full" tests.
# Writing past SIZE must fail with ENOSPC; smallfs-rm must unmount and remove it. Needs root
# (mount); skipped otherwise (exit 77), a failure when TB_REQUIRE_ROOT=1.
set -euo pipefail

SERVICES="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/services.sh"
if [ "$(id -u)" != 0 ]; then
  if [ "${TB_REQUIRE_ROOT:-0}" = 1 ]; then echo "FAIL: smallfs needs root (mount), TB_REQUIRE_ROOT=1"; exit 1; fi
  echo "SKIP: smallfs needs root (mount)"
  exit 77
fi

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mnt="$("$SERVICES" smallfs 4M)"
trap '"$SERVICES" smallfs-rm "$mnt" 2>/dev/null || true' EXIT
if mountpoint -q "$mnt"; then pass "smallfs 4M mounted at $mnt"; else fail "$mnt is not a mount point"; fi
total_kb="$(df -k --output=size "$mnt" | tail -n 1 | tr -d ' ')"
if [ "$total_kb" = 4096 ]; then pass "size is 4096 KiB"; else fail "size is $total_kb KiB, want 4096"; fi

err="$(dd if=/dev/zero of="$mnt/fill" bs=1M count=8 2>&1 || true)"
if [[ "$err" == *"No space left on device"* ]]; then
  pass "writing 8 MiB into 4 MiB fails with ENOSPC"
else
  fail "writing 8 MiB did not fail with ENOSPC: $err"
fi
rm -f "$mnt/fill"
if head -c 1000000 /dev/urandom > "$mnt/ok.bin"; then pass "space is free again after rm"; else fail "write after rm"; fi

if "$SERVICES" smallfs-rm /etc 2>/dev/null; then fail "smallfs-rm accepted /etc"; else pass "smallfs-rm refuses paths it did not make"; fi
if "$SERVICES" smallfs 4X 2>/dev/null; then fail "smallfs accepted size 4X"; else pass "smallfs rejects a bad size"; fi

"$SERVICES" smallfs-rm "$mnt"
if ! mountpoint -q "$mnt" && [ ! -e "$mnt" ]; then pass "smallfs-rm unmounted and removed it"; else fail "$mnt still there"; fi
trap - EXIT

if ((failures > 0)); then
  echo "smallfs_test: $failures check(s) FAILED"
  exit 1
fi
echo "smallfs_test: all checks passed"
