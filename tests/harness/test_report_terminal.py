"""The terminal report: the fuzz seed and the options that repeat the fuzzing are printed
whenever the fuzzer ran, and only then; a failure reads as its cause, first and on one screen;
reproduce lines work when pasted; output that is not a terminal is not hard-wrapped."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from rich.console import Console

from harness.cli import main
from harness.config import RunConfig
from harness.report import terminal
from harness.results import CaseResult, CheckResult, Level, RunResult
from tests.harness.conftest import LIST_KLANTEN

API = {"API-version": "1.0.0-rc1"}
SECRET = "term-secret-long-enough-for-hs256-keys"


def _render(run: RunResult) -> str:
    buffer = io.StringIO()
    terminal.render(run, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def _run(*cases: CaseResult) -> RunResult:
    result = RunResult(
        target="http://kic/api/v1",
        started_at="2026-01-01T00:00:00+00:00",
        spec_version="1.0.0-rc1",
        fuzz_seed=4242,
        settings={"fuzz_examples": 7, "fuzz_seed": 4242},
    )
    result.cases = list(cases)
    return result


def _case(id_: str, kind: str, **extra: object) -> CaseResult:
    check = CheckResult("status_code", True, Level.MUST)
    return CaseResult(
        id=id_,
        title=id_,
        rule="oas:klant_list",
        level=Level.MUST,
        kind=kind,
        checks=[check],
        **extra,
    )


def test_the_seed_and_how_to_repeat_it_are_printed_when_fuzzing_ran() -> None:
    text = _render(_run(_case("klanten-list", "scenario"), _case("klant_list", "fuzz")))
    assert "fuzz seed 4242 (7 examples per operation)" in text
    assert "--fuzz-seed 4242 --fuzz-examples 7" in text
    assert text.rstrip().splitlines()[-1].startswith("CONFORMANT")  # the verdict stays last


@pytest.mark.parametrize(
    "cases",
    [
        [_case("klanten-list", "scenario")],  # --no-fuzz: no fuzz cases at all
        [_case("fuzz", "fuzz", skip_reason="the fuzzing module is not installed")],
    ],
)
def test_no_seed_line_when_fuzzing_did_not_run(cases: list[CaseResult]) -> None:
    assert "fuzz seed" not in _render(_run(*cases))


def test_the_cli_prints_the_seed_it_fuzzed_with(
    httpserver: HTTPServer, scenario_dir, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    args = ["run", "--target", httpserver.url_for("/api/v1"), "--client-id", "t"]
    args += ["--secret", SECRET, "--scenarios", str(scenario_dir(list=LIST_KLANTEN))]
    args += ["--operation", "klant_list", "--fuzz-examples", "1", "--fuzz-seed", "31337"]
    main(args)
    out = capsys.readouterr().out
    assert "fuzz seed 31337 (1 example per operation)" in out, out
    assert "--fuzz-seed 31337 --fuzz-examples 1" in out


# --------------------------------------------------------------------------- reading as causes

BIN = Path(sys.executable).parent
DETAILS = "Details: every case that did not pass"


def _paste(line: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a reproduce line as a user pasting it into bash would (the venv's commands first
    on PATH, secrets in the environment)."""
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, env=environment, timeout=300
    )


def test_a_pasted_reproduce_line_reruns_the_scenario(
    httpserver: HTTPServer, scenario_dir, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], status=500, headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    folder = scenario_dir(list=LIST_KLANTEN)
    args = ["run", "--target", httpserver.url_for("/api/v1"), "--client-id", "t"]
    args += ["--secret", SECRET, "--scenarios", str(folder), "--no-fuzz"]
    assert main([*args, "--json", str(tmp_path / "r.json")]) == 1
    out = capsys.readouterr().out
    [line] = [x.split("reproduce: ", 1)[1] for x in out.splitlines() if "reproduce: " in x]
    assert "***" not in line and SECRET not in line
    assert f"--scenarios {folder}" in line and "--id klanten-list" in line
    assert line.endswith("# with your secrets in $KIC_CONFORMANCE_SECRET")
    pasted = _paste(line, KIC_CONFORMANCE_SECRET=SECRET)
    assert pasted.returncode == 1, pasted.stderr
    assert "FAILED klanten-list" in pasted.stdout
    assert "expected status 200, got 500" in pasted.stdout


def test_a_reproduce_line_says_when_the_drc_was_embedded() -> None:
    config = RunConfig(target="http://kic/api/v1", client_id="c", secret="s", drc_url="http://d")
    config.embedded_drc = ["--drc-host 0.0.0.0 --drc-port 8500", "--drc-lenient"]
    line = config.reproduce_command("kic-001-create-mirrors")
    assert "--drc-url" not in line
    assert "--drc-host 0.0.0.0 --drc-port 8500 --drc-lenient" in line
    assert line.endswith("the mock DRC was embedded in the run: this starts it again")


def test_output_that_is_not_a_terminal_is_not_hard_wrapped(
    httpserver: HTTPServer, scenario_dir, capsys: pytest.CaptureFixture[str]
) -> None:
    long = "x" * 400
    httpserver.expect_request("/api/v1/klanten").respond_with_json(
        {"detail": long}, status=500, headers=API
    )
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    args = ["run", "--target", httpserver.url_for("/api/v1"), "--client-id", "t", "--secret"]
    args += [SECRET, "--scenarios", str(scenario_dir(list=LIST_KLANTEN)), "--no-fuzz"]
    main(args)
    out = capsys.readouterr().out
    assert f'"detail": "{long}"' in out  # one line, however wide
    assert any(
        x.startswith("  reproduce: kic-conformance run ") and x.endswith("$KIC_CONFORMANCE_SECRET")
        for x in out.splitlines()
    )


@pytest.mark.slow
def test_a_wrong_mirror_reads_as_its_cause_on_one_screen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """kic-conformance demo --defect delete-wrong-mirror (fuzzing on, as a vendor runs it):
    the causes come first, name the failing scenario with the DRC's refusal and the KIC's
    answer to the call-back, and all that is read before the details fits on one screen."""
    assert main(["demo", "--defect", "delete-wrong-mirror"]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    summary = lines[: lines.index(next(x for x in lines if DETAILS in x))]
    assert len(summary) <= 50, "\n".join(summary)
    assert summary[0].startswith("reference KIC at ")  # what ran, then at once the causes
    assert re.fullmatch(r"Causes of (errors, )?failures.* \(\d+\), worst first:", summary[1])
    # (kic-001-cascade-partial-failure is caught too, by drc_mirrored: its cause comes first)
    [at] = [i for i, x in enumerate(summary) if "FAILED  status_code: expected status 204" in x]
    assert re.fullmatch(r"  \d\. FAILED  status_code: expected status 204, got 409", summary[at])
    assert summary[at + 1].startswith("     1 case: kic-001-delete-right-mirror;")
    assert re.fullmatch(
        r"     mock DRC: DELETE /documenten/api/v1/objectinformatieobjecten/\S+ \(about \{doc\}, "
        r"\{verzoek\}\): the DRC refused it with 400; its call-back about \{doc\}, \{verzoek\}: "
        r"the KIC answered 200, listed \(The KIC listed 1 relation\(s\)\.\)",
        summary[at + 2],
    ), summary[at + 2]
    assert lines[-1].startswith("NOT CONFORMANT")
    [line] = [
        x.split("reproduce: ", 1)[1]
        for x in lines
        if "reproduce: kic-conformance" in x and "--id kic-001-delete-right-mirror " in x
    ]
    assert line.startswith(
        "kic-conformance demo --defect delete-wrong-mirror --id kic-001-delete-right-mirror "
        "--no-fuzz  # the demo's reference KIC and mock DRC are embedded"
    )
    pasted = _paste(line)
    assert pasted.returncode == 1, pasted.stderr
    assert "FAILED kic-001-delete-right-mirror" in pasted.stdout
