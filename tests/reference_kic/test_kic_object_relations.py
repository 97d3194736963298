"""objectcontactmomenten / objectverzoeken: the KIC checks the zaak's API (the double)."""

from __future__ import annotations

import pytest
from kic_testkit import DrcDouble, Fault, ServedKic, contactmoment_body, uuid_of, verzoek_body

KINDS = [
    ("objectcontactmomenten", "contactmoment", "contactmomenten", "zaakcontactmomenten"),
    ("objectverzoeken", "verzoek", "verzoeken", "zaakverzoeken"),
]


def _own(kic: ServedKic, collection: str) -> str:
    body = contactmoment_body() if collection == "contactmomenten" else verzoek_body()
    return kic.create(collection, body)["url"]


@pytest.mark.parametrize(("collection", "own_field", "own_collection", "remote"), KINDS)
def test_create_list_read_delete(
    kic, drc: DrcDouble, collection, own_field, own_collection, remote
):
    own = _own(kic, own_collection)
    zaak = drc.zaak()
    drc.zaak_relations = [{"url": "https://zrc.example/r/1"}]
    created = kic.create(collection, {own_field: own, "object": zaak, "objectType": "zaak"})
    assert created == {"url": created["url"], own_field: own, "object": zaak, "objectType": "zaak"}
    [lookup] = drc.received("GET", remote)
    assert lookup.params == {"zaak": zaak, own_field: own}
    [fetch] = drc.received("GET", "/zaken/api/v1/zaken/")
    assert fetch.path.endswith(uuid_of(zaak))
    assert kic.call("GET", collection, params={"object": zaak}).json() == [created]
    assert kic.call("GET", collection, params={own_field: own}).json() == [created]
    assert kic.call("GET", f"{collection}/{uuid_of(created['url'])}").json() == created

    refused = kic.call("DELETE", f"{collection}/{uuid_of(created['url'])}")
    assert refused.status_code == 400
    assert refused.json()["invalidParams"][0]["code"] == "remote-relation-exists"
    drc.zaak_relations = []
    assert kic.call("DELETE", f"{collection}/{uuid_of(created['url'])}").status_code == 204


@pytest.mark.parametrize(("collection", "own_field", "own_collection", "remote"), KINDS)
def test_create_refused_without_the_remote_relation(
    kic, drc, collection, own_field, own_collection, remote
):
    body = {own_field: _own(kic, own_collection), "object": drc.zaak(), "objectType": "zaak"}
    result = kic.call("POST", collection, json=body)
    assert result.status_code == 400
    assert result.json()["invalidParams"][0]["code"] == "inconsistent-relation"
    assert kic.call("GET", collection).json() == []


def test_duplicate_pair_is_unique_not_500(kic, drc):
    drc.zaak_relations = [{"url": "https://zrc.example/r/1"}]
    body = {"verzoek": _own(kic, "verzoeken"), "object": drc.zaak(), "objectType": "zaak"}
    kic.create("objectverzoeken", body)
    result = kic.call("POST", "objectverzoeken", json=body)
    assert result.status_code == 400
    assert result.json()["invalidParams"][0]["code"] == "unique"


@pytest.mark.parametrize(
    ("status", "code"), [(404, "relation-validation-error"), (500, "remote-unavailable")]
)
def test_remote_lookup_failures_on_create_are_400(kic, drc, status, code):
    drc.faults[("GET", "zaakrelations")] = Fault(status)
    body = {"verzoek": _own(kic, "verzoeken"), "object": drc.zaak(), "objectType": "zaak"}
    result = kic.call("POST", "objectverzoeken", json=body)
    assert result.status_code == 400
    assert result.json()["invalidParams"][0]["code"] == code


def test_remote_lookup_failure_on_delete_is_400_and_keeps_the_row(kic, drc):
    drc.zaak_relations = [{"url": "https://zrc.example/r/1"}]
    body = {"verzoek": _own(kic, "verzoeken"), "object": drc.zaak(), "objectType": "zaak"}
    created = kic.create("objectverzoeken", body)
    drc.faults[("GET", "zaakrelations")] = Fault(403)
    result = kic.call("DELETE", f"objectverzoeken/{uuid_of(created['url'])}")
    assert result.status_code == 400
    assert result.json()["invalidParams"][0]["code"] == "relation-lookup-error"
    assert kic.call("GET", "objectverzoeken").json() == [created]


@pytest.mark.parametrize(
    ("object_url", "code"),
    [
        ("http://127.0.0.1:9/zaken/api/v1/zaken/00000000-0000-4000-8000-000000000000", "bad-url"),
        ("DRC/documenten/api/v1/nergens", "bad-url"),
        ("DRC/documenten/api/v1/objectinformatieobjecten", "invalid-resource"),
        ("DRC/documenten/api/v1/enkelvoudiginformatieobjecten/DOC", "invalid-resource"),
    ],
)
def test_object_must_be_a_fetchable_zaak(kic, drc, object_url, code):
    doc = drc.add_document()
    object_url = object_url.replace("DRC", drc.url).replace("DOC", uuid_of(doc))
    body = {"verzoek": _own(kic, "verzoeken"), "object": object_url, "objectType": "zaak"}
    result = kic.call("POST", "objectverzoeken", json=body)
    assert result.status_code == 400
    assert (
        result.json()["invalidParams"][0]["name"],
        result.json()["invalidParams"][0]["code"],
    ) == (
        "object",
        code,
    )


def test_cascaded_delete_skips_the_remote_check(kic, drc):
    drc.zaak_relations = [{"url": "https://zrc.example/r/1"}]
    verzoek = _own(kic, "verzoeken")
    kic.create("objectverzoeken", {"verzoek": verzoek, "object": drc.zaak(), "objectType": "zaak"})
    assert kic.call("DELETE", f"verzoeken/{uuid_of(verzoek)}").status_code == 204
    assert kic.call("GET", "objectverzoeken").json() == []
