"""The one place that reads ``/proc``, Linux's view of its processes and machine.

Used for: a process's start time (with the pid it names one process for good, even after the
pid is reused: the ``pid:starttime`` owners of the reference KIC), the children and descendants
of a process (the workers of a gunicorn master), a process's peak memory and the CPU model.

Where ``/proc`` does not exist (macOS, ...) every function degrades instead of failing: start
times are :data:`UNKNOWN`, process lists are empty and figures are None. Each function says
what it returns then.
"""

from __future__ import annotations

from pathlib import Path

#: Where the kernel describes processes; a module attribute so tests can point it at a fake.
PROCFS = Path("/proc")

#: The start time where it cannot be read (no ``/proc``): the pid alone identifies the process.
UNKNOWN = "?"


def available() -> bool:
    """Whether this system has a ``/proc`` to read."""
    return (PROCFS / "self" / "stat").exists()


def _stat_fields(pid: int | str) -> list[str]:
    """Fields 3 and on of ``/proc/<pid>/stat`` (index 0 is field 3, the state).

    The command name (field 2) is cut off at its last ``)``, since it may hold spaces and
    parentheses itself. Raises OSError when the file cannot be read.
    """
    text = (PROCFS / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    return text.rsplit(")", 1)[1].split()


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of its stat, clock ticks after boot).

    None: no such process, or a zombie (dead for every purpose but its exit status).
    :data:`UNKNOWN` where it cannot be read: no ``/proc`` at all, or its stat is unreadable.
    """
    if not available():
        return UNKNOWN
    try:
        fields = _stat_fields(pid)
    except FileNotFoundError:
        return None
    except OSError:
        return UNKNOWN
    return None if fields[0] == "Z" else fields[19]


def _children_from_files(pid: int) -> list[int] | None:
    """Children of ``pid`` from the ``children`` file of each of its threads.

    None when this kernel has no such files (built without CONFIG_PROC_CHILDREN); an empty
    list when the process is gone.
    """
    try:
        threads = list((PROCFS / str(pid) / "task").iterdir())
    except OSError:
        return []
    found: list[int] = []
    for thread in threads:
        try:
            text = (thread / "children").read_text(encoding="ascii")
        except FileNotFoundError:
            if thread.exists():
                return None  # the thread is there, its children file is not: unsupported
            continue  # the thread ended meanwhile
        except OSError:
            continue
        found.extend(int(child) for child in text.split())
    return found


def _children_by_scan() -> dict[int, list[int]]:
    """Parent pid -> its children, from reading the stat of every process once."""
    children: dict[int, list[int]] = {}
    try:
        entries = [entry.name for entry in PROCFS.iterdir() if entry.name.isdigit()]
    except OSError:
        return children
    for name in entries:
        try:
            parent = int(_stat_fields(name)[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(int(name))
    return children


def children(pid: int) -> list[int]:
    """Pids of the direct children of ``pid``; empty when it has none, is gone, or there
    is no ``/proc``."""
    found = _children_from_files(pid)
    return found if found is not None else _children_by_scan().get(pid, [])


def descendants(pid: int) -> list[int]:
    """Pids of every process below ``pid`` (children, theirs, ...); empty where there is no
    ``/proc``."""
    scanned: dict[int, list[int]] | None = None
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        below = _children_from_files(current)
        if below is None:  # no children files: one scan serves the whole tree
            scanned = scanned if scanned is not None else _children_by_scan()
            below = scanned.get(current, [])
        found.extend(below)
        todo.extend(below)
    return found


def peak_rss_kib(pid: int) -> int | None:
    """``VmHWM``, the peak resident set size of ``pid``, in KiB; None when the process is
    gone (or a zombie) or there is no ``/proc``."""
    try:
        lines = (PROCFS / str(pid) / "status").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def cpu_model() -> str | None:
    """The CPU's model name (the first ``model name`` of ``/proc/cpuinfo``); None where
    there is none (no ``/proc``, or a CPU that does not report one, as on some ARM boards)."""
    try:
        lines = (PROCFS / "cpuinfo").read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return None
