"""What the robustness tests share: the reference KIC under gunicorn in its own process group,
the clients and tokens, and small helpers over the KIC's API and SQLite file.

Every KIC process is started with ``start_new_session=True`` so that the fixture's teardown can
SIGKILL exactly that process group (master and workers), also after a test killed parts of it.
Everything listens on free loopback ports, so the tests are xdist-safe.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from polling import wait_for

from mock_drc.testing import MockDrcHandle
from zgw.jwt import bearer
from zgw.serving import free_port

CLIENT_ID, SECRET = "robust", "robust-secret"
NARROW_ID, NARROW_SECRET = "narrow", "narrow-secret"  # klanten.lezen only
WRITER_ID, WRITER_SECRET = "writer", "writer-secret"  # klanten.aanmaken only
CALLBACK_ID, CALLBACK_SECRET = "mock-drc", "mock-drc-secret"
DRC_CLIENT_ID, DRC_SECRET = "kic", "kic-secret"
BIN = Path(sys.executable).parent


def auth(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    """Headers with a fresh token for a configured client."""
    return {"Authorization": bearer(client_id, secret), "Accept": "application/json"}


def kic_config_dict(drc: DrcLike | None, http_timeout: float = 10.0) -> dict:
    """Clients (full, narrow read-only, the DRC's call-back) and the DRC credentials."""
    return {
        "clients": {
            CLIENT_ID: {"secret": SECRET, "scopes": "all"},
            NARROW_ID: {"secret": NARROW_SECRET, "scopes": ["klanten.lezen"]},
            CALLBACK_ID: {"secret": CALLBACK_SECRET, "scopes": ["klanten.lezen"]},
        },
        "drc": (
            [{"api_root": drc.documents_root, "client_id": DRC_CLIENT_ID, "secret": DRC_SECRET}]
            if drc
            else []
        ),
        "http_timeout": http_timeout,
    }


class DrcProcess:
    """``mock-drc serve`` (gunicorn, one process, threads) in its own process group, driven
    through its control API. Its call-backs then cost CPU in its own process, not the test's."""

    def __init__(self, workdir: Path, threads: int = 16) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / f"mock-drc-{port}.log"
        args = [
            str(BIN / "mock-drc"), "serve", "--port", str(port), "--threads", str(threads),
            "--client", f"{DRC_CLIENT_ID}:{DRC_SECRET}",
            "--callback-client", f"{CALLBACK_ID}:{CALLBACK_SECRET}",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.control = httpx.Client(
            base_url=f"{self.url}/_mock/",
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),  # gunicorn closes idle ones
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mock-drc did not start:\n{self.log.read_text()[-3000:]}")
            try:
                self.control.get("state")
                break
            except httpx.HTTPError:
                time.sleep(0.1)

    @property
    def documents_root(self) -> str:
        return f"{self.url}/documenten/api/v1/"

    def create_document(self, **fields: object) -> dict:
        response = self.control.post("documents", json=fields)
        response.raise_for_status()
        return response.json()

    def add_fault(self, method: str, path: str, **rule: object) -> None:
        response = self.control.post("faults", json={"method": method, "path": path, **rule})
        response.raise_for_status()

    def clear_faults(self) -> None:
        self.control.delete("faults").raise_for_status()

    def mirrors(self) -> list[dict]:
        response = self.control.get("state")
        response.raise_for_status()
        return response.json()["mirrors"]

    def journal(self) -> list[dict]:
        response = self.control.get("journal")
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.control.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


DrcLike = MockDrcHandle | DrcProcess


def children_by_scan(pid: int) -> list[int]:
    """Children of ``pid`` found by reading every /proc/<n>/stat (kernels without the
    ``children`` file)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def process_group_alive(pgid: int) -> bool:
    """True while any process of the group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class GunicornKic:
    """One ``reference-kic serve`` process group: the gunicorn master (the session leader)
    and its workers."""

    process: subprocess.Popen[bytes]
    url: str
    db: Path
    log: Path

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def workers(self) -> list[int]:
        """Pids of the master's current children (its workers)."""
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return children_by_scan(pid)

    def kill_workers(self) -> list[int]:
        """``kill -9`` every current worker; the master respawns them."""
        killed = self.workers()
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return killed

    def kill_all(self) -> None:
        """``kill -9`` the master and every worker (the whole process group we started)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while process_group_alive(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def _wait_until_up(kic: GunicornKic, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if kic.process.poll() is not None:
            raise RuntimeError(f"reference-kic exited {kic.process.returncode}:\n{kic.log_tail()}")
        try:
            httpx.get(f"{kic.api}/klanten", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"reference-kic did not answer within {limit} s:\n{kic.log_tail()}")


class KicStarter:
    """Starts reference KICs for one test and kills every one of them at teardown."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[GunicornKic] = []

    def __call__(
        self,
        db: Path,
        drc: DrcLike | None,
        *,
        workers: int = 2,
        threads: int | None = None,
        http_timeout: float = 10.0,
        port: int | None = None,
    ) -> GunicornKic:
        config = self.workdir / f"kic-config-{len(self.started)}.json"
        config.write_text(json.dumps(kic_config_dict(drc, http_timeout)))
        last_error: Exception | None = None
        # A port just freed by a kill -9 may take a moment to bind again: retry a few times.
        for _attempt in range(5):
            chosen = port or free_port()
            url = f"http://127.0.0.1:{chosen}"
            log = self.workdir / f"kic-{chosen}-{len(self.started)}.log"
            args = [
                str(BIN / "reference-kic"), "serve", "--port", str(chosen), "--db", str(db),
                "--workers", str(workers), "--config", str(config),
                "--public-base-url", f"{url}/api/v1",
            ]  # fmt: skip
            if threads:
                args += ["--threads", str(threads)]
            with log.open("ab") as out:
                process = subprocess.Popen(
                    args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            kic = GunicornKic(process, url, db, log)
            self.started.append(kic)
            try:
                _wait_until_up(kic)
                return kic
            except RuntimeError as exc:
                last_error = exc
                kic.kill_all()
                time.sleep(0.5)
        raise RuntimeError(f"could not start the reference KIC: {last_error}")

    def stop_all(self) -> None:
        for kic in self.started:
            kic.kill_all()


def create_verzoeken(api: str, count: int) -> list[str]:
    """``count`` verzoeken through the API; their URLs."""
    urls = []
    with httpx.Client(headers=auth(), timeout=30) as client:
        for _ in range(count):
            response = client.post(
                f"{api}/verzoeken", json={"bronorganisatie": "000000000", "status": "ontvangen"}
            )
            assert response.status_code == 201, response.text
            urls.append(response.json()["url"])
    return urls


def db_rows(db: Path, sql: str) -> list[tuple]:
    """Rows of a read-only query on the KIC's SQLite file."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


PENDING_SQL = (
    "SELECT uuid, sync, sync_owner, hidden FROM verzoekinformatieobjecten WHERE sync IS NOT NULL"
)


def wait_until_reconciled(db: Path, limit: float = 60.0) -> list[tuple]:
    """Wait for the KIC's reconciler to finish all pending kic-001 work; the rows still pending."""
    wait_for(lambda: not db_rows(db, PENDING_SQL), limit)
    return db_rows(db, PENDING_SQL)
