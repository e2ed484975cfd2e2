#!/usr/bin/env bash
# Faults between the trainer and Ceph RGW (train.input_mode fastfile and pipe, issue 15), with
# tests/tools/faulty_http.py as a proxy in front of RGW (--upstream): the trainer's S3 client
# signs its requests for the proxy's address and RGW verifies those signatures through it.
#  1. A connection reset in the middle of every batch object's body (its first GET), in
#     FastFile and in Pipe, and in another run a 503 on one object: the same weights as file
#     mode straight from RGW; the proxy's log shows each broken GET asked again for the rest,
#     from the byte that had arrived (Range: bytes=N-END, If-Match the object's ETag); the
#     source still opened each object once and read each byte once, and counted the resumes
#     (input_resumed_per_epoch).
#  2. An object overwritten at RGW while the trainer's GET of it waits in the proxy (fault
#     hold-request; the test waits for the proxy to report it held, then overwrites, then
#     releases): `tierbench run --scenario streamed` fails in the train stage with an error
#     naming the key, exits non-zero and still writes its results.
#  3. An object overwritten in the middle of the trainer's GET (fault hold after 1 MB, then
#     /__control/drop resets it): the rest is asked for If-Match the first ETag, RGW answers
#     412 and `tierbench train` fails naming the key ("changed while it was read").
# Skips (77) without RGW or libtorch; TB_REQUIRE_SERVICES=1 makes a missing service a failure.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$TB_SOURCE_DIR/tests/train/lib.sh"
t=$(mktemp -d "${TMPDIR:-/tmp}/tb-rgw-faults.XXXXXX")
export FAULTY_HTTP_LOG_DIR="$t"
run_pid=""
bucket=""
aws_s3() { /usr/bin/aws --endpoint-url "$TB_S3_ENDPOINT" s3 "$@"; }
cleanup() {
  [ -n "$run_pid" ] && kill "$run_pid" 2> /dev/null && wait "$run_pid" 2> /dev/null
  faulty_http_stop_all
  [ -n "$bucket" ] && aws_s3 rb --force "s3://$bucket" > /dev/null 2>&1
  rm -rf "$t"
}
trap cleanup EXIT
stats() { curl -s "$FAULTY_HTTP_URL/__control/stats"; }

# Batch objects of ~4.3 MB: a reset after 3 MB leaves some bytes in flight however the RST
# lands (an RST may drop what the client's socket still queues), so a resume starts past 0.
"$TB_BIN" dataset generate --out "$t/ds" --train-files 4 --images-per-file 1400 --test-images 20 --seed 4 \
  --tarball none > /dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
ds="$t/ds/cifar-10-batches-py"
bucket="h-rgwfaults-test-$$-$RANDOM"
prefix="input/cifar-10-batches-py"
uri="s3://$bucket/$prefix"
aws_s3 mb "s3://$bucket" > /dev/null || { b="$bucket"; bucket=""; skip "cannot create bucket $b on $TB_S3_ENDPOINT"; }
AWS_ENDPOINT_URL="$TB_S3_ENDPOINT" "$TB_BIN" cp --recursive "$ds" "$uri" > /dev/null 2>&1 ||
  aws_s3 cp --recursive "$ds" "$uri" > /dev/null || { echo "FAIL: uploading the dataset" >&2; exit 1; }
sizes=$(cd "$ds" && stat -c %s data_batch_* | awk '{s += $1} END {print s}')
# "data_batch_1=SIZE:MD5 ..." for the log checks (single-part uploads: the ETag is the md5).
objects=$(cd "$ds" && for f in data_batch_*; do echo "$f=$(stat -c %s "$f"):$(md5sum < "$f" | cut -c1-32)"; done)

train() {  # train NAME ENDPOINT DATA [flags]: `tierbench train` over ENDPOINT, summary in $t/NAME.json
  local name="$1" endpoint="$2" data="$3"
  shift 3
  "$TB_BIN" train --data "$data" --endpoint-url "$endpoint" --epochs 2 --seed 11 --device cpu --log-every 0 \
    --no-evaluate --json "$@" > "$t/$name.json" 2> "$t/$name.err" || fail "train $name: $(tail -3 "$t/$name.err")"
}

# File mode from RGW (the objects fetched to a local folder first, as SageMaker's File mode
# does): the reference weights.
AWS_ENDPOINT_URL="$TB_S3_ENDPOINT" "$TB_BIN" cp --recursive "$uri" "$t/fetched/cifar-10-batches-py" > /dev/null 2>&1 ||
  { echo "FAIL: fetching the dataset from RGW" >&2; exit 1; }
train file "$TB_S3_ENDPOINT" "$t/fetched" --input-mode file --shuffle files
want=$(field "$t/file.json" "d['weights_md5']")
[ -n "$want" ] || { echo "FAIL: no weights from file mode: $(tail -3 "$t/file.err")" >&2; exit 1; }

# resumes MODE: checks the proxy's log after a run with a reset in every batch object's first
# GET: each reset GET (bytes=0-END) is followed by one for the rest (bytes=N-END, N <= 3 MB,
# If-Match the object's ETag when N > 0); prints "resumed=K past0=J".
resumes() {
  "$py" - "$(stats)" "$objects" "$prefix" << 'EOF'
import json, sys
log = json.loads(sys.argv[1])["log"]
resumed = past0 = 0
for obj in sys.argv[2].split():
    name, rest = obj.split("=")
    size, md5 = rest.split(":")
    gets = [e for e in log if e["method"] == "GET" and e["path"].endswith("/" + sys.argv[3] + "/" + name)]
    end = "-%d" % (int(size) - 1)
    faulted = [i for i, e in enumerate(gets) if e["fault"] == "reset"]
    if len(faulted) != 1 or gets[faulted[0]]["range"] != "bytes=0" + end:
        sys.exit("%s: expected one reset GET of bytes=0%s, got %s" % (name, end, gets))
    after = gets[faulted[0] + 1] if faulted[0] + 1 < len(gets) else None
    if not after or not after["range"] or not after["range"].endswith(end) or after["status"] != 206:
        sys.exit("%s: no ranged GET of the rest after the reset: %s" % (name, gets))
    n = int(after["range"][len("bytes="):].split("-")[0])
    if n > 3000000:
        sys.exit("%s: resumed at %d, past the 3000000 bytes sent" % (name, n))
    if n > 0 and after.get("if_match") != '"%s"' % md5:
        sys.exit("%s: resumed at %d with If-Match %s, expected the ETag \"%s\"" % (name, n, after.get("if_match"), md5))
    resumed += 1
    past0 += n > 0
print("resumed=%d past0=%d" % (resumed, past0))
EOF
}

# A reset 3 MB into every batch object's first GET, in FastFile and in Pipe.
for mode in fastfile pipe; do
  faulty_http_proxy "$TB_S3_ENDPOINT" --fault reset --after 3000000 --fail-first 1 --match /data_batch_ ||
    { fail "faulty_http did not start"; continue; }
  train "$mode-reset" "$FAULTY_HTTP_URL" "$uri" --input-mode "$mode"
  expect_eq "$(field "$t/$mode-reset.json" "d['weights_md5']")" "$want" "$mode through the proxy, resets: file mode's weights"
  expect_eq "$(field "$t/$mode-reset.json" "d['input_bytes_per_epoch'], d['input_gets_per_epoch']")" \
    "[$sizes, $sizes] [4, 4]" "$mode, resets: each object opened once and each byte read once per epoch"
  r=$(resumes 2>&1)
  case "$r" in
    resumed=4\ past0=[1-4]) pass "$mode: all 4 reset GETs resumed from the byte reached ($r)" ;;
    *) fail "$mode: resumes: $r" ;;
  esac
  # The source's counter: each read the transport resumed past byte 0 (a reset that left no
  # byte behind is a plain retry), all in epoch 1.
  expect_eq "$(field "$t/$mode-reset.json" "d['input_resumed_per_epoch']")" "[${r##*past0=}, 0]" \
    "$mode: input_resumed_per_epoch counts the resumes"
  # Every request went through the proxy (HEAD, list, GETs signed for its address) and RGW
  # accepted each signature: no 403 anywhere in the log.
  expect_eq "$(stats | "$py" -c 'import json,sys; print(sorted({e["status"] for e in json.load(sys.stdin)["log"] if e["fault"] == "none"}))')" \
    "[200, 206]" "$mode: RGW answered every proxied request (SigV4 signed for the proxy verifies)"
  faulty_http_stop_all
done

# A 503 on one object's first GET (FastFile): retried, same weights.
if faulty_http_proxy "$TB_S3_ENDPOINT" --fault status --status 503 --fail-first 1 --match /data_batch_2; then
  train fastfile-503 "$FAULTY_HTTP_URL" "$uri" --input-mode fastfile
  expect_eq "$(field "$t/fastfile-503.json" "d['weights_md5']")" "$want" "fastfile through the proxy, a 503: file mode's weights"
  expect_eq "$(field "$t/fastfile-503.json" "d['input_resumed_per_epoch']")" "[0, 0]" "a 503 before the body is no resume"
  expect_eq "$(stats | "$py" -c '
import json, sys
gets = [e for e in json.load(sys.stdin)["log"] if e["method"] == "GET" and e["path"].endswith("/data_batch_2")]
print(" ".join("%s:%s" % (e["fault"], e["status"]) for e in gets[:2]), gets[0]["range"] == gets[1]["range"])')" \
    "status:503 none:206 True" "503 on data_batch_2, then the same range again"
  faulty_http_stop_all
else
  fail "faulty_http did not start"
fi

# wait_held: sets $held to the paths the proxy holds, once it holds one (the event), or when
# the run ($run_pid) ended first; the bound only stops a hang.
wait_held() {
  held=""
  for _ in $(seq 3000); do
    held=$(stats | "$py" -c 'import json,sys; print(" ".join(h["path"] for h in json.load(sys.stdin)["held"]))')
    [ -n "$held" ] && break
    kill -0 "$run_pid" 2> /dev/null || break
    sleep 0.1
  done
}
# overwrite NAME: the object NAME at RGW gets other bytes of the same size (the last one
# inverted), written straight to RGW; the new bytes are kept in $t/NAME.changed.
overwrite() {
  "$py" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 0xFF; open(sys.argv[2], "wb").write(b)' \
    "$ds/$1" "$t/$1.changed"
  aws_s3 cp "$t/$1.changed" "$uri/$1" > /dev/null || fail "overwriting $1 at RGW"
}

# An object overwritten at RGW while the trainer's GET of it is held in the proxy. The
# streamed scenario without verify and pickled: the train stage's GET is the first of it.
faulty_http_proxy "$TB_S3_ENDPOINT" --fault hold-request --fail-first 1 --match /data_batch_3 --stall 600 ||
  fail "faulty_http did not start"
"$TB_BIN" run --scenario streamed --dataset-uri "$uri" --scratch "$t/scratch" --endpoint-url "$FAULTY_HTTP_URL" \
  --epochs 2 --seed 11 --device cpu --skip verify,pickled --out "$t/changed.json" > "$t/changed.log" 2>&1 &
run_pid=$!
wait_held
case "$held" in
  */$prefix/data_batch_3) pass "the GET of data_batch_3 is held in the proxy" ;;
  *) fail "no held GET of data_batch_3 (held: '$held'): $(tail -3 "$t/changed.log")" ;;
esac
overwrite data_batch_3
curl -s -o /dev/null "$FAULTY_HTTP_URL/__control/release"
wait "$run_pid"
rc=$?
run_pid=""
if [ "$rc" != 0 ]; then pass "the run exits non-zero ($rc) when an object changed"; else fail "the run succeeded on a changed object"; fi
if [ -s "$t/changed.json" ]; then pass "results written"; else fail "no results file: $(tail -3 "$t/changed.log")"; fi
st() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); s={x['name']: x for x in d['stages']}; print($1)" "$t/changed.json"; }
expect_eq "$(st "s['train']['status']")" failed "the train stage failed"
err=$(st "s['train'].get('error', '')")
echo "error: $err"
changed_md5=$(md5sum < "$t/data_batch_3.changed" | cut -c1-32)
want_err="stage train: train: $uri/data_batch_3 changed since the listing taken at the start of training (its bytes no longer have the listed md5; listed $(stat -c %s "$ds/data_batch_3") bytes, ETag $(md5sum < "$ds/data_batch_3" | cut -c1-32), ETag now $changed_md5)"
expect_eq "$err" "$want_err" "the error names the stage, the key and the change"
faulty_http_stop_all

# An object overwritten in the middle of the trainer's GET of it: the proxy holds the body
# after 1 MB, the test overwrites the object at RGW, then has the proxy reset the connection
# (/__control/drop). The S3 client asks for the rest If-Match the ETag it began with; RGW
# answers 412, and the read fails as changed instead of splicing two versions.
aws_s3 cp "$ds/data_batch_3" "$uri/data_batch_3" > /dev/null || fail "restoring data_batch_3"
faulty_http_proxy "$TB_S3_ENDPOINT" --fault hold --after 1000000 --fail-first 1 --match /data_batch_4 --stall 600 ||
  fail "faulty_http did not start"
AWS_ENDPOINT_URL="$FAULTY_HTTP_URL" "$TB_BIN" train --data "$uri" --input-mode fastfile --epochs 1 --seed 11 \
  --device cpu --log-every 0 --no-evaluate > /dev/null 2> "$t/midread.err" &
run_pid=$!
wait_held
case "$held" in
  */$prefix/data_batch_4) pass "the body of data_batch_4 is held in the proxy after 1 MB" ;;
  *) fail "no held GET of data_batch_4 (held: '$held'): $(tail -3 "$t/midread.err")" ;;
esac
overwrite data_batch_4
curl -s -o /dev/null "$FAULTY_HTTP_URL/__control/drop"
wait "$run_pid"
rc=$?
run_pid=""
if [ "$rc" != 0 ]; then pass "train exits non-zero ($rc)"; else fail "train succeeded on an object changed mid-read"; fi
err=$(grep -m1 "changed while it was read" "$t/midread.err")
echo "error: $err"
case "$err" in
  *"train: reading $uri/data_batch_4 ("*" bytes delivered): S3 GetObject $uri/data_batch_4 "*": the object changed while it was read (resuming at byte "*", its ETag is no longer \"$(md5sum < "$ds/data_batch_4" | cut -c1-32)\")"*)
    pass "the error names the key and says it changed while read" ;;
  *) fail "unexpected error: $(tail -3 "$t/midread.err")" ;;
esac
expect_eq "$(stats | "$py" -c '
import json, sys
gets = [e for e in json.load(sys.stdin)["log"] if e["method"] == "GET" and e["path"].endswith("/data_batch_4")]
print(" ".join("%s:%s:%s" % (e["fault"], e["status"], "if_match" in e) for e in gets))')" \
  "hold:206:False none:412:True" "the proxy saw the held GET, then the rest asked for If-Match and refused (412)"

if [ "$failures" != 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "all passed"
