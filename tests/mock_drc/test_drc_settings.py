"""Where ``mock-drc serve`` takes its options from: command line > MOCK_DRC_* environment >
TOML config file > default, with ${VAR} expansion and every bad value named with its source,
so that CI can keep secrets off the command line (where ``ps`` shows them)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_drc.cli import build_parser, config_from_args, main, settings
from zgw.jwt import bearer
from zgw.serving import free_port

EIOS = "/documenten/api/v1/enkelvoudiginformatieobjecten"


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def write(folder: Path, text: str, name: str = "mock-drc.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder with no MOCK_DRC_* variables, so nothing is read by accident."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MOCK_DRC_"):
            monkeypatch.delenv(name)


def test_the_command_line_wins_over_the_environment_over_the_file_over_the_default(
    tmp_path: Path,
) -> None:
    config = write(
        tmp_path,
        'port = 8001\nhost = "0.0.0.0"\nclient = ["file:f"]\nthreads = 3\n'
        'callback-client = "cb:file"\n',
    )
    environ = {"MOCK_DRC_PORT": "8002", "MOCK_DRC_CLIENT": "env:e", "MOCK_DRC_THREADS": "5"}
    values = settings(parse("--config", str(config), "--port", "8003"), environ)
    assert values["port"] == 8003  # command line
    assert values["client"] == [("env", "e")]  # environment, over the file's
    assert values["threads"] == 5  # environment
    assert values["host"] == "0.0.0.0"  # file
    assert values["callback_client"] == ("cb", "file")  # file
    assert values["public_base_url"] is None and values["lenient"] is False  # defaults
    assert values["config_file"] == str(config)


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "MOCK_DRC_PORT": "8000",
        "MOCK_DRC_CLIENT": "kic:s3cret, other:x:y",
        "MOCK_DRC_CALLBACK_CLIENT": "mock-drc:cb-s3cret",
        "MOCK_DRC_LENIENT": "yes",
        "MOCK_DRC_ACCEPT_ANY_TOKEN": "0",
        "MOCK_DRC_PUBLIC_BASE_URL": "http://mock-drc.ci.test:8500/",
    }
    config = config_from_args(parse(), environ)
    assert {cid: c.secret for cid, c in config.clients.items()} == {"kic": "s3cret", "other": "x:y"}
    assert config.callback_credentials == ("mock-drc", "cb-s3cret")
    assert (config.strict, config.accept_any_token) == (False, False)
    assert config.public_base_url == "http://mock-drc.ci.test:8500"


def test_the_file_expands_variables_and_is_found_three_ways(tmp_path: Path) -> None:
    text = 'port = 8500\nclient = "kic:${KIC_DRC_SECRET}"\nlenient = true\n'
    environ = {"KIC_DRC_SECRET": "from-the-variable"}
    named = write(tmp_path, text, "elsewhere.toml")
    for args, env in [
        (parse("--config", str(named)), environ),  # --config
        (parse(), {**environ, "MOCK_DRC_CONFIG": str(named)}),  # MOCK_DRC_CONFIG
    ]:
        config = config_from_args(args, env)
        assert config.clients["kic"].secret == "from-the-variable" and config.strict is False
    assert settings(parse("--port", "1"), environ)["config_file"] is None  # none in this folder
    write(tmp_path, text)  # ./mock-drc.toml
    assert config_from_args(parse(), environ).clients["kic"].secret == "from-the-variable"


@pytest.mark.parametrize(
    ("argv", "environ", "file", "message"),
    [
        ([], {}, None, "missing --port (or the environment variable MOCK_DRC_PORT"),
        ([], {"MOCK_DRC_PORT": "http"}, None, "MOCK_DRC_PORT: expected a port number"),
        (["--port", "1"], {"MOCK_DRC_CLIENT": "kic"}, None, "MOCK_DRC_CLIENT: expected CLIENT_ID"),
        (["--port", "1"], {"MOCK_DRC_LENIENT": "maybe"}, None, "MOCK_DRC_LENIENT: expected one"),
        (["--port", "1"], {"MOCK_DRC_THREADS": "0"}, None, "MOCK_DRC_THREADS: expected a thread"),
        (
            ["--port", "1"],
            {"MOCK_DRC_PUBLIC_BASE_URL": "mock-drc.ci.test"},
            None,
            "MOCK_DRC_PUBLIC_BASE_URL: 'mock-drc.ci.test': Enter a valid URL",
        ),
        (["--port", "1"], {"MOCK_DRC_CONFIG": "nope.toml"}, None, "MOCK_DRC_CONFIG nope.toml: no"),
        (["--port", "1", "--config", "nope.toml"], {}, None, "--config nope.toml: no such file"),
        ([], {}, 'port = 1\nsecret = "x"\n', "mock-drc.toml: unknown key 'secret' (known keys:"),
        ([], {}, 'port = 1\nclient = "kic:${NOPE}"\n', "client: the environment variable NOPE"),
        ([], {}, 'port = 1\nlenient = "yes"\n', "mock-drc.toml: lenient: expected true or false"),
        ([], {}, 'port = "eighty"\n', "mock-drc.toml: port: expected a port number"),
        ([], {}, "port = [\n", "mock-drc.toml: not valid TOML"),
    ],
)
def test_a_bad_value_exits_2_naming_its_source(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    file: str | None,
    message: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    if file is not None:
        write(tmp_path, file)
    with pytest.raises(SystemExit) as exited:
        main(["serve", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("mock-drc serve: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_malformed_credential_is_not_echoed(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("MOCK_DRC_CLIENT", "kic;very-secret")  # a typo for kic:very-secret
    with pytest.raises(SystemExit):
        main(["serve", "--port", "1"])
    err = capsys.readouterr().err
    assert "MOCK_DRC_CLIENT: expected CLIENT_ID:SECRET" in err and "very-secret" not in err


@pytest.fixture
def served_from_the_environment(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``mock-drc serve`` with no option on its command line: all from MOCK_DRC_* variables."""
    port = free_port()
    env = {
        **os.environ,
        "MOCK_DRC_PORT": str(port),
        "MOCK_DRC_THREADS": "2",
        "MOCK_DRC_CLIENT": "kic:drc-secret-from-the-environment",
        "MOCK_DRC_CALLBACK_CLIENT": "mock-drc:callback-secret-from-the-environment",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_drc", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert "mock DRC ready at" in ready, process.stderr.read() if process.poll() else ready
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.slow
def test_serve_takes_its_clients_from_the_environment_not_the_command_line(
    served_from_the_environment: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = served_from_the_environment
    good = {"Authorization": bearer("kic", "drc-secret-from-the-environment")}
    default = {"Authorization": bearer("kic", "kic-secret")}
    assert httpx.get(base + EIOS, headers=good).status_code == 200
    assert httpx.get(base + EIOS, headers=default).status_code == 403
    state = httpx.get(base + "/_mock/state").json()["config"]
    assert state["clients"] == ["kic"] and state["callbackClientId"] == "mock-drc"
    cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
    assert "secret" not in cmdline  # what `ps` shows
