#!/usr/bin/env bash
# The streamed scenario (dataset in S3, no local copy) on 2 ranks started by torchrun-style
# variables, in input modes fastfile and pipe against Ceph RGW. verify and pickled: each rank
# hashes its share of the manifest over GET (disjoint shares, together exactly the manifest)
# and decodes the batch files of that share from those bytes, so the cluster GETs each object
# once across both stages. Training: each rank reads its share of
# every epoch's file order (6 training files: 3 each), so together the ranks read every
# training byte exactly once per epoch (the transport's counters in each rank's train detail),
# take the same number of steps and end with bit-identical weights, the same in both modes. Needs RGW
# (scripts/services.sh; skip 77, a failure with TB_REQUIRE_SERVICES=1) and the c10d plugin.
source "$(dirname "$0")/lib.sh"
need_cluster_plugin
[ -n "${TB_S3_ENDPOINT:-}" ] || skip "TB_S3_ENDPOINT not set (run scripts/services.sh up)"
AWS=/usr/bin/aws
[ -x "$AWS" ] || skip "Debian's awscli (/usr/bin/aws) is not installed"

"$TB_BIN" dataset generate --out "$WORK/ds" --train-files 6 --images-per-file 12 --test-images 20 --seed 9 \
  --tarball none > /dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
bucket="streamed-ranks-$$-$RANDOM"
uri="s3://$bucket/in/cifar-10-batches-py"
"$AWS" --endpoint-url "$TB_S3_ENDPOINT" s3 mb "s3://$bucket" > /dev/null || skip "cannot create a bucket on $TB_S3_ENDPOINT"
# shellcheck disable=SC2016  # expanded when cleanup runs
AT_EXIT+=('"$AWS" --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$bucket" > /dev/null 2>&1')
for f in cifar-10-batches-py cifar-10-batches-py.md5; do
  [ -d "$WORK/ds/$f" ] && r=--recursive || r=
  # shellcheck disable=SC2086
  "$TB_BIN" cp $r "$WORK/ds/$f" "s3://$bucket/in/$f" > /dev/null 2>&1 || { echo "FAIL: uploading $f" >&2; exit 1; }
done
sizes=$("$AWS" --endpoint-url "$TB_S3_ENDPOINT" s3 ls "$uri/" | awk '$4 ~ /^data_batch_/ {s += $3} END {print s}')

for mode in fastfile pipe; do
  port=$(free_port)
  for r in 0 1; do
    start "$mode-$r" RANK=$r WORLD_SIZE=2 LOCAL_RANK=$r LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT="$port" \
      -- run --scenario streamed --dataset-uri "$uri" --endpoint-url "$TB_S3_ENDPOINT" --input-mode "$mode" \
      --scratch "$WORK/scratch-$mode-$r" --out "$WORK/runs/$mode.json" --epochs 2 --batch-size 4 \
      --seed 11 --threads 1 --workers 0 --no-progress --world-timeout 120
  done
  for r in 0 1; do expect_eq "$(wait_rc "$mode-$r" 300)" 0 "$mode: rank $r exits 0"; done
  "$PY" - "$mode" "$WORK/runs/$mode.json" "$WORK/runs/$mode.rank1.json" "$sizes" "$WORK/ds/cifar-10-batches-py.md5" \
    <<'PY' || failures=$((failures + 1))
import json, sys
mode, merged_path, rank1_path, sizes, manifest = sys.argv[1:]
bad = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + mode + ": " + what, file=sys.stdout if cond else sys.stderr)
    if not cond: bad.append(what)
runs = [json.load(open(merged_path)), json.load(open(rank1_path))]
check(runs[0]["status"] == "ok" and runs[0].get("world_size") == 2, "the merged run is ok, world size 2")
train = [[s for s in d["stages"] if s["name"] == "train"][0]["detail"] for d in runs]
check(all(t["input_mode"] == mode for t in train), "both ranks train in %s mode" % mode)
md5 = [t["weights_md5"] for t in train]
check(md5[0] == md5[1] and len(md5[0]) == 32, "weights identical on both ranks (%s)" % md5[0])
check(train[0]["steps"] == train[1]["steps"] == 2 * 9, "both ranks take 9 steps an epoch (36 images of 4)")
gets = [t["input_gets_per_epoch"] for t in train]
check(gets == [[3, 3], [3, 3]], "each rank GETs its 3 training files an epoch: %s" % gets)
per_epoch = [a + b for a, b in zip(*[t["input_bytes_per_epoch"] for t in train])]
check(per_epoch == [int(sizes)] * 2, "together every training byte once an epoch: %s of %s" % (per_epoch, sizes))
check([t["rank_images"] for t in train] == [36, 36], "each rank trains on 36 images an epoch")
listed = sorted(line.split(None, 1)[1].strip() for line in open(manifest) if line.strip())
stage = lambda d, name: [s for s in d["stages"] if s["name"] == name][0]
verify = [stage(d, "verify")["detail"] for d in runs]
shares = [set(v["share"]["names"]) for v in verify]
check(not (shares[0] & shares[1]) and sorted(shares[0] | shares[1]) == listed,
      "verify: disjoint shares, together exactly the manifest's %d files" % len(listed))
check(sum(v["gets"] for v in verify) == len(listed), "verify: one GET per manifest file across the ranks")
pickled = [stage(d, "pickled") for d in runs]
batches = [n for n in listed if n.rsplit("/", 1)[-1].startswith(("data_batch_", "test_batch"))]
parts = [p["files"] for p in stage(runs[0], "pickled")["ranks"]]
check(sum(parts) == len(batches) and all(parts), "pickled: the ranks' parts %s decode the %d batch files once" % (parts, len(batches)))
check([p["detail"]["gets"] for p in pickled] == [0, 0] and all(p["detail"]["read_from"] == "verify's read" for p in pickled),
      "pickled: no GET of its own on either rank (verify's bytes)")
check(stage(runs[0], "pickled")["files"] == len(batches), "merged pickled counts every batch file once")
preview = stage(runs[0], "preview")
check(preview["status"] == "ok" and preview["detail"].get("images_from", "").startswith("test split"),
      "preview on rank 0 from the tier (%s)" % preview["detail"].get("images_from"))
open(merged_path + ".md5", "w").write(md5[0])
sys.exit(1 if bad else 0)
PY
done
expect_eq "$(cat "$WORK/runs/pipe.json.md5" 2>/dev/null)" "$(cat "$WORK/runs/fastfile.json.md5" 2>/dev/null)" \
  "pipe and fastfile (same seed, same file order) give the same weights"
finish
