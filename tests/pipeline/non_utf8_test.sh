#!/usr/bin/env bash
# Strings that are not UTF-8 never stop a run: a label, a dataset path and a manifest entry
# holding a Latin-1 byte reach the results, the log and the stage details, and the results
# JSON is still written, valid UTF-8, with each such byte shown as GNU tar shows it (\351).
source "$(dirname "$0")/lib.sh"
bad=$'\xe9'  # Latin-1 "é": never valid UTF-8 on its own
# The escaped form is taken from GNU tar, listing a member with that byte in its name.
mkdir -p "$WORK/tarname" && : > "$WORK/tarname/caf${bad}"
tar_form=$(tar -cf "$WORK/t.tar" -C "$WORK/tarname" "caf${bad}" && LC_ALL=C tar -tf "$WORK/t.tar")
expect_eq "$tar_form" 'caf\351' "GNU tar lists the byte as \\351"
esc=${tar_form#caf}

data="$WORK/donn${bad}es"
data_esc="$WORK/donn${esc}es"
make_dataset "$data"
# strict_json FILE: exits non-zero unless FILE is valid UTF-8 holding one JSON document.
strict_json() { "$PY" -c "import json,sys; json.load(open(sys.argv[1], encoding='utf-8', errors='strict'))" "$1"; }
common=(--scenario inplace --dataset-dir "$data/cifar-10-batches-py" --skip upload,train
        --preview-out "$WORK/preview.png")

# 1. A non-UTF-8 label and dataset path: the run succeeds and says so.
"$TB_BIN" run --label "run-${bad}" --scratch "$WORK/scratch${bad}" --out "$WORK/ok.json" \
  --log "$WORK/ok.log" "${common[@]}" >"$WORK/ok.out" 2>"$WORK/ok.err"
rc=$?
expect_eq "$rc" 0 "run with a non-UTF-8 label and path exits 0 ($(tail -2 "$WORK/ok.err"))"
strict_json "$WORK/ok.json" && pass "results are valid UTF-8 JSON" || fail "results do not parse as UTF-8 JSON"
expect_eq "$(json "$WORK/ok.json" "d['label']")" "run-${esc}" "label written with the byte escaped"
expect_eq "$(stage "$WORK/ok.json" pickled status)" ok "pickled ok"
expect_eq "$(json "$WORK/ok.json" "[s for s in d['stages'] if s['name']=='pickled'][0]['detail']['dir']")" \
  "$data_esc/cifar-10-batches-py" "pickled detail names the escaped folder"
expect_eq "$(json "$WORK/ok.json" "d['config']['inplace']['dir']")" "$data_esc/cifar-10-batches-py" "config keeps the escaped path"
"$PY" -c "open('$WORK/ok.log', encoding='utf-8', errors='strict').read()" && pass "log is valid UTF-8" || fail "log is not UTF-8"
grep -qF "label=run-${esc}" "$WORK/ok.log" && pass "log shows the escaped label" || fail "log lacks the escaped label"
"$TB_BIN" compare "$WORK/ok.json" --html "$WORK/c.html" --svg "$WORK/c.svg" >/dev/null 2>"$WORK/cmp.err"
expect_eq "$?" 0 "compare reads the escaped results ($(tail -1 "$WORK/cmp.err"))"
"$TB_BIN" run --label "json-${bad}" --json --out "$WORK/j.json" "${common[@]}" >"$WORK/stdout.json" 2>/dev/null
expect_eq "$?" 0 "run --json exits 0"
strict_json "$WORK/stdout.json" && pass "--json output is valid UTF-8 JSON" || fail "--json output does not parse"

# 2. A manifest entry whose name is not UTF-8 (a file that is missing): verify fails, names it
#    escaped, and the results are written.
cp "$data/cifar-10-batches-py.md5" "$WORK/good.md5"
printf '0123456789abcdef0123456789abcdef  cifar-10-batches-py/extra_%s\n' "$bad" >> "$data/cifar-10-batches-py.md5"
"$TB_BIN" run --label manifest --out "$WORK/bad.json" "${common[@]}" >/dev/null 2>"$WORK/bad.err"
rc=$?
expect_eq "$rc" 1 "a missing non-UTF-8 manifest entry fails the run with 1"
strict_json "$WORK/bad.json" && pass "results written and valid" || fail "results missing or invalid"
expect_eq "$(stage "$WORK/bad.json" verify status)" failed "verify failed"
expect_contains "$(stage "$WORK/bad.json" verify error)" "cifar-10-batches-py/extra_${esc}" "verify error names the entry, escaped"
expect_eq "$(json "$WORK/bad.json" "'|'.join([s for s in d['stages'] if s['name']=='verify'][0]['detail']['missing'])")" \
  "cifar-10-batches-py/extra_${esc}" "verify detail lists the entry, escaped"
expect_eq "$(json "$WORK/bad.json" "d['status']")" failed "run status failed"
finish
