"""HTTP conventions: ETag/304, API-version, 406/415, error bodies, the root and the spec,
and robustness: no input produces a 500."""

from __future__ import annotations

import json

import pytest
import yaml
from kic_testkit import RSIN, contactmoment_body, klant_body, path_of, verzoek_body


def test_detail_get_has_an_etag_and_if_none_match_gives_304(api):
    klant = path_of(api.create("klanten", klant_body())["url"])
    first = api.call("GET", klant)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = api.call("GET", klant, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.text == ""
    assert again.headers["ETag"] == etag
    weak_list = api.call("GET", klant, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak_list.status_code == 304
    assert api.call("GET", klant, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_when_the_resource_changes(api):
    klant = path_of(api.create("klanten", klant_body())["url"])
    before = api.call("GET", klant).headers["ETag"]
    api.call("PATCH", klant, json={"voornaam": "Nieuw"})
    after = api.call("GET", klant)
    assert after.headers["ETag"] != before
    assert api.call("GET", klant, headers={"If-None-Match": before}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "klanten"), ("POST", "klanten"), ("GET", "nergens"), ("PUT", "verzoekproducten/x")],
)
def test_api_version_header_on_every_response(api, method, path):
    result = api.call(method, path, json=klant_body())
    assert result.headers["API-version"] == "1.0.0-rc1"


def test_non_json_accept_is_406(api):
    result = api.call("GET", "klanten", headers={"Accept": "application/xml"})
    assert result.status_code == 406 and result.json["code"] == "not_acceptable"


def test_non_json_body_is_415(api):
    result = api.call(
        "POST",
        "klanten",
        body="voornaam=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert result.status_code == 415 and result.json["code"] == "unsupported_media_type"


def test_fout_body_shape(api):
    result = api.call("GET", "klanten/00000000-0000-4000-8000-000000000000")
    assert list(result.json) == ["type", "code", "title", "status", "detail", "instance"]
    assert result.json["status"] == 404 and result.json["instance"].startswith("urn:uuid:")


def test_trailing_slash_is_not_routed(api):
    assert api.call("GET", "klanten/").status_code == 404


def test_root_maps_the_eight_collections(make_api):
    api = make_api(allowed_hosts=("kic.example",))
    result = api.call("GET", "/api/v1/", headers={"Host": "kic.example"})
    assert len(result.json) == 8
    assert result.json["verzoekinformatieobjecten"] == (
        "http://kic.example/api/v1/verzoekinformatieobjecten"
    )


def test_schema_is_served_with_an_absolute_servers_url(make_api):
    api = make_api(allowed_hosts=("kic.example",))
    result = api.call("GET", "/api/v1/schema/openapi.yaml", headers={"Host": "kic.example"})
    spec = yaml.safe_load(result.text)
    assert spec["servers"] == [{"url": "http://kic.example/api/v1"}]
    assert "/klanten" in spec["paths"]
    as_json = api.call("GET", "/api/v1/schema/openapi.json")
    assert json.loads(as_json.text)["paths"].keys() == spec["paths"].keys()


BAD_BODIES = [
    b"{not json",
    b"[1, 2]",
    b"null",
    b'"text"',
    b"12",
    b"[" * 100_000 + b"]" * 100_000,
    json.dumps({"voornaam": "x" * 1_000_000, "subjectType": "natuurlijk_persoon"}).encode(),
    json.dumps({"subjectType": 5, "subjectIdentificatie": [1], "subject": {"a": 1}}).encode(),
    json.dumps({"subjectType": "vestiging", "subjectIdentificatie": "x"}).encode(),
    json.dumps(
        {"subjectType": "vestiging", "subjectIdentificatie": {"handelsnaam": None}}
    ).encode(),
    b"\xff\xfe",
    b"",
]


@pytest.mark.parametrize("body", BAD_BODIES)
@pytest.mark.parametrize(
    "collection",
    [
        "klanten",
        "contactmomenten",
        "verzoeken",
        "objectcontactmomenten",
        "verzoekinformatieobjecten",
        "verzoekproducten",
    ],
)
def test_bad_bodies_never_cause_a_500(api, collection, body):
    result = api.call("POST", collection, body=body, headers={"Content-Type": "application/json"})
    assert 400 <= result.status_code < 500, result.text
    assert result.json["status"] == result.status_code


@pytest.mark.parametrize("body", [b'{"subjectType": ', b"", b"\xff\xfe"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_an_unparsable_body_is_a_validatiefout_with_the_references_code(api, method, body):
    path = "klanten" if method == "POST" else path_of(api.create("klanten", klant_body())["url"])
    result = api.call(method, path, body=body, headers={"Content-Type": "application/json"})
    assert result.status_code == 400, result.text
    assert result.json["code"] == "parse_error"
    [param] = result.json["invalidParams"]  # the spec's ValidatieFout; the reference omits it
    assert (param["name"], param["code"]) == ("nonFieldErrors", "parse_error") and param["reason"]


@pytest.mark.parametrize(
    "body",
    [
        {"bronorganisatie": None, "status": None, "klant": None, "interactiedatum": None},
        {"bronorganisatie": 123456789, "status": ["ontvangen"], "tekst": {"a": 1}},
        {"bronorganisatie": True, "status": "ontvangen", "interactiedatum": "9999-99-99T00:00"},
        {"bronorganisatie": RSIN, "status": "ontvangen", "klant": 12},
        {
            "bronorganisatie": RSIN,
            "status": "ontvangen",
            "interactiedatum": "0001-01-01T00:00+01:00",
        },
        {"bronorganisatie": RSIN, "status": "ontvangen", "interactiedatum": "2019-02-30T00:00:00Z"},
    ],
)
def test_wrong_types_and_nulls_are_400(api, body):
    result = api.call("POST", "verzoeken", json=body)
    assert result.status_code == 400, result.text


def test_early_years_are_rendered_with_four_digits(api):
    created = api.create("verzoeken", verzoek_body(interactiedatum="0999-01-01T00:00:00Z"))
    assert created["interactiedatum"] == "0999-01-01T00:00:00Z"
    assert created["identificatie"] == "VERZOEK-0999-0000000001"


def test_updates_with_bad_bodies_are_400(api):
    contactmoment = path_of(api.create("contactmomenten", contactmoment_body())["url"])
    for body in ([1], None, {"onderwerpLinks": [None]}, {"medewerkerIdentificatie": "x"}):
        result = api.call("PATCH", contactmoment, json=body)
        assert result.status_code == 400, (body, result.text)


@pytest.mark.parametrize(
    "params",
    [
        {"verzoek": ""},
        {"verzoek": "x" * 20_000},
        {"verzoek": "http://[::1"},
        {"informatieobject": "http://\u00e9\u00e9n.example/%zz"},
        {"productIdentificatie__code": "\x00"},
    ],
)
def test_bad_query_parameters_never_cause_a_500(api, params):
    for collection in ("verzoekinformatieobjecten", "verzoekproducten"):
        result = api.call("GET", collection, params=params)
        assert result.status_code in (200, 400), result.text


def test_verzoek_identificatie_stays_unique_under_concurrency(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from kic_testkit import Api, make_config

    from reference_kic.app import create_app

    config = make_config(tmp_path)
    apps = [Api(create_app(config)) for _ in range(3)]  # as three workers on one file
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(
                lambda i: apps[i % 3].call("POST", "verzoeken", json=verzoek_body()), range(30)
            )
        )
    identificaties = [r.json["identificatie"] for r in results]
    assert all(r.status_code == 201 for r in results)
    assert len(set(identificaties)) == 30
