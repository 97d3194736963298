"""Security of the reference KIC (issue 6, point 5).

Tokens that must not authenticate (alg none, HS512, expired, future nbf, wrong secret, unknown
client, no client_id, garbage) and clients whose scopes are too narrow: always 403, never 500,
and nothing changes. Hostile values (SQL-ish, wildcards, NUL, oversized) in every filter of
every list operation of openapi.yaml: 400 or an empty list, never 500, never rows that do not
match. The KIC is served in-process (threaded) with a strict in-process mock DRC.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest
import yaml
from robustness_support import (
    CALLBACK_ID,
    CALLBACK_SECRET,
    CLIENT_ID,
    DRC_CLIENT_ID,
    DRC_SECRET,
    NARROW_ID,
    NARROW_SECRET,
    SECRET,
    WRITER_ID,
    WRITER_SECRET,
    auth,
)

from mock_drc.config import ALL_SCOPES as DRC_SCOPES
from mock_drc.config import DrcConfig
from mock_drc.testing import running_mock_drc
from reference_kic.app import create_app
from reference_kic.config import DrcCredential, KicConfig, parse_clients
from zgw.jwt import Client, mint_token
from zgw.serving import free_port, serve_in_thread

SPEC = yaml.safe_load((Path(__file__).parents[2] / "openapi.yaml").read_text())


def list_filters() -> list[tuple[str, str, str]]:
    """(operationId, path, query parameter) of every filter of every list operation."""
    found = []
    for path, item in SPEC["paths"].items():
        operation = item.get("get")
        if not operation or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query":
                found.append((operation["operationId"], path, parameter["name"]))
    return found


def list_paths() -> list[str]:
    return [p for p, item in SPEC["paths"].items() if "get" in item and "{" not in p]


FILTERS = list_filters()
HOSTILE_VALUES = {
    "quote-or": "' OR '1'='1",
    "quote-or-comment": "x' OR 1=1 --",
    "double-quote-or": '" OR ""="',
    "drop-table": "1; DROP TABLE klanten; --",
    "union-select": "' UNION SELECT uuid, data FROM klanten --",
    "like-percent": "%",
    "like-underscore": "_",
    "glob-star": "*",
    "nul-byte": "a\x00b",
    "null-word": "NULL",
    "url-with-injection": "http://127.0.0.1/api/v1/verzoeken/' OR 1=1 --",
    "path-traversal": "../../../../etc/passwd",
    "template": "{{7*7}}${7*7}",
    "unicode": "\u202e\U0001f600" * 50,
    "oversized-10k": "A" * 10_000,
    "oversized-url-50k": "http://example.com/" + "a" * 50_000,
}


@dataclass
class Served:
    """The running KIC (``api``: its API root) and one seeded row per resource."""

    api: str
    seeded: dict[str, str]  # collection -> url of one row


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    drc_config = DrcConfig(
        clients={DRC_CLIENT_ID: Client(DRC_CLIENT_ID, DRC_SECRET, DRC_SCOPES)},
        strict=True,
        callback_credentials=(CALLBACK_ID, CALLBACK_SECRET),
    )  # fmt: skip
    with running_mock_drc(drc_config) as drc:
        port = free_port()
        config = KicConfig(
            db_path=str(tmp_path_factory.mktemp("security") / "kic.sqlite3"),
            public_base_url=f"http://127.0.0.1:{port}/api/v1",
            clients=parse_clients(
                {
                    CLIENT_ID: {"secret": SECRET, "scopes": "all"},
                    NARROW_ID: {"secret": NARROW_SECRET, "scopes": ["klanten.lezen"]},
                    WRITER_ID: {"secret": WRITER_SECRET, "scopes": ["klanten.aanmaken"]},
                    CALLBACK_ID: {"secret": CALLBACK_SECRET, "scopes": ["klanten.lezen"]},
                },
                "security test",
            ),
            drc_credentials=[DrcCredential(drc.url + "/", DRC_CLIENT_ID, DRC_SECRET)],
            http_timeout=5.0,
        )
        with serve_in_thread(create_app(config), port=port) as server:
            api = f"{server.url}/api/v1"
            yield Served(api, seed(api, drc))


def seed(api: str, drc: Any) -> dict[str, str]:
    """One row in every collection, so that a filter that leaks would show rows."""
    seeded: dict[str, str] = {}
    with httpx.Client(headers=auth(), timeout=30) as client:

        def create(collection: str, body: dict[str, Any]) -> str:
            response = client.post(f"{api}/{collection}", json=body)
            assert response.status_code == 201, f"seeding {collection}: {response.text}"
            seeded[collection] = response.json()["url"]
            return seeded[collection]

        klant = create("klanten", {"subjectType": "natuurlijk_persoon",
                                   "subject": "https://example.com/personen/1"})  # fmt: skip
        contactmoment = create("contactmomenten", {
            "bronorganisatie": "000000000", "klant": klant,
            "medewerker": "https://example.com/medewerkers/1"})  # fmt: skip
        verzoek = create("verzoeken", {"bronorganisatie": "000000000", "status": "ontvangen",
                                       "klant": klant})  # fmt: skip
        create("verzoekcontactmomenten", {"verzoek": verzoek, "contactmoment": contactmoment})
        create("verzoekproducten", {"verzoek": verzoek, "product": "https://example.com/p/1"})
        document = drc.create_document(titel="security")["url"]
        create("verzoekinformatieobjecten", {"verzoek": verzoek, "informatieobject": document})
        zaak = drc.state.create_zaak()["url"]
        drc.state.link_zaak(zaak, contactmoment=contactmoment)
        drc.state.link_zaak(zaak, verzoek=verzoek)
        create("objectcontactmomenten", {"contactmoment": contactmoment, "object": zaak,
                                         "objectType": "zaak"})  # fmt: skip
        create("objectverzoeken", {"verzoek": verzoek, "object": zaak, "objectType": "zaak"})
    return seeded


# -- tokens ----------------------------------------------------------------------------------


def _no_client_id() -> str:
    claims = {"iss": CLIENT_ID, "iat": int(time.time()), "user_id": "x"}
    return pyjwt.encode(claims, SECRET, algorithm="HS256")


BAD_AUTHORIZATION = {
    "alg-none": lambda: "Bearer " + mint_token(CLIENT_ID, SECRET, algorithm="none"),
    "hs512": lambda: "Bearer " + mint_token(CLIENT_ID, SECRET, algorithm="HS512"),
    "expired": lambda: "Bearer " + mint_token(
        CLIENT_ID, SECRET, extra_claims={"exp": int(time.time()) - 3600}),
    "too-old-iat": lambda: "Bearer " + mint_token(
        CLIENT_ID, SECRET, issued_at=time.time() - 7 * 24 * 3600),
    "future-nbf": lambda: "Bearer " + mint_token(
        CLIENT_ID, SECRET, extra_claims={"nbf": int(time.time()) + 3600}),
    "future-iat": lambda: "Bearer " + mint_token(CLIENT_ID, SECRET, issued_at=time.time() + 3600),
    "wrong-secret": lambda: "Bearer " + mint_token(CLIENT_ID, "not-the-secret"),
    "unknown-client": lambda: "Bearer " + mint_token("stranger", SECRET),
    "no-client-id": lambda: "Bearer " + _no_client_id(),
    "client-id-not-a-string": lambda: "Bearer " + mint_token(
        CLIENT_ID, SECRET, extra_claims={"client_id": {"$ne": None}}),
    "garbage": lambda: "Bearer not.a.jwt",
    "bearer-without-token": lambda: "Bearer",
    "basic-scheme": lambda: "Basic cm9idXN0OnJvYnVzdC1zZWNyZXQ=",
    "oversized-token": lambda: "Bearer " + "A" * 20_000,
}  # fmt: skip


def _operations(served: Served) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    seeded = served.seeded
    return {
        "klant_list": ("GET", f"{served.api}/klanten", None),
        "klant_read": ("GET", seeded["klanten"], None),
        "klant_create": ("POST", f"{served.api}/klanten",
                         {"subjectType": "vestiging", "subject": "https://example.com/v/1"}),
        "klant_partial_update": ("PATCH", seeded["klanten"], {"voornaam": "Mallory"}),
        "klant_delete": ("DELETE", seeded["klanten"], None),
        "verzoekinformatieobject_delete": ("DELETE", seeded["verzoekinformatieobjecten"], None),
    }  # fmt: skip


def _state(served: Served) -> list[Any]:
    """Everything the KIC lists, to show that a refused request changed nothing."""
    with httpx.Client(headers=auth(), timeout=30) as client:
        return [client.get(f"{served.api}{path}").json() for path in list_paths()]


@pytest.mark.parametrize("token", list(BAD_AUTHORIZATION))
def test_bad_tokens_are_refused_with_403_and_change_nothing(served: Served, token: str) -> None:
    before = _state(served)
    answers = {}
    for name, (method, url, body) in _operations(served).items():
        headers = {"Authorization": BAD_AUTHORIZATION[token](), "Accept": "application/json"}
        response = httpx.request(method, url, json=body, headers=headers, timeout=30)
        answers[name] = response.status_code
    assert set(answers.values()) == {403}, answers
    assert _state(served) == before


def test_no_authorization_header_is_403(served: Served) -> None:
    answers = {
        name: httpx.request(method, url, json=body, timeout=30).status_code
        for name, (method, url, body) in _operations(served).items()
    }
    assert set(answers.values()) == {403}, answers


@pytest.mark.parametrize(
    ("client", "allowed"),
    [((NARROW_ID, NARROW_SECRET), {"GET"}), ((WRITER_ID, WRITER_SECRET), {"POST"})],
    ids=["klanten.lezen-only", "klanten.aanmaken-only"],
)
def test_scope_too_narrow_is_403(served: Served, client: tuple[str, str], allowed: set) -> None:
    before = _state(served)
    answers = {}
    for name, (method, url, body) in _operations(served).items():
        if method in allowed:
            continue
        response = httpx.request(method, url, json=body, headers=auth(*client), timeout=30)
        answers[name] = response.status_code
    assert set(answers.values()) == {403}, answers
    assert _state(served) == before
    if "GET" in allowed:
        assert httpx.get(served.seeded["klanten"], headers=auth(*client)).status_code == 200


# -- hostile filter values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "path", "name"), FILTERS, ids=[f"{o}-{n}" for o, _, n in FILTERS]
)
def test_hostile_filter_values_give_400_or_nothing(
    served: Served, operation: str, path: str, name: str
) -> None:
    answers = {}
    with httpx.Client(headers=auth(), timeout=30) as client:
        for label, value in HOSTILE_VALUES.items():
            response = client.get(f"{served.api}{path}", params={name: value})
            answers[label] = response.status_code
            if response.status_code == 200:
                assert response.json() == [], f"{label}: rows for a hostile {name!r}"
        repeated = client.get(f"{served.api}{path}", params=[(name, "' OR 1=1 --"), (name, "%")])
        answers["repeated"] = repeated.status_code
        if repeated.status_code == 200:
            assert repeated.json() == []
    assert set(answers.values()) <= {400, 200}, answers
    listing = httpx.get(f"{served.api}{path}", headers=auth(), timeout=30)
    assert listing.status_code == 200 and len(listing.json()) >= 1


@pytest.mark.parametrize("path", list_paths())
def test_hostile_parameter_names_and_path_segments_never_500(served: Served, path: str) -> None:
    with httpx.Client(headers=auth(), timeout=30) as client:
        collection = f"{served.api}{path}"
        answers = {
            "sql-name": client.get(collection, params={"x' OR 1=1 --": "1"}).status_code,
            "oversized-name": client.get(collection, params={"n" * 5000: "1"}).status_code,
            "sql-uuid": client.get(f"{served.api}{path}/' OR '1'='1").status_code,
            "oversized-uuid": client.get(f"{served.api}{path}/{'a' * 10_000}").status_code,
            "nul-uuid": client.get(f"{served.api}{path}/%00").status_code,
        }  # fmt: skip
    assert all(status < 500 for status in answers.values()), answers
    assert {answers["sql-uuid"], answers["oversized-uuid"], answers["nul-uuid"]} <= {400, 404}
    assert answers["sql-name"] in (200, 400) and answers["oversized-name"] in (200, 400)
    rows = httpx.get(f"{served.api}/klanten", headers=auth(), timeout=30).json()
    assert rows, "the klanten table lost its rows"
