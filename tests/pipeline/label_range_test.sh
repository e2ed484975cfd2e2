#!/usr/bin/env bash
# Labels that decode but name no class (10 and 255 with CIFAR-10's ten classes) are refused
# where the batch is decoded — dataset inspect, dataset load, the pickled stage, preview —
# naming the file, the label, its index and the meta file that gives the class count, even
# when the manifest's md5s match (the file is intact; its values are wrong).
source "$(dirname "$0")/lib.sh"
make_dataset "$WORK/data"
ds="$WORK/data/cifar-10-batches-py"
# Set label 17 of data_batch_2 to VALUE. The writer lays labels out as the real files do: a
# list of BININT1 ("K" + one byte) after the "labels" key.
patch_label() {
  "$PY" - "$ds/data_batch_2" "$1" <<'PYEOF'
import sys
path, value = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, 'rb').read())
at = b.index(b'U\x06labels')
start = b.index(b'(', at) + 1          # MARK, then one K op per label
assert all(b[start + 2 * i] == ord('K') for i in range(18)), 'unexpected label layout'
b[start + 2 * 17 + 1] = value
open(path, 'wb').write(bytes(b))
PYEOF
}
for value in 10 255; do
  echo "-- label $value"
  patch_label "$value"
  (cd "$WORK/data" && md5sum cifar-10-batches-py/* > cifar-10-batches-py.md5)  # verify passes
  want="data_batch_2: label $value at index 17 is outside 0..9 (10 classes in batches.meta)"

  err=$("$TB_BIN" dataset inspect "$ds/data_batch_2" 2>&1 >/dev/null)
  expect_eq "$?" 1 "inspect exits 1"
  expect_contains "$err" "$ds/$want" "inspect names file, label and index"
  err=$("$TB_BIN" dataset load "$WORK/data" 2>&1 >/dev/null)
  expect_eq "$?" 1 "dataset load exits 1"
  expect_contains "$err" "$want" "dataset load names it"
  err=$("$TB_BIN" preview --data "$WORK/data" --out "$WORK/p.png" 2>&1 >/dev/null)
  expect_eq "$?" 1 "preview exits 1"
  expect_contains "$err" "$want" "preview names it"

  "$TB_BIN" run --label range --scenario inplace --dataset-dir "$ds" --skip upload \
    --preview-out "$WORK/run.png" --out "$WORK/r$value.json" >/dev/null 2>"$WORK/r.err"
  expect_eq "$?" 1 "run exits 1"
  expect_eq "$(stage "$WORK/r$value.json" verify status)" ok "verify passed (md5s match)"
  expect_eq "$(stage "$WORK/r$value.json" pickled status)" failed "pickled failed"
  expect_contains "$(stage "$WORK/r$value.json" pickled error)" "stage pickled: $ds/$want" "pickled error names it"
  for s in meta preview train; do
    expect_eq "$(stage "$WORK/r$value.json" $s status)" skipped "$s skipped"
  done
done
# In range again: every check passes (the checks are not refusing everything).
patch_label 3
"$TB_BIN" dataset inspect "$ds/data_batch_2" >/dev/null 2>&1
expect_eq "$?" 0 "inspect accepts label 3"
"$TB_BIN" dataset load "$WORK/data" >/dev/null 2>&1
expect_eq "$?" 0 "dataset load accepts label 3"
finish
