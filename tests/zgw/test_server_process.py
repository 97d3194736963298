"""zgw.serving's process helper: start a server command on a free port, wait until it
answers, find its workers, stop or kill its whole process group; clear errors when it dies
at start or never answers."""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from polling import wait_for

from zgw import procfs
from zgw.serving import ServerStartError, free_port, serve_in_process, start_server_process

TINY_SERVER = Path(__file__).with_name("tiny_server.py")

needs_procfs = pytest.mark.skipif(
    not procfs.available(), reason="finding workers needs /proc (Linux)"
)


def tiny(*options: str) -> Callable[[int], list[str]]:
    return lambda port: [sys.executable, str(TINY_SERVER), str(port), *options]


def gone(pid: int) -> bool:
    """No such process any more (or only a zombie waiting for its parent)."""
    return procfs.start_time(pid) is None


@needs_procfs
def test_serves_finds_its_workers_and_stops_the_whole_group(tmp_path: Path) -> None:
    with serve_in_process(
        "tiny", tiny("--workers", "2"), tmp_path, env={"TINY_BODY": "hello"}
    ) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(server.url, timeout=5).text == "hello"
        workers = server.workers()
        assert len(workers) == 2
        assert sorted(server.descendants()) == sorted(workers)
        leader_start = procfs.start_time(server.pid)
        assert leader_start is not None and leader_start != procfs.UNKNOWN
        assert all(int(procfs.start_time(pid) or -1) >= int(leader_start) for pid in workers)
    # SIGTERM reached the leader, and its workers went with it (signals land asynchronously).
    assert server.process.returncode == -signal.SIGTERM
    assert wait_for(lambda: all(gone(pid) for pid in workers)), workers


@needs_procfs
def test_stop_kills_a_server_that_ignores_sigterm(tmp_path: Path) -> None:
    server = start_server_process("stubborn", tiny("--workers", "1", "--ignore-sigterm"), tmp_path)
    try:
        workers = server.workers()
        assert len(workers) == 1
        server.stop(grace=0.5)
        assert server.process.returncode == -signal.SIGKILL
        assert wait_for(lambda: gone(workers[0]))
    finally:
        server.kill()  # whatever stop() did, leave nothing running


@needs_procfs
def test_kill_ends_leader_and_workers_at_once(tmp_path: Path) -> None:
    server = start_server_process("tiny", tiny("--workers", "2"), tmp_path)
    try:
        workers = server.workers()
    finally:
        server.kill()
    assert server.process.returncode == -signal.SIGKILL
    assert all(gone(pid) for pid in workers)


def test_uses_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    with serve_in_process("tiny", tiny(), tmp_path, port=port) as server:
        assert server.port == port
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    assert (tmp_path / f"tiny-{port}.log").exists()


def test_a_server_that_dies_at_start_is_reported_with_its_output(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as raised:
        start_server_process("doomed", tiny("--die-with", "the database is locked"), tmp_path)
    message = str(raised.value)
    assert message.startswith("doomed exited with 3 before answering at http://127.0.0.1:")
    assert "the database is locked" in message


def test_a_server_that_never_answers_is_reported_and_killed(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError) as raised:
        start_server_process("mute", tiny("--mute"), tmp_path, start_timeout=1)
    message = str(raised.value)
    assert message.startswith("mute did not answer at http://127.0.0.1:")
    assert "within 1 s" in message
    found = re.search(r"pid (\d+): not listening", message)
    assert found, message
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(int(found.group(1)), 0)
