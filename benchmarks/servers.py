"""Start the reference KIC (gunicorn, via ``reference-kic serve``) and the mock DRC
(``mock-drc serve``) as separate processes on free loopback ports, for the benchmarks.

Each server runs in its own session so that stopping it (SIGTERM, then SIGKILL to its process
group) also ends its gunicorn workers. Also here: the peak resident memory of a process tree
(``VmHWM`` from /proc) and direct seeding of the KIC's SQLite file by cloning a row that was
created through the API.
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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from zgw.jwt import bearer
from zgw.serving import free_port

BIN = Path(sys.executable).parent
CLIENT_ID, SECRET = "bench", "bench-secret"
DRC_CLIENT, DRC_SECRET = "kic", "kic-secret"
CALLBACK_CLIENT, CALLBACK_SECRET = "mock-drc", "mock-drc-secret"


@dataclass
class Server:
    """A started server process (the session leader) and its base URL."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def descendants(self) -> list[int]:
        """Pids of every process below the leader (the gunicorn master's workers)."""
        return descendants(self.process.pid)

    def workers(self) -> list[int]:
        """The gunicorn workers: descendants without children of their own."""
        every = self.descendants()
        return [pid for pid in every if not descendants(pid)]

    def stop(self) -> None:
        stop_process_group(self.process)


def descendants(pid: int) -> list[int]:
    """Every descendant pid of ``pid``, read from /proc (children files, else a stat scan)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_kib(pid: int) -> int:
    """``VmHWM`` (peak resident set size) of one process in KiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group of ``process`` (which we started with its own session),
    SIGKILL it after 5 s; never touches anything else."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, limit: float = 30) -> None:
    """Poll ``url`` until any HTTP answer arrives; raise with the log tail if it never does."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up in {limit} s:\n{log.read_text()[-3000:]}")


def _spawn(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )


def start_mock_drc(workdir: Path, threads: int | None = None) -> Server:
    """``mock-drc serve`` (gunicorn, one process, threads), trusting the KIC's client."""
    port = free_port()
    log = workdir / f"mock-drc-{port}.log"
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
    if threads:
        args += ["--threads", str(threads)]
    process = _spawn(args, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/_mock/state", process, log)
    except BaseException:
        stop_process_group(process)
        raise
    return Server(process, url, log)


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
) -> Server:
    """``reference-kic serve`` with ``workers`` gunicorn workers on a free port
    (``threads`` per worker: the CLI's default when None)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"kic-{port}.log"
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
        f"{url}/api/v1",
    ]
    if threads:
        args += ["--threads", str(threads)]
    process = _spawn(args, log)
    try:
        wait_until_up(url + "/api/v1/klanten", process, log)
    except BaseException:
        stop_process_group(process)
        raise
    return Server(process, url, log)


@contextlib.contextmanager
def kic_and_drc(
    workdir: Path,
    db: Path,
    *,
    with_drc: bool = True,
    kic_threads: int | None = None,
    drc_threads: int | None = None,
) -> Iterator[tuple[Server, Server | None]]:
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
