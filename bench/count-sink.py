#!/usr/bin/env python3
"""A counting InfluxDB 1.x stand-in for bench/flood-chain.sh: `POST /write` answers 204 and
counts the body's lines (gunzipped when sent gzipped), `/query` and `/ping` answer as
influxd does when all is well, `GET /count` tells the points counted so far. Stores
nothing. Usage: count-sink.py PORT (listens on 127.0.0.1 only)."""

import gzip
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
POINTS = 0
EMPTY_RESULT = b'{"results":[{"statement_id":0}]}'


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global POINTS
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self.path.startswith("/write"):
            return self.reply(200, EMPTY_RESULT)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        lines = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
        with LOCK:
            POINTS += lines
        self.reply(204)

    def do_GET(self):
        if self.path.startswith("/count"):
            with LOCK:
                return self.reply(200, str(POINTS).encode())
        if self.path.startswith("/ping"):
            return self.reply(204)
        self.reply(200, EMPTY_RESULT)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
