"""HTTP calls from the KIC to other APIs (the DRC, a ZRC), with the configured credentials.

Every outgoing request carries a fresh ZGW JWT for the credential whose ``api_root`` is the
longest prefix of the URL (none matching: no Authorization). Whatever the other side does,
the KIC keeps its promises:

- One deadline, ``http_timeout``, bounds each request as a whole: connecting, the headers
  and the body (:mod:`zgw.deadline`), so a host that drips its answer a byte at a time
  cannot hold a KIC request longer.
- The answer is read up to :data:`MAX_ANSWER_BYTES` and its JSON parsed by
  :mod:`zgw.bodies` (depth, lone surrogates, ``NaN``), the reader of request bodies too.
  An answer that cannot be used raises :class:`~zgw.bodies.BodyError` (a ``ValueError``)
  from :meth:`RemoteAnswer.json`, so every caller turns it into a clear 400.
- Network failures and the deadline become :class:`RemoteUnavailable`, never an unhandled
  exception.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import httpx

from zgw.bodies import BodyError, parse_json, read_response_body
from zgw.deadline import deadline_transport, request_deadline
from zgw.errors import invalid
from zgw.jwt import bearer

from .config import KicConfig

#: Largest answer read from another API: a document, a zaak or a short relation list.
MAX_ANSWER_BYTES = 1_000_000

_UUID_SEGMENT = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class RemoteUnavailable(Exception):
    """The remote API could not be reached or did not answer (timeout, refused, bad URL)."""


class RemoteAnswer:
    """A remote API's complete answer: ``status_code``, ``headers``, ``content`` (at most
    :data:`MAX_ANSWER_BYTES`; empty when the answer was larger), ``text`` and ``json()``."""

    def __init__(
        self,
        url: str,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        refused: BodyError | None = None,
    ) -> None:
        self.url = url
        self.status_code = status_code
        self.headers = headers
        self.content = content
        #: Why the body was not read (too large), if it was not.
        self.refused = refused

    @property
    def text(self) -> str:
        if self.refused is not None:
            return f"({self.refused.detail})"
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed by :func:`zgw.bodies.parse_json`; :class:`BodyError` (a
        ``ValueError``) naming the problem when it is not usable JSON or was too large."""
        if self.refused is not None:
            raise self.refused
        return parse_json(self.content, what=f"The answer of {self.url}")


def api_root_before(url: str, resource: str) -> str | None:
    """Everything before ``<resource>/<uuid>`` in ``url`` (with its trailing slash), or None."""
    match = re.search(rf"{re.escape(resource)}/{_UUID_SEGMENT}/?(?:[?#].*)?\Z", url)
    return url[: match.start()] if match else None


def list_items(body: Any) -> list[Any] | None:
    """The items of a parsed list answer: a JSON array, or the ``results`` of a paginated one."""
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"]
    return body if isinstance(body, list) else None


class RemoteApis:
    """A pooled HTTP client (one per process) that signs requests per configured API root."""

    def __init__(self, config: KicConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._pid = 0

    @property
    def client(self) -> httpx.Client:
        if self._client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = httpx.Client(
                        transport=deadline_transport(),
                        timeout=self.config.http_timeout,
                        follow_redirects=False,
                        trust_env=False,
                    )
                    self._pid = os.getpid()
        return self._client

    def headers_for(self, url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        credential = self.config.credential_for(url)
        if credential is not None:
            headers["Authorization"] = bearer(credential.client_id, credential.secret)
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> RemoteAnswer:
        """Send one request and read its answer, all within ``http_timeout``; connection
        problems and the deadline raise :class:`RemoteUnavailable`."""
        timeout = self.config.http_timeout
        try:
            with (
                request_deadline(timeout),
                self.client.stream(
                    method, url, params=params, json=json, headers=self.headers_for(url, headers)
                ) as response,
            ):
                try:
                    content = read_response_body(response, max_bytes=MAX_ANSWER_BYTES)
                except BodyError as exc:
                    return RemoteAnswer(url, response.status_code, response.headers, b"", exc)
                return RemoteAnswer(url, response.status_code, response.headers, content)
        except httpx.TimeoutException as exc:
            raise RemoteUnavailable(
                f"{type(exc).__name__}: no complete answer within {timeout:g}s"
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise RemoteUnavailable(f"{type(exc).__name__}: {exc}") from None

    def fetch_resource(
        self,
        url: str,
        name: str,
        required_keys: tuple[str, ...],
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """GET ``url`` and check it is a JSON object with ``required_keys``.

        Failures are the reference's codes on ``name``: ``bad-url`` (unreachable, not 200) and
        ``invalid-resource`` (not JSON, wrong shape).
        """
        try:
            response = self.request("GET", url, headers=headers)
        except RemoteUnavailable as exc:
            raise invalid(
                name, "bad-url", f"De URL {url} kon niet opgehaald worden: {exc}"
            ) from None
        if response.status_code != 200:
            raise invalid(
                name,
                "bad-url",
                f"De URL {url} gaf als antwoord HTTP {response.status_code} (200 verwacht).",
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise invalid(
                name, "invalid-resource", f"{url} did not answer with usable JSON: {exc}"
            ) from None
        missing = [key for key in required_keys if not isinstance(body, dict) or key not in body]
        if missing:
            raise invalid(
                name,
                "invalid-resource",
                f"{url} is not the expected resource: missing {', '.join(missing)}.",
            )
        return body
