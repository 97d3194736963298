"""How the fuzz phase's requests travel: through :mod:`harness.transport`'s deadline clients.

schemathesis sends a case with :mod:`requests`, whose timeouts (like httpx's own) apply per
socket operation: a target that drips its status line and headers a byte at a time keeps every
fuzzed request waiting far beyond the run's ``--timeout``. :func:`deadline_session` returns a
:class:`requests.Session` whose only transport adapter is :class:`DeadlineAdapter`; it sends the
:class:`requests.PreparedRequest` schemathesis built, unchanged, with a client from
:func:`harness.transport.new_client` under :func:`harness.transport.request_deadline`, so the
timeout bounds the whole request. Everything above the wire stays schemathesis's: how a case
is serialized, the metadata the checks read and the :class:`schemathesis.Response` they judge.

The plain httpx clients of the fuzz set-up (:class:`~harness.fuzz.world.FuzzWorld`) are
:func:`~harness.transport.new_client` clients that set the deadline around each call.
"""

from __future__ import annotations

import io
import ssl
import time
from collections.abc import Mapping

import httpx
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPHeaderDict, HTTPResponse

from harness.transport import deadline_note, new_client, request_deadline


class DeadlineAdapter(BaseAdapter):
    """A :mod:`requests` transport adapter that sends through a deadline client.

    A numeric ``timeout`` of a request (what schemathesis passes on from ``Case.call``) is the
    deadline of that whole request; without one, ``default_timeout`` is. The body is read in
    full before :meth:`send` returns, still under the deadline, and handed to :mod:`requests`
    as the raw bytes on the wire, so :mod:`requests` decodes it as it would its own.
    """

    def __init__(self, default_timeout: float, tls: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.default_timeout = default_timeout
        self._client = new_client(verify=tls)
        # What urllib3 sends when a request names no encoding, as requests' own adapter did
        # (schemathesis clears the session's default headers): an uncompressed answer.
        self._client.headers["Accept-Encoding"] = "identity"
        # requests' own adapter builds the requests.Response from the urllib3 response.
        self._builder = HTTPAdapter()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send ``request`` and read the whole answer within the deadline.

        Raises :class:`requests.Timeout` (``ConnectTimeout`` while connecting) when the
        deadline passes and :class:`requests.ConnectionError` for any other transport
        failure, like :mod:`requests`' own adapter. ``verify``, ``cert`` and ``proxies`` are
        not used: the client checks certificates by default and, like every harness client,
        ignores proxy settings.
        """
        seconds = float(timeout) if isinstance(timeout, (int, float)) else self.default_timeout
        method = str(request.method)
        url = str(request.url)
        started = time.monotonic()
        try:
            with (
                request_deadline(seconds),
                self._client.stream(
                    method,
                    url,
                    headers=_wire_headers(request),
                    content=_wire_body(request.body),
                    timeout=httpx.Timeout(seconds),
                ) as answer,
            ):
                raw = b"".join(answer.iter_raw())
        except httpx.TimeoutException as exc:
            note = deadline_note(seconds, started)
            if isinstance(exc, httpx.ConnectTimeout):
                raise requests.ConnectTimeout(note, request=request) from exc
            raise requests.ReadTimeout(note, request=request) from exc
        except httpx.TransportError as exc:
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}", request=request) from exc
        except httpx.InvalidURL as exc:
            raise requests.exceptions.InvalidURL(str(exc), request=request) from exc
        return self._builder.build_response(request, _urllib3_response(answer, raw, method, url))

    def close(self) -> None:
        self._client.close()
        self._builder.close()


def deadline_session(timeout: float, tls: ssl.SSLContext | None = None) -> requests.Session:
    """A session for ``Case.call`` whose every request ends within ``timeout`` seconds
    (HTTPS checked as ``tls`` says: :func:`harness.transport.tls_context`).

    Like the harness's other clients it reads no proxy settings or ``.netrc`` from the
    environment (``trust_env`` off). Cookies a target sets are not kept: the adapter's
    responses carry none for :mod:`requests` to store, so each fuzzed request stands alone,
    as its curl reproduction does.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = DeadlineAdapter(timeout, tls)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _urllib3_response(answer: httpx.Response, raw: bytes, method: str, url: str) -> HTTPResponse:
    """The urllib3 response :mod:`requests` builds its own from, as its adapter would."""
    return HTTPResponse(
        body=io.BytesIO(raw),
        # Latin-1 on both sides, as http.client reads header bytes for urllib3.
        headers=HTTPHeaderDict(
            [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in answer.headers.raw
            ]
        ),
        status=answer.status_code,
        version=10 if answer.http_version == "HTTP/1.0" else 11,
        version_string=answer.http_version,
        reason=answer.reason_phrase,
        preload_content=False,
        request_method=method,
        request_url=url,
    )


def _wire_headers(request: requests.PreparedRequest) -> list[tuple[str, bytes]]:
    # http.client encodes str values as Latin-1; httpx would insist on ASCII.
    return [
        (name, value.encode("latin-1") if isinstance(value, str) else value)
        for name, value in request.headers.items()
    ]


def _wire_body(body: bytes | str | None) -> bytes | None:
    # urllib3 2 sent a str body as UTF-8 (and requests counted its Content-Length so).
    return body.encode("utf-8") if isinstance(body, str) else body
