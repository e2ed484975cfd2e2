#!/usr/bin/env bash
# Disk full: scratch / destination on a 64 MiB filesystem (scripts/services.sh smallfs).
# `tierbench run` whose download or extract does not fit, and `tierbench cp` (local and HTTP
# sources) to it, must fail with exit 1 and an error that names the file and says the space
# ran out; no temporary file and no partial file under its final name may be left behind.
source "$(dirname "$0")/lib.sh"
need_env TB_HTTP_ORIGIN TB_HTTP_ROOT
if [ "$(id -u)" != 0 ]; then
  [ "${TB_REQUIRE_ROOT:-0}" = 1 ] && { echo "FAIL: smallfs needs root (mount), TB_REQUIRE_ROOT=1" >&2; exit 1; }
  echo "skipping: smallfs needs root (mount)"; exit 77
fi
SERVICES="$TB_SOURCE_DIR/scripts/services.sh"
mnt=$("$SERVICES" smallfs 64M) || { fail "smallfs 64M"; finish; }
trap '"$SERVICES" smallfs-rm "$mnt" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
id="disk-$$-$RANDOM"
mkdir -p "$TB_HTTP_ROOT/$id"
head -c $((100 << 20)) /dev/urandom > "$TB_HTTP_ROOT/$id/cifar-10-python.tar.gz"
big_md5=$(md5_of "$TB_HTTP_ROOT/$id/cifar-10-python.tar.gz")
# A tarball that fits (100 KiB compressed) but expands to 96 MiB.
mkdir -p "$WORK/bomb/cifar-10-batches-py"
head -c $((96 << 20)) /dev/zero > "$WORK/bomb/cifar-10-batches-py/data_batch_1"
tar -C "$WORK/bomb" -czf "$TB_HTTP_ROOT/$id/small.tar.gz" cifar-10-batches-py
rm -rf "$WORK/bomb"
enospc() {  # NAME ERR FILE-SUBSTRING
  expect_contains "$2" "$3" "$1: error names the file"
  if grep -qiE 'no space left|ENOSPC|space' <<< "$2"; then pass "$1: error says the space ran out"
  else fail "$1: error does not say the space ran out: $2"; fi
}
leftovers() {  # NAME FINAL-NAME
  expect_no_temp "$mnt" "$1"
  [ -z "$(find "$mnt" -name "$2" -type f)" ] && pass "$1: no partial '$2' under its final name" \
    || fail "$1: a partial '$2' is left under its final name"
  rm -rf "${mnt:?}"/*
}

# 1. run: the download does not fit
"$TB_BIN" run --origin "$TB_HTTP_ORIGIN/$id/cifar-10-python.tar.gz" --md5 "$big_md5" --scratch "$mnt/scratch" \
  --out "$WORK/dl.json" --skip verify,pickled,meta,upload,preview,train >/dev/null 2>"$WORK/dl.err"
expect_rc $? 1 "run with a download larger than scratch"
err=$(cat "$WORK/dl.err")
expect_contains "$err" "stage download" "download full: error names the stage"
enospc "download full" "$err" "$mnt/scratch"
expect_eq "$(stage "$WORK/dl.json" download status)" failed "download full: stage failed in the JSON"
leftovers "download full" cifar-10-python.tar.gz

# 2. run: the tarball fits, its contents do not
"$TB_BIN" run --origin "$TB_HTTP_ORIGIN/$id/small.tar.gz" --md5 "$(md5_of "$TB_HTTP_ROOT/$id/small.tar.gz")" \
  --scratch "$mnt/scratch" --out "$WORK/ex.json" --skip verify,pickled,meta,upload,preview,train \
  >/dev/null 2>"$WORK/ex.err"
expect_rc $? 1 "run with contents larger than scratch"
err=$(cat "$WORK/ex.err")
expect_contains "$err" "stage extract" "extract full: error names the stage"
enospc "extract full" "$err" "cifar-10-batches-py/data_batch_1"
leftovers "extract full" data_batch_1

# 3. cp from a local file and from HTTP
"$TB_BIN" cp "$TB_HTTP_ROOT/$id/cifar-10-python.tar.gz" "$mnt/copy.bin" >/dev/null 2>"$WORK/cp.err"
expect_rc $? 1 "cp local -> full disk"
enospc "cp local" "$(cat "$WORK/cp.err")" "$mnt/copy.bin"
leftovers "cp local" copy.bin
"$TB_BIN" cp "$TB_HTTP_ORIGIN/$id/cifar-10-python.tar.gz" "$mnt/copy.bin" >/dev/null 2>"$WORK/cph.err"
expect_rc $? 1 "cp http -> full disk"
enospc "cp http" "$(cat "$WORK/cph.err")" "$mnt/copy.bin"
leftovers "cp http" copy.bin
rm -rf "${TB_HTTP_ROOT:?}/$id"
finish
