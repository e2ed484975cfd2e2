#!/usr/bin/env bash
# Load: TB_LOAD_OBJECTS (default 10000) small objects (1..8 KiB) uploaded to RGW with
# `tierbench cp --recursive --concurrency 64`, listed back with awscli: none lost, none extra,
# every ETag (= md5 for single-part uploads) matches the local md5, and a recursive copy back
# is byte-identical. Peak RSS of tierbench (GNU time -v) must stay under TB_LOAD_MAX_RSS_MB
# (default 256); it is printed for the report.
source "$(dirname "$0")/lib.sh"
need_env TB_S3_ENDPOINT
n="${TB_LOAD_OBJECTS:-10000}"
max_rss_mb="${TB_LOAD_MAX_RSS_MB:-256}"
bucket=tb-reliability
prefix="load-$$-$RANDOM"
/usr/bin/aws s3api create-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" >/dev/null 2>&1 || true
cleanup() {
  /usr/bin/aws s3 rm --endpoint-url "$TB_S3_ENDPOINT" --recursive --only-show-errors "s3://$bucket/$prefix/" \
    >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
"$PY" - "$WORK/src" "$n" <<'PYEOF'
import hashlib, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
with open(root + ".md5", "w") as m:
    for i in range(n):
        rel = "d%02d/obj-%05d.bin" % (i % 37, i)
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = rnd.randbytes(rnd.randint(1, 8192))
        open(path, "wb").write(data)
        m.write("%s  %s\n" % (hashlib.md5(data).hexdigest(), rel))
PYEOF
t0=$SECONDS
/usr/bin/time -v "$TB_BIN" cp --recursive --concurrency 64 --endpoint-url "$TB_S3_ENDPOINT" "$WORK/src" \
  "s3://$bucket/$prefix/" >"$WORK/up.out" 2>"$WORK/up.err"
rc=$?
up_s=$((SECONDS - t0))
expect_rc "$rc" 0 "upload of $n objects"
[ "$rc" = 0 ] || tail -5 "$WORK/up.err" >&2
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/up.err")
echo "upload: $n objects in ${up_s}s; tierbench peak RSS $((rss_kb / 1024)) MiB; $(cat "$WORK/up.out")"
if [ "$((rss_kb / 1024))" -le "$max_rss_mb" ]; then pass "peak RSS $((rss_kb / 1024)) MiB <= $max_rss_mb MiB"
else fail "peak RSS $((rss_kb / 1024)) MiB > $max_rss_mb MiB"; fi

/usr/bin/aws s3api list-objects-v2 --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" --prefix "$prefix/" \
  --query 'Contents[].[ETag,Key]' --output text > "$WORK/listing.txt" 2>"$WORK/list.err" || fail "listing: $(cat "$WORK/list.err")"
sed -e 's/"//g' -e "s#\t$prefix/#  #" "$WORK/listing.txt" | sort -k2 > "$WORK/remote.md5"
sort -k2 "$WORK/src.md5" > "$WORK/local.md5"
expect_eq "$(wc -l < "$WORK/remote.md5")" "$n" "all $n objects listed back"
d=$(diff "$WORK/local.md5" "$WORK/remote.md5" | head -5)
[ -z "$d" ] && pass "every listed ETag equals the local md5 and no key is lost or extra" || fail "listing differs: $d"

t0=$SECONDS
/usr/bin/time -v "$TB_BIN" cp --recursive --concurrency 64 --endpoint-url "$TB_S3_ENDPOINT" "s3://$bucket/$prefix/" \
  "$WORK/back" >"$WORK/down.out" 2>"$WORK/down.err"
expect_rc $? 0 "download of $n objects"
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/down.err")
echo "download: $n objects in $((SECONDS - t0))s; tierbench peak RSS $((rss_kb / 1024)) MiB"
(cd "$WORK/back" && md5sum -c --quiet "$WORK/src.md5" >"$WORK/check.txt" 2>&1) && pass "copy back matches every md5" \
  || fail "copy back differs: $(head -3 "$WORK/check.txt")"
expect_eq "$(find "$WORK/back" -type f | wc -l)" "$n" "copy back has exactly $n files"
finish
