"""harness.spec: format checks on responses accept a blank unset text field and nothing more.

A KIC answers ``""`` for an unset optional ``emailadres`` or ``subject`` (the official spec and
the reference implementation do), so ``""`` must pass ``format: email`` and ``format: uri``;
a non-blank value that is not an e-mail address or URI, a wrong type, a too long value and a
blank where ``minLength`` forbids it must still be refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.spec import RESPONSE_FORMAT_CHECKER, Spec, load_spec

MINI = """
openapi: 3.0.0
info: {title: formats, version: 1.0.0}
paths:
  /people:
    get:
      operationId: person_read
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Person'}
components:
  schemas:
    Person:
      type: object
      required: [url]
      properties:
        url: {type: string, format: uri, minLength: 1, readOnly: true}
        emailadres: {type: string, format: email, maxLength: 20}
        subject: {type: string, format: uri, maxLength: 40}
        klant: {type: string, format: uri, nullable: true}
        soort: {type: string, enum: [a, b]}
        moment: {type: string, format: date-time}
"""

URL = "http://kic.example/api/v1/people/1"


@pytest.fixture()
def mini(tmp_path: Path) -> Spec:
    path = tmp_path / "formats.yaml"
    path.write_text(MINI, encoding="utf-8")
    return load_spec(path)


def problems(spec: Spec, **fields: object) -> list[str]:
    return spec.validate_response("person_read", 200, {}, {"url": URL, **fields})


def test_blank_email_and_uri_are_accepted(mini: Spec) -> None:
    assert problems(mini, emailadres="", subject="") == []


def test_real_values_are_accepted(mini: Spec) -> None:
    assert problems(mini, emailadres="anna@example.com", subject="https://brp.example/p/1") == []
    assert problems(mini, subject="urn:nl:bsn:111222333", klant=None) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("emailadres", "not-an-email"),
        ("subject", "not a uri"),
        ("subject", "/api/v1/klanten/1"),  # relative: a uri has a scheme
        ("subject", "https://brp.example/a b"),
        ("subject", " "),  # only the empty string means "not set"
    ],
)
def test_non_blank_values_that_break_the_format_are_refused(
    mini: Spec, field: str, value: str
) -> None:
    found = problems(mini, **{field: value})
    assert len(found) == 1
    assert found[0].startswith(f"body.{field}: ")
    assert "is not a" in found[0]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"emailadres": 3}, 'body.emailadres: 3 is not of type "string"'),
        ({"subject": None}, 'body.subject: null is not of type "string"'),
        ({"subject": ["https://a.example"]}, "body.subject"),
        ({"emailadres": "a" * 15 + "@example.com"}, "body.emailadres"),  # maxLength 20
        ({"soort": ""}, "body.soort"),  # blank is not an enum value
        ({"moment": ""}, "body.moment"),  # date-time is never blank in a correct KIC
    ],
)
def test_everything_but_blank_text_formats_stays_strict(
    mini: Spec, fields: dict[str, object], where: str
) -> None:
    found = problems(mini, **fields)
    assert any(p.startswith(where) for p in found), found


def test_a_blank_url_is_refused_by_its_min_length(mini: Spec) -> None:
    found = mini.validate_response("person_read", 200, {}, {"url": ""})
    assert found == ['body.url: "" is too short (minLength 1)']


def test_the_checker_only_relaxes_blank_strings() -> None:
    assert RESPONSE_FORMAT_CHECKER.conforms("", "email")
    assert RESPONSE_FORMAT_CHECKER.conforms("", "uri")
    assert not RESPONSE_FORMAT_CHECKER.conforms("not-an-email", "email")
    assert not RESPONSE_FORMAT_CHECKER.conforms("not a uri", "uri")
    assert not RESPONSE_FORMAT_CHECKER.conforms("", "date-time")
    assert not RESPONSE_FORMAT_CHECKER.conforms("", "uuid")


def test_the_project_contract_accepts_a_klant_without_emailadres() -> None:
    """The shape the reference implementation returns for a klant created with only a subject."""
    spec = load_spec()
    klant = {
        "url": "http://kic.example/api/v1/klanten/0b7e1d5c-2f41-4c2e-9a4e-6f0a3d1b2c3d",
        "voornaam": "",
        "achternaam": "",
        "adres": "",
        "telefoonnummer": "",
        "emailadres": "",
        "functie": "",
        "subject": "https://personen.example.com/p/1",
        "subjectType": "natuurlijk_persoon",
        "subjectIdentificatie": None,
    }
    headers = {"Location": klant["url"], "API-version": "1.0.0-rc1"}
    assert spec.validate_response("klant_create", 201, headers, klant) == []
    wrong = {**klant, "emailadres": "geen-email"}
    assert any(
        "emailadres" in p for p in spec.validate_response("klant_create", 201, headers, wrong)
    )
