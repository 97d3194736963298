"""Who is working on a kic-001 row: owner tokens of operations and whether their process lives.

An operation that leaves DRC work unfinished in a row (see drc_sync.py) signs it with an owner
token, ``<pid>:<starttime>/<random>``. The reconciler of any worker may take the row over once
that process is gone (``kill -9``, a crash); the start time tells a reused pid apart. Where
the kernel gives no start times (no /proc, e.g. macOS) the pid alone identifies a process.
"""

from __future__ import annotations

import os
import secrets

from zgw import procfs

#: A start time that cannot be read: the pid alone decides.
UNKNOWN_START = procfs.UNKNOWN


def process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid``; None: no such process (or a zombie).

    :data:`UNKNOWN_START` where /proc is not available (see :mod:`zgw.procfs`).
    """
    return procfs.start_time(pid)


_identity: tuple[int, str] | None = None


def process_identity() -> str:
    """``pid:starttime`` of this process (computed again after a fork)."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{pid}:{process_start(pid) or UNKNOWN_START}")
    return _identity[1]


def new_owner() -> str:
    """An owner token for one operation: this process plus a random part."""
    return f"{process_identity()}/{secrets.token_hex(4)}"


def owner_alive(owner: str) -> bool:
    """Whether the process in ``owner`` still runs (so its operation may still finish)."""
    process = owner.split("/", 1)[0]
    pid_text, _, start = process.partition(":")
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass  # the pid belongs to someone else's process: the start time decides
    current = process_start(pid)
    if current is None:
        return False
    return UNKNOWN_START in (start, current) or current == start
