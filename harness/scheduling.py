"""The run-alone rule: scenarios that need the shared mock DRC to themselves run alone.

A scenario that sets DRC faults, or asserts an absence or an exact count in the DRC's journal or
mirror list (:attr:`harness.scenarios.Scenario.needs_exclusive_drc`), would be fooled by the DRC
traffic of scenarios running at the same time. Both front ends keep one rule:
:func:`in_run_order` puts those scenarios last, and every scenario runs inside
:meth:`DrcTurns.turn`, a readers-writer lock on the DRC (shared for ordinary scenarios,
exclusive for those). The lock is an ``flock`` on a file named after the DRC's URL in the
temporary folder, so it holds alike between the CLI's threads and between pytest-xdist workers
that share one DRC; the last holder removes the file.
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
        if drc_url and fcntl is not None:
            digest = hashlib.sha256(drc_url.encode("utf-8")).hexdigest()[:16]
            self.path = (
                folder or Path(tempfile.gettempdir())
            ) / f"kic-conformance-drc-{digest}.lock"

    @contextlib.contextmanager
    def turn(self, scenario: Scenario) -> Iterator[None]:
        """Hold the DRC for the duration of the block, alone when the scenario needs that."""
        if self.path is None:
            yield
            return
        fd = self._acquire(fcntl.LOCK_EX if scenario.needs_exclusive_drc else fcntl.LOCK_SH)
        try:
            yield
        finally:
            self._release(fd)

    def _acquire(self, mode: int) -> int:
        assert self.path is not None
        while True:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
            fcntl.flock(fd, mode)
            try:
                current = os.stat(self.path).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                return fd
            # The last holder removed the file while this one waited: lock the new one.
            os.close(fd)

    def _release(self, fd: int) -> None:
        assert self.path is not None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # others hold the DRC; the last one out removes the file
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        finally:
            os.close(fd)
