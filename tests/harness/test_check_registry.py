"""The check registry is the one list of scenario checks: its keys are exactly the scenario
format's, and an entry added to it is applied by the runner without any other change."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from harness import checks
from harness.results import Level
from harness.runner import run_scenario
from harness.scenarios import format_schema

API = {"API-version": "1.0.0-rc1"}


def test_the_expect_keys_of_the_format_are_the_registry_s() -> None:
    definitions = format_schema()["definitions"]
    expect = definitions["expect"]["properties"]
    assert set(expect) - {"levels"} == checks.EXPECT_KEYS
    assert set(expect["levels"]["propertyNames"]["enum"]) == checks.LEVEL_KEYS
    drc_expect = definitions["drcExpectStep"]["properties"]["drc_expect"]["properties"]
    assert set(drc_expect) == checks.DRC_EXPECT_KEYS


def _no_location_on_lists(seen: checks.StepExchange, expected: object, level: Level):
    """A stand-in invariant: a list answer carries no Location header."""
    problems = ["a list answered with a Location"] if seen.response.header("Location") else []
    return checks.result("no_location_on_lists", problems, level, None, None, seen.index)


def test_an_entry_without_key_runs_on_every_exchange(
    httpserver: HTTPServer, list_scenario, context_for, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {**API, "Location": "http://kic/api/v1/klanten/1"}
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=headers)
    invariant = checks.Expectation(None, _no_location_on_lists, Level.MUST)
    monkeypatch.setattr(checks, "RESPONSE_CHECKS", (*checks.RESPONSE_CHECKS, invariant))
    case = run_scenario(list_scenario, context_for(httpserver.url_for("/api/v1")))
    [failed] = case.failed_checks()
    assert failed.name.endswith(": no_location_on_lists") and failed.exchange_index == 0
    assert case.outcome.value == "failed"


def test_the_level_of_an_entry_is_its_default_unless_the_step_overrides_it(
    httpserver: HTTPServer, scenario_dir, context_for
) -> None:
    from harness.scenarios import load_library

    httpserver.expect_request("/api/v1/klanten").respond_with_json(
        {"code": "other"}, status=200, headers=API
    )
    [default, overridden] = load_library(
        [
            scenario_dir(
                a="id: a\ntitle: t\nrule: oas:klant_list\nsteps:\n"
                "  - call: klant_list\n    expect: {schema: false, error_code: wanted}\n",
                b="id: b\ntitle: t\nrule: oas:klant_list\nsteps:\n"
                "  - call: klant_list\n    expect: {schema: false, error_code: wanted,"
                " levels: {error_code: must}}\n",
            )
        ]
    )
    context = context_for(httpserver.url_for("/api/v1"))
    levels = [
        [c.level for c in run_scenario(s, context).failed_checks()] for s in (default, overridden)
    ]
    assert levels == [[Level.REFERENCE], [Level.MUST]]
