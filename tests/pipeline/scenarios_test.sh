#!/usr/bin/env bash
# Both scenarios end to end against the real nginx origin, Ceph RGW and (if mounted) CephFS,
# with libtorch training; then compare. Checks the results contract and the S3 upload.
source "$(dirname "$0")/lib.sh"
need_env TB_HTTP_ORIGIN TB_HTTP_ROOT TB_S3_ENDPOINT
make_dataset "$WORK/data"
id="pipe-$$-$RANDOM"
url=$(publish "$WORK/data" "$id")

out=$("$TB_BIN" run --label "S3+NVMe" --origin "$url" --scratch "$WORK/scratch" \
  --upload-to "s3://tb-pipeline-test/$id" --create-bucket --endpoint-url "$TB_S3_ENDPOINT" \
  --epochs 1 --seed 1 --out "$WORK/staged.json" 2>"$WORK/staged.err")
rc=$?
expect_eq "$rc" 0 "staged run exits 0 ($(tail -3 "$WORK/staged.err"))"
for s in download integrity extract verify pickled meta upload preview train; do
  expect_contains "$out" "$s" "staged table lists $s"
  expect_eq "$(stage "$WORK/staged.json" $s status)" ok "staged $s ok"
  secs=$(stage "$WORK/staged.json" $s seconds)
  "$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)" "$secs" && pass "staged $s has time" || fail "staged $s seconds=$secs"
done
expect_contains "$out" "Total Runtime" "table has Total Runtime"
expect_eq "$(json "$WORK/staged.json" "d['schema']")" "tierbench.run/2" "schema"
expect_eq "$(json "$WORK/staged.json" "[s['name'] for s in d['stages']]")" \
  "['download', 'integrity', 'extract', 'verify', 'pickled', 'meta', 'upload', 'preview', 'train']" "stage order"
expect_eq "$(stage "$WORK/staged.json" verify files)" 5 "verify hashed every file"
expect_eq "$(stage "$WORK/staged.json" upload files)" 5 "upload sent every file"
expect_eq "$(json "$WORK/staged.json" "d['train']['epochs']")" 1 "train summary present"
"$PY" -c "import sys,json; d=json.load(open(sys.argv[1])); t=[s for s in d['stages'] if s['name']=='train'][0]['detail']; sys.exit(0 if t['fetch_source'].startswith('s3://') else 1)" "$WORK/staged.json" \
  && pass "staged training input fetched from S3" || fail "staged train did not fetch from S3"
test -f "$WORK/scratch/model/model.pth" && pass "model written" || fail "no model.pth"
test -s "$WORK/staged.log" && grep -q "stage verify end status=ok" "$WORK/staged.log" && pass "log has stage lines" || fail "log"
if grep -q "$AWS_SECRET_ACCESS_KEY" "$WORK/staged.json" "$WORK/staged.log" "$WORK/staged.err"; then fail "secret leaked"; else pass "no secret in outputs"; fi
# What was uploaded is byte-identical to the dataset (awscli as the independent reader).
/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 cp "s3://tb-pipeline-test/$id/cifar-10-batches-py/data_batch_1" "$WORK/db1" >/dev/null 2>&1
cmp -s "$WORK/db1" "$WORK/data/cifar-10-batches-py/data_batch_1" && pass "uploaded object matches" || fail "uploaded object differs"

shared="$WORK/shared/$id"
if [ -n "${TB_CEPHFS_MOUNT:-}" ] && mkdir -p "$TB_CEPHFS_MOUNT/$id" 2>/dev/null; then
  shared="$TB_CEPHFS_MOUNT/$id"
  echo "in-place tier: CephFS at $shared"
else
  echo "in-place tier: local directory (CephFS ${TB_CEPHFS_MOUNT:-not mounted}${TB_CEPHFS_MOUNT:+ not writable})"
fi
mkdir -p "$shared" && cp -r "$WORK/data/cifar-10-batches-py" "$WORK/data/cifar-10-batches-py.md5" "$shared/"
"$TB_BIN" run --label "shared fs" --scenario inplace --dataset-dir "$shared/cifar-10-batches-py" \
  --scratch "$WORK/scratch2" --skip upload --epochs 1 --seed 1 --out "$WORK/inplace.json" >/dev/null 2>"$WORK/inplace.err"
expect_eq "$?" 0 "inplace run exits 0 ($(tail -3 "$WORK/inplace.err"))"
for s in download integrity extract upload; do
  expect_eq "$(stage "$WORK/inplace.json" $s status)" skipped "inplace $s skipped"
done
for s in verify pickled meta preview train; do
  expect_eq "$(stage "$WORK/inplace.json" $s status)" ok "inplace $s ok"
done
rm -rf "$shared"

cmp_out=$("$TB_BIN" compare "$WORK/staged.json" "$WORK/inplace.json" --svg "$WORK/c.svg" --html "$WORK/c.html")
expect_eq "$?" 0 "compare exits 0"
expect_contains "$cmp_out" "S3+NVMe" "compare shows first label"
expect_contains "$cmp_out" "shared fs" "compare shows second label"
expect_contains "$cmp_out" "Total Runtime" "compare shows total"
# Both trained, so both have epoch times: the break-even view compares them.
expect_contains "$cmp_out" "one-off s" "compare shows each run's one-off seconds"
expect_contains "$(grep '^break-even ' <<<"$cmp_out")" "(first)" "compare shows the break-even row"
grep -q 'class="break-even"' "$WORK/c.svg" && pass "svg has the break-even chart" || fail "svg lacks the break-even chart"
test -s "$WORK/c.svg" && test -s "$WORK/c.html" && pass "svg and html written" || fail "svg/html"
/usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 rm --recursive "s3://tb-pipeline-test/$id" >/dev/null 2>&1
rm -rf "$TB_HTTP_ROOT/$id"
finish
