"""zgw.jwt remembers verified tokens, without remembering anything that must be checked again."""

from __future__ import annotations

import time

import pytest

from zgw import jwt as zgw_jwt
from zgw.jwt import Client, TokenRejected, bearer, verify_authorization

SECRET = "a-secret-long-enough-for-hs256-0123456789"
CLIENTS = {"app": Client("app", SECRET, frozenset({"klanten.lezen"}))}


def rejected(authorization: str, clients=CLIENTS, **kwargs) -> str:
    with pytest.raises(TokenRejected) as raised:
        verify_authorization(authorization, clients, **kwargs)
    return raised.value.code


def test_a_second_use_skips_pyjwt(monkeypatch) -> None:
    authorization = bearer("app", SECRET)
    assert verify_authorization(authorization, CLIENTS) == CLIENTS["app"]
    calls = []
    monkeypatch.setattr(zgw_jwt.pyjwt, "decode", lambda *a, **k: calls.append(a))
    assert verify_authorization(authorization, CLIENTS) == CLIENTS["app"]
    assert calls == []


def test_a_remembered_token_still_expires() -> None:
    now = time.time()
    authorization = bearer("app", SECRET, extra_claims={"exp": int(now) + 60})
    verify_authorization(authorization, CLIENTS)
    assert rejected(authorization, now=now + 120) == "jwt-expired"
    assert rejected(authorization, now=now + 4000) == "jwt-expired"  # older than max age


def test_a_remembered_token_fails_once_its_client_or_secret_changes() -> None:
    authorization = bearer("app", SECRET)
    verify_authorization(authorization, CLIENTS)
    assert rejected(authorization, clients={}) == "invalid-client-identifier"
    changed = {"app": Client("app", "another-secret-0123456789abcdef0123", frozenset())}
    assert rejected(authorization, clients=changed) == "invalid-jwt-signature"


def test_scopes_come_from_the_current_configuration() -> None:
    authorization = bearer("app", SECRET)
    verify_authorization(authorization, CLIENTS)
    wider = {"app": Client("app", SECRET, frozenset({"klanten.lezen", "klanten.aanmaken"}))}
    assert verify_authorization(authorization, wider).scopes == wider["app"].scopes


def test_rejected_tokens_are_not_remembered() -> None:
    authorization = bearer("app", "the-wrong-secret-0123456789abcdef01234")
    assert rejected(authorization) == "invalid-jwt-signature"
    assert rejected(authorization) == "invalid-jwt-signature"


def test_the_memory_is_bounded() -> None:
    cache = zgw_jwt._VerifiedTokens(size=3)
    for n in range(5):
        cache.put(f"token-{n}", CLIENTS["app"], {})
    assert cache.get("token-0", CLIENTS) is None and cache.get("token-4", CLIENTS) is not None
