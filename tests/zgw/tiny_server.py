"""A tiny HTTP server process for the tests of ``zgw.serving``'s process helper.

    python tiny_server.py PORT [--workers N] [--ignore-sigterm] [--mute] [--die-with MESSAGE]

It starts N sleeping child processes (its "workers", as a gunicorn master would) and answers
every GET with ``$TINY_BODY`` (default "tiny"). ``--mute`` never listens, ``--die-with``
writes MESSAGE to stderr and exits with 3 before listening; both first report the pid.
"""

from __future__ import annotations

import argparse
import http.server
import os
import signal
import subprocess
import sys
import time
from typing import Any


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = os.environ.get("TINY_BODY", "tiny").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--ignore-sigterm", action="store_true")
    parser.add_argument("--mute", action="store_true")
    parser.add_argument("--die-with")
    args = parser.parse_args()
    if args.die_with:
        print(f"pid {os.getpid()}: {args.die_with}", file=sys.stderr, flush=True)
        return 3
    if args.mute:
        print(f"pid {os.getpid()}: not listening on {args.port}", file=sys.stderr, flush=True)
        time.sleep(300)
        return 0
    for _ in range(args.workers):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    if args.ignore_sigterm:  # after the workers started: they keep the default, as in gunicorn
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    http.server.HTTPServer(("127.0.0.1", args.port), _Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
