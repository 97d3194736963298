"""Every validation rule: codes and camelCase dotted names as the reference reports them."""

from __future__ import annotations

import pytest
from kic_testkit import RSIN, contactmoment_body, klant_body, path_of, verzoek_body


def problems(result) -> set[tuple[str, str]]:
    assert result.status_code == 400, result.text
    assert result.json["code"] == "invalid"
    return {(p["name"], p["code"]) for p in result.json["invalidParams"]}


CASES = [
    # (collection, body, expected (name, code))
    ("contactmomenten", {"medewerker": "https://m.example/1"}, ("bronorganisatie", "required")),
    ("verzoeken", {"bronorganisatie": RSIN}, ("status", "required")),
    ("contactmomenten", contactmoment_body(onderwerpLinks=None), ("onderwerpLinks", "null")),
    ("contactmomenten", contactmoment_body(bronorganisatie=""), ("bronorganisatie", "blank")),
    ("contactmomenten", contactmoment_body(kanaal="x" * 51), ("kanaal", "max_length")),
    (
        "contactmomenten",
        contactmoment_body(initiatiefnemer="foo"),
        ("initiatiefnemer", "invalid_choice"),
    ),
    (
        "contactmomenten",
        contactmoment_body(interactiedatum="2019-01-01"),
        ("interactiedatum", "invalid"),
    ),
    ("contactmomenten", contactmoment_body(medewerker="/relative/path"), ("medewerker", "invalid")),
    (
        "contactmomenten",
        contactmoment_body(onderwerpLinks=["https://ok.example", "no url"]),
        ("onderwerpLinks.1", "invalid"),
    ),
    (
        "contactmomenten",
        contactmoment_body(onderwerpLinks="https://x.example"),
        ("onderwerpLinks", "not_a_list"),
    ),
    ("contactmomenten", contactmoment_body(tekst=12), ("tekst", "invalid")),
    (
        "contactmomenten",
        contactmoment_body(bronorganisatie="12345678a"),
        ("bronorganisatie", "only-digits"),
    ),
    (
        "contactmomenten",
        contactmoment_body(bronorganisatie="12345678"),
        ("bronorganisatie", "invalid-length"),
    ),
    (
        "contactmomenten",
        contactmoment_body(bronorganisatie="123456789"),
        ("bronorganisatie", "invalid"),
    ),
    (
        "contactmomenten",
        contactmoment_body(medewerkerIdentificatie={"identificatie": "x" * 25}),
        ("medewerkerIdentificatie.identificatie", "max_length"),
    ),
    ("klanten", klant_body(emailadres="geen-email"), ("emailadres", "invalid")),
    ("klanten", klant_body(subject="http://testserver/p/1"), ("subject", "invalid")),
    ("klanten", klant_body(subjectType="persoon"), ("subjectType", "invalid_choice")),
    # The reference's blank choice: "" for an optional choice means unset (§1.2) ...
    ("contactmomenten", contactmoment_body(initiatiefnemer=""), None),
    # ... but a nullable choice says that with null and has no blank.
    (
        "klanten",
        {"subjectType": "", "subject": "https://registers.example/p/1"},
        ("subjectType", "invalid_choice"),
    ),
    ("klanten", klant_body(subjectIdentificatie=None), ("subjectIdentificatie", "null")),
    (
        "klanten",
        klant_body(subjectIdentificatie={"inpANummer": "0123456789"}),
        ("subjectIdentificatie.inpANummer", "a-nummer-incorrect-format"),
    ),
    (
        "klanten",
        klant_body(subjectIdentificatie={"inpBsn": "123456789"}),
        ("subjectIdentificatie.inpBsn", "invalid"),
    ),
    (
        "klanten",
        klant_body(subjectIdentificatie={"geslachtsaanduiding": "x"}),
        ("subjectIdentificatie.geslachtsaanduiding", "invalid_choice"),
    ),
    (
        "klanten",
        klant_body(
            subjectIdentificatie={
                "verblijfsadres": {
                    "aoaIdentificatie": "1",
                    "wplWoonplaatsNaam": "A",
                    "gorOpenbareRuimteNaam": "B",
                    "aoaHuisnummer": 100000,
                }
            }
        ),
        ("subjectIdentificatie.verblijfsadres.aoaHuisnummer", "max_value"),
    ),
    (
        "klanten",
        klant_body(subjectIdentificatie={"verblijfsadres": {"aoaHuisnummer": 1}}),
        ("subjectIdentificatie.verblijfsadres.aoaIdentificatie", "required"),
    ),
    (
        "klanten",
        klant_body(
            subjectIdentificatie={
                "verblijfsadres": {
                    "aoaIdentificatie": "1",
                    "wplWoonplaatsNaam": "A",
                    "gorOpenbareRuimteNaam": "B",
                    "aoaHuisnummer": "1",
                }
            }
        ),
        ("subjectIdentificatie.verblijfsadres.aoaHuisnummer", "invalid"),
    ),
    (
        "klanten",
        {"subjectType": "vestiging", "subjectIdentificatie": {"handelsnaam": ["x" * 626]}},
        ("subjectIdentificatie.handelsnaam.0", "max_length"),
    ),
    (
        "klanten",
        {"subjectType": "niet_natuurlijk_persoon", "subjectIdentificatie": {"innNnpId": "12"}},
        ("subjectIdentificatie.innNnpId", "invalid-length"),
    ),
    ("klanten", {"subjectType": "natuurlijk_persoon"}, ("nonFieldErrors", "invalid-subject")),
    (
        "klanten",
        {"subjectType": "natuurlijk_persoon", "subjectIdentificatie": {}},
        ("nonFieldErrors", "invalid-subject"),
    ),
    (
        "klanten",
        {"subjectType": "vestiging", "subjectIdentificatie": {"inpBsn": "111222333"}},
        ("nonFieldErrors", "invalid-subject"),
    ),
    ("klanten", {"subject": "https://p.example/1", "subjectIdentificatie": {"inpBsn": "1"}}, None),
    ("contactmomenten", {"bronorganisatie": RSIN}, ("nonFieldErrors", "invalid-medewerker")),
    ("verzoeken", verzoek_body(externeIdentificatie="café 1"), ("externeIdentificatie", "invalid")),
    ("verzoeken", verzoek_body(status="nieuw"), ("status", "invalid_choice")),
    ("verzoeken", verzoek_body(identificatie="x" * 41), ("identificatie", "max_length")),
    (
        "verzoeken",
        verzoek_body(
            klant="https://kic.example/api/v1/klanten/00000000-0000-4000-8000-000000000000"
        ),
        ("klant", "does_not_exist"),
    ),
    (
        "verzoeken",
        verzoek_body(
            klant="https://kic.example/api/v1/verzoeken/00000000-0000-4000-8000-000000000000"
        ),
        ("klant", "incorrect_match"),
    ),
    ("verzoeken", verzoek_body(klant="https://kic.example/iets/anders"), ("klant", "no_match")),
    (
        "verzoekproducten",
        {"verzoek": "/api/v1/verzoeken/00000000-0000-4000-8000-000000000000"},
        ("verzoek", "does_not_exist"),
    ),
    ("verzoekcontactmomenten", {}, ("verzoek", "required")),
    ("verzoekcontactmomenten", {"verzoek": None, "contactmoment": ""}, ("verzoek", "null")),
    ("objectcontactmomenten", {"objectType": "besluit"}, ("objectType", "invalid_choice")),
    ("objectverzoeken", {"object": "https://z.example/" + "x" * 200}, ("object", "max_length")),
    (
        "verzoekinformatieobjecten",
        {"informatieobject": "geen url"},
        ("informatieobject", "invalid"),
    ),
]


@pytest.mark.parametrize(("collection", "body", "expected"), CASES)
def test_validation_rule(api, collection, body, expected):
    result = api.call("POST", collection, json=body)
    if expected is None:
        assert result.status_code == 201, result.text
    else:
        assert expected in problems(result)


def test_all_field_errors_are_reported_together(api):
    result = api.call(
        "POST", "contactmomenten", json={"kanaal": "x" * 51, "initiatiefnemer": "foo"}
    )
    assert problems(result) >= {
        ("bronorganisatie", "required"),
        ("kanaal", "max_length"),
        ("initiatiefnemer", "invalid_choice"),
    }


def test_product_rules(api):
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    assert ("nonFieldErrors", "invalid-product") in problems(
        api.call("POST", "verzoekproducten", json={"verzoek": verzoek})
    )
    for identificatie, code in (({"code": ""}, "blank"), ({}, "required"), (None, "null")):
        result = api.call(
            "POST",
            "verzoekproducten",
            json={"verzoek": verzoek, "productIdentificatie": identificatie},
        )
        name = "productIdentificatie" if identificatie is None else "productIdentificatie.code"
        assert (name, code) in problems(result)


def test_subject_type_is_immutable(api):
    klant = api.create("klanten", klant_body())["url"]
    for method in ("PATCH", "PUT"):
        result = api.call(method, path_of(klant), json={"subjectType": "vestiging"})
        assert ("subjectType", "wijzigen-niet-toegelaten") in problems(result)
    same = api.call("PATCH", path_of(klant), json={"subjectType": "natuurlijk_persoon"})
    assert same.status_code == 200


def test_identificatie_is_immutable_and_unique_per_bronorganisatie(api):
    verzoek = api.create("verzoeken", verzoek_body(identificatie="V-1"))["url"]
    result = api.call("PATCH", path_of(verzoek), json={"identificatie": "V-2"})
    assert ("identificatie", "wijzigen-niet-toegelaten") in problems(result)
    duplicate = api.call("POST", "verzoeken", json=verzoek_body(identificatie="V-1"))
    assert ("identificatie", "identificatie-niet-uniek") in problems(duplicate)
    other_org = api.call(
        "POST", "verzoeken", json=verzoek_body(identificatie="V-1", bronorganisatie="423182687")
    )
    assert other_org.status_code == 201


def test_patch_cannot_break_the_either_or_rules(api):
    klant = api.create("klanten", klant_body())["url"]
    result = api.call("PATCH", path_of(klant), json={"subject": ""})
    assert ("nonFieldErrors", "invalid-subject") in problems(result)
    contactmoment = api.create("contactmomenten", contactmoment_body())["url"]
    result = api.call("PATCH", path_of(contactmoment), json={"medewerker": ""})
    assert ("nonFieldErrors", "invalid-medewerker") in problems(result)


def test_put_requires_required_fields_patch_does_not(api):
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    assert ("status", "required") in problems(
        api.call("PUT", path_of(verzoek), json={"bronorganisatie": RSIN})
    )
    assert api.call("PATCH", path_of(verzoek), json={"tekst": "x"}).status_code == 200


def test_verzoekcontactmoment_pair_is_unique_and_swapped_urls_are_incorrect(api):
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    contactmoment = api.create("contactmomenten", contactmoment_body())["url"]
    body = {"verzoek": verzoek, "contactmoment": contactmoment}
    api.create("verzoekcontactmomenten", body)
    assert ("nonFieldErrors", "unique") in problems(
        api.call("POST", "verzoekcontactmomenten", json=body)
    )
    swapped = {"verzoek": contactmoment, "contactmoment": verzoek}
    assert problems(api.call("POST", "verzoekcontactmomenten", json=swapped)) == {
        ("verzoek", "incorrect_match"),
        ("contactmoment", "incorrect_match"),
    }
