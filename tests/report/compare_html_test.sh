#!/usr/bin/env bash
# tierbench compare: table, --json, --svg and --html from two hand-written results files; the
# page is rendered in headless Chromium (screenshot must not be blank, DOM must hold the table,
# the scaling view and the break-even chart);
# bad input exits 2 naming the file. TB_ARTIFACT_DIR=dir keeps the renders.
set -euo pipefail
: "${TB_BIN:?TB_BIN must point at the tierbench binary}"
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# results_json LABEL SCENARIO HOST TOTAL STAGES... (each stage "name:status:seconds:bytes:files")
results_json() {
  local label=$1 scenario=$2 host=$3 total=$4; shift 4
  local stages="" sep="" s name status secs bytes files mbps
  for s in "$@"; do
    IFS=: read -r name status secs bytes files <<<"$s"
    mbps=$(awk -v b="$bytes" -v t="$secs" 'BEGIN { printf "%.3f", (t > 0 && b > 0) ? b / 1e6 / t : 0 }')
    stages+="$sep    {\"name\": \"$name\", \"status\": \"$status\", \"seconds\": $secs, \"bytes\": $bytes,"
    stages+=" \"files\": $files, \"mb_per_s\": $mbps, \"detail\": {}}"
    sep=$',\n'
  done
  cat <<EOF
{
  "schema": "tierbench.run/1",
  "tool_version": "0.1.0",
  "scenario": "$scenario",
  "label": "$label",
  "started_at": "2026-11-25T19:30:00.000Z",
  "status": "ok",
  "host": {"hostname": "$host", "cpus": 16, "memory_bytes": 134217728000, "device": "cuda:0",
           "cpu_model": "AMD EPYC 7543 32-Core Processor", "kernel": "Linux 6.1.0-18-amd64"},
  "config": {"scenario": "$scenario", "dataset": {"files": 1283, "train_batches": 5},
             "train": {"epochs": 2, "batch_size": 4}, "note": "</pre><b>not bold</b>"},
  "stages": [
$stages
  ],
  "total_seconds": $total,
  "overlapped_seconds": 0,
  "train": {"device": "cuda:0", "epochs": 2, "steps": 25000, "final_loss": 1.2841,
            "test_accuracy": 0.5473, "steps_per_second": 207.5}
}
EOF
}

# S3 + local NVMe: every stage runs (the reference architecture's staged timings, extract measured separately).
results_json "S3+NVMe" staged node-a 1458.66 \
  download:ok:275.55:170498071:1 integrity:ok:82.93:170498071:1 extract:ok:14.20:186214999:1283 \
  verify:ok:872.40:186214999:1283 pickled:ok:77.93:184380000:6 meta:ok:0.004:158:1 \
  upload:ok:5.33:186214999:1283 preview:ok:6.82:0:1 train:ok:123.50:0:0 >a.json
# Shared filesystem, data resident: download/integrity/extract skipped (the reference architecture's inplace timings).
results_json "<script>alert(1)</script> WEKA" inplace node-b 372.31 \
  download:skipped:0:0:0 integrity:skipped:0:0:0 extract:skipped:0:0:0 \
  verify:ok:214.04:186214999:1283 pickled:ok:28.08:184380000:6 meta:ok:0.01:158:1 \
  upload:ok:5.12:186214999:1283 preview:ok:4.59:0:1 train:ok:120.47:0:0 >b.json

"$TB_BIN" compare a.json b.json --html out.html --svg out.svg >table.txt || fail "compare exited $?"
cat table.txt
for s in download integrity extract verify pickled meta upload preview train "Total Runtime" "S3+NVMe" \
         "4.08×" "3.92×" "n/a"; do
  grep -qF -- "$s" table.txt || fail "table lacks '$s'"
done
grep -qE '^verify +872\.40 +214\.04 +4\.08×$' table.txt || fail "verify row wrong"

"$TB_BIN" compare a.json b.json --json >cmp.json || fail "compare --json exited $?"
$PY - <<'EOF' || fail "compare --json content"
import json
j = json.load(open("cmp.json"))
assert j["schema"] == "tierbench.compare/1"
assert [s["name"] for s in j["stages"]] == ["download", "integrity", "extract", "verify", "pickled",
                                            "meta", "upload", "preview", "train"]
assert j["stages"][0]["seconds"][1] is None and j["stages"][0]["speedup"][1] is None
assert abs(j["stages"][3]["speedup"][1] - 872.40 / 214.04) < 1e-9
assert abs(j["total"]["speedup"][1] - 1458.66 / 372.31) < 1e-9
EOF

# The chart: well-formed XML, one bar per run per stage, escaped label.
$PY - <<'EOF' || fail "SVG check"
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse("out.svg").getroot()
assert root.tag == ns + "svg", root.tag
bars = [r for r in root.iter(ns + "rect") if r.get("class") == "bar"]
assert len(bars) == 18, len(bars)
stages = {}
for b in bars:
    stages.setdefault(b.get("data-stage"), set()).add(b.get("data-run"))
assert all(v == {"0", "1"} for v in stages.values()) and len(stages) == 9, stages
texts = "".join(t.text or "" for t in root.iter(ns + "text"))
assert "<script>alert(1)</script> WEKA (inplace)" in texts
assert "Seconds (wall clock)" in texts and "Pipeline stage" in texts
EOF
grep -q '<script>' out.svg && fail "unescaped label in SVG"
grep -q '<script' out.html && fail "script tag in HTML"
grep -q '<b>not bold' out.html && fail "config not escaped in HTML"
grep -qE '(src=|href=|url\(|@import)' out.html && fail "HTML references external resources"

# Render the page in headless Chromium.
chrome() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$work")" "$@" 2>>chromium.log
}
chrome --screenshot="$work/shot.png" --window-size=1200,1600 "file://$work/out.html" >/dev/null ||
  { cat chromium.log >&2; fail "chromium screenshot"; }
chrome --dump-dom "file://$work/out.html" >dom.html || { cat chromium.log >&2; fail "chromium --dump-dom"; }
for s in "Total Runtime" "S3+NVMe" "&lt;script&gt;alert(1)&lt;/script&gt; WEKA" "Seconds per stage" \
         "AMD EPYC 7543" "4.08×"; do
  grep -qF -- "$s" dom.html || fail "rendered DOM lacks '$s'"
done

# The screenshot is a real picture: decode the PNG (zlib) and require many distinct colours
# and a good share of non-background pixels.
$PY - "$work/shot.png" <<'EOF' || fail "screenshot looks blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, non_bg, total = bytearray(stride), set(), 0, 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, w, 4):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            total += 1
            if px not in (b"\xff\xff\xff", b"\xf6\xf7\xf9"):
                non_bg += 1
print(f"screenshot {w}x{h}: {len(colours)} colours, {100 * non_bg / total:.1f}% non-background")
assert len(colours) > 50, len(colours)
assert non_bg / total > 0.05, non_bg / total
EOF

# Runs of 1, 2 and 4 ranks: the scaling view (seconds and MB/s against ranks, with the ideal
# line) in the table, the SVG and the page, which Chromium renders.
$PY - <<'EOF' || fail "writing the scaling inputs"
import json
base = json.load(open("b.json"))
for n, eff in ((1, 1.0), (2, 0.9), (4, 0.6)):
    d = json.loads(json.dumps(base))
    d["label"] = f"{n} ranks"
    d["world_size"], d["launcher"] = n, "mpi"
    d["ranks"] = [{"rank": k, "status": "ok", "host": dict(d["host"], hostname=f"node-{k}")} for k in range(n)]
    for s in d["stages"]:
        if s["name"] in ("verify", "pickled"):
            s["seconds"] = s["seconds"] / (n * eff)
            s["mb_per_s"] = s["bytes"] / 1e6 / s["seconds"]
    json.dump(d, open(f"r{n}.json", "w"))
EOF
"$TB_BIN" compare r1.json r2.json r4.json --html scale.html --svg scale.svg >scale.txt || fail "compare (ranks) exited $?"
grep -qF "Scaling by ranks" scale.txt || fail "table lacks the scaling view: $(cat scale.txt)"
grep -qE '^verify +1 +1 ranks +214\.04 +214\.04 ' scale.txt || fail "scaling row for 1 rank wrong: $(cat scale.txt)"
grep -qE '^ +4 +4 ranks +89\.18 +53\.51 .* 60%$' scale.txt || fail "scaling row for 4 ranks wrong: $(cat scale.txt)"
$PY - <<'EOF' || fail "scaling SVG check"
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse("scale.svg").getroot()
points = [c for c in root.iter(ns + "circle") if c.get("class") == "point"]
verify = sorted(int(c.get("data-ranks")) for c in points
                if c.get("data-stage") == "verify" and c.get("data-panel") == "seconds")
assert verify == [1, 2, 4], verify
ideal = [p for p in root.iter(ns + "polyline") if p.get("class") == "ideal"]
assert len(ideal) >= 2, len(ideal)
EOF
chrome --dump-dom "file://$work/scale.html" >scale-dom.html || { cat chromium.log >&2; fail "chromium --dump-dom (ranks)"; }
for s in "Scaling by ranks" "4 ranks, launched by mpi" "node-3" "89.18"; do
  grep -qF -- "$s" scale-dom.html || fail "rendered scaling page lacks '$s'"
done

# Epoch times in the train stage's detail: the break-even view (cumulative seconds against
# epochs) in the table, --json, the SVG and the page, which Chromium renders. S3+NVMe pays
# 1378.66 s up front and 30 s an epoch, WEKA 257.31 s and 60 s: S3+NVMe is cheaper from epoch 39.
$PY - <<'EOF' || fail "writing the break-even inputs"
import json
for name, epochs in (("a", [50, 30]), ("b", [55, 60])):
    d = json.load(open(f"{name}.json"))
    d["stages"][-1]["detail"] = {"epochs": len(epochs), "epoch_seconds": epochs}
    json.dump(d, open(f"e{name}.json", "w"))
EOF
"$TB_BIN" compare ea.json eb.json --html even.html --svg even.svg >even.txt || fail "compare (epochs) exited $?"
grep -qE '^one-off s +1378\.66 +257\.31' even.txt || fail "one-off row wrong: $(cat even.txt)"
grep -qE '^break-even +\(first\) +S3\+NVMe from epoch 39' even.txt || fail "break-even row wrong: $(cat even.txt)"
"$TB_BIN" compare ea.json eb.json --json >even.json || fail "compare --json (epochs) exited $?"
$PY - <<'EOF' || fail "break-even JSON / SVG check"
import json, xml.etree.ElementTree as ET
be = json.load(open("even.json"))["break_even"]
assert be["runs"][1]["against_first"] == {"result": "epoch", "epoch": 39, "cheaper_run": 0}, be
assert be["chart_epochs"] == 41, be
ns = "{http://www.w3.org/2000/svg}"
charts = [e for e in ET.parse("even.svg").getroot().iter(ns + "svg") if e.get("class") == "break-even"]
assert len(charts) == 1, charts
lines = [p.get("data-run") for p in charts[0].iter(ns + "polyline") if p.get("class") == "cumulative"]
assert lines == ["0", "1"], lines
texts = "".join(t.text or "" for t in charts[0].iter(ns + "text"))
assert "Cumulative seconds (wall span)" in texts and "Epochs (" in texts, texts
assert "break-even: S3+NVMe from epoch 39" in texts, texts
EOF
chrome --dump-dom "file://$work/even.html" >even-dom.html || { cat chromium.log >&2; fail "chromium --dump-dom (epochs)"; }
for s in "Break-even: when staging pays off" "S3+NVMe from epoch 39" 'class="break-even"' 'class="cumulative"' \
         "Cumulative seconds (wall span)"; do
  grep -qF -- "$s" even-dom.html || fail "rendered break-even page lacks '$s'"
done

# Bad input: exit 2 and the message names the file (and the field).
set +e
"$TB_BIN" compare a.json missing.json >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" = 2 ] || fail "missing file: exit $rc, want 2"
grep -q "missing.json" err.txt || fail "missing file not named: $(cat err.txt)"
$PY -c 'import json; d = json.load(open("a.json")); del d["stages"][3]["seconds"]; json.dump(d, open("bad.json", "w"))'
set +e
"$TB_BIN" compare a.json bad.json >/dev/null 2>err.txt; rc=$?
set -e
[ "$rc" = 2 ] || fail "invalid file: exit $rc, want 2"
grep -q "bad.json: field 'stages\[3\].seconds' is missing" err.txt || fail "bad field not named: $(cat err.txt)"
[ ! -e out2.html ] || fail "unexpected output"
if [ -n "${TB_ARTIFACT_DIR:-}" ]; then  # keep the renders for a human to look at
  mkdir -p "$TB_ARTIFACT_DIR" && cp out.html out.svg shot.png table.txt scale.html scale.svg scale.txt even.html even.svg even.txt \
    "$TB_ARTIFACT_DIR"/
fi
echo "PASS compare_html"
