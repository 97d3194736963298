"""A socket-level test double of a KIC that misbehaves on purpose, one way per instance.

The API root (``GET /api/v1`` and ``/api/v1/``) answers like a KIC, so a harness's reachability
probe succeeds; every other request gets the chosen misbehaviour. Every request is recorded
(method, path, headers), so a test can see who sent what. Threads are daemons, every wait is
bounded, and :meth:`HostileKic.stop` closes every connection still held.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

#: Longest a misbehaviour keeps a connection busy (hang, drips) before giving up by itself.
MAX_HOLD_SECONDS = 60.0
ROOT_BODY = json.dumps({"klanten": "/api/v1/klanten"}).encode()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> list[str]:
        return self.headers.get(name.lower(), [])


def _response(status: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _json(status: str, body: Any, extra: list[tuple[str, str]] | None = None) -> bytes:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
               ("API-version", "1.0.0-rc1"), *(extra or [])]  # fmt: skip
    return _response(status, headers, data)


class HostileKic:
    """Serve misbehaviour ``mode`` on a free loopback port; ``url`` is the base URL and
    ``other_host`` the base URL redirects point at (a different host name)."""

    MODES = (
        "hang", "reset", "close-without-answer", "slow-drip-body", "slow-drip-headers",
        "huge-body", "invalid-json", "wrong-content-type", "redirect-other-host",
        "5xx-storm", "duplicate-headers", "conflicting-content-length", "empty-201",
        "html-error-page",
        "tls-less-redirect-loop", "garbage-status-line",
    )  # fmt: skip

    def __init__(self, mode: str, other_host: str = "") -> None:
        if mode not in self.MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.other_host = other_host
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        double = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                double._serve_connection(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> HostileKic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.close()
        self._thread.join(timeout=5)

    # -- one connection ----------------------------------------------------------------------
    def _serve_connection(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.append(conn)
        conn.settimeout(5)
        buffer = b""
        try:
            while not self.stopping.is_set():
                request, buffer = self._read_request(conn, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                if request.path.rstrip("/") == "/api/v1" and request.method == "GET":
                    conn.sendall(_json("200 OK", json.loads(ROOT_BODY)))
                    continue
                if not self._misbehave(conn, request):
                    return
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    @staticmethod
    def _read_request(conn: socket.socket, buffer: bytes) -> tuple[Recorded | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = [*lines[0].split(" "), "", ""][:3]
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = int((headers.get("content-length") or ["0"])[0] or 0)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return Recorded(method, path, headers), rest[length:]

    def _hold(self, seconds: float = MAX_HOLD_SECONDS) -> None:
        self.stopping.wait(seconds)

    def _drip(self, conn: socket.socket, data: bytes, pause: float = 0.2) -> None:
        deadline = time.monotonic() + MAX_HOLD_SECONDS
        for byte in data:
            if self.stopping.is_set() or time.monotonic() > deadline:
                return
            conn.sendall(bytes([byte]))
            time.sleep(pause)

    def _plausible(self, request: Recorded) -> tuple[str, bytes]:
        """A status and body a KIC could send for ``request`` (a klant for single objects)."""
        klant = {
            "url": f"{self.url}/api/v1/klanten/7c4c2e8d-2a53-4c3a-9f1a-2f2b0c2b6f0e",
            "voornaam": "", "achternaam": "", "adres": "", "telefoonnummer": "",
            "emailadres": "a@example.com", "functie": "", "subject": "https://example.com/p/1",
            "subjectType": "natuurlijk_persoon", "subjectIdentificatie": None,
        }  # fmt: skip
        if request.method == "POST":
            return "201 Created", json.dumps(klant).encode()
        if request.method == "DELETE":
            return "204 No Content", b""
        if request.method == "GET" and request.path.rstrip("/").endswith("/klanten"):
            return "200 OK", json.dumps([klant]).encode()
        return "200 OK", json.dumps(klant).encode()

    def _misbehave(self, conn: socket.socket, request: Recorded) -> bool:
        """Answer ``request`` the wrong way; False when the connection is finished."""
        mode = self.mode
        if mode == "hang":
            self._hold()
            return False
        if mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False  # close() now sends RST
        if mode == "close-without-answer":
            conn.shutdown(socket.SHUT_RDWR)
            return False
        if mode == "slow-drip-body":
            body = json.dumps([{"url": f"{self.url}/api/v1/klanten/x" * 20}] * 50).encode()
            conn.sendall(_response("200 OK", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body))),
                                              ("API-version", "1.0.0-rc1")]))  # fmt: skip
            self._drip(conn, body)
            return False
        if mode == "slow-drip-headers":
            self._drip(conn, _json("200 OK", []) + b" " * 10_000)
            return False
        if mode == "huge-body":
            size = 10 * 1024 * 1024
            conn.sendall(_response("200 OK", [("Content-Type", "application/json"),
                                              ("Content-Length", str(size)),
                                              ("API-version", "1.0.0-rc1")]))  # fmt: skip
            chunk = b"x" * 65_536
            sent = 0
            with contextlib.suppress(OSError):
                while sent < size and not self.stopping.is_set():
                    piece = chunk[: size - sent]
                    conn.sendall(piece)
                    sent += len(piece)
            return False
        if mode == "invalid-json":
            body = b'{"url": "http://x", "voornaam": '
            status = "201 Created" if request.method == "POST" else "200 OK"
            conn.sendall(_response(status, [("Content-Type", "application/json"),
                                            ("Content-Length", str(len(body))),
                                            ("API-version", "1.0.0-rc1")], body))  # fmt: skip
            return True
        if mode == "wrong-content-type":
            status, body = self._plausible(request)
            conn.sendall(_response(status, [("Content-Type", "text/plain"),
                                            ("Content-Length", str(len(body))),
                                            ("API-version", "1.0.0-rc1")], body))  # fmt: skip
            return True
        if mode == "redirect-other-host":
            conn.sendall(
                _response(
                    "307 Temporary Redirect",
                    [("Location", f"{self.other_host}{request.path}"), ("Content-Length", "0")],
                )
            )
            return True
        if mode == "5xx-storm":
            status = ["500 Internal Server Error", "502 Bad Gateway", "503 Service Unavailable",
                      "504 Gateway Timeout"][len(self.requests) % 4]  # fmt: skip
            conn.sendall(_json(status, {"title": "storm", "status": int(status[:3])}))
            return True
        if mode == "duplicate-headers":
            status, body = self._plausible(request)
            conn.sendall(_response(status, [
                ("Content-Type", "application/json"), ("Content-Type", "text/html"),
                ("API-version", "1.0.0-rc1"), ("API-version", "9.9.9"),
                ("Location", f"{self.url}/a"), ("Location", f"{self.other_host}/b"),
                ("Content-Length", str(len(body))),
            ], body))  # fmt: skip
            return True
        if mode == "conflicting-content-length":
            status, body = self._plausible(request)
            conn.sendall(_response(status, [
                ("Content-Type", "application/json"), ("API-version", "1.0.0-rc1"),
                ("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 7)),
            ], body))  # fmt: skip
            return False
        if mode == "empty-201":
            conn.sendall(_response("201 Created", [("Content-Type", "application/json"),
                                                   ("Content-Length", "0"),
                                                   ("API-version", "1.0.0-rc1")]))  # fmt: skip
            return True
        if mode == "html-error-page":
            body = b"<!DOCTYPE html><html><body><h1>Server Error (500)</h1></body></html>"
            conn.sendall(_response("500 Internal Server Error", [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body)))], body))  # fmt: skip
            return True
        if mode == "tls-less-redirect-loop":
            # https -> http -> https ... on the same plain-HTTP port: a downgrade loop.
            scheme = "https" if len(self.requests) % 2 else "http"
            conn.sendall(_response("301 Moved Permanently", [
                ("Location", f"{scheme}://127.0.0.1:{self.port}{request.path}"),
                ("Content-Length", "0")]))  # fmt: skip
            return True
        if mode == "garbage-status-line":
            conn.sendall(b"HTTP/1.1 banana\r\nContent-Length: 2\r\n\r\n[]")
            return False
        raise AssertionError(mode)
