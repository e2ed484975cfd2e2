# Shared helpers for the tests of several ranks (sourced, not run). Ranks run on this host's
# loopback, started by plain environment variables or by a launcher; every process a test
# starts is recorded and killed by its pid when the test ends, also after a failure.
set -uo pipefail
: "${TB_BIN:?TB_BIN must point at the tierbench binary}"
PY=/usr/bin/python3
WORK="$(mktemp -d /tmp/tb-cluster-test.XXXXXX)"
PIDS=()
AT_EXIT=()  # commands a test adds (e.g. removing its test bed), run newest first after PIDS are killed
# kill_tree PID: PID and every process below it (mpirun's ranks, a subshell's tierbench).
kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null
}
cleanup() {
  local i
  for pid in "${PIDS[@]}"; do kill_tree "$pid"; done
  for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${AT_EXIT[$i]}"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
partial=0  # set by skip_part: some cases did not run; finish then exits 77, never 0
skip_part() { echo "skipping: $*"; partial=1; }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
expect_eq() { if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: expected '$2', got '$1'"; fi; }
expect_contains() { if grep -qF -- "$2" <<< "$1"; then pass "$3"; else fail "$3: '$2' not in: $1"; fi; }
finish() {
  if [ "$failures" != 0 ]; then echo "$failures failure(s)"; exit 1; fi
  if [ "$partial" = 1 ]; then echo "passed, but some cases were skipped"; exit 77; fi
  echo "all passed"
  exit 0
}
skip() {
  if [ "${TB_REQUIRE_SERVICES:-0}" = 1 ]; then echo "FAIL: $*" >&2; exit 1; fi
  echo "skipping: $*"; exit 77
}
# The c10d cluster lives in the libtorch plugin, built only with libtorch and Gloo's headers.
need_cluster_plugin() {
  local plugin="${TB_BINARY_DIR:-$(dirname "$TB_BIN")}/libtierbench_torch.so"
  if [ ! -f "$plugin" ]; then
    [ "${TB_BUILT_WITH_TORCH:-OFF}" = ON ] && { echo "FAIL: $plugin missing from a build with libtorch" >&2; exit 1; }
    echo "skipping: tierbench was built without libtorch (no c10d cluster)"; exit 77
  fi
  if ! nm -D "$plugin" 2>/dev/null | grep -q ' T tb_torch_open_cluster$'; then
    skip "the libtorch plugin was built without Gloo's headers (libgloo-dev): no c10d cluster"
  fi
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start NAME VAR=VALUE... -- ARGS...: runs tierbench in the background with the variables;
# stdout/stderr to $WORK/NAME.out/.err, exit status to $WORK/NAME.rc once it ends.
start() {
  local name="$1"; shift
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  ( env "${vars[@]}" "$TB_BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; echo $? >"$WORK/$name.rc" ) &
  PIDS+=($!)
}
# wait_rc NAME SECONDS: waits for NAME to end (at most SECONDS); prints its exit status or
# "running" when it did not end in time.
wait_rc() {
  local deadline=$((SECONDS + $2))
  while [ ! -s "$WORK/$1.rc" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if [ -s "$WORK/$1.rc" ]; then cat "$WORK/$1.rc"; else echo running; fi
}
# wait_for FILE TEXT SECONDS: waits until FILE contains TEXT; fails the test when it does not.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && { fail "'$2' never appeared in $1"; return 1; }
    sleep 0.1
  done
}
# pid_of NAME: the tierbench process started as NAME (child of the recorded subshell).
pid_of() { pgrep -P "$1" -x tierbench | head -1; }
# launched_check NAME WHAT LAUNCHER CMD...: CMD (a launcher's command line for 2 ranks, e.g.
# `mpirun -np 2`) starts `tierbench cluster-check`; both ranks pass and report, and the
# ranks name LAUNCHER (as `cluster.launcher` spells it) as what started them.
launched_check() {
  local name="$1" what="$2" launcher="$3" r
  shift 3
  ( "$@" "$TB_BIN" cluster-check --rounds 5 --world-timeout 60 >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc" ) &
  PIDS+=($!)
  expect_eq "$(wait_rc "$name" 150)" 0 "$what: both ranks pass"
  for r in 0 1; do expect_contains "$(cat "$WORK/$name.out")" "rank $r/2" "$what: rank $r reports"; done
  expect_contains "$(cat "$WORK/$name.err")" "launcher $launcher" "$what: the launcher is $launcher"
}
# launched_run NAME WHAT SEED CMD...: CMD (as for launched_check) runs the inplace scenario
# with barriers (upload and train off) on a small generated dataset; both ranks exit 0, rank
# 0's merged results and rank 1's own are ok.
launched_run() {
  local name="$1" what="$2" seed="$3" r res
  shift 3
  "$TB_BIN" dataset generate --out "$WORK/ds-$name" --train-files 2 --images-per-file 200 --test-images 100 \
    --seed "$seed" --tarball none >/dev/null || { fail "$what: dataset generate"; return; }
  ( "$@" "$TB_BIN" run --scenario inplace --dataset-dir "$WORK/ds-$name" --scratch "$WORK/scratch-$name" \
      --out "$WORK/runs/$name.json" --skip upload,train --world-timeout 120 >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc" ) &
  PIDS+=($!)
  expect_eq "$(wait_rc "$name" 330)" 0 "$what: both ranks exit 0"
  for r in 0 1; do
    res="$WORK/runs/$name.rank$r.json"
    [ "$r" = 0 ] && res="$WORK/runs/$name.json"  # rank 0: the merged results
    if [ -f "$res" ]; then
      expect_eq "$("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['status'])" "$res")" ok \
        "$what: rank $r's results are ok"
    else
      fail "$what: rank $r wrote no results"
    fi
  done
}
