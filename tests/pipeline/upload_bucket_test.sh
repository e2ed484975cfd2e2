#!/usr/bin/env bash
# The upload stage and a bucket that does not exist (Ceph RGW): like `tierbench cp`, `run`
# creates no bucket unless told to. Without upload.create_bucket the stage fails with an error
# naming the bucket and how to allow it, and no bucket appears; with --create-bucket (or the
# key) the bucket is created and the log and the results say so; an existing bucket is used
# and reported as not created. `doctor` agrees with `run`.
source "$(dirname "$0")/lib.sh"
ENV_FILE="${TB_SERVICES_ENV:-/tmp/tierbench-services/services.env}"
# shellcheck disable=SC1090
[ -z "${TB_S3_ENDPOINT:-}" ] && [ -f "$ENV_FILE" ] && source "$ENV_FILE"
need_env TB_S3_ENDPOINT
BUCKET="tb-misc-upload-$$-$RANDOM"
trap 'rm -rf "$WORK"; /usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$BUCKET" >/dev/null 2>&1' EXIT
bucket_exists() { /usr/bin/aws s3api head-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$BUCKET" >/dev/null 2>&1; }

make_dataset "$WORK/data"
base=(--scenario inplace --dataset-dir "$WORK/data" --endpoint-url "$TB_S3_ENDPOINT"
      --upload-to "s3://$BUCKET/run" --skip pickled,meta,preview,train --scratch "$WORK/scratch")
bucket_exists && fail "bucket $BUCKET exists before the test"

# 1. missing bucket, no flag: the upload stage fails, nothing is created
"$TB_BIN" run "${base[@]}" --out "$WORK/r1.json" >/dev/null 2>"$WORK/r1.err"
rc=$?
err=$(cat "$WORK/r1.err")
expect_eq "$rc" 1 "missing bucket: run exits 1"
expect_eq "$(stage "$WORK/r1.json" upload status)" failed "upload stage failed"
expect_contains "$err" "stage upload: bucket $BUCKET does not exist" "error names the stage and the bucket"
expect_contains "$err" "upload.create_bucket = true (--create-bucket)" "error says how to allow it"
bucket_exists && fail "the bucket was created without upload.create_bucket" || pass "no bucket created"
"$TB_BIN" doctor "${base[@]}" --json >"$WORK/d1.json" 2>/dev/null
expect_eq "$(json "$WORK/d1.json" "[c['ok'] for c in d['checks'] if c['name']=='s3']")" "[False]" "doctor: missing bucket fails"

# 2. --create-bucket: created, logged, recorded
"$TB_BIN" doctor "${base[@]}" --create-bucket --json >"$WORK/d2.json" 2>/dev/null
expect_eq "$(json "$WORK/d2.json" "[c['ok'] for c in d['checks'] if c['name']=='s3']")" "[True]" \
  "doctor: missing bucket fine with --create-bucket"
bucket_exists && fail "doctor created the bucket" || pass "doctor created nothing"
"$TB_BIN" run "${base[@]}" --create-bucket --out "$WORK/r2.json" --log "$WORK/r2.log" >/dev/null 2>"$WORK/r2.err"
expect_eq "$?" 0 "--create-bucket: run exits 0 ($(tail -2 "$WORK/r2.err"))"
expect_eq "$(stage "$WORK/r2.json" upload status)" ok "upload stage ok"
expect_eq "$(json "$WORK/r2.json" "[s for s in d['stages'] if s['name']=='upload'][0]['detail']['bucket_created']")" \
  True "results: bucket_created true"
expect_eq "$(json "$WORK/r2.json" "d['config']['upload']['create_bucket']")" True "results: config has create_bucket"
expect_contains "$(cat "$WORK/r2.log")" "upload: created bucket $BUCKET (upload.create_bucket = true)" "log says so"
bucket_exists && pass "bucket created" || fail "bucket not created"
/usr/bin/aws s3 cp --endpoint-url "$TB_S3_ENDPOINT" "s3://$BUCKET/run/cifar-10-batches-py/data_batch_1" "$WORK/db1" \
  >/dev/null 2>&1
cmp -s "$WORK/db1" "$WORK/data/cifar-10-batches-py/data_batch_1" && pass "uploaded object matches" ||
  fail "uploaded object differs"

# 3. the key, bucket already there: used, not created
"$TB_BIN" run "${base[@]}" --set upload.create_bucket=true --out "$WORK/r3.json" --log "$WORK/r3.log" \
  >/dev/null 2>"$WORK/r3.err"
expect_eq "$?" 0 "existing bucket: run exits 0"
expect_eq "$(json "$WORK/r3.json" "[s for s in d['stages'] if s['name']=='upload'][0]['detail']['bucket_created']")" \
  False "results: bucket_created false"
grep -q "created bucket" "$WORK/r3.log" && fail "log claims a bucket was created" || pass "log does not claim creation"
finish
