"""Sending one HTTP request to a possibly misbehaving target, safely, and recording it.

:func:`send` never raises for what the target does: refused connections, timeouts (also a
slowly dripping body, bounded by a whole-response deadline), protocol errors, redirects (never
followed, so the token never travels to another host) and huge bodies (read up to
``max_body_bytes``, then cut off) all come back as a :class:`Response` whose ``error`` says
what happened, together with the :class:`~harness.results.Exchange` for the reports.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from harness.results import Exchange

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


def new_client() -> httpx.Client:
    """An HTTP client that never follows redirects and ignores proxy environment variables."""
    return httpx.Client(follow_redirects=False, trust_env=False)


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
    """Send one request; return the response (or the transport error) and its exchange."""
    started = time.monotonic()
    deadline = started + timeout
    response = Response(status=None)
    try:
        with client.stream(
            method, url, headers=headers, content=content, timeout=httpx.Timeout(timeout)
        ) as raw:
            response.status = raw.status_code
            response.headers = _headers(raw.headers)
            chunks, size = [], 0
            for chunk in raw.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_body_bytes:
                    response.truncated = True
                    response.error = (
                        f"response body larger than {max_body_bytes} bytes; reading stopped there"
                    )
                    break
                if time.monotonic() > deadline:
                    response.error = f"timeout: the response took longer than {timeout:g}s"
                    break
            response.body = b"".join(chunks)[: max_body_bytes + 1]
            if response.error is None and 300 <= raw.status_code < 400:
                response.error = _redirect_note(url, response.header("Location"))
    except httpx.ConnectError as exc:
        response.error = f"connection failed: {exc or 'refused'}"
        response.connect_failed = True
    except httpx.TimeoutException:
        response.error = f"timeout: no complete response within {timeout:g}s"
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
