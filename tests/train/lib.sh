# shellcheck shell=bash
# Shared start of the training tests against RGW (sourced, not run): the services' endpoints
# (services.env), skip (exit 77, or a failure where TB_REQUIRE_SERVICES=1) without RGW or the
# libtorch plugin, tests/tools/faulty_http.sh, and pass/fail/expect_eq and `field` over a
# `tierbench train --json` summary.
set -uo pipefail
: "${TB_BIN:?}" "${TB_SOURCE_DIR:?}"
py=/usr/bin/python3
# shellcheck disable=SC1091
[ -f /tmp/tierbench-services/services.env ] && [ -z "${TB_S3_ENDPOINT:-}" ] && source /tmp/tierbench-services/services.env
skip() {
  [ "${TB_REQUIRE_SERVICES:-0}" = 1 ] && { echo "FAIL: $*" >&2; exit 1; }
  echo "skipping: $*"; exit 77
}
[ -n "${TB_S3_ENDPOINT:-}" ] || skip "TB_S3_ENDPOINT not set (run scripts/services.sh up)"
if [ ! -e "$(dirname "$TB_BIN")/libtierbench_torch.so" ]; then
  [ "${TB_BUILT_WITH_TORCH:-ON}" != OFF ] && { echo "FAIL: the training plugin is missing" >&2; exit 1; }
  echo "skipping: tierbench built without libtorch"; exit 77
fi
# shellcheck source-path=SCRIPTDIR source=../tools/faulty_http.sh
source "$TB_SOURCE_DIR/tests/tools/faulty_http.sh"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
expect_eq() { if [ "$1" = "$2" ]; then pass "$3"; else fail "$3: expected '$2', got '$1'"; fi; }
# field FILE EXPR: a Python expression over the JSON summary `d` (the last line of FILE).
field() { "$py" -c "import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print($2)" "$1"; }
