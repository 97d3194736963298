"""Every response body the reference KIC produces is valid against openapi.yaml."""

from __future__ import annotations

from typing import Any

import pytest
from kic_testkit import contactmoment_body, path_of, verzoek_body
from openapi_schema_validator import OAS30Validator

from reference_kic.spec import load_spec, resolve


def _inline(node: Any) -> Any:
    """Resolve every $ref; a nullable enum also lists None (OAS 3.0 semantics)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(resolve(node))
        inlined = {k: _inline(v) for k, v in node.items()}
        if inlined.get("nullable") and None not in inlined.get("enum", [None]):
            inlined["enum"] = [*inlined["enum"], None]
        return inlined
    if isinstance(node, list):
        return [_inline(item) for item in node]
    return node


def assert_valid(schema_name: str, body: Any) -> None:
    schema = _inline(load_spec()["components"]["schemas"][schema_name])
    problems = [f"{list(e.path)}: {e.message}" for e in OAS30Validator(schema).iter_errors(body)]
    assert problems == []


@pytest.mark.parametrize(
    "body",
    [
        {"subjectType": "natuurlijk_persoon", "subject": "https://p.example/1"},
        {"subjectType": None, "subject": "https://p.example/1"},
        {"subjectType": "vestiging", "subjectIdentificatie": {"vestigingsNummer": "1"}},
    ],
)
def test_klant_responses_are_valid(api, body):
    created = api.create("klanten", body)
    assert_valid("Klant", created)
    subtype = body["subjectType"]
    if subtype and "subjectIdentificatie" in created:
        allof = load_spec()["components"]["schemas"][subtype]["allOf"]
        for part in allof:
            assert list(OAS30Validator(_inline(part)).iter_errors(created)) == []


def test_minimal_resources_are_valid(api):
    contactmoment = api.create("contactmomenten", contactmoment_body())
    assert_valid("ContactMoment", contactmoment)
    verzoek = api.create("verzoeken", verzoek_body())
    assert_valid("Verzoek", verzoek)
    product = api.create(
        "verzoekproducten", {"verzoek": verzoek["url"], "product": "https://p.nl/1"}
    )
    assert_valid("VerzoekProduct", product)
    coded = api.create(
        "verzoekproducten", {"verzoek": verzoek["url"], "productIdentificatie": {"code": "C"}}
    )
    assert_valid("VerzoekProduct", coded)
    vcm = api.create(
        "verzoekcontactmomenten", {"verzoek": verzoek["url"], "contactmoment": contactmoment["url"]}
    )
    assert_valid("VerzoekContactMoment", vcm)
    for item, name in ((contactmoment, "ContactMoment"), (verzoek, "Verzoek")):
        assert_valid(name, api.call("GET", path_of(item["url"])).json)
    for name in ("klanten", "contactmomenten", "verzoeken"):
        assert isinstance(api.call("GET", name).json, list)
