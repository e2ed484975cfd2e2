#!/usr/bin/env bash
# What is trained is what was verified: the data stages after verify read only the files the
# manifest lists. A data_batch the manifest does not list (here a valid batch from another
# `dataset generate`, as a stale file would be) is reported with a warning and never read, or
# refused under verify.unlisted = "fail"; in place and staged (streaming and sequential).
# Hostile manifests fail promptly with short errors: a listed FIFO, a 10 MB line, a path
# listed twice with different md5s. Local files only: no service needed.
source "$(dirname "$0")/lib.sh"

# run NAME ARGS...: runs tierbench with results in $WORK/NAME.json; sets rc and err. The
# timeout is only a safety net (a hang is reported as rc 124); nothing here waits on it.
run() {
  local name=$1; shift
  timeout 300 "$TB_BIN" run --out "$WORK/$name.json" --log "$WORK/$name.log" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  err=$(head -c 20000 "$WORK/$name.err")
}
# detail FILE STAGE SUFFIX: a field of a stage's detail object, e.g. "['train_images']".
detail() { json "$1" "[s for s in d['stages'] if s['name']=='$2'][0]['detail']$3"; }

make_dataset "$WORK/a"  # 2 x 500 training images, 200 test images
"$TB_BIN" dataset generate --out "$WORK/b" --train-files 1 --images-per-file 300 --test-images 10 --seed 9 \
  >/dev/null || { echo "FAIL: dataset generate (b)" >&2; exit 1; }
ds="$WORK/a/cifar-10-batches-py"
cp "$WORK/b/cifar-10-batches-py/data_batch_1" "$ds/data_batch_9"   # valid, 300 images, unlisted
listed_train=$(grep -c 'data_batch_[0-9]*$' "$WORK/a/cifar-10-batches-py.md5")
expect_eq "$listed_train" 2 "the manifest lists 2 training batches"
common=(--skip upload --epochs 1 --max-steps 3 --seed 1 --device cpu)
# Training needs the libtorch plugin beside the binary; without it the train checks are left out.
train_on=1
if [ ! -f "$(dirname "$TB_BIN")/libtierbench_torch.so" ]; then
  echo "note: no libtorch plugin: train is skipped in these runs"
  train_on=0
  common+=(--skip train)
fi

# 1. In place: trained on the listed files only, the unlisted one reported.
run inplace --scenario inplace --dataset-dir "$ds" --scratch "$WORK/s1" "${common[@]}"
expect_eq "$rc" 0 "inplace with an unlisted data_batch_9 exits 0 (warn) ($(tail -2 "$WORK/inplace.err"))"
expect_eq "$(detail "$WORK/inplace.json" pickled "['train_images']")" 1000 "pickled decodes only the listed 2 x 500 images"
expect_eq "$(detail "$WORK/inplace.json" pickled "['train_files']")" 2 "pickled reads 2 training files"
expect_eq "$(detail "$WORK/inplace.json" pickled "['files_from']")" manifest "pickled takes its files from the manifest"
expect_eq "$(detail "$WORK/inplace.json" verify "['unlisted']")" 1 "verify counts 1 unlisted file"
expect_contains "$(detail "$WORK/inplace.json" verify "['unlisted_files']")" "cifar-10-batches-py/data_batch_9" \
  "verify detail names the unlisted file"
expect_contains "$err" "warning" "a warning is printed"
expect_contains "$err" "data_batch_9" "the warning names the unlisted file"
expect_contains "$(cat "$WORK/inplace.log")" "warning: verify: 1 file(s)" "the log has the warning"
if [ "$train_on" = 1 ]; then
  expect_eq "$(stage "$WORK/inplace.json" train status)" ok "train ok"
  expect_eq "$(detail "$WORK/inplace.json" train "['train_images']")" 1000 "train loads only the listed images"
fi
expect_eq "$(stage "$WORK/inplace.json" preview status)" ok "preview ok"

# 2. The same with verify.unlisted = "fail" (flag and key): exit 1 naming the file.
run inplace-fail --scenario inplace --dataset-dir "$ds" --scratch "$WORK/s2" "${common[@]}" --unlisted fail
expect_eq "$rc" 1 "--unlisted fail exits 1"
expect_eq "$(stage "$WORK/inplace-fail.json" verify status)" failed "verify failed"
expect_contains "$err" "stage verify" "error names the stage"
expect_contains "$err" "$ds" "error names the folder"
expect_contains "$err" "data_batch_9" "error names the unlisted file"
expect_eq "$(stage "$WORK/inplace-fail.json" pickled status)" skipped "pickled skipped"
run inplace-key --scenario inplace --dataset-dir "$ds" --scratch "$WORK/s2" "${common[@]}" --set verify.unlisted=fail
expect_eq "$rc" 1 "verify.unlisted=fail exits 1"
run inplace-bad --scenario inplace --dataset-dir "$ds" --scratch "$WORK/s2" "${common[@]}" --unlisted maybe
expect_eq "$rc" 2 "verify.unlisted=maybe is bad usage (exit 2)"
expect_contains "$err" "verify.unlisted" "bad value names the key"
# Without the extra file, fail mode passes.
mv "$ds/data_batch_9" "$WORK/data_batch_9"
run inplace-clean --scenario inplace --dataset-dir "$ds" --scratch "$WORK/s2" "${common[@]}" --skip train --unlisted fail
expect_eq "$rc" 0 "no unlisted file: --unlisted fail exits 0 ($(tail -2 "$WORK/inplace-clean.err"))"
expect_eq "$(detail "$WORK/inplace-clean.json" verify "['unlisted']")" 0 "no unlisted file counted"

# 3. A data_batch the manifest lists (md5 right) that is not a CIFAR batch: not skipped,
# pickled fails naming it.
echo "<html>not a batch</html>" > "$ds/data_batch_3"
{ cat "$WORK/a/cifar-10-batches-py.md5"; echo "$(md5sum < "$ds/data_batch_3" | cut -d' ' -f1)  cifar-10-batches-py/data_batch_3"; } \
  > "$WORK/junk.md5"
run junk --scenario inplace --dataset-dir "$ds" --manifest "$WORK/junk.md5" --scratch "$WORK/s2" "${common[@]}"
expect_eq "$rc" 1 "a listed data_batch that is not a batch exits 1"
expect_eq "$(stage "$WORK/junk.json" verify status)" ok "its md5 verifies"
expect_eq "$(stage "$WORK/junk.json" pickled status)" failed "pickled fails"
expect_contains "$err" "data_batch_3" "pickled names the file"
rm "$ds/data_batch_3"

# 4. Staged, from a tarball that carries an extra data_batch_9 (the manifest does not list it).
mkdir -p "$WORK/t"
tar -xzf "$WORK/a/cifar-10-python.tar.gz" -C "$WORK/t"
cp "$WORK/data_batch_9" "$WORK/t/cifar-10-batches-py/"
tar -czf "$WORK/extra.tar.gz" -C "$WORK/t" cifar-10-batches-py
md5=$(md5sum < "$WORK/extra.tar.gz" | cut -d' ' -f1)
for stream in true false; do
  run staged-$stream --origin "$WORK/extra.tar.gz" --md5 "$md5" --manifest "$WORK/a/cifar-10-batches-py.md5" \
    --scratch "$WORK/s3" "${common[@]}" --set pipeline.stream=$stream
  expect_eq "$rc" 0 "staged stream=$stream exits 0 ($(tail -2 "$WORK/staged-$stream.err"))"
  expect_eq "$(detail "$WORK/staged-$stream.json" verify "['unlisted']")" 1 "staged stream=$stream: 1 unlisted file"
  expect_eq "$(detail "$WORK/staged-$stream.json" pickled "['train_images']")" 1000 \
    "staged stream=$stream: pickled decodes only the listed images"
  expect_contains "$err" "data_batch_9" "staged stream=$stream: the warning names the file"
  if [ "$train_on" = 1 ]; then
    expect_eq "$(detail "$WORK/staged-$stream.json" train "['train_images']")" 1000 \
      "staged stream=$stream: train loads only the listed images"
  fi
  run staged-fail-$stream --origin "$WORK/extra.tar.gz" --md5 "$md5" --manifest "$WORK/a/cifar-10-batches-py.md5" \
    --scratch "$WORK/s3" "${common[@]}" --set pipeline.stream=$stream --unlisted fail
  expect_eq "$rc" 1 "staged stream=$stream --unlisted fail exits 1"
  expect_eq "$(stage "$WORK/staged-fail-$stream.json" verify status)" failed "staged stream=$stream: verify failed"
  expect_contains "$err" "data_batch_9" "staged stream=$stream: the error names the file"
done

# 5. A manifest entry that is a FIFO (nobody writes to it): verify fails at once, naming the
# stage, the file and the cause; it must not block.
mkdir -p "$WORK/f"
cp -r "$ds" "$WORK/f/"
rm "$WORK/f/cifar-10-batches-py/data_batch_2"
mkfifo "$WORK/f/cifar-10-batches-py/data_batch_2"
run fifo --scenario inplace --dataset-dir "$WORK/f/cifar-10-batches-py" --manifest "$WORK/a/cifar-10-batches-py.md5" \
  --scratch "$WORK/s2" "${common[@]}"
expect_eq "$rc" 1 "a listed FIFO fails verify (exit 1, not a hang: 124)"
expect_contains "$err" "stage verify" "FIFO: error names the stage"
expect_contains "$err" "cifar-10-batches-py/data_batch_2: not a regular file (fifo)" "FIFO: error names the file and cause"
out=$(timeout 60 "$TB_BIN" dataset verify --manifest "$WORK/a/cifar-10-batches-py.md5" --root "$WORK/f" 2>&1)
expect_eq "$?" 1 "dataset verify: a listed FIFO fails (exit 1, not 124)"
expect_contains "$out" "data_batch_2: FAILED" "dataset verify: the FIFO is reported"
expect_contains "$out" "data_batch_2: not a regular file (fifo)" "dataset verify: the cause is given"

# 6. A 10 MB manifest line: a short error naming the line, nothing echoed whole.
{ head -2 "$WORK/a/cifar-10-batches-py.md5"
  printf 'd41d8cd98f00b204e9800998ecf8427e  cifar-10-batches-py/'; head -c 10485760 /dev/zero | tr '\0' 'x'; echo
} > "$WORK/huge.md5"
run huge --scenario inplace --dataset-dir "$ds" --manifest "$WORK/huge.md5" --scratch "$WORK/s2" "${common[@]}"
expect_eq "$rc" 1 "10 MB manifest line exits 1"
expect_contains "$err" "huge.md5:3:" "error names the manifest line"
size_err=$(stat -c %s "$WORK/huge.err"); size_json=$(stat -c %s "$WORK/huge.json"); size_log=$(stat -c %s "$WORK/huge.log")
[ "$size_err" -lt 4096 ] && pass "stderr is short ($size_err bytes)" || fail "stderr is $size_err bytes"
[ "$size_json" -lt 65536 ] && pass "results are short ($size_json bytes)" || fail "results are $size_json bytes"
[ "$size_log" -lt 8192 ] && pass "log is short ($size_log bytes)" || fail "log is $size_log bytes"
out=$("$TB_BIN" dataset verify --manifest "$WORK/huge.md5" --root "$WORK/a" 2>&1)
expect_eq "$?" 1 "dataset verify: 10 MB line exits 1"
[ "${#out}" -lt 1024 ] && pass "dataset verify: error is short (${#out} bytes)" || fail "dataset verify printed ${#out} bytes"

# A manifest over the 64 MiB limit (sparse: no disk used) is refused before it is read.
truncate -s 65M "$WORK/big.md5"
out=$("$TB_BIN" dataset verify --manifest "$WORK/big.md5" --root "$WORK/a" 2>&1); rc=$?
[ "$rc" != 0 ] && pass "dataset verify: a 65 MiB manifest is refused (rc $rc)" || fail "dataset verify accepted a 65 MiB manifest"
expect_contains "$out" "64 MiB" "dataset verify: the error gives the limit"
run big --scenario inplace --dataset-dir "$ds" --manifest "$WORK/big.md5" --scratch "$WORK/s2" "${common[@]}"
expect_eq "$rc" 1 "run: a 65 MiB manifest fails verify"
expect_contains "$err" "64 MiB" "run: the error gives the limit"

# 7. One path listed twice with different md5s: refused, naming the path and both lines.
{ cat "$WORK/a/cifar-10-batches-py.md5"; echo "00000000000000000000000000000000  ./cifar-10-batches-py//data_batch_1"; } \
  > "$WORK/dup.md5"
lines=$(wc -l < "$WORK/dup.md5"); first=$(grep -n 'data_batch_1$' "$WORK/a/cifar-10-batches-py.md5" | cut -d: -f1)
run dup --scenario inplace --dataset-dir "$ds" --manifest "$WORK/dup.md5" --scratch "$WORK/s2" "${common[@]}"
expect_eq "$rc" 1 "conflicting duplicate exits 1"
expect_contains "$err" "cifar-10-batches-py/data_batch_1" "duplicate: error names the path"
expect_contains "$err" "lines $first and $lines" "duplicate: error gives both lines"
finish
