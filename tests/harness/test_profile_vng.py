"""The whole suite against ``reference-kic --profile vng``: the VNG reference's documented
conventions pass at must level, and every warning they get is one docs/compatibility.md lists.

The run is a vendor's run: every scenario, the strict mock DRC (it calls the KIC back and checks
tokens), the narrow client, fuzzing with the default examples. The same points must show up in
both phases: the scenario phase's ``strict_reading`` and the fuzz phase's findings judge a
response through the one policy (harness/compat.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import compat
from harness.environment import embedded_environment
from harness.results import CaseResult, CheckResult, Level, RunResult
from harness.run import run

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
BY_TITLE = {point.title: point.id for point in compat.POINTS}


@pytest.fixture(scope="module")
def vng_run() -> RunResult:
    with embedded_environment(profile="vng") as config:
        assert config.narrow_client is not None and config.fuzz_examples == 25
        return run(config)


def _warned(case: CaseResult, check: CheckResult) -> set[str]:
    """What a failed should/reference check is, in the words of the docs' table."""
    if check.name.split(": ")[-1].startswith("strict_reading["):
        return set(check.actual)
    if case.kind == "fuzz":
        return {BY_TITLE[check.title]}
    return {case.id}


def _documented_warnings() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## What a run against `--profile vng` reports", 1)[1]
    return section.split("\n## ", 1)[0]


def test_the_vng_profile_has_no_must_failure(vng_run: RunResult) -> None:
    failures = [
        (case.id, check.name, check.message[:200])
        for case in vng_run.cases
        for check in case.failed_checks()
        if check.level is Level.MUST
    ]
    errors = [(case.id, case.error) for case in vng_run.cases if case.error]
    assert not failures and not errors, (failures, errors)
    assert vng_run.conformant
    assert any(case.kind == "fuzz" for case in vng_run.cases)
    assert not any(case.skip_reason for case in vng_run.cases)


def test_every_warning_is_listed_in_the_compatibility_table(vng_run: RunResult) -> None:
    listed = set(re.findall(r"`([a-z0-9-]+)`", _documented_warnings()))
    warned: set[str] = set()
    for case in vng_run.cases:
        for check in case.failed_checks():
            warned |= _warned(case, check)
    assert warned, "the vng profile should differ from the letter of the contract somewhere"
    assert warned <= listed, sorted(warned - listed)


def test_both_phases_report_the_same_points(vng_run: RunResult) -> None:
    scenario_points: set[str] = set()
    fuzz_points: set[str] = set()
    for case in vng_run.cases:
        for check in case.failed_checks():
            found = _warned(case, check) & {p.id for p in compat.POINTS}
            (fuzz_points if case.kind == "fuzz" else scenario_points).update(found)
    body_points = {
        "blank-error-detail",
        "blank-initiatiefnemer",
        "blank-product-code",
        "parse-error-fout",
    }
    assert body_points <= scenario_points
    assert body_points <= fuzz_points
    assert "plain-json-errors" in fuzz_points
