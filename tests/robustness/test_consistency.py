"""kic-001 under concurrency and DRC faults (issue 6, point 2).

500 mixed verzoekinformatieobject creates and deletes from 8 concurrent clients against the
reference KIC (gunicorn, 2 workers) and a strict mock DRC (it calls the KIC back on every
mirror create and delete). Before about 20% of the operations a client injects a one-shot
DRC fault on the request its operation will cause: HTTP 500 or 503, a dropped connection, a
delay beyond the KIC's DRC timeout, or a delay followed by 502. Afterwards, once the KIC's
reconciler has settled what the requests could not (a timeout leaves the DRC's state
unknown), every relation the KIC lists has exactly one mirror in the DRC, and the DRC has no
mirror without a relation.

All 500 operations run in CI: each is a few small loopback requests; the slow ones are the
few that wait out the KIC's 2.5 s DRC timeout. The test runs twice: with the KIC's default
threads (2 workers x 4) and with 16 threads per worker.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from robustness_support import (
    DrcProcess,
    GunicornKic,
    KicStarter,
    auth,
    create_verzoeken,
    db_rows,
    wait_until_reconciled,
)

pytestmark = pytest.mark.slow

OPERATIONS = 500
CLIENTS = 8
FAULT_RATE = 0.20
DELETE_SHARE = 0.45
KIC_DRC_TIMEOUT = 2.5
SEED = 20261129
TIME_LIMIT = 150.0  # seconds for all operations; the load stops by itself after this

MIRRORS_PATH = "/documenten/api/v1/objectinformatieobjecten"
FAULT_KINDS: list[dict[str, Any]] = [
    {"status": 500},
    {"status": 503},
    {"drop": True},
    {"delay": KIC_DRC_TIMEOUT + 1.0},  # the KIC gives up first; the DRC handles it later
    {"delay": 0.3, "status": 502},
]


class Pool:
    """The VIO URLs the clients believe exist (a create answered 201, not yet deleted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urls: list[str] = []

    def add(self, url: str) -> None:
        with self._lock:
            self._urls.append(url)

    def take(self, rng: random.Random) -> str | None:
        with self._lock:
            if not self._urls:
                return None
            return self._urls.pop(rng.randrange(len(self._urls)))


def run_mixed_load(
    kic: GunicornKic, drc: DrcProcess, pairs: list[tuple[str, str]], history: list[str]
) -> collections.Counter[str]:
    """The 500 operations; returns a tally like ``{"create 201": n, "delete 400": m, ...}``.

    Every create uses a (verzoek, document) pair no earlier create used, so a late DRC answer
    to an abandoned create can never be mistaken for a later create of the same pair.
    ``history`` receives one line per operation (pair, outcome, time taken, error excerpt).
    """
    pair_of: dict[str, str] = {}
    fresh = iter(pairs)
    lock = threading.Lock()
    pool = Pool()
    tally: collections.Counter[str] = collections.Counter()
    deadline = time.monotonic() + TIME_LIMIT
    headers = {**auth(), "Content-Type": "application/json"}
    local = threading.local()
    clients: list[httpx.Client] = []

    def client() -> httpx.Client:
        # One client per load thread (creating an httpx.Client costs ~30 ms of CPU), without
        # keep-alive: a connection gunicorn closes after its 2 s keep-alive must not race.
        if not hasattr(local, "client"):
            local.client = httpx.Client(
                headers=headers, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
            )
            with lock:
                clients.append(local.client)
        return local.client

    def operation(index: int) -> None:
        rng = random.Random(SEED + index)
        if time.monotonic() > deadline:
            with lock:
                tally["not run (time limit)"] += 1
            return
        url = pool.take(rng) if rng.random() < DELETE_SHARE else None
        kind = "delete" if url else "create"
        if rng.random() < FAULT_RATE:
            # A delete causes a mirror list (GET) and a mirror DELETE; a create a POST.
            method = rng.choice(["GET", "DELETE"]) if kind == "delete" else "POST"
            drc.add_fault(method, MIRRORS_PATH, count=1, **rng.choice(FAULT_KINDS))
        started = time.monotonic()
        pair = pair_of.get(url or "", "")
        excerpt = ""
        try:
            if url:
                response = client().delete(url)
                if response.status_code != 204:
                    pool.add(url)
            else:
                with lock:
                    verzoek, document = next(fresh)
                body = {"verzoek": verzoek, "informatieobject": document}
                pair = f"{verzoek} + {document}"
                response = client().post(f"{kic.api}/verzoekinformatieobjecten", json=body)
                if response.status_code == 201:
                    pair_of[response.json()["url"]] = pair
                    pool.add(response.json()["url"])
            outcome = f"{kind} {response.status_code}"
            excerpt = response.text[:160] if response.status_code >= 300 else ""
        except httpx.TransportError as exc:
            outcome = f"{kind} {type(exc).__name__}"
            if url:
                pool.add(url)
        with lock:
            tally[outcome] += 1
            history.append(
                f"{pair} {outcome} in {time.monotonic() - started:.2f} s {excerpt}".strip()
            )

    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
            list(executor.map(operation, range(OPERATIONS)))
    finally:
        for each in clients:
            each.close()
    return tally


def trail(drc: DrcProcess, pairs: list[tuple[str, str]], history: list[str]) -> str:
    """What the clients and the DRC journal saw of the first few ``pairs``."""
    lines = []
    for verzoek, document in pairs[:3]:
        lines.append(f"pair {verzoek.rsplit('/', 1)[-1]} + {document.rsplit('/', 1)[-1]}:")
        lines += [
            f"  KIC: {line.split(' ', 3)[-1]}"
            for line in history
            if line.startswith(f"{verzoek} + {document} ")
        ]
        for entry in drc.journal():
            if verzoek in str(entry.get("body")) + str(entry.get("query")) and document in str(
                entry.get("body")
            ) + str(entry.get("query")):
                fault = entry.get("fault") or {}
                fault_text = {k: fault[k] for k in ("status", "delay", "drop") if fault.get(k)}
                callback = (entry.get("callback") or {}).get("outcome")
                lines.append(
                    f"  {entry['time']} {entry['method']} {entry['path'][-24:]} -> "
                    f"{entry['status']} in {entry.get('duration_ms')} ms "
                    f"fault={fault_text or '-'} callback={callback or '-'}"
                )
    return "\n".join(lines)


@pytest.mark.parametrize(
    "threads",
    [
        pytest.param(None, id="default-threads"),
        pytest.param(16, id="2x16-threads"),
    ],
)
def test_every_relation_has_exactly_one_mirror_after_concurrent_faulty_load(
    tmp_path: Path, start_kic: KicStarter, drc_process: DrcProcess, threads: int | None
) -> None:
    db = tmp_path / "kic.sqlite3"
    kic = start_kic(db, drc_process, workers=2, threads=threads, http_timeout=KIC_DRC_TIMEOUT)
    verzoeken = create_verzoeken(kic.api, 10)
    documents = [drc_process.create_document(titel=f"doc {i}")["url"] for i in range(40)]
    pairs = [(v, d) for d in documents for v in verzoeken]
    random.Random(SEED).shuffle(pairs)

    started = time.monotonic()
    history: list[str] = []
    tally = run_mixed_load(kic, drc_process, pairs, history)
    elapsed = time.monotonic() - started
    drc_process.clear_faults()
    time.sleep(KIC_DRC_TIMEOUT + 1.5)  # let delayed DRC requests (and their call-backs) finish
    pending = wait_until_reconciled(db)

    summary = f"{dict(sorted(tally.items()))} in {elapsed:.1f} s"
    print(summary)
    assert sum(tally.values()) == OPERATIONS, summary
    assert tally["not run (time limit)"] == 0, summary
    assert tally["create 201"] >= 100, f"too few creates: {summary}"
    assert tally["delete 204"] >= 40, f"too few deletes: {summary}"
    faulted = [e for e in drc_process.journal() if e.get("fault")]
    assert len(faulted) >= 0.1 * OPERATIONS, f"only {len(faulted)} faults applied: {summary}"
    server_errors = {k: v for k, v in tally.items() if k.split()[-1].startswith("5")}
    assert not server_errors, f"the KIC answered 5xx: {summary}\n{kic.log_tail()}"
    transport_errors = {k: v for k, v in tally.items() if k.endswith("Error")}
    assert not pending, f"kic-001 work still pending after 60 s: {pending[:5]}\n{kic.log_tail()}"

    response = httpx.get(f"{kic.api}/verzoekinformatieobjecten", headers=auth(), timeout=30)
    assert response.status_code == 200
    relations = collections.Counter((r["verzoek"], r["informatieobject"]) for r in response.json())
    mirrors = collections.Counter(
        (m["object"], m["informatieobject"])
        for m in drc_process.mirrors()
        if m["objectType"] == "verzoek"
    )
    assert relations, f"nothing left to compare: {summary}"
    duplicates = {pair: n for pair, n in relations.items() if n > 1}
    assert not duplicates, f"relations listed twice: {duplicates}"
    without_mirror = sorted(set(relations) - set(mirrors))
    assert not without_mirror, (
        f"{len(without_mirror)} relations without a mirror ({summary}):\n"
        + trail(drc_process, without_mirror, history)
    )
    orphans = sorted(set(mirrors) - set(relations))
    assert not orphans, f"{len(orphans)} mirrors without a relation ({summary}):\n" + trail(
        drc_process, orphans, history
    )
    double_mirrors = {pair: n for pair, n in mirrors.items() if n > 1}
    assert not double_mirrors, f"relations mirrored more than once: {double_mirrors}"
    hidden = db_rows(db, "SELECT uuid FROM verzoekinformatieobjecten WHERE hidden != 0")
    assert not hidden, f"rows left hidden (half-deleted): {hidden}"
    assert not transport_errors, f"the KIC dropped client connections: {summary}"
