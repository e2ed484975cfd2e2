#!/usr/bin/env bash
# Outputs never overwrite inputs. Every output path of every verb (run's --out, --log,
# --preview-out, --model-dir, --scratch; preview --out; compare --svg/--html; train
# --model-dir; cp's DST) is pointed at an input of that command: the job file, the manifest,
# the origin tarball, a dataset file, a new path inside the in-place dataset folder. Each must
# exit 2 before any stage runs, name the flag's key and the path, and leave every input's md5
# as it was. Local files only: no service needed.
source "$(dirname "$0")/lib.sh"
make_dataset "$WORK/data"
data="$WORK/data/cifar-10-batches-py"
manifest="$WORK/data/cifar-10-batches-py.md5"
tarball="$WORK/data/cifar-10-python.tar.gz"
batch="$data/data_batch_1"
fresh="$data/new-output"

cat > "$WORK/inplace.toml" <<EOF
label = "inplace"
scenario = "inplace"
scratch = "$WORK/scratch-inplace"
[inplace]
dir = "$data"
[train]
epochs = 1
max_steps = 2
[stages]
upload = false
train = false
EOF
cat > "$WORK/staged.toml" <<EOF
label = "staged"
scenario = "staged"
scratch = "$WORK/scratch-staged"
[origin]
url = "$tarball"
[stages]
upload = false
train = false
EOF

inputs=("$WORK/inplace.toml" "$WORK/staged.toml" "$manifest" "$tarball" "$tarball.md5" "$batch"
        "$data/test_batch" "$data/batches.meta")
sums() { md5sum "${inputs[@]}"; find "$data" | sort; }
before=$(sums)

# refused NAME EXPECTED... -- CMD...: CMD must exit 2 with every EXPECTED string in its stderr,
# every input unchanged, nothing new in the dataset folder and no scratch created.
refused() {
  local name=$1; shift
  local expected=()
  while [ "$1" != "--" ]; do expected+=("$1"); shift; done
  shift
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt"
  local rc=$? err
  err=$(cat "$WORK/err.txt")
  expect_eq "$rc" 2 "$name: exit 2 ($(head -c 300 "$WORK/err.txt"))"
  for e in "${expected[@]}"; do expect_contains "$err" "$e" "$name: message names $e"; done
  expect_eq "$(sums)" "$before" "$name: inputs unchanged"
  if [ -e "$WORK/scratch-inplace" ] || [ -e "$WORK/scratch-staged" ]; then
    fail "$name: a scratch folder was created: a stage ran"
    rm -rf "$WORK/scratch-inplace" "$WORK/scratch-staged"
  fi
}

echo "-- run: results, log and preview over each input"
for flag in out log preview-out; do
  key=$flag; [ "$flag" = preview-out ] && key=preview.out
  for target in "$WORK/inplace.toml" "$manifest" "$batch" "$fresh"; do
    refused "run --$flag $(basename "$target")" "key '$key'" "'$target'" -- \
      "$TB_BIN" run --config "$WORK/inplace.toml" "--$flag" "$target"
  done
  refused "run --$flag the origin tarball" "key '$key'" "'$tarball'" "origin.url" -- \
    "$TB_BIN" run --config "$WORK/staged.toml" "--$flag" "$tarball"
  refused "run --$flag the tarball's .md5" "key '$key'" "origin.md5_file" -- \
    "$TB_BIN" run --config "$WORK/staged.toml" "--$flag" "$tarball.md5"
done
# The same through a symlink to the job file, and a dangling symlink into the dataset.
ln -s "$WORK/inplace.toml" "$WORK/link.json"
refused "run --out symlink to the job file" "key 'out'" "the job file" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --out "$WORK/link.json"
ln -s "$data/created-through-link" "$WORK/dangling.log"
refused "run --log dangling symlink into the dataset" "key 'log'" "lies inside" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --log "$WORK/dangling.log"

echo "-- run: model folder and scratch inside the dataset, results over the log"
refused "run --model-dir the dataset folder" "key 'train.model_dir'" "'$data'" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --set stages.train=true --model-dir "$data"
refused "run --model-dir inside the dataset" "key 'train.model_dir'" "'$data/model'" "lies inside" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --set stages.train=true --model-dir "$data/model"
refused "run --scratch inside the dataset" "key 'scratch'" "'$data/scratch'" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --scratch "$data/scratch"
mkdir -p "$WORK/runs"
refused "run --out an existing folder" "key 'out'" "is a folder" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --out "$WORK/runs"
refused "run --out same as --log" "key 'log'" "is also" "key 'out'" -- \
  "$TB_BIN" run --config "$WORK/inplace.toml" --out "$WORK/r.json" --log "$WORK/r.json"
# Staged: results inside the extraction folder the run empties; origin inside it.
refused "run --out inside scratch/extract" "key 'out'" "extract" -- \
  "$TB_BIN" run --config "$WORK/staged.toml" --out "$WORK/scratch-x/extract/r.json" --scratch "$WORK/scratch-x"
mkdir -p "$WORK/s2/extract" && cp "$tarball" "$WORK/s2/extract/" && inputs+=("$WORK/s2/extract/cifar-10-python.tar.gz")
before=$(sums)
refused "run origin inside scratch/extract" "key 'scratch'" "contains" "origin.url" -- \
  "$TB_BIN" run --config "$WORK/staged.toml" --scratch "$WORK/s2" --origin "$WORK/s2/extract/cifar-10-python.tar.gz" \
  --md5 "$(cut -c1-32 "$tarball.md5")"
mkdir -p "$WORK/scratch-copy" && cp "$tarball" "$WORK/scratch-copy/"
refused "run origin is the scratch copy" "key 'scratch' (the tarball's copy)" "origin.url" -- \
  "$TB_BIN" run --config "$WORK/staged.toml" --scratch "$WORK/scratch-copy" --origin "$WORK/scratch-copy/cifar-10-python.tar.gz"
rm -rf "$WORK/scratch-copy"
refused "run uploading over its own s3:// origin" "key 'upload.dest'" "origin.url" -- \
  "$TB_BIN" run --scenario staged --origin "s3://tb-outputs-test/p/cifar-10-batches-py/cifar-10-python.tar.gz" \
  --md5 "$(cut -c1-32 "$tarball.md5")" --upload-to "s3://tb-outputs-test/p/" --scratch "$WORK/scratch-staged" \
  --endpoint-url http://127.0.0.1:9 --skip train

echo "-- the same job with its outputs elsewhere runs (and writes them)"
"$TB_BIN" run --config "$WORK/inplace.toml" --out "$WORK/ok.json" >"$WORK/ok.out" 2>"$WORK/ok.err"
expect_eq "$?" 0 "inplace run with outputs beside the data exits 0 ($(tail -2 "$WORK/ok.err"))"
expect_eq "$(json "$WORK/ok.json" "d['status']")" ok "results written"
[ -s "$WORK/ok.log" ] && [ -s "$WORK/ok-preview.png" ] && pass "log and preview written" || fail "log or preview missing"
[ ! -e "$WORK/ok.json.lock" ] && [ ! -e "$WORK/scratch-inplace/.tierbench.lock" ] && pass "locks released" \
  || fail "lock files left after the run"
rm -rf "$WORK/scratch-inplace"
expect_eq "$(sums)" "$before" "a normal run leaves its inputs unchanged"

echo "-- preview, compare, train, cp"
refused "preview --out a dataset file" "--out" "'$batch'" -- "$TB_BIN" preview --data "$WORK/data" --out "$batch"
refused "preview --out inside the dataset" "--out" "'$fresh'" "lies inside" -- \
  "$TB_BIN" preview --data "$data" --out "$fresh"
cp "$WORK/ok.json" "$WORK/b.json"
inputs+=("$WORK/ok.json" "$WORK/b.json")
before=$(sums)
refused "compare --svg an input" "--svg" "'$WORK/b.json'" -- "$TB_BIN" compare "$WORK/ok.json" "$WORK/b.json" --svg "$WORK/b.json"
refused "compare --html an input" "--html" "'$WORK/ok.json'" -- "$TB_BIN" compare "$WORK/ok.json" --html "$WORK/ok.json"
refused "compare --html same as --svg" "--html" "is also" -- \
  "$TB_BIN" compare "$WORK/ok.json" --svg "$WORK/c.out" --html "$WORK/c.out"
refused "train --model-dir the dataset folder" "--model-dir" "'$data'" -- \
  "$TB_BIN" train --data "$WORK/data" --model-dir "$data" --epochs 1 --max-steps 1 --no-evaluate --no-progress
mkdir -p "$WORK/models" && cp "$tarball" "$WORK/models/model.pth"
inputs+=("$WORK/models/model.pth")
before=$(sums)
refused "train --resume the model it writes" "--model-dir (model.pth)" "--resume" -- \
  "$TB_BIN" train --data "$WORK/data" --model-dir "$WORK/models" --resume "$WORK/models/model.pth" --epochs 1 \
  --max-steps 1 --no-evaluate --no-progress
refused "cp a file onto itself" "DST" "'$tarball'" -- "$TB_BIN" cp "$tarball" "$tarball"
refused "cp a file into its own folder" "DST" "SRC" -- "$TB_BIN" cp "$tarball" "$WORK/data/"
ln -s "$tarball" "$WORK/tar-link"
refused "cp through a symlink onto the source" "DST" "SRC" -- "$TB_BIN" cp "$tarball" "$WORK/tar-link"
refused "cp --recursive into the source" "DST" "lies inside" -- "$TB_BIN" cp --recursive "$data" "$data/copy"
refused "cp --recursive onto the source" "DST" "SRC" -- "$TB_BIN" cp --recursive "$data" "$WORK/data/../data/cifar-10-batches-py"
mkdir -p "$WORK/nest/sub/sub" && echo inner > "$WORK/nest/sub/sub/f" && echo outer > "$WORK/nest/sub/f"
inputs+=("$WORK/nest/sub/sub/f" "$WORK/nest/sub/f")
before=$(sums)
refused "cp --recursive whose copies land on the source" "DST" "over SRC" -- \
  "$TB_BIN" cp --recursive "$WORK/nest/sub" "$WORK/nest"
"$TB_BIN" cp --recursive "$data" "$WORK/copy" >/dev/null 2>"$WORK/cp.err"
expect_eq "$?" 0 "cp --recursive to a fresh folder still works ($(tail -1 "$WORK/cp.err"))"
finish
