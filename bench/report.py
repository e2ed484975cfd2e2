#!/usr/bin/python3
"""Turns bench/run.sh's records into docs/benchmarks.md: machine facts, the command, and
tables of medians and tierbench speedups (median over rounds of peer seconds / tierbench
seconds, each ratio taken within one round)."""
import argparse
import collections
import json
import os
import platform
import re
import statistics
import subprocess

DATA_STAGES = ["download", "integrity", "extract", "verify", "pickled", "meta"]
# (stage, [(tool, stage-name-of-peer, label)]). Each peer is set against the tierbench record of
# the same scope: a Python stage timer against `tierbench run`'s stage span ("span"), a shell
# tool's whole-process wall time against tierbench's own whole process ("process", records of
# tool "tierbench-proc", or "tierbench" for the verbs bench/run.sh always times whole).
SPAN, PROC = "in-process spans", "whole-process wall"
STAGE_PEERS = [
    ("download", [("python", "download", "Python download_url"), ("shell", "download", "curl"),
                  ("aria2c", "download", "aria2c -x16")]),
    ("integrity", [("python", "integrity", "Python check_integrity"), ("shell", "integrity", "md5sum")]),
    ("extract", [("python", "extract", "Python extract_archive"), ("shell", "extract", "tar xzf")]),
    ("verify", [("python", "verify", "Python check_integrity loop"), ("shell", "verify", "md5sum -c"),
                ("xargs", "verify", "xargs -P$(nproc) md5sum")]),
    ("pickled", [("python", "pickled", "torchvision CIFAR10"), ("python", "pickled_numpy", "pickle.load + numpy")]),
    ("meta", [("python", "meta", "pickle.load")]),
    ("upload", [("python", "upload", "boto3 upload_file"), ("awscli", "upload", "aws s3 cp --recursive"),
                ("rclone", "upload", "rclone copy --transfers 16")]),
    ("preview", [("python", "preview", "make_grid + PIL")]),
    ("train", [("python", "train", "bench/train/train_ref.py")]),
    ("s3download", [("awscli", "s3download", "aws s3 cp --recursive"), ("rclone", "s3download", "rclone copy")]),
]
# The tierbench record a peer tool is compared with: (tool, stage) of the same scope, or None
# when tierbench has no whole-process verb for that stage alone.
WHOLE_PROCESS = {"download": ("tierbench-proc", "download"), "integrity": ("tierbench-proc", "integrity"),
                 "verify": ("tierbench", "verify-cached"), "upload": ("tierbench-proc", "upload"),
                 "s3download": ("tierbench", "s3download"), "extract": None}
MIN_RATIO_SECONDS = 0.010  # a ratio of times under 10 ms says more about timers than about tools
# Stages that overlap in tierbench's streamed pass: each one's span runs until the slowest of
# them lets go, so set alone against a sequential stage of the Python pipeline it compares
# unlike scopes; the combined rows (download+integrity+extract, data stages) do compare.
STREAMED = {"download", "integrity", "extract", "verify"}


def counterpart(tool, stage):
    """(tierbench record, scope) that peer `tool` is measured against for `stage`."""
    if tool == "python":
        return ("tierbench", stage), SPAN
    return WHOLE_PROCESS.get(stage, ("tierbench", stage)), PROC


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:  # noqa: BLE001 - a missing tool is reported as empty
        return ""


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, nd=2):
    return "–" if x is None else ("%.*f" % (nd, x))


def main():
    ap = argparse.ArgumentParser()
    for a in ["records", "datasets", "md5", "cp", "failures", "tb-bin", "out"]:
        ap.add_argument("--" + a, default="")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--images-per-file", type=int, default=0)
    a = ap.parse_args()
    # (bc prints ".84" for 0.84: accept records from older runs of run.sh)
    recs = [json.loads(re.sub(r'":(-?)\.(\d)', r'":\g<1>0.\2', l)) for l in open(a.records) if l.strip()]
    datasets = {d["size"]: d for d in (json.loads(l) for l in open(a.datasets) if l.strip())}
    md5 = json.load(open(a.md5)) if a.md5 and os.path.exists(a.md5) else {}
    sizes = sorted(datasets)
    # secs[(tool, stage, size)][round] = seconds
    secs = collections.defaultdict(dict)
    extra = collections.defaultdict(dict)
    for r in recs:
        secs[(r["tool"], r["stage"], r["size"])][r["round"]] = r["seconds"]
        extra[(r["tool"], r["stage"], r["size"])][r["round"]] = r

    def m(tool, stage, size):
        return med(list(secs[(tool, stage, size)].values()))

    def ratio(peer, tb, size):  # median over rounds of peer/tb; None when either is under 10 ms
        p, t = secs[(peer[0], peer[1], size)], secs[(tb[0], tb[1], size)]
        mp, mt = med(list(p.values())), med(list(t.values()))
        if mp is None or mt is None or min(mp, mt) < MIN_RATIO_SECONDS:
            return None
        return med([p[k] / t[k] for k in p if k in t and t[k] > 0])

    def sum_rounds(tool, stages, size):
        rounds = None
        for s in stages:
            ks = set(secs[(tool, s, size)])
            rounds = ks if rounds is None else rounds & ks
        return {k: sum(secs[(tool, s, size)][k] for s in stages) for k in (rounds or [])}

    nproc = os.cpu_count()
    L = []
    L.append("# Benchmarks\n")
    L.append("Written by `bench/run.sh` (see its header for what it runs and the knobs). Every number is a "
             "median over rounds; speedups are medians of per-round ratios (peer seconds / tierbench seconds, "
             "both measured in the same round), so that the shared machine's noise hits both sides alike. "
             "Data is page-cached (caches are not dropped); the origin (nginx) and S3 (Ceph RGW) run on the "
             "same machine over loopback.\n")
    L.append("## Machine and command\n")
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    flags = sh("grep -m1 '^flags' /proc/cpuinfo")
    simd = " ".join(f for f in ["sse4_2", "avx2", "avx512f", "avx512bw", "avx512vl"] if (" " + f) in flags)
    mem = sh("free -g | awk '/Mem:/ {print $2}'")
    load = sh("cut -d' ' -f1-3 /proc/loadavg")
    L.append("| fact | value |\n|---|---|")
    L.append(f"| CPU | {cpu}, {nproc} cores visible; SIMD: {simd} |")
    L.append(f"| memory | {mem} GiB |")
    L.append(f"| kernel | {platform.release()} |")
    L.append(f"| load average at the end | {load} (other engineers' builds share these cores) |")
    L.append(f"| tierbench | {sh(a.tb_bin + ' --version') or a.tb_bin} (MD5 path: {md5.get('best_isa', '?')}) |")
    tv = sh("/usr/bin/python3 -c 'import torchvision;print(torchvision.__version__)'")
    bv = sh("/usr/bin/python3 -c 'import boto3;print(boto3.__version__)'")
    peers = [sh("openssl version"), "Python %s, torchvision %s, boto3 %s" % (platform.python_version(), tv, bv),
             sh("/usr/bin/aws --version 2>&1").split(" ")[0], sh("rclone version | head -1"),
             sh("aria2c --version | head -1"), sh("curl --version | head -1").split(" (")[0],
             sh("tar --version | head -1"), sh("md5sum --version | head -1")]
    L.append("| peers | " + "; ".join(p for p in peers if p) + " |")
    L.append("")
    env = " ".join(f"{k}={os.environ[k]}" for k in sorted(os.environ) if k.startswith("TB_BENCH_"))
    L.append(f"Command: `{(env + ' ') if env else ''}bench/run.sh` — {a.rounds} rounds, "
             f"{a.images_per_file} images per data_batch file.\n")
    L.append("| files | dataset bytes | tarball bytes |\n|---|---|---|")
    for n in sizes:
        d = datasets[n]
        L.append(f"| {n} | {d['dataset_bytes']:,} ({d['dataset_bytes'] / 1e9:.3f} GB) | {d['tarball_bytes']:,} |")
    L.append("")

    # ---- targets ----
    big = max(sizes)
    L.append(f"## Targets (largest run: {big} files)\n")
    L.append("| target | measured | met? |\n|---|---|---|")
    tb_data = dict(secs[("tierbench", "data-wall", big)]) or sum_rounds("tierbench", DATA_STAGES, big)
    py_data = sum_rounds("python", DATA_STAGES, big)
    r = med([py_data[k] / tb_data[k] for k in tb_data if k in py_data])
    L.append(f"| data stages (download..meta) ≥ 10× faster than the Python pipeline | "
             f"{fmt(r)}× (tierbench {fmt(med(list(tb_data.values())))} s, Python {fmt(med(list(py_data.values())))} s) "
             f"| {'yes' if r and r >= 10 else 'no'} |")
    # verify vs OpenSSL x cores (page-cached files)
    vr = []
    for k, t in secs[("tierbench", "verify-cached", big)].items():
        o = secs[("openssl", "single-stream", big)].get(k)
        if o:
            vr.append((o / t) / nproc)  # (tb MB/s) / (openssl MB/s x cores)
    b = datasets[big]["dataset_bytes"]
    L.append(f"| verify ≥ 90% of OpenSSL single-stream × cores ({nproc}) | "
             f"{fmt(100 * med(vr) if vr else None, 0)}% (tierbench dataset verify "
             f"{fmt(b / 1e6 / m('tierbench', 'verify-cached', big), 0)} MB/s; `openssl md5` one stream "
             f"{fmt(b / 1e6 / m('openssl', 'single-stream', big), 0)} MB/s; wall clock) | "
             f"{'yes' if vr and med(vr) >= 0.9 else 'no'} |")
    if md5:
        best = md5.get("best_isa")
        L.append(f"| multi-buffer ≥ 3× OpenSSL per core | {fmt(md5.get(best + '_vs_openssl'))}× ({best}, "
                 f"{md5.get(best + '_lanes')} lanes: {fmt(md5.get(best + '_mbps'), 0)} MB/s vs OpenSSL "
                 f"{fmt(md5.get('openssl_single_mbps'), 0)} MB/s per CPU-second) | "
                 f"{'yes' if (md5.get(best + '_vs_openssl') or 0) >= 3 else 'no'} |")
    plain, checked = secs[("tierbench", "ingest-plain", big)], secs[("tierbench", "ingest-checked", big)]
    ov = med([checked[k] / plain[k] - 1 for k in checked if k in plain])
    L.append(f"| staged: integrity + verify add < 10% to download + extract | "
             f"+{fmt(100 * ov if ov is not None else None, 0)}% (`tierbench run` wall, download+integrity+extract+verify "
             f"{fmt(med(list(checked.values())))} s vs download+extract {fmt(med(list(plain.values())))} s) | "
             f"{'yes' if ov is not None and ov < 0.10 else 'no'} |")
    up = []
    for k, t in secs[("tierbench-proc", "upload", big)].items():
        peers = [secs[(p, "upload", big)].get(k) for p in ("awscli", "rclone")]
        peers = [p for p in peers if p]
        if peers:
            up.append(min(peers) / t)
    L.append(f"| upload ≥ the faster of awscli and rclone | {fmt(med(up))}× the faster one (whole-process wall, `tierbench cp`) | "
             f"{'yes' if up and med(up) >= 1 else 'no'} |")
    pk = ratio(("python", "pickled"), ("tierbench", "pickled"), big)
    rss = [e.get("maxrss_kb", 0) * 1024 for e in extra[("tierbench", "pickled-rss", big)].values()]
    pix = [e["bytes"] for e in extra[("python", "pickled", big)].values() if e.get("bytes")]
    rr = med(rss) / med(pix) if rss and pix else None
    L.append(f"| pickled ≥ 10× faster than torchvision's loading | {fmt(pk)}× | {'yes' if pk and pk >= 10 else 'no'} |")
    L.append(f"| pickled peak RSS ≤ 1.15× pixel bytes | {fmt(rr)}× ({fmt(med(rss) / 2**20 if rss else None, 0)} MiB "
             f"peak for the whole `tierbench run` process, {fmt(med(pix) / 2**20 if pix else None, 0)} MiB pixels) | "
             f"{'yes' if rr and rr <= 1.15 else 'no'} |")
    L.append("")

    # ---- per stage tables ----
    for n in sizes:
        L.append(f"## {n} files ({datasets[n]['dataset_bytes'] / 1e9:.3f} GB)\n")
        L.append("Against the Python pipeline: stage spans of `tierbench run` vs the pipeline's own stage "
                 "timers (in-process spans; with streaming ingest, download, integrity, extract and verify "
                 "overlap, so each is the stage's own wall span, not additive). Against shell tools, awscli "
                 "and rclone: whole-process wall time of each command vs tierbench's own whole process doing "
                 "the same work (`tierbench cp`, `tierbench dataset verify`), timed the same way. No ratio "
                 "where tierbench has no verb for that stage alone, or where a time is under 10 ms.\n")
        L.append("| stage | clock | tierbench s | peer | peer s | tierbench speedup |\n|---|---|---|---|---|---|")
        for stage, peers in STAGE_PEERS:
            for tool, pst, label in peers:
                p = m(tool, pst, n)
                tb, scope = counterpart(tool, stage)
                t = m(*tb, n) if tb else None
                if p is None or (t is None and tb is not None):
                    continue
                streamed = tool == "python" and stage in STREAMED
                r = ratio((tool, pst), tb, n) if tb and not streamed else None
                why = ("" if r is not None else " (overlaps the other streamed stages: see the combined rows)"
                       if streamed else " (no tierbench verb for it alone)" if tb is None else " (under 10 ms)")
                L.append(f"| {stage} | {scope} | {fmt(t, 3)} | {label} | {fmt(p, 3)} | "
                         f"{fmt(r) + '×' if r is not None else '–' + why} |")
        tb3 = dict(secs[("tierbench", "ingest-wall", n)])
        st = secs[("stream", "download+integrity+extract", n)]
        if tb3 and st:
            L.append(f"| download+integrity+extract (tierbench: + verify, streamed) | {fmt(med(list(tb3.values())), 3)} "
                     f"| curl \\| tee >(md5sum) \\| tar xz "
                     f"| {fmt(med(list(st.values())), 3)} | {fmt(med([st[k] / tb3[k] for k in st if k in tb3]))}× |")
        tbd = dict(secs[("tierbench", "data-wall", n)]) or sum_rounds("tierbench", DATA_STAGES, n)
        pyd = sum_rounds("python", DATA_STAGES, n)
        L.append(f"| **data stages (download..meta)** | {fmt(med(list(tbd.values())), 3)} | Python pipeline | "
                 f"{fmt(med(list(pyd.values())), 3)} | **{fmt(med([pyd[k] / tbd[k] for k in tbd if k in pyd]))}×** |")
        L.append("")

    # ---- scaling ----
    L.append("## Scaling: seconds per GB of dataset (data stages download..meta)\n")
    L.append("| files | GB | tierbench s/GB | Python s/GB | tierbench verify s/GB | tierbench upload s/GB |\n|---|---|---|---|---|---|")
    for n in sizes:
        gb = datasets[n]["dataset_bytes"] / 1e9
        tbd = dict(secs[("tierbench", "data-wall", n)]) or sum_rounds("tierbench", DATA_STAGES, n)
        pyd = sum_rounds("python", DATA_STAGES, n)
        v, u = m("tierbench", "verify", n), m("tierbench", "upload", n)
        L.append(f"| {n} | {gb:.3f} | {fmt(med(list(tbd.values())) / gb if tbd else None)} | "
                 f"{fmt(med(list(pyd.values())) / gb if pyd else None)} | {fmt(v / gb if v else None)} | "
                 f"{fmt(u / gb if u else None)} |")
    L.append("")
    if md5:
        L.append("## MD5 per core (in memory, CPU time, `bench/md5/md5_speed.cc`)\n")
        L.append("| path | lanes | MB per CPU-second | × OpenSSL single stream |\n|---|---|---|---|")
        L.append(f"| OpenSSL EVP md5 | 1 | {fmt(md5['openssl_single_mbps'], 0)} | 1.00 |")
        for isa in ["scalar", "avx2", "avx512"]:
            if isa + "_mbps" in md5:
                L.append(f"| tierbench {isa} | {md5[isa + '_lanes']} | {fmt(md5[isa + '_mbps'], 0)} | "
                         f"{fmt(md5[isa + '_vs_openssl'])} |")
        L.append("")
    if a.cp and os.path.exists(a.cp):
        txt = open(a.cp).read().strip()
        if txt:
            L.append("## bench/cp (HTTP download of one large file; S3 copies when TB_BENCH_CP_S3=1)\n")
            L.append("```\n" + txt + "\n```\n")
    fails = [l.strip() for l in open(a.failures)] if a.failures and os.path.exists(a.failures) else []
    fails = [l for l in fails if l]
    L.append("## Failed runs (left out of the medians)\n")
    L.extend(["- " + f for f in fails] if fails else ["none"])
    L.append("")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out + ".tmp", "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
