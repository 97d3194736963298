"""harness.transport: one deadline bounds the whole request, connections are still reused.

The targets are raw loopback sockets served by a thread, so a test controls every byte and its
timing (a real server would not drip its status line). Bounds on elapsed time are generous
upper limits for a timeout behaviour, not performance figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from loopback import Handler, LoopbackServer, drip_body, drip_headers, keep_alive

from harness.transport import new_client, send

LIMIT = 1.0


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(handler: Handler) -> LoopbackServer:
        servers.append(LoopbackServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_headers_dripped_one_byte_at_a_time_end_in_a_timeout_by_the_deadline(serve) -> None:
    server = serve(drip_headers)
    with new_client() as client:
        started = time.monotonic()
        response, exchange = send(client, "GET", f"{server.url}/slow", headers={}, timeout=LIMIT)
        elapsed = time.monotonic() - started
    assert response.status is None
    assert response.error is not None and response.error.startswith("timeout:"), response.error
    assert f"within {LIMIT:g}s" in response.error and "gave up after" in response.error
    assert exchange.error == response.error
    assert elapsed <= LIMIT + 1.0, f"took {elapsed:.1f} s with a {LIMIT} s timeout"


def test_a_dripped_body_times_out_and_keeps_status_and_what_arrived(serve) -> None:
    server = serve(drip_body)
    with new_client() as client:
        started = time.monotonic()
        response, _ = send(client, "GET", f"{server.url}/slow", headers={}, timeout=LIMIT)
        elapsed = time.monotonic() - started
    assert response.status == 200
    assert response.error is not None and response.error.startswith("timeout:"), response.error
    assert response.body.startswith(b"[")
    assert elapsed <= LIMIT + 1.0, f"took {elapsed:.1f} s with a {LIMIT} s timeout"


def test_connections_are_reused_and_a_timeout_does_not_spill_into_the_next_request(
    serve,
) -> None:
    slow, good = serve(drip_headers), serve(keep_alive)
    with new_client() as client:
        timed_out, _ = send(client, "GET", f"{slow.url}/", headers={}, timeout=LIMIT)
        answers = [
            send(client, "GET", f"{good.url}/{n}", headers={}, timeout=LIMIT)[0] for n in range(3)
        ]
    assert timed_out.error is not None and "timeout" in timed_out.error
    # An expired deadline left behind would fail these at once; each has its own.
    assert [(r.status, r.error, r.json()) for r in answers] == [(200, None, (True, []))] * 3
    assert len(good.connections) == 1, "the keep-alive connection was not reused"


def test_threads_sharing_a_client_each_keep_their_own_deadline(serve) -> None:
    """The runner's workers share one client: a slow target in one thread must not cut short,
    or be extended by, the requests of another."""
    slow, good = serve(drip_headers), serve(keep_alive)
    results: dict[str, list[float | str | None]] = {}
    with new_client() as client:

        def slow_request() -> None:
            started = time.monotonic()
            response, _ = send(client, "GET", f"{slow.url}/", headers={}, timeout=LIMIT)
            results["slow"] = [response.error, time.monotonic() - started]

        def good_requests() -> None:
            errors = []
            for n in range(5):
                response, _ = send(client, "GET", f"{good.url}/{n}", headers={}, timeout=10.0)
                errors.append(response.error)
                time.sleep(0.3)  # spans the slow request's deadline
            results["good"] = errors

        threads = [threading.Thread(target=slow_request), threading.Thread(target=good_requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    error, elapsed = results["slow"]
    assert isinstance(error, str) and error.startswith("timeout:")
    assert isinstance(elapsed, float) and elapsed <= LIMIT + 1.0
    assert results["good"] == [None] * 5
