# shellcheck shell=bash
# Shell helpers to run tests/tools/faulty_http.py from a test script (source this file):
#   source "$TB_SOURCE_DIR/tests/tools/faulty_http.sh"
#   trap faulty_http_stop_all EXIT
#   faulty_http_start "$root_dir" --fault status --fail-first 2   # any faulty_http.py flags
#   curl "$FAULTY_HTTP_URL/file.bin?fault=reset&after=1000"        # per-request faults
#   faulty_http_proxy "$TB_S3_ENDPOINT" --fault reset --match data_batch_  # proxy mode
# faulty_http_start sets FAULTY_HTTP_URL (http://127.0.0.1:PORT, or the --bind address) and FAULTY_HTTP_PID, and adds
# the pid to FAULTY_HTTP_PIDS; the server's stderr goes to $FAULTY_HTTP_LOG_DIR (default /tmp).

FAULTY_HTTP_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/faulty_http.py"
FAULTY_HTTP_PIDS=()

faulty_http_start() {
  local root="$1"
  shift
  faulty_http_launch --root "$root" "$@"
}

# faulty_http_proxy http://HOST:PORT [FLAGS]: the proxy mode in front of that server.
faulty_http_proxy() {
  local upstream="$1"
  shift
  faulty_http_launch --upstream "$upstream" "$@"
}

faulty_http_launch() {
  local dir i host=127.0.0.1 prev=""
  for i in "$@"; do [ "$prev" = --bind ] && host="$i"; prev="$i"; done
  dir="$(mktemp -d "${FAULTY_HTTP_LOG_DIR:-/tmp}/faulty-http-XXXXXX")"
  /usr/bin/python3 "$FAULTY_HTTP_PY" --port-file "$dir/port" --quiet "$@" \
    > "$dir/out" 2> "$dir/err" &
  FAULTY_HTTP_PID=$!
  FAULTY_HTTP_PIDS+=("$FAULTY_HTTP_PID")
  for ((i = 0; i < 100; i++)); do
    [ -s "$dir/port" ] && break
    kill -0 "$FAULTY_HTTP_PID" 2> /dev/null || break
    sleep 0.1
  done
  if [ ! -s "$dir/port" ]; then
    echo "faulty_http did not start: $(cat "$dir/err")" >&2
    return 1
  fi
  FAULTY_HTTP_URL="http://$host:$(cat "$dir/port")"
  FAULTY_HTTP_DIR="$dir"
  export FAULTY_HTTP_URL FAULTY_HTTP_PID FAULTY_HTTP_DIR
}

# Stops every server this shell started (by pid) and removes their scratch dirs.
faulty_http_stop_all() {
  local p
  for p in "${FAULTY_HTTP_PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${FAULTY_HTTP_PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  FAULTY_HTTP_PIDS=()
}
