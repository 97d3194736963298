"""The scenario library itself: every file loads, ids are unique, every operation of the spec is
covered, rules and levels are valid, and (slow) the whole library passes on the reference KIC."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.environment import embedded_environment
from harness.results import Level, Outcome
from harness.run import run
from harness.scenarios import DEFAULT_LIBRARY, lint, load_library
from harness.spec import load_spec

FOLDERS = {
    "klanten",
    "contactmomenten",
    "verzoeken",
    "objectcontactmomenten",
    "objectverzoeken",
    "verzoekinformatieobjecten",
    "verzoekcontactmomenten",
    "verzoekproducten",
    "kic-001",
    "auth",
    "http",
}


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def library(spec):
    return load_library(spec=spec)


def test_every_scenario_file_is_valid(spec) -> None:
    scenarios, problems = lint(spec=spec)
    assert [str(p) for p in problems] == []
    # Every file gives its scenario; a matrix file (scenarios/auth/auth-matrix.yaml) gives many.
    files = sorted(DEFAULT_LIBRARY.rglob("*.yaml"))
    assert sorted({Path(s.file) for s in scenarios}) == files
    written = [s for s in scenarios if not s.generated]
    assert len(written) == len({Path(s.file) for s in written})


def test_ids_are_unique_and_name_their_file(library) -> None:
    counts = Counter(s.id for s in library)
    assert [i for i, n in counts.items() if n > 1] == []
    assert [s.id for s in library if not s.generated and Path(s.file).stem != s.id] == []
    # A matrix file's ids start with its folder's name (auth-<variant>-<operation>).
    generated = [s for s in library if s.generated]
    assert [s.id for s in generated if not s.id.startswith(Path(s.file).parent.name + "-")] == []


def test_scenarios_live_in_the_known_folders(library) -> None:
    assert {Path(s.file).parent.name for s in library} == FOLDERS


def test_every_operation_of_the_spec_is_covered(library, spec) -> None:
    covered = {op for s in library for op in s.operations}
    assert sorted(set(spec.operations) - covered) == []
    # ... and each operation is also the rule of at least one scenario of its own
    ruled = {s.rule.removeprefix("oas:") for s in library if s.rule.startswith("oas:")}
    assert sorted(set(spec.operations) - ruled) == []


def test_rules_and_levels_are_valid(library, spec) -> None:
    bad = [
        s.id
        for s in library
        if not (s.rule == "kic-001" or s.rule.removeprefix("oas:") in spec.operations)
        or s.level not in set(Level)
    ]
    assert bad == []


def test_kic_001_scenarios_need_the_drc(library) -> None:
    kic_001 = [s for s in library if s.rule == "kic-001"]
    assert len(kic_001) >= 10
    assert all("drc" in s.requires for s in kic_001)
    assert {Path(s.file).parent.name for s in kic_001} == {"kic-001"}


def test_every_create_scenario_of_a_happy_path_checks_location(library) -> None:
    creates = [s for s in library if "location" in s.tags]
    create_ops = {op for op in load_spec().operations if op.endswith("_create")}
    assert {s.rule.removeprefix("oas:") for s in creates} == create_ops
    for scenario in creates:
        headers = [
            (step.data.get("expect") or {}).get("headers") or {}
            for step in scenario.steps
            if step.kind == "call"
        ]
        assert any("Location" in h for h in headers), scenario.id


@pytest.mark.slow
def test_the_whole_library_passes_on_the_reference_kic(library) -> None:
    with embedded_environment(fuzz_examples=0) as config:
        result = run(config, scenarios=library)
    assert result.aborted is None
    not_passed = {
        c.id: (
            c.outcome.value,
            c.error or c.skip_reason or [f"{k.name}: {k.message}" for k in c.failed_checks()],
        )
        for c in result.cases
        if c.outcome is not Outcome.PASSED
    }
    assert not_passed == {}
    assert result.verdict == "NO FAILURES (incomplete: scenarios: given; no fuzzing)"
    assert len(result.cases) == len(library)
