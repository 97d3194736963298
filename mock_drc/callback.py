"""The strict-mode call-back: asking the object's API whether it lists a relation.

A real DRC, before creating or deleting an objectinformatieobject, asks the API that holds
the object. For ``objectType: verzoek`` that is the KIC:
``GET <KIC root>/verzoekinformatieobjecten?verzoek=<object>&informatieobject=<document>``,
where the KIC root is the object URL cut before ``verzoeken/<uuid>``, with the DRC's own JWT.

:class:`CallbackChecker` makes these calls over one ``httpx.Client`` shared by all threads,
created on first use: building a client costs about 20 ms of CPU (its SSL context), which
capped strict mirror creates at about 35 per second when every call-back built its own.
:func:`list_verzoek_relation` uses one process-wide checker, closed when the interpreter exits
(a WSGI app has no shutdown hook to close it earlier).
"""

from __future__ import annotations

import atexit
import http.cookiejar
import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from zgw.jwt import bearer

_VERZOEK_URL = re.compile(r"^(?P<root>[^?#]*/)verzoeken/(?P<id>[^/?#]+)/?$")

# Outcomes, as recorded in the journal entry's ``callback.outcome``.
LISTED = "listed"
NOT_LISTED = "not-listed"
CLIENT_ERROR = "client-error"
SERVER_ERROR = "server-error"
UNREACHABLE = "unreachable"
INVALID_RESPONSE = "invalid-response"


@dataclass(frozen=True)
class CallbackResult:
    """What one call-back found: where it went, the status (None if no answer), the outcome,
    how many relations the KIC listed, and a human explanation."""

    url: str
    status: int | None
    outcome: str
    results: int | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def kic_root(verzoek_url: str) -> str | None:
    """The KIC API root of a verzoek URL (ending in ``/``), or None if it is not one."""
    match = _VERZOEK_URL.match(verzoek_url)
    return match.group("root") if match else None


def _count_results(body: Any) -> int | None:
    if isinstance(body, list):
        return len(body)
    # Tolerate a paginated answer, although the KIC spec lists plain arrays.
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return len(body["results"])
    return None


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Refuse every cookie: a shared client must not carry one KIC's cookies into the next
    call-back, just as the one-client-per-call-back it replaces never did."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def _new_client() -> httpx.Client:
    # No keep-alive: every call-back opens its own connection, as before. Reusing an idle one
    # the KIC closes at that moment would fail as "unreachable" and refuse a correct mirror.
    # The cost the checker saves is building the client, not connecting on loopback.
    return httpx.Client(
        follow_redirects=False,
        limits=httpx.Limits(max_keepalive_connections=0),
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
    )


class CallbackChecker:
    """Asks a KIC whether it lists a relation, over one lazily created, thread-safe client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = _new_client()
            return self._client

    def close(self) -> None:
        """Close the client; a later call-back creates a new one."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def list_verzoek_relation(
        self,
        verzoek_url: str,
        document_url: str,
        *,
        credentials: tuple[str, str] | None,
        timeout: float,
    ) -> CallbackResult:
        """Ask the KIC for verzoekinformatieobjecten of (verzoek, document); never raises."""
        root = kic_root(verzoek_url) or ""
        collection = root + "verzoekinformatieobjecten"
        params = {"verzoek": verzoek_url, "informatieobject": document_url}
        url = str(httpx.URL(collection, params=params))
        headers = {"Accept": "application/json"}
        if credentials is not None:
            headers["Authorization"] = bearer(*credentials)  # a fresh token per call-back
        try:
            response = self._http().get(
                url, headers=headers, timeout=timeout, follow_redirects=False
            )
        except httpx.HTTPError as exc:
            return CallbackResult(url, None, UNREACHABLE, None, f"{type(exc).__name__}: {exc}")
        return _judge(url, response)


def _judge(url: str, response: httpx.Response) -> CallbackResult:
    status = response.status_code
    if 400 <= status < 500:
        return CallbackResult(url, status, CLIENT_ERROR, None, response.text[:500])
    if status >= 500:
        return CallbackResult(url, status, SERVER_ERROR, None, response.text[:500])
    try:
        count = _count_results(response.json()) if status == 200 else None
    except ValueError:
        count = None
    if count is None:
        return CallbackResult(
            url,
            status,
            INVALID_RESPONSE,
            None,
            f"Expected 200 with a JSON array, got {status}: {response.text[:200]!r}",
        )
    outcome = LISTED if count else NOT_LISTED
    return CallbackResult(url, status, outcome, count, f"The KIC listed {count} relation(s).")


_CHECKER = CallbackChecker()
atexit.register(_CHECKER.close)


def list_verzoek_relation(
    verzoek_url: str,
    document_url: str,
    *,
    credentials: tuple[str, str] | None,
    timeout: float,
) -> CallbackResult:
    """Ask the KIC for verzoekinformatieobjecten of (verzoek, document); never raises.

    Goes through the process-wide :class:`CallbackChecker`, so call-backs share one client.
    """
    return _CHECKER.list_verzoek_relation(
        verzoek_url, document_url, credentials=credentials, timeout=timeout
    )
