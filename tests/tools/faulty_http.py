#!/usr/bin/python3
"""Fault-injecting HTTP/1.1 file server on 127.0.0.1 (or --bind ADDR), for tests of download retry logic.

Serves files from --root with GET/HEAD, keep-alive, single byte ranges (206, 416, ETag,
Last-Modified, If-Range), and injects faults chosen per request. Python 3 stdlib only.

Start it on a free port (port 0 = the kernel picks one) and read the port back:
    /usr/bin/python3 tests/tools/faulty_http.py --root DIR --port-file "$tmp/port" &
    srv=$!; for i in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
    base="http://127.0.0.1:$(cat "$tmp/port")"
    ...; kill "$srv"
It also prints "LISTENING 127.0.0.1:PORT" on stdout once it accepts connections. Shell tests
can use tests/tools/faulty_http.sh instead (faulty_http_start ROOT [FLAGS] sets
$FAULTY_HTTP_URL; faulty_http_stop_all); tests/tools/faulty_http_test.sh shows every fault.

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
    endless     no Content-Length (the body ends when the connection closes): send the file,
                then zeros for ever, until the client hangs up; HEAD answers without a length

Parameters (command line --name VALUE / query ?name=VALUE; the query wins for that request):
    fail_first N   only the first N matching requests get the fault, later ones succeed
                   (default: every request). Counted per path + fault-selecting query, so
                   tests sharing one server do not disturb each other's counts.
    after BYTES    body offset where reset/truncate/stall/flip strike (default: half the body)
    status CODE, retry_after SECONDS, stall SECONDS, flips COUNT, rate BYTES_PER_S (see above)
Example: GET /data.bin?fault=status&status=503&fail_first=2 -> 503, 503, then 200s.
Query parameters never change which file is served (the path alone names it).

Control URLs (not faulted):
    GET  /__control/stats  JSON: {"requests": n, "by_path": {...}, "faults": {...}, "log": [...]}
                           where each log entry has method, path, range, fault, status
                           (and for "slow", "paced": [[bytes sent before, seconds since
                           the body started], ...] for each chunk when it was written)
    POST|GET /__control/reset   clears counters and the log, and re-arms the hold fault
    POST|GET /__control/release lets every held response (fault hold) finish, now and later
    GET  /__control/set?fault=KIND&fail_first=N&...   changes the server-wide defaults (and
                           restarts the fail_first counts)
"""

import argparse
import email.utils
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("none", "reset", "truncate", "status", "429", "stall", "stall-headers", "flip", "slow", "hold", "endless")
PARAMS = ("fault", "fail_first", "after", "status", "retry_after", "stall", "flips", "rate")
CHUNK = 256 * 1024


class State:
    """Server-wide defaults, per-key counters and the request log (thread-safe)."""

    def __init__(self, defaults):
        self.lock = threading.Lock()
        self.defaults = dict(defaults)
        self.released = threading.Event()
        self.reset()

    def reset(self):
        self.released.clear()
        with self.lock:
            self.counts = {}
            self.by_path = {}
            self.faults = {}
            self.log = []
            self.requests = 0

    def take(self, key, path, fail_first):
        """Counts a request; returns True when it is among the first fail_first for key."""
        with self.lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            n = self.counts.get(key, 0) + 1
            self.counts[key] = n
            return fail_first < 0 or n <= fail_first

    def record(self, entry):
        with self.lock:
            self.log.append(entry)
            if entry["fault"] != "none":
                self.faults[entry["fault"]] = self.faults.get(entry["fault"], 0) + 1

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "by_path": dict(self.by_path),
                    "faults": dict(self.faults), "log": list(self.log)}


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
            state.released.set()
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

    # --- files ----------------------------------------------------------------------------
    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/__control/"):
            return self.control(url)
        self.simple(405, "only GET and HEAD\n")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/__control/"):
            return self.control(url)
        query = urllib.parse.parse_qs(url.query)
        state = self.server.state
        with state.lock:
            defaults = dict(state.defaults)
        try:
            p = check_params(merge(defaults, {k: query[k][-1] for k in PARAMS if k in query}))
        except ValueError as e:
            return self.simple(400, "bad fault parameters: %s\n" % e)
        key = url.path + "?" + "&".join("%s=%s" % (k, query[k][-1]) for k in PARAMS if k in query)
        fault = p["fault"] if state.take(key, url.path, p["fail_first"]) else "none"
        entry = {"method": self.command, "path": url.path,
                 "range": self.headers.get("Range"), "fault": fault, "status": None}
        try:
            self.serve(url.path, fault, p, entry)
        finally:
            state.record(entry)

    def serve(self, path, fault, p, entry):
        if fault == "stall-headers":
            time.sleep(p["stall"])
            entry["status"] = 0
            self.close_connection = True
            return
        if fault == "status":
            entry["status"] = p["status"]
            return self.simple(p["status"], "injected fault: status %d\n" % p["status"])
        if fault == "429":
            entry["status"] = 429
            return self.simple(429, "injected fault: slow down\n",
                               [("Retry-After", str(p["retry_after"]))])
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
            return self.serve_endless(fs_path, entry)
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
        after = p["after"] if p["after"] >= 0 else length // 2
        after = min(after, length)
        with open(fs_path, "rb") as f:
            f.seek(start)
            if fault in ("reset", "truncate", "stall"):
                self.copy(f, after)
                self.wfile.flush()
                if fault == "stall":
                    time.sleep(p["stall"])
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()  # linger 0: the kernel sends RST, not FIN
                self.close_connection = True
                return
            if fault == "hold":
                self.copy(f, after)
                self.wfile.flush()
                self.server.state.released.wait(p["stall"])
                self.copy(f, length - after)
                return
            if fault == "flip":
                self.copy(f, after)
                bad = bytearray(f.read(min(p["flips"], length - after)))
                for i in range(len(bad)):
                    bad[i] ^= 0xFF
                self.wfile.write(bytes(bad))
                self.copy(f, length - after - len(bad))
                return
            if fault == "slow":
                entry["paced"] = []
                return self.copy(f, length, p["rate"], entry["paced"])
            self.copy(f, length)

    def serve_endless(self, fs_path, entry):
        """A 200 without Content-Length: the file, then zeros until the client hangs up."""
        entry["status"] = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command == "HEAD":
            return
        zeros = bytes(CHUNK)
        try:
            with open(fs_path, "rb") as f:
                self.copy(f, os.path.getsize(fs_path))
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
                raise IOError("file shrank while serving")
            if paced is not None:
                paced.append([sent, time.monotonic() - start])
            self.wfile.write(data)
            n -= len(data)
            sent += len(data)
            if rate > 0:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)

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


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="directory to serve")
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
    ap.add_argument("--quiet", action="store_true", help="no per-request log on stderr")
    a = ap.parse_args()
    defaults = check_params({"fault": a.fault, "fail_first": a.fail_first, "after": a.after,
                             "status": a.status, "retry_after": a.retry_after,
                             "stall": a.stall, "flips": a.flips, "rate": a.rate})
    server = Server((a.bind, a.port), Handler)
    server.root = os.path.realpath(a.root)
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
