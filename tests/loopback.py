"""Raw loopback HTTP servers for tests of timeouts: every byte and its timing under control.

A real server would not drip its status line a byte at a time; these do, so a test can show
that a client gives up by its deadline and not by a per-read timeout. ``LoopbackServer``
serves each connection with a handler in a thread; the handlers below drip a response head,
drip a body, or answer keep-alive requests normally.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

#: Longest a test server keeps dripping; after that it closes the connection by itself, so
#: an unbounded client fails the test after a few seconds instead of hanging it.
MAX_DRIP_SECONDS = 6.0
#: Pause between two dripped bytes: well below any timeout the tests use.
DRIP_INTERVAL = 0.2
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"

Handler = Callable[[socket.socket, threading.Event], None]


class LoopbackServer:
    """Accept connections on a free loopback port; serve each with ``handler`` in a thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            conn.settimeout(MAX_DRIP_SECONDS)
            self.handler(conn, self.stopping)

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        for conn in self.connections:
            # shutdown() wakes a thread blocked in recv(); close() alone would not.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)


def read_head(conn: socket.socket) -> bytes:
    """Read one request head (the tests send no bodies); b"" when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data


def drip(
    conn: socket.socket,
    data: bytes,
    stopping: threading.Event,
    interval: float = DRIP_INTERVAL,
    max_seconds: float = MAX_DRIP_SECONDS,
) -> None:
    """Send ``data`` a byte per ``interval``, giving up after ``max_seconds`` or on stop."""
    ends = time.monotonic() + max_seconds
    for byte in data:
        if stopping.is_set() or time.monotonic() > ends:
            return
        conn.sendall(bytes([byte]))
        time.sleep(interval)


def drip_headers(conn: socket.socket, stopping: threading.Event) -> None:
    """Each byte of the head arrives well within any read timeout; the whole head never does."""
    read_head(conn)
    drip(conn, b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n", stopping)


def drip_body(conn: socket.socket, stopping: threading.Event) -> None:
    read_head(conn)
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    drip(conn, b"[" + b" " * 498 + b"]", stopping)


def keep_alive(conn: socket.socket, stopping: threading.Event) -> None:
    """Answer every request on the connection with a small JSON body, as a real server would."""
    while not stopping.is_set() and read_head(conn):
        conn.sendall(OK)
