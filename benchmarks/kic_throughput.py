"""Throughput and latency of the reference KIC under gunicorn (2 workers), with the mock DRC.

Measures requests/s and p50/p99 latency for: detail GET of a klant, list GET of 100 and of
10,000 klanten, POST klant, and POST verzoekinformatieobject (which mirrors the relation in
the mock DRC, and the DRC calls the KIC back), each at 1 and at 16 concurrent connections
(kic_concurrency.py measures the latter at more levels).
The load tool runs on the same machine (see ``loadgen.TOOL``). Records beyond what a
measurement needs are seeded straight into the SQLite file by cloning a row made through the
API. Prints figures and the issue's targets; never asserts.

    python benchmarks/kic_throughput.py [--seconds 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from loadgen import TOOL, Request, Stats, run_load
from report import HEADER, at_least, at_most, row
from servers import KLANT, auth_header, clone_rows, create_klant, kic_and_drc, uuid_of

MakeRequest = Callable[[int, int], Request]


def seed_vio_pairs(
    kic_url: str, drc_url: str, verzoeken: int, documents: int
) -> list[tuple[str, str]]:
    """``verzoeken`` x ``documents`` distinct (verzoek, document) pairs for VIO creates."""
    with httpx.Client(timeout=30, headers=auth_header()) as client:
        verzoek_urls = []
        for _ in range(verzoeken):
            response = client.post(
                f"{kic_url}/api/v1/verzoeken",
                json={"bronorganisatie": "000000000", "status": "ontvangen"},
            )
            response.raise_for_status()
            verzoek_urls.append(response.json()["url"])
        document_urls = []
        for index in range(documents):
            response = client.post(f"{drc_url}/_mock/documents", json={"titel": f"bench-{index}"})
            response.raise_for_status()
            document_urls.append(response.json()["url"])
    return [(v, d) for d in document_urls for v in verzoek_urls]


class Bench:
    """Runs measurements against one KIC and prints each as a table row."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.headers = auth_header()
        self.json_headers = {**self.headers, "Content-Type": "application/json"}

    def measure(
        self,
        base_url: str,
        name: str,
        make: MakeRequest,
        conns: int,
        cap: int,
        *,
        expect: tuple[int, ...] = (200,),
        warmup: int = 3,
    ) -> Stats:
        stats = run_load(
            name,
            base_url,
            make,
            connections=conns,
            duration=self.seconds,
            max_requests=cap,
            expect=expect,
            warmup=warmup,
        )
        print(row(stats), flush=True)
        return stats

    def vio_creates(self, kic_url: str, drc_url: str, name: str, conns: tuple[int, ...]) -> None:
        """POST verzoekinformatieobject, each with a fresh (verzoek, document) pair."""
        pairs = seed_vio_pairs(kic_url, drc_url, 40, 150)  # 6,000 pairs
        feed = iter(pairs)
        feed_lock = threading.Lock()

        def post_vio(_t: int, _s: int) -> Request:
            with feed_lock:
                verzoek, document = next(feed, pairs[0])
            body = json.dumps({"verzoek": verzoek, "informatieobject": document}).encode()
            return Request("POST", "/api/v1/verzoekinformatieobjecten", self.json_headers, body)

        for n in conns:
            self.measure(kic_url, name, post_vio, n, 2_900, expect=(201,), warmup=1)
        state = httpx.get(f"{drc_url}/_mock/state", timeout=30).json()
        print(f"   (mirrors in the mock DRC afterwards: {len(state.get('mirrors', []))})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration cap per measurement")
    parser.add_argument("--quick", action="store_true", help="1-second measurements (smoke run)")
    args = parser.parse_args(argv)
    bench = Bench(1.0 if args.quick else args.seconds)
    headers, json_headers = bench.headers, bench.json_headers
    klant_body = json.dumps(KLANT).encode()

    print("Reference KIC: reference-kic serve defaults (gunicorn 2 workers, event loop + read and")
    print("write lanes of 4 threads), SQLite WAL; mock-drc serve in its own process, strict")
    print(f"load tool: {TOOL}; same machine; {bench.seconds:g} s or a request cap per row")
    print(HEADER)
    with tempfile.TemporaryDirectory(prefix="kic-bench-") as tmp:
        workdir = Path(tmp)
        db = workdir / "kic.sqlite3"
        with kic_and_drc(workdir, db) as (kic, drc):
            assert drc is not None
            template = uuid_of(create_klant(kic.url)["url"])
            clone_rows(db, "klanten", template, 100)

            def detail(_t: int, _s: int) -> Request:
                return Request("GET", f"/api/v1/klanten/{template}", headers)

            def listing(_t: int, _s: int) -> Request:
                return Request("GET", "/api/v1/klanten", headers)

            def post_klant(_t: int, _s: int) -> Request:
                return Request("POST", "/api/v1/klanten", json_headers, klant_body)

            detail_1 = bench.measure(kic.url, "GET klant (detail)", detail, 1, 20_000)
            detail_16 = bench.measure(kic.url, "GET klant (detail)", detail, 16, 50_000)
            bench.measure(kic.url, "GET klanten (list of 100)", listing, 1, 5_000)
            bench.measure(kic.url, "GET klanten (list of 100)", listing, 16, 10_000)
            clone_rows(db, "klanten", template, 10_000)
            bench.measure(kic.url, "GET klanten (list of 10,000)", listing, 1, 200, warmup=1)
            bench.measure(kic.url, "GET klanten (list of 10,000)", listing, 16, 400, warmup=1)
            post_1 = bench.measure(kic.url, "POST klant", post_klant, 1, 20_000, expect=(201,))
            post_16 = bench.measure(kic.url, "POST klant", post_klant, 16, 50_000, expect=(201,))
            bench.vio_creates(kic.url, drc.url, "POST verzoekinformatieobject+mirror", (1, 16))

    print()
    print("Targets (issue 6; 2-core machine, load tool on the same machine):")
    print(at_least("detail GET at 16 connections", detail_16.rps, 800, "req/s"))
    print(at_most("detail GET p99 at 16 connections", detail_16.percentile(99), 20, "ms"))
    print(at_least("POST klant at 16 connections", post_16.rps, 800, "req/s"))
    print(at_most("POST klant p99 at 16 connections", post_16.percentile(99), 20, "ms"))
    print(at_most("detail GET p50 at 1 connection", detail_1.percentile(50), 2, "ms"))
    print(
        f"  (POST klant at 1 connection: {post_1.rps:.1f} req/s, "
        f"p50 {post_1.percentile(50):.2f} ms; every write is a synchronous=FULL SQLite commit)"
    )
    print("For scale: the VNG Django reference serves about 80 req/s on such a machine.")
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(kic_throughput took {time.perf_counter() - started:.1f} s)")
    sys.exit(code)
