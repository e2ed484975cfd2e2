#!/usr/bin/env bash
# scripts/structure-check.sh on small trees this test writes: a clean tree passes; a tree with a
# function past the limit, a second stage list, a second unpickler and rendering code that
# includes training fails with exit 1 and names each; an allow-listed opcode switch passes.
set -euo pipefail
: "${TB_SOURCE_DIR:?}"
check="$TB_SOURCE_DIR/scripts/structure-check.sh"
if ! ctags --version 2>/dev/null | grep -q "Universal Ctags"; then
  echo "SKIP: universal-ctags not installed (scripts/install-deps.sh installs it)"
  exit 77
fi
work="$(mktemp -d /tmp/tb-structure-check.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A function of `n` body lines named `name`.
long_function() {
  echo "int $1() {"
  echo "  int x = 0;"
  for ((i = 0; i < $2; i++)); do echo "  x += $i;"; done
  echo "  return x;"
  echo "}"
}
# A .cc file dispatching on pickle opcodes, as an unpickler does.
unpickler() {
  printf 'int Step(unsigned char op) {\n  switch (op) {\n'
  for op in 0x80 0x88 0x8c 0x93 0x94 0x95; do printf '    case %s: return 1;\n' "$op"; done
  printf '    default: return 0;\n  }\n}\n'
}
stages='{"download", "integrity", "extract", "verify", "pickled", "meta", "upload", "preview", "train"}'

clean="$work/clean"
mkdir -p "$clean/src/render" "$clean/src/pipeline" "$clean/src/dataset" "$clean/src/train"
long_function Short 100 > "$clean/src/dataset/short.cc"
unpickler > "$clean/src/dataset/pickle.cc"
echo "inline constexpr const char* kStages[] = $stages;" > "$clean/src/pipeline/stages.h"
echo '#include "dataset/shuffle.h"' > "$clean/src/render/preview.cc"
echo '#include "train/train.h"' > "$clean/src/pipeline/train.cc"
# The same names in a comment and spread over statements are not a list.
printf '// %s\nint a = f("download"); int b = f("integrity");\n' "$stages" > "$clean/src/pipeline/runner.cc"
if out="$("$check" "$clean" 2>&1)"; then pass "a clean tree passes"; else fail "clean tree: $out"; fi

dirty="$work/dirty"
cp -r "$clean" "$dirty"
long_function TooLong 130 > "$dirty/src/dataset/long.cc"
mkdir -p "$dirty/src/report"
echo "const char* kNames[] = $stages;" > "$dirty/src/report/names.h"
unpickler > "$dirty/src/train/state_dict.cc"
echo '#include "train/loader.h"' >> "$dirty/src/render/preview.cc"
echo '#include "train/loader.h"' > "$dirty/src/pipeline/preview.cc"
set +e
out="$("$check" "$dirty" 2>&1)"
rc=$?
set -e
[ "$rc" = 1 ] && pass "a dirty tree exits 1" || fail "dirty tree exit $rc: $out"
for want in "src/dataset/long.cc: TooLong is 134 lines" \
            "2 stage lists (one table of the stages, please): src/pipeline/stages.h src/report/names.h" \
            "2 unpicklers (one decoder, dataset/pickle.h, with a profile per caller): src/dataset/pickle.cc src/train/state_dict.cc" \
            "src/render/preview.cc:2: rendering includes training" \
            "src/pipeline/preview.cc:1: rendering includes training" \
            "5 finding(s)"; do
  grep -qF "$want" <<<"$out" && pass "names: $want" || fail "missing '$want' in: $out"
done
grep -q "Short\|pipeline/train.cc\|runner.cc" <<<"$out" && fail "flags what is allowed: $out" || pass "nothing else flagged"

# A decoder's opcode switch named in the allow-list may run long.
printf '# why\nsrc/dataset/long.cc TooLong   # an opcode switch\n' > "$work/allow.txt"
rm "$dirty/src/report/names.h" "$dirty/src/train/state_dict.cc" "$dirty/src/pipeline/preview.cc"
echo '#include "dataset/shuffle.h"' > "$dirty/src/render/preview.cc"
if out="$(TB_STRUCTURE_ALLOW="$work/allow.txt" "$check" "$dirty" 2>&1)"; then
  pass "an allow-listed long function passes"
else
  fail "allow-list: $out"
fi
if out="$(TB_MAX_FUNCTION_LINES=50 TB_STRUCTURE_ALLOW="$work/allow.txt" "$check" "$dirty" 2>&1)"; then
  fail "a lower limit should flag Short: $out"
else
  grep -qF "src/dataset/short.cc: Short is 104 lines (limit 50" <<<"$out" && pass "the limit is a knob" || fail "limit: $out"
fi

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "structure-check: all cases pass"
