"""Reporters: JUnit parses with the right counts and opens with the causes, JSON round-trips,
HTML is self-contained, masks every token, shows values as JSON, folds long texts outside any
entity, colours only what a correct KIC must produce, links tables and causes to the cases
and lists the passed ones; the terminal report shows the causes first and the verdict last.
(The same page in a real browser: test_report_browser.py.)"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from harness.report import html, json_report, junit, terminal
from harness.results import CaseResult, CheckResult, Exchange, Level, RunMode, RunResult
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
            "step 1 (call: verzoek_create): status_code",
            passed,
            level,
            "expected status 201, got 200",
            201,
            200,
            0,
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
    assert "<h2>Operations (steps under test)</h2>" in page and "<h2>Rules</h2>" in page
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


def test_junit_opens_with_the_causes(run_result: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    junit.write(run_result, path)
    suite = ET.parse(path).getroot().find("testsuite")
    names = [p.get("name") for p in suite.iter("property")]
    assert names[:4] == ["cause.1", "cause.2", "cause.3", "cause.4"]
    first = suite.find("properties/property").get("value")
    assert first.startswith("ERROR  error: target unreachable; 1 case: crashed")
    assert (
        "  2. FAILED  status_code: expected status 201, got 200\n"
        "     2 cases: broken, also-broken; operation: verzoek_create\n"
    ) in suite.find("system-out").text


def test_junit_counts_a_precondition_failure_as_a_failure(
    run_result: RunResult, tmp_path: Path
) -> None:
    run_result.cases[1].checks[0].under_test = False  # "broken" failed in its set-up
    path = tmp_path / "report.xml"
    junit.write(run_result, path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("failures") == "2"
    types = sorted(f.get("type") for f in suite.findall("testcase/failure"))
    assert types == ["must", "precondition"]


class _Text(HTMLParser):
    """The text of the elements with a class, by class (what a reader sees, entities read)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(dict(attrs).get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1]:
            self.texts.setdefault(self.stack[-1], []).append(data)


def test_long_bodies_fold_with_a_marker_and_never_inside_an_entity(
    run_result: RunResult,
) -> None:
    body = json.dumps({"tekst": 'a < b & c > d " e ' * 200})  # entities all along it
    run_result.cases[1].exchanges = [
        Exchange("POST", "http://kic/api/v1/x", {}, body, 200, {}, body, operation_id="x")
    ]
    page = html.render(run_result)
    assert "folded:" in page and "more characters" in page
    pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    # Every fold is a whole number of characters: the two parts read back to the whole.
    parser = _Text()
    parser.feed(page)
    json_texts = "".join(parser.texts["json"])
    assert pretty in json_texts
    assert not re.search(r"&[a-z]*</pre>", page)  # no entity cut off at a fold


def test_html_shows_values_as_json_not_python(run_result: RunResult) -> None:
    run_result.cases[1].checks[0].expected = {"klant": None, "ok": True, "naam": "x"}
    page = html.render(run_result)
    assert "&quot;klant&quot;: null" in page and "&quot;ok&quot;: true" in page
    assert "None" not in page and "&#x27;klant&#x27;" not in page


def _coverage_cells(page: str, operation: str) -> dict[str, str]:
    coverage = page.split("id='coverage'>")[1].split("</table>")[0]
    head = re.findall(r"<th>(\d+)</th>", coverage)
    row = next(r for r in coverage.split("<tr>") if r.startswith(f"<td>{operation}</td>"))
    return dict(zip(head, re.findall(r"<td[^>]*>", row)[1:], strict=True))


def test_coverage_is_red_only_for_codes_the_run_asked_for(run_result: RunResult) -> None:
    """Red: a scenario step of this run asked for the code and it never came. A code nothing
    in the run provokes is neutral, however a correct KIC would answer elsewhere."""
    cells = _coverage_cells(html.render(run_result), "verzoek_create")
    assert "missing" in cells["201"]  # asked for (expected status 201), never observed: red
    assert "seen" in cells["200"] or "extra" in cells["200"]
    for status in ("400", "403", "406", "409", "410", "415", "429", "500", "401"):
        assert "missing" not in cells[status] and "optional" in cells[status], status
    untouched = _coverage_cells(html.render(run_result), "klant_create")  # no case calls it
    assert not any("missing" in cell for cell in untouched.values()), untouched


def test_coverage_reds_a_group_of_codes_only_when_none_came(run_result: RunResult) -> None:
    """A step accepting 401 or 403 owes one of them: red only while neither was observed."""
    auth = CheckResult(
        "step 1 (call: verzoek_create): status_code", False, Level.MUST, "x", [401, 403], 400, 0
    )
    run_result.cases[1].checks.append(auth)
    cells = _coverage_cells(html.render(run_result), "verzoek_create")
    assert "missing" in cells["401"] and "missing" in cells["403"]
    run_result.record_status("verzoek_create", 403)
    cells = _coverage_cells(html.render(run_result), "verzoek_create")
    assert "missing" not in cells["401"] and "seen" in cells["403"]


def test_a_conformant_style_run_paints_no_unprovoked_code_red(run_result: RunResult) -> None:
    """The full demo's 70 red cells: 406 and 415 on operations no scenario sends such a request
    to. Only the cases that passed, every asked-for code observed: nothing is red."""
    run_result.cases = [run_result.cases[0]]
    run_result.cases[0].checks[0].expected = 200
    page = html.render(run_result)
    assert "class='n missing'" not in page
    assert "nothing in this run provokes" in page.split("id='coverage-legend'>")[1]


def test_html_links_causes_and_tables_to_cases_and_lists_the_passed(
    run_result: RunResult,
) -> None:
    page = html.render(run_result)
    causes = page.split("id='causes'")[1].split("</ol>")[0]
    assert "href='#case-broken'" in causes and "href='#case-also-broken'" in causes
    assert "id='case-broken'" in page and "id='case-ok'" in page  # the passed one too
    assert re.search(r"<h2 id='passed'>Passed \(1\)</h2><ul><li id='case-ok'", page)
    assert "<a href='#op-verzoek_create'>verzoek_create</a>" in page
    index = page.split("id='op-verzoek_create'>")[1].split("</ul>")[0]
    assert "href='#case-broken'" in index and "href='#case-ok'" in index


def test_html_shows_the_verdict_mode_and_incompleteness(run_result: RunResult) -> None:
    run_result.settings = {
        "drc_url": None,
        "narrow_client_id": None,
        "fuzz_examples": 0,
        "selection": {"tags": ["smoke"]},
    }
    page = html.render(run_result)
    assert "<div class='banner v-not' id='verdict'>NOT CONFORMANT</div>" in page
    assert "mock DRC: <b>none (kic-001 scenarios skipped)</b>" in page
    assert "selection: <b>tags: smoke</b>" in page and "fuzzing: <b>off</b>" in page
    # A run records its mode; the reasons it is incomplete follow from it.
    run_result.mode = RunMode(
        drc="strict",
        drc_checks_tokens=True,
        narrow_client=True,
        selection={"tags": ["smoke"]},
        fuzz_examples=25,
    )
    page = html.render(run_result)
    assert "<li>selection (tags smoke)</li>" in page and "<ul id='incomplete'>" in page
    assert "mock DRC: <b>strict (calls the KIC back), checks tokens</b>" in page
    assert "selection: <b>tags: smoke</b>" in page


def test_terminal_opens_with_the_causes(run_result: RunResult) -> None:
    buffer = io.StringIO()
    terminal.render(run_result, Console(file=buffer, width=100, color_system=None))
    lines = buffer.getvalue().splitlines()
    # Named by what they are: this run has one cause of each kind.
    assert lines[0] == (
        "Causes of errors, failures, warnings and differences from the reference (4), worst first:"
    )
    assert lines[1].startswith("  1. ERROR  error: target unreachable")
    assert lines[3] == "  2. FAILED  status_code: expected status 201, got 200"
    assert lines[4] == "     2 cases: broken, also-broken; operation: verzoek_create"


def test_terminal_lines_are_not_hard_wrapped(run_result: RunResult) -> None:
    long = "expected " + "x" * 300
    run_result.cases[1].checks[0].message = long
    buffer = io.StringIO()
    terminal.render(run_result, Console(file=buffer, width=80, color_system=None))
    assert f"status_code: {long}" in buffer.getvalue()
