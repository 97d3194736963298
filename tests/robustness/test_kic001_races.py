"""kic-001 under racing writes (issue 13, point 2): relation iff mirror, whatever the interleaving.

Against the reference KIC on its defaults (gunicorn, 2 workers) and a strict mock DRC in its own
process, two races run hundreds of times, a few at once:

- a create of a verzoekinformatieobject and the delete of that same relation, sent as soon as
  the relation shows up in a list (the row is visible while the create still waits for the
  DRC, so the delete overtakes it at every possible point);
- a create of a verzoekinformatieobject and the delete of its verzoek (the cascade), the delete
  sent after a random pause of up to a few milliseconds.

No answer may be a 5xx (a create that loses to the delete of its verzoek is a 400). Once the
reconciler has had its settle time, every relation has exactly one mirror and no mirror is
left without a relation.
"""

from __future__ import annotations

import collections
import http.client
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from polling import wait_for
from robustness_support import (
    DrcProcess,
    GunicornKic,
    KicStarter,
    auth,
    create_verzoeken,
    relations_and_mirrors,
    wait_until_reconciled,
)

pytestmark = pytest.mark.slow

SAME_RELATION_RACES = 300
VERZOEK_RACES = 250
AT_ONCE = 4
# Shorter than the default 10 s so that the races' DRC work, and the waits for it, end sooner;
# the races themselves do not depend on it.
KIC_DRC_TIMEOUT = 2.0
SEED = 20261201


class Racer:
    """Runs the two races against one KIC and tallies every answer (``"<what> <status>"``).

    Requests go over plain ``http.client`` connections, one per thread and kept alive: they
    cost next to nothing to open, so the two sides of a race start within a millisecond.
    """

    def __init__(self, kic: GunicornKic) -> None:
        self.kic = kic
        self.tally: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._headers = {**auth(), "Content-Type": "application/json"}

    def call(self, method: str, url: str, body: dict | None = None) -> tuple[int, object]:
        """(status, parsed JSON body or None) of one request; one retry on a fresh connection
        when a kept-alive one was closed by the server."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=30
                )
            try:
                conn.request(method, target, body=payload, headers=self._headers)
                response = conn.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
                continue
            return response.status, json.loads(text) if text else None
        raise AssertionError("unreachable")

    def count(self, what: str, status: int | str) -> None:
        with self._lock:
            self.tally[f"{what} {status}"] += 1

    def request(self, what: str, method: str, url: str, body: dict | None = None) -> object:
        try:
            status, answer = self.call(method, url, body)
        except (OSError, http.client.HTTPException) as exc:
            self.count(what, type(exc).__name__)
            return None
        self.count(what, status)
        return answer

    def same_relation(self, verzoek: str, document: str, pause: float) -> None:
        """Create (verzoek, document); meanwhile delete that relation as soon as it is listed."""
        created = threading.Event()
        start = threading.Barrier(2)
        listing = f"{self.kic.api}/verzoekinformatieobjecten?" + urlencode(
            {"verzoek": verzoek, "informatieobject": document}
        )

        def delete_when_listed() -> None:
            start.wait()
            time.sleep(pause)
            for _ in range(1000):
                status, listed = self.call("GET", listing)
                if status == 200 and listed:
                    in_flight = not created.is_set()
                    self.request("delete-relation", "DELETE", listed[0]["url"])  # type: ignore[index]
                    if in_flight:
                        with self._lock:
                            self.tally["delete sent while the create was in flight"] += 1
                    return
                if created.is_set():
                    return  # the create was refused: nothing to race
            self.count("delete-relation", "never listed")

        deleter = threading.Thread(target=delete_when_listed)
        deleter.start()
        start.wait()
        self.request(
            "create-relation",
            "POST",
            f"{self.kic.api}/verzoekinformatieobjecten",
            {"verzoek": verzoek, "informatieobject": document},
        )
        created.set()
        deleter.join()

    def verzoek_delete(self, verzoek: str, document: str, pause: float) -> None:
        """Create (verzoek, document) while the verzoek is deleted ``pause`` s later."""
        start = threading.Barrier(2)

        def delete_verzoek() -> None:
            start.wait()
            time.sleep(pause)
            self.request("delete-verzoek", "DELETE", verzoek)

        deleter = threading.Thread(target=delete_verzoek)
        deleter.start()
        start.wait()
        self.request(
            "create-under-verzoek-delete",
            "POST",
            f"{self.kic.api}/verzoekinformatieobjecten",
            {"verzoek": verzoek, "informatieobject": document},
        )
        deleter.join()


def test_create_and_delete_races_end_with_relation_iff_mirror(
    tmp_path: Path, start_kic: KicStarter, drc_process: DrcProcess
) -> None:
    db = tmp_path / "kic.sqlite3"
    kic = start_kic(db, drc_process, http_timeout=KIC_DRC_TIMEOUT)
    rng = random.Random(SEED)
    documents = [drc_process.create_document(titel=f"race {i}")["url"] for i in range(30)]
    shared = create_verzoeken(kic.api, 10)
    same_pairs = [(v, d) for v in shared for d in documents]
    rng.shuffle(same_pairs)
    doomed = create_verzoeken(kic.api, VERZOEK_RACES)

    racer = Racer(kic)
    jobs = [
        (racer.same_relation, pair, rng.uniform(0, 0.004))
        for pair in same_pairs[:SAME_RELATION_RACES]
    ]
    jobs += [
        (racer.verzoek_delete, (verzoek, rng.choice(documents)), rng.uniform(0, 0.006))
        for verzoek in doomed
    ]
    rng.shuffle(jobs)
    with ThreadPoolExecutor(max_workers=AT_ONCE) as executor:
        for future in [executor.submit(job, *pair, pause) for job, pair, pause in jobs]:
            future.result()

    tally = dict(sorted(racer.tally.items()))
    races = sum(v for k, v in tally.items() if k.startswith("create-"))
    assert races == SAME_RELATION_RACES + VERZOEK_RACES, tally
    server_errors = {k: v for k, v in tally.items() if k.split()[-1].startswith("5")}
    assert not server_errors, f"5xx answers: {tally}\n{kic.log_tail()}"
    failed = {k: v for k, v in tally.items() if not k.split()[-1].isdigit() and "flight" not in k}
    assert not failed, f"requests that failed or never happened: {tally}"
    # The races did overtake creates in progress (otherwise this proves nothing).
    assert tally.get("delete sent while the create was in flight", 0) >= 20, tally
    assert tally.get("delete-verzoek 204", 0) >= 20, tally
    assert tally.get("create-under-verzoek-delete 400", 0) >= 5, tally

    time.sleep(KIC_DRC_TIMEOUT + 1.5)  # DRC work still under way ends
    pending = wait_until_reconciled(db)
    assert not pending, f"kic-001 work still pending: {pending[:5]}\n{kic.log_tail()}"
    consistent = wait_for(lambda: _differences(kic, drc_process) == ([], []), 30.0, 0.5)
    missing, orphans = _differences(kic, drc_process)
    assert consistent, (
        f"{len(missing)} relations without mirror, {len(orphans)} mirrors without relation "
        f"after {tally}: {missing[:3]} {orphans[:3]}\n{kic.log_tail()}"
    )
    relations, mirrors = relations_and_mirrors(kic, drc_process)
    assert all(n == 1 for n in mirrors.values()), "a relation with more than one mirror"
    assert all(n == 1 for n in relations.values()), "a relation listed twice"


def _differences(kic: GunicornKic, drc: DrcProcess) -> tuple[list, list]:
    relations, mirrors = relations_and_mirrors(kic, drc)
    return sorted(set(relations) - set(mirrors)), sorted(set(mirrors) - set(relations))
