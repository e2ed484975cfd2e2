#!/usr/bin/env bash
# tierbench run --repeat 5: each results file holds the five repetitions of every stage that ran
# (median within min..max, the 95 % interval around the median); compare gives every ran stage
# a speedup interval and a significance mark, and marks none significant for identical
# measurements, and marks significant a download from an origin rate-limited to a fraction of
# the other's speed. No assertion on absolute speed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
trap 'faulty_http_stop_all; rm -rf "$WORK"' EXIT
"$TB_BIN" dataset generate --out "$WORK/data" --train-files 2 --images-per-file 200 --test-images 100 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
for run in a b; do
  "$TB_BIN" run --label "$run" --scenario inplace --dataset-dir "$WORK/data" --repeat 5 --warmup 1 \
    --skip upload,train,preview --scratch "$WORK/scratch-$run" --out "$WORK/$run.json" --no-progress \
    >"$WORK/$run.out" 2>"$WORK/$run.err"
  expect_eq "$?" 0 "run $run exits 0"
  expect_contains "$(cat "$WORK/$run.err")" "repetition 5/5 end status=ok" "run $run announces each repetition"
  expect_contains "$(cat "$WORK/$run.out")" "5 of 5 repetitions after 1 warmup run(s)" "run $run's table says so"
  f="$WORK/$run.json"
  expect_eq "$(json "$f" "d['repeat']['n'], d['repeat']['requested'], d['repeat']['warmup']")" "5 5 1" \
    "$run: repeat.n = 5 of 5, 1 warmup"
  expect_eq "$(json "$f" "len(d['repeat']['total_seconds'])")" 5 "$run: five totals"
  expect_eq "$(json "$f" "d['total_seconds'] == d['repeat']['median']")" True "$run: total_seconds is the median total"
  expect_eq "$(json "$f" "[s['name'] for s in d['stages'] if s['status'] == 'ok']")" "['verify', 'pickled', 'meta']" \
    "$run: the ran stages"
  for s in verify pickled meta; do
    r="[x for x in d['stages'] if x['name'] == '$s'][0]['repeat']"
    expect_eq "$(json "$f" "${r}['n'], len(${r}['seconds'])")" "5 5" "$run $s: five seconds"
    expect_eq "$(json "$f" "${r}['min'] <= ${r}['median'] <= ${r}['max']")" True "$run $s: median within min..max"
    expect_eq "$(json "$f" "${r}['ci95_low'] <= ${r}['median'] <= ${r}['ci95_high']")" True "$run $s: interval holds the median"
    expect_eq "$(json "$f" "${r}['median'] == sorted(${r}['seconds'])[2]")" True "$run $s: median of the five"
    expect_eq "$(stage "$f" "$s" seconds)" "$(json "$f" "${r}['median']")" "$run $s: seconds is the median"
  done
  expect_eq "$(json "$f" "[s['name'] for s in d['stages'] if 'repeat' in s]")" "['verify', 'pickled', 'meta']" \
    "$run: skipped stages have no repeat"
done
# Two runs of the same job: every ran stage gets an interval and a mark (true or false: whether
# two independent runs' intervals overlap is itself chance, about 1 in 126 per stage at n = 5
# even with identical timing distributions, so it is not asserted here).
"$TB_BIN" compare --json "$WORK/a.json" "$WORK/b.json" >"$WORK/cmp.json"
expect_eq "$?" 0 "compare --json exits 0"
for s in verify pickled meta; do
  row="[x for x in d['stages'] if x['name'] == '$s'][0]"
  expect_eq "$(json "$WORK/cmp.json" "[type(v).__name__ for v in ${row}['significant']]")" "['bool', 'bool']" \
    "compare: $s has a significance mark"
  expect_eq "$(json "$WORK/cmp.json" "${row}['speedup_low'][1] <= ${row}['speedup'][1] <= ${row}['speedup_high'][1]")" \
    True "compare: $s speedup within its interval"
done
expect_eq "$(json "$WORK/cmp.json" "[x['significant'][1] for x in d['stages'] if x['name'] == 'download'][0]")" None \
  "compare: skipped stage has no mark"
# The same measurements under another label (identical distributions): nothing is significant.
"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); d['label']='a-again'; json.dump(d, open(sys.argv[2], 'w'))" \
  "$WORK/a.json" "$WORK/a2.json"
"$TB_BIN" compare --json "$WORK/a.json" "$WORK/a2.json" >"$WORK/same.json"
for s in verify pickled meta; do
  sig="[x for x in d['stages'] if x['name'] == '$s'][0]['significant']"
  expect_eq "$(json "$WORK/same.json" "$sig")" "[False, False]" "compare identical: $s not significant"
done
expect_eq "$(json "$WORK/same.json" "d['total']['significant']")" "[False, False]" "compare identical: total not significant"
table=$("$TB_BIN" compare "$WORK/a.json" "$WORK/b.json")
expect_contains "$table" "~ = not significant: the 95 % intervals overlap" "compare table's legend"

# A real difference: the same staged job from an origin served at full speed and from one
# rate-limited to 4 MB/s (tests/tools/faulty_http.py). The download's intervals lie apart, so
# compare marks it significant (and the limited origin slower).
mkdir -p "$WORK/www"
"$TB_BIN" dataset generate --out "$WORK/www" --train-files 2 --images-per-file 200 --test-images 100 >/dev/null ||
  fail "dataset generate with a tarball"
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" || fail "origin at full speed"
fast_url="$FAULTY_HTTP_URL/cifar-10-python.tar.gz"
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" --fault slow --rate 4000000 || fail "rate-limited origin"
slow_url="$FAULTY_HTTP_URL/cifar-10-python.tar.gz"
for run in fast slow; do
  url=fast_url
  [ "$run" = slow ] && url=slow_url
  "$TB_BIN" run --label "$run" --scenario staged --origin "${!url}" --repeat 5 --warmup 1 --set pipeline.stream=false \
    --skip upload,train,preview --scratch "$WORK/scratch-$run" --out "$WORK/$run.json" --no-progress \
    >"$WORK/$run.out" 2>"$WORK/$run.err"
  expect_eq "$?" 0 "staged run from the $run origin exits 0"
done
"$TB_BIN" compare --json "$WORK/fast.json" "$WORK/slow.json" >"$WORK/slowed.json"
dl="[x for x in d['stages'] if x['name'] == 'download'][0]"
expect_eq "$(json "$WORK/slowed.json" "${dl}['significant'][1]")" True "compare: the rate-limited download is significant"
expect_eq "$(json "$WORK/slowed.json" "${dl}['speedup_high'][1] < 1")" True \
  "compare: its whole speedup interval lies below 1x (slower)"
finish
