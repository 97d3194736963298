"""Latency of the mock DRC per journaled request on loopback: prints median and p99.

Runs an in-process mock DRC (threaded wsgiref, as tests and the harness use it) and times a
few hundred requests of each kind a KIC sends: document reads, mirror creates in lenient
mode (no call-back) and mirror lists. Prints figures only; asserts nothing.

    .venv/bin/python benchmarks/mock_drc_latency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import httpx

from mock_drc.config import DrcConfig
from mock_drc.testing import running_mock_drc

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(count: int, send: Callable[[int], httpx.Response]) -> list[float]:
    timings = []
    for number in range(count):
        started = time.perf_counter()
        response = send(number)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per kind")
    count = parser.parse_args().requests

    with running_mock_drc(DrcConfig(strict=False)) as drc:
        document = drc.create_document()
        with httpx.Client(base_url=drc.url, headers={"Authorization": drc.authorization()}) as http:
            kinds = {
                "GET document": lambda n: http.get(document["url"]),
                "POST mirror (lenient)": lambda n: http.post(
                    MIRRORS,
                    json={
                        "informatieobject": document["url"],
                        "objectType": "zaak",
                        "object": f"https://zaken.example.com/zaken/{n}",
                    },
                ),
                "GET mirrors?object=": lambda n: http.get(
                    MIRRORS, params={"object": f"https://zaken.example.com/zaken/{n}"}
                ),
            }
            print(f"mock DRC latency on loopback, {count} requests per kind (client-side, ms)")
            print(f"{'request':<24}{'median':>10}{'p99':>10}{'server median':>16}")
            for name, send in kinds.items():
                since = (drc.state.journal() or [{"id": 0}])[-1]["id"]
                timings = _measure(count, send)
                server = [e["duration_ms"] for e in drc.state.journal(since_id=since)]
                print(
                    f"{name:<24}{statistics.median(timings):>10.2f}"
                    f"{_percentile(timings, 0.99):>10.2f}{statistics.median(server):>16.2f}"
                )
            journaled = len(drc.state.journal())
            print(f"journaled requests: {journaled} (expected {count * len(kinds)})")


if __name__ == "__main__":
    main()
