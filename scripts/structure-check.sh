#!/usr/bin/env bash
# Checks the shape of the C++ tree (src/ and bench/) and prints every finding; exit 1 when
# there is one, 0 when the tree is clean, 2 when a tool is missing.
#   1. no function longer than TB_MAX_FUNCTION_LINES (default 120) lines, except the ones
#      scripts/structure-allow.txt names (a decoder's opcode switch: one case per opcode);
#   2. one stage list: the nine stage names, in order, as string literals in one statement;
#   3. one unpickler: one .cc file dispatching on pickle opcodes (case 0x80 ... 0x98);
#   4. rendering does not depend on training: neither src/render/ nor the preview stage
#      (src/pipeline/preview.cc) includes "train/...".
# Usage: scripts/structure-check.sh [ROOT]   (ROOT: a tree with src/; default this checkout)
# Needs universal-ctags (Debian's universal-ctags package, in scripts/install-deps.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${1:-$here/..}"
cd "$root"
max="${TB_MAX_FUNCTION_LINES:-120}"
allow="${TB_STRUCTURE_ALLOW:-$here/structure-allow.txt}"
if ! ctags --version 2>/dev/null | grep -q "Universal Ctags"; then
  echo "structure-check: universal-ctags not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
dirs=()
for d in src bench; do [ -d "$d" ] && dirs+=("$d"); done
if [ ${#dirs[@]} -eq 0 ]; then
  echo "structure-check: no src/ under $PWD" >&2
  exit 2
fi
findings=0
report() { echo "structure-check: $*"; findings=$((findings + 1)); }

# 1. Long functions. ctags gives each function's first and last line and its qualified name;
# anonymous namespaces ("__anon1234abcd") and the leading "tb::" are left out of the name.
# An allow-list line is "<path> <name>" where <name> is the end of the qualified name.
while read -r lines file name; do
  allowed=0
  if [ -f "$allow" ]; then
    while read -r a_file a_name _; do
      case "$a_file" in ''|'#'*) continue ;; esac
      if [ "$a_file" = "$file" ] && { [ "$name" = "$a_name" ] || [[ "$name" == *"::$a_name" ]]; }; then
        allowed=1
      fi
    done < "$allow"
  fi
  [ "$allowed" = 1 ] || report "$file: $name is $lines lines (limit $max; split it, or name it in $(basename "$allow") if it is a decoder's opcode switch)"
done < <(ctags -x -R --languages=C++ --kinds-C++=f --_xformat='%{line} %{end} %{input} %{scope}::%{name}' "${dirs[@]}" 2>/dev/null |
         awk -v max="$max" '$2 != "" && $2 - $1 + 1 > max {
                              name = $4; gsub(/__anon[0-9a-f]+::/, "", name); sub(/^::/, "", name); sub(/^tb::/, "", name)
                              print $2 - $1 + 1, $3, name }' | sort -k2,2 -k3,3)

# Source files, comments removed (// to the end of the line; /* */ blocks), one per record.
code_files() { find "${dirs[@]}" -type f \( -name '*.cc' -o -name '*.h' \) ! -name '*_test.cc' ! -name '*_fuzz.cc' ! -name '*_testing.h' | sort; }
strip_comments() { sed -e 's://.*$::' "$1" | awk 'BEGIN { RS = "\0" } { gsub(/\/\*([^*]|\*+[^*/])*\*+\//, ""); print }'; }

# 2. Stage lists: the nine names in order in one statement (no ';' between them).
stage_re='"download"[^;]*"integrity"[^;]*"extract"[^;]*"verify"[^;]*"pickled"[^;]*"meta"[^;]*"upload"[^;]*"preview"[^;]*"train"'
lists=()
while read -r f; do
  n=$(strip_comments "$f" | tr '\n' ' ' | grep -oE "$stage_re" | wc -l || true)
  for ((i = 0; i < n; i++)); do lists+=("$f"); done
done < <(code_files)
if [ ${#lists[@]} -gt 1 ]; then
  report "${#lists[@]} stage lists (one table of the stages, please): ${lists[*]}"
fi

# 3. Unpicklers: files with three or more case labels for the protocol 2+ pickle opcodes.
unpicklers=()
while read -r f; do
  n=$(strip_comments "$f" | grep -cE "case 0x(8[0-9a-fA-F]|9[0-8])\b" || true)
  [ "$n" -ge 3 ] && unpicklers+=("$f")
done < <(code_files | grep '\.cc$')
if [ ${#unpicklers[@]} -gt 1 ]; then
  report "${#unpicklers[@]} unpicklers (one decoder, dataset/pickle.h, with a profile per caller): ${unpicklers[*]}"
fi

# 4. Rendering does not include training.
while IFS=: read -r f line text; do
  report "$f:$line: rendering includes training: $text"
done < <(grep -rnE --include='*.cc' --include='*.h' '^\s*#\s*include\s+"train/' src/render src/pipeline/preview.cc 2>/dev/null || true)

if [ "$findings" -gt 0 ]; then
  echo "structure-check: $findings finding(s)" >&2
  exit 1
fi
echo "structure-check: functions within $max lines (or allowed), one stage list, one unpickler, rendering independent of training"
