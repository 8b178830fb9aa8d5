#!/usr/bin/env python3
"""A minimal OTLP/HTTP receiver for benchmarks: accepts POST /v1/traces (and logs/metrics), counts requests and
bytes, answers 200 with an empty protobuf body. It lets the service pay the real cost of exporting spans without
a collector. Usage: otlp-sink.py PORT  (prints totals on SIGTERM to stdout)."""
import http.server
import signal
import sys
import threading

counts = {"requests": 0, "bytes": 0}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        with lock:
            counts["requests"] += 1
            counts["bytes"] += length
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)

    def stop(*_):
        print(f"otlp-sink: {counts['requests']} export requests, {counts['bytes']} bytes", flush=True)
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
