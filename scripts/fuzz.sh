#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake/fuzz.cmake) with clang + ASan/UBSan in build-fuzz and
# runs each for a bounded time, starting from the seed corpus in tests/fuzz/corpus/<target>/.
# Fails on any crash, leak, timeout or sanitizer report; the reproducer is kept under
# build-fuzz/artifacts/. Usage: scripts/fuzz.sh [TARGET...]   (default: every target)
#   TB_FUZZ_SECONDS  seconds per target (default 60)
#   TB_FUZZ_DIR      build dir (default build-fuzz)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src="$PWD"
secs="${TB_FUZZ_SECONDS:-60}"
build="${TB_FUZZ_DIR:-$src/build-fuzz}"
targets=("$@")

mkdir -p "$build"
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DTB_FUZZ=ON -DTB_WITH_TORCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build/cmake.log" 2>&1 || { cat "$build/cmake.log"; exit 1; }
if [ ${#targets[@]} -eq 0 ]; then  # every target cmake/fuzz.cmake declares
  mapfile -t targets < <(ninja -C "$build" -t targets all | sed -n '/^cmake_/!s/^\([a-z0-9_]*\)_fuzz: .*/\1/p' | sort -u)
fi
ninja -C "$build" -j"${TB_JOBS:-2}" "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  seeds="$src/tests/fuzz/corpus/$t"
  corpus="$build/corpus/$t"  # grows across runs; the committed seeds stay untouched
  mkdir -p "$corpus"
  log="$build/$t.log"
  echo "== fuzz $t for ${secs}s (seeds: tests/fuzz/corpus/$t, log: $log)"
  start=$(date +%s)
  if "$build/${t}_fuzz" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$corpus" "$seeds" > "$log" 2>&1; then
    echo "   ok: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs" \
         "in $(( $(date +%s) - start ))s, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "FAIL: $t (see $log; reproducer in $build/artifacts/)" >&2
    grep -E 'ERROR|runtime error|SUMMARY|escape:|Test unit written' "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz failures: ${failed[*]}" >&2; exit 1; fi
echo "all fuzz targets clean"
