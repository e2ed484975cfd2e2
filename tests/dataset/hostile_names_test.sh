#!/usr/bin/env bash
# Class names and other strings from the data reach the terminal and the log escaped: a
# generated batches.meta whose label names carry ESC sequences, BEL, CR and a newline, and a
# data_batch whose batch_label and filenames do, through `dataset inspect`, `preview`, `run`
# (stage table, stderr, log) and `train`. No raw control byte may appear in any output, the
# names appear in escaped form ("\x1b[31m", "\n"), and every log line is one event.
source "$(dirname "$0")/../pipeline/lib.sh"
ds="$WORK/ds"
"$TB_BIN" dataset generate --out "$ds" --train-files 1 --images-per-file 200 --test-images 100 --seed 5 \
  --tarball none >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
"$PY" - "$ds/cifar-10-batches-py" <<'PYEOF' || { echo "FAIL: writing the hostile pickles" >&2; exit 1; }
import os, pickle, sys
d = sys.argv[1]
names = ["air\x1b[31mplane", "auto\nmobile", "bird\x1b]0;pwned\x07", "cat\rdog", "deer",
         "dog", "frog", "horse", "ship", "truck"]
with open(os.path.join(d, "batches.meta"), "wb") as f:
    pickle.dump({"num_cases_per_batch": 200, "label_names": names, "num_vis": 3072}, f, protocol=2)
path = os.path.join(d, "data_batch_1")
with open(path, "rb") as f:
    batch = pickle.load(f, encoding="bytes")
key = lambda k: k if k in batch else k.encode()
batch[key("batch_label")] = b"training batch \x1b[2J 1 of 1"
batch[key("labels")] = [i % 3 for i in range(len(batch[key("labels")]))]   # only the hostile names
batch[key("filenames")] = [b"img\x1b[5m%d.png" % i for i in range(len(batch[key("labels")]))]
with open(path, "wb") as f:
    pickle.dump(batch, f, protocol=3)   # bytes as BINBYTES (protocol 2 would need a global)
PYEOF
# the manifest must match the rewritten files
(cd "$ds" && md5sum $(awk '{print $2}' cifar-10-batches-py.md5) > manifest.new && mv manifest.new cifar-10-batches-py.md5)

# no_control FILE DESC: no C0 control byte (other than newline and tab) and no DEL
no_control() {
  if "$PY" -c 'import sys; b=open(sys.argv[1],"rb").read(); sys.exit(any((c<32 and c not in (9,10)) or c==127 for c in b))' "$1"
  then pass "$2: no raw control characters"; else fail "$2: raw control characters: $(cat -v "$1" | head -5)"; fi
}

# 1. dataset inspect, text
"$TB_BIN" dataset inspect "$ds/cifar-10-batches-py/batches.meta" >"$WORK/meta.out" 2>&1
expect_eq "$?" 0 "inspect batches.meta exits 0"
no_control "$WORK/meta.out" "inspect batches.meta"
"$TB_BIN" dataset inspect "$ds/cifar-10-batches-py/data_batch_1" >"$WORK/batch.out" 2>&1
expect_eq "$?" 0 "inspect data_batch_1 exits 0"
no_control "$WORK/batch.out" "inspect data_batch_1"
expect_contains "$(cat "$WORK/batch.out")" 'training batch \x1b[2J 1 of 1' "inspect shows the batch label escaped"
expect_contains "$(cat "$WORK/batch.out")" 'img\x1b[5m0.png' "inspect shows the filename escaped"

# 2. preview
"$TB_BIN" preview --data "$ds" --out "$WORK/grid.png" --count 12 --seed 1 >"$WORK/preview.out" 2>&1
expect_eq "$?" 0 "preview exits 0"
no_control "$WORK/preview.out" "preview"
expect_eq "$(grep -c . "$WORK/preview.out")" 2 "preview: one line of names (and the 'wrote' line)"
expect_contains "$(cat "$WORK/preview.out")" 'air\x1b[31mplane' "preview shows ESC escaped"
expect_contains "$(cat "$WORK/preview.out")" 'auto\nmobile' "preview shows the newline escaped"

# 3. run in place: stage table, stderr (--verbose echoes the log), log file
"$TB_BIN" run --scenario inplace --dataset-dir "$ds" --scratch "$WORK/scratch" --skip upload,train \
  --preview-count 12 --verbose --out "$WORK/run.json" --log "$WORK/run.log" >"$WORK/run.out" 2>"$WORK/run.err"
expect_eq "$?" 0 "run exits 0 ($(tail -2 "$WORK/run.err"))"
no_control "$WORK/run.out" "run stage table"
no_control "$WORK/run.err" "run stderr"
no_control "$WORK/run.log" "run log"
expect_contains "$(cat "$WORK/run.log")" 'preview: ' "log has the preview line"
grep 'preview: ' "$WORK/run.log" | grep -qF 'air\x1b[31mplane' && pass "log shows the names escaped" ||
  fail "log lacks the escaped names: $(grep 'preview' "$WORK/run.log")"
bad=$(grep -vcE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$WORK/run.log")
expect_eq "$bad" 0 "every log line starts with its timestamp (no line forged by a name)"
expect_eq "$(json "$WORK/run.json" "[s for s in d['stages'] if s['name']=='meta'][0]['detail']['label_names'][1]")" \
  "auto
mobile" "results JSON keeps the exact name"

# 4. train prints the per-class accuracy with the names
"$TB_BIN" train --data "$ds" --epochs 1 --max-steps 20 --model-dir "$WORK/model" --sm-prefix "$WORK/sm" \
  >"$WORK/train.out" 2>"$WORK/train.err"
rc=$?
if [ "$rc" != 0 ] && grep -qi "plugin\|libtorch" "$WORK/train.err"; then
  echo "skipping the train case: $(head -1 "$WORK/train.err")"
else
  expect_eq "$rc" 0 "train exits 0 ($(tail -2 "$WORK/train.err"))"
  no_control "$WORK/train.out" "train output"
  expect_contains "$(cat "$WORK/train.out")" 'Accuracy for class: air\x1b[31mplane' "train shows the names escaped"
fi
finish
