"""Serving on a free loopback port: a WSGI app in a background thread, or a server command
(``reference-kic serve``, ``mock-drc serve``) as a supervised child process.

The reference KIC and the mock DRC call each other during one request (the DRC's call-back),
so the in-process server must be threaded; ``wsgiref`` with a thread per request is enough for
tests, the demo and local work. Production-like runs (benchmarks, crash tests) use gunicorn in
a process of its own: :func:`start_server_process` starts it, waits until it answers and hands
back a :class:`ServerProcess` that finds its workers and stops it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from zgw import procfs


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def listen_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on ``host:port`` right now (the port is in use, the
    address is not this machine's), or None when it can.

    Binds a probe socket the way gunicorn binds its own (IPv6 for an IPv6 literal, else IPv4;
    ``SO_REUSEADDR``, so a port with only closed connections waiting is free): a server
    command checks this first and exits with one line, instead of gunicorn retrying the bind
    for seconds and ending with a traceback-like log.
    """
    literal = host.strip("[]")
    family = socket.AF_INET6 if ":" in literal else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((literal, port))
    except OSError as exc:  # socket.gaierror too: a host name that does not resolve
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


class BackgroundServer:
    """A running in-process WSGI server; ``url`` is its base URL, ``stop()`` ends it."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.host = host
        self.port = int(self._server.server_port)
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def serve_in_thread(
    app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0
) -> Iterator[BackgroundServer]:
    """Serve ``app`` on ``host:port`` (0 = a free port) for the duration of the block."""
    server = BackgroundServer(app, host, port)
    try:
        yield server
    finally:
        server.stop()


class ServerStartError(RuntimeError):
    """A server process exited before it answered, or did not answer in time; the message
    names it and ends with the tail of its output."""


@dataclass
class ServerProcess:
    """A server command running in a session (and process group) of its own.

    ``process`` is the session leader (for ``reference-kic serve`` and ``mock-drc serve``: the
    gunicorn master); ``log`` holds its stdout and stderr. Stopping signals the whole group, so
    workers end with their master and nothing outside the group is touched.
    """

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, limit: int = 4000) -> str:
        """The last ``limit`` characters of the server's output ("" when unreadable)."""
        try:
            return self.log.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def wait_until_answering(self, path: str = "/", timeout: float = 30.0) -> None:
        """Poll ``path`` until any HTTP answer comes (whatever its status).

        Raises :class:`ServerStartError` with the output's tail when the process exits
        first or nothing answers within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with {self.process.returncode} before answering at "
                    f"{self.url}; its output ({self.log}):\n{self.log_tail()}"
                )
            if _answers(self.url, path):
                return
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"{self.name} did not answer at {self.url}{path} within {timeout:g} s; "
                    f"its output ({self.log}):\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def workers(self) -> list[int]:
        """Pids of the leader's children: a gunicorn master's workers (empty without /proc)."""
        return procfs.children(self.pid)

    def descendants(self) -> list[int]:
        """Pids of every process below the leader (empty without /proc)."""
        return procfs.descendants(self.pid)

    def group_alive(self) -> bool:
        """True while any process of the server's group exists (a leader not yet reaped
        counts)."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the group and wait up to ``grace`` s for the leader; then SIGKILL whatever
        of the group is left (stragglers included) and reap the leader."""
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)

    def kill(self, limit: float = 10.0) -> None:
        """SIGKILL the whole group now (a crash, as ``kill -9``) and wait, up to ``limit`` s
        each, for the leader to be reaped and every member of the group to be gone."""
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=limit)
        deadline = time.monotonic() + limit
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _signal_group(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)


def _answers(url: str, path: str) -> bool:
    """Whether an HTTP server answers a GET of ``path`` at ``url`` within a second."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=1)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def start_server_process(
    name: str,
    command: Callable[[int], Sequence[str]],
    log_dir: Path,
    *,
    ready_path: str = "/",
    port: int | None = None,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> ServerProcess:
    """Run ``command(port)`` as a server in a new session and return once it answers.

    ``port`` defaults to a free one on ``host``; the output goes to
    ``log_dir/<name>-<port>.log`` (appended); ``env`` is added to this process's environment.
    Waits until ``ready_path`` answers (see :meth:`ServerProcess.wait_until_answering`); when
    it does not, the process group is killed and :class:`ServerStartError` raised.
    """
    chosen = port or free_port(host)
    log = log_dir / f"{name}-{chosen}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(command(chosen)),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **env} if env else None,
        )
    server = ServerProcess(name, process, f"http://{host}:{chosen}", log)
    try:
        server.wait_until_answering(ready_path, start_timeout)
    except BaseException:  # also Ctrl-C while waiting: never leave the server behind
        server.kill()
        raise
    return server


@contextlib.contextmanager
def serve_in_process(
    name: str,
    command: Callable[[int], Sequence[str]],
    log_dir: Path,
    *,
    ready_path: str = "/",
    port: int | None = None,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> Iterator[ServerProcess]:
    """:func:`start_server_process` for the duration of the block; stopped after it."""
    server = start_server_process(
        name,
        command,
        log_dir,
        ready_path=ready_path,
        port=port,
        host=host,
        env=env,
        start_timeout=start_timeout,
    )
    try:
        yield server
    finally:
        server.stop()
