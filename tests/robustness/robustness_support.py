"""What the robustness tests share: the reference KIC under gunicorn in its own process group,
the clients and tokens, and small helpers over the KIC's API and SQLite file.

Every KIC is a :class:`zgw.serving.ServerProcess` (a session of its own) so that the fixture's
teardown can SIGKILL exactly that process group (master and workers), also after a test killed
parts of it. Everything listens on free loopback ports, so the tests are xdist-safe.
"""

from __future__ import annotations

import collections
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
from zgw.serving import ServerProcess, ServerStartError, start_server_process

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

    def __init__(self, workdir: Path, threads: int | None = 16) -> None:
        """``threads=None``: the server's own default."""
        sizing = [] if threads is None else ["--threads", str(threads)]

        def command(port: int) -> list[str]:
            return [
                str(BIN / "mock-drc"), "serve", "--port", str(port), *sizing,
                "--client", f"{DRC_CLIENT_ID}:{DRC_SECRET}",
                "--callback-client", f"{CALLBACK_ID}:{CALLBACK_SECRET}",
            ]  # fmt: skip

        self.server = start_server_process("mock-drc", command, workdir, ready_path="/_mock/state")
        self.url = self.server.url
        self.control = httpx.Client(
            base_url=f"{self.url}/_mock/",
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),  # gunicorn closes idle ones
        )

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
        self.server.kill()


DrcLike = MockDrcHandle | DrcProcess


@dataclass
class GunicornKic:
    """One ``reference-kic serve`` process group: the gunicorn master (the session leader)
    and its workers, serving the SQLite file ``db``."""

    server: ServerProcess
    db: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.server.process

    def workers(self) -> list[int]:
        """Pids of the master's current children (its workers)."""
        return self.server.workers()

    def kill_workers(self) -> list[int]:
        """``kill -9`` every current worker; the master respawns them."""
        killed = self.workers()
        for pid in killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return killed

    def kill_all(self) -> None:
        """``kill -9`` the master and every worker (the whole process group we started)."""
        self.server.kill()

    def log_tail(self) -> str:
        return self.server.log_tail()


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

        def command(chosen: int) -> list[str]:
            args = [
                str(BIN / "reference-kic"), "serve", "--port", str(chosen), "--db", str(db),
                "--workers", str(workers), "--config", str(config),
                "--public-base-url", f"http://127.0.0.1:{chosen}/api/v1",
            ]  # fmt: skip
            return [*args, "--threads", str(threads)] if threads else args

        last_error: Exception | None = None
        # A port just freed by a kill -9 may take a moment to bind again: retry a few times.
        for _attempt in range(5):
            try:
                server = start_server_process(
                    f"kic-{len(self.started)}",
                    command,
                    self.workdir,
                    ready_path="/api/v1/klanten",
                    port=port,
                )
            except ServerStartError as exc:  # the failed server is killed already
                last_error = exc
                time.sleep(0.5)
                continue
            kic = GunicornKic(server, db)
            self.started.append(kic)
            return kic
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
    "SELECT uuid, sync, sync_owner, hidden FROM verzoekinformatieobjecten WHERE sync IS NOT NULL "
    "UNION ALL SELECT mirror_object, informatieobject, 'touched', due FROM vio_touched"
)


def wait_until_reconciled(db: Path, limit: float = 60.0) -> list[tuple]:
    """Wait for the KIC's reconciler to finish all pending kic-001 work (rows with DRC work
    left, pairs to compare with the DRC); what is still pending."""
    wait_for(lambda: not db_rows(db, PENDING_SQL), limit)
    return db_rows(db, PENDING_SQL)


def relations_and_mirrors(
    kic: GunicornKic, drc: DrcLike
) -> tuple[collections.Counter[tuple[str, str]], collections.Counter[tuple[str, str]]]:
    """(verzoek URL, document URL) of every relation the KIC lists and of every mirror of a
    verzoek the DRC holds, each counted."""
    response = httpx.get(f"{kic.api}/verzoekinformatieobjecten", headers=auth(), timeout=30)
    response.raise_for_status()
    relations = collections.Counter((r["verzoek"], r["informatieobject"]) for r in response.json())
    mirrors = collections.Counter(
        (m["object"], m["informatieobject"]) for m in drc.mirrors() if m["objectType"] == "verzoek"
    )
    return relations, mirrors
