"""kic-conformance CLI: exit codes 1 / 2 / 3 on small fake targets (0 needs a complete run:
tests/harness/test_verdict.py), errors on stderr, report paths checked first, options from the
environment and kic-conformance.toml, --version and --help, validate and list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch, tmp_path) -> None:
    """No KIC_CONFORMANCE_* of the developer's shell and no kic-conformance.toml around."""
    for name in [n for n in os.environ if n.startswith("KIC_CONFORMANCE_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def serve_list(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    return httpserver.url_for("/api/v1")


def test_an_incomplete_run_without_failures_exits_3_naming_what_was_not_checked(
    httpserver: HTTPServer, scenario_dir, tmp_path, capsys
) -> None:
    report = tmp_path / "r.json"
    code = main(
        run_args(serve_list(httpserver), scenario_dir(list=LIST_KLANTEN), "--json", str(report))
    )
    captured = capsys.readouterr()
    assert code == 3, captured.out
    verdict = captured.out.splitlines()[-2]  # the last line names the report file
    assert verdict.startswith("NO FAILURES (incomplete: no mock DRC (kic-001 not checked); ")
    assert "no narrow client" in verdict and "no fuzzing" in verdict
    assert report.exists() and SECRET not in captured.out + captured.err
    assert "kic-conformance: scenarios 1/1: 1 passed" in captured.err  # line progress in logs


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
    captured = capsys.readouterr()
    assert "COULD NOT RUN" in captured.out
    assert "Connection refused" in captured.err and "check --target" in captured.err


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
    captured = capsys.readouterr()
    assert code == 2
    assert "bad.yaml:4" in captured.err and "no operation 'nope'" in captured.err
    assert "COULD NOT RUN" in captured.out


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


@pytest.mark.parametrize(
    "selection",
    [["--id", "no-such-scenario"], ["--tag", "nosuchtag"], ["--operation", "verzoek_create"]],
)
def test_an_empty_selection_exits_2_with_one_line(
    httpserver: HTTPServer, scenario_dir, capsys, selection
) -> None:
    code = main(run_args(serve_list(httpserver), scenario_dir(list=LIST_KLANTEN), *selection))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.splitlines() == [
        f"kic-conformance run: no scenario matches the selection "
        f"({selection[0].lstrip('-')}s: {selection[1]}); see kic-conformance list"
    ]
    assert not httpserver.log  # nothing was sent


def test_an_empty_scenario_folder_exits_2(httpserver: HTTPServer, tmp_path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(run_args(serve_list(httpserver), tmp_path / "empty")) == 2
    assert "no scenarios in" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "where", "problem"),
    [
        ("--html", "/nonexistent/r.html", "the folder /nonexistent does not exist"),
        ("--junit", "{tmp}", "is a folder"),
    ],
)
def test_report_paths_are_checked_before_the_run(
    httpserver: HTTPServer, scenario_dir, tmp_path, capsys, option, where, problem
) -> None:
    path = where.format(tmp=tmp_path)
    code = main(run_args(serve_list(httpserver), scenario_dir(list=LIST_KLANTEN), option, path))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip() == f"kic-conformance run: {option} {path}: {problem}"
    assert captured.out == "" and not httpserver.log


@pytest.mark.parametrize(
    ("option", "url"),
    [
        ("--drc-url", "http://drc.example:8500/documenten/api/v1/"),
        ("--second-drc-url", "http://drc2.example:8500/zaken/api/v1"),
    ],
)
def test_the_drc_url_of_the_documents_api_gets_a_hint(option, url, tmp_path, capsys) -> None:
    """A pre-flight problem like the others: the hint on stderr, COULD NOT RUN on stdout and
    in the reports, before anything is asked of the target."""
    argv = ["run", "--target", "http://kic/api/v1", "--client-id", "c", "--secret", "s"]
    if option == "--second-drc-url":
        argv += ["--drc-url", "http://drc.example:8500"]
    report = tmp_path / "r.json"
    assert main([*argv, option, url, "--json", str(report)]) == 2
    captured = capsys.readouterr()
    base = url.split("/documenten")[0].split("/zaken")[0]
    assert f"kic-conformance run: {option}: {url.rstrip('/')} is the DRC's" in captured.err
    assert f"give the mock DRC's base URL {base} instead" in captured.err
    assert captured.out.startswith("COULD NOT RUN ")
    assert json.loads(report.read_text())["verdict"] == "COULD NOT RUN"


def test_the_secret_can_come_from_the_environment(
    httpserver: HTTPServer, scenario_dir, monkeypatch, capsys
) -> None:
    argv = run_args(serve_list(httpserver), scenario_dir(list=LIST_KLANTEN))
    del argv[argv.index("--secret") : argv.index("--secret") + 2]
    assert main(argv) == 2
    assert "missing --secret (or the environment variable KIC_CONFORMANCE_SECRET" in (
        capsys.readouterr().err
    )
    monkeypatch.setenv("KIC_CONFORMANCE_SECRET", SECRET)
    assert main(argv) == 3
    authorizations = [r.headers.get("Authorization") for r, _ in httpserver.log]
    assert authorizations[-1] and authorizations[-1].startswith("Bearer ")


def test_a_config_file_run(
    httpserver: HTTPServer, scenario_dir, tmp_path, monkeypatch, capsys
) -> None:
    folder = scenario_dir(list=LIST_KLANTEN)
    (tmp_path / "kic-conformance.toml").write_text(
        f'target = "{serve_list(httpserver)}"\nclient-id = "cli"\nsecret = "${{SUITE_SECRET}}"\n'
        f'scenarios = ["{folder}"]\nno-fuzz = true\njson = "report.json"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SUITE_SECRET", SECRET)
    assert main(["run"]) == 3, capsys.readouterr()
    assert (tmp_path / "report.json").exists()
    (tmp_path / "other.toml").write_text('secrte = "x"\n', encoding="utf-8")
    assert main(["run", "--config", str(tmp_path / "other.toml")]) == 2
    assert f"{tmp_path / 'other.toml'}: unknown key 'secrte'" in capsys.readouterr().err


def test_help_lists_the_exit_codes_and_every_command_has_a_version() -> None:
    for command in ("run", "demo"):
        text = subprocess.run(
            [sys.executable, "-m", "harness.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in ("0    CONFORMANT", "1    NOT CONFORMANT", "2    COULD NOT RUN",
                     "3    NO FAILURES (incomplete", "130  INTERRUPTED"):  # fmt: skip
            assert line in text, (command, line)
        assert "KIC_CONFORMANCE_SECRET" in text or command == "demo"
    for module, name in (
        ("harness.cli", "kic-conformance"),
        ("mock_drc.cli", "mock-drc"),
        ("reference_kic.cli", "reference-kic"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stdout.startswith(f"{name} 0."), done


LIST_201 = """\
id: klanten-list-201
title: A list that expects a 201 (fails on any KIC)
rule: oas:klant_list
steps:
  - call: klant_list
    expect: {status: 201}
"""


def test_a_pasted_reproduce_line_keeps_the_drc_clients_of_the_run(
    scenario_dir, tmp_path, monkeypatch, capsys
) -> None:
    """A run with its own --drc-client and --drc-callback-client: the reproduce line names
    both by their environment variables (never the secrets) and, pasted, passes the
    pre-flight again (without them the KIC refused the default call-back client: exit 2)."""
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, DrcCredential, KicConfig
    from zgw.jwt import Client
    from zgw.serving import serve_in_thread

    callback = ("other-drc", "other-drc-callback-secret-0123456789")
    drc_client = ("kic-other", "kic-other-drc-secret-0123456789")
    port = free_port()
    kic_config = KicConfig(
        db_path=str(tmp_path / "kic.sqlite3"),
        clients={
            "cli": Client("cli", SECRET, ALL_SCOPES),
            callback[0]: Client(*callback, frozenset({"klanten.lezen"})),
        },
        drc_credentials=[DrcCredential(f"http://127.0.0.1:{port}/", *drc_client)],
    )
    folder = scenario_dir(list=LIST_201)
    with serve_in_thread(create_app(kic_config)) as kic:
        argv = run_args(f"{kic.url}/api/v1", folder, "--drc-host", "127.0.0.1")
        argv += ["--drc-port", str(port), "--drc-client", ":".join(drc_client)]
        argv += ["--drc-callback-client", ":".join(callback)]
        assert main(argv) == 1
        out = capsys.readouterr().out
        [line] = [x.split("reproduce: ", 1)[1] for x in out.splitlines() if "reproduce: " in x]
        assert '--drc-client "$KIC_CONFORMANCE_DRC_CLIENT"' in line
        assert '--drc-callback-client "$KIC_CONFORMANCE_DRC_CALLBACK_CLIENT"' in line
        assert callback[1] not in line and drc_client[1] not in line and SECRET not in line
        assert "$KIC_CONFORMANCE_DRC_CALLBACK_CLIENT (ID:SECRET)" in line.split("#", 1)[1]
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KIC_CONFORMANCE_")},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "KIC_CONFORMANCE_SECRET": SECRET,
            "KIC_CONFORMANCE_DRC_CLIENT": ":".join(drc_client),
            "KIC_CONFORMANCE_DRC_CALLBACK_CLIENT": ":".join(callback),
        }
        pasted = subprocess.run(
            ["bash", "-c", line],
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
            cwd=tmp_path,
        )
    assert pasted.returncode == 1, pasted.stdout + pasted.stderr
    assert "FAILED klanten-list-201" in pasted.stdout


def test_usage_errors_name_where_a_value_came_from(tmp_path, monkeypatch, capsys) -> None:
    """A narrow secret from the environment without its client id, and a key of the config
    file that ``run`` does not take: each message names the variable or the file."""
    argv = ["run", "--target", "http://kic/api/v1", "--client-id", "c", "--secret", "s"]
    monkeypatch.setenv("KIC_CONFORMANCE_NARROW_SECRET", "narrow-secret")
    assert main(argv) == 2
    assert "(--narrow-secret is set by the environment variable KIC_CONFORMANCE_NARROW_SECRET)" in (
        capsys.readouterr().err
    )
    monkeypatch.delenv("KIC_CONFORMANCE_NARROW_SECRET")
    config = tmp_path / "kic-conformance.toml"
    config.write_text('defect = ["mirror-skipped"]\n', encoding="utf-8")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{config.name}: the key 'defect' is not an option of kic-conformance run" in err
