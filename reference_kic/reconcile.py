"""Finishing kic-001 work that a request could not: the reconciler of DRC mirrors.

A verzoekinformatieobject row whose ``sync`` column is set still has DRC work pending (see
:mod:`reference_kic.drc_sync`): ``mirror`` (make sure the DRC holds its mirror; also every
row inserted into the database by other means than the API) or ``unmirror`` (a hidden row:
delete its mirrors, then the row). A request leaves such a row behind when the DRC failed in
a way that left its state unknown, or when the process died half-way (``kill -9``, a crash).
Pairs in ``vio_touched`` (a delete overtook DRC work under way on its row) have their DRC
mirrors compared with the rows: a mirror no row explains is removed, a settled row without
mirror is queued to be mirrored again.

Every worker runs :class:`Reconciler` in a daemon thread (:func:`run_in_background`, started
and stopped by the app's runtime). It takes a row only when nobody
is working on it any more (its owner's process is gone, or the owner released it) and the
DRC had time to finish any request still in flight (``settle`` seconds, just over the KIC's
DRC timeout); a claim in SQLite makes sure one worker handles a row at a time.

What fails never blocks the rest: a row whose DRC work fails is retried after a back-off that
doubles with every failure (from ``settle`` up to :data:`MAX_BACKOFF`) and leaves the round's
window meanwhile; a DRC that does not answer is left alone for a back-off of its own, its
other rows postponed without a call; and a round stops starting DRC work after
:data:`ROUND_BUDGET` seconds, so the next round begins with rows that are due.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from .drc_sync import MIRROR, TABLE, UNMIRROR, DrcSync, MirrorFailed
from .ownership import new_owner, owner_alive
from .storage import TOUCHED_TABLE

log = logging.getLogger(__name__)

BATCH = 100  # rows (and touched pairs) looked at per round; the rest wait for the next round
#: Seconds of DRC work one round may start; what is left waits for the next round.
ROUND_BUDGET = 30.0
#: The longest wait between two attempts at a row (or a DRC) that keeps failing.
MAX_BACKOFF = 300.0


@dataclass
class Round:
    """What one reconciliation round did (for logs and tests)."""

    mirrored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: int = 0  # rows whose owner may still finish them, or whose settle time runs
    postponed: int = 0  # rows and pairs of a DRC in back-off, or left when the budget ran out
    orphans: list[str] = field(default_factory=list)  # mirror URLs no row explained, removed
    requeued: list[str] = field(default_factory=list)  # settled rows found without a mirror

    @property
    def done(self) -> int:
        return len(self.mirrored) + len(self.removed)


def _stored_row(uuid: str, data: str, verzoek: str, document: str) -> dict[str, Any]:
    """The row as the DRC work reads it: its links from its columns, the rest from its data.

    The columns are what the KIC filters and cascades on, so they say which relation exists,
    even for a row written by other means than the API whose JSON data lacks the links or is
    not an object at all (such data only loses the stored ``mirrorObject``).
    """
    try:
        stored = json.loads(data)
    except ValueError:
        stored = None
    if not isinstance(stored, dict):
        log.warning("VIO %s: stored data is not a JSON object; read from its columns", uuid)
        stored = {}
    return {**stored, "uuid": uuid, "verzoek": verzoek, "informatieobject": document}


class Reconciler:
    """Settles the pending rows of one KIC database against the DRC."""

    def __init__(
        self, sync: DrcSync, *, settle: float, stale: float, budget: float = ROUND_BUDGET
    ) -> None:
        self.sync = sync
        self.settle = settle
        self.stale = stale
        self.budget = budget
        self._unmirrorable: set[str] = set()
        #: DRC root -> (failures in a row, time before which it is not called again)
        self._hosts: dict[str, tuple[int, float]] = {}

    def backoff(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row (>= 1)."""
        return min(self.settle * 2 ** max(0, failures - 1), MAX_BACKOFF)

    def run_once(self, now: float | None = None) -> Round:
        """One pass over the due rows and pairs; never raises for DRC or row problems."""
        now = time.time() if now is None else now
        result = Round()
        ends = time.monotonic() + self.budget
        self._rows(now, result, ends)
        self._touched(now, result, ends)
        return result

    # -- rows with pending work ---------------------------------------------------------------
    def _rows(self, now: float, result: Round, ends: float) -> None:
        rows = self.sync.store.conn.execute(
            f"SELECT uuid, data, verzoek, informatieobject, sync, sync_owner, sync_since, "
            f"sync_attempts FROM {TABLE} "
            "WHERE sync IS NOT NULL AND (sync_due IS NULL OR sync_due <= ?) "
            "AND (sync_since IS NULL OR sync_since <= ?) "
            "ORDER BY coalesce(sync_due, 0), seq LIMIT ?",
            (now, now - self.settle, BATCH),
        ).fetchall()
        for uuid, data, verzoek, document, state, owner, since, attempts in rows:
            if not self._ready(owner, since, now):
                result.waiting += 1
                continue
            row = _stored_row(uuid, data, verzoek, document)
            host = self._host(row)
            held_until = self._held(host, now)
            if held_until is not None or time.monotonic() > ends:
                self._postpone_row(uuid, state, owner, since, held_until or now)
                result.postponed += 1
                continue
            claim = new_owner()
            if not self._claim(uuid, state, owner, since, claim):
                continue  # another worker took it, or a request did
            try:
                self._reconcile(row, state, claim, attempts, now, result)
            except Exception as exc:  # one row's surprise must not end the round for the rest
                log.exception("VIO %s: DRC work (%s) failed unexpectedly", uuid, state)
                result.failed[uuid] = f"unexpected error: {exc!r}"
                self.sync.retry_later(uuid, claim, now + self.backoff(attempts + 1))

    def _ready(self, owner: str | None, since: float | None, now: float) -> bool:
        if since is None:
            return True  # inserted by other means: nobody is working on it
        if now - since >= self.stale:
            return True  # an owner that has not finished in this time never will
        return now - since >= self.settle and (owner is None or not owner_alive(owner))

    def _claim(
        self, uuid: str, state: str, owner: str | None, since: float | None, claim: str
    ) -> bool:
        with self.sync.store.write() as conn:
            cursor = conn.execute(
                f"UPDATE {TABLE} SET sync_owner = ?, sync_since = ? WHERE uuid = ? AND sync = ? "
                "AND sync_owner IS ? AND sync_since IS ?",
                (claim, time.time(), uuid, state, owner, since),
            )
            return cursor.rowcount == 1

    def _postpone_row(
        self, uuid: str, state: str, owner: str | None, since: float | None, due: float
    ) -> None:
        """Not now: due again at ``due`` (unless someone took the row meanwhile)."""
        with self.sync.store.write() as conn:
            conn.execute(
                f"UPDATE {TABLE} SET sync_due = ? WHERE uuid = ? AND sync = ? "
                "AND sync_owner IS ? AND sync_since IS ?",
                (due, uuid, state, owner, since),
            )

    def _reconcile(
        self,
        row: dict[str, Any],
        state: str,
        claim: str,
        attempts: int,
        now: float,
        result: Round,
    ) -> None:
        uuid = row["uuid"]
        mirror_object = self.sync.mirror_object(row)
        if mirror_object is None:
            if uuid not in self._unmirrorable:
                log.error(
                    "VIO %s has no stored verzoek URL and no public_base_url is configured: "
                    "cannot mirror it in the DRC",
                    uuid,
                )
                self._unmirrorable.add(uuid)
            result.failed[uuid] = "no verzoek URL to mirror (configure public_base_url)"
            self.sync.retry_later(uuid, claim, now + self.backoff(attempts + 1))
            return
        row["mirrorObject"] = mirror_object
        host = self._host(row)
        try:
            if state == MIRROR:
                self.sync.ensure_mirror(row)
                self.sync.settle(uuid, claim)
                result.mirrored.append(uuid)
            elif state == UNMIRROR:
                self.sync.remove_mirrors_and_row(row, claim)
                result.removed.append(uuid)
            else:
                raise MirrorFailed(f"unknown sync state {state!r}")
        except MirrorFailed as exc:
            log.warning("VIO %s: DRC work (%s) failed, retried later: %s", uuid, state, exc)
            result.failed[uuid] = str(exc)
            self.sync.retry_later(uuid, claim, now + self.backoff(attempts + 1))
            self._answered(host, now, failed=exc.uncertain)
            return
        self._answered(host, now, failed=False)

    # -- pairs a delete overtook ----------------------------------------------------------------
    def _touched(self, now: float, result: Round, ends: float) -> None:
        pairs = self.sync.store.conn.execute(
            f"SELECT mirror_object, informatieobject, due, attempts FROM {TOUCHED_TABLE} "
            "WHERE due <= ? ORDER BY due LIMIT ?",
            (now, BATCH),
        ).fetchall()
        for mirror_object, document, due, attempts in pairs:
            host = self.sync.drc_root(document)
            held_until = self._held(host, now)
            if held_until is not None or time.monotonic() > ends:
                self._move_pair(mirror_object, document, due, held_until or now)
                result.postponed += 1
                continue
            # The claim: push the pair's due time past this check, for this worker only.
            claimed = now + self.stale
            if not self._move_pair(mirror_object, document, due, claimed):
                continue
            try:
                finished = self._compare(mirror_object, document, result)
            except Exception as exc:  # one pair's failure must not end the round for the rest
                if isinstance(exc, MirrorFailed):
                    log.warning(
                        "mirrors of %s and %s could not be compared: %s",
                        mirror_object,
                        document,
                        exc,
                    )
                else:
                    log.exception("mirrors of %s and %s: unexpected error", mirror_object, document)
                result.failed[f"{mirror_object} {document}"] = str(exc)
                self._move_pair(
                    mirror_object, document, claimed, now + self.backoff(attempts + 1), failed=True
                )
                self._answered(host, now, failed=getattr(exc, "uncertain", False))
                continue
            self._answered(host, now, failed=False)
            if finished:
                with self.sync.store.write() as conn:
                    conn.execute(
                        f"DELETE FROM {TOUCHED_TABLE} WHERE mirror_object = ? "
                        "AND informatieobject = ? AND due = ?",
                        (mirror_object, document, claimed),
                    )
            else:  # work on a row of the pair is under way: look again once it is done
                self._move_pair(mirror_object, document, claimed, now + self.settle)

    def _compare(self, mirror_object: str, document: str, result: Round) -> bool:
        """Make the pair's mirrors match its rows; False while a row has work under way.

        The DRC is asked first: a mirror listed then was made for a row inserted before (rows
        come before mirrors), so a pair without rows afterwards has no row to explain it.
        """
        mirrors = self.sync.pair_mirrors(mirror_object, document)
        rows = [
            (uuid, state)
            for uuid, state, data, verzoek in self.sync.store.conn.execute(
                f"SELECT uuid, sync, data, verzoek FROM {TABLE} WHERE informatieobject = ?",
                (document,),
            )
            if self.sync.mirror_object(_stored_row(uuid, data, verzoek, document)) == mirror_object
        ]
        if not rows:
            for url in mirrors:
                self.sync.delete_mirror_url(url)
                result.orphans.append(url)
            return True
        if any(state is not None for _uuid, state in rows):
            return False
        if not mirrors:
            with self.sync.store.write() as conn:
                for uuid, _state in rows:
                    conn.execute(
                        f"UPDATE {TABLE} SET sync = ?, sync_since = NULL, sync_due = NULL "
                        "WHERE uuid = ? AND sync IS NULL",
                        (MIRROR, uuid),
                    )
                    result.requeued.append(uuid)
            return True
        for url in mirrors[len(rows) :]:  # one relation, one mirror
            self.sync.delete_mirror_url(url)
            result.orphans.append(url)
        return True

    def _move_pair(
        self, mirror_object: str, document: str, due: float, new_due: float, *, failed: bool = False
    ) -> bool:
        with self.sync.store.write() as conn:
            cursor = conn.execute(
                f"UPDATE {TOUCHED_TABLE} SET due = ?, attempts = attempts + ? "
                "WHERE mirror_object = ? AND informatieobject = ? AND due = ?",
                (new_due, int(failed), mirror_object, document, due),
            )
            return cursor.rowcount == 1

    # -- DRCs that do not answer ----------------------------------------------------------------
    def _host(self, row: dict[str, Any]) -> str | None:
        document = row.get("informatieobject")
        return self.sync.drc_root(document) if isinstance(document, str) else None

    def _held(self, host: str | None, now: float) -> float | None:
        """The time until which ``host`` is left alone, or None when it may be called."""
        if host is None or host not in self._hosts:
            return None
        until = self._hosts[host][1]
        return until if until > now else None

    def _answered(self, host: str | None, now: float, *, failed: bool) -> None:
        if host is None:
            return
        if not failed:
            self._hosts.pop(host, None)
            return
        failures = self._hosts.get(host, (0, 0.0))[0] + 1
        self._hosts[host] = (failures, now + self.backoff(failures))
        log.warning(
            "the DRC at %s does not answer; left alone for %.0f s", host, self.backoff(failures)
        )


def run_in_background(
    reconciler: Reconciler, interval: float, stop: threading.Event
) -> threading.Thread:
    """Run ``reconciler`` every ``interval`` seconds in a daemon thread until ``stop`` is set.

    The thread holds the reconciler weakly, so it also ends once the reconciler's owner (the
    app's runtime, see app.py) is gone: test suites that build many apps and never stop them
    do not pile up threads.
    """
    reference = weakref.ref(reconciler)

    def loop() -> None:
        while not stop.is_set():
            current = reference()
            if current is None:
                return
            try:
                current.run_once()
            except Exception:  # a broken database file, a bug: log, keep the worker alive
                log.exception("reconciliation round failed")
            del current
            stop.wait(interval)

    thread = threading.Thread(target=loop, name="kic-001-reconciler", daemon=True)
    thread.start()
    return thread
