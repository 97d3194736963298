"""Reporters: JUnit parses with the right counts, JSON round-trips, HTML is self-contained and
masks every token; the terminal report shows the verdict."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from harness.report import html, json_report, junit, terminal
from harness.results import CaseResult, CheckResult, Exchange, Level, RunResult
from harness.spec import load_spec
from zgw.jwt import bearer

TOKEN = bearer("vendor", "vendor-secret-long-enough-for-hs256-keys")


@pytest.fixture()
def run_result() -> RunResult:
    exchange = Exchange(
        method="POST",
        url="http://kic/api/v1/verzoeken",
        request_headers={"Authorization": TOKEN, "Content-Type": "application/json"},
        request_body='{"status": "ontvangen"}',
        status=200,
        response_headers={"API-version": "1.0.0-rc1", "X-Echo": TOKEN},
        response_body=json.dumps({"seen": TOKEN}),
        operation_id="verzoek_create",
    )

    def case(id_: str, level: Level, passed: bool, **extra: object) -> CaseResult:
        check = CheckResult(
            "step 1: status_code", passed, level, "expected status 201, got 200", 201, 200, 0
        )
        return CaseResult(
            id=id_,
            title=id_,
            rule="oas:verzoek_create",
            level=level,
            operations=["verzoek_create"],
            checks=[check],
            exchanges=[exchange],
            **extra,
        )

    result = RunResult(
        target="http://kic/api/v1",
        started_at="2026-01-01T00:00:00+00:00",
        spec_version="1.0.0-rc1",
        fuzz_seed=20201,
        documented_statuses=load_spec().documented_statuses(),  # as harness.run sets it
    )
    result.cases = [
        case("ok", Level.MUST, True),
        case("broken", Level.MUST, False),
        case("also-broken", Level.MUST, False),
        case("etag", Level.SHOULD, False),
        case("code", Level.REFERENCE, False),
        case("skipped", Level.MUST, True, skip_reason="needs the mock DRC"),
        case("crashed", Level.MUST, True, error="target unreachable"),
    ]
    result.record_status("verzoek_create", 200)
    result.record_status("verzoek_create", 200)
    return result


def test_junit_counts_failures_errors_and_skips(run_result: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    junit.write(run_result, path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("tests") == "7"
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("2", "1", "1")
    assert len(suite.findall("testcase/failure")) == 2
    assert TOKEN.split()[1] not in path.read_text(encoding="utf-8")


def test_json_round_trips(run_result: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    json_report.write(run_result, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["verdict"] == "NOT CONFORMANT" and data["exit_code"] == 1
    again = json_report.read(path)
    assert json.loads(json_report.dumps(again)) == data
    assert again.observed_statuses["verzoek_create"][200] == 2
    assert TOKEN.split()[1] not in path.read_text(encoding="utf-8")


def test_html_has_the_matrices_and_coverage_and_no_token(
    run_result: RunResult, tmp_path: Path
) -> None:
    path = tmp_path / "report.html"
    html.write(run_result, path)
    page = path.read_text(encoding="utf-8")
    assert "NOT CONFORMANT" in page
    assert "<h2>Operations</h2>" in page and "<h2>Rules</h2>" in page
    assert "Coverage: documented status codes observed" in page
    assert "klant_create" in page  # every documented operation has a coverage row
    assert "expected status 201, got 200" in page
    assert "http://" not in page.split("<body>")[0]  # no external assets
    assert "<script src" not in page and "<link" not in page
    assert TOKEN.split()[1] not in page
    assert "Bearer ***" in page


def test_terminal_shows_failures_and_verdict(run_result: RunResult) -> None:
    buffer = io.StringIO()
    terminal.render(run_result, Console(file=buffer, width=150, color_system=None))
    text = buffer.getvalue()
    assert "Operations" in text and "Rules" in text
    assert "FAILED broken" in text and "> POST http://kic/api/v1/verzoeken" in text
    assert text.rstrip().splitlines()[-1].startswith("NOT CONFORMANT")
    assert TOKEN.split()[1] not in text
