#!/usr/bin/env bash
# results-diff.sh A.json B.json: compares two results documents minus what a rerun changes by
# itself (times and rates, the start time, the schema version and the tool version), e.g. a
# deterministic run made with two builds of tierbench:
#   old/tierbench run --config job.toml --out runs/a.json
#   new/tierbench run --config job.toml --out runs/b.json
#   scripts/results-diff.sh runs/a.json runs/b.json
# Both runs should use the same scratch and output paths (they are in the details and config;
# "out" and "log" of the config are left out). Prints a unified diff; exit 0 when identical,
# 1 when they differ, 2 on bad usage.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 A.json B.json" >&2; exit 2; fi
canon() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
TOP = {"schema", "tool_version", "started_at", "total_seconds", "overlapped_seconds"}
def timeish(k):
    return k in ("seconds", "start_s", "end_s", "mb_per_s") or k.endswith("_seconds") or k.endswith("per_second")
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if not timeish(k)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
d = json.load(open(sys.argv[1]))
d = {k: v for k, v in d.items() if k not in TOP}
for k in ("out", "log"):
    d.get("config", {}).pop(k, None)
print(json.dumps(strip(d), indent=1, sort_keys=True))
PY
}
diff -u --label "$1" --label "$2" <(canon "$1") <(canon "$2")
