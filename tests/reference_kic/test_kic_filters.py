"""List filters of the relation resources and their unknown-parameters check."""

from __future__ import annotations

import pytest
from kic_testkit import contactmoment_body, verzoek_body


@pytest.fixture
def two_products(api):
    verzoek_a = api.create("verzoeken", verzoek_body())["url"]
    verzoek_b = api.create("verzoeken", verzoek_body())["url"]
    a = api.create(
        "verzoekproducten", {"verzoek": verzoek_a, "product": "https://producten.example/p/1"}
    )
    b = api.create(
        "verzoekproducten", {"verzoek": verzoek_b, "productIdentificatie": {"code": "X"}}
    )
    return a, b


def test_unfiltered_list_is_a_plain_array(api, two_products):
    assert api.call("GET", "verzoekproducten").json == list(two_products)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda a, b: {"verzoek": a["verzoek"]}, [0]),
        (lambda a, b: {"product": "https://producten.example/p/1"}, [0]),
        (lambda a, b: {"product": "https://producten.example/p/1/"}, []),
        (lambda a, b: {"productIdentificatie__code": "X"}, [1]),
        (lambda a, b: {"verzoek": a["verzoek"], "productIdentificatie__code": "X"}, []),
        # another host than the request's never matches
        (lambda a, b: {"verzoek": a["verzoek"].replace("falconframework.org", "elders.nl")}, []),
        # an unknown uuid of the right type matches nothing
        (
            lambda a, b: {
                "verzoek": "http://falconframework.org/api/v1/verzoeken/"
                "00000000-0000-4000-8000-000000000000"
            },
            [],
        ),
    ],
)
def test_filters(api, two_products, params, expected):
    result = api.call("GET", "verzoekproducten", params=params(*two_products))
    assert result.status_code == 200
    assert result.json == [two_products[i] for i in expected]


@pytest.mark.parametrize(
    ("params", "name", "code"),
    [
        ({"foo": "1"}, "nonFieldErrors", "unknown-parameters"),
        ({"productIdentificatieCode": "X"}, "nonFieldErrors", "unknown-parameters"),
        ({"page": "1"}, "nonFieldErrors", "unknown-parameters"),
        ({"verzoek": ""}, "verzoek", "invalid"),
        ({"verzoek": "http://testserver/api/v1/verzoeken/x"}, "verzoek", "invalid"),
        ({"product": "geen url"}, "product", "invalid"),
        (
            {
                "verzoek": "http://falconframework.org/api/v1/klanten/00000000-0000-4000-8000-000000000000"
            },
            "verzoek",
            "invalid-type",
        ),
    ],
)
def test_bad_filters_are_400(api, params, name, code):
    result = api.call("GET", "verzoekproducten", params=params)
    assert result.status_code == 400
    assert [(p["name"], p["code"]) for p in result.json["invalidParams"]] == [(name, code)]


def test_repeated_parameter_last_value_wins(api, two_products):
    a, _ = two_products
    result = api.call(
        "GET",
        "verzoekproducten",
        query_string="productIdentificatie__code=nope&productIdentificatie__code=X",
    )
    assert result.json == [two_products[1]]
    assert a not in result.json


def test_verzoekcontactmomenten_filters(api):
    verzoek = api.create("verzoeken", verzoek_body())["url"]
    contactmoment_a = api.create("contactmomenten", contactmoment_body())["url"]
    contactmoment_b = api.create("contactmomenten", contactmoment_body())["url"]
    first = api.create(
        "verzoekcontactmomenten", {"verzoek": verzoek, "contactmoment": contactmoment_a}
    )
    api.create("verzoekcontactmomenten", {"verzoek": verzoek, "contactmoment": contactmoment_b})
    by_contactmoment = api.call(
        "GET", "verzoekcontactmomenten", params={"contactmoment": contactmoment_a}
    )
    assert by_contactmoment.json == [first]
    assert len(api.call("GET", "verzoekcontactmomenten", params={"verzoek": verzoek}).json) == 2
