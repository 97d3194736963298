"""The serving model under load (issues 13 and 14): both servers on their defaults, on loopback.

- 16 clients link documents to verzoeken for 10 s against ``reference-kic serve`` with a strict
  ``mock-drc serve`` (which calls the KIC back on every link): no answer but 201, and then
  every relation has exactly one mirror and no mirror lacks its relation. Before issue 13 the
  default 2 x 4 threads starved: a link held a thread while the DRC's call-back waited for one.
- 64 clients that send their request headers (or body) a byte at a time, or nothing at all,
  stay connected while an ordinary GET is sent 50 times: every GET is answered, by the KIC and
  by the mock DRC. Before, 8 such clients made either server answer nothing.

How fast is measured in benchmarks/kic_concurrency.py; these tests check what is answered.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from robustness_support import (
    DRC_CLIENT_ID,
    DRC_SECRET,
    DrcProcess,
    KicStarter,
    auth,
    create_verzoeken,
    relations_and_mirrors,
    wait_until_reconciled,
)

from zgw.jwt import bearer

pytestmark = pytest.mark.slow

CLIENTS = 16
LOAD_SECONDS = 10.0
SLOW_CLIENTS = 64


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


@pytest.fixture
def default_drc(tmp_path: Path) -> Iterator[DrcProcess]:
    """``mock-drc serve`` on its defaults (the other robustness tests size it up)."""
    drc = DrcProcess(tmp_path, threads=None)
    try:
        yield drc
    finally:
        drc.stop()


def test_16_concurrent_links_for_10_s_on_the_defaults(
    tmp_path: Path, start_kic: KicStarter, default_drc: DrcProcess
) -> None:
    drc_process = default_drc
    db = tmp_path / "kic.sqlite3"
    kic = start_kic(db, drc_process)
    verzoeken = create_verzoeken(kic.api, 50)
    documents = [drc_process.create_document(titel=f"load {i}")["url"] for i in range(80)]
    pairs = iter([(v, d) for d in documents for v in verzoeken])
    lock = threading.Lock()
    tally: collections.Counter[str] = collections.Counter()
    headers = {**auth(), "Content-Type": "application/json"}
    path = urlsplit(f"{kic.api}/verzoekinformatieobjecten").path
    ends = time.monotonic() + LOAD_SECONDS

    def client() -> None:
        conn = _connection(kic.url)
        try:
            while time.monotonic() < ends:
                with lock:
                    pair = next(pairs, None)
                if pair is None:
                    return
                body = json.dumps({"verzoek": pair[0], "informatieobject": pair[1]})
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    text = response.read()
                    outcome = str(response.status)
                    if response.status != 201:
                        outcome += f" {text[:120]!r}"
                except (OSError, http.client.HTTPException) as exc:
                    conn.close()
                    conn = _connection(kic.url)
                    outcome = type(exc).__name__
                with lock:
                    tally[outcome] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + 60)

    assert tally["201"] > 0 and set(tally) == {"201"}, f"{dict(tally)}\n{kic.log_tail()}"
    pending = wait_until_reconciled(db)
    assert not pending, f"kic-001 work still pending: {pending[:5]}"
    relations, mirrors = relations_and_mirrors(kic, drc_process)
    assert sum(relations.values()) == tally["201"]
    assert relations == mirrors, (
        f"missing: {sorted(set(relations) - set(mirrors))[:3]}, "
        f"orphans: {sorted(set(mirrors) - set(relations))[:3]}"
    )


@contextlib.contextmanager
def slow_clients(url: str, kind: str) -> Iterator[None]:
    """:data:`SLOW_CLIENTS` connections to ``url`` that are ``kind``: 'headers' (sent a byte
    every half second), 'body' (whole headers, the body a byte every half second) or 'idle'
    (nothing sent). A thread keeps them dripping until the block ends."""
    parts = urlsplit(url)
    head = f"POST /slow HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Length: 500\r\n"
    opened = [
        socket.create_connection((parts.hostname, parts.port), timeout=5)
        for _ in range(SLOW_CLIENTS)
    ]
    for sock in opened:
        if kind == "headers":
            sock.sendall(head[:10].encode())
        elif kind == "body":
            sock.sendall((head + "\r\n{").encode())
    stop = threading.Event()

    def drip() -> None:
        while kind != "idle" and not stop.wait(0.5):
            for sock in opened:
                with contextlib.suppress(OSError):  # closed by a deadline: as it should
                    sock.send(b"X" if kind == "headers" else b" ")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1.0)  # let them take whatever they can
        yield
    finally:
        stop.set()
        dripper.join(5)
        for sock in opened:
            sock.close()


def _answers(url: str, path: str, headers: dict[str, str], count: int) -> collections.Counter:
    """``count`` GETs of ``path``, each on a fresh connection with a 5 s timeout: statuses."""
    statuses: collections.Counter[str] = collections.Counter()
    parts = urlsplit(url)
    for _ in range(count):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses[str(response.status)] += 1
        except (OSError, http.client.HTTPException) as exc:
            statuses[type(exc).__name__] += 1
        finally:
            conn.close()
    return statuses


@pytest.mark.parametrize("kind", ["headers", "body", "idle"])
def test_slow_and_idle_clients_leave_the_kic_answering(
    tmp_path: Path, start_kic: KicStarter, kind: str
) -> None:
    kic = start_kic(tmp_path / "kic.sqlite3", None)
    with slow_clients(kic.url, kind):
        statuses = _answers(kic.url, "/api/v1/klanten", auth(), 50)
    assert statuses == {"200": 50}, f"{dict(statuses)}\n{kic.log_tail()}"


@pytest.mark.parametrize("kind", ["headers", "body", "idle"])
def test_slow_and_idle_clients_leave_the_mock_drc_answering(
    default_drc: DrcProcess, kind: str
) -> None:
    drc_process = default_drc
    document = drc_process.create_document(titel="read while slow clients wait")
    path = urlsplit(document["url"]).path
    headers = {"Authorization": bearer(DRC_CLIENT_ID, DRC_SECRET), "Accept": "application/json"}
    with slow_clients(drc_process.url, kind):
        statuses = _answers(drc_process.url, path, headers, 50)
    assert statuses == {"200": 50}, f"{dict(statuses)}\n{drc_process.server.log_tail()}"
