#!/usr/bin/env bash
# `tierbench doctor --json` prints one JSON object and nothing else on stdout: {"ready",
# "failures", "checks": [{"name", "ok", "detail", "fix" when failed}]}, for a ready and for a
# broken environment (exit 0 / 1 as in text mode). Needs no services.
source "$(dirname "$0")/lib.sh"
"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 1 --images-per-file 100 --test-images 100 --seed 4 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }

# 1. ready
"$TB_BIN" doctor --scenario inplace --dataset-dir "$WORK/ds" --scratch "$WORK/scratch" --skip train --json \
  >"$WORK/ok.json" 2>"$WORK/ok.err"
expect_eq "$?" 0 "ready environment exits 0 ($(cat "$WORK/ok.err"))"
"$PY" -m json.tool "$WORK/ok.json" >/dev/null && pass "stdout is one JSON document" ||
  fail "stdout is not JSON: $(head -3 "$WORK/ok.json")"
expect_eq "$(json "$WORK/ok.json" "d['ready']")" True "ready: true"
expect_eq "$(json "$WORK/ok.json" "d['failures']")" 0 "no failures"
expect_eq "$(json "$WORK/ok.json" "sorted(set(k for c in d['checks'] for k in c))")" "['detail', 'name', 'ok']" \
  "each check has name, ok, detail"
expect_eq "$(json "$WORK/ok.json" "[c['name'] for c in d['checks'] if c['name'] in ('config', 'manifest', 'in-place data')]")" "['config', 'manifest', 'in-place data']" \
  "checks in order"
expect_eq "$(json "$WORK/ok.json" "all(c['ok'] is True for c in d['checks'])")" True "every check ok"

# 2. broken: the in-place dataset is missing
"$TB_BIN" doctor --scenario inplace --dataset-dir "$WORK/nowhere" --scratch "$WORK/scratch" --skip train --json \
  >"$WORK/bad.json" 2>"$WORK/bad.err"
expect_eq "$?" 1 "broken environment exits 1"
"$PY" -m json.tool "$WORK/bad.json" >/dev/null && pass "stdout is one JSON document when checks fail" ||
  fail "stdout is not JSON: $(head -3 "$WORK/bad.json")"
expect_eq "$(json "$WORK/bad.json" "d['ready']")" False "ready: false"
expect_eq "$(json "$WORK/bad.json" "[c['ok'] for c in d['checks'] if c['name']=='in-place data']")" "[False]" \
  "the failing check is marked"
expect_contains "$(json "$WORK/bad.json" "[c['detail'] for c in d['checks'] if c['name']=='in-place data'][0]")" \
  "$WORK/nowhere" "its detail names the directory"
expect_contains "$(json "$WORK/bad.json" "[c.get('fix','') for c in d['checks'] if c['name']=='in-place data'][0]")" \
  "inplace.dir" "its fix says what to change"
finish
