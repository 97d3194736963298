"""kic-conformance CLI: exit codes 0 / 1 / 2, validate and list."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from harness.cli import main
from tests.harness.conftest import LIST_KLANTEN
from zgw.serving import free_port

API = {"API-version": "1.0.0-rc1"}
SECRET = "cli-secret-long-enough-for-hs256-keys"


def run_args(target: str, folder: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--target",
        target,
        "--client-id",
        "cli",
        "--secret",
        SECRET,
        "--scenarios",
        str(folder),
        "--no-fuzz",
        *extra,
    ]


def test_conformant_target_exits_0(httpserver: HTTPServer, scenario_dir, tmp_path, capsys) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    report = tmp_path / "r.json"
    code = main(
        run_args(
            httpserver.url_for("/api/v1"), scenario_dir(list=LIST_KLANTEN), "--json", str(report)
        )
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "CONFORMANT" in out and report.exists()
    assert SECRET not in out


def test_non_conformant_target_exits_1(httpserver: HTTPServer, scenario_dir, capsys) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json({"not": "a list"}, headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    code = main(run_args(httpserver.url_for("/api/v1"), scenario_dir(list=LIST_KLANTEN)))
    out = capsys.readouterr().out
    assert code == 1
    assert "NOT CONFORMANT" in out and "response_schema" in out


def test_unreachable_target_exits_2(scenario_dir, capsys) -> None:
    target = f"http://127.0.0.1:{free_port()}/api/v1"
    assert main(run_args(target, scenario_dir(list=LIST_KLANTEN))) == 2
    assert "COULD NOT RUN" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run"],
        ["run", "--target", "kic.example", "--client-id", "a", "--secret", "b"],
        [
            "run",
            "--target",
            "http://x/api/v1",
            "--client-id",
            "a",
            "--secret",
            "b",
            "--narrow-client-id",
            "n",
        ],
        [
            "run",
            "--target",
            "http://x/api/v1",
            "--client-id",
            "a",
            "--secret",
            "b",
            "--drc-host",
            "127.0.0.1",
        ],
        [
            "run",
            "--target",
            "http://x/api/v1",
            "--client-id",
            "a",
            "--secret",
            "b",
            "--timeout",
            "-1",
        ],
        ["demo", "--defect", "no-such-defect"],
    ],
)
def test_bad_usage_exits_2_without_traceback(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_bad_scenario_folder_exits_2_naming_the_place(scenario_dir, capsys) -> None:
    folder = scenario_dir(bad="id: x\ntitle: t\nrule: kic-001\nsteps: [{call: nope}]\n")
    code = main(run_args("http://127.0.0.1:9/api/v1", folder))
    out = capsys.readouterr().out
    assert code == 2
    assert "bad.yaml:4" in out and "no operation 'nope'" in out and "COULD NOT RUN" in out


def test_validate(scenario_dir, capsys) -> None:
    good = scenario_dir(list=LIST_KLANTEN)
    assert main(["validate", str(good)]) == 0
    assert "1 scenario(s) valid, 0 problem(s)" in capsys.readouterr().out
    (good / "klanten" / "broken.yaml").write_text("id: y\ntitle: t\nrule: kic-001\nsteps: 3\n")
    assert main(["validate", str(good)]) == 1
    out = capsys.readouterr().out
    assert f"{good / 'klanten' / 'broken.yaml'}:4: steps: 3 is not of type 'array'" in out


def test_list_filters(scenario_dir, capsys) -> None:
    folder = scenario_dir(list=LIST_KLANTEN)
    assert main(["list", "--scenarios", str(folder), "--tag", "smoke"]) == 0
    out = capsys.readouterr().out
    assert "klanten-list\toas:klant_list\tmust\tsmoke,klanten" in out
    assert main(["list", "--scenarios", str(folder), "--exclude-tag", "klanten"]) == 0
    assert "0 of 1 scenarios" in capsys.readouterr().out
