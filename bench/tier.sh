#!/usr/bin/env bash
# bench/tier.sh: tierbench's overhead against the tier itself. For each read/write stage,
# tierbench's stage rate next to the raw rate of the same tier taken with a standard tool on
# the SAME bytes, in the same run, with a cold page cache, and tierbench's share of it
# (target >= 90 %: the tool should measure the tier, not itself).
#
#   stage    tier                 tierbench (results JSON)        raw peer (same bytes)
#   verify   local dir, CephFS    run --scenario inplace --cold   cat FILES; md5sum -c (verify hashes)
#   pickled  local dir, CephFS    run --scenario inplace --cold   cat BATCH_FILES
#   download nginx -> local dir   run --scenario staged           curl -s -o FILE URL
#   upload   local dir -> RGW     run --scenario inplace --cold   aws s3 cp --recursive; rclone copy
#
# Every tierbench run uses pipeline.stream = false, so each stage is its own wall span; its
# seconds/bytes and io.device_read_bytes come from the results JSON (docs/results-format.md).
# A peer's time is the wall time of its whole process (fork/exec and start-up included) taken
# by a small Python timer around it; its device reads are the timer's /proc/self/io delta
# (the reaped child's counters). Before every tool or peer command its input files are
# evicted the same way tierbench's --cold does it (fdatasync + posix_fadvise DONTNEED per
# file; no drop_caches); for download, the tarball under nginx's document root is evicted and
# nginx's own device reads are read from its processes' /proc/PID/io. Each measurement is
# repeated R times, the order of tierbench and its peers alternating per rep; the table shows
# medians and min-max, and share = tierbench MB/s / peer MB/s (ratio of medians).
#
# Usage: bench/tier.sh [--reps R] [--full] [--md FILE] [--keep] [--help]
#   --reps R    repetitions (default 3)
#   --full      the reference layout (--preset seed-1283: 1,280 training files, ~190 MB);
#               also TB_TIER_FULL=1. Default: 40 training files x 1000 images (~155 MB).
#   --md FILE   also write the report as a section of FILE (e.g. docs/benchmarks.md), between
#               "<!-- bench/tier.sh begin -->" and "<!-- bench/tier.sh end -->" (replaced, or
#               appended when absent; bench/run.sh rewrites docs/benchmarks.md without it)
#   --keep      keep the work folder
# Environment: TB_BIN (default build/tierbench); TB_TIER_DIR, parent of the work folder = the
# local tier (default /var/tmp); services from scripts/services.sh (services.env: nginx, RGW,
# CephFS mount); a tier whose service is missing is skipped with the reason printed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
REPS=3
FULL="${TB_TIER_FULL:-0}"
MD=""
KEEP=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="${2:?--reps needs a number}"; shift 2 ;;
    --full) FULL=1; shift ;;
    --md) MD="$(realpath -m "${2:?--md needs a file}")"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "tier: --reps must be a positive integer" >&2; exit 2; }
TB_BIN="$(realpath "${TB_BIN:-$ROOT/build/tierbench}")"
[ -x "$TB_BIN" ] || { echo "tier: no tierbench binary at $TB_BIN (set TB_BIN)" >&2; exit 2; }
PY=python3
command -v "$PY" > /dev/null || { echo "tier: needs python3" >&2; exit 2; }
ENV_FILE="${TB_SERVICES_DIR:-/tmp/tierbench-services}/services.env"
if [ -f "$ENV_FILE" ]; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
fi

WORK="$(mktemp -d "${TB_TIER_DIR:-/var/tmp}/tb-tier.XXXXXX")"
CEPH_DIR="" WWW_DIR="" BUCKET=""
AWS=(/usr/bin/aws)
[ -x /usr/bin/aws ] || AWS=(aws)
cleanup() {
  if [ -n "$BUCKET" ]; then "${AWS[@]}" --endpoint-url "$TB_S3_ENDPOINT" s3 rb --force "s3://$BUCKET" > /dev/null 2>&1 || true; fi
  if [ -n "$CEPH_DIR" ]; then rm -rf "$CEPH_DIR"; fi
  if [ -n "$WWW_DIR" ]; then rm -rf "$WWW_DIR"; fi
  if [ "$KEEP" = 1 ]; then echo "tier: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
log() { echo "[tier $(date +%H:%M:%S)] $*" >&2; }
REC="$WORK/records.jsonl"
NOTES="$WORK/notes.txt"
: > "$REC"
: > "$NOTES"
note() { log "$*"; echo "$*" >> "$NOTES"; }

# ---- the timer, evictor and report (Python: posix_fadvise, /proc/PID/io, perf_counter) ----
HELPER="$WORK/tier.py"
cat > "$HELPER" <<'PYEOF'
import json, os, statistics, subprocess, sys, time

def evict(paths):
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            try:
                os.fdatasync(fd)
            except OSError:
                pass
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)

def proc_read_bytes(pid):
    try:
        for line in open(f"/proc/{pid}/io"):
            if line.startswith("read_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

def server_pids(pidfile):
    """The master in PIDFILE and its children (nginx's workers)."""
    if not pidfile or not os.path.exists(pidfile):
        return []
    master = open(pidfile).read().strip()
    pids = [master]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1] == master:
                    pids.append(d)
            except (OSError, IndexError):
                pass
    return pids

def lines(path):
    return [l.strip() for l in open(path) if l.strip()] if path else []

def cmd_run(args):
    """run REC JSONFIELDS EVICT_LIST CWD SRV_PIDFILE TB_JSON -- CMD...: evict, time CMD, record."""
    rec, fields, evict_list, cwd, pidfile, tb_json = args[:6]
    cmd = args[7:]
    base = json.loads(fields)
    evict(lines(evict_list))
    srv = server_pids(pidfile)
    srv0 = sum(proc_read_bytes(p) for p in srv)
    self0 = proc_read_bytes("self")
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd or None, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    dev = proc_read_bytes("self") - self0
    srv_dev = sum(proc_read_bytes(p) for p in srv) - srv0 if srv else None
    out = []
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip().splitlines()
        out.append(dict(base, ok=False, error=(err[-1] if err else f"exit {p.returncode}")[:200]))
    elif tb_json:  # tierbench: one record per stage from its results JSON
        d = json.load(open(tb_json))
        for s in d["stages"]:
            if s["name"] not in base["stages"].split(","):
                continue
            io = s.get("io", {})
            r = dict(base, stage=s["name"], ok=s["status"] == "ok", seconds=s["seconds"],
                     busy=s.get("busy_seconds", s["seconds"]), bytes=s.get("bytes", 0),
                     files=s.get("files", 0), dev=io.get("device_read_bytes"),
                     counted=io.get("device_counted", False), fs=io.get("filesystem", ""),
                     honoured=io.get("cache", {}).get("honoured"),
                     cpu=io.get("user_cpu_seconds", 0) + io.get("system_cpu_seconds", 0),
                     process_seconds=secs)
            if srv_dev is not None:
                r["srv_dev"] = srv_dev
            if s["status"] != "ok":
                r["error"] = s.get("error", s["status"])
            out.append(r)
    else:
        r = dict(base, ok=True, seconds=secs, dev=dev)
        if srv_dev is not None:
            r["srv_dev"] = srv_dev
        out.append(r)
    with open(rec, "a") as f:
        for r in out:
            r.pop("stages", None)
            f.write(json.dumps(r) + "\n")
            if not r["ok"]:
                print(f"tier: FAILED {r.get('who')} {r.get('stage', '')} {r.get('tier')} rep {r.get('rep')}: "
                      f"{r.get('error')}", file=sys.stderr)

def mb(b):
    return f"{b / 1e6:,.1f}"

def fmt_bytes(b):
    return "n/a" if b is None else f"{b:,}"

def cmd_report(args):
    rec, notes, header = args[:3]
    R = [json.loads(l) for l in open(rec) if l.strip()]
    ok = [r for r in R if r["ok"]]
    # the faster of aws and rclone, per rep
    for rep in sorted({r["rep"] for r in ok if r["stage"] == "upload"}):
        peers = [r for r in ok if r["stage"] == "upload" and r["rep"] == rep and r["who"] in ("aws", "rclone")]
        if len(peers) == 2:
            best = min(peers, key=lambda r: r["seconds"])
            ok.append(dict(best, who="faster of aws/rclone"))
    keys = []
    for r in ok:
        if r["who"] != "tierbench" and (r["stage"], r["tier"], r["who"]) not in keys:
            keys.append((r["stage"], r["tier"], r["who"]))
    order = {"verify": 0, "pickled": 1, "download": 2, "upload": 3}
    keys.sort(key=lambda k: (order.get(k[0], 9), k[1]))
    L = [header, ""]
    hdr = ("stage", "tier", "peer", "bytes", "tierbench MB/s med (min-max)", "peer MB/s med (min-max)",
           "share %", "tb dev-read B", "peer dev-read B", "n")
    rows = []
    for stage, tier, who in keys:
        tb = [r for r in ok if r["who"] == "tierbench" and r["stage"] == stage and r["tier"] == tier]
        pe = [r for r in ok if r["who"] == who and r["stage"] == stage and r["tier"] == tier]
        if not tb or not pe:
            rows.append((stage, tier, who, "", "no tierbench run" if not tb else "", "", "", "", "", ""))
            continue
        def rates(rs):
            return [r["bytes"] / 1e6 / r["seconds"] for r in rs if r["seconds"] > 0]
        def cell(rs):
            v = rates(rs)
            return f"{statistics.median(v):,.1f} ({min(v):,.1f}-{max(v):,.1f})"
        tb_s = statistics.median(r["seconds"] for r in tb)
        pe_s = statistics.median(r["seconds"] for r in pe)
        if tb_s >= 0.010 and pe_s >= 0.010:
            share = f"{100 * statistics.median(rates(tb)) / statistics.median(rates(pe)):.0f}"
        else:
            share = "too short to compare"
        def dev(rs):
            if "srv_dev" in rs[0]:  # download: the origin's reads (nginx)
                return "nginx " + fmt_bytes(int(statistics.median(r["srv_dev"] for r in rs)))
            if not rs[0].get("counted", True):
                return f"n/a ({rs[0].get('fs')})"
            return fmt_bytes(int(statistics.median(r["dev"] for r in rs if r.get("dev") is not None)))
        if tier == "cephfs":
            pe = [dict(r, counted=False, fs="fuse") for r in pe]
        nb = {r["bytes"] for r in tb} | {r["bytes"] for r in pe}
        bytes_cell = f"{pe[0]['bytes']:,}" + ("" if len(nb) == 1 else f" (tb {tb[0]['bytes']:,})")
        rows.append((stage, tier, who, bytes_cell, cell(tb), cell(pe), share, dev(tb), dev(pe), f"{len(tb)}/{len(pe)}"))
    w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(len(hdr))]
    L.append("  ".join(str(h).ljust(w[i]) for i, h in enumerate(hdr)).rstrip())
    L.append("  ".join("-" * w[i] for i in range(len(hdr))))
    for x in rows:
        L.append("  ".join(str(c).ljust(w[i]) for i, c in enumerate(x)).rstrip())
    L.append("")
    # where tierbench's time goes: busy time and CPU of each stage (medians)
    L.append("tierbench stage detail (medians): wall s, busy s, process CPU s during the stage, cold honoured")
    seen = []
    for r in ok:
        if r["who"] == "tierbench" and (r["stage"], r["tier"]) not in seen:
            seen.append((r["stage"], r["tier"]))
    for stage, tier in sorted(seen, key=lambda k: (order.get(k[0], 9), k[1])):
        tb = [r for r in ok if r["who"] == "tierbench" and r["stage"] == stage and r["tier"] == tier]
        med = lambda k: statistics.median(r[k] for r in tb)
        L.append(f"  {stage:8} {tier:7} wall {med('seconds'):.3f}  busy {med('busy'):.3f}  cpu {med('cpu'):.3f}  "
                 f"fs {tb[0].get('fs') or '-'}  honoured {sorted({str(r.get('honoured')) for r in tb})}")
    L.append("")
    L.append("seconds per rep (wall; tierbench = stage span, peers = whole process)")
    groups = []
    for r in ok:
        if (r["stage"], r["tier"], r["who"]) not in groups and r["who"] != "faster of aws/rclone":
            groups.append((r["stage"], r["tier"], r["who"]))
    for stage, tier, who in sorted(groups, key=lambda k: (order.get(k[0], 9), k[1], k[2] != "tierbench", k[2])):
        secs = [f"{r['seconds']:.3f}" for r in sorted(ok, key=lambda r: r["rep"])
                if (r["stage"], r["tier"], r["who"]) == (stage, tier, who)]
        L.append(f"  {stage:8} {tier:7} {who:10} " + " ".join(secs))
    fails = [r for r in R if not r["ok"]]
    L.append("")
    L.append("failed runs: " + ("none" if not fails else ""))
    for r in fails:
        L.append(f"  {r.get('who')} {r.get('stage', '')} {r.get('tier')} rep {r.get('rep')}: {r.get('error')}")
    nt = lines(notes)
    if nt:
        L.append("")
        L.append("notes:")
        L.extend("  " + n for n in nt)
    print("\n".join(L))

def cmd_md(args):
    """md FILE REPORT_TXT COMMAND: replace (or append) this script's section of FILE."""
    path, report, command = args[:3]
    begin, end = "<!-- bench/tier.sh begin -->", "<!-- bench/tier.sh end -->"
    body = "\n".join([
        begin, "## Overhead against the tier (`bench/tier.sh`)", "",
        "Written by `bench/tier.sh --md docs/benchmarks.md` (bench/run.sh runs it after its own "
        "report, `TB_BENCH_TIER=0` skips it). Each stage of `tierbench run --cold` "
        "(`pipeline.stream = false`) against a standard tool reading or writing the same bytes on "
        "the same tier in the same run, both after evicting their inputs from the page cache "
        "(fdatasync + `posix_fadvise(DONTNEED)` per file, as `--cold` does; no `drop_caches`). "
        "Share = tierbench MB/s / peer MB/s, medians over the reps; the target is >= 90 %.", "",
        f"Command: `{command}`", "",
        "How to read it:", "",
        "- Scope: tierbench's time is the stage's wall span inside its process; a peer's is its "
        "whole process, start-up included (about a millisecond for cat, md5sum and curl; "
        "awscli's and rclone's start-up is printed in the notes and is part of their time).",
        "- verify hashes (MD5 of every file, multi-buffer, on all cores): `cat` is the pure read, "
        "`md5sum -c` the same work in one stream. A share above 100 % against `cat` is within noise "
        "or comes from reading several files at once.",
        "- pickled keeps what it reads: it fills the dataset's size in fresh memory (page faults "
        "and zeroing, system CPU in the detail lines) that `cat`, reusing one small buffer, never "
        "pays. Its share against `cat` is the price of holding the data, not of reading it.",
        "- download: `dev-read` is nginx's device reads (its processes' `/proc/PID/io`), the "
        "tarball evicted under nginx's document root before each run; tierbench may use several "
        "connections (`net.streams = auto`), curl uses one.",
        "- CephFS (ceph-fuse): the kernel's page cache is evicted, but ceph-fuse's object cache and "
        "the OSD's BlueStore cache are not, and FUSE reads are not counted as device reads: the "
        "CephFS rows are \"kernel-cold\", not proven cold.",
        "- Spans of 0.1-2 s on 2 shared cores under other builds' load are noisy: read the min-max "
        "ranges and the per-rep seconds before the medians.", "",
        "```", open(report).read().rstrip(), "```", end])
    old = open(path).read() if os.path.exists(path) else ""
    if begin in old and end in old:
        new = old[:old.index(begin)] + body + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + body + "\n"
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.replace(path + ".tmp", path)

{"run": cmd_run, "report": cmd_report, "md": cmd_md, "evict": lambda a: evict(a)}[sys.argv[1]](sys.argv[2:])
PYEOF

# timed WHO STAGES TIER REP BYTES EVICT_LIST CWD SRV_PIDFILE TB_JSON CMD...: one record per stage
timed() {
  local fields
  fields=$(printf '{"who":"%s","stages":"%s","stage":"%s","tier":"%s","rep":%s,"bytes":%s}' \
    "$1" "$2" "$2" "$3" "$4" "$5")
  "$PY" "$HELPER" run "$REC" "$fields" "$6" "$7" "$8" "$9" -- "${@:10}" || true
}

# ---- the dataset (on the local tier) ----
LOCAL_FS="$(findmnt -n -o FSTYPE -T "$WORK" || stat -f -c %T "$WORK")"
LOCAL_DEV="$(findmnt -n -o SOURCE -T "$WORK" || echo '?')"
GEN=(--train-files 40 --images-per-file 1000)
[ "$FULL" = 1 ] && GEN=(--preset seed-1283)
log "generating the dataset (${GEN[*]}) in $WORK ($LOCAL_FS on $LOCAL_DEV)"
"$TB_BIN" dataset generate --out "$WORK/ds" "${GEN[@]}" --threads 1 > /dev/null
DS="$WORK/ds/cifar-10-batches-py"
MANIFEST="$WORK/ds/cifar-10-batches-py.md5"
TARBALL="$WORK/ds/cifar-10-python.tar.gz"
TAR_MD5="$(cut -d' ' -f1 < "$TARBALL.md5")"
# exactly the files the stages read: verify/upload = the manifest's files, pickled = the batches
cut -c35- "$MANIFEST" | sed "s|^|$WORK/ds/|" > "$WORK/files-local"
grep -E '/(data_batch_[0-9]+|test_batch)$' "$WORK/files-local" > "$WORK/batches-local"
bytes_of() { xargs -d '\n' stat -c %s < "$1" | awk '{s += $1} END {print s + 0}'; }
ALL_BYTES=$(bytes_of "$WORK/files-local")
BATCH_BYTES=$(bytes_of "$WORK/batches-local")
TAR_BYTES=$(stat -c %s "$TARBALL")
NFILES=$(wc -l < "$WORK/files-local")
mkdir -p "$WORK/res" "$WORK/scratch" "$WORK/dl"

# ---- the tiers available ----
HAVE_CEPHFS=0 HAVE_HTTP=0 HAVE_S3=0 HAVE_RCLONE=0
if [ -z "${TB_CEPHFS_MOUNT:-}" ]; then
  note "CephFS skipped: TB_CEPHFS_MOUNT is not set ($ENV_FILE missing or services.sh up ran without FUSE)"
elif ! mountpoint -q "$TB_CEPHFS_MOUNT"; then
  note "CephFS skipped: $TB_CEPHFS_MOUNT is not a mount point"
elif ! CEPH_DIR="$(mktemp -d "$TB_CEPHFS_MOUNT/tb-tier.XXXXXX")"; then
  CEPH_DIR=""
  note "CephFS skipped: cannot create a folder in $TB_CEPHFS_MOUNT"
else
  log "copying the dataset to CephFS ($CEPH_DIR)"
  cp -r "$DS" "$MANIFEST" "$CEPH_DIR/"
  sed "s|^$WORK/ds/|$CEPH_DIR/|" "$WORK/files-local" > "$WORK/files-cephfs"
  sed "s|^$WORK/ds/|$CEPH_DIR/|" "$WORK/batches-local" > "$WORK/batches-cephfs"
  HAVE_CEPHFS=1
fi
if [ -z "${TB_HTTP_ORIGIN:-}" ] || [ -z "${TB_HTTP_ROOT:-}" ]; then
  note "download skipped: no HTTP origin (TB_HTTP_ORIGIN/TB_HTTP_ROOT unset: run scripts/services.sh up)"
else
  WWW_DIR="$TB_HTTP_ROOT/tb-tier-$$"
  mkdir -p "$WWW_DIR"
  cp "$TARBALL" "$TARBALL.md5" "$WWW_DIR/"
  URL="$TB_HTTP_ORIGIN/tb-tier-$$/cifar-10-python.tar.gz"
  if curl -sfI "$URL" > /dev/null; then
    HAVE_HTTP=1
  else
    note "download skipped: $URL does not answer"
  fi
fi
NGINX_PID="${TB_SERVICES_DIR:-/tmp/tierbench-services}/nginx/nginx.pid"
[ -f "$NGINX_PID" ] || NGINX_PID=""
if [ -z "${TB_S3_ENDPOINT:-}" ]; then
  note "upload skipped: no S3 endpoint (TB_S3_ENDPOINT unset: run scripts/services.sh up)"
elif ! "${AWS[@]}" --version > /dev/null 2>&1; then
  note "upload skipped: no awscli"
else
  BUCKET="tb-tier-$$"
  if "${AWS[@]}" --endpoint-url "$TB_S3_ENDPOINT" s3 mb "s3://$BUCKET" > /dev/null 2>&1; then
    HAVE_S3=1
  else
    note "upload skipped: cannot create s3://$BUCKET at $TB_S3_ENDPOINT"
    BUCKET=""
  fi
fi
if [ "$HAVE_S3" = 1 ]; then
  if command -v rclone > /dev/null; then
    HAVE_RCLONE=1
    export RCLONE_CONFIG_TBRGW_TYPE=s3 RCLONE_CONFIG_TBRGW_PROVIDER=Ceph
    export RCLONE_CONFIG_TBRGW_ENDPOINT="$TB_S3_ENDPOINT" RCLONE_CONFIG_TBRGW_REGION="${AWS_REGION:-us-east-1}"
    export RCLONE_CONFIG_TBRGW_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID"
    export RCLONE_CONFIG_TBRGW_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY"
  else
    note "rclone is not installed: upload's raw peer is awscli alone"
  fi
fi

# ---- the measurements ----
TB_COMMON=(--cold --set pipeline.stream=false --no-progress --label tier --scratch "$WORK/scratch")
# inplace_tool TIER DATASET_DIR MANIFEST REP STAGES SKIP [EXTRA...]
inplace_tool() {
  local tier="$1" dir="$2" man="$3" rep="$4" stages="$5" skip="$6"
  shift 6
  timed tierbench "$stages" "$tier" "$rep" 0 "" "" "" "$WORK/res/$tier-$rep.json" \
    "$TB_BIN" run --scenario inplace --dataset-dir "$dir" --manifest "$man" --skip "$skip" \
    --out "$WORK/res/$tier-$rep.json" "${TB_COMMON[@]}" "$@"
}
read_peers() {  # read_peers TIER DATA_PARENT REP
  local tier="$1" parent="$2" rep="$3"
  timed cat verify "$tier" "$rep" "$ALL_BYTES" "$WORK/files-$tier" "" "" "" \
    xargs -d '\n' -a "$WORK/files-$tier" cat
  timed md5sum verify "$tier" "$rep" "$ALL_BYTES" "$WORK/files-$tier" "$parent" "" "" \
    md5sum -c --quiet "$MANIFEST"
  timed cat pickled "$tier" "$rep" "$BATCH_BYTES" "$WORK/batches-$tier" "" "" "" \
    xargs -d '\n' -a "$WORK/batches-$tier" cat
}
upload_peers() {  # upload_peers REP
  timed aws upload local "$1" "$ALL_BYTES" "$WORK/files-local" "" "" "" \
    "${AWS[@]}" --endpoint-url "$TB_S3_ENDPOINT" s3 cp --recursive --only-show-errors "$DS" "s3://$BUCKET/aws-$1/"
  if [ "$HAVE_RCLONE" = 1 ]; then
    timed rclone upload local "$1" "$ALL_BYTES" "$WORK/files-local" "" "" "" \
      env -u AWS_CA_BUNDLE rclone copy --transfers 16 --checkers 16 --s3-no-check-bucket "$DS" "tbrgw:$BUCKET/rclone-$1"
  fi
}
echo "$WWW_DIR/cifar-10-python.tar.gz" > "$WORK/files-origin"
download_tool() {
  rm -rf "$WORK/scratch-dl"
  timed tierbench download http "$1" 0 "$WORK/files-origin" "" "$NGINX_PID" "$WORK/res/download-$1.json" \
    "$TB_BIN" run --scenario staged --origin "$URL" --md5 "$TAR_MD5" \
    --skip integrity,extract,verify,pickled,meta,upload,preview,train --out "$WORK/res/download-$1.json" \
    --cold --set pipeline.stream=false --no-progress --label tier --scratch "$WORK/scratch-dl"
}
download_peer() {
  rm -f "$WORK/dl/curl.tgz"
  timed curl download http "$1" "$TAR_BYTES" "$WORK/files-origin" "" "$NGINX_PID" "" \
    curl -sf -o "$WORK/dl/curl.tgz" "$URL"
}

START="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for ((r = 1; r <= REPS; r++)); do
  log "rep $r/$REPS"
  # tool first on odd reps, peers first on even ones
  for half in 1 2; do
    if [ $(((r + half) % 2)) = 0 ]; then  # tierbench
      if [ "$HAVE_S3" = 1 ]; then
        inplace_tool local "$DS" "$MANIFEST" "$r" verify,pickled,upload preview,train \
          --upload-to "s3://$BUCKET/tb-$r" --endpoint-url "$TB_S3_ENDPOINT"
      else
        inplace_tool local "$DS" "$MANIFEST" "$r" verify,pickled upload,preview,train
      fi
      if [ "$HAVE_CEPHFS" = 1 ]; then
        inplace_tool cephfs "$CEPH_DIR/cifar-10-batches-py" "$CEPH_DIR/cifar-10-batches-py.md5" "$r" \
          verify,pickled upload,preview,train
      fi
      if [ "$HAVE_HTTP" = 1 ]; then download_tool "$r"; fi
    else  # the raw peers
      read_peers local "$WORK/ds" "$r"
      if [ "$HAVE_S3" = 1 ]; then upload_peers "$r"; fi
      if [ "$HAVE_CEPHFS" = 1 ]; then read_peers cephfs "$CEPH_DIR" "$r"; fi
      if [ "$HAVE_HTTP" = 1 ]; then download_peer "$r"; fi
    fi
  done
done

# ---- the report ----
{
  echo "local tier: $WORK ($LOCAL_FS on $LOCAL_DEV)"
  [ "$HAVE_CEPHFS" = 0 ] ||
    echo "CephFS: $CEPH_DIR ($(findmnt -n -o FSTYPE -T "$CEPH_DIR"); cold = the kernel's page cache only: ceph-fuse's own object cache and the OSD's BlueStore cache are not dropped, and device reads are not counted on FUSE)"
  echo "verify hashes (MD5 of every manifest file, multi-buffer, verify_threads = all cores); its peers: cat (pure read) and md5sum -c (one stream)"
  echo "pickled reads and decodes the data_batch/test_batch files; its peer: cat of the same files"
  [ "$HAVE_HTTP" = 0 ] || echo "download: $URL (nginx, loopback) to $LOCAL_FS; dev-read = nginx's device reads (the tarball evicted before each run)"
  [ "$HAVE_S3" = 0 ] || echo "upload: $NFILES files from the local tier to Ceph RGW $TB_S3_ENDPOINT (same machine); $("${AWS[@]}" --version 2>&1 | cut -d' ' -f1) (defaults)$([ "$HAVE_RCLONE" = 0 ] || echo ", $(rclone version 2> /dev/null | sed -n 1p) (--transfers 16)"); tierbench: s3.concurrency default"
  if [ "$HAVE_S3" = 1 ]; then  # start-up is in the peers' wall time: how much of it is start-up
    t0=$(date +%s%N)
    "${AWS[@]}" --version > /dev/null 2>&1
    t1=$(date +%s%N)
    echo "start-up (in the peers' time, not in tierbench's stage span): aws --version $(((t1 - t0) / 1000000)) ms$([ "$HAVE_RCLONE" = 0 ] || { t0=$(date +%s%N); rclone version > /dev/null 2>&1; echo ", rclone version $((($(date +%s%N) - t0) / 1000000)) ms"; })"
  fi
} >> "$NOTES"
CMDLINE="bench/tier.sh --reps $REPS"
if [ "$FULL" = 1 ]; then CMDLINE="$CMDLINE --full"; fi
if [ -n "$MD" ]; then CMDLINE="$CMDLINE --md $(realpath --relative-to="$PWD" "$MD")"; fi
if [ "$TB_BIN" != "$ROOT/build/tierbench" ]; then CMDLINE="TB_BIN=$TB_BIN $CMDLINE"; fi
HEADER="$(
  echo "bench/tier.sh  $START  $(hostname)  tierbench: $("$TB_BIN" version 2> /dev/null | sed -n 1p)"
  echo "machine: $(nproc) shared cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load $(cut -d' ' -f1-3 /proc/loadavg) at the end; other builds share the cores"
  echo "cache: cold before every tool and peer command (fdatasync + posix_fadvise DONTNEED of its input files; no drop_caches)"
  echo "clock: wall span; tierbench = the stage's span inside its process (pipeline.stream = false), peer = its whole process incl. start-up"
  echo "reps: $REPS, tool/peer order alternating; share % = tierbench MB/s / peer MB/s (medians), target >= 90; 'too short to compare' below 10 ms"
  echo "dataset: $NFILES files, $ALL_BYTES bytes (batches $BATCH_BYTES), tarball $TAR_BYTES bytes; MB = 1e6 B"
)"
"$PY" "$HELPER" report "$REC" "$NOTES" "$HEADER" | tee "$WORK/report.txt"
if [ -n "$MD" ]; then
  "$PY" "$HELPER" md "$MD" "$WORK/report.txt" "$CMDLINE"
  log "wrote the section in $MD"
fi
