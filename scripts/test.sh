#!/usr/bin/env bash
# The test command: installs dependencies (Debian packages), builds, starts the real services
# (nginx, Ceph RGW, CephFS where possible), runs every test with CTest, and stops the services
# it started. TB_SKIP_INSTALL=1 skips the apt step; extra arguments go to ctest (e.g. -R s3).
# Services are required (TB_REQUIRE_SERVICES=1): a test that needs one fails instead of
# skipping, and the run fails when CTest reports a skipped test not listed in
# tests/allowed-skips.txt (the skips that depend legitimately on the machine, with reasons).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ "${TB_SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh
scripts/build.sh

services="$root/scripts/services.sh"  # absolute: the EXIT trap runs after the cd below
services_env="${TB_SERVICES_DIR:-/tmp/tierbench-services}/services.env"
started=0
cleanup() {
  if [ "$started" = 1 ]; then
    "$services" down > /dev/null 2>&1 || echo "test.sh: '$services down' failed" >&2
  fi
}
trap cleanup EXIT
if ! "$services" status > /dev/null 2>&1; then
  started=1
  "$services" up
fi
# shellcheck disable=SC1090
source "$services_env"
export TB_REQUIRE_SERVICES=1
build_dir="${TB_BUILD_DIR:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
cd "$build_dir"
log="$build_dir/ctest.log"
rc=0
ctest --output-on-failure -j2 --timeout 900 "$@" 2>&1 | tee "$log" || rc=$?
"$root/scripts/check-skips.sh" "$log" "$root/tests/allowed-skips.txt" || rc=1
exit "$rc"
