"""Start the reference KIC (gunicorn, via ``reference-kic serve``) and the mock DRC
(``mock-drc serve``) as separate processes on free loopback ports, for the benchmarks.

Each server is a :class:`zgw.serving.ServerProcess` (its own session, so stopping it also ends
its gunicorn workers). Also here: direct seeding of the KIC's SQLite file by cloning a row that
was created through the API.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from zgw.jwt import bearer
from zgw.serving import ServerProcess, free_port, start_server_process

BIN = Path(sys.executable).parent
CLIENT_ID, SECRET = "bench", "bench-secret"
DRC_CLIENT, DRC_SECRET = "kic", "kic-secret"
CALLBACK_CLIENT, CALLBACK_SECRET = "mock-drc", "mock-drc-secret"


def start_mock_drc(workdir: Path, threads: int | None = None) -> ServerProcess:
    """``mock-drc serve`` (gunicorn, one process, threads), trusting the KIC's client."""

    def command(port: int) -> list[str]:
        args = [
            str(BIN / "mock-drc"),
            "serve",
            "--port",
            str(port),
            "--client",
            f"{DRC_CLIENT}:{DRC_SECRET}",
            "--callback-client",
            f"{CALLBACK_CLIENT}:{CALLBACK_SECRET}",
        ]
        return [*args, "--threads", str(threads)] if threads else args

    return start_server_process("mock-drc", command, workdir, ready_path="/_mock/state")


def write_kic_config(path: Path, drc_url: str | None, http_timeout: float = 10.0) -> Path:
    """A KIC config file: the benchmark client (all scopes), the DRC's call-back client
    (klanten.lezen) and credentials for the mock DRC's Documenten API."""
    config = {
        "clients": {
            CLIENT_ID: {"secret": SECRET, "scopes": "all"},
            CALLBACK_CLIENT: {"secret": CALLBACK_SECRET, "scopes": ["klanten.lezen"]},
        },
        "drc": [
            {
                "api_root": f"{drc_url}/documenten/api/v1/",
                "client_id": DRC_CLIENT,
                "secret": DRC_SECRET,
            }
        ]
        if drc_url
        else [],
        "http_timeout": http_timeout,
    }
    path.write_text(json.dumps(config, indent=2))
    return path


def start_kic(
    workdir: Path, db: Path, config: Path, workers: int = 2, threads: int | None = None
) -> ServerProcess:
    """``reference-kic serve`` with ``workers`` gunicorn workers on a free port
    (``threads`` per worker: the CLI's default when None)."""

    def command(port: int) -> list[str]:
        args = [
            str(BIN / "reference-kic"),
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--workers",
            str(workers),
            "--config",
            str(config),
            "--public-base-url",
            f"http://127.0.0.1:{port}/api/v1",
        ]
        return [*args, "--threads", str(threads)] if threads else args

    return start_server_process("kic", command, workdir, ready_path="/api/v1/klanten")


def start_kic_gthread(
    workdir: Path, db: Path, config: Path, workers: int = 2, threads: int = 4
) -> ServerProcess:
    """The KIC app under gunicorn's threaded worker (``-k gthread``, a thread per request), as
    ``reference-kic serve`` ran it before issue 13; for comparing serving models."""

    def command(port: int) -> list[str]:
        return [
            str(BIN / "gunicorn"), "-k", "gthread", "-w", str(workers), "--threads",
            str(threads), "-b", f"127.0.0.1:{port}", "--no-control-socket",
            "reference_kic.app:get_app()",
        ]  # fmt: skip

    port = free_port()
    env = {
        "KIC_DB": str(db),
        "KIC_CONFIG": str(config),
        "KIC_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}/api/v1",
    }
    return start_server_process(
        "kic-gthread", command, workdir, ready_path="/api/v1/klanten", port=port, env=env
    )


@contextlib.contextmanager
def kic_and_drc(
    workdir: Path,
    db: Path,
    *,
    with_drc: bool = True,
    kic_threads: int | None = None,
    drc_threads: int | None = None,
) -> Iterator[tuple[ServerProcess, ServerProcess | None]]:
    """A mock DRC (optional) and a 2-worker reference KIC wired to it; both stopped after."""
    drc = start_mock_drc(workdir, drc_threads) if with_drc else None
    try:
        config = write_kic_config(workdir / "kic-config.json", drc.url if drc else None)
        kic = start_kic(workdir, db, config, threads=kic_threads)
        try:
            yield kic, drc
        finally:
            kic.stop()
    finally:
        if drc is not None:
            drc.stop()


def auth_header() -> dict[str, str]:
    """Headers with a token for the benchmark client (valid for the max token age: 1 h)."""
    return {"Authorization": bearer(CLIENT_ID, SECRET), "Accept": "application/json"}


def drc_auth_header() -> dict[str, str]:
    """Headers with a token the mock DRC trusts (the KIC's client)."""
    return {"Authorization": bearer(DRC_CLIENT, DRC_SECRET), "Accept": "application/json"}


KLANT = {
    "voornaam": "Bench",
    "achternaam": "Marker",
    "emailadres": "bench@example.com",
    "subjectType": "natuurlijk_persoon",
    "subjectIdentificatie": {"inpBsn": "", "geslachtsnaam": "Marker", "voornamen": "Bench"},
}


def clone_rows(db: Path, table: str, template_uuid: str, total: int) -> int:
    """Copy the row ``template_uuid`` of ``table`` until the table holds ``total`` visible rows
    (fresh uuids, same data); returns the number of rows added. One transaction."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        copied = [c for c in columns if c not in ("seq", "uuid")]
        have = conn.execute(f"SELECT count(*) FROM {table} WHERE hidden = 0").fetchone()[0]
        missing = max(0, total - have)
        if not missing:
            return 0
        values = conn.execute(
            f"SELECT {', '.join(copied)} FROM {table} WHERE uuid = ?", (template_uuid,)
        ).fetchone()
        if values is None:
            raise LookupError(f"no row {template_uuid} in {table}")
        marks = ", ".join("?" * (len(copied) + 1))
        sql = f"INSERT INTO {table} (uuid, {', '.join(copied)}) VALUES ({marks})"
        with conn:
            conn.executemany(sql, ((str(uuid.uuid4()), *values) for _ in range(missing)))
        return missing
    finally:
        conn.close()


def create_klant(kic_url: str) -> dict:
    """One klant through the API (the template for direct seeding)."""
    response = httpx.post(
        f"{kic_url}/api/v1/klanten", json=KLANT, headers=auth_header(), timeout=30
    )
    response.raise_for_status()
    return response.json()


def uuid_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]
