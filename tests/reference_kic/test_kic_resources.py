"""Every operation of the eight resources: create, read, list, update, delete, cascades."""

from __future__ import annotations

import re

import pytest
from kic_testkit import (
    RSIN,
    contactmoment_body,
    klant_body,
    path_of,
    uuid_of,
    verzoek_body,
)

KLANT_KEYS = [
    "url",
    "voornaam",
    "achternaam",
    "adres",
    "telefoonnummer",
    "emailadres",
    "functie",
    "subject",
    "subjectType",
    "subjectIdentificatie",
]
ADRES = {
    "aoaIdentificatie": "0363200000000001",
    "wplWoonplaatsNaam": "Amsterdam",
    "gorOpenbareRuimteNaam": "Dam",
    "aoaHuisnummer": 1,
}


def test_klant_create_read_list_and_delete(api):
    created = api.create("klanten", klant_body(voornaam="Jan", emailadres="jan@example.nl"))
    # without an identificatie the key is left out (null is not a valid NatuurlijkPersoon)
    assert list(created) == [k for k in KLANT_KEYS if k != "subjectIdentificatie"]
    result = api.call("GET", path_of(created["url"]))
    assert result.status_code == 200 and result.json == created
    assert api.call("GET", "klanten").json == [created]
    assert api.call("DELETE", path_of(created["url"])).status_code == 204
    assert api.call("GET", path_of(created["url"])).status_code == 404


def test_create_answers_201_with_location_and_url_from_the_host(make_api):
    api = make_api(allowed_hosts=("kic.example.nl",))
    result = api.call("POST", "klanten", json=klant_body(), headers={"Host": "kic.example.nl"})
    assert result.status_code == 201
    assert re.fullmatch(r"http://kic\.example\.nl/api/v1/klanten/[0-9a-f-]{36}", result.json["url"])
    assert result.headers["Location"] == result.json["url"]


def test_public_base_url_is_used_for_urls(make_api):
    api = make_api(public_base_url="https://kic.example/klantinteracties/api/v1/")
    created = api.create("klanten", klant_body())
    assert created["url"].startswith("https://kic.example/klantinteracties/api/v1/klanten/")


@pytest.mark.parametrize(
    ("subject_type", "identificatie"),
    [
        (
            "natuurlijk_persoon",
            {
                "inpBsn": "111222333",
                "inpANummer": "1234567890",
                "geslachtsaanduiding": "v",
                "verblijfsadres": ADRES,
                "subVerblijfBuitenland": {"lndLandcode": "NL", "lndLandnaam": "Nederland"},
            },
        ),
        (
            "niet_natuurlijk_persoon",
            {"innNnpId": "314273268", "innRechtsvorm": "europese_cooperatieve_venootschap"},
        ),
        ("vestiging", {"vestigingsNummer": "1", "handelsnaam": ["WB"], "verblijfsadres": ADRES}),
    ],
)
def test_klant_subject_identificatie_per_type(api, subject_type, identificatie):
    created = api.create(
        "klanten", {"subjectType": subject_type, "subjectIdentificatie": identificatie}
    )
    stored = created["subjectIdentificatie"]
    for key, value in identificatie.items():
        if isinstance(value, dict):
            assert stored[key].items() >= value.items()
        else:
            assert stored[key] == value
    # string fields not given are rendered blank; unset sub-objects and enums are left out
    assert all(
        stored[key] == "" for key in ("anpIdentificatie", "annIdentificatie") if key in stored
    )
    assert None not in stored.values()


def test_klant_without_type_has_no_identificatie_key(api):
    created = api.create("klanten", {"subjectType": None, "subject": "https://p.example/1"})
    assert "subjectIdentificatie" not in created
    assert created["subjectType"] is None


def test_klant_patch_updates_identificatie_field_by_field(api):
    created = api.create(
        "klanten",
        {
            "subjectType": "natuurlijk_persoon",
            "subjectIdentificatie": {"voornamen": "A", "geslachtsnaam": "B"},
        },
    )
    result = api.call(
        "PATCH", path_of(created["url"]), json={"subjectIdentificatie": {"voornamen": "C"}}
    )
    assert result.status_code == 200
    assert result.json["subjectIdentificatie"]["voornamen"] == "C"
    assert result.json["subjectIdentificatie"]["geslachtsnaam"] == "B"


def test_klant_put_replaces_given_fields(api):
    created = api.create("klanten", klant_body(voornaam="Jan"))
    body = {k: v for k, v in created.items() if k not in ("url", "subjectIdentificatie")}
    body["voornaam"] = "Piet"
    result = api.call("PUT", path_of(created["url"]), json=body)
    assert result.status_code == 200 and result.json["voornaam"] == "Piet"
    assert api.call("GET", path_of(created["url"])).json["voornaam"] == "Piet"


def test_contactmoment_defaults_and_update(api):
    created = api.create("contactmomenten", contactmoment_body())
    assert list(created)[:3] == ["url", "bronorganisatie", "klant"]
    assert created["onderwerpLinks"] == [] and created["medewerkerIdentificatie"] is None
    assert created["klant"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", created["interactiedatum"])
    klant = api.create("klanten", klant_body())["url"]
    result = api.call("PATCH", path_of(created["url"]), json={"klant": path_of(klant)})
    assert result.status_code == 200 and result.json["klant"] == klant


def test_contactmoment_medewerker_identificatie_and_offsets(api):
    created = api.create(
        "contactmomenten",
        {
            "bronorganisatie": RSIN,
            "medewerkerIdentificatie": {"achternaam": "Jansen"},
            "interactiedatum": "2019-05-05T10:00:00+02:00",
        },
    )
    assert created["interactiedatum"] == "2019-05-05T08:00:00Z"
    assert created["medewerkerIdentificatie"] == {
        "identificatie": "",
        "achternaam": "Jansen",
        "voorletters": "",
        "voorvoegselAchternaam": "",
    }
    result = api.call("PATCH", path_of(created["url"]), json={"medewerkerIdentificatie": None})
    assert result.json["medewerkerIdentificatie"]["achternaam"] == "Jansen"


def test_verzoek_identificatie_is_generated_per_year_of_interactiedatum(api):
    first = api.create("verzoeken", verzoek_body(interactiedatum="2019-01-01T00:00:00Z"))
    assert first["identificatie"] == "VERZOEK-2019-0000000001"
    api.create("verzoeken", verzoek_body(identificatie="VERZOEK-2019-0000000500"))
    other_org = api.create(
        "verzoeken",
        verzoek_body(bronorganisatie="423182687", interactiedatum="2019-06-01T00:00:00Z"),
    )
    assert other_org["identificatie"] == "VERZOEK-2019-0000000501"
    assert list(first) == [
        "url",
        "identificatie",
        "bronorganisatie",
        "externeIdentificatie",
        "klant",
        "interactiedatum",
        "voorkeurskanaal",
        "tekst",
        "status",
    ]


def test_verzoek_update_keeps_identificatie(api):
    created = api.create("verzoeken", verzoek_body())
    result = api.call(
        "PUT", path_of(created["url"]), json=verzoek_body(status="afgehandeld", identificatie="")
    )
    assert result.status_code == 200
    assert result.json["identificatie"] == created["identificatie"]
    assert result.json["status"] == "afgehandeld"


def test_verzoekcontactmoment_and_verzoekproduct_round_trip(api):
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    contactmoment = api.create("contactmomenten", contactmoment_body())["url"]
    vcm = api.create("verzoekcontactmomenten", {"verzoek": verzoek, "contactmoment": contactmoment})
    assert vcm == {"url": vcm["url"], "contactmoment": contactmoment, "verzoek": verzoek}
    product = api.create(
        "verzoekproducten", {"verzoek": verzoek, "product": "https://producten.example/p/1"}
    )
    assert "productIdentificatie" not in product  # {"code": ""} would break minLength 1
    coded = api.create(
        "verzoekproducten", {"verzoek": verzoek, "productIdentificatie": {"code": "X"}}
    )
    assert coded["product"] == "" and coded["productIdentificatie"] == {"code": "X"}
    for item in (vcm, product, coded):
        assert api.call("GET", path_of(item["url"])).json == item
        assert api.call("DELETE", path_of(item["url"])).status_code == 204


@pytest.mark.parametrize(
    "collection",
    [
        "objectcontactmomenten",
        "objectverzoeken",
        "verzoekinformatieobjecten",
        "verzoekcontactmomenten",
        "verzoekproducten",
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_relation_resources_refuse_updates_with_405_before_auth(api, collection, method):
    result = api.call(method, f"{collection}/{'1' * 8}-1111-4111-8111-{'1' * 12}", client="")
    assert result.status_code == 405
    assert result.json["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path",
    [
        "klanten/not-a-uuid",
        "klanten/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "verzoekproducten/123",
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
def test_unknown_or_malformed_uuid_is_404(api, path, method):
    if method == "PATCH" and path.startswith("verzoekproducten"):
        return
    result = api.call(method, path, json={})
    assert result.status_code == 404 and result.json["code"] == "not_found"


def test_deleting_a_verzoek_cascades_to_its_relations(api):
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    contactmoment = api.create("contactmomenten", contactmoment_body())["url"]
    api.create("verzoekcontactmomenten", {"verzoek": verzoek, "contactmoment": contactmoment})
    api.create("verzoekproducten", {"verzoek": verzoek, "productIdentificatie": {"code": "X"}})
    assert api.call("DELETE", path_of(verzoek)).status_code == 204
    assert api.call("GET", "verzoekcontactmomenten").json == []
    assert api.call("GET", "verzoekproducten").json == []
    assert api.call("GET", path_of(contactmoment)).status_code == 200


def test_deleting_a_klant_cascades_to_contactmomenten_and_verzoeken(api):
    klant = api.create("klanten", klant_body())["url"]
    contactmoment = api.create("contactmomenten", contactmoment_body(klant=klant))["url"]
    verzoek = api.create("verzoeken", verzoek_body(klant=klant))["url"]
    api.create("verzoekcontactmomenten", {"verzoek": verzoek, "contactmoment": contactmoment})
    assert api.call("DELETE", path_of(klant)).status_code == 204
    for url in (contactmoment, verzoek):
        assert api.call("GET", path_of(url)).status_code == 404
    assert api.call("GET", "verzoekcontactmomenten").json == []


def test_unknown_fields_and_url_are_ignored(api):
    created = api.create("klanten", klant_body(foo="bar", url="http://evil.example/x", uuid="y"))
    assert "foo" not in created and "evil" not in created["url"]


def test_local_links_may_name_any_host(api):
    klant = api.create("klanten", klant_body())["url"]
    elsewhere = "https://elders.nl/api/v1/klanten/" + uuid_of(klant)
    created = api.create("verzoeken", verzoek_body(klant=elsewhere))
    assert created["klant"] == klant


def test_main_lists_ignore_unknown_parameters(api):
    api.create("klanten", klant_body())
    result = api.call("GET", "klanten", params={"foo": "bar", "page": "2"})
    assert result.status_code == 200 and len(result.json) == 1


def test_contactmoment_put_and_delete(api):
    created = api.create("contactmomenten", contactmoment_body(kanaal="telefoon"))
    body = contactmoment_body(kanaal="email", tekst="bijgewerkt")
    result = api.call("PUT", path_of(created["url"]), json=body)
    assert result.status_code == 200
    assert (result.json["kanaal"], result.json["tekst"]) == ("email", "bijgewerkt")
    assert result.json["interactiedatum"] == created["interactiedatum"]
    assert api.call("DELETE", path_of(created["url"])).status_code == 204
    assert api.call("GET", "contactmomenten").json == []
