"""Error semantics of the library: a 400 scenario sends one defect and names its field.

A 400 scenario whose body holds a second, independent error passes on a KIC without the rule
under test (the other error still gets the 400). So every step expecting a 400 for a JSON body
or a query names the fields under test (``invalid_params``, checked at must level by name),
and on the reference KIC, which reports every field error at once, the ValidatieFout names
exactly those fields: nothing else in the request is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.config import RunConfig
from harness.environment import embedded_environment
from harness.run import run
from harness.scenarios import Scenario, Step, load_library


def _expects_only_400(step: Step) -> bool:
    status = (step.data.get("expect") or {}).get("status")
    return status == 400 or status == [400]


def _steps_expecting_400(scenario: Scenario) -> list[Step]:
    return [s for s in scenario.steps if s.kind in ("call", "request") and _expects_only_400(s)]


@pytest.fixture(scope="module")
def library() -> list[Scenario]:
    return load_library()


@pytest.fixture(scope="module")
def correct_kic() -> Iterator[RunConfig]:
    with embedded_environment(fuzz_examples=0) as config:
        yield config


def test_every_400_step_for_a_body_or_a_query_names_its_fields(library) -> None:
    """Only a body that is no JSON at all (``raw_body``) has no field to name, and a kic-001
    400 answers a failing DRC, not a field of the request."""
    unnamed = [
        f"{scenario.id}: {step.label}"
        for scenario in library
        if scenario.rule != "kic-001"
        for step in _steps_expecting_400(scenario)
        if "raw_body" not in step.data
        and ("body" in step.data or "query" in step.data)
        and not (step.data.get("expect") or {}).get("invalid_params")
    ]
    assert not unnamed, "\n".join(unnamed)


def test_each_400_scenario_sends_exactly_one_defect(library, correct_kic) -> None:
    """On the reference KIC, which reports every local field error together, a 400 step's
    ValidatieFout names exactly the fields the step expects (as it spells them)."""
    chosen = [
        scenario
        for scenario in library
        if any("invalid_params" in step.data["expect"] for step in _steps_expecting_400(scenario))
    ]
    result = run(correct_kic, scenarios=chosen)
    extra = {}
    for case in result.cases:
        for check in case.checks:
            if not check.name.endswith(": invalid_param_names") or check.cleanup:
                continue
            wanted = set(check.expected)
            given = {p.get("name") for p in check.actual or []}
            if given != wanted:
                extra[f"{case.id} {check.name.split(':')[0]}"] = sorted(map(str, given - wanted))
    assert len(chosen) > 60
    assert not extra, "\n".join(f"{k}: also {v}" for k, v in extra.items())
