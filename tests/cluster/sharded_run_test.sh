#!/usr/bin/env bash
# pipeline.distribution = "sharded" on 2 ranks started by torchrun-style variables: the
# inplace scenario (train included) and the staged one (upload and train off). Rank 0 writes
# the merged results to --out and rank 1 its own beside them; verify's per-rank parts add up
# to the dataset's files, each rank hashing a disjoint share; sharded training gives each rank
# its own batch files without splitting them again; staged, the host's local rank 0 downloads
# and extracts once and rank 1 uses that copy.
source "$(dirname "$0")/lib.sh"
need_cluster_plugin

"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 3 --images-per-file 40 --test-images 20 --seed 11 \
  >/dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
manifest="$WORK/ds/cifar-10-batches-py.md5"
files=$(grep -c . "$manifest")

# rank_run NAME OUT ARGS...: both ranks of one run; waits for them.
rank_run() {
  local name="$1" out="$2"
  shift 2
  local port
  port=$(free_port)
  for r in 0 1; do
    start "$name-$r" RANK=$r WORLD_SIZE=2 LOCAL_RANK=$r LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      -- run --out "$out" --set pipeline.distribution=sharded --world-timeout 120 --no-progress "$@"
  done
  for r in 0 1; do expect_eq "$(wait_rc "$name-$r" 300)" 0 "$name: rank $r exits 0"; done
}

# check_verify NAME MERGED RANK1: the merged verify's parts and both ranks' shares.
check_verify() {
  "$PY" - "$1" "$2" "$3" "$manifest" <<'PY'
import json, sys
name, merged_path, rank1_path, manifest = sys.argv[1:]
merged, rank1 = json.load(open(merged_path)), json.load(open(rank1_path))
listed = sorted(line.split(None, 1)[1].strip() for line in open(manifest) if line.strip())
bad = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + name + ": " + what, file=sys.stdout if cond else sys.stderr)
    if not cond: bad.append(what)
check(merged["status"] == "ok", "the merged run is ok")
check(merged.get("world_size") == 2, "merged world_size is 2")
check(merged.get("launcher") == "env", "merged launcher is env")
check([r["rank"] for r in merged.get("ranks", [])] == [0, 1], "merged ranks are 0 and 1")
check("world_size" not in rank1, "rank 1's own results are not merged")
verify = [s for s in merged["stages"] if s["name"] == "verify"][0]
parts = verify.get("ranks", [])
check(len(parts) == 2 and all(p["status"] == "ok" and p["files"] > 0 for p in parts), "verify: both ranks hashed files")
check(sum(p["files"] for p in parts) == len(listed), "verify: the parts' files sum to the manifest's %d" % len(listed))
check(verify["files"] == len(listed), "verify: the merged stage counts every file once")
check(verify.get("slowest_rank") in (0, 1), "verify: names its slowest rank")
shares = [verify["detail"]["share"],
          [s for s in rank1["stages"] if s["name"] == "verify"][0]["detail"]["share"]]
check([s["index"] for s in shares] == [0, 1] and all(s["count"] == 2 for s in shares), "verify: shares 0/2 and 1/2")
a, b = set(shares[0]["names"]), set(shares[1]["names"])
check(not (a & b), "verify: the ranks hashed disjoint files")
check(sorted(a | b) == listed, "verify: together they hashed the manifest")
sys.exit(1 if bad else 0)
PY
}

# Inplace, train on: each rank trains on its own batch files (2 and 1 of 3), unsplit.
rank_run inplace "$WORK/runs/i.json" --scenario inplace --dataset-dir "$WORK/ds" --scratch "$WORK/scratch-i" \
  --skip upload,preview --epochs 1 --threads 1 --workers 0
if [ -f "$WORK/runs/i.json" ] && [ -f "$WORK/runs/i.rank1.json" ]; then
  check_verify inplace "$WORK/runs/i.json" "$WORK/runs/i.rank1.json" || failures=$((failures + 1))
  train=$("$PY" - "$WORK/runs/i.json" "$WORK/runs/i.rank1.json" <<'PY'
import json, sys
d = [[s for s in json.load(open(p))["stages"] if s["name"] == "train"][0] for p in sys.argv[1:]]
print(d[0]["status"], d[1]["status"], sorted(len(s["detail"]["shard_files"]) for s in d),
      d[0]["detail"]["sample_split"], d[0]["detail"]["rank_images"], d[1]["detail"]["rank_images"],
      d[0]["detail"]["steps"] == d[1]["detail"]["steps"], bool(d[0]["detail"]["model"]), bool(d[1]["detail"]["model"]),
      sorted(s["detail"]["train_images"] for s in d))
PY
)
  expect_eq "$train" "ok ok [1, 2] files 80 80 True True False [40, 80]" \
    "inplace: sharded training: own files (2 and 1), no second split, equal steps, model on rank 0"
else
  fail "inplace: no merged results at runs/i.json or no runs/i.rank1.json"
fi
[ -f "$WORK/runs/i.rank0.json" ] && fail "inplace: rank 0 wrote a .rank0 results file"
expect_contains "$(cat "$WORK/runs/i.rank1.log")" "stage verify end status=ok" "inplace: rank 1 has its own log"

# Staged, upload and train off: download, integrity and extract once on the host (local rank 0).
rank_run staged "$WORK/runs/s.json" --scenario staged --origin "$WORK/ds/cifar-10-python.tar.gz" \
  --scratch "$WORK/scratch-s" --skip upload,train
if [ -f "$WORK/runs/s.json" ] && [ -f "$WORK/runs/s.rank1.json" ]; then
  check_verify staged "$WORK/runs/s.json" "$WORK/runs/s.rank1.json" || failures=$((failures + 1))
  staged=$("$PY" - "$WORK/runs/s.json" <<'PY'
import json, sys
d = {s["name"]: s for s in json.load(open(sys.argv[1]))["stages"]}
print(*[(n, [p["status"] for p in d[n]["ranks"]], d[n]["ranks"][0]["bytes"] > 0, d[n]["ranks"][1]["bytes"])
        for n in ("download", "extract")])
PY
)
  expect_eq "$staged" "('download', ['ok', 'ok'], True, 0) ('extract', ['ok', 'ok'], True, 0)" \
    "staged: download and extract ran once, on rank 0; rank 1 used its copy"
else
  fail "staged: no merged results at runs/s.json or no runs/s.rank1.json"
fi
[ -d "$WORK/scratch-s/rank0/extract/cifar-10-batches-py" ] || fail "staged: rank 0 extracted nothing in its scratch"
[ -d "$WORK/scratch-s/rank1/extract" ] && fail "staged: rank 1 extracted a second copy"
expect_contains "$(cat "$WORK/runs/s.rank0.log")" "several ranks: download..verify run in order, once per host" \
  "staged: the log says why the streamed pass is off"
finish
