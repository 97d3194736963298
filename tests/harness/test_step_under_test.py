"""Steps under test: which steps a scenario tests (``under_test``, else the default), the lint
that every scenario has one, the runner marking each check with its step, the outcome
*precondition failed* on a real broken KIC, and the mock DRC journal a failed kic-001 case
carries: its own entries only (correlated by its URLs), with the call-backs and the KIC's
answers."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from harness.drc_control import DrcControl
from harness.environment import embedded_environment
from harness.results import Outcome
from harness.run import run
from harness.runner import run_scenario
from harness.scenarios import lint, load_library

API = {"API-version": "1.0.0-rc1"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KLANT_URL = "http://kic/api/v1/klanten/0b6b0c4e-9d43-4d39-8e6a-1a0c7a3c1b2d"

CREATE_THEN_READ = """\
id: klant-read
title: Reading a klant
rule: oas:klant_read
steps:
  - call: klant_create
    body: {subjectType: natuurlijk_persoon, subject: "https://p.example/1"}
    expect: {status: 201}
    save: {klant: $.url}
  - call: klant_read
    path: {uuid: "{klant|uuid}"}
    expect: {status: 200}
"""


def _scenarios(tmp_path: Path, text: str):
    path = tmp_path / "klanten" / "s.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return lint([tmp_path])


def _tested(tmp_path: Path, text: str) -> list[int]:
    [scenario], problems = _scenarios(tmp_path, text)
    assert problems == []
    return [s.index for s in scenario.steps if s.under_test]


def test_by_default_the_steps_calling_the_rules_operation_are_under_test(tmp_path) -> None:
    assert _tested(tmp_path, CREATE_THEN_READ) == [1]


def test_drc_expect_steps_are_under_test_by_default(tmp_path) -> None:
    text = CREATE_THEN_READ + "  - drc_expect: {mirrors: {count: 0}}\n"
    assert _tested(tmp_path, text) == [1, 2]


def test_marks_replace_the_default(tmp_path) -> None:
    text = CREATE_THEN_READ.replace(
        "    expect: {status: 201}\n", "    expect: {status: 201}\n    under_test: true\n"
    )
    [scenario], _ = _scenarios(tmp_path, text)
    assert [s.index for s in scenario.steps if s.under_test] == [0]
    assert scenario.operations_under_test == ["klant_create"]
    assert scenario.operations == ["klant_create", "klant_read"]


def test_false_leaves_a_step_out_of_the_default(tmp_path) -> None:
    text = CREATE_THEN_READ + (
        '  - call: klant_read\n    path: {uuid: "{klant|uuid}"}\n    under_test: false\n'
    )
    assert _tested(tmp_path, text) == [1]


def test_a_scenario_without_a_step_under_test_is_a_lint_problem(tmp_path) -> None:
    text = CREATE_THEN_READ.replace("rule: oas:klant_read", "rule: kic-001")
    scenarios, problems = _scenarios(tmp_path, text)
    assert scenarios == []
    [problem] = problems
    assert str(problem).endswith(
        "s.yaml:4: no step is under test: mark the steps that test the behaviour with "
        "'under_test: true' (by default: steps calling the operation of rule oas:<op>, and "
        "drc_expect steps)"
    )


def test_under_test_in_finally_is_a_lint_problem(tmp_path) -> None:
    text = CREATE_THEN_READ + (
        'finally:\n  - call: klant_delete\n    path: {uuid: "{klant|uuid}"}\n    under_test: true\n'
    )
    _, problems = _scenarios(tmp_path, text)
    assert [p.message for p in problems] == [
        "under_test: a finally step is never under test (it only tidies up)"
    ]


def test_every_scenario_of_the_library_has_a_step_under_test() -> None:
    for scenario in load_library():
        assert any(s.under_test for s in scenario.steps), scenario.id
        assert scenario.operations_under_test, scenario.id


def test_kic_001_scenarios_test_the_relation_calls_not_the_set_up() -> None:
    library = {s.id: s for s in load_library()}
    right_mirror = library["kic-001-delete-right-mirror"]
    assert right_mirror.operations_under_test == [
        "verzoekinformatieobject_delete",
        "verzoekinformatieobject_list",
    ]
    assert not any(
        s.under_test
        for s in right_mirror.steps
        if s.data.get("call") in ("verzoek_create", "verzoekinformatieobject_create")
    )


@pytest.fixture()
def klant_read(tmp_path):
    [scenario], problems = _scenarios(tmp_path, CREATE_THEN_READ)
    assert problems == []
    return scenario


def test_the_runner_marks_checks_with_their_step(
    httpserver: HTTPServer, klant_read, context_for
) -> None:
    httpserver.expect_request("/api/v1/klanten", method="POST").respond_with_json(
        {"url": KLANT_URL}, status=500, headers=API
    )
    case = run_scenario(klant_read, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is Outcome.PRECONDITION_FAILED
    assert {(c.step, c.under_test) for c in case.checks} == {(0, False)}
    assert case.operations_under_test == ["klant_read"]


def test_a_failure_in_the_step_under_test_is_failed(
    httpserver: HTTPServer, klant_read, context_for
) -> None:
    url = httpserver.url_for("/api/v1/klanten/0b6b0c4e-9d43-4d39-8e6a-1a0c7a3c1b2d")
    klant = {"url": url, "subjectType": "natuurlijk_persoon", "subject": "https://p.example/1"}
    httpserver.expect_request("/api/v1/klanten", method="POST").respond_with_json(
        klant, status=201, headers={**API, "Location": url}
    )
    # The create is sound (its follow-up read by the invariants matches it); the read under
    # test alone breaks a must rule: it lacks the API-version header.
    httpserver.expect_request(
        "/api/v1/klanten/0b6b0c4e-9d43-4d39-8e6a-1a0c7a3c1b2d"
    ).respond_with_json(klant, status=200)
    case = run_scenario(klant_read, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is Outcome.FAILED
    failed = case.failed_checks()
    assert failed and {(c.step, c.under_test) for c in failed} == {(1, True)}


def test_a_broken_set_up_on_a_real_kic_is_precondition_failed_and_not_conformant() -> None:
    """create-status-200 breaks every create: the verzoekproduct scenario cannot even make its
    verzoek. That is a failure of verzoek_create, not of verzoekproduct_create."""
    library = {s.id: s for s in load_library()}
    with embedded_environment(defects=frozenset({"create-status-200"}), fuzz_examples=0) as cfg:
        result = run(cfg, scenarios=[library["verzoekproduct-create-product-url"]])
    [case] = result.cases
    assert case.outcome is Outcome.PRECONDITION_FAILED, case.failed_checks()
    assert result.verdict == "NOT CONFORMANT" and result.exit_code == 1
    assert result.by_operation() == {"verzoek_create": {Outcome.PRECONDITION_FAILED: 1}}
    [cause, *_] = result.causes()
    assert cause.outcome is Outcome.PRECONDITION_FAILED
    assert cause.operations == ["verzoek_create"] and cause.cases == [case.id]


def test_a_failed_kic_001_case_carries_only_its_own_drc_journal_with_the_call_backs() -> None:
    """Several kic-001 scenarios run at once against a KIC that deletes the wrong mirror; the
    failed one carries the DRC's requests about its own verzoek and documents, the refused
    mirror delete among them, with the call-back and what the KIC answered it."""
    library = {s.id: s for s in load_library()}
    chosen = [
        "kic-001-delete-right-mirror",
        "kic-001-create-mirrors",
        "kic-001-mirror-objecttype-verzoek",
        "kic-001-create-after-commit",
    ]
    with embedded_environment(defects=frozenset({"delete-wrong-mirror"}), fuzz_examples=0) as cfg:
        cfg.workers = 4
        result = run(cfg, scenarios=[library[i] for i in chosen])
        with DrcControl(cfg.drc_url) as drc:
            everything = drc.journal()
    cases = {c.id: c for c in result.cases}
    failed = cases.pop("kic-001-delete-right-mirror")
    assert failed.outcome is Outcome.FAILED
    assert all(c.outcome is Outcome.PASSED and c.drc_journal == [] for c in cases.values())
    own = _uuids(failed.exchanges)
    others = set().union(*(_uuids(c.exchanges) for c in cases.values())) - own
    journal = failed.drc_journal
    assert journal and all(entry["about"] for entry in journal)
    assert len(journal) < len(everything)  # not a time window over the others' traffic
    seen = _uuids(journal)
    assert seen & own and others and not seen & others
    [refused] = [e for e in journal if e["method"] == "DELETE" and e["status"] == 400]
    [callback] = refused["callbacks"]
    assert (callback["status"], callback["outcome"]) == (200, "listed")
    assert callback["answer"].startswith("[{") and "headers" not in refused
    [cause, *_] = result.causes()
    assert cause.drc_evidence == refused


def _uuids(value: object) -> set[str]:
    return set(UUID.findall(repr(value)))


def test_the_drc_client_asks_for_mentions_repeatably(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/_mock/journal", query_string="since=3&mentions=http%3A%2F%2Fa&mentions=http%3A%2F%2Fb"
    ).respond_with_json([{"id": 4}])
    with DrcControl(httpserver.url_for("/")) as drc:
        assert drc.journal(since=3, mentions=["http://a", "http://b"]) == [{"id": 4}]
        assert drc.journal(mentions=[]) == []  # matches nothing: not even asked
    assert len(httpserver.log) == 1
