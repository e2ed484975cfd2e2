#!/usr/bin/env bash
# Extra CI checks: the C++ lines this commit changes against .clang-format (scripts/format-check.sh,
# against HEAD's first parent), the shape of the tree (scripts/structure-check.sh: long functions,
# one stage list, one unpickler, rendering independent of training), every unit test under
# ASan+UBSan (gcc) and every libFuzzer target for TB_FUZZ_SECONDS (default 60) each (clang).
# Called from .ci/run; prints the time each took.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TB_FUZZ_SECONDS="${TB_FUZZ_SECONDS:-60}"
rc=0
tf=$(date +%s)
scripts/format-check.sh || rc=1
scripts/structure-check.sh || rc=1
t0=$(date +%s)
scripts/sanitize.sh || rc=1
t1=$(date +%s)
scripts/fuzz.sh || rc=1
t2=$(date +%s)
echo "ci-extra: format+structure $((t0 - tf))s, sanitize $((t1 - t0))s, fuzz $((t2 - t1))s (${TB_FUZZ_SECONDS}s per target), rc=$rc"
exit "$rc"
