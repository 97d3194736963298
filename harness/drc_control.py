"""The harness's only way to the mock DRC: its HTTP control API under ``<drc base>/_mock/``.

It also knows where the DRC's APIs live (:attr:`DrcControl.documents_root`,
:attr:`DrcControl.zaken_root`, :func:`documents_path`, :func:`zaken_path`); the scenario runner
and the fuzz phase ask it rather than building URLs of their own.

The same code drives an in-process DRC and one started apart (``--drc-url``). Every call
raises :class:`DrcControlError` with a clear message when the DRC is unreachable, refuses, or
does not answer in full within the timeout: calls go through a
:func:`harness.transport.new_client` client under :func:`harness.transport.request_deadline`,
so a DRC that drips its answer cannot hold the harness longer than that.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.transport import new_client, request_deadline

DOCUMENTS_PATH = "/documenten/api/v1"
ZAKEN_PATH = "/zaken/api/v1"


def documents_path(relative: str) -> str:
    """The DRC request path of a Documenten API resource (``objectinformatieobjecten``)."""
    return f"{DOCUMENTS_PATH}/{relative.lstrip('/')}"


def zaken_path(relative: str) -> str:
    """The DRC request path of a Zaken API resource (``zaakcontactmomenten``)."""
    return f"{ZAKEN_PATH}/{relative.lstrip('/')}"


class DrcControlError(Exception):
    """The mock DRC's control API could not do what was asked."""


def base_url_hint(url: str) -> str:
    """What to tell a user whose DRC URL has no control API: the base URL it should be."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    for api in (DOCUMENTS_PATH, ZAKEN_PATH):
        if api in path:
            base = f"{parts.scheme}://{parts.netloc}{path[: path.index(api)]}"
            return (
                f"{url} is the DRC's {api.split('/')[1]} API; give the mock DRC's base URL "
                f"{base} instead"
            )
    return "give the base URL of a mock DRC (mock-drc serve), e.g. http://host:8500"


def api_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a mock DRC base URL (it is one of its APIs), or None."""
    path = urlsplit(url).path.rstrip("/")
    if any(api in path for api in (DOCUMENTS_PATH, ZAKEN_PATH)):
        return base_url_hint(url)
    return None


class DrcControl:
    """A thread-safe client of one mock DRC's control API."""

    def __init__(
        self, base_url: str, timeout: float = 10.0, tls: ssl.SSLContext | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = new_client(timeout, verify=tls)
        self._lock = threading.Lock()
        self._cursor: int | None = None

    @property
    def documents_root(self) -> str:
        return self.base_url + DOCUMENTS_PATH

    @property
    def zaken_root(self) -> str:
        return self.base_url + ZAKEN_PATH

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> DrcControl:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self, method: str, path: str, *, json: Any = None, params: Any = None, gone_ok: bool = False
    ) -> Any:
        url = f"{self.base_url}/_mock/{path}"
        try:
            # The deadline covers the body too: request() reads it before returning.
            with request_deadline(self.timeout):
                response = self._client.request(method, url, json=json, params=params)
        except httpx.TimeoutException:
            raise DrcControlError(
                f"mock DRC at {self.base_url} did not answer {method} /_mock/{path} "
                f"within {self.timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise DrcControlError(
                f"mock DRC at {self.base_url} unreachable ({method} /_mock/{path}): "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if response.status_code == 404 and gone_ok:
            return None
        if response.status_code == 404:
            raise DrcControlError(
                f"no mock DRC control API at {url} (404): {base_url_hint(self.base_url)}"
            )
        if response.status_code >= 400:
            raise DrcControlError(
                f"mock DRC refused {method} /_mock/{path} with {response.status_code}: "
                f"{' '.join(response.text[:500].split())}"
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise DrcControlError(
                f"mock DRC answered {method} /_mock/{path} without JSON"
            ) from None

    def ping(self) -> None:
        """Raise :class:`DrcControlError` unless the control API answers."""
        self._call("GET", "faults")

    def journal(
        self,
        since: int | None = None,
        method: str | None = None,
        mentions: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries with an id above ``since``, of ``method``; with ``mentions``, only
        those about at least one of these strings (URLs: see docs/mock-drc.md, Journal)."""
        params: dict[str, Any] = {}
        if since is not None:
            params["since"] = since
        if method:
            params["method"] = method
        if mentions is not None:
            if not mentions:
                return []  # the DRC matches nothing for an empty list; no need to ask
            params["mentions"] = list(mentions)
        return list(self._call("GET", "journal", params=params) or [])

    def journal_cursor(self) -> int:
        """The id of the newest journal entry now (0 when empty); cheap after the first call."""
        with self._lock:
            entries = self.journal(since=self._cursor)
            if entries:
                self._cursor = max(int(e["id"]) for e in entries)
            elif self._cursor is None:
                self._cursor = 0
            return self._cursor

    def reset(self) -> None:
        self._call("POST", "reset")

    def create_document(self, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", "documents", json=fields or {})

    def create_zaak(self, fields: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", "zaken", json=fields or {})

    def link_zaak(self, link: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "zaken/links", json=link)

    def unlink_zaak(self, link: dict[str, Any]) -> dict[str, Any] | None:
        return self._call("DELETE", "zaken/links", json=link)

    def remove_mirrors(self, match: dict[str, Any]) -> list[dict[str, Any]]:
        """Remove the mirrors matching ``match`` (``object``, ``informatieobject``) behind the
        KIC's back (no call-back, not journaled); returns those removed."""
        answer = self._call("DELETE", "mirrors", json=match) or {}
        return list(answer.get("removed") or [])

    def add_fault(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Add a fault rule (``path`` is a DRC request path prefix); returns it with its id."""
        return self._call("POST", "faults", json=rule)

    def remove_fault(self, rule_id: int) -> None:
        """Remove one fault rule; one used up already (and so gone) is no error."""
        self._call("DELETE", f"faults/{rule_id}", gone_ok=True)

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def settings(self) -> dict[str, Any]:
        """How the DRC was started (``strict``, ``acceptAnyToken``, ``callbackClientId``,
        ``callbackTimeout``, ...; no secrets)."""
        return dict((self.state() or {}).get("config") or {})

    def mirrors(self) -> list[dict[str, Any]]:
        return list((self.state() or {}).get("mirrors") or [])
