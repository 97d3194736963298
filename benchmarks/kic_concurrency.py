"""kic-001 under concurrency: verzoekinformatieobject creates at 1, 4, 16 and 64 clients on the
reference KIC's defaults with a strict mock DRC (which calls the KIC back), an ordinary GET
measured meanwhile, relations versus mirrors afterwards, and slow clients against both servers.

Per level: created/s, errors, p50/p99 of the creates, and the p99 of a detail GET sent every
20 ms on a connection of its own while the creates run. After the last level the reconciler
gets up to 60 s to settle, then every relation in the KIC's SQLite file is compared with the
mirrors the mock DRC holds (missing = relation without mirror, orphan = mirror without
relation). Slow clients: 64 connections that send their request headers one byte a second
(and 64 that do so with a body) stay open while a detail GET is timed 300 times, for the KIC
and for ``mock-drc serve``. Prints figures and the issue's targets; never asserts.

``--serving gthread`` runs the KIC under gunicorn's threaded worker with the same workers and
threads (the serving model before issue 13), for comparison.

    python benchmarks/kic_concurrency.py [--seconds 5] [--quick] [--serving front|gthread]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from kic_throughput import seed_vio_pairs
from loadgen import Request, Stats, run_load
from report import at_least, at_most, none
from servers import (
    auth_header,
    create_klant,
    drc_auth_header,
    start_kic,
    start_kic_gthread,
    start_mock_drc,
    uuid_of,
    write_kic_config,
)

from zgw.serving import ServerProcess

LEVELS = (1, 4, 16, 64)
SLOW_CONNECTIONS = 64


class Prober:
    """Sends a GET every ``interval`` seconds on one keep-alive connection until stopped;
    latencies (ms) of the 200s, and the number of failures (other status, error, > 5 s)."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str], interval: float):
        self.base_url, self.path, self.headers, self.interval = base_url, path, headers, interval
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.base_url)
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)

    def _run(self) -> None:
        conn = self._connect()
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", self.path, headers=self.headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                conn.close()
                conn = self._connect()
            self._stop.wait(self.interval)
        conn.close()

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def p99(self) -> float:
        return percentile(self.latencies, 99)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


@contextmanager
def slow_clients(base_url: str, count: int, *, with_body: bool) -> Iterator[list[socket.socket]]:
    """``count`` connections that send a request one byte a second, open for the block.

    ``with_body``: the headers arrive whole (Content-Length 1000) and the body drips.
    """
    parts = urlsplit(base_url)
    head = f"POST /slow HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Type: application/json\r\n"
    opened: list[socket.socket] = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        if with_body:
            sock.sendall((head + "Content-Length: 1000\r\n\r\n{").encode())
        else:
            sock.sendall(head[:20].encode())
        opened.append(sock)
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(1.0):
            for sock in opened:
                # A socket the server closed fails here: that is what deadlines are for.
                with contextlib.suppress(OSError):
                    sock.send(b" " if with_body else b"X")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        yield opened
    finally:
        stop.set()
        dripper.join(5)
        for sock in opened:
            sock.close()


def timed_gets(base_url: str, path: str, headers: dict[str, str], count: int) -> Stats:
    """``count`` GETs of ``path`` one after the other on one connection (5 s timeout each)."""
    return run_load(
        "GET",
        base_url,
        lambda _t, _s: Request("GET", path, headers),
        connections=1,
        duration=60,
        max_requests=count,
        timeout=5,
    )


def relations_and_mirrors(db: Path, drc_url: str) -> tuple[set, set, int]:
    """(relations, mirrors, rows still pending) as sets of (verzoek URL, document URL)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT data, sync FROM verzoekinformatieobjecten WHERE hidden = 0"
        ).fetchall()
        pending = conn.execute(
            "SELECT count(*) FROM verzoekinformatieobjecten WHERE sync IS NOT NULL"
        ).fetchone()[0]
    finally:
        conn.close()
    relations = set()
    for data, _sync in rows:
        stored = json.loads(data)
        relations.add((stored["mirrorObject"], stored["informatieobject"]))
    state = httpx.get(f"{drc_url}/_mock/state", timeout=30).json()
    mirrors = {(m["object"], m["informatieobject"]) for m in state["mirrors"]}
    return relations, mirrors, pending


def settle(db: Path, drc_url: str, limit: float = 60.0) -> tuple[set, set, float]:
    started = time.perf_counter()
    while True:
        relations, mirrors, pending = relations_and_mirrors(db, drc_url)
        elapsed = time.perf_counter() - started
        if (not pending and relations == mirrors) or elapsed > limit:
            return relations, mirrors, elapsed
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration per level")
    parser.add_argument("--quick", action="store_true", help="1-second levels (smoke run)")
    parser.add_argument(
        "--serving",
        choices=("front", "gthread"),
        default="front",
        help="front: reference-kic serve as shipped; gthread: gunicorn's threaded worker",
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="with --serving gthread: threads per worker"
    )
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds
    headers = auth_header()
    json_headers = {**headers, "Content-Type": "application/json"}
    results: dict[int, tuple[Stats, Prober]] = {}

    with tempfile.TemporaryDirectory(prefix="kic-conc-") as tmp:
        workdir = Path(tmp)
        db = workdir / "kic.sqlite3"
        drc = start_mock_drc(workdir)
        kic: ServerProcess | None = None
        try:
            config = write_kic_config(workdir / "kic-config.json", drc.url)
            if args.serving == "gthread":
                kic = start_kic_gthread(workdir, db, config, threads=args.threads)
                print(
                    f"Reference KIC: gunicorn -k gthread, 2 workers x {args.threads} threads "
                    "(the serving model before issue 13)"
                )
            else:
                kic = start_kic(workdir, db, config)
                print("Reference KIC: reference-kic serve with its defaults (2 workers)")
            print("mock DRC: mock-drc serve with its defaults, strict (calls the KIC back)")
            print(f"{seconds:g} s per level; ordinary GET = a klant detail every 20 ms meanwhile")
            klant = uuid_of(create_klant(kic.url)["url"])
            detail = f"/api/v1/klanten/{klant}"
            pairs = seed_vio_pairs(kic.url, drc.url, 40, 150)
            document = urlsplit(pairs[0][1]).path
            feed = iter(pairs)
            lock = threading.Lock()

            def post_vio(_t: int, _s: int) -> Request:
                with lock:
                    verzoek, document = next(feed, pairs[0])
                body = json.dumps({"verzoek": verzoek, "informatieobject": document}).encode()
                return Request("POST", "/api/v1/verzoekinformatieobjecten", json_headers, body)

            print(
                f"{'clients':>7} {'created':>8} {'errors':>6} {'created/s':>9} {'p50 ms':>8} "
                f"{'p99 ms':>8} {'GET p99 ms':>10} {'GETs':>5} {'GET errors':>10}"
            )
            for clients in LEVELS:
                with Prober(kic.url, detail, headers, 0.02) as prober:
                    stats = run_load(
                        "POST verzoekinformatieobject",
                        kic.url,
                        post_vio,
                        connections=clients,
                        duration=seconds,
                        max_requests=1_400 if clients < 16 else 2_000,
                        expect=(201,),
                        timeout=30,
                    )
                results[clients] = (stats, prober)
                line = (
                    f"{clients:>7} {stats.requests:>8} {stats.errors:>6} {stats.rps:>9.1f} "
                    f"{stats.percentile(50):>8.1f} {stats.percentile(99):>8.1f} "
                    f"{prober.p99():>10.1f} {len(prober.latencies):>5} {prober.failures:>10}"
                )
                if stats.first_error:
                    line += f"   first error: {stats.first_error} {dict(stats.statuses)}"
                print(line, flush=True)

            relations, mirrors, waited = settle(db, drc.url)
            missing, orphans = relations - mirrors, mirrors - relations
            print(
                f"after the run (settled after {waited:.1f} s): relations {len(relations)}, "
                f"mirrors {len(mirrors)}, missing mirrors {len(missing)}, orphan mirrors "
                f"{len(orphans)}"
            )

            slow = {}
            for label, url, path, with_body in (
                ("KIC, slow headers", kic.url, detail, False),
                ("KIC, slow bodies", kic.url, detail, True),
                ("mock DRC, slow headers", drc.url, document, False),
                ("mock DRC, slow bodies", drc.url, document, True),
            ):
                token = headers if url == kic.url else drc_auth_header()
                with slow_clients(url, SLOW_CONNECTIONS, with_body=with_body):
                    time.sleep(1.5)  # let them take whatever they can
                    stats = timed_gets(url, path, token, 300 if not args.quick else 60)
                slow[label] = stats
                print(
                    f"{SLOW_CONNECTIONS} slow clients ({label}): GET answered {stats.requests}, "
                    f"errors {stats.errors}, p50 {stats.percentile(50):.1f} ms, "
                    f"p99 {stats.percentile(99):.1f} ms"
                    + (f"   first error: {stats.first_error}" if stats.first_error else ""),
                    flush=True,
                )
        finally:
            if kic is not None:
                kic.stop()
            drc.stop()

    print()
    print("Targets (issue 13 and 14; 2-core machine, load tool on the same machine):")
    for clients, (stats, prober) in results.items():
        print(none(f"errors at {clients} clients", stats.errors))
        print(none(f"ordinary GET failures at {clients} clients", prober.failures))
    if 16 in results:
        stats, prober = results[16]
        print(at_least("creates/s at 16 clients", stats.rps, 200, "/s"))
        print(at_most("create p99 at 16 clients", stats.percentile(99), 250, "ms"))
        print(at_most("ordinary GET p99 at 16 clients", prober.p99(), 50, "ms"))
    if 64 in results:
        print(at_most("ordinary GET p99 at 64 clients", results[64][1].p99(), 200, "ms"))
    print(none("missing mirrors after the run", len(missing)))
    print(none("orphan mirrors after the run", len(orphans)))
    for label, stats in slow.items():
        if "headers" in label:
            print(
                at_most(f"GET p99 with {SLOW_CONNECTIONS} {label}", stats.percentile(99), 100, "ms")
            )
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(kic_concurrency took {time.perf_counter() - started:.1f} s)")
    sys.exit(code)
