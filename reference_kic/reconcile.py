"""Finishing kic-001 work that a request could not: the reconciler of DRC mirrors.

A verzoekinformatieobject row whose ``sync`` column is set still has DRC work pending (see
:mod:`reference_kic.drc_sync`): ``mirror`` (make sure the DRC holds its mirror; also every
row inserted into the database by other means than the API) or ``unmirror`` (a hidden row:
delete its mirrors, then the row). A request leaves such a row behind when the DRC failed in
a way that left its state unknown, or when the process died half-way (``kill -9``, a crash).

Every worker runs :class:`Reconciler` in a daemon thread (:func:`run_in_background`, started
and stopped by the app's runtime). It takes a row only when nobody
is working on it any more (its owner's process is gone, or the owner released it) and the
DRC had time to finish any request still in flight (``settle`` seconds, just over the KIC's
DRC timeout); a claim in SQLite makes sure one worker handles a row at a time. A row whose
DRC work fails again is retried after another ``settle`` period and logged.
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

log = logging.getLogger(__name__)

BATCH = 100  # rows looked at per round; the rest wait for the next round


@dataclass
class Round:
    """What one reconciliation round did (for logs and tests)."""

    mirrored: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    waiting: int = 0  # rows whose owner may still finish them, or whose settle time runs

    @property
    def done(self) -> int:
        return len(self.mirrored) + len(self.removed)


class Reconciler:
    """Settles the pending rows of one KIC database against the DRC."""

    def __init__(self, sync: DrcSync, *, settle: float, stale: float) -> None:
        self.sync = sync
        self.settle = settle
        self.stale = stale
        self._unmirrorable: set[str] = set()

    def run_once(self, now: float | None = None) -> Round:
        """One pass over the pending rows; never raises for DRC or row problems."""
        now = time.time() if now is None else now
        result = Round()
        rows = self.sync.store.conn.execute(
            f"SELECT uuid, data, sync, sync_owner, sync_since FROM {TABLE} "
            "WHERE sync IS NOT NULL ORDER BY seq LIMIT ?",
            (BATCH,),
        ).fetchall()
        for uuid, data, state, owner, since in rows:
            if not self._ready(owner, since, now):
                result.waiting += 1
                continue
            claim = new_owner()
            if not self._claim(uuid, state, owner, since, claim):
                continue  # another worker took it, or a request did
            try:
                row = {**json.loads(data), "uuid": uuid}
            except ValueError:
                log.error("VIO %s: stored data is not JSON; left as it is", uuid)
                result.failed[uuid] = "stored data is not JSON"
                self.sync.release(uuid, claim)
                continue
            self._reconcile(row, state, claim, result)
        return result

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

    def _reconcile(self, row: dict[str, Any], state: str, claim: str, result: Round) -> None:
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
            self.sync.release(uuid, claim)
            return
        row["mirrorObject"] = mirror_object
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
            self.sync.release(uuid, claim)


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
