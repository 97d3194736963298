"""The strict-mode call-back: asking the object's API whether it lists a relation.

A real DRC, before creating or deleting an objectinformatieobject, asks the API that holds
the object. For ``objectType: verzoek`` that is the KIC:
``GET <KIC root>/verzoekinformatieobjecten?verzoek=<object>&informatieobject=<document>``,
where the KIC root is the object URL cut before ``verzoeken/<uuid>``, with the DRC's own JWT.

Each mock DRC app has one :class:`CallbackChecker`, whose single ``httpx.Client`` is shared
by all threads and created on first use: building a client costs about 20 ms of CPU (its SSL
context), which capped strict mirror creates at about 35 per second when every call-back
built its own. One app's checker is not another's, so two mock DRCs in one process share
nothing.

The ``timeout`` of a call-back bounds it as a whole (connecting, headers and body, through
:mod:`zgw.deadline`): a KIC that drips its answer cannot hold the DRC longer. The answer is
read up to :data:`MAX_ANSWER_BYTES` and parsed by :mod:`zgw.bodies`, so an answer too large,
too deep or not valid text is an ``invalid-response``, never an exception.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from zgw.bodies import BodyError, parse_json, read_response_body
from zgw.deadline import deadline_transport, request_deadline
from zgw.jwt import bearer

_VERZOEK_URL = re.compile(r"^(?P<root>[^?#]*/)verzoeken/(?P<id>[^/?#]+)/?$")

# Outcomes, as recorded in the journal entry's ``callback.outcome``.
LISTED = "listed"
NOT_LISTED = "not-listed"
CLIENT_ERROR = "client-error"
SERVER_ERROR = "server-error"
UNREACHABLE = "unreachable"
INVALID_RESPONSE = "invalid-response"

#: Largest call-back answer read; a KIC lists one relation or none here.
MAX_ANSWER_BYTES = 1_000_000
#: Of the answer, at most this many characters are kept in the journal.
ANSWER_EXCERPT_CHARS = 2_000


@dataclass(frozen=True)
class CallbackResult:
    """What one call-back found: where it went, the status (None if no answer), the outcome,
    how many relations the KIC listed, a human explanation, the start of the answer's body
    (``answer``, at most :data:`ANSWER_EXCERPT_CHARS` characters, None without an answer), the
    transport error if there was one, and how long it took."""

    url: str
    status: int | None
    outcome: str
    results: int | None
    detail: str
    answer: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0

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
        transport=deadline_transport(httpx.Limits(max_keepalive_connections=0)),
        follow_redirects=False,
        trust_env=False,
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
    )


def _excerpt(body: bytes) -> str:
    text = body[: ANSWER_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    if len(text) > ANSWER_EXCERPT_CHARS:
        return text[:ANSWER_EXCERPT_CHARS] + f"... [{len(body)} bytes]"
    return text


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
        """Ask the KIC for verzoekinformatieobjecten of (verzoek, document); never raises.

        ``timeout`` bounds the whole call-back, from connecting to the last byte.
        """
        root = kic_root(verzoek_url) or ""
        collection = root + "verzoekinformatieobjecten"
        params = {"verzoek": verzoek_url, "informatieobject": document_url}
        url = str(httpx.URL(collection, params=params))
        headers = {"Accept": "application/json"}
        if credentials is not None:
            headers["Authorization"] = bearer(*credentials)  # a fresh token per call-back
        started = time.monotonic()
        status: int | None = None
        body = b""
        try:
            with (
                request_deadline(timeout),
                self._http().stream("GET", url, headers=headers, timeout=timeout) as response,
            ):
                status = response.status_code
                body = read_response_body(response, max_bytes=MAX_ANSWER_BYTES)
        except httpx.TimeoutException as exc:
            error = f"{type(exc).__name__}: no complete answer within {timeout:g}s"
            return _failed(url, status, error, body, started)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            if isinstance(exc, BodyError):
                return _invalid(url, status, exc.detail, body, started)
            return _failed(url, status, f"{type(exc).__name__}: {exc}", body, started)
        return _judge(url, status, body, started)


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _failed(
    url: str, status: int | None, error: str, body: bytes, started: float
) -> CallbackResult:
    """No complete answer (refused, timed out, cut off)."""
    answer = _excerpt(body) if status is not None else None
    return CallbackResult(
        url, status, UNREACHABLE, None, error, answer, error, _elapsed_ms(started)
    )


def _invalid(
    url: str, status: int | None, detail: str, body: bytes, started: float
) -> CallbackResult:
    return CallbackResult(
        url, status, INVALID_RESPONSE, None, detail, _excerpt(body), None, _elapsed_ms(started)
    )


def _judge(url: str, status: int | None, body: bytes, started: float) -> CallbackResult:
    elapsed = _elapsed_ms(started)
    answer = _excerpt(body)
    if status is not None and 400 <= status < 500:
        return CallbackResult(url, status, CLIENT_ERROR, None, answer[:500], answer, None, elapsed)
    if status is not None and status >= 500:
        return CallbackResult(url, status, SERVER_ERROR, None, answer[:500], answer, None, elapsed)
    count = None
    problem = f"Expected 200 with a JSON array, got {status}: {answer[:200]!r}"
    if status == 200:
        try:
            count = _count_results(parse_json(body, what="The KIC's answer"))
        except BodyError as exc:
            problem = exc.detail
    if count is None:
        return CallbackResult(url, status, INVALID_RESPONSE, None, problem, answer, None, elapsed)
    outcome = LISTED if count else NOT_LISTED
    detail = f"The KIC listed {count} relation(s)."
    return CallbackResult(url, status, outcome, count, detail, answer, None, elapsed)
