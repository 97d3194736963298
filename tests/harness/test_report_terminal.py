"""The terminal report: the fuzz seed and the options that repeat the fuzzing are printed
whenever the fuzzer ran, and only then."""

from __future__ import annotations

import io

import pytest
from pytest_httpserver import HTTPServer
from rich.console import Console

from harness.cli import main
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
