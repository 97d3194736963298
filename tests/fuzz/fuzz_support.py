"""Helpers of the fuzz-phase tests: fuzz runs against embedded or wrapped reference KICs, and a
raw-socket target that drips its answers."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from loopback import LoopbackServer, drip, read_head

from harness.config import RunConfig, Selection
from harness.environment import embedded_environment
from harness.fuzz import run_fuzz
from harness.results import RunResult

FuzzRun = Callable[..., RunResult]


def fuzz_once(
    *,
    examples: int,
    defects: Iterable[str] = (),
    operations: Iterable[str] = (),
    seed: int | None = None,
) -> RunResult:
    """Start the reference KIC (with ``defects``) and the mock DRC, fuzz, return the result."""
    with embedded_environment(defects=frozenset(defects), fuzz_examples=examples) as config:
        config.selection = Selection(operations=list(operations))
        if seed is not None:
            config.fuzz_seed = seed
        result = RunResult(target=config.target, started_at=_now())
        run_fuzz(config, result)
        result.settings["secret"] = config.secret  # for the tests' leak checks only
        return result


LOCAL_CLIENT = ("kic-conformance", "a-local-test-secret-0123456789abcdef")


@contextlib.contextmanager
def wrapped_kic(db_path: str, wrap: Callable[[Any], Any]) -> Iterator[str]:
    """Serve the reference KIC (no DRC) behind the WSGI middleware ``wrap``; yield its API root.

    A cheap broken variant for the klanten operations: the middleware changes what the
    correct KIC answers (drops a header, stalls, swaps the body) on the way out.
    """
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, KicConfig
    from zgw.jwt import Client
    from zgw.serving import serve_in_thread

    clients = {LOCAL_CLIENT[0]: Client(*LOCAL_CLIENT, ALL_SCOPES)}
    app = create_app(KicConfig(db_path=db_path, clients=clients))
    with serve_in_thread(wrap(app)) as server:
        yield f"{server.url}/api/v1"


def fuzz_target(
    target: str, operations: Iterable[str], examples: int, **settings: Any
) -> RunResult:
    """Fuzz ``operations`` of ``target`` with the local client's credentials."""
    config = RunConfig(
        target=target,
        client_id=LOCAL_CLIENT[0],
        secret=LOCAL_CLIENT[1],
        fuzz_examples=examples,
        selection=Selection(operations=list(operations)),
        **settings,
    )
    result = RunResult(target=config.target, started_at="now")
    run_fuzz(config, result)
    return result


#: Longest the dripping target keeps one connection busy; then it closes it by itself, so a
#: client without a deadline fails a test after a few seconds instead of hanging it.
MAX_DRIP_SECONDS = 3.0
#: Pause between two dripped bytes: well below any timeout the tests use, so only a deadline
#: on the whole request (not one per socket read) ends the wait.
DRIP_INTERVAL = 0.1


@dataclass
class DrippingTarget:
    """Loopback HTTP target that answers every request with a status line and headers that
    arrive a byte at a time and never end; ``requests`` records each request line."""

    url: str
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def dripping_target() -> Iterator[DrippingTarget]:
    """Serve a :class:`DrippingTarget` on a free loopback port, one thread per connection."""
    requests: list[str] = []

    def answer(conn: socket.socket, stopping: threading.Event) -> None:
        head = read_head(conn)  # a request body, if any, stays unread: no answer gets that far
        if head:
            requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
            head_start = b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 1000
            drip(conn, head_start, stopping, DRIP_INTERVAL, MAX_DRIP_SECONDS)

    server = LoopbackServer(answer)
    try:
        yield DrippingTarget(server.url, requests)
    finally:
        server.stop()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()
