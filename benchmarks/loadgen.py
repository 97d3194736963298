"""A small closed-loop HTTP load generator: N keep-alive connections, each in its own thread.

Every connection is a :class:`http.client.HTTPConnection` (the lightest client in the standard
library, so the load tool takes as little of the shared CPU as possible) that sends one request,
reads the whole response, and sends the next. A measurement stops by itself after
``max_requests`` or ``duration`` seconds, whichever comes first. Latency is measured per request
from just before sending to the last byte of the body read.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TOOL = "Python http.client, one keep-alive connection per thread (benchmarks/loadgen.py)"


@dataclass(frozen=True)
class Request:
    """One request to send: method, path (with query), headers, body."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class Stats:
    """Outcome of one measurement; latencies in milliseconds."""

    name: str
    connections: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    first_error: str | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """The nearest-rank percentile ``q`` (0-100) of the successful requests' latencies."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]


def _connection(base_url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def run_load(
    name: str,
    base_url: str,
    make_request: Callable[[int, int], Request],
    *,
    connections: int,
    duration: float,
    max_requests: int,
    expect: tuple[int, ...] = (200,),
    timeout: float = 30.0,
    warmup: int = 0,
) -> Stats:
    """Send requests built by ``make_request(thread_index, sequence)`` over ``connections``.

    ``warmup`` requests per connection are sent first and not counted. Requests answered with
    a status outside ``expect`` (or failing) count as errors and are left out of latencies.
    """
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    first_error: list[str] = []
    sent = 0
    start_gate = threading.Barrier(connections + 1)
    deadline = [0.0]

    def claim() -> bool:
        nonlocal sent
        with lock:
            if sent >= max_requests or time.perf_counter() >= deadline[0]:
                return False
            sent += 1
            return True

    def one(conn: http.client.HTTPConnection, req: Request) -> tuple[int, float]:
        started = time.perf_counter()
        conn.request(req.method, req.path, body=req.body, headers=req.headers)
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000

    def worker(index: int) -> None:
        nonlocal errors
        conn = _connection(base_url, timeout)
        sequence = 0
        try:
            for _ in range(warmup):
                sequence += 1
                try:
                    one(conn, make_request(index, sequence))
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = _connection(base_url, timeout)
            start_gate.wait()
            while claim():
                sequence += 1
                try:
                    status, ms = one(conn, make_request(index, sequence))
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = _connection(base_url, timeout)
                    with lock:
                        errors += 1
                        if not first_error:
                            first_error.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status in expect:
                        latencies.append(ms)
                    else:
                        errors += 1
                        if not first_error:
                            first_error.append(f"HTTP {status}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + duration + 3600  # provisional, set right at the gate
    start_gate.wait()
    started = time.perf_counter()
    deadline[0] = started + duration
    for thread in threads:
        thread.join(timeout=duration + timeout + 5)
    seconds = time.perf_counter() - started
    return Stats(
        name=name,
        connections=connections,
        requests=len(latencies),
        errors=errors,
        seconds=seconds,
        latencies_ms=latencies,
        statuses=statuses,
        first_error=first_error[0] if first_error else None,
    )
