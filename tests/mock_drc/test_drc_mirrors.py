"""objectinformatieobjecten: create / list / read / delete and every validation rule, with the
call-back out of the way (lenient mode, or object types that are never checked)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_drc.config import DrcConfig
from mock_drc.testing import MockDrcHandle, running_mock_drc

MIRRORS = "/documenten/api/v1/objectinformatieobjecten"
VERZOEK = "https://kic.example.com/api/v1/verzoeken/0a5f3c1e-8d2b-4b7e-9f41-3c2d1e0f9a88"


@pytest.fixture
def lenient() -> Iterator[MockDrcHandle]:
    with running_mock_drc(DrcConfig(strict=False)) as handle:
        yield handle


@pytest.fixture
def client(lenient: MockDrcHandle) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=lenient.url, headers={"Authorization": lenient.authorization()}, timeout=10
    ) as http:
        yield http


@pytest.fixture
def doc(lenient: MockDrcHandle) -> dict[str, Any]:
    return lenient.create_document()


def _body(doc: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {"informatieobject": doc["url"], "object": VERZOEK, "objectType": "verzoek", **change}


def _errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    return {p["name"]: p["code"] for p in response.json()["invalidParams"]}


def test_create_read_list_delete_round_trip(
    lenient: MockDrcHandle, client: httpx.Client, doc: dict[str, Any]
) -> None:
    created = client.post(MIRRORS, json=_body(doc))
    assert created.status_code == 201
    mirror = created.json()
    assert created.headers["Location"] == mirror["url"]
    assert mirror == {
        "url": mirror["url"],
        "informatieobject": doc["url"],
        "object": VERZOEK,
        "objectType": "verzoek",
    }
    assert mirror["url"].startswith(lenient.documents_root + "objectinformatieobjecten/")
    assert client.get(mirror["url"]).json() == mirror
    assert client.get(MIRRORS).json() == [mirror]
    assert lenient.state.mirrors() == [mirror]
    deleted = client.delete(mirror["url"])
    assert deleted.status_code == 204 and deleted.content == b""
    assert deleted.headers["API-version"] == "1.5.0"
    assert client.get(mirror["url"]).status_code == 404
    assert client.delete(mirror["url"]).status_code == 404
    assert client.get(MIRRORS).json() == []


def test_list_filters_are_exact_and_combine(
    lenient: MockDrcHandle, client: httpx.Client, doc: dict[str, Any]
) -> None:
    other_doc = lenient.create_document()
    other_verzoek = VERZOEK.replace("0a5f", "1b6f")
    a = client.post(MIRRORS, json=_body(doc)).json()
    b = client.post(MIRRORS, json=_body(other_doc)).json()
    c = client.post(MIRRORS, json=_body(doc, object=other_verzoek)).json()
    assert client.get(MIRRORS, params={"object": VERZOEK}).json() == [a, b]
    assert client.get(MIRRORS, params={"informatieobject": doc["url"]}).json() == [a, c]
    assert client.get(
        MIRRORS, params={"object": VERZOEK, "informatieobject": other_doc["url"]}
    ).json() == [b]
    assert client.get(MIRRORS, params={"object": VERZOEK + "/"}).json() == []
    assert _errors(client.get(MIRRORS, params={"objectType": "verzoek"})) == {
        "nonFieldErrors": "unknown-parameters"
    }


def test_unknown_mirror_is_404(client: httpx.Client) -> None:
    assert client.get(f"{MIRRORS}/{uuid.uuid4()}").status_code == 404
    assert client.delete(f"{MIRRORS}/{uuid.uuid4()}").json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"informatieobject": None}, {"informatieobject": "null"}),
        ({"object": ""}, {"object": "blank"}),
        ({"objectType": "contactmoment"}, {"objectType": "invalid_choice"}),
        ({"objectType": 3}, {"objectType": "invalid"}),
        ({"object": "verzoeken/1"}, {"object": "invalid"}),
        ({"object": "ftp://kic.example.com/api/v1/verzoeken/1"}, {"object": "invalid"}),
        ({"object": "https://kic.example.com/" + "v" * 1000}, {"object": "max_length"}),
        (
            {"informatieobject": "https://drc.example.com/" + "d" * 1000},
            {"informatieobject": "max_length"},
        ),
        (
            {"informatieobject": "https://drc.example.com/elsewhere/1"},
            {"informatieobject": "no_match"},
        ),
        (
            {
                "informatieobject": "http://127.0.0.1/documenten/api/v1/enkelvoudiginformatieobjecten/"
                "6f1b1a52-5c55-4e3e-9a8b-2f1f5b2d4c11"
            },
            {"informatieobject": "does_not_exist"},
        ),
    ],
)
def test_create_validation(
    client: httpx.Client, doc: dict[str, Any], change: dict[str, Any], expected: dict[str, str]
) -> None:
    assert _errors(client.post(MIRRORS, json=_body(doc, **change))) == expected


def test_create_names_every_missing_field(client: httpx.Client) -> None:
    assert _errors(client.post(MIRRORS, json={})) == {
        "informatieobject": "required",
        "object": "required",
        "objectType": "required",
    }


def test_create_refuses_a_non_object_body(client: httpx.Client) -> None:
    assert _errors(client.post(MIRRORS, json=["x"])) == {"nonFieldErrors": "invalid"}


def test_pair_must_be_unique(client: httpx.Client, doc: dict[str, Any]) -> None:
    assert client.post(MIRRORS, json=_body(doc)).status_code == 201
    assert _errors(client.post(MIRRORS, json=_body(doc, objectType="zaak"))) == {
        "nonFieldErrors": "unique"
    }


@pytest.mark.parametrize("object_type", ["zaak", "besluit", "verzoek"])
def test_default_object_types_are_accepted(
    client: httpx.Client, doc: dict[str, Any], object_type: str
) -> None:
    assert client.post(MIRRORS, json=_body(doc, objectType=object_type)).status_code == 201


def test_object_types_are_a_setting() -> None:
    config = DrcConfig(strict=False, object_types=frozenset({"zaak", "besluit"}))
    with running_mock_drc(config) as drc:
        document = drc.create_document()
        response = httpx.post(
            drc.url + MIRRORS, json=_body(document), headers={"Authorization": drc.authorization()}
        )
    assert _errors(response) == {"objectType": "invalid_choice"}
    assert "verzoek" not in response.json()["invalidParams"][0]["reason"].split("[")[1]


def test_lenient_mode_never_calls_back(
    lenient: MockDrcHandle, client: httpx.Client, doc: dict[str, Any]
) -> None:
    mirror = client.post(MIRRORS, json=_body(doc)).json()
    client.delete(mirror["url"])
    assert [entry["callback"] for entry in lenient.state.journal()] == [None, None]


def test_public_base_url_is_used_in_urls() -> None:
    config = DrcConfig(strict=False, public_base_url="https://drc.example.com")
    with running_mock_drc(config) as drc:
        document = drc.create_document()
        assert document["url"].startswith("https://drc.example.com/documenten/api/v1/")
        response = httpx.post(
            drc.url + MIRRORS, json=_body(document), headers={"Authorization": drc.authorization()}
        )
    assert response.json()["url"].startswith("https://drc.example.com/documenten/api/v1/objectinf")
