"""Authorization: every way a token can be wrong is a 403 with the reference's code."""

from __future__ import annotations

import time
import warnings

import jwt as pyjwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning
from kic_testkit import KIC_CLIENTS, klant_body, path_of

from zgw.jwt import bearer

ALLES = KIC_CLIENTS["alles"]


def _token(**kwargs) -> str:
    with warnings.catch_warnings():
        # HS512 tokens are minted on purpose (they must be refused); key length is irrelevant.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return bearer(ALLES.client_id, ALLES.secret, **kwargs)


TOKEN_CASES = [
    (None, "permission_denied"),
    ("Basic dXNlcjpwYXNz", "permission_denied"),
    ("bearer " + _token()[7:], "permission_denied"),
    ("Bearer not.a.jwt", "jwt-decode-error"),
    ("Bearer ", "permission_denied"),  # header whitespace is trimmed: no token at all
    (
        "Bearer " + pyjwt.encode({"iat": int(time.time())}, ALLES.secret, algorithm="HS256"),
        "missing-client-identifier",
    ),
    (bearer("onbekend", "geheim-onbekend-0123456789abcdef012345"), "invalid-client-identifier"),
    (bearer("alles", "verkeerd-geheim-0123456789abcdef0123456"), "invalid-jwt-signature"),
    (_token(extra_claims={"exp": int(time.time()) - 3600}), "jwt-expired"),
    (_token(issued_at=time.time() - 7200), "jwt-expired"),
    (_token(extra_claims={"nbf": int(time.time()) + 3600}), "jwt-not-valid-yet"),
    (_token(algorithm="HS512"), "invalid-jwt-signature"),
    (_token(algorithm="none"), "invalid-jwt-signature"),
]


@pytest.mark.parametrize(("authorization", "code"), TOKEN_CASES)
def test_bad_tokens_are_403_with_their_code(api, authorization, code):
    headers = {"Authorization": authorization} if authorization is not None else {}
    result = api.call("GET", "klanten", client="", headers=headers)
    assert result.status_code == 403
    assert result.json["code"] == code
    assert result.headers["API-version"] == "1.0.0-rc1"


def test_legacy_client_identifier_header_is_accepted(api):
    token = pyjwt.encode(
        {"iat": int(time.time())},
        ALLES.secret,
        algorithm="HS256",
        headers={"client_identifier": "alles"},
    )
    result = api.call("GET", "klanten", client="", headers={"Authorization": f"Bearer {token}"})
    assert result.status_code == 200


SCOPED = [
    ("GET", "klanten", "lezer", 200),
    ("POST", "klanten", "lezer", 403),
    ("POST", "klanten", "schrijver", 201),
    ("GET", "klanten", "schrijver", 403),
]


@pytest.mark.parametrize(("method", "path", "client", "status"), SCOPED)
def test_scopes_per_action(api, method, path, client, status):
    body = klant_body() if method == "POST" else None
    result = api.call(method, path, json=body, client=client)
    assert result.status_code == status
    if status == 403:
        assert result.json["code"] == "permission_denied"


def test_update_and_delete_scopes(api):
    klant = path_of(api.create("klanten", klant_body())["url"])
    assert api.call("PATCH", klant, json={"voornaam": "A"}, client="lezer").status_code == 403
    assert api.call("PATCH", klant, json={"voornaam": "A"}, client="schrijver").status_code == 200
    assert api.call("DELETE", klant, client="schrijver").status_code == 403
    assert api.call("DELETE", klant, client="alles").status_code == 204


def test_403_comes_before_404_and_before_unknown_parameters(api):
    missing = "klanten/00000000-0000-4000-8000-000000000000"
    assert api.call("GET", missing, client="").status_code == 403
    result = api.call("GET", "verzoekproducten", client="", params={"foo": "1"})
    assert result.status_code == 403


def test_root_and_schema_need_no_token(api):
    assert api.call("GET", "/api/v1/", client="").status_code == 200
    assert api.call("GET", "/api/v1/schema/openapi.yaml", client="").status_code == 200
