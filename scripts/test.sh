#!/usr/bin/env bash
# The test command: installs dependencies (Debian packages), builds, starts the real services
# (nginx, Ceph RGW, CephFS where possible), runs every test with CTest, and stops the services
# it started. TB_SKIP_INSTALL=1 skips the apt step; extra arguments go to ctest (e.g. -R s3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "${TB_SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh
scripts/build.sh

services_env="${TB_SERVICES_DIR:-/tmp/tierbench-services}/services.env"
started=0
if ! scripts/services.sh status >/dev/null 2>&1; then
  scripts/services.sh up
  started=1
fi
cleanup() { [ "$started" = 1 ] && scripts/services.sh down >/dev/null 2>&1 || true; }
trap cleanup EXIT
# shellcheck disable=SC1090
source "$services_env"
export TB_REQUIRE_SERVICES=1
cd "${TB_BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 900 "$@"
