#!/usr/bin/env bash
# Checks that the C++ lines changed since a base revision follow .clang-format; the rest of a
# file is left alone. Prints the diff clang-format wants and fails (1) when there is one.
#   scripts/format-check.sh [BASE]   BASE defaults to $TB_FORMAT_BASE, else HEAD~1 (for a merge
#                                    commit: its first parent, i.e. everything the merge brings);
#                                    a commit without a parent has nothing to compare: exit 0.
# Uncommitted changes in the working tree are checked too. Needs Debian's clang-format package.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
base="${1:-${TB_FORMAT_BASE:-}}"
if [ -z "$base" ]; then
  if ! base="$(git rev-parse -q --verify 'HEAD~1^{commit}')"; then
    echo "format-check: HEAD has no parent, nothing to compare"
    exit 0
  fi
fi
diff_tool="$(command -v clang-format-diff-14 || command -v clang-format-diff || true)"
binary="$(command -v clang-format-14 || command -v clang-format || true)"
if [ -z "$diff_tool" ] || [ -z "$binary" ]; then
  echo "format-check: clang-format / clang-format-diff not found (scripts/install-deps.sh installs them)" >&2
  exit 2
fi
out="$(git diff -U0 --no-color --no-ext-diff "$base" -- '*.cc' '*.h' | "$diff_tool" -p1 -binary "$binary")"
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  echo "format-check: the lines above changed since $(git rev-parse --short "$base") differ from .clang-format" \
       "(apply: git diff -U0 $base | $(basename "$diff_tool") -p1 -i)" >&2
  exit 1
fi
echo "format-check: changed lines since $(git rev-parse --short "$base") follow .clang-format"
