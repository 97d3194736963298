"""Cost growth of the reference KIC: list latency and peak worker memory at 1k/10k/100k klanten.

For each size a fresh SQLite file is seeded directly (one klant made through the API, cloned)
and a fresh gunicorn (2 workers) serves it, so each size's peak memory is its own. Memory is
``VmHWM`` (peak resident set size) of each gunicorn worker, read from /proc after the list
requests. Latency is measured at 1 connection. Prints figures and the "1,000 klanten <= 50 ms,
growing linearly" target; never asserts.

    python benchmarks/cost_growth.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from loadgen import TOOL, Request, run_load
from report import at_most
from servers import auth_header, clone_rows, create_klant, kic_and_drc, uuid_of

from zgw.procfs import peak_rss_kib


def requests_for(size: int) -> int:
    """Enough list requests for a median, bounded in time for the big sizes."""
    return max(3, min(50, 50_000 // size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    headers = auth_header()
    print("Reference KIC cost growth: GET /klanten (no pagination), gunicorn 2 workers")
    print(f"load tool: {TOOL}; 1 connection; memory = VmHWM of each worker")
    print(
        f"{'records':>8} {'requests':>8} {'p50 ms':>9} {'max ms':>9} {'ms/1k rec':>9} "
        f"{'body MB':>8} {'worker RSS before':>18} {'worker peak RSS':>16}"
    )
    medians: dict[int, float] = {}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="kic-growth-") as tmp:
            workdir = Path(tmp)
            db = workdir / "kic.sqlite3"
            with kic_and_drc(workdir, db, with_drc=False) as (kic, _):
                template = create_klant(kic.url)
                seeded_at = time.perf_counter()
                clone_rows(db, "klanten", uuid_of(template["url"]), size)
                seed_s = time.perf_counter() - seeded_at
                workers = kic.workers()
                # Warm both workers on a tiny request, then take their resident size.
                for _ in range(4):
                    httpx.get(
                        f"{kic.url}/api/v1/klanten/{uuid_of(template['url'])}",
                        headers=headers,
                        timeout=60,
                    )
                before = {p: peak_rss_kib(p) for p in workers}
                body = httpx.get(f"{kic.url}/api/v1/klanten", headers=headers, timeout=120)
                count = len(body.json())
                stats = run_load(
                    f"list {size}",
                    kic.url,
                    lambda _t, _s: Request("GET", "/api/v1/klanten", headers),
                    connections=1,
                    duration=60,
                    max_requests=requests_for(size),
                    timeout=120,
                )
                peak = {p: peak_rss_kib(p) for p in workers}
            p50 = stats.percentile(50)
            medians[size] = p50
            before_mb = "/".join(f"{v / 1024:.0f}" for v in before.values() if v) + " MB"
            peak_mb = "/".join(f"{v / 1024:.0f}" for v in peak.values() if v) + " MB"
            print(
                f"{count:>8} {stats.requests:>8} {p50:>9.1f} {max(stats.latencies_ms):>9.1f} "
                f"{p50 / size * 1000:>9.2f} {len(body.content) / 1e6:>8.1f} {before_mb:>18} "
                f"{peak_mb:>16}   (seeded in {seed_s:.1f} s)",
                flush=True,
            )
    print()
    if 1000 in medians:
        print(at_most("list of 1,000 klanten p50", medians[1000], 50, "ms"))
    if len(medians) > 1:
        first = min(medians)
        for size in sorted(medians)[1:]:
            factor = medians[size] / medians[first]
            per_record = factor / (size / first)
            print(
                f"  growth {first} -> {size} records (x{size // first}): latency x{factor:.1f}, "
                f"cost per record x{per_record:.2f} "
                f"({'about linear' if per_record <= 1.25 else 'worse than linear'})"
            )
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(cost_growth took {time.perf_counter() - started:.1f} s)")
    sys.exit(code)
