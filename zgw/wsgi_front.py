"""The serving model of ``reference-kic serve`` and ``mock-drc serve``: an event loop reads
whole requests, and the WSGI app runs on two lanes of threads, one for reads, one for writes.

Why (docs/reference-kic.md, "Serving model", has the measurements): with one thread per
request, as gunicorn's ``gthread`` worker serves,

- a kic-001 write holds a thread while the DRC calls the KIC back, and the call-back needs a
  thread of its own: eight concurrent document links took all 2 x 4 threads and every client
  waited for the DRC's timeout;
- a client that sends its headers or body slowly holds a thread while it does: eight of them
  made the server unavailable.

Here a connection holds no thread until its request has arrived completely (headers within
:attr:`Limits.header_timeout`, the body within :attr:`Limits.body_timeout`, both per request;
an idle kept-alive connection is closed after :attr:`Limits.idle_timeout`). A complete request
then goes to a lane: GET, HEAD and OPTIONS to the read lane, everything else to the write lane.
A read never waits for a peer, so the read lane's threads are always free for the DRC's
call-back however many writes wait for the DRC; writes beyond the write lane's threads wait
in a queue that holds no thread either, and beyond :attr:`Limits.write_queue` waiting writes
the answer is ``503`` with ``Retry-After``.

:class:`FrontWorker` is the gunicorn worker class (``-k zgw.wsgi_front.FrontWorker``; gunicorn
keeps the processes, signals and restarts); :func:`serve_in_thread` runs the same front in a
background thread for tests. HTTP/1.1 framing (keep-alive, chunked bodies, ``Expect:
100-continue``) is h11's: a well-kept parser that httpx already brings along.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import h11

log = logging.getLogger(__name__)

WsgiApp = Callable[..., Iterable[bytes]]

#: Methods served on the read lane; a handler of these never calls a peer that calls back.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: WSGI environ key of a callable that closes the connection without any answer once the app
#: returns (the mock DRC's ``drop`` fault); the app's own answer is then never sent.
DROP_CONNECTION = "zgw.drop_connection"
_READ_BYTES = 65_536


@dataclass(frozen=True)
class Limits:
    """Deadlines and sizes of one front (per worker process).

    The defaults need no tuning: the deadlines are far above what a client on any network
    needs for a request of this API, and far below what lets idle sockets pile up.
    """

    #: From the connection (or the first byte of a later request on it) to the end of headers.
    header_timeout: float = 10.0
    #: From the end of the headers to the end of the body.
    body_timeout: float = 30.0
    #: A kept-alive connection with no new request for this long is closed. Longer than the
    #: keep-alive of common clients (httpx: 5 s), so they close first and never send a request
    #: into a connection closing under them.
    idle_timeout: float = 15.0
    #: Sending one response to a client that does not read it.
    write_timeout: float = 30.0
    max_header_bytes: int = 65_536
    max_body_bytes: int = 16_000_000
    read_threads: int = 4
    write_threads: int = 4
    #: Writes admitted at once (running plus waiting) before new ones get 503.
    write_queue: int = 256
    #: Open connections per process; further ones are closed at once.
    max_connections: int = 1000


class _Late(Exception):
    """A request (or the idle wait for one) ran past its deadline."""


class _Refused(Exception):
    """The request cannot be served: answer ``status`` with ``detail`` and close."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class _Reply:
    """A whole answer: WSGI status line, headers and body; ``dropped``: send nothing, close."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    dropped: bool = False


class _Lane:
    """Threads for one kind of request, with a count of those admitted (running or waiting)."""

    def __init__(self, name: str, threads: int, limit: int | None) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix=f"wsgi-{name}")
        self.limit = limit
        self.admitted = 0


def _problem(status: int, detail: str) -> _Reply:
    """A small application/problem+json answer produced by the front itself."""
    title = _TITLES[status]
    body = json.dumps(
        {
            "type": "",
            "code": _CODES.get(status, "error"),
            "title": title,
            "status": status,
            "detail": detail,
        }
    ).encode()
    headers = [("Content-Type", "application/problem+json")]
    if status == 503:
        headers.append(("Retry-After", "1"))
    return _Reply(f"{status} {title}", headers, body)


_CODES = {
    400: "parse_error",
    408: "request_timeout",
    413: "request_too_large",
    431: "request_too_large",
    503: "overloaded",
}
_TITLES = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Front:
    """Serves one WSGI app on listening sockets, in the running event loop."""

    def __init__(self, app: WsgiApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self.reads = _Lane("read", self.limits.read_threads, None)
        self.writes = _Lane("write", self.limits.write_threads, self.limits.write_queue)
        self.connections = 0
        self.stopping = False
        self._idle: set[asyncio.StreamWriter] = set()
        self._servers: list[asyncio.AbstractServer] = []

    async def start(self, sockets: Iterable[socket.socket]) -> None:
        """Start accepting on ``sockets`` (already bound and listening)."""
        for sock in sockets:
            sock.setblocking(False)
            server = await asyncio.start_server(self._connection, sock=sock, limit=_READ_BYTES)
            self._servers.append(server)

    async def stop(self, grace: float) -> None:
        """Stop accepting, close idle connections, let requests in progress finish (up to
        ``grace`` seconds), then release the threads."""
        self.stopping = True
        for server in self._servers:
            server.close()
        for writer in list(self._idle):
            writer.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.connections and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for lane in (self.reads, self.writes):
            lane.pool.shutdown(wait=False, cancel_futures=True)

    # -- one connection ----------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.connections >= self.limits.max_connections or self.stopping:
            writer.close()
            return
        self.connections += 1
        try:
            await self._requests(reader, writer)
        except (OSError, asyncio.IncompleteReadError, _Late):
            pass  # the client went away or was too slow: nothing left to tell it
        except Exception:  # a bug here must not end the worker
            log.exception("error serving a connection")
        finally:
            self.connections -= 1
            self._idle.discard(writer)
            writer.close()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        loop = asyncio.get_running_loop()
        first = True
        while not self.stopping:
            try:
                request = await self._head(conn, reader, writer, first=first)
                if request is None:
                    return  # closed by the client between requests
                first = False
                body = await self._body(conn, reader, writer, loop.time())
            except _Refused as refused:
                # The request cannot be read to its end: answer, then close the connection.
                reply = _problem(refused.status, refused.detail)
                await self._send(conn, writer, reply, head=False)
                return
            reply = await self._dispatch(request, body, writer)
            if reply.dropped:
                return  # closed without an answer, as the app asked
            await self._send(conn, writer, reply, head=request.method == b"HEAD")
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _receive(
        self, conn: h11.Connection, reader: asyncio.StreamReader, left: float
    ) -> None:
        if left <= 0:
            raise _Late()
        try:
            data = await asyncio.wait_for(reader.read(_READ_BYTES), left)
        except asyncio.TimeoutError:
            raise _Late() from None
        conn.receive_data(data)

    async def _head(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        first: bool,
    ) -> h11.Request | None:
        """The next request's head; None when the client closed between requests."""
        loop = asyncio.get_running_loop()
        limits = self.limits
        if not first and not conn.trailing_data[0]:
            # Idle until the first byte of the next request; from then on its headers' deadline.
            self._idle.add(writer)
            try:
                await self._receive(conn, reader, limits.idle_timeout)
            except _Late:
                return None
            finally:
                self._idle.discard(writer)
        deadline = loop.time() + limits.header_timeout
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    try:
                        await self._receive(conn, reader, deadline - loop.time())
                    except _Late:
                        if conn.their_state is h11.IDLE and not conn.trailing_data[0]:
                            if first:
                                raise
                            return None
                        raise _Refused(408, "The request headers did not arrive in time.") from None
                    continue
                if isinstance(event, h11.ConnectionClosed):
                    return None
                if isinstance(event, h11.Request):
                    return event
                raise _Refused(400, f"Unexpected {type(event).__name__} before a request.")
        except h11.RemoteProtocolError as exc:
            status = 431 if exc.error_status_hint == 431 else 400
            raise _Refused(status, f"Malformed request: {exc}") from None

    async def _body(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        started: float,
    ) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = started + self.limits.body_timeout
        if conn.they_are_waiting_for_100_continue:
            writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    try:
                        await self._receive(conn, reader, deadline - loop.time())
                    except _Late:
                        raise _Refused(408, "The request body did not arrive in time.") from None
                    continue
                if isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > self.limits.max_body_bytes:
                        raise _Refused(
                            413, f"The request body exceeds {self.limits.max_body_bytes} bytes."
                        )
                    parts.append(bytes(event.data))
                    continue
                if isinstance(event, h11.EndOfMessage):
                    return b"".join(parts)
                if isinstance(event, h11.ConnectionClosed):
                    raise OSError("the client closed the connection during the body")
                raise _Refused(400, f"Unexpected {type(event).__name__} in the request body.")
        except h11.RemoteProtocolError as exc:
            raise _Refused(400, f"Malformed request body: {exc}") from None

    # -- running the app ---------------------------------------------------------------------
    async def _dispatch(
        self, request: h11.Request, body: bytes, writer: asyncio.StreamWriter
    ) -> _Reply:
        method = request.method.decode("ascii", "replace")
        lane = self.reads if method in READ_METHODS else self.writes
        if lane.limit is not None and lane.admitted >= lane.limit:
            return _problem(
                503,
                f"{lane.admitted} writes are in progress or waiting; retry in a second.",
            )
        environ = self._environ(request, body, writer)
        lane.admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(lane.pool, self._call_app, environ)
        finally:
            lane.admitted -= 1

    def _environ(
        self, request: h11.Request, body: bytes, writer: asyncio.StreamWriter
    ) -> dict[str, Any]:
        target = request.target.decode("latin-1")
        path, _, query = target.partition("?")
        if path.startswith(("http://", "https://")):  # absolute-form target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        sockname = writer.get_extra_info("sockname") or ("", 0)
        peername = writer.get_extra_info("peername") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method.decode("ascii"),
            "SCRIPT_NAME": "",
            # PEP 3333: the path decoded from %-escapes, as bytes carried in a latin-1 str.
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(sockname[0]),
            "SERVER_PORT": str(sockname[1]),
            "SERVER_PROTOCOL": f"HTTP/{request.http_version.decode('ascii')}",
            "REMOTE_ADDR": str(peername[0]),
            "REMOTE_PORT": str(peername[1]),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for raw_name, raw_value in request.headers:
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
                continue
            if name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
                continue  # the body is already whole: CONTENT_LENGTH above says its size
            key = f"HTTP_{name}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _call_app(self, environ: dict[str, Any]) -> _Reply:
        """Run the app in a lane's thread and collect its whole answer."""
        started: list[Any] = []
        chunks: list[bytes] = []
        dropped = threading.Event()
        environ[DROP_CONNECTION] = dropped.set

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and started and chunks:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, list(headers)]
            return chunks.append

        try:
            result = self.app(environ, start_response)
            try:
                chunks.extend(bytes(chunk) for chunk in result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception(
                "the application failed on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"]
            )
            return _problem(500, "The server failed to answer this request.")
        if dropped.is_set():
            return _Reply("500 Dropped", [], b"", dropped=True)
        if not started:
            return _problem(500, "The application gave no status.")
        return _Reply(started[0], started[1], b"".join(chunks))

    # -- answering ---------------------------------------------------------------------------
    async def _send(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, reply: _Reply, *, head: bool
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        code_text, _, reason = reply.status.partition(" ")
        status = int(code_text)
        headers = [
            (name, value)
            for name, value in reply.headers
            if name.lower() not in ("content-length", "transfer-encoding", "connection")
        ]
        bodiless = head or status in (204, 304) or 100 <= status < 200
        if status not in (204, 304):
            headers.append(("Content-Length", str(len(reply.body))))
        if status >= 400 and conn.their_state is not h11.DONE:
            headers.append(("Connection", "close"))  # the rest of the request is not read
        try:
            data = conn.send(
                h11.Response(
                    status_code=status,
                    headers=[(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
                    reason=reason.encode("latin-1"),
                )
            )
            if not bodiless and reply.body:
                data += conn.send(h11.Data(data=reply.body))
            data += conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            log.error("cannot send the answer %s: %s", reply.status, exc)
            return
        writer.write(data)
        try:
            await asyncio.wait_for(writer.drain(), self.limits.write_timeout)
        except asyncio.TimeoutError:
            raise _Late() from None


# -- gunicorn ----------------------------------------------------------------------------------
def _limits_from(cfg: Any) -> Limits:
    """Limits from gunicorn's settings: ``threads`` per lane, ``worker_connections``."""
    threads = max(1, int(getattr(cfg, "threads", 4) or 4))
    return Limits(
        read_threads=threads,
        write_threads=threads,
        max_connections=max(1, int(getattr(cfg, "worker_connections", 1000) or 1000)),
    )


try:
    from gunicorn.workers.base import Worker as _GunicornWorker
except ImportError:  # gunicorn is a dependency; this only keeps the module importable alone
    _GunicornWorker = object  # type: ignore[assignment,misc]


class FrontWorker(_GunicornWorker):  # type: ignore[misc,valid-type]
    """A gunicorn worker serving its WSGI app through :class:`Front`.

    ``threads`` (gunicorn's setting) is the size of each lane; ``worker_connections`` bounds
    open connections; ``graceful_timeout`` bounds the wait for requests in progress on
    SIGTERM (SIGINT and SIGQUIT stop at once).
    """

    def init_signals(self) -> None:
        super().init_signals()
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._quick = False
        self._loop.add_signal_handler(signal.SIGTERM, self._graceful_exit)
        for signum in (signal.SIGINT, signal.SIGQUIT):
            self._loop.add_signal_handler(signum, self._quick_exit)

    def _graceful_exit(self) -> None:
        self.alive = False

    def _quick_exit(self) -> None:
        self._quick = True
        self.alive = False

    def run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        front = Front(self.wsgi, _limits_from(self.cfg))
        await front.start(listener.sock for listener in self.sockets)
        parent = self.ppid
        while self.alive:
            self.notify()
            if os.getppid() != parent:
                self.log.info("Parent changed, shutting down: %s", self)
                break
            await asyncio.sleep(0.5)
        await front.stop(0.0 if self._quick else float(self.cfg.graceful_timeout))


# -- in-process (tests) ------------------------------------------------------------------------
class BackgroundFront:
    """A :class:`Front` on a free loopback port in a thread of its own; ``url``, ``stop()``."""

    def __init__(self, app: WsgiApp, limits: Limits | None = None, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(256)
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self.front = Front(app, limits)
        self._loop = asyncio.new_event_loop()
        self._stopped = threading.Event()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.front.start([self._sock]))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="wsgi-front", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        future = asyncio.run_coroutine_threadsafe(self.front.stop(1.0), self._loop)
        with contextlib.suppress(Exception):
            future.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._sock.close()


@contextlib.contextmanager
def serve_in_thread(app: WsgiApp, limits: Limits | None = None) -> Iterator[BackgroundFront]:
    """Serve ``app`` through a :class:`Front` on a free loopback port for the block."""
    server = BackgroundFront(app, limits)
    try:
        yield server
    finally:
        server.stop()
