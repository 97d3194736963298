"""Constraint rules: generated RSINs pass the 11-proef; operations map to their resources."""

from __future__ import annotations

from hypothesis import given, settings

from harness.fuzz.constraints import Target, rsins
from harness.fuzz.world import relative_path
from harness.templating import uuid_of
from reference_kic.rules import rsin_problems


@settings(max_examples=200, deadline=None)
@given(rsins())
def test_generated_rsins_pass_the_11_proef(value: str) -> None:
    assert len(value) == 9
    assert rsin_problems(value, "bronorganisatie") == []


def test_targets_name_collection_and_action() -> None:
    assert Target.of("klant_partial_update", "/klanten/{uuid}") == Target(
        "klant_partial_update", "klanten", "partial_update"
    )
    assert Target.of("verzoekproduct_list", "/verzoekproducten").collection == "verzoekproducten"


def test_object_urls_become_paths_under_the_api_root() -> None:
    url = "https://elders.example/api/v1/verzoeken/0b8f5c3e-1c1a-4e7e-9a57-0d9a3b1c2d3e"
    assert uuid_of(url) == "0b8f5c3e-1c1a-4e7e-9a57-0d9a3b1c2d3e"
    assert relative_path(url) == "verzoeken/0b8f5c3e-1c1a-4e7e-9a57-0d9a3b1c2d3e"
