#!/usr/bin/env bash
# The live view of `tierbench run`, seen as a person would: the run in a tmux pane (a real
# terminal), its origin paced by tests/tools/faulty_http.py so that the download takes
# seconds. While it downloads, the live line's byte count changes between two captures of the
# pane; later, while train runs, the pane shows the rows of the stages that have ended above
# the live line. Afterwards, --live-json holds valid JSON lines: monotonic time, known stage
# names, every stage's end event, progress samples at a bounded rate. Without a terminal
# there is no live line (no carriage return), only the rows; --no-progress leaves out both.
# Every wait polls for the expected text with a generous bound; none sleeps and then asserts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
sock="tb-live-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; faulty_http_stop_all; rm -rf "$WORK"' EXIT
if ! command -v tmux >/dev/null; then
  [ "${TB_REQUIRE_SERVICES:-0}" = 1 ] && { echo "FAIL: tmux not installed" >&2; exit 1; }
  echo "skipping: tmux not installed"; exit 77
fi
if [ "${TB_BUILT_WITH_TORCH:-ON}" = OFF ]; then
  echo "skipping: built without libtorch (the run's train stage is part of what is watched)"; exit 77
fi

make_dataset "$WORK/data"
mkdir -p "$WORK/www"
cp "$WORK/data/cifar-10-python.tar.gz" "$WORK/data/cifar-10-python.tar.gz.md5" "$WORK/data/cifar-10-batches-py.md5" "$WORK/www/"
# 3.3 MiB at 384 KiB/s: about 9 s of download.
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" --fault slow --rate 393216 || exit 1
run_args=(--origin "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" --skip upload --set pipeline.stream=false
  --epochs 3 --seed 1)
job() { # job NAME: the per-run paths
  echo --scratch "$WORK/$1" --out "$WORK/$1.json" --log "$WORK/$1.log" --model-dir "$WORK/$1/model" \
    --preview-out "$WORK/$1.png"
}

# pane: the visible text of the pane. wait_pane DESC PYTHON-CONDITION: polls (at most 120 s)
# until the condition holds over the pane text `p`; the pane text is then in $pane.
pane() { tmux -L "$sock" capture-pane -p -t live 2>/dev/null; }
wait_pane() {
  local i
  for ((i = 0; i < 1200; i++)); do
    pane=$(pane)
    if "$PY" -c "import re,sys; p=sys.stdin.read(); sys.exit(0 if ($2) else 1)" <<< "$pane"; then return 0; fi
    [ -f "$WORK/tty.rc" ] && break
    sleep 0.1
  done
  pane=$(pane)
  fail "$1 (pane: $pane)"
  return 1
}
# The live line: the pane's last non-empty line.
live_line() { grep -v '^ *$' <<< "$1" | tail -1; }

tmux -L "$sock" new-session -d -s live -x 160 -y 40 \
  "$TB_BIN run ${run_args[*]} $(job tty) --live-json $WORK/live.jsonl; echo \$? > $WORK/tty.rc; sleep 600"
# 1. During the download the live line shows its bytes, and they grow between two captures.
if wait_pane "a live download line" "re.search(r'^download  [1-9][0-9.]* [KM]iB', p, re.M)"; then
  first=$(live_line "$pane")
  pass "live line during download: $first"
  cond="re.search(r'^download  ', p, re.M) and [l for l in p.splitlines() if l.strip()][-1].split('[')[0] != '''${first%%\[*}'''"
  if wait_pane "the download line changes" "$cond"; then
    pass "live line changed: $(live_line "$pane")"
  fi
fi
# 2. While train runs, the rows of the stages that ended are shown above its live line.
if wait_pane "finished rows above a train line" \
  "re.search(r'^verify +ok ', p, re.M) and re.search(r'^download +ok ', p, re.M) and re.search(r'^train  (running|epoch)', [l for l in p.splitlines() if l.strip()][-1])"; then
  pass "rows shown while train runs: $(grep -E '^(download|verify|pickled) ' <<< "$pane" | tr -s ' ' | paste -sd';')"
  expect_contains "$pane" "Stage          Status" "the rows have the table's header"
fi
for ((i = 0; i < 1200; i++)); do [ -s "$WORK/tty.rc" ] && break; sleep 0.1; done
expect_eq "$(cat "$WORK/tty.rc" 2>/dev/null)" 0 "run in the terminal exits 0"

# 3. --live-json: one JSON object a line; elapsed never goes back; stages known; each of the
#    nine stages has its end event, in pipeline order, agreeing with the results; progress
#    samples of the download with growing bytes, train samples with an AU in (0, 1], and at
#    most 5 samples a second per stage.
"$PY" - "$WORK/live.jsonl" "$WORK/tty.json" <<'PYEOF' && pass "live JSON lines valid" || fail "live JSON lines"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
res = json.load(open(sys.argv[2]))
names = [s["name"] for s in res["stages"]]
assert objs, "no lines"
el = [o["elapsed"] for o in objs]
assert el == sorted(el), "elapsed goes back"
assert all(isinstance(o["time"], float) and o["time"] > 1.6e9 for o in objs), "time"
assert {o["stage"] for o in objs} <= set(names) | {"ingest"}, {o["stage"] for o in objs}
ends = [o for o in objs if o["event"] == "end"]
assert [o["stage"] for o in ends] == names, ends
for o, s in zip(ends, res["stages"]):
    assert o["status"] == s["status"] and o["bytes"] == s["bytes"] and o["files"] == s["files"], (o, s)
dl = [o for o in objs if o["event"] == "progress" and o["stage"] == "download"]
assert len(dl) >= 3 and [o["bytes"] for o in dl] == sorted(o["bytes"] for o in dl) and dl[-1]["bytes"] > dl[0]["bytes"], dl
assert dl[-1]["final"] and dl[-1]["bytes"] == res["stages"][0]["bytes"], dl[-1]
# The copy announces its size before bytes move: every sample has the total, and an ETA while
# bytes are left.
assert all(o["total_bytes"] == res["stages"][0]["bytes"] and o["total_files"] == 1 for o in dl), dl
assert all("eta_s" in o and o["eta_s"] >= 0 for o in dl if 0 < o["bytes"] < o["total_bytes"]), dl
assert any("eta_s" in o for o in dl), dl
span = dl[-1]["elapsed"] - dl[0]["elapsed"]
assert len(dl) <= 5 * span + 2, (len(dl), span)
tr = [o for o in objs if o["event"] == "progress" and o["stage"] == "train" and o.get("label") == "train"]
assert tr and all(1 <= o["epoch"] <= 3 and 0 < o["au"] <= 1 for o in tr), tr
print(len(objs), "lines,", len(dl), "download samples over", round(span, 1), "s,", len(tr), "train samples")
PYEOF
au=$(json "$WORK/tty.json" "d['train'].get('au', -1)")
"$PY" -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) <= 1 else 1)" "$au" && pass "results carry train AU $au" \
  || fail "train AU in the results: $au"

# 4. Not on a terminal: the rows on stderr as stages end, no live line; --no-progress: neither.
curl -s -o /dev/null "$FAULTY_HTTP_URL/__control/set?fault=none"
"$TB_BIN" run "${run_args[@]}" --skip train $(job pipe) >"$WORK/pipe.out" 2>"$WORK/pipe.err"
expect_eq "$?" 0 "run without a terminal exits 0"
expect_eq "$(grep -cE '^(download|integrity|extract|verify|pickled|meta|upload|preview|train) ' "$WORK/pipe.err")" 9 \
  "without a terminal: nine rows on stderr"
if grep -q $'\r' "$WORK/pipe.err"; then fail "without a terminal: a live line was drawn"; else pass "no live line without a terminal"; fi
expect_contains "$(cat "$WORK/pipe.out")" "Total Runtime" "the table is still on stdout"
"$TB_BIN" run "${run_args[@]}" --skip train --no-progress $(job quiet) >/dev/null 2>"$WORK/quiet.err"
expect_eq "$?" 0 "run --no-progress exits 0"
expect_eq "$(cat "$WORK/quiet.err")" "" "--no-progress: nothing on stderr"
# 5. --live-json cannot append to an input (the manifest): refused before any stage.
"$TB_BIN" run "${run_args[@]}" --manifest "$WORK/data/cifar-10-batches-py.md5" $(job bad) \
  --live-json "$WORK/data/cifar-10-batches-py.md5" >/dev/null 2>"$WORK/bad.err"
expect_eq "$?" 2 "--live-json onto the manifest exits 2"
expect_contains "$(cat "$WORK/bad.err")" "--live-json" "the error names --live-json"
finish
