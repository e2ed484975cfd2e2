#!/usr/bin/env bash
# Secrets never leave the process: a full `tierbench run` (download ... upload, preview),
# `cp` both ways, `doctor` and every verb's --help run with a recognisable secret key and
# session token in the environment, and with user:password@ in the origin URL; every output
# (stdout, stderr, log, results JSON, preview files, anything under the output dir) is
# searched for the secrets.
source "$(dirname "$0")/lib.sh"
need_env TB_HTTP_ORIGIN TB_HTTP_ROOT TB_S3_ENDPOINT AWS_SECRET_ACCESS_KEY
make_dataset "$WORK/data"
id="secrets-$$-$RANDOM"
url=$(publish "$WORK/data" "$id")
bucket=tb-reliability
/usr/bin/aws s3api create-bucket --endpoint-url "$TB_S3_ENDPOINT" --bucket "$bucket" >/dev/null 2>&1 || true
out="$WORK/out"
mkdir -p "$out"
real_secret="$AWS_SECRET_ACCESS_KEY"
token="TBSESSIONTOKENsentinel4242"
password="TBurlPASSWORDsentinel77"
base=(--scratch "$WORK/scratch" --endpoint-url "$TB_S3_ENDPOINT" --skip train)

# 1. A full successful run with the real (recognisable) secret key.
"$TB_BIN" run --origin "$url" --upload-to "s3://$bucket/$id/run" --out "$out/full.json" "${base[@]}" \
  >"$out/full.stdout" 2>"$out/full.stderr"
expect_rc $? 0 "full run with credentials"
# 2. The same with a session token set (RGW may refuse it: the error path must not leak either).
AWS_SESSION_TOKEN="$token" "$TB_BIN" run --origin "$url" --upload-to "s3://$bucket/$id/token" \
  --out "$out/token.json" "${base[@]}" >"$out/token.stdout" 2>"$out/token.stderr"
echo "run with a session token: exit $?"
# 3. A wrong secret (the failure path prints S3 errors).
AWS_SECRET_ACCESS_KEY="${real_secret}WRONG" "$TB_BIN" run --origin "$url" --upload-to "s3://$bucket/$id/wrong" \
  --out "$out/wrong.json" "${base[@]}" --skip preview >"$out/wrong.stdout" 2>"$out/wrong.stderr"
expect_rc $? 1 "run with a wrong secret"
# 4. user:password@ in the origin URL: download fails (nginx wants no auth: fine) or succeeds;
#    either way the password must appear nowhere.
pw_url="${url/http:\/\//http://tbuser:$password@}"
"$TB_BIN" run --origin "$pw_url" --out "$out/pw.json" "${base[@]}" --skip upload,preview \
  >"$out/pw.stdout" 2>"$out/pw.stderr"
echo "run with user:password@ origin: exit $?"
"$TB_BIN" run --origin "http://tbuser:$password@127.0.0.1:9/x.tar.gz" --out "$out/pw-refused.json" \
  "${base[@]}" --skip upload,preview >"$out/pw-refused.stdout" 2>"$out/pw-refused.stderr"
expect_rc $? 1 "unreachable user:password@ origin"
# 5. cp both ways, doctor, and every --help.
AWS_SESSION_TOKEN="$token" "$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "$WORK/data/cifar-10-python.tar.gz" \
  "s3://$bucket/$id/cp/" >"$out/cp-token.stdout" 2>"$out/cp-token.stderr"
"$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "$WORK/data/cifar-10-python.tar.gz" "s3://$bucket/$id/cp/" \
  >"$out/cp-up.stdout" 2>"$out/cp-up.stderr"
expect_rc $? 0 "cp upload"
"$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" "s3://$bucket/$id/cp/cifar-10-python.tar.gz" "$WORK/back.tgz" \
  >"$out/cp-down.stdout" 2>"$out/cp-down.stderr"
expect_rc $? 0 "cp download"
"$TB_BIN" cp "$pw_url" "$WORK/pw-copy.tgz" >"$out/cp-pw.stdout" 2>"$out/cp-pw.stderr"
"$TB_BIN" cp "http://tbuser:$password@127.0.0.1:9/x" "$WORK/pw-copy2.tgz" >"$out/cp-pw2.stdout" 2>"$out/cp-pw2.stderr"
AWS_SECRET_ACCESS_KEY="${real_secret}WRONG" "$TB_BIN" cp --endpoint-url "$TB_S3_ENDPOINT" \
  "$WORK/data/cifar-10-python.tar.gz" "s3://$bucket/$id/cp-wrong/" >"$out/cp-wrong.stdout" 2>"$out/cp-wrong.stderr"
AWS_SESSION_TOKEN="$token" "$TB_BIN" doctor --origin "$pw_url" --upload-to "s3://$bucket/$id/doc" \
  --endpoint-url "$TB_S3_ENDPOINT" --scratch "$WORK/scratch" >"$out/doctor.stdout" 2>"$out/doctor.stderr"
for verb in run compare dataset cp train preview doctor; do
  AWS_SESSION_TOKEN="$token" "$TB_BIN" "$verb" --help >"$out/help-$verb.stdout" 2>"$out/help-$verb.stderr"
done
AWS_SESSION_TOKEN="$token" "$TB_BIN" --help >"$out/help.stdout" 2>"$out/help.stderr"
# Everything the runs wrote: outputs, logs, results JSON, preview images, scratch.
cp "$WORK"/out/*.log "$out/" 2>/dev/null || true
for secret in "$real_secret" "$token" "$password"; do
  hits=$(grep -rlaF -- "$secret" "$out" "$WORK/scratch" "$WORK"/*.log 2>/dev/null)
  if [ -z "$hits" ]; then pass "secret '${secret:0:6}...' appears in no output"; else
    fail "secret '${secret:0:6}...' found in: $(echo $hits)"
    grep -raoF -- "$secret" $hits | head -5 >&2
    for f in $hits; do grep -aoE ".{0,60}${secret}.{0,20}" "$f" | head -2 >&2; done
  fi
done
n=$(ls "$out" | wc -l)
echo "searched $n output files (+ scratch)"
/usr/bin/aws s3 rm --endpoint-url "$TB_S3_ENDPOINT" --recursive "s3://$bucket/$id/" >/dev/null 2>&1 || true
finish
