#!/usr/bin/env bash
# Interop of the dataset tools with real peers: coreutils md5sum, GNU tar, Python pickle +
# numpy (protocols 2-5, str and bytes keys), torchvision.datasets.CIFAR10; plus determinism
# of `tierbench dataset generate` across thread counts and refusal of malicious pickles.
set -euo pipefail
TB_BIN="${TB_BIN:?TB_BIN must point at the tierbench binary}"
PY=/usr/bin/python3
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d /tmp/tb-dataset-interop.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== generate (1 and 2 threads) is byte-identical"
"$TB_BIN" dataset generate --out "$work/a" --train-files 3 --images-per-file 1000 --test-images 500 --seed 7 --threads 1 >/dev/null
"$TB_BIN" dataset generate --out "$work/b" --train-files 3 --images-per-file 1000 --test-images 500 --seed 7 --threads 2 >/dev/null
cmp "$work/a/cifar-10-python.tar.gz" "$work/b/cifar-10-python.tar.gz" || fail "tarballs differ across thread counts"
cmp "$work/a/cifar-10-batches-py.md5" "$work/b/cifar-10-batches-py.md5" || fail "manifests differ"

echo "== md5sum -c accepts the manifest and the tarball .md5"
(cd "$work/a" && md5sum --quiet -c cifar-10-batches-py.md5) || fail "md5sum -c manifest"
(cd "$work/a" && md5sum --quiet -c cifar-10-python.tar.gz.md5) || fail "md5sum -c tarball"
[ "$(wc -l < "$work/a/cifar-10-batches-py.md5")" = 6 ] || fail "manifest should list 6 files"

echo "== GNU tar extracts the same bytes"
mkdir "$work/x"
tar -xzf "$work/a/cifar-10-python.tar.gz" -C "$work/x"
diff -r "$work/x/cifar-10-batches-py" "$work/a/cifar-10-batches-py" || fail "tar extraction differs"
tar -tvzf "$work/a/cifar-10-python.tar.gz" | awk '{print $2}' | sort -u | grep -qx "root/root" || fail "owner not root/root"
[ "$(tar -tzf "$work/a/cifar-10-python.tar.gz" | head -1)" = "cifar-10-batches-py/" ] || fail "first member"

echo "== tierbench dataset verify: OK lines, then FAILED + exit 1 on a corrupted file"
out="$("$TB_BIN" dataset verify --manifest "$work/a/cifar-10-batches-py.md5" 2>/dev/null)"
[ "$(grep -c ': OK$' <<<"$out")" = 6 ] || fail "verify output: $out"
printf 'X' | dd of="$work/a/cifar-10-batches-py/data_batch_2" bs=1 seek=5000 conv=notrunc status=none
rm "$work/a/cifar-10-batches-py/readme.html"
set +e
out="$("$TB_BIN" dataset verify --manifest "$work/a/cifar-10-batches-py.md5" 2>/dev/null)"; rc=$?
set -e
[ $rc = 1 ] || fail "verify should exit 1, got $rc"
grep -qx "cifar-10-batches-py/data_batch_2: FAILED" <<<"$out" || fail "no FAILED line: $out"
grep -q "cifar-10-batches-py/readme.html: FAILED" <<<"$out" || fail "missing file not reported: $out"

echo "== Python pickle (protocols 2-5, str and bytes keys, list and int64 labels) decodes identically"
"$PY" - "$work/py" <<'PYEOF'
import hashlib, json, os, pickle, sys
import numpy as np
out = sys.argv[1]
os.makedirs(out)
rng = np.random.default_rng(3)
data = rng.integers(0, 256, size=(37, 3072), dtype=np.uint8)
labels = [int(x) for x in rng.integers(0, 10, size=37)]
expect = {}
for proto in (2, 3, 4, 5):
    for keys in ("str", "bytes"):
        for lab in ("list", "int64"):
            k = (lambda s: s) if keys == "str" else (lambda s: s.encode())
            d = {k("batch_label"): "training batch 1 of 1", k("labels"): labels if lab == "list" else np.array(labels, dtype=np.int64),
                 k("data"): data, k("filenames"): [f"f{i}.png" for i in range(37)]}
            name = f"p{proto}_{keys}_{lab}"
            with open(os.path.join(out, name), "wb") as f:
                pickle.dump(d, f, protocol=proto)
            expect[name] = {"pixels_md5": hashlib.md5(data.tobytes()).hexdigest(),
                            "labels_md5": hashlib.md5(bytes(labels)).hexdigest(), "protocol": proto, "keys": keys}
json.dump(expect, open(os.path.join(out, "expect.json"), "w"))
PYEOF
"$PY" - "$work/py" "$TB_BIN" <<'PYEOF'
import json, os, subprocess, sys
out, tb = sys.argv[1], sys.argv[2]
expect = json.load(open(os.path.join(out, "expect.json")))
for name, e in expect.items():
    got = json.loads(subprocess.check_output([tb, "dataset", "inspect", "--json", os.path.join(out, name)]))
    for key in ("pixels_md5", "labels_md5", "protocol"):
        if got[key] != e[key]:
            sys.exit(f"FAIL: {name}: {key} {got[key]} != {e[key]}")
    if got["count"] != 37 or got["key_type"] != e["keys"]:
        sys.exit(f"FAIL: {name}: {got}")
print(f"   {len(expect)} Python-written pickles decoded to identical pixels and labels")
PYEOF

echo "== malicious pickles are refused and nothing runs"
marker="$work/pwned"
"$PY" - "$work" "$marker" <<'PYEOF'
import os, pickle, sys
work, marker = sys.argv[1], sys.argv[2]
class Sys:
    def __reduce__(self): return (os.system, (f"touch {marker}",))
class Ev:
    def __reduce__(self): return (eval, (f"open({marker!r}, 'w')",))
for proto in (0, 2, 4):
    pickle.dump({"data": Sys()}, open(f"{work}/evil_system_{proto}", "wb"), protocol=proto)
    pickle.dump({"labels": Ev()}, open(f"{work}/evil_eval_{proto}", "wb"), protocol=proto)
PYEOF
for f in "$work"/evil_*; do
  set +e
  err="$("$TB_BIN" dataset inspect "$f" 2>&1 >/dev/null)"; rc=$?
  set -e
  [ $rc = 1 ] || fail "$f: expected exit 1, got $rc"
  grep -q "refused global '\(posix\|os\|builtins\|__builtin__\)\.\(system\|eval\)'" <<<"$err" || fail "$f: $err"
  grep -q "byte offset" <<<"$err" || fail "$f: no offset: $err"
done
[ ! -e "$marker" ] || fail "a malicious pickle ran"

echo "== torchvision.datasets.CIFAR10 loads the generated dataset with the same pixels/labels"
rm -rf "$work/x"
mkdir "$work/tv"
tar -xzf "$work/b/cifar-10-python.tar.gz" -C "$work/tv"
cp "$work/b/cifar-10-batches-py.md5" "$work/tv/"
"$PY" "$here/torchvision_check.py" "$work/tv" "$TB_BIN"
echo "PASS"
