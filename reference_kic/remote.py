"""HTTP calls from the KIC to other APIs (the DRC, a ZRC), with the configured credentials.

Every outgoing request carries a fresh ZGW JWT for the credential whose ``api_root`` is the
longest prefix of the URL (none matching: no Authorization). Network failures become
:class:`RemoteUnavailable`, never an unhandled exception.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import httpx

from zgw.errors import invalid
from zgw.jwt import bearer

from .config import KicConfig

_UUID_SEGMENT = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class RemoteUnavailable(Exception):
    """The remote API could not be reached or did not answer (timeout, refused, bad URL)."""


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
                        timeout=self.config.http_timeout, follow_redirects=False
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
    ) -> httpx.Response:
        """Send one request; connection problems raise :class:`RemoteUnavailable`."""
        try:
            return self.client.request(
                method, url, params=params, json=json, headers=self.headers_for(url, headers)
            )
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
        except ValueError:
            raise invalid(name, "invalid-resource", f"{url} did not answer with JSON.") from None
        missing = [key for key in required_keys if not isinstance(body, dict) or key not in body]
        if missing:
            raise invalid(
                name,
                "invalid-resource",
                f"{url} is not the expected resource: missing {', '.join(missing)}.",
            )
        return body
