"""Crash safety of the reference KIC (issue 6, point 3).

``kill -9`` of the gunicorn workers, then of the master and its workers, while clients write
klanten and verzoekinformatieobjecten (with DRC mirrors). After a restart on the same SQLite
file and port, every create that was answered 201 is readable with the same body (and its
mirror exists once), every delete answered 204 stays deleted (and its mirror is gone), and
the database passes SQLite's integrity check.

Two further tests stop the KIC exactly inside its kic-001 windows (a DRC fault holds the
mirror request while the process is killed) and check that after the restart the KIC's
reconciler finishes the interrupted work: no relation without a mirror, no mirror without a
relation, no row hidden for good.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from polling import wait_for
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

MIRRORS_PATH = "/documenten/api/v1/objectinformatieobjecten"
LOAD_THREADS = 4
LOAD_LIMIT = 20.0  # seconds; the load stops by itself
KLANT = {"subjectType": "natuurlijk_persoon", "subject": "https://example.com/personen/1"}


class Ledger:
    """What the clients were told: bodies of creates answered 201, deletes answered 204."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.klanten: dict[str, dict[str, Any]] = {}
        self.vios: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.uncertain: set[str] = set()  # deletes without an answer: either end is fine
        self.outcomes: collections.Counter[str] = collections.Counter()

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.klanten) + len(self.vios) + len(self.deleted)


def write_load(
    kic: GunicornKic, pairs: list[tuple[str, str]], ledger: Ledger, stop: threading.Event
) -> None:
    """Klant creates, VIO creates and VIO deletes from a few threads until ``stop``."""
    fresh = iter(pairs)
    deadline = time.monotonic() + LOAD_LIMIT
    headers = {**auth(), "Content-Type": "application/json"}

    def client_loop(index: int) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(headers=headers, timeout=5, limits=limits) as client:
            step = 0
            while not stop.is_set() and time.monotonic() < deadline:
                step += 1
                try:
                    if step % 3 == 0:
                        response = client.post(f"{kic.api}/klanten", json=KLANT)
                        kind, book = "klant", ledger.klanten
                    elif step % 7 == 0 and ledger.vios:
                        with ledger.lock:
                            url = next(iter(ledger.vios))
                            body = ledger.vios.pop(url)
                        try:
                            response = client.delete(url)
                        except httpx.ConnectError:
                            with ledger.lock:  # never sent: nothing happened
                                ledger.vios[url] = body
                            raise
                        except httpx.TransportError:
                            with ledger.lock:
                                ledger.uncertain.add(url)
                            raise
                        with ledger.lock:
                            if response.status_code == 204:
                                ledger.deleted.add(url)
                            elif response.status_code != 404:
                                ledger.vios[url] = body
                            ledger.outcomes[f"delete {response.status_code}"] += 1
                        continue
                    else:
                        with ledger.lock:
                            verzoek, document = next(fresh)
                        response = client.post(
                            f"{kic.api}/verzoekinformatieobjecten",
                            json={"verzoek": verzoek, "informatieobject": document},
                        )
                        kind, book = "vio", ledger.vios
                    with ledger.lock:
                        ledger.outcomes[f"{kind} {response.status_code}"] += 1
                        if response.status_code == 201:
                            book[response.json()["url"]] = response.json()
                except httpx.TransportError as exc:
                    with ledger.lock:
                        ledger.outcomes[type(exc).__name__] += 1
                    time.sleep(0.05)

    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as executor:
        list(executor.map(client_loop, range(LOAD_THREADS)))


def restart(start_kic: KicStarter, kic: GunicornKic, drc: DrcProcess) -> GunicornKic:
    """Start the KIC again on the same database file and port, as after a crash."""
    port = int(kic.url.rsplit(":", 1)[1])
    return start_kic(kic.db, drc, workers=2, http_timeout=5.0, port=port)


def assert_reconciled(db: Path) -> None:
    pending = wait_until_reconciled(db, limit=30.0)
    assert not pending, f"kic-001 work still pending 30 s after restart: {pending}"


def mirror_pairs(drc: DrcProcess) -> collections.Counter[tuple[str, str]]:
    return collections.Counter(
        (m["object"], m["informatieobject"]) for m in drc.mirrors() if m["objectType"] == "verzoek"
    )


def listed_pairs(kic: GunicornKic) -> collections.Counter[tuple[str, str]]:
    response = httpx.get(f"{kic.api}/verzoekinformatieobjecten", headers=auth(), timeout=30)
    assert response.status_code == 200, response.text
    return collections.Counter((r["verzoek"], r["informatieobject"]) for r in response.json())


def fresh_pairs(kic: GunicornKic, drc: DrcProcess, verzoeken: int, documents: int) -> list:
    verzoek_urls = create_verzoeken(kic.api, verzoeken)
    document_urls = [drc.create_document(titel=f"doc {i}")["url"] for i in range(documents)]
    return [(v, d) for d in document_urls for v in verzoek_urls]


def test_acknowledged_writes_survive_kill9_of_workers_and_master(
    tmp_path: Path, start_kic: KicStarter, drc_process: DrcProcess
) -> None:
    db = tmp_path / "kic.sqlite3"
    kic = start_kic(db, drc_process, workers=2, http_timeout=5.0)
    pairs = fresh_pairs(kic, drc_process, 5, 200)
    ledger, stop = Ledger(), threading.Event()
    load = threading.Thread(target=write_load, args=(kic, pairs, ledger, stop), daemon=True)
    load.start()
    try:
        assert wait_for(lambda: ledger.acknowledged() >= 20), f"no load: {ledger.outcomes}"
        first = kic.kill_workers()
        assert len(first) == 2, f"expected 2 workers, found {first}"
        time.sleep(0.3)
        # The master respawns its workers; the clients go on writing.
        seen = ledger.acknowledged()
        assert wait_for(lambda: ledger.acknowledged() >= seen + 20), (
            f"no writes after the workers were killed: {ledger.outcomes}\n{kic.log_tail()}"
        )
        kic.kill_workers()
        time.sleep(0.3)
        assert wait_for(lambda: len(kic.workers()) == 2)
        time.sleep(0.4)
        kic.kill_all()  # master and workers, mid-write
        time.sleep(0.3)
    finally:
        stop.set()
        load.join(timeout=LOAD_LIMIT + 10)
    restarted = restart(start_kic, kic, drc_process)

    summary = (
        f"{len(ledger.klanten)} klanten, {len(ledger.vios)} VIOs acknowledged, "
        f"{len(ledger.deleted)} deleted, {len(ledger.uncertain)} deletes unanswered; "
        f"outcomes {dict(ledger.outcomes)}"
    )
    assert len(ledger.klanten) >= 10 and len(ledger.vios) >= 10, summary
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]
    mirrors = mirror_pairs(drc_process)
    problems = []
    with httpx.Client(headers=auth(), timeout=30) as client:
        for url, body in {**ledger.klanten, **ledger.vios}.items():
            response = client.get(url)
            if response.status_code != 200 or response.json() != body:
                problems.append(f"{url}: {response.status_code} {response.text[:200]}")
        for url, body in ledger.vios.items():
            if mirrors[(body["verzoek"], body["informatieobject"])] != 1:
                problems.append(
                    f"{url}: {mirrors[(body['verzoek'], body['informatieobject'])]} mirrors"
                )
        for url in ledger.deleted:
            response = client.get(url)
            if response.status_code != 404:
                problems.append(f"deleted {url} answers {response.status_code}")
    assert not problems, f"{len(problems)} problems ({summary}):\n" + "\n".join(problems[:10])
    # Nothing half-written anywhere: once the reconciler is done, relations and mirrors match.
    assert_reconciled(db)
    listed, mirrors = listed_pairs(restarted), mirror_pairs(drc_process)
    assert listed == mirrors, (
        f"relations without mirror: {sorted(set(listed) - set(mirrors))[:5]}; mirrors without "
        f"relation: {sorted(set(mirrors) - set(listed))[:5]}; counts differ: "
        f"{[p for p in listed if listed[p] != mirrors[p]][:5]}"
    )
    assert restarted.process.poll() is None


def _start_concurrently(calls: list[Any]) -> list[threading.Thread]:
    threads = [threading.Thread(target=call, daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    return threads


def _quietly(method: str, url: str, **kwargs: Any) -> Any:
    def call() -> None:
        # The KIC is killed while this request waits: a transport error is the normal end.
        with contextlib.suppress(httpx.TransportError):
            httpx.request(method, url, headers=auth(), timeout=10, **kwargs)

    return call


def test_no_relation_without_mirror_after_kill9_during_mirror_create(
    tmp_path: Path, start_kic: KicStarter, drc_process: DrcProcess
) -> None:
    db = tmp_path / "kic.sqlite3"
    kic = start_kic(db, drc_process, workers=2, http_timeout=5.0)
    pairs = fresh_pairs(kic, drc_process, 2, 2)
    # The DRC holds every mirror POST for 2 s and then refuses it: the KIC dies meanwhile.
    drc_process.add_fault("POST", MIRRORS_PATH, delay=2.0, status=503, count=len(pairs))
    threads = _start_concurrently([
        _quietly("POST", f"{kic.api}/verzoekinformatieobjecten",
                 json={"verzoek": v, "informatieobject": d})
        for v, d in pairs
    ])  # fmt: skip
    assert wait_for(lambda: len(db_rows(db, "SELECT 1 FROM verzoekinformatieobjecten")) == 4)
    kic.kill_all()
    for thread in threads:
        thread.join(timeout=10)
    time.sleep(2.5)  # the DRC's held requests end (503, no mirror)
    drc_process.clear_faults()
    restarted = restart(start_kic, kic, drc_process)
    assert_reconciled(db)

    listed, mirrors = listed_pairs(restarted), mirror_pairs(drc_process)
    without_mirror = sorted(set(listed) - set(mirrors))
    assert not without_mirror, f"{len(without_mirror)} relations without a mirror after restart"


def test_no_mirror_without_relation_after_kill9_during_mirror_delete(
    tmp_path: Path, start_kic: KicStarter, drc_process: DrcProcess
) -> None:
    db = tmp_path / "kic.sqlite3"
    kic = start_kic(db, drc_process, workers=2, http_timeout=5.0)
    vios = []
    for verzoek, document in fresh_pairs(kic, drc_process, 2, 2):
        response = httpx.post(
            f"{kic.api}/verzoekinformatieobjecten",
            json={"verzoek": verzoek, "informatieobject": document},
            headers=auth(),
            timeout=10,
        )
        assert response.status_code == 201, response.text
        vios.append(response.json()["url"])
    # The DRC holds every mirror DELETE for 2 s and then refuses it: the KIC dies meanwhile.
    drc_process.add_fault("DELETE", MIRRORS_PATH, delay=2.0, status=503, count=len(vios))
    threads = _start_concurrently([_quietly("DELETE", url) for url in vios])
    assert wait_for(
        lambda: len(db_rows(db, "SELECT 1 FROM verzoekinformatieobjecten WHERE hidden = 1")) == 4
    )
    time.sleep(0.2)
    kic.kill_all()
    for thread in threads:
        thread.join(timeout=10)
    time.sleep(2.5)  # the DRC's held requests end (503, mirror kept)
    drc_process.clear_faults()
    restarted = restart(start_kic, kic, drc_process)
    assert_reconciled(db)

    listed, mirrors = listed_pairs(restarted), mirror_pairs(drc_process)
    orphans = sorted(set(mirrors) - set(listed))
    hidden = db_rows(db, "SELECT uuid FROM verzoekinformatieobjecten WHERE hidden != 0")
    assert not orphans and not hidden, (
        f"{len(orphans)} DRC mirrors without a listed relation, {len(hidden)} rows hidden "
        "for good after restart"
    )
