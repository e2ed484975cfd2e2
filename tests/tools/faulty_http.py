#!/usr/bin/python3
"""Fault-injecting HTTP/1.1 file server, or proxy, on 127.0.0.1 (or --bind ADDR), for tests of
download retry logic.

With --root DIR it serves files from DIR with GET/HEAD, keep-alive, single byte ranges (206,
416, ETag, Last-Modified, If-Range); with --upstream http://HOST:PORT it is a proxy in front of
another server (nginx, Ceph RGW): see "Proxy mode" below. Either way it injects faults chosen
per request. Python 3 stdlib only.

Start it on a free port (port 0 = the kernel picks one) and read the port back:
    /usr/bin/python3 tests/tools/faulty_http.py --root DIR --port-file "$tmp/port" &
    srv=$!; for i in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    base="http://127.0.0.1:$(cat "$tmp/port")"
    ...; kill "$srv"
It also prints "LISTENING 127.0.0.1:PORT" on stdout once it accepts connections. Shell tests
can use tests/tools/faulty_http.sh instead (faulty_http_start ROOT [FLAGS] sets
$FAULTY_HTTP_URL, faulty_http_proxy UPSTREAM [FLAGS] likewise; faulty_http_stop_all);
tests/tools/faulty_http_test.sh shows every fault.

Faults (--fault KIND on the command line, or ?fault=KIND per request):
    none        serve normally
    reset       send the headers and `after` body bytes, then a TCP RST (client: ECONNRESET)
    truncate    correct Content-Length, send `after` body bytes, then close cleanly (FIN)
    status      answer `status` (default 503) with a short text body, e.g. 500 or 503
    429         answer 429 Too Many Requests with "Retry-After: `retry_after`" (default 1)
    stall       send headers and `after` body bytes, then go silent for `stall` seconds
                (default 30) and close: a client timeout must fire first
    stall-headers  go silent for `stall` seconds before sending anything
    flip        send the full, correct-length body with `flips` bytes (default 1) inverted,
                starting at body offset `after`: only a checksum can notice
    slow        send the full, correct body at `rate` bytes/s (default 1048576)
    hold        send headers and `after` body bytes, then wait until /__control/release is
                requested (at most `stall` seconds), then the rest: a transfer that stays in
                flight exactly as long as a test needs
    hold-request  wait until /__control/release (at most `stall` seconds) before the request
                is answered at all: the file is opened, or the request forwarded upstream,
                only then (so a test can change the object while the request waits)
    endless     no Content-Length (the body ends when the connection closes): send the file,
                then zeros for ever, until the client hangs up; HEAD answers without a length
While a hold or hold-request waits, /__control/stats lists the request under "held", and
/__control/drop ends it with a TCP RST instead (a reset at the moment the test chooses).

Parameters (command line --name VALUE / query ?name=VALUE; the query wins for that request):
    fail_first N   only the first N matching requests get the fault, later ones succeed
                   (default: every request). Counted per path + fault-selecting query, so
                   tests sharing one server do not disturb each other's counts.
    after BYTES    body offset where reset/truncate/stall/flip/hold strike (default: half the
                   body)
    match TEXT     only requests whose path contains TEXT are faulted (and counted for
                   fail_first); default "": every path
    status CODE, retry_after SECONDS, stall SECONDS, flips COUNT, rate BYTES_PER_S (see above)
Example: GET /data.bin?fault=status&status=503&fail_first=2 -> 503, 503, then 200s.
Query parameters never change which file is served (the path alone names it).

Proxy mode (--upstream http://HOST:PORT instead of --root):
    Every request (any method) is forwarded to the upstream as it came: method, path and
    query byte for byte, every header (Host and Authorization included) but the hop-by-hop
    ones (Connection, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade, Expect:
    100-continue is answered here), and the request body (a Content-Length body; a chunked
    one is refused with 501). So an S3 client pointed at the proxy signs for the proxy's
    address (SigV4 covers Host) and the upstream verifies that same signature: RGW accepts
    it. The upstream's answer (status, headers, body) is streamed back, on one upstream
    connection per request; an upstream that cannot be reached is a 502.
    The query is the upstream's, so it selects no fault: faults come from the command line
    or /__control/set, and `match` picks the paths they strike, e.g.
        /__control/set?fault=reset&after=5000&fail_first=1&match=data_batch_
    Only GETs are faulted. status, 429, stall-headers and hold-request strike a matching GET
    before it is forwarded; the body faults (reset, truncate, stall, flip, slow, hold,
    endless) strike a matching GET whose upstream answer is a 2xx with a non-empty
    Content-Length body, with `after` counted in that body (so in the range the client
    asked for). Other requests pass through unfaulted and uncounted; fail_first counts per
    path. Checked against Ceph RGW (tests/tools/faulty_http_test.sh, tests/train/
    rgw_faults_test.sh): signed requests through the proxy verify, a wrong secret still fails.

Control URLs (not faulted, not forwarded):
    GET  /__control/stats  JSON: {"requests": n, "by_path": {...}, "faults": {...}, "log": [...],
                           "held": [...]} where each log entry has method, path, range, fault,
                           status (and for "slow", "paced": [[bytes sent before, seconds since
                           the body started], ...] for each chunk when it was written; in
                           proxy mode "if_match" when the request had one); an entry is
                           logged once its answer is sent. "held" lists the requests (method,
                           path, range) waiting in a hold or hold-request now.
    POST|GET /__control/reset   clears counters and the log, and re-arms the hold faults
    POST|GET /__control/release lets every held response (fault hold, hold-request) finish,
                           now and later
    POST|GET /__control/drop    resets (TCP RST) every response held now
    GET  /__control/set?fault=KIND&fail_first=N&...   changes the server-wide defaults (and
                           restarts the fail_first counts)
"""

import argparse
import email.utils
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("none", "reset", "truncate", "status", "429", "stall", "stall-headers", "flip", "slow", "hold",
          "hold-request", "endless")
REQUEST_FAULTS = ("status", "429", "stall-headers", "hold-request")  # answered before any file or upstream
PARAMS = ("fault", "fail_first", "after", "status", "retry_after", "stall", "flips", "rate", "match")
CHUNK = 256 * 1024
HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "transfer-encoding", "upgrade", "expect")
UPSTREAM_TIMEOUT = 120  # seconds an upstream may stay silent before the proxy gives up on it


class State:
    """Server-wide defaults, per-key counters, the request log and the held requests (thread-safe)."""

    def __init__(self, defaults):
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)  # a held request waits on it
        self.defaults = dict(defaults)
        self.drops = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.released = False
            self.cond.notify_all()
            self.counts = {}
            self.by_path = {}
            self.faults = {}
            self.log = []
            self.held = {}
            self.requests = 0

    def count(self, path):
        """Counts a request for the stats."""
        with self.lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1

    def pick(self, key, fail_first):
        """Counts a faultable request; returns True when it is among the first fail_first for key."""
        with self.lock:
            n = self.counts.get(key, 0) + 1
            self.counts[key] = n
            return fail_first < 0 or n <= fail_first

    def hold(self, entry, seconds):
        """Waits (at most `seconds`) for /__control/release or /__control/drop, listed under
        "held" meanwhile; returns True when dropped."""
        with self.lock:
            drops = self.drops
            self.held[id(entry)] = {k: entry[k] for k in ("method", "path", "range")}
            self.cond.wait_for(lambda: self.released or self.drops != drops, seconds)
            del self.held[id(entry)]
            return self.drops != drops

    def release(self):
        with self.lock:
            self.released = True
            self.cond.notify_all()

    def drop(self):
        with self.lock:
            self.drops += 1
            self.cond.notify_all()

    def record(self, entry):
        with self.lock:
            self.log.append(entry)
            if entry["fault"] != "none":
                self.faults[entry["fault"]] = self.faults.get(entry["fault"], 0) + 1

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "by_path": dict(self.by_path),
                    "faults": dict(self.faults), "log": list(self.log), "held": list(self.held.values())}

def parse_range(header, size):
    """Returns (start, end_inclusive), None for "serve all", or "unsatisfiable"."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None  # absent, another unit or several ranges: a 200 with everything is valid
    spec = header[len("bytes="):].strip()
    first, sep, last = spec.partition("-")
    if not sep:
        return None
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                return "unsatisfiable"
            return (max(0, size - n), size - 1)
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return "unsatisfiable"
    return (start, min(end, size - 1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faulty_http/1"

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("faulty_http: %s\n" % (fmt % args))

    # --- control --------------------------------------------------------------------------
    def control(self, url):
        state = self.server.state
        action = url.path[len("/__control/"):]
        query = urllib.parse.parse_qs(url.query)
        if action == "stats":
            body = json.dumps(state.stats(), indent=1).encode()
        elif action == "reset":
            state.reset()
            body = b'{"ok": true}'
        elif action == "release":
            state.release()
            body = b'{"ok": true}'
        elif action == "drop":
            state.drop()
            body = b'{"ok": true}'
        elif action == "set":
            try:
                updates = {k: query[k][-1] for k in PARAMS if k in query}
                check_params(merge(state.defaults, updates))
            except ValueError as e:
                return self.simple(400, "bad control request: %s\n" % e)
            with state.lock:
                state.defaults.update(updates)
                state.counts = {}  # fail_first counts start again under the new defaults
            body = json.dumps(state.defaults).encode()
        else:
            return self.simple(404, "unknown control action %r\n" % action)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def simple(self, code, text, extra=()):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # --- requests -------------------------------------------------------------------------
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/__control/"):
            return self.control(url)
        if self.server.upstream:
            return self.forward(url)
        if self.command not in ("GET", "HEAD"):
            return self.simple(405, "only GET and HEAD\n")
        query = urllib.parse.parse_qs(url.query)
        state = self.server.state
        with state.lock:
            defaults = dict(state.defaults)
        try:
            p = check_params(merge(defaults, {k: query[k][-1] for k in PARAMS if k in query}))
        except ValueError as e:
            return self.simple(400, "bad fault parameters: %s\n" % e)
        key = url.path + "?" + "&".join("%s=%s" % (k, query[k][-1]) for k in PARAMS if k in query)
        state.count(url.path)
        fault = "none"
        if p["fault"] != "none" and p["match"] in url.path and state.pick(key, p["fail_first"]):
            fault = p["fault"]
        entry = {"method": self.command, "path": url.path,
                 "range": self.headers.get("Range"), "fault": fault, "status": None}
        try:
            if not self.request_fault(fault, p, entry):
                self.serve(url.path, fault, p, entry)
        finally:
            state.record(entry)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def request_fault(self, fault, p, entry):
        """The faults that strike before a file is opened or a request forwarded; True when
        the request has been answered."""
        if fault == "hold-request":
            if not self.server.state.hold(entry, p["stall"]):
                return False
            entry["status"] = 0
            self.reset_connection()
            return True
        if fault == "stall-headers":
            time.sleep(p["stall"])
            entry["status"] = 0
            self.close_connection = True
            return True
        if fault == "status":
            entry["status"] = p["status"]
            self.simple(p["status"], "injected fault: status %d\n" % p["status"])
            return True
        if fault == "429":
            entry["status"] = 429
            self.simple(429, "injected fault: slow down\n", [("Retry-After", str(p["retry_after"]))])
            return True
        return False

    # --- files ----------------------------------------------------------------------------
    def serve(self, path, fault, p, entry):
        fs_path = resolve(self.server.root, path)
        if fs_path is None or not os.path.isfile(fs_path):
            entry["status"] = 404
            return self.simple(404, "not found: %s\n" % path)
        st = os.stat(fs_path)
        size = st.st_size
        etag = '"%x-%x"' % (st.st_mtime_ns, size)
        rng = parse_range(self.headers.get("Range"), size)
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range != etag:
            rng = None
        if rng == "unsatisfiable":
            entry["status"] = 416
            return self.simple(416, "range not satisfiable\n", [("Content-Range", "bytes */%d" % size)])
        if fault == "endless":
            entry["status"] = 200
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            if self.command != "HEAD":
                with open(fs_path, "rb") as f:
                    self.send_endless(f, size)
            return
        start, end = rng if rng else (0, size - 1)
        length = end - start + 1 if size else 0
        code = 206 if rng else 200
        entry["status"] = code
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(fs_path, "rb") as f:
            f.seek(start)
            self.send_body(f, length, fault, p, entry)

    def send_body(self, src, length, fault, p, entry):
        """Sends `length` bytes read from src (a file or an upstream's answer), with a body fault."""
        after = p["after"] if p["after"] >= 0 else length // 2
        after = min(after, length)
        if fault in ("reset", "truncate", "stall"):
            self.copy(src, after)
            self.wfile.flush()
            if fault == "stall":
                time.sleep(p["stall"])
            if fault == "reset":
                return self.reset_connection()
            self.close_connection = True
            return
        if fault == "hold":
            self.copy(src, after)
            self.wfile.flush()
            if self.server.state.hold(entry, p["stall"]):
                return self.reset_connection()
            return self.copy(src, length - after)
        if fault == "flip":
            self.copy(src, after)
            bad = bytearray(src.read(min(p["flips"], length - after)))
            for i in range(len(bad)):
                bad[i] ^= 0xFF
            self.wfile.write(bytes(bad))
            return self.copy(src, length - after - len(bad))
        if fault == "slow":
            entry["paced"] = []
            return self.copy(src, length, p["rate"], entry["paced"])
        self.copy(src, length)

    def reset_connection(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()  # linger 0: the kernel sends RST, not FIN
        self.close_connection = True

    def send_endless(self, src, length):
        """The body of an answer without Content-Length: src's `length` bytes, then zeros
        until the client hangs up."""
        zeros = bytes(CHUNK)
        try:
            self.copy(src, length)
            while True:
                self.wfile.write(zeros)
        except OSError:
            pass  # the client gave up: what an endless body is for

    def copy(self, f, n, rate=0, paced=None):
        """Sends n bytes of f; at most `rate` bytes per second when rate > 0. Appends
        [bytes sent before, seconds since the start] of each chunk to `paced` if given."""
        chunk = CHUNK if rate <= 0 else max(1, min(CHUNK, rate // 10))
        start, sent = time.monotonic(), 0
        while n > 0:
            data = f.read(min(chunk, n))
            if not data:
                raise IOError("the body ended early (the file shrank, or the upstream closed)")
            if paced is not None:
                paced.append([sent, time.monotonic() - start])
            self.wfile.write(data)
            n -= len(data)
            sent += len(data)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)

    # --- proxy ----------------------------------------------------------------------------
    def forward(self, url):
        """Proxy mode: the request to the upstream as it came, its answer back with the
        server-wide fault applied to matching GETs (see the module docstring)."""
        state = self.server.state
        state.count(url.path)
        with state.lock:
            p = check_params(state.defaults)  # checked when set: converts the numbers
        faultable = self.command == "GET" and p["fault"] != "none" and p["match"] in url.path
        entry = {"method": self.command, "path": url.path, "range": self.headers.get("Range"),
                 "fault": "none", "status": None}
        if self.headers.get("If-Match") is not None:
            entry["if_match"] = self.headers.get("If-Match")
        try:
            if faultable and p["fault"] in REQUEST_FAULTS and state.pick(url.path, p["fail_first"]):
                entry["fault"] = p["fault"]
                if self.request_fault(p["fault"], p, entry):
                    self.close_connection = True  # the request body (if any) was not read
                    return
            self.relay(p, faultable and p["fault"] not in REQUEST_FAULTS, entry)
        finally:
            state.record(entry)

    def relay(self, p, body_faultable, entry):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            entry["status"] = 501
            self.close_connection = True
            return self.simple(501, "faulty_http proxy: chunked request bodies are not supported\n")
        host, port = self.server.upstream
        conn = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT)
        try:
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        conn.putheader(k, v)
                conn.endheaders()
                self.copy_request_body(conn)
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                entry["status"] = 502
                self.close_connection = True
                return self.simple(502, "faulty_http proxy: upstream %s:%d: %s\n" % (host, port, e))
            entry["status"] = resp.status
            self.relay_answer(resp, p, body_faultable, entry)
        finally:
            conn.close()

    def copy_request_body(self, conn):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            data = self.rfile.read(min(CHUNK, n))
            if not data:
                raise ConnectionError("the client's request body ended early")
            conn.send(data)
            n -= len(data)

    def relay_answer(self, resp, p, body_faultable, entry):
        """Streams the upstream's answer back: status and headers as they came (but the
        hop-by-hop ones), the body with the fault applied where it may strike."""
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        cl = resp.getheader("Content-Length")
        length = int(cl) if cl is not None and cl.strip().isdigit() else None
        if self.command == "HEAD" or resp.status in (204, 304) or resp.status < 200:
            return self.send_head(resp, headers)
        if length is None:  # chunked or ended by close upstream: chunked here, never faulted
            self.send_head(resp, headers + [("Transfer-Encoding", "chunked")])
            while True:
                data = resp.read(CHUNK)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                if not data:
                    return
        fault = "none"
        if body_faultable and 200 <= resp.status < 300 and length > 0 and \
                self.server.state.pick(entry["path"], p["fail_first"]):
            fault = p["fault"]
        entry["fault"] = fault
        if fault == "endless":
            self.close_connection = True
            self.send_head(resp, [(k, v) for k, v in headers if k.lower() != "content-length"] +
                           [("Connection", "close")])
            return self.send_endless(resp, length)
        self.send_head(resp, headers)
        self.send_body(resp, length, fault, p, entry)

    def send_head(self, resp, headers):
        self.send_response_only(resp.status, resp.reason)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass  # the socket was reset on purpose


def resolve(root, url_path):
    """Maps a URL path into root; None when it escapes root."""
    rel = urllib.parse.unquote(url_path).lstrip("/")
    full = os.path.realpath(os.path.join(root, rel))
    if full != root and not full.startswith(root + os.sep):
        return None
    return full


def merge(defaults, updates):
    merged = dict(defaults)
    merged.update(updates)
    return merged


def check_params(p):
    """Converts parameter strings to numbers and validates them; raises ValueError."""
    out = dict(p)
    if out["fault"] not in FAULTS:
        raise ValueError("fault must be one of %s, not %r" % (", ".join(FAULTS), out["fault"]))
    for k in ("fail_first", "after", "status", "flips", "rate"):
        out[k] = int(out[k])
    for k in ("retry_after", "stall"):
        out[k] = float(out[k])
    out["retry_after"] = int(out["retry_after"]) if out["retry_after"].is_integer() else out["retry_after"]
    if not 100 <= out["status"] <= 599:
        raise ValueError("status must be an HTTP status code")
    if out["fault"] == "slow" and out["rate"] <= 0:
        raise ValueError("rate must be > 0 bytes/s")
    return out


def parse_upstream(ap, url):
    """(host, port) of an http://HOST[:PORT] upstream; exits with a usage error otherwise."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or not u.hostname or u.path not in ("", "/") or u.query or u.username:
        ap.error("--upstream must be http://HOST[:PORT] (no path, query or credentials), not %r" % url)
    return (u.hostname, u.port or 80)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--root", help="directory to serve")
    where.add_argument("--upstream", metavar="http://HOST:PORT",
                       help="proxy mode: forward every request to this server (see the docstring)")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="IPv4 address to listen on (default 127.0.0.1; e.g. a test-bed host's address)")
    ap.add_argument("--port", type=int, default=0, help="port on the --bind address (0: a free one)")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--fault", default="none", choices=FAULTS)
    ap.add_argument("--fail-first", type=int, default=-1,
                    help="fault only the first N requests per path (default: all)")
    ap.add_argument("--after", type=int, default=-1, help="body offset of the fault (default: half)")
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--retry-after", type=float, default=1)
    ap.add_argument("--stall", type=float, default=30.0)
    ap.add_argument("--flips", type=int, default=1)
    ap.add_argument("--rate", type=int, default=1048576, help="bytes/s of the slow fault")
    ap.add_argument("--match", default="", help="fault only paths containing this text (default: all)")
    ap.add_argument("--quiet", action="store_true", help="no per-request log on stderr")
    a = ap.parse_args()
    defaults = check_params({"fault": a.fault, "fail_first": a.fail_first, "after": a.after,
                             "status": a.status, "retry_after": a.retry_after,
                             "stall": a.stall, "flips": a.flips, "rate": a.rate, "match": a.match})
    server = Server((a.bind, a.port), Handler)
    server.root = os.path.realpath(a.root) if a.root else None
    server.upstream = parse_upstream(ap, a.upstream) if a.upstream else None
    server.state = State(defaults)
    server.quiet = a.quiet
    port = server.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    print("LISTENING %s:%d" % (a.bind, port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
