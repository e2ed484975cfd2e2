#!/usr/bin/env bash
# Unbounded work, refused: (1) numeric settings out of range are usage errors (exit 2, the key,
# the value and the allowed range named) before any stage runs, for `run`'s keys and flags and
# the flags of train, cp, dataset and preview; (2) a gzip bomb (zeros in a small tar.gz, made
# here) fails stage extract by the expansion ratio, streaming and sequential, leaving nothing
# that looks extracted; (3) an origin sending an endless body fails stage download at
# limits.max_download_bytes, leaving no tarball; (4) an origin that accepts and never answers
# fails with "timed out" under net.connect_timeout / net.read_timeout / net.retries.
# Needs python3 only (the fault-injecting server in tests/tools).
source "$(dirname "$0")/lib.sh"
source "$TB_SOURCE_DIR/tests/tools/faulty_http.sh"
trap 'faulty_http_stop_all; rm -rf "$WORK"' EXIT

# usage_error NAME EXPECTED... -- COMMAND...: exit 2, each EXPECTED in stderr, nothing written.
usage_error() {
  local name=$1 want=()
  shift
  while [ "$1" != -- ]; do want+=("$1"); shift; done
  shift
  rm -rf "$WORK/u"
  mkdir -p "$WORK/u"
  (cd "$WORK/u" && "$@") >/dev/null 2>"$WORK/u.err"
  local rc=$?
  expect_rc "$rc" 2 "$name"
  local w
  for w in "${want[@]}"; do expect_contains "$(cat "$WORK/u.err")" "$w" "$name: error says '$w'"; done
  expect_eq "$(find "$WORK/u" -mindepth 1 | head -n 3)" "" "$name: nothing written (no stage ran)"
}
run_base=(run --origin "$WORK/none.tar.gz" --md5 00000000000000000000000000000000 --scratch "$WORK/u/scratch"
          --out "$WORK/u/r.json" --skip upload)

# 1. Ranges.
usage_error "run --workers 100000000" "train.workers" "100000000" "0..1024" -- "$TB_BIN" "${run_base[@]}" --workers 100000000
usage_error "run --threads 4294967297" "train.threads" "4294967297" "0..1024" -- "$TB_BIN" "${run_base[@]}" --threads 4294967297
usage_error "run --concurrency 0" "s3.concurrency" "1..1024" -- "$TB_BIN" "${run_base[@]}" --concurrency 0
usage_error "run --part-size 6GiB" "s3.part_size" "6GiB" "5MiB..5GiB" -- "$TB_BIN" "${run_base[@]}" --part-size 6GiB
usage_error "run --max-steps -1" "train.max_steps" "-1" -- "$TB_BIN" "${run_base[@]}" --max-steps -1
usage_error "run --lr nan" "train.lr" "nan" -- "$TB_BIN" "${run_base[@]}" --lr nan
usage_error "run --batch-size 100000000" "train.batch_size" "1..65536" -- "$TB_BIN" "${run_base[@]}" --batch-size 100000000
usage_error "run --read-timeout 0" "net.read_timeout" -- "$TB_BIN" "${run_base[@]}" --read-timeout 0
usage_error "run --retries 1000" "net.retries" "0..100" -- "$TB_BIN" "${run_base[@]}" --retries 1000
usage_error "run --set limits.max_expansion_ratio=0" "limits.max_expansion_ratio" -- \
  "$TB_BIN" "${run_base[@]}" --set limits.max_expansion_ratio=0
printf '[train]\nworkers = 100000000\n' > "$WORK/huge.toml"
usage_error "run --config (train.workers = 1e8)" "huge.toml" "train.workers" "0..1024" -- \
  "$TB_BIN" run --config "$WORK/huge.toml" --origin "$WORK/none.tar.gz" --scratch "$WORK/u/scratch" --out "$WORK/u/r.json" --skip upload
usage_error "train --workers 100000000" "--workers" "0..1024" -- "$TB_BIN" train --data "$WORK" --workers 100000000 --sm-prefix "$WORK/sm"
usage_error "train --threads 100000000" "--threads" "0..1024" -- "$TB_BIN" train --data "$WORK" --threads 100000000 --sm-prefix "$WORK/sm"
usage_error "train --max-steps -1" "--max-steps" "-1" -- "$TB_BIN" train --data "$WORK" --max-steps -1 --sm-prefix "$WORK/sm"
usage_error "train --epochs 4294967297" "--epochs" -- "$TB_BIN" train --data "$WORK" --epochs 4294967297 --sm-prefix "$WORK/sm"
usage_error "cp --concurrency 100000000" "--concurrency" "1..1024" -- "$TB_BIN" cp --concurrency 100000000 "$WORK/none" "$WORK/u/x"
usage_error "cp --retries -1" "--retries" "0..100" -- "$TB_BIN" cp --retries -1 "$WORK/none" "$WORK/u/x"
usage_error "cp --read-timeout 0" "--read-timeout" -- "$TB_BIN" cp --read-timeout 0 "$WORK/none" "$WORK/u/x"
usage_error "dataset generate --threads 100000000" "--threads" "0..1024" -- \
  "$TB_BIN" dataset generate --out "$WORK/u/gen" --threads 100000000
usage_error "preview --count 4294967297" "--count" -- "$TB_BIN" preview --data "$WORK" --out "$WORK/u/p.png" --count 4294967297

# 2. A gzip bomb: 320 MiB of zeros in a tar.gz of a few hundred KiB.
"$PY" - "$WORK/bomb.tar.gz" <<'EOF'
import io, sys, tarfile, gzip
size = 320 << 20
with gzip.open(sys.argv[1], "wb", compresslevel=9) as gz:
    with tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = size
        class Zeros(io.RawIOBase):
            left = size
            def readable(self):
                return True
            def readinto(self, b):
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n
        t.addfile(info, io.BufferedReader(Zeros(), 1 << 20))
EOF
[ $? = 0 ] || fail "cannot build the bomb"
bomb_size=$(stat -c %s "$WORK/bomb.tar.gz")
[ "$bomb_size" -lt $((4 << 20)) ] && pass "bomb is $bomb_size bytes" || fail "bomb is $bomb_size bytes, not a bomb"
for stream in true false; do
  rm -rf "$WORK/scratch"
  "$TB_BIN" run --origin "$WORK/bomb.tar.gz" --md5 "$(md5_of "$WORK/bomb.tar.gz")" --scratch "$WORK/scratch" \
    --set pipeline.stream=$stream --skip verify,pickled,meta,upload,preview,train --out "$WORK/bomb-$stream.json" \
    >/dev/null 2>"$WORK/bomb.err"
  expect_rc $? 1 "bomb (stream=$stream)"
  err=$(cat "$WORK/bomb.err")
  expect_contains "$err" "stage extract" "bomb (stream=$stream): error names the stage"
  expect_contains "$err" "bomb.tar.gz: entry" "bomb (stream=$stream): error names the archive"
  expect_contains "$err" "entry 'cifar-10-batches-py/data_batch_1'" "bomb (stream=$stream): error names the entry"
  expect_contains "$err" "decompression bomb" "bomb (stream=$stream): error gives the cause"
  expect_eq "$(stage "$WORK/bomb-$stream.json" extract status)" failed "bomb (stream=$stream): extract failed in the JSON"
  expect_eq "$(find "$WORK/scratch" -name data_batch_1)" "" "bomb (stream=$stream): no data_batch_1 left"
  expect_no_temp "$WORK/scratch" "bomb (stream=$stream)"
done

# 3. An endless body (no Content-Length): refused at limits.max_download_bytes.
mkdir -p "$WORK/origin"
head -c 100000 /dev/urandom > "$WORK/origin/cifar-10-python.tar.gz"
faulty_http_start "$WORK/origin" --fault endless || { fail "faulty_http did not start"; finish; }
for stream in true false; do
  rm -rf "$WORK/scratch"
  "$TB_BIN" run --origin "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" --md5 00000000000000000000000000000000 \
    --scratch "$WORK/scratch" --set pipeline.stream=$stream,limits.max_download_bytes=8MiB \
    --skip verify,pickled,meta,upload,preview,train --out "$WORK/endless-$stream.json" >/dev/null 2>"$WORK/endless.err"
  expect_rc $? 1 "endless body (stream=$stream)"
  err=$(cat "$WORK/endless.err")
  expect_contains "$err" "stage download" "endless body (stream=$stream): error names the stage"
  expect_contains "$err" "cifar-10-python.tar.gz" "endless body (stream=$stream): error names the object"
  expect_contains "$err" "exceed the limit of 8388608 bytes (limits.max_download_bytes)" \
    "endless body (stream=$stream): error gives the limit"
  expect_eq "$(stage "$WORK/endless-$stream.json" download status)" failed "endless body (stream=$stream): download failed"
  expect_eq "$(find "$WORK/scratch" -name 'cifar-10-python.tar.gz*')" "" "endless body (stream=$stream): no tarball left"
  expect_no_temp "$WORK/scratch" "endless body (stream=$stream)"
done

# 4. An origin that accepts the request and never answers.
faulty_http_start "$WORK/origin" --fault stall-headers --stall 600 || { fail "faulty_http did not start"; finish; }
for stream in true false; do
  rm -rf "$WORK/scratch"
  "$TB_BIN" run --origin "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" --md5 00000000000000000000000000000000 \
    --scratch "$WORK/scratch" --set pipeline.stream=$stream --connect-timeout 2 --read-timeout 1 --retries 1 \
    --skip verify,pickled,meta,upload,preview,train --out "$WORK/silent-$stream.json" >/dev/null 2>"$WORK/silent.err"
  expect_rc $? 1 "silent origin (stream=$stream)"
  err=$(cat "$WORK/silent.err")
  expect_contains "$err" "stage download" "silent origin (stream=$stream): error names the stage"
  expect_contains "$err" "timed out" "silent origin (stream=$stream): error says it timed out"
  expect_contains "$err" "(attempt 2/2)" "silent origin (stream=$stream): tried 1 + --retries 1 times"
done
rm -rf "$WORK/scratch"
"$TB_BIN" cp --read-timeout 1 --retries 0 "$FAULTY_HTTP_URL/cifar-10-python.tar.gz" "$WORK/cp.bin" >/dev/null 2>"$WORK/cp.err"
expect_rc $? 1 "cp from a silent origin"
expect_contains "$(cat "$WORK/cp.err")" "timed out" "cp from a silent origin: error says it timed out"
[ ! -e "$WORK/cp.bin" ] && pass "cp from a silent origin: no file" || fail "cp from a silent origin left $WORK/cp.bin"
finish
