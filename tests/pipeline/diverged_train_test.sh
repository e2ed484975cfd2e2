#!/usr/bin/env bash
# A training run whose loss becomes NaN/inf (here: a learning rate far too large) is a failed
# train stage that says where it diverged; the results are written and the exit status is 1.
# Needs the libtorch training plugin (skipped in a build without it).
source "$(dirname "$0")/lib.sh"
plugin="${TB_BINARY_DIR:-$(dirname "$TB_BIN")}/libtierbench_torch.so"
if [ ! -f "$plugin" ]; then echo "skipping: built without libtorch (no $plugin)"; exit 77; fi
make_dataset "$WORK/data"
lr=1000  # diverges within the first few hundred steps for either engine

"$TB_BIN" run --label diverge --scenario inplace --dataset-dir "$WORK/data/cifar-10-batches-py" \
  --skip upload,preview --lr "$lr" --epochs 1 --seed 1 --threads 1 --scratch "$WORK/scratch" \
  --model-dir "$WORK/model" --out "$WORK/r.json" >/dev/null 2>"$WORK/r.err"
expect_eq "$?" 1 "diverging run exits 1 ($(tail -1 "$WORK/r.err"))"
"$PY" -c "import json,sys; json.load(open(sys.argv[1], encoding='utf-8'))" "$WORK/r.json" \
  && pass "results written" || fail "results missing or invalid"
expect_eq "$(stage "$WORK/r.json" train status)" failed "train stage failed"
err=$(stage "$WORK/r.json" train error)
expect_contains "$err" "stage train: " "error names the stage"
expect_contains "$err" "loss is nan/inf at epoch 1, step " "error names the epoch and step"
expect_contains "$err" "lr 1000" "error gives the learning rate"
expect_eq "$(json "$WORK/r.json" "d['status']")" failed "run status failed"
expect_eq "$(json "$WORK/r.json" "d['train']")" None "no train summary from a diverged run"
for s in verify pickled meta; do expect_eq "$(stage "$WORK/r.json" $s status)" ok "$s ok"; done
test ! -e "$WORK/model/model.pth" && pass "no model saved from diverged weights" || fail "model.pth written"

for engine in fast autograd; do
  err=$("$TB_BIN" train --data "$WORK/data" --lr "$lr" --epochs 1 --threads 1 --engine "$engine" \
    --model-dir "$WORK/m-$engine" 2>&1 >/dev/null)
  expect_eq "$?" 1 "tierbench train --engine $engine exits 1"
  expect_contains "$err" "loss is nan/inf at epoch 1, step " "train --engine $engine names the step"
done
# The same data with the default learning rate trains: the check does not refuse everything.
"$TB_BIN" train --data "$WORK/data" --epochs 1 --max-steps 50 --threads 1 --no-evaluate >/dev/null 2>&1
expect_eq "$?" 0 "default lr trains"
finish
