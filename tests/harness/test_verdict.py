"""A verdict a certificate can rest on (issue 11): CONFORMANT only for a complete run; every gap
(no DRC, a lenient DRC, a DRC that accepts any token, no narrow client, a selection, own
scenarios or contract, less fuzzing, skips, a stop) makes a run without failures
``NO FAILURES (incomplete: ...)`` with exit 3, and every report records the mode and reasons.
Also: --max-failures stops the run, Ctrl-C keeps what finished (exit 130), and
``kic-conformance demo`` on the reference KIC is CONFORMANT with exit 0.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from rich.console import Console
from werkzeug import Request, Response

from harness.cli import LineProgress, LiveProgress
from harness.config import RunConfig, Selection
from harness.environment import embedded_environment
from harness.report import html as html_report
from harness.report import json_report, junit, terminal
from harness.results import CaseResult, CheckResult, Level, Outcome, RunMode, RunResult
from harness.run import run, run_mode
from harness.scenarios import load_library

COMPLETE = RunMode(
    drc="strict", drc_checks_tokens=True, narrow_client=True, fuzz_examples=25, fuzz_seed=1
)
API = {"API-version": "1.0.0-rc1"}
SECRET = "verdict-secret-long-enough-for-hs256-keys"


def result_with(mode: RunMode | None, *cases: CaseResult, **extra: object) -> RunResult:
    return RunResult(
        target="http://kic/api/v1", started_at="", mode=mode, cases=list(cases), **extra
    )


def passed(id_: str = "a") -> CaseResult:
    return CaseResult(
        id_, id_, "oas:klant_list", Level.MUST, checks=[CheckResult("s", True, Level.MUST)]
    )


def failed(id_: str = "b") -> CaseResult:
    return CaseResult(
        id_, id_, "oas:klant_list", Level.MUST, checks=[CheckResult("s", False, Level.MUST)]
    )


def test_only_a_complete_run_without_failures_is_conformant() -> None:
    result = result_with(COMPLETE, passed())
    assert (result.verdict, result.exit_code, result.incomplete_reasons) == ("CONFORMANT", 0, [])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"drc": "none"}, "no mock DRC (kic-001 not checked)"),
        ({"drc": "lenient"}, "lenient DRC (kic-001 ordering not checked)"),
        ({"drc_checks_tokens": False}, "the DRC accepts any token"),
        ({"narrow_client": False}, "no narrow client (scopes not checked)"),
        ({"selection": {"tags": ["kic-001"]}}, "selection (tags kic-001)"),
        ({"scenarios": "my-scenarios"}, "scenarios: my-scenarios"),
        ({"contract": "my.yaml"}, "contract: my.yaml"),
        ({"fuzz_examples": 0}, "no fuzzing"),
        ({"fuzz_examples": 5}, "fuzzing with 5 examples per operation (fewer than 25)"),
        ({"preflight": False}, "no pre-flight checks"),
        ({"tls_insecure": True}, "TLS certificates not checked"),
    ],
)
def test_every_gap_of_the_mode_makes_a_run_incomplete(change: dict, reason: str) -> None:
    mode = RunMode(**{**COMPLETE.__dict__, **change})
    result = result_with(mode, passed())
    assert result.exit_code == 3
    assert result.verdict == f"NO FAILURES (incomplete: {reason})"
    broken = result_with(mode, passed(), failed())
    assert (broken.verdict, broken.exit_code) == ("NOT CONFORMANT", 1)  # failures always win


def test_skips_stops_interrupts_and_aborts() -> None:
    skipped = CaseResult("s", "s", "kic-001", Level.MUST, skip_reason="needs the mock DRC")
    assert result_with(COMPLETE, passed(), skipped).verdict == "NO FAILURES (incomplete: 1 skipped)"
    stopped = result_with(COMPLETE, passed(), stopped="stopped after 1 failed cases")
    assert stopped.exit_code == 3 and "stopped after 1 failed cases" in stopped.verdict
    interrupted = result_with(COMPLETE, failed(), interrupted=True)
    assert (interrupted.verdict, interrupted.exit_code) == ("INTERRUPTED", 130)
    aborted = result_with(COMPLETE, aborted="no answer")
    assert (aborted.verdict, aborted.exit_code) == ("COULD NOT RUN", 2)


def test_the_mode_of_a_drc_comes_from_the_drc_itself() -> None:
    config = RunConfig(target="http://kic", client_id="c", secret="s", drc_url="http://drc")
    lenient = run_mode(
        config, {"strict": False, "acceptAnyToken": True}, given=False, preflight=True
    )
    assert (lenient.drc, lenient.drc_checks_tokens) == ("lenient", False)
    unknown = run_mode(config, {}, given=False, preflight=False)
    assert (unknown.drc, unknown.drc_checks_tokens, unknown.preflight) == ("unknown", False, False)


def test_an_insecure_run_is_never_conformant_and_every_report_says_so(tmp_path: Path) -> None:
    """--insecure: the harness did not check who answered, so no certificate rests on it."""
    config = RunConfig(
        target="https://kic/api/v1",
        client_id="c",
        secret="s",
        drc_url="http://drc",
        narrow_client=("n", "ns"),
        tls_insecure=True,
    )
    settings = {"strict": True, "acceptAnyToken": False}
    mode = run_mode(config, settings, given=False, preflight=True)
    result = result_with(mode, passed())
    assert (result.verdict_state, result.exit_code) == ("NO FAILURES", 3)
    assert result.incomplete_reasons == ["TLS certificates not checked"]
    for name, text in report_texts(result, tmp_path).items():
        assert "TLS certificates not checked" in text, name
    assert again_from_json(tmp_path).verdict == result.verdict
    config.tls_insecure = False
    checked = result_with(run_mode(config, settings, given=False, preflight=True), passed())
    assert checked.verdict == "CONFORMANT"


def report_texts(result: RunResult, folder: Path) -> dict[str, str]:
    """Every report of ``result`` as text."""
    json_report.write(result, folder / "r.json")
    junit.write(result, folder / "r.xml")
    html_report.write(result, folder / "r.html")
    buffer = io.StringIO()
    terminal.render(result, Console(file=buffer, width=200, color_system=None))
    return {
        "json": (folder / "r.json").read_text(),
        "junit": (folder / "r.xml").read_text(),
        "html": (folder / "r.html").read_text(),
        "terminal": buffer.getvalue(),
    }


@pytest.mark.slow
def test_a_lenient_drc_is_not_conformant_and_every_report_says_so(tmp_path: Path) -> None:
    with embedded_environment(strict=False, fuzz_examples=0) as config:
        config.selection = Selection(tags=["kic-001"])
        result = run(config)
    assert result.mode is not None and result.mode.drc == "lenient"
    assert result.exit_code == 3 and not result.failed
    reason = "lenient DRC (kic-001 ordering not checked)"
    texts = report_texts(result, tmp_path)
    for name, text in texts.items():
        assert reason in text, name
    data = json.loads(texts["json"])
    assert data["mode"]["drc"] == "lenient" and reason in data["incomplete"]
    assert data["verdict_state"] == "NO FAILURES" and data["exit_code"] == 3
    properties = {
        p.get("name"): p.get("value") for p in ET.fromstring(texts["junit"]).iter("property")
    }
    assert properties["mode.drc"] == "lenient" and reason in properties["incomplete"]
    assert "mode: DRC lenient (no call-back)" in texts["terminal"]
    assert again_from_json(tmp_path).verdict == result.verdict


def again_from_json(folder: Path) -> RunResult:
    return json_report.read(folder / "r.json")


def test_without_a_drc_the_reference_kic_is_not_conformant(tmp_path: Path) -> None:
    with embedded_environment(fuzz_examples=0) as config:
        config.drc_url = None
        config.selection = Selection(tags=["kic-001"])
        result = run(config)
    kic_001 = len([s for s in load_library() if "kic-001" in s.tags])
    assert result.counts() == {Outcome.SKIPPED: kic_001}
    assert result.verdict.startswith("NO FAILURES (incomplete: no mock DRC (kic-001 not checked);")
    assert f"{kic_001} skipped" in result.verdict


SCENARIO = """\
id: {id}
title: Listing klanten
rule: oas:klant_list
steps:
  - call: klant_list
    expect: {{status: 200}}
"""


def test_max_failures_stops_the_run(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], status=200, headers=API)
    folder = tmp_path / "scenarios" / "klanten"
    folder.mkdir(parents=True)
    for n in range(3):
        text = SCENARIO.format(id=f"list-{n}").replace("status: 200", "status: 201")
        (folder / f"list-{n}.yaml").write_text(text)
    config = RunConfig(
        target=httpserver.url_for("/api/v1"),
        client_id="c",
        secret=SECRET,
        scenario_paths=[folder.parent],
        fuzz_examples=25,
        workers=1,
        max_failures=1,
    )
    result = run(config)
    assert [c.outcome for c in result.cases] == [Outcome.FAILED]
    assert result.stopped == (
        "stopped after 1 failed cases (--max-failures 1): 2 of 3 scenarios not run, no fuzzing"
    )
    assert result.verdict == "NOT CONFORMANT" and "stopped after 1" in result.incomplete_reasons[-1]
    assert not [c for c in result.cases if c.kind == "fuzz"]


SETUP_FAILS = """\
id: {id}
title: Reading a klant after listing them
rule: oas:klant_list
steps:
  - call: klant_list
    under_test: false
    expect: {{status: 201}}
  - call: klant_list
    under_test: true
    expect: {{status: 200}}
"""


def test_max_failures_counts_precondition_failures_too(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A failed set-up step makes a case precondition failed: NOT CONFORMANT like a failed
    one, so it counts towards --max-failures as well."""
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], status=200, headers=API)
    folder = tmp_path / "scenarios" / "klanten"
    folder.mkdir(parents=True)
    for n in range(3):
        (folder / f"setup-{n}.yaml").write_text(SETUP_FAILS.format(id=f"setup-{n}"))
    config = RunConfig(
        target=httpserver.url_for("/api/v1"),
        client_id="c",
        secret=SECRET,
        scenario_paths=[folder.parent],
        fuzz_examples=0,
        workers=1,
        max_failures=2,
    )
    result = run(config)
    assert [c.outcome for c in result.cases] == [Outcome.PRECONDITION_FAILED] * 2
    assert result.stopped is not None and "1 of 3 scenarios not run" in result.stopped


def test_line_progress_for_logs() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream)
    progress("scenarios", None, 0, 20)
    for n in range(1, 21):
        progress("scenarios", passed(f"s{n}") if n != 3 else failed("s3"), n, 20)
    progress("fuzz", None, 0, 2)
    progress("fuzz", passed("fuzz:klant_list"), 1, 2)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "kic-conformance: running 20 scenarios"
    assert lines[1] == "kic-conformance: scenarios 2/20: 2 passed"
    assert "kic-conformance: scenarios 20/20: 1 failed, 19 passed" in lines
    assert lines[-2:] == [
        "kic-conformance: running 2 operations to fuzz",
        "kic-conformance: fuzz 1/2 klant_list: passed",
    ]


def test_on_a_terminal_the_fuzz_phase_has_its_own_running_bar() -> None:
    live = LiveProgress(Console(file=io.StringIO(), force_terminal=True, width=120))
    with live.bar:
        live("scenarios", None, 0, 1)
        live("scenarios", passed(), 1, 1)
        live("fuzz", None, 0, 38)
        live("fuzz", passed("fuzz:klant_list"), 1, 38)
        scenarios, fuzz = (live.bar.tasks[live.tasks[p]] for p in ("scenarios", "fuzz"))
        assert scenarios.finished and scenarios.stop_time is not None
        assert fuzz.started and fuzz.stop_time is None and not fuzz.finished
        assert fuzz.completed == 1 and fuzz.total == 38 and fuzz.fields["last"].endswith("passed")


@pytest.mark.parametrize(
    ("signum", "code", "how"),
    [
        (signal.SIGINT, 130, "interrupted"),
        # A cancelled CI job or ``docker stop``: the same, told apart by its exit status.
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
    ],
)
def test_ctrl_c_writes_the_reports_of_what_finished_and_exits_130(
    httpserver: HTTPServer, tmp_path: Path, signum: int, code: int, how: str
) -> None:
    """The second scenario hangs until the test sends SIGINT (or SIGTERM) to the CLI."""
    release = []

    def slow(request: Request) -> Response:
        for _ in range(300):
            if release:
                break
            time.sleep(0.1)
        return Response("[]", headers={**API, "Content-Type": "application/json"})

    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    httpserver.expect_request("/api/v1/klanten", query_string="slow=1").respond_with_handler(slow)
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    folder = tmp_path / "scenarios" / "klanten"
    folder.mkdir(parents=True)
    (folder / "a.yaml").write_text(SCENARIO.format(id="a-fast"))
    (folder / "b.yaml").write_text(
        SCENARIO.format(id="b-slow").replace(
            "- call: klant_list", "- call: klant_list\n    query: {slow: '1'}"
        )
    )
    report = tmp_path / "r.json"
    command = [
        sys.executable, "-m", "harness.cli", "run", "--target", httpserver.url_for("/api/v1"),
        "--client-id", "c", "--secret", SECRET, "--scenarios", str(folder.parent),
        "--workers", "1", "--timeout", "30", "--json", str(report),
    ]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stderr is not None
        for line in child.stderr:
            if "scenarios 1/2" in line:
                break
        child.send_signal(signum)
        out, err = child.communicate(timeout=60)
    finally:
        release.append(True)
        if child.poll() is None:
            child.kill()
    assert child.returncode == code, out + err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["verdict"] == "INTERRUPTED"
    assert data["exit_code"] == code and data["terminated"] is (signum == signal.SIGTERM)
    assert [c["id"] for c in data["cases"]] == ["a-fast"]
    assert f"{how} after 1 of 2 scenarios" in data["incomplete"]
    assert out.rstrip().splitlines()[-2].startswith("INTERRUPTED ")


@pytest.mark.slow
def test_the_demo_is_conformant_with_exit_0(tmp_path: Path) -> None:
    """The whole library, the contract, the strict DRC, the narrow client and fuzzing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIC_CONFORMANCE_")}
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "demo", "--json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["verdict"] == "CONFORMANT" and data["incomplete"] == []
    assert data["mode"]["drc"] == "strict" and data["mode"]["fuzz_examples"] == 25
    assert done.stdout.rstrip().splitlines()[-2].startswith("CONFORMANT ")
    assert "kic-conformance: fuzz 38/38 verzoekproduct_delete: passed" in done.stderr
