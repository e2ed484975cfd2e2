#!/usr/bin/env bash
# The test infrastructure itself, on stand-ins so that it runs anywhere in seconds:
#  1. scripts/test.sh stops the services it started even though it cd's into the build
#     folder before its EXIT trap runs (a copy of scripts/ with stand-in build.sh,
#     services.sh and ctest records what was called);
#  2. scripts/check-skips.sh, on the output of a real CTest run of a tiny project: an allowed
#     skip passes and is listed with its reason, any other skip fails and is named, and
#     CTest's own summary line still prints;
#  3. no skip path in tests/ ends with status zero (CTest would count it as a pass).
set -euo pipefail
: "${TB_SOURCE_DIR:?}"
work="$(mktemp -d /tmp/tb-test-infra.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# --- 1. test.sh's EXIT trap from inside the build folder -------------------------------------
root="$work/clone"
mkdir -p "$root/scripts" "$root/tests" "$work/bin"
cp "$TB_SOURCE_DIR/scripts/test.sh" "$TB_SOURCE_DIR/scripts/check-skips.sh" "$root/scripts/"
: > "$root/tests/allowed-skips.txt"
calls="$work/calls"
printf '#!/bin/sh\nmkdir -p build\n' > "$root/scripts/build.sh"
cat > "$root/scripts/services.sh" <<STUB
#!/bin/sh
echo "services \$1" >> "$calls"
case "\$1" in
  status) exit 1 ;;  # not running: test.sh starts them, so it must stop them
  up) mkdir -p "$work/svc" && echo 'export TB_S3_ENDPOINT=http://127.0.0.1:1' > "$work/svc/services.env" ;;
esac
STUB
cat > "$work/bin/ctest" <<STUB
#!/bin/sh
echo "ctest in \$(pwd)" >> "$calls"
echo "100% tests passed, 0 tests failed out of 1"
STUB
chmod +x "$root/scripts/"*.sh "$work/bin/ctest"
if (cd / && PATH="$work/bin:$PATH" TB_SKIP_INSTALL=1 TB_SERVICES_DIR="$work/svc" "$root/scripts/test.sh" > "$work/test.out" 2>&1); then
  pass "test.sh with stand-ins exits 0"
else
  fail "test.sh with stand-ins: $(cat "$work/test.out")"
fi
grep -qx "ctest in $root/build" "$calls" && pass "ctest ran in the build folder" || fail "calls: $(cat "$calls")"
if [ "$(tail -n 1 "$calls")" = "services down" ]; then pass "the services it started were stopped after ctest"
else fail "services not stopped; calls: $(tr '\n' ';' < "$calls")"; fi

# --- 2. check-skips on a real CTest run -------------------------------------------------------
mkdir -p "$work/proj"
cat > "$work/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(skips NONE)
enable_testing()
add_test(NAME ok COMMAND true)
add_test(NAME env.machine_dependent COMMAND sh -c "exit 77")
add_test(NAME s3.needs_rgw COMMAND sh -c "exit 77")
set_tests_properties(env.machine_dependent s3.needs_rgw PROPERTIES SKIP_RETURN_CODE 77)
CM
cmake -S "$work/proj" -B "$work/proj/b" > /dev/null
(cd "$work/proj/b" && ctest > "$work/ctest.log" 2>&1) || true
grep -q "^100% tests passed, 0 tests failed out of 3" "$work/ctest.log" && pass "CTest's summary line prints" ||
  fail "no summary line: $(cat "$work/ctest.log")"
printf '# comment\nenv\\.machine_dependent   depends on the machine\n' > "$work/allowed"
if "$TB_SOURCE_DIR/scripts/check-skips.sh" "$work/ctest.log" "$work/allowed" > "$work/cs.out" 2>&1; then
  fail "check-skips accepted a skipped test that is not allowed"
else
  pass "check-skips fails on a skip not allowed"
fi
grep -q "SKIPPED BUT REQUIRED: s3.needs_rgw" "$work/cs.out" && pass "it names the test" || fail "output: $(cat "$work/cs.out")"
grep -q "allowed: depends on the machine): env.machine_dependent" "$work/cs.out" && pass "it lists the allowed skip with its reason" ||
  fail "output: $(cat "$work/cs.out")"
printf 'env\\.machine_dependent a\ns3\\..* b\n' > "$work/allowed"
"$TB_SOURCE_DIR/scripts/check-skips.sh" "$work/ctest.log" "$work/allowed" > "$work/cs.out" 2>&1 &&
  pass "check-skips passes when every skip is allowed" || fail "output: $(cat "$work/cs.out")"

# --- 3. no skip path exits 0 ------------------------------------------------------------------
# Neither a line that mentions a skip nor the line after it may end the script with status zero.
bad="$(grep -rn -A1 --include='*.sh' -E '(skip|SKIP)' "$TB_SOURCE_DIR/tests" | grep -E 'exit [0]\b' || true)"
[ -z "$bad" ] && pass "no skip path in tests/ exits 0" || fail "skip paths exiting 0: $bad"

if ((failures > 0)); then echo "test_infra_test: $failures check(s) FAILED"; exit 1; fi
echo "test_infra_test: all checks passed"
