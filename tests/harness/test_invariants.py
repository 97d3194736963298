"""The rules behind the invariant checks, and the runner and matcher fixes that came with them.

That each invariant fails on a KIC breaking its rule (and passes on the correct one) is shown in
test_broken_kics.py; here are the comparison rules themselves (harness/compare.py), the
``!not_contains`` and ``!not`` matchers, ``not_received`` on item paths, and a capability found
missing mid-scenario not hiding a failure.
"""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from harness import checks, matchers
from harness.compare import Schemas, instant, normalise_url, under
from harness.drc_control import documents_path
from harness.results import Level, Outcome
from harness.runner import run_scenario
from harness.scenarios import load_library
from harness.spec import load_spec
from harness.templating import placeholders, render
from harness.yamlload import load

API = {"API-version": "1.0.0-rc1"}


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(load_spec())


def _schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# --------------------------------------------------------------------------- values


def test_urls_compare_normalised() -> None:
    assert normalise_url("HTTP://KIC.Example:80/api/v1/klanten/x") == (
        "http://kic.example/api/v1/klanten/x"
    )
    assert normalise_url("https://kic.example:443") == "https://kic.example/"
    assert normalise_url("https://kic.example:8443/a") == "https://kic.example:8443/a"
    assert normalise_url("https://kic.example/A") != normalise_url("https://kic.example/a")


def test_under_the_api_root_means_below_it_not_beside_it() -> None:
    root = "http://kic.example/api/v1"
    assert under("HTTP://kic.example:80/api/v1/klanten/1", root)
    assert not under("http://kic.example/api/v10/klanten/1", root)
    assert not under("http://kic.internal/api/v1/klanten/1", root)


def test_date_times_compare_as_instants() -> None:
    assert instant("2020-03-01T11:30:00+01:00") == instant("2020-03-01T10:30:00Z")
    assert instant("2020-03-01T10:30:00.1234567Z") == instant("2020-03-01T10:30:00.123456+00:00")
    assert instant("2020-03-01T10:30:00") == instant("2020-03-01T10:30:00Z")  # naive is UTC
    assert instant("2020-03-01") is None and instant("gisteren") is None


# --------------------------------------------------------------------------- carried values


def test_a_write_answer_carries_what_was_sent_by_rule(schemas) -> None:
    sent = {
        "bronorganisatie": "000000000",
        "interactiedatum": "2020-03-01T11:30:00+01:00",
        "medewerker": "HTTPS://Medewerkers.example.com:443/m/1",
        "kanaal": " balie ",
        "initiatiefnemer": "",
        "onderwerpLinks": ["https://zaken.example.com/z/1"],
        "url": "https://elsewhere.example.com/ignored",  # read-only
        "nietInHetSchema": 1,  # outside the schema: dropped by a KIC
        "medewerkerIdentificatie": {"achternaam": "Bakker"},
    }
    answer = {
        "url": "http://kic/api/v1/contactmomenten/1",
        "bronorganisatie": "000000000",
        "interactiedatum": "2020-03-01T10:30:00Z",
        "medewerker": "https://medewerkers.example.com/m/1",
        "kanaal": "balie",
        "onderwerpLinks": ["https://zaken.example.com/z/1"],
        "medewerkerIdentificatie": {"achternaam": "Bakker", "voorletters": ""},
    }
    problems, compared = schemas.carried(sent, answer, _schema("ContactMoment"))
    assert problems == [] and compared == 6


def test_a_changed_value_is_not_carried(schemas) -> None:
    sent = {"interactiedatum": "2020-03-01T11:30:00+01:00", "onderwerpLinks": ["https://a.nl/1"]}
    answer = {"interactiedatum": "2020-03-01T11:30:00Z", "onderwerpLinks": []}
    problems, _ = schemas.carried(sent, answer, _schema("ContactMoment"))
    assert [p.split(":")[0] for p in problems] == ["$.interactiedatum", "$.onderwerpLinks"]


def test_null_for_a_sub_object_is_not_compared_but_null_for_text_is(schemas) -> None:
    schema = _schema("ContactMoment")
    kept = {"medewerkerIdentificatie": {"achternaam": "Bakker"}, "klant": None}
    assert schemas.carried({"medewerkerIdentificatie": None}, kept, schema)[0] == []
    assert schemas.carried({"klant": None}, kept, schema)[0] == []
    assert schemas.carried({"klant": None}, {"klant": "http://kic/k/1"}, schema)[0] != []


def test_subject_identificatie_is_compared_by_the_schema_of_its_subject_type(schemas) -> None:
    sent = {"subjectType": "vestiging", "subjectIdentificatie": {"handelsnaam": ["A", "B"]}}
    joined = {"subjectType": "vestiging", "subjectIdentificatie": {"handelsnaam": "A,B"}}
    assert schemas.carried(sent, joined, _schema("Klant"))[0] != []
    assert schemas.carried(sent, sent, _schema("Klant"))[0] == []


# --------------------------------------------------------------------------- schemas


def test_undocumented_properties_are_found_at_any_depth(schemas) -> None:
    klant = {
        "url": "http://kic/api/v1/klanten/1",
        "subjectType": "natuurlijk_persoon",
        "subjectIdentificatie": {"inpBsn": "111222333", "kvkNummer": "1"},
        "bron": "x",
    }
    found = schemas.undocumented({"type": "array", "items": _schema("Klant")}, [klant])
    assert found == ["$[0].subjectIdentificatie.kvkNummer", "$[0].bron"]
    # without a subjectType there is no subjectIdentificatie in the schema
    assert schemas.undocumented(_schema("Klant"), {"subjectIdentificatie": {}}) == [
        "$.subjectIdentificatie"
    ]


def test_the_error_bodies_define_their_title(schemas) -> None:
    fout = {"type": "t", "code": "c", "title": "T", "status": 404, "detail": "d", "instance": "i"}
    assert schemas.undocumented(_schema("Fout"), fout) == []
    assert schemas.undocumented(_schema("ValidatieFout"), {**fout, "invalidParams": []}) == []


def test_the_variant_of_a_klant_is_named_by_its_subject_type(schemas) -> None:
    klant = {"subjectType": "vestiging", "subjectIdentificatie": {"handelsnaam": "A,B"}}
    [(path, name, part, instance)] = list(schemas.variant_parts(_schema("Klant"), klant))
    assert (path, name, instance) == ("$", "vestiging", klant)
    assert load_spec().validate_schema(part, klant) != []


def test_own_links_are_the_fields_named_after_a_collection_s_items(schemas) -> None:
    fields = schemas.own_link_fields
    assert fields == {
        "klant": "/klanten",
        "contactmoment": "/contactmomenten",
        "verzoek": "/verzoeken",
        "objectcontactmoment": "/objectcontactmomenten",
        "objectverzoek": "/objectverzoeken",
        "verzoekinformatieobject": "/verzoekinformatieobjecten",
        "verzoekcontactmoment": "/verzoekcontactmomenten",
        "verzoekproduct": "/verzoekproducten",
    }
    body = [{"url": "u1", "verzoek": "v1", "object": "o1", "product": "p1"}]
    assert list(schemas.links(body)) == [("$[0].url", "u1"), ("$[0].verzoek", "v1")]


# --------------------------------------------------------------------------- refused writes


def test_a_refused_post_is_judged_only_with_a_value_no_other_scenario_sends() -> None:
    spec, root = load_spec(), "http://kic/api/v1"
    url = f"{root}/verzoekcontactmomenten"

    def probe(body: dict, unique: str = "abc123") -> tuple[str, bool] | None:
        data = {"body": body, "expect": {"status": 400}}
        return checks.probe_url("POST", url, data, spec, root, unique)

    assert probe({"verzoek": f"{root}/verzoeken/1", "contactmoment": "x"}) == (
        f"{url}?verzoek=http%3A%2F%2Fkic%2Fapi%2Fv1%2Fverzoeken%2F1",
        True,
    )
    assert probe({"verzoek": "https://other/1"}) is None
    assert probe({"tekst": "tekst-abc123"}) == (url, True)
    patch = {"body": {}, "expect": {"status": [400, 404]}}
    assert checks.probe_url("PATCH", f"{url}/1?x=1", patch, spec, root) == (f"{url}/1", False)
    allowed = {"body": {}, "expect": {"status": [200, 400]}}
    assert checks.probe_url("PATCH", f"{url}/1", allowed, spec, root) is None


# --------------------------------------------------------------------------- matchers


def test_not_contains_and_not_match_what_their_names_say() -> None:
    gone = load('!not_contains [{url: "{k}"}]')
    rendered = render(gone, {"k": "http://kic/k/1"})
    assert placeholders(gone) == [("k", None)]
    assert matchers.match(rendered, [{"url": "http://kic/k/2"}]) == []
    assert matchers.match(rendered, [{"url": "http://kic/k/1", "x": 1}]) != []
    assert matchers.match(rendered, {"url": "http://kic/k/1"}) != []  # not an array
    changed = render(load('!not "{etag}"'), {"etag": '"v1"'})
    assert matchers.match(changed, '"v2"') == []
    assert matchers.match(changed, '"v1"') != []
    assert matchers.to_json(changed) == {"!not": '"v1"'}


def test_invalid_param_names_ignore_spelling_but_not_the_field() -> None:
    assert checks.same_param_name(
        "subjectIdentificatie.inpA_nummer", "subjectIdentificatie.inpANummer"
    )
    assert checks.same_param_name("non_field_errors", "nonFieldErrors")
    assert not checks.same_param_name("nonFieldErrors", "voornaam")


# --------------------------------------------------------------------------- DRC and runner


def test_not_received_on_a_collection_path_covers_its_items() -> None:
    view = checks.DrcView(drc=None, since=None)  # type: ignore[arg-type]
    view.__dict__["journal"] = [
        {"method": "DELETE", "path": documents_path("objectinformatieobjecten/abc")}
    ]
    collection = {"method": "DELETE", "path": "objectinformatieobjecten"}
    item = {"method": "DELETE", "path": "objectinformatieobjecten/abc"}
    other = {"method": "DELETE", "path": "objectinformatieobjecten/abcd"}
    assert not checks.drc_not_received(view, collection, Level.MUST).passed
    assert not checks.drc_not_received(view, item, Level.MUST).passed
    assert checks.drc_not_received(view, other, Level.MUST).passed
    assert checks.drc_received(view, collection, Level.MUST).passed


NARROW_AFTER_A_FAILURE = """\
id: narrow-after-failure
title: t
rule: oas:klant_list
steps:
  - call: klant_list
    expect: {{status: 200, body: {body}}}
  - call: klant_list
    auth: {{client: narrow}}
    expect: {{status: 200}}
"""


@pytest.mark.parametrize(("body", "outcome"), [("[x]", Outcome.FAILED), ("[]", Outcome.SKIPPED)])
def test_a_capability_missing_mid_scenario_does_not_hide_a_failure(
    httpserver: HTTPServer, scenario_dir, context_for, body: str, outcome: Outcome
) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    [scenario] = load_library([scenario_dir(a=NARROW_AFTER_A_FAILURE.format(body=body))])
    case = run_scenario(scenario, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is outcome
    if outcome is Outcome.FAILED:
        assert case.skip_reason is None
        assert any("not run" in c.message for c in case.checks if c.passed)


REFUSED_PATCH = """\
id: refused-patch
title: t
rule: oas:klant_partial_update
steps:
  - call: klant_partial_update
    path: {uuid: 00000000-0000-4000-8000-000000000001}
    body: {voornaam: Piet}
    expect: {status: 400}
"""


@pytest.mark.parametrize(("after", "passed"), [("Jan", True), ("Piet", False)])
def test_a_refused_update_that_changed_the_object_fails(
    httpserver: HTTPServer, scenario_dir, context_for, after: str, passed: bool
) -> None:
    path = "/api/v1/klanten/00000000-0000-4000-8000-000000000001"
    url = httpserver.url_for(path)
    httpserver.expect_ordered_request(path, method="GET").respond_with_json(
        {"url": url, "voornaam": "Jan"}, headers=API
    )
    httpserver.expect_ordered_request(path, method="PATCH").respond_with_json(
        {"code": "invalid", "invalidParams": []}, status=400, headers=API
    )
    httpserver.expect_ordered_request(path, method="GET").respond_with_json(
        {"url": url, "voornaam": after}, headers=API
    )
    [scenario] = load_library([scenario_dir(a=REFUSED_PATCH)])
    case = run_scenario(scenario, context_for(httpserver.url_for("/api/v1")))
    [check] = [c for c in case.checks if c.name.endswith("refused_write_unchanged")]
    assert check.passed is passed, check.message
    assert [e.method for e in case.exchanges] == ["GET", "PATCH", "GET"]
