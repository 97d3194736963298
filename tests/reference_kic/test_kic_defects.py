"""Each deliberate defect changes exactly the behaviour it names (the correct KIC is the
contrast, covered by the other test modules)."""

from __future__ import annotations

import json

import pytest
from kic_testkit import (
    DRC_CLIENT_ID,
    DRC_SECRET,
    KIC_CLIENTS,
    RSIN,
    DrcDouble,
    Fault,
    contactmoment_body,
    drc_app,
    klant_body,
    make_config,
    path_of,
    uuid_of,
    verzoek_body,
)

from reference_kic.config import DEFECTS, ConfigError, DrcCredential, KicConfig
from reference_kic.defects import TOKEN_VARIANTS, Defects, UnknownDefect, family
from zgw.jwt import bearer
from zgw.serving import serve_in_thread


def _vio(kic, drc, verzoek=None):
    verzoek = verzoek or kic.create("verzoeken", verzoek_body())["url"]
    doc = drc.add_document()
    return kic.call(
        "POST", "verzoekinformatieobjecten", json={"verzoek": verzoek, "informatieobject": doc}
    )


def test_mirror_skipped(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"mirror-skipped"}))
    assert _vio(kic, drc).status_code == 201
    assert drc.received("POST", "objectinformatieobjecten") == []


def test_mirror_wrong_objecttype(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"mirror-wrong-objecttype"}))
    _vio(kic, drc)
    [post] = drc.received("POST", "objectinformatieobjecten")
    assert post.json["objectType"] == "zaak"


def test_mirror_before_commit_is_refused_by_a_strict_drc(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"mirror-before-commit"}))
    response = _vio(kic, drc)
    assert drc.callbacks and drc.callbacks[-1][2] == []  # the call-back did not see the row
    assert response.status_code == 400


def test_delete_mirror_skipped(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"delete-mirror-skipped"}))
    vio = _vio(kic, drc).json()
    assert kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}").status_code == 204
    assert len(drc.mirrors) == 1


def test_delete_wrong_mirror(make_served_kic, drc):
    drc.strict = False
    kic = make_served_kic(defects=frozenset({"delete-wrong-mirror"}))
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    _vio(kic, drc, verzoek)
    second = _vio(kic, drc, verzoek).json()
    assert (
        kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(second['url'])}").status_code == 204
    )
    [listing] = drc.received("GET", "objectinformatieobjecten")
    assert "informatieobject" not in listing.params
    assert [m["informatieobject"] for m in drc.mirrors.values()] == [second["informatieobject"]]


def test_delete_mirror_while_visible_is_refused_by_a_strict_drc(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"delete-mirror-while-visible"}))
    vio = _vio(kic, drc).json()
    response = kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}")
    assert response.status_code == 409
    assert drc.callbacks[-1][2] == [vio]


def test_field_dropped(make_api):
    api = make_api(defects=frozenset({"field-dropped"}))
    created = api.create("verzoeken", verzoek_body(tekst="hallo"))
    assert "tekst" not in created
    assert "tekst" not in api.call("GET", path_of(created["url"])).json


def test_wrong_type(make_api):
    api = make_api(defects=frozenset({"wrong-type"}))
    links = ["https://a.example/1", "https://b.example/2"]
    created = api.create("contactmomenten", contactmoment_body(onderwerpLinks=links))
    assert created["onderwerpLinks"] == ",".join(links)


def test_create_status_200(make_api):
    api = make_api(defects=frozenset({"create-status-200"}))
    assert api.call("POST", "klanten", json=klant_body()).status_code == 200


def test_filter_ignored(make_api):
    api = make_api(defects=frozenset({"filter-ignored"}))
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    other = api.create("verzoeken", verzoek_body())["url"]
    api.create("verzoekproducten", {"verzoek": verzoek, "productIdentificatie": {"code": "A"}})
    api.create("verzoekproducten", {"verzoek": other, "productIdentificatie": {"code": "B"}})
    assert len(api.call("GET", "verzoekproducten", params={"verzoek": verzoek}).json) == 2
    assert api.call("GET", "verzoekproducten", params={"foo": "1"}).status_code == 400


def test_uniqueness_not_enforced(make_api):
    api = make_api(defects=frozenset({"uniqueness-not-enforced"}))
    api.create("verzoeken", verzoek_body(identificatie="V-1"))
    assert api.call("POST", "verzoeken", json=verzoek_body(identificatie="V-1")).status_code == 201
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    contactmoment = api.create("contactmomenten", contactmoment_body())["url"]
    body = {"verzoek": verzoek, "contactmoment": contactmoment}
    api.create("verzoekcontactmomenten", body)
    assert api.call("POST", "verzoekcontactmomenten", json=body).status_code == 201


def test_uniqueness_not_enforced_for_vios(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"uniqueness-not-enforced"}))
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    body = {"verzoek": verzoek, "informatieobject": drc.add_document()}
    kic.create("verzoekinformatieobjecten", body)
    assert kic.call("POST", "verzoekinformatieobjecten", json=body).status_code == 201


def test_etag_missing(make_api):
    api = make_api(defects=frozenset({"etag-missing"}))
    klant = path_of(api.create("klanten", klant_body())["url"])
    result = api.call("GET", klant, headers={"If-None-Match": "*"})
    assert result.status_code == 200 and "ETag" not in result.headers


def test_auth_not_checked(make_api):
    api = make_api(defects=frozenset({"auth-not-checked"}))
    assert api.call("GET", "klanten", client="").status_code == 200


def test_scope_not_enforced(make_api):
    api = make_api(defects=frozenset({"scope-not-enforced"}))
    assert api.call("POST", "klanten", json=klant_body(), client="lezer").status_code == 201
    assert api.call("GET", "klanten", client="").status_code == 403


def test_location_missing(make_api):
    api = make_api(defects=frozenset({"location-missing"}))
    result = api.call("POST", "klanten", json=klant_body())
    assert result.status_code == 201 and "Location" not in result.headers


def test_500_on_bad_input(make_api):
    api = make_api(defects=frozenset({"500-on-bad-input"}))
    assert api.call("POST", "klanten", json={"subject": "https://p.example/1"}).status_code == 500
    malformed = api.call(
        "POST", "verzoeken", body="{x", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 500
    assert api.call("POST", "klanten", json=klant_body()).status_code == 201


def test_validation_422(make_api):
    api = make_api(defects=frozenset({"validation-422"}))
    result = api.call("POST", "verzoeken", json={})
    assert result.status_code == 422
    assert {p["name"] for p in result.json["invalidParams"]} >= {"bronorganisatie", "status"}


def test_parse_error_fout(make_api):
    api = make_api(defects=frozenset({"parse-error-fout"}))
    malformed = api.call("POST", "klanten", body="{x", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json["code"] == "parse_error"
    assert "invalidParams" not in malformed.json


# -- the defects of the must-level checks (invariants, error semantics, semantics) --


def test_content_type_missing(make_api):
    api = make_api(defects=frozenset({"content-type-missing"}))
    klant = path_of(api.create("klanten", klant_body())["url"])
    assert not api.call("GET", klant).headers.get("Content-Type")
    assert api.call("GET", "klanten").headers["Content-Type"] == "application/json"


def test_undocumented_field(make_api):
    api = make_api(defects=frozenset({"undocumented-field"}))
    assert api.create("klanten", klant_body())["bron"] == "reference-kic"
    assert "bron" not in api.create("verzoeken", verzoek_body())


def test_handelsnaam_joined(make_api):
    api = make_api(defects=frozenset({"handelsnaam-joined"}))
    body = {"subjectType": "vestiging", "subjectIdentificatie": {"handelsnaam": ["A", "B"]}}
    assert api.create("klanten", body)["subjectIdentificatie"]["handelsnaam"] == "A,B"


def test_list_url_internal(make_api):
    api = make_api(defects=frozenset({"list-url-internal"}))
    created = api.create("klanten", klant_body())
    [listed] = api.call("GET", "klanten").json
    assert listed["url"].startswith("http://kic.internal/api/v1/klanten/")
    assert created["url"].startswith("http://falconframework.org/api/v1/")


def test_location_internal(make_api):
    api = make_api(defects=frozenset({"location-internal"}))
    result = api.call("POST", "klanten", json=klant_body())
    assert result.headers["Location"] == result.json["url"].replace(
        "http://falconframework.org/api/v1", "http://kic.internal/api/v1"
    )


def test_offset_dropped(make_api):
    api = make_api(defects=frozenset({"offset-dropped"}))
    body = contactmoment_body(interactiedatum="2020-03-01T11:30:00+01:00")
    assert api.create("contactmomenten", body)["interactiedatum"] == "2020-03-01T11:30:00Z"


def test_update_not_saved(make_api):
    api = make_api(defects=frozenset({"update-not-saved"}))
    klant = path_of(api.create("klanten", klant_body(voornaam="Jan"))["url"])
    assert api.call("PATCH", klant, json={"voornaam": "Piet"}).json["voornaam"] == "Piet"
    assert api.call("GET", klant).json["voornaam"] == "Jan"


def test_refused_create_stored(make_api):
    api = make_api(defects=frozenset({"refused-create-stored"}))
    api.create("verzoeken", verzoek_body(identificatie="V-1"))
    assert api.call("POST", "verzoeken", json=verzoek_body(identificatie="V-1")).status_code == 400
    assert len(api.call("GET", "verzoeken").json) == 2


def test_invalid_params_unnamed(make_api):
    api = make_api(defects=frozenset({"invalid-params-unnamed"}))
    result = api.call("POST", "verzoeken", json={"bronorganisatie": RSIN})
    assert result.status_code == 400
    assert {p["name"] for p in result.json["invalidParams"]} == {"nonFieldErrors"}


def test_etag_stale(make_api):
    api = make_api(defects=frozenset({"etag-stale"}))
    klant = path_of(api.create("klanten", klant_body())["url"])
    etag = api.call("GET", klant).headers["ETag"]
    api.call("PATCH", klant, json={"voornaam": "Piet"})
    assert api.call("GET", klant, headers={"If-None-Match": etag}).status_code == 304


def test_filter_inexact(make_api):
    api = make_api(defects=frozenset({"filter-inexact"}))
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    for code in ("ABC", "abc", "XABCX", "DEF"):
        api.create("verzoekproducten", {"verzoek": verzoek, "productIdentificatie": {"code": code}})
    listed = api.call("GET", "verzoekproducten", params={"productIdentificatie__code": "ABC"})
    assert sorted(p["productIdentificatie"]["code"] for p in listed.json) == ["ABC", "XABCX", "abc"]


def test_list_shows_deleted(make_api):
    api = make_api(defects=frozenset({"list-shows-deleted"}))
    klant = api.create("klanten", klant_body())["url"]
    assert api.call("DELETE", path_of(klant)).status_code == 204
    assert api.call("GET", path_of(klant)).status_code == 404
    assert [k["url"] for k in api.call("GET", "klanten").json] == [klant]


def test_patch_forgets_nested(make_api):
    api = make_api(defects=frozenset({"patch-forgets-nested"}))
    identificatie = {"identificatie": "M-1", "achternaam": "Bakker"}
    body = contactmoment_body(medewerkerIdentificatie=identificatie)
    contactmoment = path_of(api.create("contactmomenten", body)["url"])
    patched = api.call("PATCH", contactmoment, json={"kanaal": "chat"}).json
    assert patched["kanaal"] == "chat" and not patched.get("medewerkerIdentificatie")


def test_link_existence_unchecked(make_api):
    api = make_api(defects=frozenset({"link-existence-unchecked"}))
    missing = "http://falconframework.org/api/v1/verzoeken/00000000-0000-4000-8000-000000000000"
    body = {"verzoek": missing, "product": "https://producten.example/p/1"}
    assert api.call("POST", "verzoekproducten", json=body).status_code == 500


def test_subject_rule_on_create_only(make_api):
    api = make_api(defects=frozenset({"subject-rule-on-create-only"}))
    klant = path_of(api.create("klanten", klant_body())["url"])
    patched = api.call("PATCH", klant, json={"subject": ""})
    assert patched.status_code == 200 and patched.json["subject"] == ""
    assert api.call("POST", "klanten", json={"subjectType": "vestiging"}).status_code == 400


# -- the kic-001 holes (issue 13): the scenarios that catch these are in
# tests/harness/test_kic001_holes.py


def _listed(kic, verzoek):
    return kic.call("GET", "verzoekinformatieobjecten", params={"verzoek": verzoek}).json()


def test_mirror_posted_twice(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"mirror-posted-twice"}))
    assert _vio(kic, drc).status_code == 201
    assert len(drc.received("POST", "objectinformatieobjecten")) == 2


def test_drc_before_checks(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"drc-before-checks"}))
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    body = {"verzoek": verzoek, "informatieobject": drc.add_document()}
    refused = kic.http.post("verzoekinformatieobjecten", json=body)  # no token
    assert refused.status_code in (401, 403)
    [post] = drc.received("POST", "objectinformatieobjecten")  # before the token was checked
    assert post.json["informatieobject"] == body["informatieobject"]


def test_cascade_restore_skipped(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"cascade-restore-skipped"}))
    verzoek = kic.create("verzoeken", verzoek_body())["url"]
    assert _vio(kic, drc, verzoek).status_code == 201
    assert _vio(kic, drc, verzoek).status_code == 201
    drc.faults[("DELETE", "mirror")] = Fault(500, skip=1)  # the second mirror delete fails
    assert kic.call("DELETE", f"verzoeken/{uuid_of(verzoek)}").status_code >= 400
    assert len(_listed(kic, verzoek)) == 2  # both relations are shown again ...
    assert len(drc.mirrors) == 1  # ... but the first mirror was not put back


def test_mirror_refusal_ignored(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"mirror-refusal-ignored"}))
    drc.faults[("POST", "mirrors")] = Fault(400)
    created = _vio(kic, drc)
    assert created.status_code == 201
    assert drc.mirrors == {} and len(_listed(kic, created.json()["verzoek"])) == 1


def test_mirror_unanswered_as_success(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"mirror-unanswered-as-success"}), http_timeout=1.0)
    drc.faults[("POST", "mirrors")] = Fault(0)  # no answer until the KIC gave up
    created = _vio(kic, drc)
    assert created.status_code == 201
    assert drc.mirrors == {} and len(_listed(kic, created.json()["verzoek"])) == 1


def test_delete_needs_mirror(make_served_kic, drc):
    kic = make_served_kic(defects=frozenset({"delete-needs-mirror"}))
    vio = _vio(kic, drc).json()
    drc.mirrors.clear()  # gone behind the KIC's back
    assert kic.call("DELETE", f"verzoekinformatieobjecten/{uuid_of(vio['url'])}").status_code == 409
    assert len(_listed(kic, vio["verzoek"])) == 1


def test_mirror_to_first_drc(make_served_kic, drc):
    second = DrcDouble()
    with serve_in_thread(drc_app(second)) as server:
        second.url = server.url
        kic = make_served_kic(
            defects=frozenset({"mirror-to-first-drc"}),
            drc_credentials=[
                DrcCredential(drc.url + "/", DRC_CLIENT_ID, DRC_SECRET),
                DrcCredential(second.url + "/", DRC_CLIENT_ID, DRC_SECRET),
            ],
        )
        verzoek = kic.create("verzoeken", verzoek_body())["url"]
        doc = second.add_document()
        kic.call(
            "POST", "verzoekinformatieobjecten", json={"verzoek": verzoek, "informatieobject": doc}
        )
        second.release.set()
    assert [
        r.json["informatieobject"] for r in drc.received("POST", "objectinformatieobjecten")
    ] == [doc]
    assert second.received("POST", "objectinformatieobjecten") == []


# -- block E: the defects that prove the auth matrix and the rest of the library --

SECRET = KIC_CLIENTS["alles"].secret
#: One Authorization value per kind of wrong token (None: no header at all).
WRONG_TOKENS = {
    "no-token": None,
    "invalid-token": "Bearer this-is-not-a-jwt",
    "alg-none": bearer("alles", SECRET, algorithm="none"),
    "wrong-secret": bearer("alles", SECRET + "-but-wrong"),
    "expired-token": bearer("alles", SECRET, issued_at=1_000_000_000),
    "unknown-client": bearer("nobody", SECRET),
}


@pytest.mark.parametrize("variant", TOKEN_VARIANTS)
def test_accept_token_lets_that_kind_of_wrong_token_through_only(make_api, variant):
    api = make_api(defects=frozenset({f"accept-token:{variant}"}))
    for kind, value in WRONG_TOKENS.items():
        headers = {"Authorization": value} if value else {}
        status = api.call("GET", "klanten", client="", headers=headers).status_code
        assert status == (200 if kind == variant else 403), kind


def test_not_found_500(make_api):
    api = make_api(defects=frozenset({"not-found-500"}))
    unknown = "klanten/3f1c7e7e-0000-4000-8000-000000000000"
    assert api.call("GET", unknown).status_code == 500
    assert api.call("GET", "klanten/not-a-uuid").status_code == 500
    assert api.call("DELETE", unknown).status_code == 500
    assert api.call("GET", "klanten", client="").status_code == 403  # other errors as usual
    assert api.call("POST", "verzoeken", json={}).status_code == 400


def test_unknown_parameters_ignored(make_api):
    api = make_api(defects=frozenset({"unknown-parameters-ignored"}))
    assert api.call("GET", "verzoekproducten", params={"nope": "1"}).status_code == 200
    bad_filter = api.call("GET", "verzoekproducten", params={"verzoek": "no url"})
    assert bad_filter.status_code == 400


def test_unserved_method_404(make_api):
    api = make_api(defects=frozenset({"unserved-method-404"}))
    unknown = "verzoekproducten/3f1c7e7e-0000-4000-8000-000000000000"
    assert api.call("PUT", unknown, json={}).status_code == 404
    assert api.call("PATCH", unknown, json={}).status_code == 404


def test_media_type_ignored(make_api):
    api = make_api(defects=frozenset({"media-type-ignored"}))
    assert api.call("GET", "klanten", headers={"Accept": "application/xml"}).status_code == 200
    text_plain = api.call(
        "POST", "klanten", body=json.dumps(klant_body()), headers={"Content-Type": "text/plain"}
    )
    assert text_plain.status_code == 201


def test_auth_after_write(make_api):
    api = make_api(defects=frozenset({"auth-after-write"}))
    klant = api.create("klanten", klant_body(achternaam="Voor"))
    path = path_of(klant["url"])
    patched = api.call("PATCH", path, json={"achternaam": "Na"}, client="lezer")
    assert patched.status_code == 403
    assert api.call("GET", path).json["achternaam"] == "Na"  # changed all the same
    assert api.call("POST", "klanten", json=klant_body(), client="lezer").status_code == 403
    assert api.call("DELETE", path, client="lezer").status_code == 403
    assert api.call("GET", path).status_code == 404


@pytest.mark.parametrize(
    ("rule", "accepted", "refused"),
    [
        # One code of one field: the other codes of that field are still checked.
        ("bronorganisatie/invalid", "123456789", "12345"),
        # Every code of one field.
        ("bronorganisatie", "12345", None),
        # One code on any field.
        ("/invalid-length", "12345", "123456789"),
    ],
)
def test_unchecked_drops_the_problems_of_one_rule_only(make_api, rule, accepted, refused):
    api = make_api(defects=frozenset({f"unchecked:{rule}"}))
    body = {"bronorganisatie": accepted, "status": "ontvangen"}
    assert api.call("POST", "verzoeken", json=body).status_code == 201
    if refused is not None:
        refusal = api.call("POST", "verzoeken", json={**body, "bronorganisatie": refused})
        assert refusal.status_code == 400
    # Other fields' rules hold.
    refusal = api.call("POST", "verzoeken", json={"bronorganisatie": accepted, "status": "x"})
    assert refusal.status_code == 400
    assert [p["name"] for p in refusal.json["invalidParams"]] == ["status"]


def test_every_defect_has_a_test_here():
    names = {
        name.removeprefix("test_").replace("_", "-")
        for name in globals()
        if name.startswith("test_")
    }
    for defect in DEFECTS:
        family_name = defect.partition(":")[0]  # a family: one test for all its values
        assert any(n.startswith(family_name) for n in names), defect


def test_unknown_defect_is_a_config_error_listing_the_valid_ones(tmp_path):
    with pytest.raises(ConfigError) as raised:
        make_config(tmp_path, defects=frozenset({"no-such-defect"}))
    assert "no-such-defect" in str(raised.value) and "mirror-skipped" in str(raised.value)
    with pytest.raises(ConfigError, match="KIC_DEFECTS"):
        KicConfig.from_env({"KIC_DB": str(tmp_path / "x.db"), "KIC_DEFECTS": "mirror-skipped,oops"})


def test_each_defect_name_switches_on_its_own_attribute_only():
    attributes = {declared.attribute for declared in Defects.declared.values()}
    assert len(attributes) == len(DEFECTS)
    for label in DEFECTS:
        name = label.partition(":")[0]
        declared = Defects.declared[name]
        # A family is switched on by one of its values: ``accept-token:alg-none``.
        given = name
        if declared.takes_parameter:  # any value for a family without choices: ``unchecked``
            choices = declared.choices
            given += ":" + (sorted(choices())[0] if choices else "status/required")
        defects = Defects({given})
        on = [attribute for attribute in attributes if getattr(defects, attribute)]
        assert on == [declared.attribute], label
    assert not any(getattr(Defects(), attribute) for attribute in attributes)


def test_a_defect_family_takes_one_defect_per_parameter():
    class WithFamily(Defects):
        skipped_rules: frozenset[str] = family(
            "skip-rule",
            "RULE",
            "skip the rule RULE",
            lambda: {"invalid-subject", "invalid-product"},
        )

    defects = WithFamily({"skip-rule:invalid-subject", " etag-missing "})
    assert defects.skipped_rules == {"invalid-subject"} and defects.etag_missing
    assert defects == {"skip-rule:invalid-subject", "etag-missing"}
    assert "skip-rule:RULE" in WithFamily.described() and "skip-rule:RULE" not in DEFECTS
    with pytest.raises(UnknownDefect, match="invalid-product, invalid-subject"):
        WithFamily({"skip-rule:no-such-rule"})
    for wrong in ("skip-rule", "etag-missing:x"):
        with pytest.raises(UnknownDefect, match=f"unknown defect\\(s\\) {wrong};"):
            WithFamily({wrong})
    with pytest.raises(UnknownDefect):
        Defects({"skip-rule:invalid-subject"})  # only where the family is declared
