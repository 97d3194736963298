"""Cleanup semantics: a failing ``finally:`` step is a cleanup problem. It never changes the
scenario's outcome or the run's verdict, but the JSON, terminal, JUnit and HTML reports all
show it with the request and response behind it; a failing main step still fails."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from rich.console import Console

from harness.config import RunConfig
from harness.report import html, json_report, junit, terminal
from harness.results import Outcome, RunResult
from harness.run import run
from harness.runner import RunContext, run_scenario
from harness.scenarios import Scenario, load_library
from harness.spec import load_spec

API = {"API-version": "1.0.0-rc1"}
SECRET = "c-secret-long-enough-for-hs256-keys"
KLANT = "0b6b0c4e-9d43-4d39-8e6a-1a0c7a3c1b2d"

LIST_THEN_DELETE = f"""\
id: list-then-cleanup
title: Listing klanten, then a cleanup delete
rule: oas:klant_list
vars: {{klant: "{KLANT}"}}
steps:
  - call: klant_list
    expect: {{status: 200}}
finally:
  - call: klant_delete
    path: {{uuid: "{{klant}}"}}
"""


@pytest.fixture()
def scenario(scenario_dir: Callable[..., Path]) -> Scenario:
    [loaded] = load_library([scenario_dir(cleanup=LIST_THEN_DELETE)])
    return loaded


def _serve(httpserver: HTTPServer, *, list_status: int = 200, delete_status: int = 500) -> None:
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    httpserver.expect_request("/api/v1/klanten", method="GET").respond_with_json(
        [], status=list_status, headers=API
    )
    httpserver.expect_request(f"/api/v1/klanten/{KLANT}", method="DELETE").respond_with_json(
        {
            "type": "",
            "code": "kept",
            "title": "cannot delete",
            "status": delete_status,
            "detail": "still referenced",
            "instance": "urn:uuid:" + KLANT,
        },
        status=delete_status,
        headers=API,
    )


def _run(httpserver: HTTPServer, scenario: Scenario) -> RunResult:
    config = RunConfig(target=httpserver.url_for("/api/v1"), client_id="c", secret=SECRET)
    config.fuzz_examples = 0
    return run(config, scenarios=[scenario])


def test_a_failing_finally_step_is_a_cleanup_problem_not_a_failure(
    httpserver: HTTPServer, scenario: Scenario, context_for
) -> None:
    _serve(httpserver)
    case = run_scenario(scenario, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is Outcome.PASSED
    assert case.failed_checks() == []
    problems = case.cleanup_problems()
    assert problems and all(p.cleanup for p in problems)
    assert any("expected status 204, got 500" in p.message for p in problems)
    [pointed] = {p.exchange_index for p in problems}
    assert case.exchanges[pointed].method == "DELETE"
    assert case.exchanges[pointed].status == 500


def test_the_verdict_ignores_cleanup_problems_and_the_json_shows_them(
    httpserver: HTTPServer, scenario: Scenario, tmp_path: Path
) -> None:
    _serve(httpserver)
    result = _run(httpserver, scenario)
    assert (result.verdict_state, result.exit_code) == ("NO FAILURES", 3)
    assert result.counts() == {Outcome.PASSED: 1}

    path = tmp_path / "report.json"
    json_report.write(result, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["verdict_state"] == "NO FAILURES" and data["counts"] == {"passed": 1}
    assert data["cleanup_problems"] == len(result.cases[0].cleanup_problems()) > 0
    [case] = data["cases"]
    assert case["outcome"] == "passed"
    flagged = [c for c in case["checks"] if c["cleanup"]]
    assert flagged and all(c["name"].startswith("cleanup step 1") for c in flagged)
    assert not any(c["cleanup"] for c in case["checks"] if c["name"].startswith("step"))
    again = json_report.read(path)
    assert again.cleanup_problem_count() == data["cleanup_problems"]
    assert again.cases[0].outcome is Outcome.PASSED


def test_the_terminal_shows_cleanup_problems_with_request_and_response(
    httpserver: HTTPServer, scenario: Scenario
) -> None:
    _serve(httpserver)
    result = _run(httpserver, scenario)
    buffer = io.StringIO()
    terminal.render(result, Console(file=buffer, width=150, color_system=None))
    text = buffer.getvalue()
    assert "Cleanup problems" in text and "CLEANUP (passed) list-then-cleanup" in text
    assert f"> DELETE {httpserver.url_for('/api/v1/klanten/' + KLANT)}" in text
    assert "< 500" in text and "cannot delete" in text
    assert "Not passed" not in text
    assert "cleanup problems: " in text
    last = text.rstrip().splitlines()[-1]
    assert last.startswith("NO FAILURES") and "cleanup problems in 1 case" in last


def test_junit_and_html_show_cleanup_problems_without_failing(
    httpserver: HTTPServer, scenario: Scenario, tmp_path: Path
) -> None:
    _serve(httpserver)
    result = _run(httpserver, scenario)
    junit.write(result, tmp_path / "r.xml")
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["cleanup_problems"] == str(result.cleanup_problem_count())
    [testcase] = suite.findall("testcase")
    assert "expected status 204, got 500" in testcase.find("system-out").text

    html.write(result, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"<h2>Cleanup problems ({result.cleanup_problem_count()})</h2>" in page
    assert "id='cleanup-list-then-cleanup'" in page and "cannot delete" in page
    assert "<h2>Not passed (0)</h2>" in page


def test_a_failing_main_step_still_fails(
    httpserver: HTTPServer, scenario: Scenario, context_for
) -> None:
    _serve(httpserver, list_status=500, delete_status=204)
    case = run_scenario(scenario, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is Outcome.FAILED
    assert case.cleanup_problems() == []
    assert any("expected status 200, got 500" in c.message for c in case.failed_checks())
    assert [e.method for e in case.exchanges] == ["GET", "DELETE"]  # cleanup still ran


def test_a_failed_case_lists_its_cleanup_problems_apart(
    httpserver: HTTPServer, scenario: Scenario
) -> None:
    _serve(httpserver, list_status=500, delete_status=500)
    result = _run(httpserver, scenario)
    assert result.verdict == "NOT CONFORMANT"
    [case] = result.cases
    assert case.failed_checks() and case.cleanup_problems()
    assert not any(c.cleanup for c in case.failed_checks())
    buffer = io.StringIO()
    terminal.render(result, Console(file=buffer, width=150, color_system=None))
    text = buffer.getvalue()
    assert "FAILED list-then-cleanup" in text and "CLEANUP (failed) list-then-cleanup" in text
    # In JUnit the failure text carries both, the cleanup part marked as such.
    failure = junit.to_element(result).find("testsuite/testcase/failure")
    assert "expected status 200, got 500" in failure.get("message")
    assert "cleanup problems (not counted in the verdict" in failure.text


def test_an_unreachable_target_during_cleanup_is_not_a_case_error(scenario: Scenario) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":  # the target went away after the main steps
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=[], headers=API)

    config = RunConfig(target="http://kic.invalid/api/v1", client_id="c", secret=SECRET)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    context = RunContext(config, load_spec(), client)
    try:
        case = run_scenario(scenario, context)
    finally:
        context.close()
    assert case.error is None and case.outcome is Outcome.PASSED
    [problem] = case.cleanup_problems()
    assert "response_received" in problem.name and "connection failed" in problem.message


def test_the_pytest_plugin_passes_the_item_and_warns_about_cleanup(
    httpserver: HTTPServer, scenario: Scenario, context_for
) -> None:
    from harness.pytest_plugin import KicCleanupWarning, _finish

    _serve(httpserver)
    case = run_scenario(scenario, context_for(httpserver.url_for("/api/v1")))
    with pytest.warns(KicCleanupWarning, match="expected status 204, got 500"):
        _finish(case)  # returns: the item passes


DELETE_ALREADY_GONE = LIST_THEN_DELETE + "    expect: {status: [204, 404]}\n"


def test_a_should_finding_on_a_cleanup_answer_is_no_cleanup_problem(
    httpserver: HTTPServer, scenario_dir: Callable[..., Path]
) -> None:
    """A cleanup DELETE answered 404 (already gone) as plain JSON: content_type_strict (should)
    fails, but the cleanup happened, so no report calls it a cleanup problem."""
    [scenario] = load_library([scenario_dir(cleanup=DELETE_ALREADY_GONE)])
    _serve(httpserver, delete_status=404)
    result = _run(httpserver, scenario)
    [case] = result.cases
    found = [c for c in case.checks if c.cleanup and not c.passed]
    assert found and {c.level.value for c in found} == {"should"}, found  # the finding is there
    assert case.outcome is Outcome.PASSED
    assert case.cleanup_problems() == [] and result.cleanup_problem_count() == 0
    assert result.cases_with_cleanup_problems() == []
    console = Console(file=io.StringIO(), width=200)
    terminal.render(result, console)
    text = console.file.getvalue()
    assert "Cleanup problems" not in text and "cleanup problems" not in text, text
    assert json.loads(json_report.dumps(result))["cleanup_problems"] == 0
    assert "<h2>Cleanup problems (0)</h2>" in html.render(result)


@pytest.mark.parametrize(
    ("level", "name", "problem"),
    [
        ("must", "content_type", True),
        ("should", "status_code", True),
        ("reference", "status_code", True),
        ("should", "response_received", True),
        ("reference", "cleanup", True),
        ("should", "content_type_strict", False),
        ("reference", "error_code", False),
    ],
)
def test_what_counts_as_a_cleanup_problem(level: str, name: str, problem: bool) -> None:
    from harness.results import CaseResult, CheckResult, Level

    check = CheckResult(f"cleanup step 1 (call: klant_delete): {name}", False, Level(level))
    check.cleanup = True
    case = CaseResult("c", "t", "oas:klant_delete", Level.MUST, checks=[check])
    assert (case.cleanup_problems() == [check]) is problem
    assert case.outcome is Outcome.PASSED  # never counted, problem or not
