"""zgw.jwt's time rules: ``iat`` required, the maximum age for every token, the leeway."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest

from zgw.jwt import DEFAULT_LEEWAY, DEFAULT_MAX_AGE, Client, TokenRejected, verify_authorization

SECRET = "a-secret-long-enough-for-hs256-0123456789"
CLIENTS = {"app": Client("app", SECRET, frozenset({"klanten.lezen"}))}


def _bearer(claims: dict) -> str:
    return "Bearer " + pyjwt.encode({"client_id": "app", **claims}, SECRET, algorithm="HS256")


def _code(authorization: str, **kwargs) -> str:
    with pytest.raises(TokenRejected) as raised:
        verify_authorization(authorization, CLIENTS, **kwargs)
    return raised.value.code


@pytest.mark.parametrize(
    "expires_in",
    [None, 60, 10 * 365 * 24 * 3600],
    ids=["no-time-claims", "exp-soon", "exp-in-ten-years"],
)
def test_a_token_without_iat_is_refused_whatever_its_exp(expires_in: int | None) -> None:
    claims = {} if expires_in is None else {"exp": int(time.time()) + expires_in}
    assert _code(_bearer(claims)) == "jwt-missing-iat-claim"


def test_the_maximum_age_applies_also_when_exp_lies_further_ahead() -> None:
    now = time.time()
    authorization = _bearer({"iat": int(now) - 7200, "exp": int(now) + 3600})
    assert _code(authorization, now=now) == "jwt-expired"


def test_age_and_leeway_at_their_bounds() -> None:
    now = time.time()
    issued = int(now) - DEFAULT_MAX_AGE
    authorization = _bearer({"iat": issued})
    # Within max age plus leeway: accepted; one second past it: refused (also when remembered).
    assert verify_authorization(authorization, CLIENTS, now=issued + DEFAULT_MAX_AGE + 1)
    assert verify_authorization(
        authorization, CLIENTS, now=issued + DEFAULT_MAX_AGE + DEFAULT_LEEWAY
    )
    assert _code(authorization, now=issued + DEFAULT_MAX_AGE + DEFAULT_LEEWAY + 1) == "jwt-expired"


def test_a_remembered_token_is_refused_once_it_is_too_old() -> None:
    now = time.time()
    authorization = _bearer({"iat": int(now)})
    assert verify_authorization(authorization, CLIENTS, now=now)
    assert _code(authorization, now=now + DEFAULT_MAX_AGE + DEFAULT_LEEWAY + 2) == "jwt-expired"


@pytest.mark.parametrize("iat", ["yesterday", True, None])
def test_an_iat_that_is_not_a_number_is_refused(iat: object) -> None:
    assert _code(_bearer({"iat": iat})) == "jwt-decode-error"


def test_an_iat_in_the_future_beyond_the_leeway_is_refused() -> None:
    now = time.time()
    assert _code(_bearer({"iat": int(now) + DEFAULT_LEEWAY + 60}), now=now) == "jwt-not-valid-yet"
