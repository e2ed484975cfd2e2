# Shared helpers for the reliability tests (sourced): the pipeline helpers plus fault tools.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/../pipeline/lib.sh"
MAKE_TAR="$(dirname "${BASH_SOURCE[0]}")/make_tar.py"
md5_of() { md5sum < "$1" | cut -c1-32; }
# temp_files DIR: lists tierbench temporary files (".NAME.tb-tmp.PID.N", see util/fs.h) under DIR.
temp_files() { find "$1" -name '.*.tb-tmp.*' 2>/dev/null; }
expect_no_temp() {
  local left
  left=$(temp_files "$1")
  if [ -z "$left" ]; then pass "$2: no temporary files left"; else fail "$2: temporary files left: $left"; fi
}
# progressed FILE LABEL: FILE (stderr of a command run with --progress) shows the live
# progress line LABEL with a non-zero byte count: the work is under way.
progressed() { tr '\r' '\n' < "$1" | grep -aqE "^(.\[K)?$2  [1-9]"; }
expect_rc() { expect_eq "$1" "$2" "$3 exits $2"; }
# expect_interrupted RESULTS NAME STAGE OTHER OTHER_STATUS: the results file exists, STAGE and
# the run are marked interrupted, and stage OTHER has OTHER_STATUS.
expect_interrupted() {
  if [ -s "$1" ]; then
    expect_eq "$(stage "$1" "$3" status)" interrupted "$2: $3 marked interrupted"
    expect_eq "$(json "$1" "d['status']")" interrupted "$2: run marked interrupted"
    expect_eq "$(stage "$1" "$4" status)" "$5" "$2: $4 $5"
  else
    fail "$2: no results JSON"
  fi
}
# s3_uploads BUCKET [PREFIX]: the number of incomplete multipart uploads in BUCKET (under
# PREFIX: other tests share the bucket, so a test counts only its own keys).
s3_uploads() {
  /usr/bin/aws s3api list-multipart-uploads --endpoint-url "$TB_S3_ENDPOINT" --bucket "$1" --prefix "${2:-}" \
    --query 'length(Uploads || `[]`)' --output text 2>/dev/null
}
