"""zgw.procfs reads /proc right (on a fake tree with awkward names and on the real one) and
degrades to UNKNOWN / empty / None where there is no /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from polling import wait_for

from zgw import procfs

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def stat_line(pid: int, name: str, state: str, parent: int, start: int) -> str:
    """A /proc/<pid>/stat line: fields 1-2, then fields 3 (state) to 22 (starttime)."""
    middle = [state, str(parent)] + ["0"] * 17  # fields 3 and 4, then 5 to 21
    return f"{pid} ({name}) {' '.join(middle)} {start} 4096 12 0\n"


def fake_process(
    root: Path, pid: int, *, name: str = "x", state: str = "S", parent: int = 1, start: int = 1
) -> Path:
    directory = root / str(pid)
    (directory / "task" / str(pid)).mkdir(parents=True)
    (directory / "stat").write_text(stat_line(pid, name, state, parent, start))
    return directory


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty fake /proc (with ``self/stat``, so it counts as available)."""
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "stat").write_text(stat_line(1, "init", "S", 0, 1))
    monkeypatch.setattr(procfs, "PROCFS", tmp_path)
    return tmp_path


def test_start_time_is_field_22_even_with_parentheses_in_the_name(fake_proc: Path) -> None:
    fake_process(fake_proc, 100, name="we) ird (name", start=987654)
    assert procfs.start_time(100) == "987654"


def test_start_time_of_a_zombie_or_a_missing_process_is_none(fake_proc: Path) -> None:
    fake_process(fake_proc, 100, state="Z", start=5)
    assert procfs.start_time(100) is None
    assert procfs.start_time(101) is None


def test_children_come_from_every_threads_children_file(fake_proc: Path) -> None:
    leader = fake_process(fake_proc, 100)
    (leader / "task" / "100" / "children").write_text("101 102 ")
    (leader / "task" / "105").mkdir()
    (leader / "task" / "105" / "children").write_text("103\n")
    # A stale stat claiming another child must not matter where the children files exist.
    fake_process(fake_proc, 104, parent=100)
    assert sorted(procfs.children(100)) == [101, 102, 103]


def test_without_children_files_a_stat_scan_finds_children_and_descendants(
    fake_proc: Path,
) -> None:
    fake_process(fake_proc, 100)
    fake_process(fake_proc, 101, name="a (b) c", parent=100)
    fake_process(fake_proc, 102, parent=100)
    fake_process(fake_proc, 103, parent=102)
    fake_process(fake_proc, 200, parent=1)
    assert sorted(procfs.children(100)) == [101, 102]
    assert sorted(procfs.descendants(100)) == [101, 102, 103]
    assert procfs.children(103) == []
    assert procfs.children(999) == []


def test_peak_rss_and_cpu_model(fake_proc: Path) -> None:
    leader = fake_process(fake_proc, 100)
    (leader / "status").write_text("Name:\tx\nVmPeak:\t 9000 kB\nVmHWM:\t  4321 kB\n")
    fake_process(fake_proc, 101)
    (fake_proc / "cpuinfo").write_text(
        "processor\t: 0\nmodel name\t: Example CPU @ 2.00GHz\n\nprocessor\t: 1\n"
        "model name\t: Other\n"
    )
    assert procfs.peak_rss_kib(100) == 4321
    assert procfs.peak_rss_kib(101) is None  # a kernel thread has no VmHWM line
    assert procfs.peak_rss_kib(999) is None
    assert procfs.cpu_model() == "Example CPU @ 2.00GHz"


def test_everything_degrades_without_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procfs, "PROCFS", tmp_path / "no-proc")
    assert not procfs.available()
    assert procfs.start_time(os.getpid()) == procfs.UNKNOWN
    assert procfs.children(os.getpid()) == []
    assert procfs.descendants(os.getpid()) == []
    assert procfs.peak_rss_kib(os.getpid()) is None
    assert procfs.cpu_model() is None


needs_procfs = pytest.mark.skipif(not procfs.available(), reason="reads the real /proc (Linux)")


@needs_procfs
def test_start_time_of_a_real_process_is_when_it_started_in_clock_ticks() -> None:
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    child = subprocess.Popen(SLEEPER)
    after = time.clock_gettime(time.CLOCK_BOOTTIME)
    try:
        started = procfs.start_time(child.pid)
        assert started is not None and started.isdigit()
        assert int(before * ticks_per_second) <= int(started) <= int(after * ticks_per_second)
        assert procfs.start_time(child.pid) == started  # stable: it names this process
    finally:
        child.kill()
        child.wait()


@needs_procfs
def test_a_killed_child_is_not_running_before_it_is_reaped() -> None:
    child = subprocess.Popen(SLEEPER)
    assert procfs.start_time(child.pid) is not None
    os.kill(child.pid, signal.SIGKILL)
    try:
        # Not reaped yet: a zombie, which must count as no process.
        assert wait_for(lambda: procfs.start_time(child.pid) is None)
    finally:
        child.wait()


@needs_procfs
def test_children_and_descendants_of_this_process() -> None:
    script = "\n".join([
        "import subprocess, time",
        f"subprocess.Popen({SLEEPER!r})",
        "print(flush=True)",  # the grandchild exists now
        "time.sleep(60)",
    ])  # fmt: skip
    # Its own session, so that killing its group at the end also ends the grandchild.
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"\n"
        assert parent.pid in procfs.children(os.getpid())
        below = procfs.descendants(parent.pid)
        assert len(below) == 1 and procfs.children(parent.pid) == below
        assert {parent.pid, *below} <= set(procfs.descendants(os.getpid()))
        assert (procfs.peak_rss_kib(parent.pid) or 0) > 0
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
