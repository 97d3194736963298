"""harness.compat: the compatibility policy decides must versus should, once, for both phases.

Each point is shown both ways: the reference's reading passes at must level and is reported at
should level, and the same kind of problem anywhere the point does not cover stays a must.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import compat
from harness.spec import load_spec

SPEC = load_spec()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
URL = "http://kic.example/api/v1"
HEADERS = {"API-version": "1.0.0-rc1", "Content-Type": "application/problem+json"}


def _validatiefout(**changes: object) -> dict[str, object]:
    body = {
        "type": f"{URL}/ref/fouten/ValidationError/",
        "code": "invalid",
        "title": "Invalid input.",
        "status": 400,
        "detail": "",
        "instance": "urn:uuid:6c5c1f4e-3a8f-4d34-9d4f-6a1f3d1c2b3a",
        "invalidParams": [{"name": "status", "code": "required", "reason": "Dit veld is vereist."}],
    }
    body.update(changes)
    return body


def _contactmoment(**changes: object) -> dict[str, object]:
    body = {
        "url": f"{URL}/contactmomenten/6c5c1f4e-3a8f-4d34-9d4f-6a1f3d1c2b3a",
        "bronorganisatie": "000000000",
        "klant": None,
        "interactiedatum": "2019-05-05T08:00:00Z",
        "onderwerpLinks": [],
        "medewerker": "https://medewerkers.example.com/m/1",
    }
    body.update(changes)
    return body


def _points(judgement: compat.Judgement) -> set[str]:
    return {d.point.id for d in judgement.should}


def test_a_blank_detail_in_a_validatiefout_is_a_should() -> None:
    judged = compat.judge_response(SPEC, "verzoek_create", 400, HEADERS, _validatiefout())
    assert judged.must == []
    assert _points(judged) == {"blank-error-detail"}
    filled = compat.judge_response(
        SPEC, "verzoek_create", 400, HEADERS, _validatiefout(detail="Ongeldige invoer.")
    )
    assert filled.must == [] and filled.should == []


def test_a_blank_detail_outside_a_400_stays_a_must() -> None:
    fout = _validatiefout(status=404, code="not_found")
    del fout["invalidParams"]
    judged = compat.judge_response(SPEC, "verzoek_read", 404, HEADERS, fout)
    assert [p.path for p in judged.must] == [("detail",)]


def test_a_blank_initiatiefnemer_is_a_should_and_another_value_a_must() -> None:
    headers = {"API-version": "1.0.0-rc1", "Location": f"{URL}/contactmomenten/x"}
    blank = compat.judge_response(
        SPEC, "contactmoment_create", 201, headers, _contactmoment(initiatiefnemer="")
    )
    assert blank.must == [] and _points(blank) == {"blank-initiatiefnemer"}
    listed = compat.judge_response(
        SPEC, "contactmoment_list", 200, headers, [_contactmoment(initiatiefnemer="")] * 2
    )
    assert listed.must == [] and len(listed.should) == 2
    wrong = compat.judge_response(
        SPEC, "contactmoment_create", 201, headers, _contactmoment(initiatiefnemer="burger")
    )
    assert [p.keyword for p in wrong.must] == ["enum"] and wrong.should == []


def test_a_blank_product_code_is_a_should_but_a_blank_url_a_must() -> None:
    body = {
        "url": f"{URL}/verzoekproducten/6c5c1f4e-3a8f-4d34-9d4f-6a1f3d1c2b3a",
        "verzoek": f"{URL}/verzoeken/6c5c1f4e-3a8f-4d34-9d4f-6a1f3d1c2b3a",
        "product": "https://producten.example.com/p/1",
        "productIdentificatie": {"code": ""},
    }
    judged = compat.judge_response(SPEC, "verzoekproduct_read", 200, HEADERS, body)
    assert judged.must == [] and _points(judged) == {"blank-product-code"}
    judged = compat.judge_response(SPEC, "verzoekproduct_read", 200, HEADERS, {**body, "url": ""})
    assert [p.path for p in judged.must] == [("url",)]


def test_a_fout_without_invalid_params_is_a_should_only_for_a_body_that_is_no_json() -> None:
    fout = _validatiefout(code="parse_error", detail="JSON parse error")
    del fout["invalidParams"]
    malformed = compat.judge_response(
        SPEC, "klant_create", 400, HEADERS, fout, request_body='{"subject": '
    )
    assert malformed.must == [] and _points(malformed) == {"parse-error-fout"}
    valid_json = compat.judge_response(
        SPEC, "klant_create", 400, HEADERS, fout, request_body='{"subject": ""}'
    )
    assert [p.keyword for p in valid_json.must] == ["required"]


def test_error_bodies_may_be_plain_json_but_a_success_may_not() -> None:
    problem_json = ("application/problem+json",)
    plain = compat.judge_content_type(400, "application/json", problem_json)
    assert plain.must == [] and _points(plain) == {"plain-json-errors"}
    assert compat.judge_content_type(400, "application/problem+json", problem_json).should == []
    html = compat.judge_content_type(400, "text/html", problem_json)
    assert html.must_texts() and html.should == []
    success = compat.judge_content_type(200, "application/problem+json", ("application/json",))
    assert success.must_texts() and success.should == []
    missing = compat.judge_content_type(200, None, ("application/json",))
    assert "missing" in missing.must_texts()[0]
    assert compat.judge_content_type(204, None, ()).must == []


def test_the_frameworks_404_is_a_should_only_outside_the_routes() -> None:
    html = {"Content-Type": "text/html"}
    page = b"<h1>Not Found</h1>"
    outside = compat.judge_response(
        SPEC, "klant_read", 404, html, page, path_values={"uuid": "\u00d6..\r4e"}
    )
    assert outside.must == [] and _points(outside) == {"framework-not-found"}
    inside = compat.judge_response(
        SPEC,
        "klant_read",
        404,
        html,
        page,
        path_values={"uuid": "6c5c1f4e-3a8f-4d34-9d4f-6a1f3d1c2b3a"},
    )
    assert inside.must_texts() and inside.should == []
    unrouted = compat.judge_content_type(
        404, "text/html", ("application/problem+json",), unrouted=True
    )
    assert unrouted.must == [] and _points(unrouted) == {"framework-not-found"}
    assert compat.framework_not_found(SPEC, "klant_read", 200, {"uuid": "a.b"}) is None


def test_a_query_is_blank_only_when_every_invalid_value_is_empty() -> None:
    operation = "verzoekinformatieobject_list"
    assert compat.blank_query_only(SPEC, operation, {"informatieobject": ""})
    assert compat.blank_query_only(
        SPEC, operation, {"informatieobject": "", "verzoek": f"{URL}/verzoeken/x"}
    )
    assert not compat.blank_query_only(SPEC, operation, {"informatieobject": "not a url"})
    assert not compat.blank_query_only(SPEC, operation, {"informatieobject": "", "verzoek": "ø"})
    assert not compat.blank_query_only(SPEC, operation, {"informatieobject": "", "page": "1"})
    assert not compat.blank_query_only(SPEC, operation, {})


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        (("detail",), 400, "blank-error-detail"),
        (("detail",), 200, None),
        ((3, "initiatiefnemer"), 200, "blank-initiatiefnemer"),
        (("productIdentificatie", "code"), 201, "blank-product-code"),
        (("code",), 400, None),
        (("url",), 200, None),
    ],
)
def test_allowed_blank_names_the_point(path, status, expected) -> None:
    found = compat.allowed_blank(path, status)
    assert (found.id if found else None) == expected


def test_every_point_has_a_row_in_the_documented_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.MULTILINE))
    assert rows >= {p.id for p in compat.POINTS}
    for found in compat.POINTS:
        assert found.strict or found.why, found.id
