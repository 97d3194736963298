"""Sending one HTTP request to a possibly misbehaving target, safely, and recording it.

:func:`send` never raises for what the target does: refused connections, timeouts, protocol
errors, redirects (never followed, so the token never travels to another host) and huge bodies
(read up to ``max_body_bytes``, then cut off) all come back as a :class:`Response` whose
``error`` says what happened, together with the :class:`~harness.results.Exchange` for the
reports.

The ``timeout`` of :func:`send` is one deadline for the whole request: connecting, sending,
the status line and headers, and the body. httpx's own timeouts apply per network operation,
so a target that drips its headers or body a byte at a time would never trip them; clients
from :func:`new_client` therefore read and write through :class:`zgw.deadline.DeadlineBackend`,
which gives every network operation at most the time left until the deadline of the request in
progress.

HTTPS: :func:`tls_context` is the one place that decides which certificates a harness client
trusts (``--tls-ca-bundle``, ``--insecure``, else ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, else
certifi's bundle); :func:`new_client` takes its result, and :func:`tls_problem` turns a failed
certificate check into a message naming those options.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from harness.results import Exchange
from zgw.deadline import deadline_transport, request_deadline

#: At most this much of a body is kept in an Exchange for the reports.
REPORT_BODY_LIMIT = 64_000


@dataclass
class Response:
    """What came back: status and headers (None/empty on transport errors) and the raw body."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    connect_failed: bool = False
    truncated: bool = False
    elapsed_ms: float = 0.0

    def json(self) -> tuple[bool, Any]:
        """(ok, value): the body parsed as JSON, or (False, None)."""
        if self.truncated or not self.body.strip():
            return False, None
        try:
            return True, json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return False, None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


def tls_context(
    ca_bundle: str | os.PathLike[str] | None = None, *, insecure: bool = False
) -> ssl.SSLContext:
    """The TLS settings of a harness client.

    ``insecure``: no certificate check at all. ``ca_bundle``: trust only the CA certificates
    in that PEM file. Otherwise the ``SSL_CERT_FILE`` (or ``SSL_CERT_DIR``) of the environment
    when set, else certifi's bundle, as most HTTP tools do. Raises :class:`ValueError` for a
    bundle that cannot be read.
    """
    if insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle is not None:
        try:
            return ssl.create_default_context(cafile=os.fspath(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"cannot read the CA bundle {ca_bundle}: {exc}") from None
    return httpx.create_ssl_context(trust_env=True)


def tls_problem(error: str | None) -> bool:
    """True when a transport error is a failed certificate check."""
    return bool(error) and "CERTIFICATE_VERIFY_FAILED" in str(error)


def new_client(
    timeout: float | None = None,
    base_url: str = "",
    auth: httpx.Auth | None = None,
    verify: ssl.SSLContext | None = None,
) -> httpx.Client:
    """An HTTP client that never follows redirects, ignores proxy environment variables and
    keeps to the deadline of :func:`send` / :func:`request_deadline` (see
    :class:`zgw.deadline.DeadlineBackend`).

    ``timeout`` (per network step; httpx's default when None) matters only outside a
    deadline; ``base_url`` and ``auth`` are httpx's; ``verify`` is the TLS set-up of
    :func:`tls_context` (its default when None).
    """
    transport = deadline_transport(ssl_context=verify or tls_context())
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        base_url=base_url,
        auth=auth,
        **({} if timeout is None else {"timeout": httpx.Timeout(timeout)}),
    )


def _text(data: bytes | None, truncated: bool = False) -> str | None:
    if data is None:
        return None
    text = data[:REPORT_BODY_LIMIT].decode("utf-8", errors="replace")
    if len(data) > REPORT_BODY_LIMIT or truncated:
        text += f"\n... [{len(data)} bytes read{', body cut off' if truncated else ''}]"
    return text


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
    timeout: float = 10.0,
    max_body_bytes: int = 2_000_000,
    operation_id: str | None = None,
) -> tuple[Response, Exchange]:
    """Send one request; return the response (or the transport error) and its exchange.

    ``timeout`` bounds the whole request, from connecting to the last byte of the body, when
    ``client`` comes from :func:`new_client`; a request that exceeds it ends with a timeout
    error naming the limit and the time taken.
    """
    started = time.monotonic()
    response = Response(status=None)
    try:
        with (
            request_deadline(timeout) as deadline,
            client.stream(
                method, url, headers=headers, content=content, timeout=httpx.Timeout(timeout)
            ) as raw,
        ):
            response.status = raw.status_code
            response.headers = _headers(raw.headers)
            _read_body(raw, response, max_body_bytes, deadline, timeout, started)
            if response.error is None and 300 <= raw.status_code < 400:
                response.error = _redirect_note(url, response.header("Location"))
    except httpx.ConnectError as exc:
        response.error = f"connection failed: {exc or 'refused'}"
        response.connect_failed = True
    except httpx.TimeoutException:
        response.error = _timeout_note(timeout, started)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        response.error = f"{type(exc).__name__}: {exc}"
    response.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    exchange = Exchange(
        method=method,
        url=url,
        request_headers=dict(headers),
        request_body=_text(content),
        status=response.status,
        response_headers=dict(response.headers),
        response_body=_text(response.body, response.truncated) if response.status else None,
        elapsed_ms=response.elapsed_ms,
        error=response.error,
        operation_id=operation_id,
    )
    return response, exchange


def _read_body(
    raw: httpx.Response,
    response: Response,
    max_body_bytes: int,
    deadline: float,
    timeout: float,
    started: float,
) -> None:
    """Read the body into ``response``: at most ``max_body_bytes``, and only until the
    deadline; what stopped the reading goes into ``response.error``."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in raw.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_body_bytes:
                response.truncated = True
                response.error = (
                    f"response body larger than {max_body_bytes} bytes; reading stopped there"
                )
                break
            # The backend already stops reads at the deadline; this also covers a client
            # not made by new_client() (per-read timeouts only).
            if time.monotonic() > deadline:
                response.error = _timeout_note(timeout, started)
                break
    except httpx.TimeoutException:
        # Caught here, not by send(), to keep the status, headers and partial body.
        response.error = _timeout_note(timeout, started)
    response.body = b"".join(chunks)[: max_body_bytes + 1]


def deadline_note(timeout: float, started: float) -> str:
    """How a request that ran out of time is described (``started``: its time.monotonic())."""
    elapsed = time.monotonic() - started
    return f"no complete response within {timeout:g}s (gave up after {elapsed:.1f}s)"


def _timeout_note(timeout: float, started: float) -> str:
    return f"timeout: {deadline_note(timeout, started)}"


def _headers(headers: httpx.Headers) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers.multi_items():
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def _redirect_note(url: str, location: str | None) -> str:
    if not location:
        return "redirect without a Location header (not followed)"
    target = urljoin(url, location)
    if urlsplit(target).netloc != urlsplit(url).netloc:
        return f"redirect to another host ({target}) not followed; the token was not sent there"
    return f"redirect to {target} not followed (a KIC answers directly)"
