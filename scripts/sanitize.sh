#!/usr/bin/env bash
# Builds every GoogleTest binary with gcc and -DTB_SANITIZE=address,undefined in build-asan
# (TB_WITH_TORCH=OFF) and runs them with halt_on_error: any ASan/UBSan/LSan report fails.
# Service-dependent tests run only when scripts/services.sh is up (they skip otherwise);
# with TB_REQUIRE_SERVICES=1 (CI, which starts the services first) services that are not up
# fail the run, and so does every test that would skip for want of one.
# Usage: scripts/sanitize.sh [GTEST_BINARY...]   (default: every tb_*_test)
#   TB_ASAN_DIR  build dir (default build-asan)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src="$PWD"
build="${TB_ASAN_DIR:-$src/build-asan}"

mkdir -p "$build"
CC=gcc CXX=g++ cmake -S "$src" -B "$build" -G Ninja -DTB_SANITIZE=address,undefined -DTB_WITH_TORCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/cmake.log" 2>&1 || { cat "$build/cmake.log"; exit 1; }
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  mapfile -t tests < <(ninja -C "$build" -t targets all | sed -n 's/^\(tb_[a-z0-9_]*_test\): .*/\1/p' | sort -u)
fi
build_failed=()
for t in "${tests[@]}"; do
  ninja -C "$build" -j"${TB_JOBS:-2}" "$t" > "$build/$t.build.log" 2>&1 || build_failed+=("$t")
done

services_env="${TB_SERVICES_DIR:-/tmp/tierbench-services}/services.env"
if [ -f "$services_env" ] && scripts/services.sh status > /dev/null 2>&1; then
  # shellcheck disable=SC1090
  source "$services_env"
  echo "services up: running the service-dependent tests too"
elif [ "${TB_REQUIRE_SERVICES:-0}" = 1 ]; then
  echo "FAIL: TB_REQUIRE_SERVICES=1 but the services are not up (scripts/services.sh up)" >&2
  exit 1
else
  unset TB_S3_ENDPOINT TB_HTTP_ORIGIN TB_HTTP_ROOT TB_CEPHFS_MOUNT
  echo "services not up: service-dependent tests skip"
fi
export TB_SOURCE_DIR="$src" TB_BINARY_DIR="$build"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
failed=()
for t in "${tests[@]}"; do
  bin=$(find "$build/src" -maxdepth 2 -type f -name "$t" -perm -u+x | head -1)
  if [ -z "$bin" ]; then continue; fi
  log="$build/$t.log"
  start=$(date +%s)
  if "$bin" --gtest_brief=1 > "$log" 2>&1; then
    echo "ok: $t ($(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$log" | head -1), $(( $(date +%s) - start ))s)"
    # What did not run, with gtest's reason (the line after "FILE:LINE: Skipped").
    awk 'w { print "    skipped: " w " " $0; w = "" } / Skipped$/ { w = $1 }' "$log"
  else
    echo "FAIL: $t (log: $log)" >&2
    grep -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|SUMMARY|\[  FAILED  \]' "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done
if [ ${#build_failed[@]} -gt 0 ]; then
  echo "build failures (logs: $build/<target>.build.log): ${build_failed[*]}" >&2
fi
if [ ${#failed[@]} -gt 0 ] || [ ${#build_failed[@]} -gt 0 ]; then exit 1; fi
echo "all sanitizer runs clean"
