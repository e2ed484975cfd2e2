#!/usr/bin/env bash
# Several ranks, one per host, on the test bed (scripts/hosts.sh: 4 network namespaces on a
# bridge), launched by torchrun-style variables, by `mpirun` (placing one rank per host
# through `hosts.sh agent`) and by Slurm's `srun` (a one-machine Slurm cluster with one slurmd
# inside each host: scripts/slurm-local.sh --hosts), 2 and 4 ranks, both scenarios end to end
# over the bridge:
#   staged   the tarball from an origin on the bridge address (tests/tools/faulty_http.py),
#            download, integrity and extract once per host, upload to S3, train on the copy
#            fetched back from S3
#   inplace  one shared dataset folder, every rank reads it (upload off)
# S3 is a radosgw of the test's own on the running Ceph cluster (same users), listening only
# on the bridge address with its own log: the shared radosgw on 127.0.0.1 is not touched (a
# namespace cannot reach the root namespace's loopback), and every request in that log is one
# of this test's. Asserted for every run: the merged results carry every rank (each on its own
# host); each copy's files are hashed once (inplace: verify's per-rank shares of the shared
# folder are disjoint and together exactly the manifest; staged: each host's rank hashes its
# host's whole copy); every rank's weights_md5 is equal; staged, each file was uploaded once, counted
# at RGW (one successful PUT per key in radosgw's log, from the hosts' addresses) and in the
# bucket listing (one version per key), and the ranks' upload parts add up to the manifest.
# Needs root (skip 77, a failure with TB_REQUIRE_ROOT=1), the libtorch plugin with Gloo and a
# running Ceph cluster (scripts/services.sh; skip 77, a failure with TB_REQUIRE_SERVICES=1).
# ctest: RUN_SERIAL
# shellcheck disable=SC2016,SC2034  # AT_EXIT's commands are expanded when they run (lib.sh cleanup)
if [ "$(id -u)" != 0 ]; then
  if [ "${TB_REQUIRE_ROOT:-}" = 1 ]; then echo "FAIL: not root (TB_REQUIRE_ROOT=1)" >&2; exit 1; fi
  echo "skipping: network namespaces need root"
  exit 77
fi
source "$(dirname "$0")/../cluster/lib.sh"
need_cluster_plugin
SRC="${TB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
HOSTS="$SRC/scripts/hosts.sh"
source "$SRC/scripts/hosts-bed.sh"
[ -n "${TB_CEPH_CONF:-}" ] && [ -f "$TB_CEPH_CONF" ] || skip "no running Ceph cluster (TB_CEPH_CONF; scripts/services.sh up)"
[ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] || skip "no S3 credentials (services.env)"
command -v radosgw > /dev/null || skip "radosgw is not installed"
AWS=/usr/bin/aws
[ -x "$AWS" ] || skip "Debian's awscli (/usr/bin/aws) is not installed"

bed_private "$WORK" 10.82 tbk
AT_EXIT+=(bed_down)
bed_up 4 || { echo "FAIL: hosts.sh up 4" >&2; exit 1; }
BR="$TB_BRIDGE_ADDR"

# Our radosgw: the cluster's client.rgw.a key, its own frontend, pid, socket and log.
rgw_port=$(free_port)
radosgw -c "$TB_CEPH_CONF" -n client.rgw.a -f --rgw_frontends "beast endpoint=$BR:$rgw_port" \
  --pid_file "$WORK/rgw.pid" --admin_socket "$WORK/rgw.asok" --log_file "$WORK/rgw.log" --debug_rgw 1 \
  > "$WORK/rgw.out" 2>&1 &
rgw_pid=$!
AT_EXIT+=('kill -TERM "$rgw_pid" 2> /dev/null; wait "$rgw_pid" 2> /dev/null')  # after the bucket is removed
S3="http://$BR:$rgw_port"
deadline=$((SECONDS + 60))
until "$HOSTS" exec 1 curl -fs -o /dev/null "$S3/"; do
  [ "$SECONDS" -lt "$deadline" ] || { tail -20 "$WORK/rgw.log" "$WORK/rgw.out"; echo "FAIL: radosgw on $S3" >&2; exit 1; }
  sleep 0.2
done
bucket="h-ranks-$$-$RANDOM"
# The bucket lives in the shared cluster: removed through our radosgw, else the shared one.
AT_EXIT+=('for e in "$S3" "${TB_S3_ENDPOINT:-}"; do "$AWS" --endpoint-url "$e" s3 rb "s3://$bucket" --force > /dev/null 2>&1 && break; done')

"$TB_BIN" dataset generate --out "$WORK/www" --train-files 24 --images-per-file 4 --test-images 100 --seed 13 \
  > /dev/null || { echo "FAIL: dataset generate" >&2; exit 1; }
manifest="$WORK/www/cifar-10-batches-py.md5"
"$PY" "$SRC/tests/tools/faulty_http.py" --root "$WORK/www" --bind "$BR" --port-file "$WORK/origin.port" --quiet \
  > "$WORK/origin.out" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + 30))
until [ -s "$WORK/origin.port" ]; do
  [ "$SECONDS" -lt "$deadline" ] || { cat "$WORK/origin.out"; echo "FAIL: origin did not start" >&2; exit 1; }
  sleep 0.1
done
origin="http://$BR:$(cat "$WORK/origin.port")"

# run_args SCENARIO LABEL: the `tierbench run` arguments of one run.
run_args() {
  ARGS=(run --scenario "$1" --label "$2" --out "$WORK/runs/$2.json" --scratch "$WORK/scratch-$2" --skip preview
    --epochs 1 --max-steps 3 --batch-size 4 --threads 1 --workers 0 --no-progress --world-timeout 120)
  if [ "$1" = staged ]; then
    ARGS+=(--origin "$origin/cifar-10-python.tar.gz" --upload-to "s3://$bucket/$2" --endpoint-url "$S3"
      --create-bucket)
  else
    ARGS+=(--dataset-dir "$WORK/www/cifar-10-batches-py" --skip upload)
  fi
}

# by_env SCENARIO N LABEL: rank r on host r+1 by torchrun-style variables; waits for them.
by_env() {
  local r port
  port=$(free_port)
  run_args "$1" "$3"
  for ((r = 0; r < $2; r++)); do
    ( "$HOSTS" exec $((r + 1)) env RANK=$r WORLD_SIZE="$2" LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 MASTER_ADDR="$TB_HOST1_ADDR" \
      MASTER_PORT="$port" "$TB_BIN" "${ARGS[@]}" > "$WORK/$3-$r.out" 2> "$WORK/$3-$r.err"
      echo $? > "$WORK/$3-$r.rc" ) &
    PIDS+=($!)
  done
  for ((r = 0; r < $2; r++)); do expect_eq "$(wait_rc "$3-$r" 300)" 0 "$3: rank $r exits 0"; done
}

# by_mpi SCENARIO N LABEL: mpirun in the root namespace starts one orted per host through
# `hosts.sh agent` (its ssh stand-in), which starts that host's rank; waits for it.
by_mpi() {
  local port hosts
  port=$(free_port)
  hosts=$(echo "$TB_HOSTS" | tr ' ' '\n' | head -"$2" | paste -sd,)
  run_args "$1" "$3"
  ( mpirun --allow-run-as-root -np "$2" --host "$hosts" --mca plm_rsh_agent "$TB_HOSTS_AGENT" \
      --mca oob_tcp_if_include "$TB_HOSTS_CIDR" --mca btl_tcp_if_include "$TB_HOSTS_CIDR" \
      -x MASTER_ADDR="$TB_HOST1_ADDR" -x MASTER_PORT="$port" -x AWS_ACCESS_KEY_ID -x AWS_SECRET_ACCESS_KEY \
      -x AWS_REGION "$TB_BIN" "${ARGS[@]}" > "$WORK/$3.out" 2> "$WORK/$3.err"
    echo $? > "$WORK/$3.rc" ) &
  PIDS+=($!)
  expect_eq "$(wait_rc "$3" 300)" 0 "$3: mpirun exits 0"
}

# by_slurm SCENARIO N LABEL: srun in the root namespace places one task on each of the first
# N hosts' slurmd; rank, world and the rendezvous host (the nodelist's first) come from Slurm.
by_slurm() {
  local hosts
  hosts=$(echo "$TB_HOSTS" | tr ' ' '\n' | head -"$2" | paste -sd,)
  run_args "$1" "$3"
  ( SLURM_CONF="$SLURM_DIR/slurm.conf" srun -N "$2" -n "$2" --ntasks-per-node=1 -w "$hosts" "$TB_BIN" "${ARGS[@]}" \
      > "$WORK/$3.out" 2> "$WORK/$3.err"
    echo $? > "$WORK/$3.rc" ) &
  PIDS+=($!)
  expect_eq "$(wait_rc "$3" 300)" 0 "$3: srun exits 0"
}

# check SCENARIO N LABEL LAUNCHER: the merged and per-rank results, and RGW's count.
check() {
  local listing="$WORK/$3.versions.json"
  if [ "$1" = staged ]; then
    "$AWS" --endpoint-url "$S3" s3api list-object-versions --bucket "$bucket" --prefix "$3/" > "$listing" 2> "$WORK/$3.aws.err" ||
      { cat "$WORK/$3.aws.err"; fail "$3: listing s3://$bucket/$3/"; }
  fi
  "$PY" - "$@" "$WORK" "$manifest" "$TB_HOSTS" "$TB_HOST_ADDRS" "$bucket" <<'PY' || failures=$((failures + 1))
import collections, json, os, re, sys
scenario, n, label, launcher, work, manifest, hosts, addrs, bucket = sys.argv[1:]
n, hosts, addrs = int(n), hosts.split(), set(addrs.split())
bad = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + label + ": " + what, file=sys.stdout if cond else sys.stderr)
    if not cond: bad.append(what)
listed = sorted(line.split(None, 1)[1].strip() for line in open(manifest) if line.strip())
out = os.path.join(work, "runs", label + ".json")
if not os.path.exists(out):
    check(False, "rank 0 wrote the merged results " + out); sys.exit(1)
merged = json.load(open(out))
own = [merged] + [json.load(open(os.path.join(work, "runs", "%s.rank%d.json" % (label, r)))) for r in range(1, n)]
stages = {s["name"]: s for s in merged["stages"]}
check(merged["status"] == "ok", "the merged run is ok")
check(merged.get("world_size") == n and merged.get("launcher") == launcher,
      "merged: world_size %s, launcher %s" % (merged.get("world_size"), merged.get("launcher")))
ranks = merged.get("ranks", [])
check([r["rank"] for r in ranks] == list(range(n)) and all(r["status"] == "ok" for r in ranks), "merged: every rank, ok")
check([r.get("host", {}).get("hostname") for r in ranks] == hosts[:n], "merged: rank r ran on host r+1")
ran = [s for s in merged["stages"] if s["status"] == "ok"]
check(all(len(s.get("ranks", [])) == n for s in ran), "merged: every stage that ran has each rank's part")
# verify: each file of a copy hashed once. Inplace the one shared folder is split over the
# ranks; staged every host has its own copy, and its only rank hashes all of it.
shares = [[s for s in d["stages"] if s["name"] == "verify"][0]["detail"]["share"] for d in own]
names = [set(s["names"]) for s in shares]
parts = sum(p["files"] for p in stages["verify"]["ranks"])
if scenario == "inplace":
    check(sum(len(x) for x in names) == len(set().union(*names)), "verify: the ranks hashed disjoint files")
    check(sorted(set().union(*names)) == listed, "verify: together exactly the manifest's %d files" % len(listed))
    check(parts == len(listed), "verify: the parts' files sum to the manifest")
else:
    check(all(s["count"] == 1 and sorted(x) == listed for s, x in zip(shares, names)),
          "verify: each host's copy hashed whole by its rank, exactly the manifest's %d files" % len(listed))
    check(parts == n * len(listed), "verify: the parts' files are %d copies of the manifest" % n)
# train: the same weights everywhere
md5s = [[s for s in d["stages"] if s["name"] == "train"][0]["detail"].get("weights_md5") for d in own]
check(len(set(md5s)) == 1 and len(md5s[0] or "") == 32, "train: weights_md5 equal on all %d ranks (%s)" % (n, md5s[0]))
if scenario == "staged":
    up = stages["upload"]
    check(sum(p["files"] for p in up["ranks"]) == len(listed) and all(p["files"] > 0 for p in up["ranks"]),
          "upload: every rank uploaded a part, together the manifest's %d files" % len(listed))
    # RGW's own count: successful PUTs of this run's keys in our radosgw's log.
    put = re.compile(r'beast: \S+ (\S+) - \S+ \[[^]]*\] "PUT /%s/%s/(\S+) HTTP/[0-9.]+" 200 ' % (bucket, label))
    puts, clients = collections.Counter(), set()
    for line in open(os.path.join(work, "rgw.log"), errors="replace"):
        m = put.search(line)
        if m:
            clients.add(m.group(1)); puts[m.group(2).split("?")[0]] += 1
    check(sorted(puts) == listed and set(puts.values()) == {1},
          "RGW: one PUT per manifest file (%d keys, most PUTs of one key %d)" % (len(puts), max(puts.values() or [0])))
    check(clients <= addrs and len(clients) == n, "RGW: the PUTs came from the %d hosts' addresses %s" % (n, sorted(clients)))
    versions = json.load(open(os.path.join(work, label + ".versions.json")))
    keys = collections.Counter(v["Key"][len(label) + 1:] for v in versions.get("Versions", []))
    check(sorted(keys) == listed and set(keys.values()) == {1} and not versions.get("DeleteMarkers"),
          "bucket listing: each file once, a single version")
sys.exit(1 if bad else 0)
PY
}

launchers=(env)
if command -v mpirun > /dev/null; then
  launchers+=(mpi)
else
  skip_part "mpirun is not installed (Debian openmpi-bin): the mpirun launches"
fi
SLURM_DIR="$WORK/slurm"
if PATH="$PATH:/usr/sbin" command -v slurmd > /dev/null && command -v srun > /dev/null; then
  export PATH="$PATH:/usr/sbin"
  AT_EXIT+=('"$SRC/scripts/slurm-local.sh" down "$SLURM_DIR"')  # runs before bed_down (newest first)
  if "$SRC/scripts/slurm-local.sh" up "$SLURM_DIR" --hosts > "$WORK/slurm.env"; then
    launchers+=(slurm)
  else
    fail "the one-machine Slurm cluster with a slurmd on every host did not start (logs above)"
  fi
else
  skip_part "Slurm is not installed (Debian slurm-wlm, munge): the srun launches"
fi
for launcher in "${launchers[@]}"; do
  for n in 2 4; do
    for scenario in staged inplace; do
      "by_$launcher" "$scenario" "$n" "$launcher-$scenario-$n"
      check "$scenario" "$n" "$launcher-$scenario-$n" "$launcher"
    done
  done
done
finish
