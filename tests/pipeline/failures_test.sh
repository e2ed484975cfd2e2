#!/usr/bin/env bash
# Each failure a user will meet: the failing stage is named with the object and the cause,
# the exit status is 1 (2 for a bad job file), later stages are "skipped" and the results
# JSON is still written.
source "$(dirname "$0")/lib.sh"
need_env TB_HTTP_ORIGIN TB_HTTP_ROOT TB_S3_ENDPOINT
make_dataset "$WORK/data"
id="fail-$$-$RANDOM"
url=$(publish "$WORK/data" "$id")
actual_md5=$(cut -d' ' -f1 "$WORK/data/cifar-10-python.tar.gz.md5")
base=(--scratch "$WORK/scratch" --skip train,preview --endpoint-url "$TB_S3_ENDPOINT")

# run NAME ARGS...: runs tierbench with results in $WORK/NAME.json; sets rc and err.
run() {
  local name=$1; shift
  "$TB_BIN" run --out "$WORK/$name.json" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  err=$(cat "$WORK/$name.err")
}
later_skipped() {  # FILE STAGE...
  local f=$1; shift
  for s in "$@"; do expect_eq "$(stage "$f" "$s" status)" skipped "$(basename "$f") $s skipped"; done
}

# Cases 1-3 run with streaming ingest (the default) and in the reference architecture's sequential order.
for stream in true false; do
  m="-stream-$stream"
  echo "-- pipeline.stream=$stream"
  # 1. wrong tarball md5
  run md5$m --origin "$url" --md5 0123456789abcdef0123456789abcdef --skip upload "${base[@]}" --set pipeline.stream=$stream
  expect_eq "$rc" 1 "wrong md5 exits 1"
  expect_eq "$(stage "$WORK/md5$m.json" integrity status)" failed "integrity failed"
  expect_contains "$err" "stage integrity" "error names the stage"
  expect_contains "$err" "0123456789abcdef0123456789abcdef" "error gives the expected md5"
  expect_contains "$err" "$actual_md5" "error gives the actual md5"
  expect_contains "$(stage "$WORK/md5$m.json" integrity error)" "$actual_md5" "JSON carries the error"
  later_skipped "$WORK/md5$m.json" extract verify pickled meta upload preview train

  # 2. a manifest entry that does not match
  sed '/data_batch_2$/s/^[0-9a-f]\{32\}/ffffffffffffffffffffffffffffffff/' "$WORK/data/cifar-10-batches-py.md5" > "$WORK/bad.md5"
  run manifest$m --origin "$url" --manifest "$WORK/bad.md5" --skip upload "${base[@]}" --set pipeline.stream=$stream
  expect_eq "$rc" 1 "manifest mismatch exits 1"
  expect_eq "$(stage "$WORK/manifest$m.json" verify status)" failed "verify failed"
  expect_contains "$err" "stage verify" "verify error names the stage"
  expect_contains "$err" "cifar-10-batches-py/data_batch_2" "verify error names the file"
  later_skipped "$WORK/manifest$m.json" pickled meta upload

  # 2b. a tarball corrupted in transit (one byte flipped mid-stream): unpacking breaks first
  # when streaming, but the root cause, the tarball's md5, is what must be reported.
  mkdir -p "$TB_HTTP_ROOT/$id-bad"
  cp "$TB_HTTP_ROOT/$id/cifar-10-python.tar.gz" "$TB_HTTP_ROOT/$id-bad/"
  size=$(stat -c %s "$TB_HTTP_ROOT/$id-bad/cifar-10-python.tar.gz")
  printf '\x5a' | dd of="$TB_HTTP_ROOT/$id-bad/cifar-10-python.tar.gz" bs=1 seek=$((size / 3)) conv=notrunc status=none
  rm -rf "$WORK/scratch"
  run flipped$m --origin "$TB_HTTP_ORIGIN/$id-bad/cifar-10-python.tar.gz" --md5 "$actual_md5" --skip upload \
    "${base[@]}" --set pipeline.stream=$stream
  expect_eq "$rc" 1 "corrupted tarball exits 1"
  expect_eq "$(stage "$WORK/flipped$m.json" download status)" ok "corrupted tarball: download completed"
  expect_eq "$(stage "$WORK/flipped$m.json" integrity status)" failed "corrupted tarball: integrity failed"
  expect_contains "$err" "stage integrity" "corrupted tarball: error names integrity"
  expect_contains "$err" "expected $actual_md5" "corrupted tarball: error gives the expected md5"
  later_skipped "$WORK/flipped$m.json" extract verify pickled meta
  [ -z "$(find "$WORK/scratch/extract" -type f 2>/dev/null)" ] && pass "corrupted tarball: nothing extracted is left" \
    || fail "corrupted tarball: extracted files were left"

  # 3. origin 404 and connection refused
  run notfound$m --origin "$TB_HTTP_ORIGIN/$id/nope.tar.gz" --md5 "$actual_md5" --skip upload "${base[@]}" --set pipeline.stream=$stream
  expect_eq "$rc" 1 "origin 404 exits 1"
  expect_contains "$err" "stage download" "404 error names the stage"
  expect_contains "$err" "$TB_HTTP_ORIGIN/$id/nope.tar.gz" "404 error names the URL"
  expect_contains "$err" "404" "404 error gives the status"
  later_skipped "$WORK/notfound$m.json" integrity extract verify
  run refused$m --origin "http://127.0.0.1:9/x.tar.gz" --md5 "$actual_md5" --skip upload "${base[@]}" --set pipeline.stream=$stream
  expect_eq "$rc" 1 "connection refused exits 1"
  expect_contains "$err" "http://127.0.0.1:9/x.tar.gz" "refused error names the URL"
  expect_contains "$(tr "A-Z" "a-z" <<< "$err")" "connect" "refused error gives the cause"
done

# 4. bad S3 credentials
AWS_SECRET_ACCESS_KEY=wrong-secret-0000000000000000000000000000 \
  run badcreds --origin "$url" --upload-to "s3://tb-pipeline-test/$id" "${base[@]}"
expect_eq "$rc" 1 "bad credentials exit 1"
expect_eq "$(stage "$WORK/badcreds.json" upload status)" failed "upload failed"
expect_contains "$err" "stage upload" "upload error names the stage"
expect_contains "$err" "$TB_S3_ENDPOINT" "upload error names the endpoint"
expect_contains "$err" "tb-pipeline-test" "upload error names the bucket"
expect_contains "$err" "SignatureDoesNotMatch" "upload error gives the S3 error code"
if grep -q "wrong-secret" "$WORK/badcreds.err" "$WORK/badcreds.json"; then fail "secret in output"; else pass "secret not echoed"; fi

# 5. missing in-place directory
run inplace --scenario inplace --dataset-dir "$WORK/no-such-dir" --skip upload "${base[@]}"
expect_eq "$rc" 1 "missing in-place dir exits 1"
expect_contains "$err" "stage verify" "in-place error names the first stage"
expect_contains "$err" "$WORK/no-such-dir" "in-place error names the directory"
later_skipped "$WORK/inplace.json" pickled meta

# 6. unwritable scratch (a file where a directory should be: root ignores permission bits)
echo x > "$WORK/afile"
run scratch --origin "$url" --skip upload --scratch "$WORK/afile/scratch" --skip train,preview
expect_eq "$rc" 1 "unwritable scratch exits 1"
expect_contains "$err" "stage download" "scratch error names the stage"
expect_contains "$err" "$WORK/afile" "scratch error names the path"

# 7. malformed job files: exit 2, the key is named
printf '[train]\nepochs = "two"\n' > "$WORK/job1.toml"
run badtype --config "$WORK/job1.toml"
expect_eq "$rc" 2 "wrongly typed key exits 2"
expect_contains "$err" "train.epochs" "type error names the key"
printf 'scenario = "staged"\n[origin]\nurll = "x"\n' > "$WORK/job2.toml"
run badkey --config "$WORK/job2.toml"
expect_eq "$rc" 2 "unknown key exits 2"
expect_contains "$err" "origin.urll" "unknown key is named"
printf 'label = \n' > "$WORK/job3.toml"
run syntax --config "$WORK/job3.toml"
expect_eq "$rc" 2 "TOML syntax error exits 2"
expect_contains "$err" "job3.toml:1" "syntax error names file and line"

rm -rf "$TB_HTTP_ROOT/$id"
finish
