#!/usr/bin/env bash
# Shared scratch: while one `tierbench run` is in flight (its download held open by the origin
# until the test releases it), a second run on the same scratch, a run writing the same
# results file, `dataset generate` into that scratch and `train` into its model folder are all
# refused with exit 2, naming the holder's pid; the first run then completes intact. A run
# killed with SIGKILL leaves no lock behind, and a foreign holder of the lock (flock(1)) is
# respected. No service needed: the origin is tests/tools/faulty_http.py.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/../tools/faulty_http.sh"
trap '[ -n "${held:-}" ] && kill "$held" 2>/dev/null; faulty_http_stop_all; rm -rf "$WORK"' EXIT
command -v flock >/dev/null || { echo "skipping: flock(1) not installed"; exit 77; }
command -v curl >/dev/null || { echo "skipping: curl not installed"; exit 77; }
make_dataset "$WORK/data"
mkdir -p "$WORK/www"
cp "$WORK/data/cifar-10-python.tar.gz" "$WORK/www/"
md5=$(md5_of "$WORK/www/cifar-10-python.tar.gz")
# Every tarball response stops after 64 KiB until /__control/release (at most 10 minutes).
FAULTY_HTTP_LOG_DIR="$WORK" faulty_http_start "$WORK/www" --fault hold --after 65536 --stall 600 || exit 1
url="$FAULTY_HTTP_URL/cifar-10-python.tar.gz"
S="$WORK/scratch"
job=(--origin "$url" --md5 "$md5" --manifest "$WORK/data/cifar-10-batches-py.md5" --skip upload,preview
     --epochs 1 --max-steps 2 --device cpu)

# start_held NAME ARGS...: starts a run in the background (pid in $held) and waits until the
# origin has received its tarball request, i.e. the run holds its locks and is mid-download.
start_held() {
  local name=$1 i; shift
  "$TB_BIN" run "${job[@]}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  held=$!
  for ((i = 0; i < 600; i++)); do
    curl -s "$FAULTY_HTTP_URL/__control/stats" | grep -q '"/cifar-10-python.tar.gz"' && return 0
    kill -0 "$held" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name did not reach its download: $(tail -3 "$WORK/$name.err")"
  finish
}
# refused NAME EXPECTED... -- CMD...: CMD exits 2 and its stderr holds every EXPECTED string.
# (A refusal comes before any stage; the timeout only ends a CMD that went on to wait for the
# held origin, which is the defect.)
refused() {
  local name=$1; shift
  local expected=()
  while [ "$1" != "--" ]; do expected+=("$1"); shift; done
  shift
  timeout 120 "$@" >"$WORK/refused.out" 2>"$WORK/refused.err"
  local rc=$? err
  err=$(cat "$WORK/refused.err")
  expect_eq "$rc" 2 "$name: exit 2 ($(head -c 300 "$WORK/refused.err"))"
  for e in "${expected[@]}"; do expect_contains "$err" "$e" "$name: message names $e"; done
}

echo "-- a second writer while the first run is in flight"
start_held first --scratch "$S" --out "$WORK/first.json" --label first
first=$held
expect_contains "$(cat "$S/.tierbench.lock")" "pid=$first" "the scratch lock file names the running pid"
refused "second run, same scratch" "scratch $S is in use" "pid $first" "$S/.tierbench.lock" -- \
  "$TB_BIN" run "${job[@]}" --scratch "$S" --out "$WORK/second.json" --label second
[ ! -e "$WORK/second.json" ] && pass "refused run wrote no results" || fail "refused run wrote results"
refused "second run, same results file" "results file $WORK/first.json is in use" "pid $first" -- \
  "$TB_BIN" run "${job[@]}" --scratch "$WORK/other-scratch" --out "$WORK/first.json" --label third
refused "dataset generate into the scratch" "in use" "pid $first" -- \
  "$TB_BIN" dataset generate --out "$S" --train-files 1 --images-per-file 10 --test-images 10
[ ! -e "$S/cifar-10-batches-py" ] && pass "refused generate wrote nothing" || fail "refused generate wrote into the scratch"
refused "train into the run's model folder" "model folder $S/model is in use" "pid $first" -- \
  "$TB_BIN" train --data "$WORK/data" --model-dir "$S/model" --epochs 1 --max-steps 1 --no-evaluate --no-progress
kill -0 "$first" 2>/dev/null && pass "first run still in flight during the checks" || fail "first run ended early"

curl -s "$FAULTY_HTTP_URL/__control/release" >/dev/null
wait "$first"
expect_eq "$?" 0 "first run completes ($(tail -2 "$WORK/first.err"))"
expect_eq "$(json "$WORK/first.json" "d['label'], d['status']")" "first ok" "first run's results intact"
expect_eq "$(stage "$WORK/first.json" train status)" ok "first run trained"
[ -s "$S/model/model.pth" ] && pass "first run's model written" || fail "no model.pth"
for f in "$S/.tierbench.lock" "$S/model/.tierbench.lock" "$WORK/first.json.lock"; do
  [ ! -e "$f" ] && pass "released: $f removed" || fail "lock file left: $f"
done

echo "-- a run killed with SIGKILL leaves no lock behind"
curl -s "$FAULTY_HTTP_URL/__control/reset" >/dev/null
start_held killed --scratch "$S" --out "$WORK/killed.json" --label killed
kill -9 "$held"
wait "$held" 2>/dev/null
[ -e "$S/.tierbench.lock" ] && pass "the killed run's lock file is left" || fail "no stale lock file to test with"
curl -s "$FAULTY_HTTP_URL/__control/release" >/dev/null
"$TB_BIN" run "${job[@]}" --scratch "$S" --out "$WORK/after.json" --label after >"$WORK/after.out" 2>"$WORK/after.err"
expect_eq "$?" 0 "a run after the SIGKILL takes the scratch over ($(tail -2 "$WORK/after.err"))"
expect_eq "$(json "$WORK/after.json" "d['status']")" ok "its results"

echo "-- a foreign holder of the lock"
exec 9>"$S/.tierbench.lock"
flock -n 9 || fail "flock(1) could not take the free lock"
echo "pid=$$ since=test" >&9
refused "run while flock(1) holds the scratch" "scratch $S is in use" "pid $$" -- \
  "$TB_BIN" run "${job[@]}" --scratch "$S" --out "$WORK/foreign.json"
exec 9>&-
[ ! -e "$WORK/foreign.json" ] && pass "no results while refused" || fail "results written while refused"
finish
