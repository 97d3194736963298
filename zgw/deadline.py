"""One deadline for a whole outgoing HTTP request: connecting, sending, headers and body.

httpx's timeouts apply per network operation, so a peer that drips its status line or body a
byte at a time never trips them and can hold the caller for as long as it likes. An httpx
client whose connection pool runs on :class:`DeadlineBackend` gives every network operation at
most the time left until the deadline set by :func:`request_deadline` in this thread (or
task). The harness, the mock DRC's call-back and the reference KIC's DRC client all send their
requests this way; :func:`deadline_transport` builds the httpx transport they share.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

#: Writes go out in pieces of at most this size, each given only the time left then: httpcore
#: gives every partial send() of one write the same timeout, so one large write to a target
#: that reads slowly could otherwise outlast the deadline.
WRITE_PIECE_BYTES = 16_384

#: time.monotonic() by which the request in progress in this thread (or task) must be done;
#: None outside :func:`request_deadline`. A context variable, because one client is shared by
#: several threads and each thread sends its own request with its own deadline.
_deadline: ContextVar[float | None] = ContextVar("kic_request_deadline", default=None)


@contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Bound every network operation in this block to ``seconds`` from now, in total.

    Only clients on a :class:`DeadlineBackend` honour it (see :func:`deadline_transport`).
    Yields the deadline (monotonic time).
    """
    deadline = time.monotonic() + seconds
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def _time_left(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """``timeout`` shortened to the time left before the deadline; ``expired`` once it passed."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        # Raised as the httpcore exception of the operation, so httpx maps it to its own
        # ReadTimeout/WriteTimeout/ConnectTimeout exactly like a timeout of the socket.
        raise expired("the deadline of the whole request has passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose reads and writes end by the current request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), WRITE_PIECE_BYTES):
            piece = buffer[start : start + WRITE_PIECE_BYTES]
            self._stream.write(piece, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # The TLS handshake reads and writes too: a target could drip it just like headers.
        try:
            left = _time_left(timeout, httpcore.ConnectTimeout)
        except httpcore.ConnectTimeout:
            # httpcore drops a stream whose start_tls fails without closing it (its own
            # streams close themselves then), so close it here or the socket leaks.
            self._stream.close()
            raise
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend, with connects and streams bounded by the deadline."""

    def __init__(self, backend: httpcore.NetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, left, local_address, socket_options)
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._backend.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(
    limits: httpx.Limits | None = None, ssl_context: ssl.SSLContext | None = None
) -> httpx.HTTPTransport:
    """An httpx transport (no proxies from the environment) whose network operations keep to
    :func:`request_deadline`; ``limits`` as httpx's (its defaults when None). HTTPS is checked
    with ``ssl_context``, by default against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set,
    else certifi's CA bundle."""
    limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx 0.28 has no public way to choose httpcore's network backend (encode/httpx
    # discussion 3180), so its pool is replaced by one with the same settings on the
    # deadline backend. Connections are pooled and reused as before.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context or httpx.create_ssl_context(trust_env=True),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=DeadlineBackend(),
    )
    return transport
