"""enkelvoudiginformatieobjecten: read, list, create, seeding, and validity against the
DRC 1.0.1 and 1.5.0 response schemas."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from mock_drc.fields import FieldErrors
from mock_drc.testing import MockDrcHandle

EIOS = "/documenten/api/v1/enkelvoudiginformatieobjecten"
SPEC_1_5 = Path(__file__).resolve().parents[3] / "shared" / "specs" / "drc-1.5.0.openapi.yaml"

# The 1.0.1 response schema, as far as drc-behaviour.md states it: required fields, and
# inhoud / bestandsomvang / status that may not be null.
SCHEMA_1_0_1: dict[str, Any] = {
    "type": "object",
    "required": [
        "bronorganisatie",
        "creatiedatum",
        "titel",
        "auteur",
        "taal",
        "informatieobjecttype",
    ],
    "properties": {
        "url": {"type": "string", "format": "uri"},
        "bronorganisatie": {"type": "string", "maxLength": 9},
        "creatiedatum": {"type": "string", "format": "date"},
        "titel": {"type": "string", "maxLength": 200},
        "auteur": {"type": "string", "maxLength": 200},
        "taal": {"type": "string", "minLength": 3, "maxLength": 3},
        "informatieobjecttype": {"type": "string", "format": "uri", "maxLength": 200},
        "versie": {"type": "integer"},
        "beginRegistratie": {"type": "string", "format": "date-time"},
        "locked": {"type": "boolean"},
        "inhoud": {"type": "string", "format": "uri"},
        "bestandsomvang": {"type": "integer", "minimum": 0},
        "status": {
            "type": "string",
            "enum": ["", "in_bewerking", "ter_vaststelling", "definitief", "gearchiveerd"],
        },
        "vertrouwelijkheidaanduiding": {"type": "string"},
    },
}


def _errors(response: httpx.Response) -> dict[str, str]:
    return {p["name"]: p["code"] for p in response.json()["invalidParams"]}


def test_read_returns_the_seeded_document(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    document = mock_drc.create_document(titel="Aanvraag", taal="eng")
    response = http.get(document["url"])
    assert response.status_code == 200
    assert response.headers["API-version"] == "1.5.0"
    assert response.json() == document
    assert response.json()["titel"] == "Aanvraag"


def test_document_url_ends_in_a_uuid4_under_the_documents_root(mock_drc: MockDrcHandle) -> None:
    document = mock_drc.create_document()
    prefix = mock_drc.documents_root + "enkelvoudiginformatieobjecten/"
    assert document["url"].startswith(prefix)
    assert uuid.UUID(document["url"][len(prefix) :]).version == 4


def test_unknown_document_is_a_404_fout(http: httpx.Client) -> None:
    response = http.get(EIOS + "/6f1b1a52-5c55-4e3e-9a8b-2f1f5b2d4c11")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found" and body["status"] == 404
    assert response.headers["API-version"] == "1.5.0"


def test_list_is_paginated_and_filters_exactly(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    first = mock_drc.create_document(bronorganisatie="111222333")
    mock_drc.create_document(bronorganisatie="999999999")
    everything = http.get(EIOS).json()
    assert everything["count"] == 2 and everything["next"] is None
    filtered = http.get(EIOS, params={"bronorganisatie": "111222333"}).json()
    assert [d["url"] for d in filtered["results"]] == [first["url"]]
    by_id = http.get(EIOS, params={"identificatie": first["identificatie"]}).json()
    assert by_id["count"] == 1


def test_list_pages_by_one_hundred(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    for _ in range(101):
        mock_drc.create_document()
    page_one = http.get(EIOS).json()
    assert len(page_one["results"]) == 100 and page_one["next"].endswith("?page=2")
    page_two = http.get(EIOS, params={"page": 2}).json()
    assert len(page_two["results"]) == 1 and page_two["previous"].endswith("?page=1")
    assert http.get(EIOS, params={"page": 3}).status_code == 404
    assert _errors(http.get(EIOS, params={"page": "x"})) == {"page": "invalid"}


def test_list_refuses_unknown_parameters(http: httpx.Client) -> None:
    response = http.get(EIOS, params={"titel": "x"})
    assert response.status_code == 400
    assert _errors(response) == {"nonFieldErrors": "unknown-parameters"}


def test_create_builds_a_full_document(http: httpx.Client) -> None:
    body = {
        "bronorganisatie": "000000000",
        "creatiedatum": "2024-05-01",
        "titel": "Brief",
        "auteur": "A. Auteur",
        "taal": "dut",
        "informatieobjecttype": "https://catalogi.example.com/api/v1/informatieobjecttypen/1",
        "inhoud": base64.b64encode(b"hello").decode(),
        "versie": 99,
        "url": "http://evil/x",
    }
    response = http.post(EIOS, json=body)
    assert response.status_code == 201
    created = response.json()
    assert response.headers["Location"] == created["url"]
    assert created["bestandsomvang"] == 5
    assert created["versie"] == 1, "read-only fields from the client are ignored"
    assert created["url"].startswith(str(http.base_url).rstrip("/") + EIOS + "/")
    assert http.get(created["url"]).json() == created


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"titel": None}, {"titel": "null"}),
        ({"titel": ""}, {"titel": "blank"}),
        ({"titel": "x" * 201}, {"titel": "max_length"}),
        ({"taal": "nl"}, {"taal": "min_length"}),
        ({"taal": "dutch"}, {"taal": "max_length"}),
        ({"bronorganisatie": "1234567890"}, {"bronorganisatie": "max_length"}),
        ({"creatiedatum": "1-5-2024"}, {"creatiedatum": "invalid"}),
        ({"informatieobjecttype": "not a url"}, {"informatieobjecttype": "invalid"}),
        (
            {"vertrouwelijkheidaanduiding": "topsecret"},
            {"vertrouwelijkheidaanduiding": "invalid_choice"},
        ),
        ({"status": "klaar"}, {"status": "invalid_choice"}),
        ({"inhoud": "***"}, {"inhoud": "invalid"}),
        ({"trefwoorden": "a,b"}, {"trefwoorden": "invalid"}),
        ({"auteur": 5}, {"auteur": "invalid"}),
    ],
)
def test_create_validates_each_field(
    http: httpx.Client, change: dict[str, Any], expected: dict[str, str]
) -> None:
    body = {
        "bronorganisatie": "000000000",
        "creatiedatum": "2024-05-01",
        "titel": "Brief",
        "auteur": "A",
        "taal": "dut",
        "informatieobjecttype": "https://catalogi.example.com/api/v1/informatieobjecttypen/1",
    }
    response = http.post(EIOS, json={**body, **change})
    assert response.status_code == 400
    assert _errors(response) == expected


def test_create_names_every_missing_required_field(http: httpx.Client) -> None:
    response = http.post(EIOS, json={})
    assert response.status_code == 400
    assert _errors(response) == {
        name: "required"
        for name in (
            "bronorganisatie",
            "creatiedatum",
            "titel",
            "auteur",
            "taal",
            "informatieobjecttype",
        )
    }


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "parse_error"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "invalid"),
        (b"titel=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415, None),
    ],
)
def test_create_refuses_bad_bodies_cleanly(
    http: httpx.Client, content: bytes, headers: dict[str, str], status: int, code: str | None
) -> None:
    response = http.post(EIOS, content=content, headers=headers)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    if code:
        assert response.json()["code"] == code


def test_seeding_rejects_bad_and_unknown_fields(mock_drc: MockDrcHandle) -> None:
    with pytest.raises(FieldErrors) as caught:
        mock_drc.create_document(taal="nederlands", kleur="blauw")
    assert {p.name for p in caught.value.params} == {"taal", "kleur"}
    assert "taal" in str(caught.value)


def _validate_1_5(spec: dict[str, Any], document: dict[str, Any]) -> None:
    schema = {
        "$ref": "#/components/schemas/EnkelvoudigInformatieObject",
        "components": spec["components"],
    }
    OAS30ReadValidator(schema, format_checker=oas30_format_checker).validate(document)


@pytest.fixture(scope="module")
def drc_spec_1_5() -> dict[str, Any]:
    if not SPEC_1_5.exists():
        pytest.skip(f"the DRC 1.5.0 spec is not at {SPEC_1_5} (../shared is absent)")
    return yaml.load(
        SPEC_1_5.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )


def test_documents_validate_against_drc_1_5_0(
    mock_drc: MockDrcHandle, http: httpx.Client, drc_spec_1_5: dict[str, Any]
) -> None:
    seeded = mock_drc.create_document()
    posted = http.post(
        EIOS,
        json={
            "bronorganisatie": "000000000",
            "creatiedatum": "2024-05-01",
            "titel": "Brief",
            "auteur": "A",
            "taal": "dut",
            "status": "definitief",
            "trefwoorden": ["a"],
            "informatieobjecttype": "https://catalogi.example.com/api/v1/informatieobjecttypen/1",
        },
    ).json()
    for document in (seeded, posted, http.get(seeded["url"]).json()):
        _validate_1_5(drc_spec_1_5, document)


def test_the_1_5_0_check_catches_a_broken_document(
    drc_spec_1_5: dict[str, Any], mock_drc: MockDrcHandle
) -> None:
    broken = {**mock_drc.create_document(), "taal": "nederlands"}
    with pytest.raises(Exception, match="nederlands"):
        _validate_1_5(drc_spec_1_5, broken)


def test_documents_validate_against_drc_1_0_1(mock_drc: MockDrcHandle, http: httpx.Client) -> None:
    validator = OAS30ReadValidator(SCHEMA_1_0_1, format_checker=oas30_format_checker)
    document = http.get(mock_drc.create_document()["url"]).json()
    validator.validate(document)
    for never_null in ("inhoud", "bestandsomvang", "status"):
        assert document[never_null] is not None
