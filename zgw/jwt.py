"""ZGW JWT-Claims: minting tokens for clients and verifying them on the server side.

A ZGW token is an HS256 JWT whose ``client_id`` claim (or, in the legacy format, the JOSE
header ``client_identifier``) names the client; the server looks up that client's secret and
verifies the signature. Scopes are never read from the token: the server configures them.

The time rules, here and nowhere else, for both servers (as Open Zaak applies them):

- ``iat`` is required and must be a number (403 ``jwt-missing-iat-claim`` /
  ``jwt-decode-error``); a token without it would never grow old, whatever its ``exp``.
- A token is refused once it is older than ``max_age`` (default 3600 s) by its ``iat``
  (403 ``jwt-expired``), also when its ``exp`` lies further ahead.
- ``exp`` (403 ``jwt-expired``), ``nbf`` and an ``iat`` in the future (403
  ``jwt-not-valid-yet``) are checked when present.
- Every comparison tolerates ``leeway`` seconds of clock skew (default 5).

These rules are checked on every use of a token, also of one whose signature was verified
before and is remembered.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt as pyjwt
from jwt.warnings import InsecureKeyLengthWarning

# ZGW deployments commonly use short shared secrets; the length is the operator's choice.
warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)

ALGORITHM = "HS256"
#: Tokens older than this (by ``iat``) are refused, like Open Zaak does (seconds).
DEFAULT_MAX_AGE = 3600
#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat`` (seconds).
DEFAULT_LEEWAY = 5
#: Verified tokens remembered per process (a client sends the same token many times).
VERIFIED_CACHE_SIZE = 1024


class TokenRejected(Exception):
    """The request's token does not authenticate a known client; ``code`` is the ZGW code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Client:
    """A configured API client: its id, shared secret and the scopes the server grants it."""

    client_id: str
    secret: str
    scopes: frozenset[str] = frozenset()


def mint_token(
    client_id: str,
    secret: str,
    *,
    issued_at: float | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    algorithm: str = ALGORITHM,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Return a signed ZGW JWT for ``client_id``.

    ``extra_claims`` may override or add claims (``exp``, ``nbf``, ``aud`` ...); tests use it
    and ``algorithm`` to build tokens a server must refuse.
    """
    now = int(time.time() if issued_at is None else issued_at)
    claims: dict[str, Any] = {
        "iss": client_id,
        "iat": now,
        "client_id": client_id,
        "user_id": "kic-conformance",
        "user_representation": "kic-conformance",
    }
    claims.update(extra_claims or {})
    key = None if algorithm == "none" else secret
    return pyjwt.encode(claims, key, algorithm=algorithm, headers=dict(headers or {}))


def bearer(client_id: str, secret: str, **kwargs: Any) -> str:
    """Return an ``Authorization`` header value carrying a fresh token for the client."""
    return f"Bearer {mint_token(client_id, secret, **kwargs)}"


def verify_authorization(
    authorization: str | None,
    clients: Mapping[str, Client],
    *,
    max_age: int = DEFAULT_MAX_AGE,
    leeway: int = DEFAULT_LEEWAY,
    now: float | None = None,
) -> Client:
    """Authenticate an ``Authorization`` header value and return the client it names.

    Raises :class:`TokenRejected` with the ZGW error code for every way a token can be wrong;
    no malformed input escapes as another exception.
    """
    if not authorization or not authorization.startswith("Bearer "):
        raise TokenRejected("permission_denied", "Authenticatiegegevens zijn niet opgegeven.")
    token = authorization[len("Bearer ") :].strip()
    current = time.time() if now is None else now
    remembered = _verified.get(token, clients)
    if remembered is not None:
        client, claims = remembered
        _check_times(claims, current, max_age, leeway)
        return client
    try:
        header = pyjwt.get_unverified_header(token)
        unverified = pyjwt.decode(token, options={"verify_signature": False})
    except (pyjwt.PyJWTError, ValueError, TypeError) as exc:
        raise TokenRejected("jwt-decode-error", f"JWT could not be decoded: {exc}") from None
    if not isinstance(unverified, dict):
        raise TokenRejected("jwt-decode-error", "JWT payload is not a JSON object.")
    client_id = unverified.get("client_id") or header.get("client_identifier")
    if not client_id or not isinstance(client_id, str):
        raise TokenRejected("missing-client-identifier", "The JWT names no client_id.")
    client = clients.get(client_id)
    if client is None:
        raise TokenRejected("invalid-client-identifier", f"Unknown client_id {client_id!r}.")
    if header.get("alg") != ALGORITHM:
        raise TokenRejected(
            "invalid-jwt-signature",
            f"Only {ALGORITHM} tokens are accepted, got {header.get('alg')!r}.",
        )
    try:
        claims = pyjwt.decode(
            token,
            client.secret,
            algorithms=[ALGORITHM],
            leeway=leeway,
            options={"verify_aud": False, "require": []},
        )
    except pyjwt.ExpiredSignatureError:
        raise TokenRejected("jwt-expired", "The JWT has expired.") from None
    except pyjwt.ImmatureSignatureError:
        raise TokenRejected("jwt-not-valid-yet", "The JWT is not valid yet (nbf/iat).") from None
    except pyjwt.InvalidSignatureError:
        raise TokenRejected("invalid-jwt-signature", "The JWT signature is invalid.") from None
    except pyjwt.PyJWTError as exc:
        raise TokenRejected("jwt-decode-error", f"The JWT is invalid: {exc}") from None
    issued_at = claims.get("iat")
    if issued_at is None:
        raise TokenRejected(
            "jwt-missing-iat-claim", "The JWT has no iat claim; a token must say when it was made."
        )
    if not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool):
        raise TokenRejected("jwt-decode-error", "The JWT iat claim is not a number.")
    _check_times(claims, current, max_age, leeway)
    _verified.put(token, client, claims)
    return client


def _check_times(claims: Mapping[str, Any], now: float, max_age: int, leeway: int) -> None:
    """The time claims, checked on every use (a remembered token may have expired since).

    ``exp`` and ``nbf`` as pyjwt checks them (pyjwt already did on a first verification; a
    remembered token skips pyjwt), ``iat`` against ``max_age`` as Open Zaak does. Only tokens
    with a numeric ``iat`` get here.
    """
    expires, not_before, issued_at = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if isinstance(expires, (int, float)) and expires <= now - leeway:
        raise TokenRejected("jwt-expired", "The JWT has expired.")
    if isinstance(not_before, (int, float)) and not_before > now + leeway:
        raise TokenRejected("jwt-not-valid-yet", "The JWT is not valid yet (nbf/iat).")
    if isinstance(issued_at, (int, float)) and now - issued_at > max_age + leeway:
        raise TokenRejected("jwt-expired", f"The JWT is older than {max_age} seconds.")


class _VerifiedTokens:
    """Tokens whose signature checked out, with the client and secret they checked against.

    Verifying a signature decodes the token twice and costs about a third of a small
    request's CPU; a client reuses its token for many requests. A remembered token counts
    only while the server still configures its client with the same secret, and its time
    claims are checked again on every use.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[Client, Mapping[str, Any]]] = OrderedDict()

    def get(
        self, token: str, clients: Mapping[str, Client]
    ) -> tuple[Client, Mapping[str, Any]] | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is not None:
                self._entries.move_to_end(token)
        if entry is None:
            return None
        client, claims = entry
        configured = clients.get(client.client_id)
        if configured is None or configured.secret != client.secret:
            return None
        return configured, claims

    def put(self, token: str, client: Client, claims: Mapping[str, Any]) -> None:
        with self._lock:
            self._entries[token] = (client, dict(claims))
            self._entries.move_to_end(token)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_verified = _VerifiedTokens(VERIFIED_CACHE_SIZE)
