#!/usr/bin/env bash
# One read for verify and pickled in the streamed scenario (dataset and manifest already in
# Ceph RGW, no local copy): verify keeps the batch files' bytes it hashed and pickled decodes
# them, so every batch object is GET once across the two stages. Counted twice over: by the
# transport's own counters (stage details: verify's `gets`, pickled's `gets` and `bytes`) and
# by RGW's request log (its beast lines, one per request, read from the services' log folder
# when it can be). With verify.keep_bytes = 0 pickled reads every batch file again: twice.
# Train is switched off (it reads through its own source, per its input mode). Preview renders
# the test split from memory (pickled's) or through the tier, with no local copy.
# Skips (77) without RGW; TB_REQUIRE_SERVICES=1 makes a missing service a failure.
: "${TB_BIN:?}" "${TB_SOURCE_DIR:?}"
[ -f /tmp/tierbench-services/services.env ] && [ -z "${TB_S3_ENDPOINT:-}" ] && source /tmp/tierbench-services/services.env
source "$TB_SOURCE_DIR/tests/pipeline/lib.sh"  # WORK, fail/pass, expect_eq, need_env, finish
need_env TB_S3_ENDPOINT
t="$WORK"
py="$PY"

"$TB_BIN" dataset generate --out "$t/ds" --train-files 12 --images-per-file 10 --test-images 20 --seed 4 \
  --tarball none > /dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
bucket="h-oneread-test-$$-$RANDOM"
uri="s3://$bucket/input/cifar-10-batches-py"
aws_s3() { /usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 "$@"; }
aws_s3 mb "s3://$bucket" > /dev/null || { fail "cannot create a bucket on $TB_S3_ENDPOINT"; finish; }
trap 'aws_s3 rb --force "s3://$bucket" > /dev/null 2>&1; rm -rf "$t"' EXIT
"$TB_BIN" cp --recursive "$t/ds/cifar-10-batches-py" "$uri" > /dev/null 2>&1 &&
  "$TB_BIN" cp "$t/ds/cifar-10-batches-py.md5" "s3://$bucket/input/cifar-10-batches-py.md5" > /dev/null 2>&1 ||
  { echo "FAIL: uploading the dataset" >&2; exit 1; }
batch_bytes=$(aws_s3 ls "$uri/" | awk '$4 ~ /^(data_batch_|test_batch)/ {s += $3} END {print s}')
meta_bytes=$(stat -c %s "$t/ds/cifar-10-batches-py/batches.meta")

# RGW's request log: the lines written after `from` (a byte offset). A request made after the
# run (a listing of a marker prefix) is waited for, so the run's own requests are all there.
rgw_log="${TB_SERVICES_DIR:-/tmp/tierbench-services}/logs/client.rgw.a.log"
rgw_lines() {  # rgw_lines FROM MARKER > FILE
  aws_s3 ls "s3://$bucket/$2" > /dev/null 2>&1
  for _ in $(seq 600); do  # until the marker's request is logged (at most a minute)
    tail -c +"$(($1 + 1))" "$rgw_log" | grep -F "beast:" | grep -F "/$bucket" > "$t/rgw.tmp"
    grep -qF "$2" "$t/rgw.tmp" && { cat "$t/rgw.tmp"; return 0; }
    sleep 0.1
  done
  return 1
}
# GETs per batch object, as "COUNT x GETS" groups (e.g. "13x1": 13 objects GET once each).
gets_per_batch() {
  "$py" - "$1" "/$bucket/input/cifar-10-batches-py/" <<'EOF'
import collections, re, sys
per = collections.Counter()
for line in open(sys.argv[1]):
    m = re.search(r'"GET (\S+) HTTP', line)
    if m and m.group(1).startswith(sys.argv[2]):
        name = m.group(1)[len(sys.argv[2]):]
        if re.fullmatch(r'data_batch_\d+|test_batch', name):
            per[name] += 1
groups = collections.Counter(per.values())
print(" ".join(f"{n}x{g}" for g, n in sorted(groups.items())))
EOF
}

run() {  # run NAME [flags]: a streamed run without train; results $t/NAME.json, RGW lines $t/NAME.rgw
  local name="$1" from=0
  shift
  [ -r "$rgw_log" ] && from=$(stat -c %s "$rgw_log")
  "$TB_BIN" run --scenario streamed --dataset-uri "$uri" --scratch "$t/scratch-$name" \
    --endpoint-url "$TB_S3_ENDPOINT" --skip train --seed 3 --out "$t/$name.json" "$@" > "$t/$name.log" 2>&1 ||
    fail "streamed run $name: $(tail -3 "$t/$name.log")"
  rm -f "$t/$name.rgw"
  if [ -r "$rgw_log" ]; then
    rgw_lines "$from" "marker-$name-$RANDOM" > "$t/$name.rgw" || fail "$name: RGW never logged the marker request"
  fi
}
st() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); s={x['name']: x for x in d['stages']}; print($2)" "$t/$1.json"; }

run one
expect_eq "$(st one "[s[n]['status'] for n in ('verify', 'pickled', 'meta', 'train')]")" \
  "['ok', 'ok', 'ok', 'skipped']" "streamed: verify, pickled and meta ran"
expect_eq "$(st one "s['verify']['detail']['gets'], s['verify']['detail']['kept_files']")" "15 14" \
  "verify GETs each of the manifest's 15 objects once and keeps the 13 batch files and batches.meta"
expect_eq "$(st one "s['verify']['detail']['kept_bytes']")" "$((batch_bytes + meta_bytes))" \
  "verify keeps every batch byte and batches.meta"
expect_eq "$(st one "s['meta']['detail']['read_from'], s['meta']['bytes'], len(s['meta']['detail']['label_names'])")" \
  "verify's read 0 10" "meta takes the label names from verify's read"
expect_eq "$(st one "s['pickled']['detail']['read_from'], s['pickled']['detail']['files_read_again']")" \
  "verify's read 0" "pickled decodes verify's read"
expect_eq "$(st one "s['pickled']['detail']['gets'], s['pickled']['bytes'], s['pickled']['files']")" "0 0 13" \
  "pickled: no GET, no byte over the network, 13 batch files decoded"
expect_eq "$(st one "s['pickled']['detail']['train_images'], s['pickled']['detail']['test_images']")" "120 20" \
  "pickled: every image decoded"
expect_eq "$(st one "d['config']['verify']['keep_bytes']")" "1073741824" "verify.keep_bytes defaults to 1 GiB"
# Preview renders from the tier too: the test split pickled decoded, no GET of its own.
expect_eq "$(st one "s['preview']['status'], s['preview']['detail']['images_from'], s['preview']['detail']['gets']")" \
  "ok test split decoded by pickled 0" "streamed preview renders the test split pickled decoded"
[ -s "$t/one-preview.png" ] && [ "$(head -c 8 "$t/one-preview.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] &&
  pass "streamed preview wrote a PNG" || fail "no preview PNG at $t/one-preview.png"
run nopickled --skip pickled
expect_eq "$(st nopickled "s['preview']['status'], s['preview']['detail']['images_from']")" \
  "ok test split read through the tier" "without pickled, preview reads the test split through the tier"
[ -s "$t/nopickled-preview.png" ] && pass "and writes its PNG" || fail "no preview PNG at $t/nopickled-preview.png"

run twice --set verify.keep_bytes=0
expect_eq "$(st twice "s['verify']['detail']['kept_files']")" "0" "keep_bytes = 0: verify keeps nothing"
expect_eq "$(st twice "s['pickled']['detail']['read_from'], s['pickled']['detail']['files_read_again']")" \
  "tier 13" "keep_bytes = 0: pickled reads every batch file again"
expect_eq "$(st twice "s['pickled']['detail']['gets'], s['pickled']['bytes']")" "13 $batch_bytes" \
  "keep_bytes = 0: pickled's GETs and bytes are the batch files'"
expect_eq "$(st twice "s['pickled']['detail']['train_label_histogram']")" \
  "$(st one "s['pickled']['detail']['train_label_histogram']")" "the same labels either way"

# A tier that cannot list (nginx over HTTP): verify keeps chunk by chunk as they arrive, up to
# a limit of about three batch files; what it did not keep pickled reads again.
if [ -n "${TB_HTTP_ROOT:-}" ] && [ -n "${TB_HTTP_ORIGIN:-}" ]; then
  web="h-oneread-test-$$-$RANDOM"
  mkdir -p "$TB_HTTP_ROOT/$web" && cp -r "$t/ds/cifar-10-batches-py" "$t/ds/cifar-10-batches-py.md5" "$TB_HTTP_ROOT/$web/"
  trap 'aws_s3 rb --force "s3://$bucket" > /dev/null 2>&1; rm -rf "$t" "$TB_HTTP_ROOT/$web"' EXIT
  limit=$((3 * $(stat -c %s "$t/ds/cifar-10-batches-py/data_batch_12")))
  "$TB_BIN" run --scenario streamed --dataset-uri "$TB_HTTP_ORIGIN/$web/cifar-10-batches-py" --scratch "$t/scratch-http" \
    --skip train --set "verify.keep_bytes=$limit" --out "$t/http.json" > "$t/http.log" 2>&1 ||
    fail "streamed run over HTTP: $(tail -3 "$t/http.log")"
  expect_eq "$(st http "s['pickled']['status'], s['pickled']['detail']['read_from']")" "ok verify's read and tier" \
    "HTTP: pickled decodes what verify kept and reads the rest"
  expect_eq "$(st http "s['verify']['detail']['kept_files'] - (s['meta']['detail']['read_from'] == \"verify's read\")
                        + s['pickled']['detail']['files_read_again'],
                        s['pickled']['detail']['files_read_again'] == s['pickled']['detail']['gets'],
                        0 < s['verify']['detail']['kept_bytes'] <= $limit")" "13 True True" \
    "HTTP: kept + read again = the 13 batch files, one GET each, within verify.keep_bytes"
else
  skip_part "TB_HTTP_ROOT/TB_HTTP_ORIGIN not set: the HTTP case left out"
fi

if [ -r "$rgw_log" ]; then
  expect_eq "$(gets_per_batch "$t/one.rgw")" "13x1" "RGW's log: each batch object GET once across verify and pickled"
  expect_eq "$(gets_per_batch "$t/twice.rgw")" "13x2" "RGW's log: twice with verify.keep_bytes = 0"
else
  skip_part "$rgw_log not readable: GETs counted by the transport's counters only"
fi

finish
