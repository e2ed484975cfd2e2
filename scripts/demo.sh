#!/usr/bin/env bash
# The demo: the reference architecture's pipeline, end to end, on local defaults.
#  1. installs dependencies (Debian packages; TB_SKIP_INSTALL=1 skips) and builds tierbench;
#  2. starts nginx (HTTP origin), a one-node Ceph RGW (S3) and, where FUSE allows, CephFS;
#  3. generates an augmented CIFAR-10 in the reference architecture's 1,283-file layout (1,280 training files),
#     publishes its tarball, .md5 and manifest on the origin, and unpacks a copy onto the
#     shared filesystem (CephFS, or a local folder without FUSE);
#  4. runs scenario "staged" (origin -> NVMe scratch -> S3 -> train from S3 in File mode),
#     scenario "streamed" (the dataset already in S3, read in FastFile mode: objects fetched on
#     demand, nothing staged) and scenario "inplace" (train where the data lies), then prints
#     the three-column comparison with the break-even row (when staging pays off).
# Knobs: TB_DEMO_IMAGES_PER_FILE (default 10), TB_DEMO_EPOCHS (2), TB_DEMO_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ "${TB_SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh
scripts/build.sh
TB="$PWD/${TB_BUILD_DIR:-build}/tierbench"
DEMO="${TB_DEMO_DIR:-/tmp/tierbench-demo}"
PER_FILE="${TB_DEMO_IMAGES_PER_FILE:-10}"
EPOCHS="${TB_DEMO_EPOCHS:-2}"

services="$root/scripts/services.sh"  # absolute: the EXIT trap must work from any directory
started=0
cleanup() { [ "$started" = 1 ] && [ "${TB_KEEP_SERVICES:-0}" != 1 ] && "$services" down >/dev/null || true; }
trap cleanup EXIT
if ! "$services" status >/dev/null 2>&1; then
  started=1
  "$services" up
fi
# shellcheck disable=SC1090
source "${TB_SERVICES_DIR:-/tmp/tierbench-services}/services.env"

echo "== generating the dataset (1,283 files, $PER_FILE images per training file)"
rm -rf "$DEMO/data"
"$TB" dataset generate --out "$DEMO/data" --preset seed-1283 --images-per-file "$PER_FILE" \
  --test-images 2000 --seed 7
origin_dir="$TB_HTTP_ROOT/cifar"
mkdir -p "$origin_dir"
cp "$DEMO/data/cifar-10-python.tar.gz" "$DEMO/data/cifar-10-python.tar.gz.md5" \
  "$DEMO/data/cifar-10-batches-py.md5" "$origin_dir/"

shared="${TB_CEPHFS_MOUNT:-$DEMO/shared}"
shared_label="CephFS (in place)"
[ -n "${TB_CEPHFS_MOUNT:-}" ] || shared_label="local dir (in place)"
echo "== placing the unpacked dataset on the shared filesystem: $shared"
rm -rf "$shared/cifar" && mkdir -p "$shared/cifar"
cp -r "$DEMO/data/cifar-10-batches-py" "$DEMO/data/cifar-10-batches-py.md5" "$shared/cifar/"

mkdir -p runs/demo
common=(--endpoint-url "$TB_S3_ENDPOINT" --epochs "$EPOCHS" --seed 1)
echo "== scenario staged: S3 + local NVMe"
"$TB" run --label "S3+NVMe" --scenario staged --scratch "$DEMO/scratch-staged" \
  --origin "$TB_HTTP_ORIGIN/cifar/cifar-10-python.tar.gz" \
  --upload-to "s3://tierbench-demo/staged" --create-bucket --out runs/demo/staged.json "${common[@]}"
echo "== scenario streamed: S3 FastFile (the dataset placed in S3 first, not timed)"
"$TB" cp --recursive --create-bucket --no-progress "$DEMO/data/cifar-10-batches-py" \
  "s3://tierbench-demo/dataset/cifar-10-batches-py" --endpoint-url "$TB_S3_ENDPOINT" > /dev/null
"$TB" run --label "S3 FastFile" --scenario streamed --scratch "$DEMO/scratch-streamed" \
  --dataset-uri "s3://tierbench-demo/dataset/cifar-10-batches-py" \
  --manifest "$DEMO/data/cifar-10-batches-py.md5" --out runs/demo/streamed.json "${common[@]}"
echo "== scenario inplace: $shared_label"
"$TB" run --label "$shared_label" --scenario inplace --scratch "$DEMO/scratch-inplace" \
  --dataset-dir "$shared/cifar/cifar-10-batches-py" \
  --upload-to "s3://tierbench-demo/inplace" --create-bucket --out runs/demo/inplace.json "${common[@]}"
echo "== comparison"
"$TB" compare runs/demo/staged.json runs/demo/streamed.json runs/demo/inplace.json \
  --svg runs/demo/compare.svg --html runs/demo/compare.html
echo "chart: runs/demo/compare.svg   page: runs/demo/compare.html"
