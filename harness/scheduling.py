"""The run-alone rule: scenarios that need the shared mock DRC to themselves run alone; and
scenarios that make the DRC call the KIC back run one at a time.

A scenario that sets DRC faults, or asserts an absence or an exact count in the DRC's journal or
mirror list (:attr:`harness.scenarios.Scenario.needs_exclusive_drc`), would be fooled by the DRC
traffic of scenarios running at the same time. Both front ends keep one rule:
:func:`in_run_order` puts those scenarios last, and every scenario runs inside
:meth:`DrcTurns.turn`, a readers-writer lock on the DRC (shared for ordinary scenarios,
exclusive for those). The lock is an ``flock`` on a file named after the DRC's URL in the
temporary folder, so it holds alike between the CLI's threads and between pytest-xdist workers
that share one DRC; the last holder removes the file.

Call-back scenarios (:func:`calls_back`: kic-001, and every scenario that creates or deletes a
verzoekinformatieobject) also take a second, exclusive lock for the whole scenario. Such a
request holds one of the KIC's workers while the strict DRC calls the KIC back, which needs
another: a KIC served by two synchronous workers deadlocks when two of them run at once (each
holds a worker, the call-backs wait for a free one until they time out). One at a time, the
call-back always finds a worker that ordinary requests free again soon.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # no flock (Windows): the run order alone keeps the rule in one process
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from harness.scenarios import Scenario


#: Operations whose handling makes a strict DRC call the KIC back (the mirror create/delete).
CALLBACK_OPERATIONS = frozenset(
    {"verzoekinformatieobject_create", "verzoekinformatieobject_delete"}
)


def calls_back(scenario: Scenario) -> bool:
    """True when running ``scenario`` makes the mock DRC call the KIC back during a request."""
    return scenario.rule == "kic-001" or bool(CALLBACK_OPERATIONS & set(scenario.operations))


def split(scenarios: Sequence[Scenario]) -> tuple[list[Scenario], list[Scenario]]:
    """(those that may share the DRC, those that must have it alone), each in given order."""
    alone = [s for s in scenarios if s.needs_exclusive_drc]
    return [s for s in scenarios if not s.needs_exclusive_drc], alone


def in_run_order(scenarios: Sequence[Scenario]) -> list[Scenario]:
    """The scenarios in the order they run: those that share the DRC first, the others after."""
    shared, alone = split(scenarios)
    return shared + alone


class DrcTurns:
    """Turns on one mock DRC: shared for most scenarios, exclusive for the run-alone ones."""

    def __init__(self, drc_url: str | None, folder: Path | None = None) -> None:
        self.path: Path | None = None
        self.callback_path: Path | None = None
        if drc_url and fcntl is not None:
            digest = hashlib.sha256(drc_url.encode("utf-8")).hexdigest()[:16]
            base = (folder or Path(tempfile.gettempdir())) / f"kic-conformance-drc-{digest}"
            self.path = base.with_name(base.name + ".lock")
            self.callback_path = base.with_name(base.name + "-callbacks.lock")

    @contextlib.contextmanager
    def turn(self, scenario: Scenario) -> Iterator[None]:
        """Hold the DRC for the duration of the block: alone when the scenario needs that, and
        as the only call-back scenario when it is one (always in this order: no deadlock)."""
        if self.path is None or self.callback_path is None:
            yield
            return
        mode = fcntl.LOCK_EX if scenario.needs_exclusive_drc else fcntl.LOCK_SH
        held = [(self.path, _acquire(self.path, mode))]
        try:
            if calls_back(scenario):
                held.append((self.callback_path, _acquire(self.callback_path, fcntl.LOCK_EX)))
            yield
        finally:
            for path, fd in reversed(held):
                _release(path, fd)


def _acquire(path: Path, mode: int) -> int:
    while True:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(fd, mode)
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            return fd
        # The last holder removed the file while this one waited: lock the new one.
        os.close(fd)


def _release(path: Path, fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pass  # others hold the lock; the last one out removes the file
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    finally:
        os.close(fd)
