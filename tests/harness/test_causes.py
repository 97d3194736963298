"""Failures read as causes: the same check failing with the same message shape is one cause,
counted and listed with the cases it hit, worst first; a must failure in a set-up step makes
the case *precondition failed*, which counts against conformance and, in the operations
table, against the set-up operation that failed instead of the one under test."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from harness.report import json_report
from harness.results import (
    CaseResult,
    CheckResult,
    Exchange,
    Level,
    Outcome,
    RunResult,
    group_causes,
    message_shape,
)

MUST, SHOULD = Level.MUST, Level.SHOULD


def _exchange(operation: str, status: int = 201) -> Exchange:
    return Exchange("POST", "http://kic/api/v1/x", {}, None, status, operation_id=operation)


def _check(
    name: str,
    message: str,
    *,
    passed: bool = False,
    level: Level = MUST,
    step: int = 0,
    under_test: bool = True,
    exchange: int | None = 0,
) -> CheckResult:
    return CheckResult(
        f"step {step + 1} (call: op): {name}",
        passed,
        level,
        message,
        exchange_index=exchange,
        step=step,
        under_test=under_test,
    )


def _case(id_: str, checks: list[CheckResult], operations: list[str], **extra) -> CaseResult:
    return CaseResult(
        id=id_,
        title=id_,
        rule=extra.pop("rule", f"oas:{operations[-1]}"),
        level=extra.pop("level", MUST),
        operations=operations,
        operations_under_test=extra.pop("tested", [operations[-1]]),
        checks=checks,
        exchanges=[_exchange(op) for op in operations],
        **extra,
    )


def _run(*cases: CaseResult) -> RunResult:
    return RunResult(
        target="http://kic/api/v1", started_at="2026-01-01T00:00:00+00:00", cases=list(cases)
    )


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        (
            "GET http://kic:8000/api/v1/klanten/3fa85f64-5717-4562-b3fc-2c963f66afa6 failed",
            "GET https://other.example/api/v1/klanten/0b6b0c4e-9d43-4d39-8e6a-1a0c7a3c1b2d failed",
            True,
        ),
        ("expected status 204, got 400", "expected status 204, got 400", True),
        ("expected status 204, got 400", "expected status 204, got 500", False),
        ("(25 of 50 requests) in 78.8 ms", "(3 of 7 requests) in 1 ms", True),
        (
            "urn:uuid:3e2efad6-5d0c-4413-abc7-f859ade7ab01 is bad",
            "urn:uuid:0b6b0c4e-9d43-4d39-8e6a-1a0c7a3c1b2d is bad",
            True,
        ),
        ("$.detail: '' is too short", "$.title: '' is too short", False),
    ],
)
def test_message_shapes(one: str, other: str, same: bool) -> None:
    assert (message_shape(one) == message_shape(other)) is same


def test_the_same_check_and_shape_is_one_cause_with_its_cases_and_count() -> None:
    empty_detail = "$.invalidParams[0].reason at http://kic/api/v1/klanten/{}: '' is too short"
    cases = [
        _case(
            f"c{i}",
            [_check("response_schema[klant_create]", empty_detail.format(i))],
            ["klant_create"],
        )
        for i in range(3)
    ]
    cases.append(
        _case(
            "v",
            [_check("response_schema[verzoek_create]", empty_detail.format(9))],
            ["verzoek_create"],
        )
    )
    wrong_mirror = _case(
        "mirror", [_check("status_code", "expected status 204, got 400")], ["vio_delete"]
    )
    [cause, other] = group_causes([*cases, wrong_mirror])
    assert cause.check == "response_schema" and cause.outcome is Outcome.FAILED
    assert cause.cases == ["c0", "c1", "c2", "v"] and cause.occurrences == 4
    assert cause.operations == ["klant_create", "verzoek_create"]
    assert other.cases == ["mirror"] and other.check == "status_code"


def test_causes_come_worst_first() -> None:
    warning = _case("w", [_check("headers", "no ETag", level=SHOULD)], ["klant_read"])
    errored = _case("e", [], ["klant_read"], error="x.yaml:3 step 1 (call: klant_read): boom")
    setup = _case(
        "p",
        [_check("status_code", "expected status 201, got 500", under_test=False)],
        ["klant_create", "klant_read"],
    )
    failed_once = _case("f1", [_check("body", "$.url differs")], ["klant_read"])
    failed_twice = [
        _case(f"g{i}", [_check("status_code", "got 404")], ["klant_read"]) for i in range(2)
    ]
    causes = group_causes([warning, setup, failed_once, *failed_twice, errored])
    assert [(c.outcome, c.cases[0]) for c in causes] == [
        (Outcome.ERROR, "e"),
        (Outcome.FAILED, "g0"),  # two cases before one
        (Outcome.FAILED, "f1"),
        (Outcome.PRECONDITION_FAILED, "p"),
        (Outcome.WARNING, "w"),
    ]
    assert causes[0].message == "boom"  # the place of the error is not part of its cause


def test_cleanup_problems_and_skips_are_no_causes() -> None:
    cleanup = _check("status_code", "got 500")
    cleanup.cleanup = True
    tidy = _case("tidy", [cleanup], ["klant_list"])
    skipped = _case("s", [], ["klant_list"], skip_reason="needs the mock DRC")
    assert group_causes([tidy, skipped]) == []


def test_a_set_up_failure_is_precondition_failed_and_not_conformant() -> None:
    case = _case(
        "verzoekproduct-create",
        [
            _check("status_code", "expected status 201, got 200", under_test=False),
            _check("api_version_header", "ok", passed=True, step=0, under_test=False),
        ],
        ["verzoek_create", "verzoekproduct_create"],
    )
    run = _run(case)
    assert case.outcome is Outcome.PRECONDITION_FAILED
    assert Outcome.PRECONDITION_FAILED.counts_against
    assert run.verdict == "NOT CONFORMANT" and run.exit_code == 1
    # Counted against the set-up operation that failed, not the one under test.
    assert run.by_operation() == {"verzoek_create": {Outcome.PRECONDITION_FAILED: 1}}
    assert run.by_rule() == {"oas:verzoekproduct_create": {Outcome.PRECONDITION_FAILED: 1}}


def test_a_should_scenario_with_a_failed_set_up_is_precondition_failed() -> None:
    case = _case(
        "etag",
        [
            _check("response_schema", "$.detail too short", under_test=False),
            _check("headers", "no ETag", level=SHOULD, step=1),
        ],
        ["klant_create", "klant_read"],
        level=SHOULD,
    )
    assert case.outcome is Outcome.PRECONDITION_FAILED  # not FAILED hiding the warning
    assert _run(case).verdict == "NOT CONFORMANT"


def test_a_failure_under_test_is_failed_even_after_a_set_up_failure() -> None:
    case = _case(
        "read",
        [
            _check("response_schema", "wrong type", under_test=False),
            _check("response_schema", "wrong type", step=1, exchange=1),
        ],
        ["contactmoment_create", "contactmoment_read"],
    )
    assert case.outcome is Outcome.FAILED
    assert _run(case).by_operation() == {
        "contactmoment_read": {Outcome.FAILED: 1},
        "contactmoment_create": {Outcome.PRECONDITION_FAILED: 1},
    }


def test_the_operations_table_counts_only_steps_under_test() -> None:
    passing = [
        _case(
            f"k{i}",
            [
                _check("status_code", "ok", passed=True, under_test=False),
                _check("status_code", "ok", passed=True, step=1, exchange=1),
            ],
            ["verzoek_create", "verzoekinformatieobject_delete"],
        )
        for i in range(3)
    ]
    # A drc_expect check (no operation) that fails speaks for the operation under test.
    mirror = _case(
        "mirror",
        [
            _check("status_code", "ok", passed=True, under_test=False),
            _check("status_code", "ok", passed=True, step=1, exchange=1),
            _check("drc_mirrors", "the wrong mirror went", step=2, exchange=None),
        ],
        ["verzoek_create", "verzoekinformatieobject_delete"],
    )
    table = _run(*passing, mirror).by_operation()
    assert table == {"verzoekinformatieobject_delete": {Outcome.PASSED: 3, Outcome.FAILED: 1}}


def test_fuzz_cases_count_for_their_operation() -> None:
    fuzz = CaseResult(
        id="fuzz:klant_list",
        title="t",
        rule="oas:klant_list",
        level=MUST,
        kind="fuzz",
        operations=["klant_list"],
        checks=[CheckResult("not_a_server_error", False, MUST, "500")],
    )
    assert fuzz.outcome is Outcome.FAILED
    assert _run(fuzz).by_operation() == {"klant_list": {Outcome.FAILED: 1}}


def test_the_json_report_opens_with_verdict_and_causes_and_round_trips(tmp_path) -> None:
    callback = {"url": "http://kic/x", "status": 200, "outcome": "listed", "about": ["doc"]}
    journal = [
        {
            "id": 7,
            "method": "DELETE",
            "path": "/documenten/api/v1/objectinformatieobjecten/1",
            "status": 400,
            "about": ["doc"],
            "callbacks": [callback],
        }
    ]
    case = _case(
        "mirror",
        [_check("status_code", "expected status 204, got 400")],
        ["verzoekinformatieobject_delete"],
        drc_journal=journal,
    )
    setup = _case("p", [_check("status_code", "got 500", under_test=False)], ["klant_create"])
    run = _run(case, setup)
    path = tmp_path / "r.json"
    json_report.write(run, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data)[:6] == [
        "verdict",
        "exit_code",
        "mode",
        "incomplete_reasons",
        "interrupted",
        "causes",
    ]
    assert data["verdict"] == "NOT CONFORMANT"
    assert [c["outcome"] for c in data["causes"]] == ["failed", "precondition failed"]
    assert data["causes"][0]["drc_evidence"]["status"] == 400
    assert data["counts"] == {"failed": 1, "precondition failed": 1}
    [first, _] = data["cases"]
    assert first["checks"][0]["step"] == 0 and first["checks"][0]["under_test"] is True
    again = json_report.read(path)
    assert again.cases[1].outcome is Outcome.PRECONDITION_FAILED
    assert again.cases[0].drc_journal == journal
    assert json.loads(json_report.dumps(again)) == data


def test_a_report_written_before_steps_under_test_reads_back() -> None:
    old = _run(_case("x", [_check("status_code", "got 500")], ["klant_list"])).to_dict()
    for case in old["cases"]:
        del case["operations_under_test"], case["drc_journal"]
        for check in case["checks"]:
            del check["step"], check["under_test"]
    again = RunResult.from_dict(old)
    assert again.cases[0].outcome is Outcome.FAILED  # old checks count as under test
    assert again.by_operation() == {"klant_list": {Outcome.FAILED: 1}}


REFERENCE = Level.REFERENCE


def _differs_in_a_failed_set_up(id_: str) -> CaseResult:
    """A reference-level scenario whose set-up create answered 200: its status_code check is
    reference-level, its response_schema check must-level, both in the set-up step."""
    return _case(
        id_,
        [
            _check(
                "status_code", "expected status 201, got 200", level=REFERENCE, under_test=False
            ),
            _check("response_schema", "status 200 is not documented", under_test=False),
        ],
        ["contactmoment_create", "objectcontactmoment_delete"],
        level=REFERENCE,
    )


def test_a_cause_is_labelled_by_the_outcome_of_its_cases() -> None:
    """``demo --defect create-status-200``: a reference-level status_code check failing in
    cases that are precondition failed is not labelled DIFFERS."""
    from harness.report import html, terminal
    from harness.report.text import causes_text

    run = _run(*(_differs_in_a_failed_set_up(f"r{i}") for i in range(3)))
    causes = run.causes()
    [differs] = [c for c in causes if c.check == "status_code"]
    assert differs.outcome is Outcome.DIFFERS  # what the check is by itself
    assert differs.case_outcomes == {"precondition failed": 3}
    assert differs.label == "PRECONDITION FAILED (a reference-level check)"
    text = causes_text(causes)
    assert "DIFFERS" not in text
    assert "PRECONDITION FAILED (a reference-level check)  status_code: expected" in text
    buffer = io.StringIO()
    terminal.render(run, Console(file=buffer, width=200, color_system=None))
    assert "DIFFERS  status_code" not in buffer.getvalue()
    assert "PRECONDITION FAILED (a reference-level check)  status_code" in buffer.getvalue()
    page = html.render(run)
    assert "<span class='outcome'>DIFFERS</span>" not in page
    assert "<span class='outcome'>PRECONDITION FAILED (a reference-level check)</span>" in page
    data = json.loads(json_report.dumps(run))
    [entry] = [c for c in data["causes"] if c["check"] == "status_code"]
    assert entry["label"] == "PRECONDITION FAILED (a reference-level check)"
    assert entry["outcome"] == "differs" and entry["case_outcomes"] == {"precondition failed": 3}


def test_a_cause_whose_cases_agree_keeps_its_plain_label() -> None:
    run = _run(_case("f", [_check("status_code", "got 500")], ["klant_list"]))
    [cause] = run.causes()
    assert cause.label == "FAILED" and cause.case_outcomes == {"failed": 1}


def test_mixed_case_outcomes_are_counted_in_the_scope() -> None:
    from harness.report.text import cause_scope

    warned = _case("w", [_check("headers", "no ETag", level=SHOULD)], ["klant_read"])
    also_failed = _case(
        "f",
        [_check("headers", "no ETag", level=SHOULD), _check("body", "$.url differs")],
        ["klant_read"],
    )
    [_, etag] = _run(warned, also_failed).causes()
    assert etag.label == "FAILED/WARNING (a should-level check)"
    assert cause_scope(etag).startswith("2 cases (1 failed, 1 warning): w, f")


def test_the_causes_section_is_titled_by_what_it_holds() -> None:
    """A run with nothing but warnings has no "Causes of failure" (a vng profile run)."""
    from harness.report import html, terminal
    from harness.results import causes_title

    run = _run(_case("w", [_check("headers", "no ETag", level=SHOULD)], ["klant_read"]))
    buffer = io.StringIO()
    terminal.render(run, Console(file=buffer, width=200, color_system=None))
    out = buffer.getvalue()
    assert out.splitlines()[0] == "Causes of warnings (1), worst first:"
    assert "failure" not in out.split("\n\n")[0].lower()
    assert "<h2 id='causes'>Causes of warnings (1), worst first</h2>" in html.render(run)
    differs = _case("d", [_check("error_code", "x", level=REFERENCE)], ["klant_read"])
    failed = _case("f", [_check("status_code", "got 500")], ["klant_list"])
    assert causes_title(_run(differs, failed).causes()) == (
        "Causes of failures and differences from the reference"
    )
