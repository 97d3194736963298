"""The pytest plugin, through pytester: scenarios become items, marks and -k select, must
failures fail, should failures warn, and without --kic-url/--kic-demo nothing happens."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from harness.pytest_plugin import _drc_options
from tests.harness.conftest import LIST_KLANTEN

API = {"API-version": "1.0.0-rc1"}
SECRET = "plugin-secret-long-enough-for-hs256-keys"

ETAG_SHOULD = """\
id: klanten-list-etag
title: Lists carry an ETag
rule: oas:klant_list
level: should
steps:
  - call: klant_list
    expect: {status: 200, headers: {ETag: !present }}
"""

WRONG_STATUS = """\
id: klanten-create-201
title: Creating a klant answers 201
rule: oas:klant_create
steps:
  - call: klant_create
    body: {subjectType: natuurlijk_persoon, subject: "http://example.com/p/1"}
    expect: {status: 201}
"""


@pytest.fixture(autouse=True)
def _fast_startup(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Load only our plugin (and pytester's needs) in the child pytest: schemathesis and
    hypothesis make every child start seconds slower. The inert test keeps the entry point."""
    if request.node.name != "test_inert_without_options":
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture()
def scenario_folder(pytester: pytest.Pytester):
    folder = pytester.path / "kic-scenarios" / "klanten"
    folder.mkdir(parents=True)
    for name, text in (("list", LIST_KLANTEN), ("etag", ETAG_SHOULD), ("create", WRONG_STATUS)):
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder.parent


def kic_args(httpserver: HTTPServer, folder) -> list[str]:
    return [
        "--kic-url",
        httpserver.url_for("/api/v1"),
        "--kic-client-id",
        "plugin",
        "--kic-secret",
        SECRET,
        "--kic-scenarios",
        str(folder),
        "-p",
        "no:cacheprovider",
        "-p",
        "harness.pytest_plugin",
    ]


@pytest.fixture()
def double(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/api/v1/klanten", method="GET").respond_with_json([], headers=API)
    httpserver.expect_request("/api/v1/klanten", method="POST").respond_with_json(
        {"url": "http://kic/api/v1/klanten/1", "subjectType": "natuurlijk_persoon"},
        status=200,
        headers=API,
    )
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    return httpserver


def test_scenarios_become_items_with_outcomes(pytester, double, scenario_folder) -> None:
    result = pytester.runpytest_subprocess(*kic_args(double, scenario_folder), "-rA")
    result.assert_outcomes(passed=2, failed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*expected status 201, got 200*",
            "*Authorization: Bearer ***",
            "*KicConformanceWarning*",
            "PASSED kic-conformance::klanten-list",
            "FAILED kic-conformance::klanten-create-201*",
        ]
    )
    assert SECRET not in result.stdout.str()


def test_marks_and_keyword_select(pytester, double, scenario_folder) -> None:
    allow = "--kic-allow-incomplete"  # a selection is an incomplete run
    result = pytester.runpytest_subprocess(
        *kic_args(double, scenario_folder), "-m", "oas_klant_list", allow
    )
    result.assert_outcomes(passed=2, warnings=1)
    assert result.ret == pytest.ExitCode.OK
    result = pytester.runpytest_subprocess(
        *kic_args(double, scenario_folder), "-m", "should", allow
    )
    result.assert_outcomes(passed=1, deselected=2, warnings=1)
    result = pytester.runpytest_subprocess(
        *kic_args(double, scenario_folder), "-k", "create", allow
    )
    result.assert_outcomes(failed=1, deselected=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # a failure is never allowed


def test_inert_without_options(pytester) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "kic-conformance::" not in result.stdout.str()


def test_an_unreachable_target_is_one_usage_error_naming_the_option(
    pytester, scenario_folder
) -> None:
    from zgw.serving import free_port

    args = [
        "--kic-url",
        f"http://127.0.0.1:{free_port()}/api/v1",
        "--kic-client-id",
        "p",
        "--kic-secret",
        SECRET,
        "--kic-scenarios",
        str(scenario_folder),
        "-p",
        "harness.pytest_plugin",
    ]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*could not run*", "*Connection refused*", "*--kic-url*"])
    assert len(result.stdout.lines + result.stderr.lines) <= 20


def test_missing_credentials_are_one_usage_error(pytester, scenario_folder) -> None:
    args = ["--kic-url", "http://127.0.0.1:9/api/v1", "-p", "harness.pytest_plugin"]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*missing --kic-client-id, --kic-secret*KIC_CONFORMANCE_SECRET*"])
    assert len(result.stdout.lines + result.stderr.lines) <= 20
    bad = pytester.runpytest_subprocess(*args, "--kic-timeout", "-3")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--kic-timeout*positive number*"])


def test_a_shared_config_key_the_plugin_does_not_take_is_a_usage_error(
    pytester, scenario_folder
) -> None:
    """``html`` in a kic-conformance.toml shared with the CLI: no report would be written."""
    config = pytester.path / "kic-conformance.toml"
    config.write_text('html = "report.html"\n', encoding="utf-8")
    result = pytester.runpytest_subprocess(
        "--kic-url", "http://127.0.0.1:9/api/v1", "--kic-config", str(config),
        "-p", "harness.pytest_plugin",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*{config}: the key 'html' is not an option of the pytest plugin*--kic-config FILE*"]
    )


def test_settings_from_the_environment_and_the_verdict_line(
    pytester, double, scenario_folder, monkeypatch
) -> None:
    """``--kic`` takes target and secret from KIC_CONFORMANCE_*; skip reasons name the
    plugin's options; the session ends with the CLI's mode and verdict lines."""
    skipped = scenario_folder / "klanten" / "narrow.yaml"
    skipped.write_text(
        "id: narrow-read\ntitle: t\nrule: oas:klant_list\nrequires: [narrow-client]\n"
        "steps:\n  - call: klant_list\n    expect: {status: 200}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KIC_CONFORMANCE_TARGET", double.url_for("/api/v1"))
    monkeypatch.setenv("KIC_CONFORMANCE_CLIENT_ID", "plugin")
    monkeypatch.setenv("KIC_CONFORMANCE_SECRET", SECRET)
    monkeypatch.setenv("KIC_CONFORMANCE_SCENARIOS", str(scenario_folder))
    result = pytester.runpytest_subprocess(
        "--kic", "-p", "harness.pytest_plugin", "-rs", "-k", "not create"
    )
    result.assert_outcomes(passed=2, skipped=1, deselected=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "mode: no DRC; no narrow client; *",
            "NO FAILURES (incomplete: no mock DRC*pytest -k not create*1 skipped) http*"
            "(KIC 1.0.0-rc1; 2 passed, 1 skipped)",
            "kic-conformance: exit status 1: no item failed, but the run was incomplete *"
            "give --kic-allow-incomplete*",
            "*needs a narrow-scope client (--kic-narrow-client-id/--kic-narrow-secret)*",
        ]
    )
    assert SECRET not in result.stdout.str()
    # Incomplete is not a pass: a CI job on pytest fails, as on the CLI's exit 3 ...
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # ... unless the user says an incomplete run is what they want.
    allowed = pytester.runpytest_subprocess(
        "--kic", "-p", "harness.pytest_plugin", "-k", "not create", "--kic-allow-incomplete"
    )
    allowed.assert_outcomes(passed=2, skipped=1, deselected=1, warnings=1)
    assert allowed.ret == pytest.ExitCode.OK
    assert "exit status 1" not in allowed.stdout.str()


def test_the_plugin_starts_the_mock_drc_of_kic_drc_host(pytester, tmp_path) -> None:
    """--kic-drc-host/--kic-drc-port as the CLI's: a kic-001 scenario passes against a KIC
    configured for that DRC, after the same pre-flight (call-back client included)."""
    from harness.environment import DRC_CALLBACK, MAIN_CLIENT
    from reference_kic.app import create_app
    from reference_kic.config import ALL_SCOPES, DrcCredential, KicConfig
    from zgw.jwt import Client
    from zgw.serving import free_port, serve_in_thread

    port = free_port()
    config = KicConfig(
        db_path=str(tmp_path / "kic.sqlite3"),
        clients={
            MAIN_CLIENT[0]: Client(*MAIN_CLIENT, ALL_SCOPES),
            DRC_CALLBACK[0]: Client(*DRC_CALLBACK, frozenset({"klanten.lezen"})),
        },
        drc_credentials=[DrcCredential(f"http://127.0.0.1:{port}/", "kic", "kic-secret")],
    )
    with serve_in_thread(create_app(config)) as kic:
        result = pytester.runpytest_subprocess(
            *("--kic-url", f"{kic.url}/api/v1", "--kic-client-id", MAIN_CLIENT[0]),
            *("--kic-secret", MAIN_CLIENT[1], "--kic-id", "kic-001-create-mirrors"),
            *("--kic-drc-host", "127.0.0.1", "--kic-drc-port", str(port)),
            *("--kic-drc-callback-client", ":".join(DRC_CALLBACK), "-p", "harness.pytest_plugin"),
        )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["mode: DRC strict (calls the KIC back), checks tokens; no narrow client;*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # one scenario: an incomplete run


def test_a_pasted_reproduce_line_reruns_the_failed_item_with_the_plugin(
    pytester, double, scenario_folder
) -> None:
    """A plugin run's reproduce line is a pytest line with the plugin's ``--kic-*`` options,
    the secret read from ``$KIC_CONFORMANCE_SECRET``; pasted as is (the plugin loaded through
    its entry point), it runs the failed scenario again and none of the project's own tests."""
    pytester.makepyfile(test_own="def test_own():\n    pass\n")
    result = pytester.runpytest_subprocess(*kic_args(double, scenario_folder))
    result.assert_outcomes(passed=3, failed=1, warnings=1)
    # A set: on CI (``$CI`` set) pytest's short summary is not cut to the terminal's width,
    # so the same reproduce line is printed there a second time.
    [line] = {
        x.split("reproduce: ", 1)[1]
        for x in result.stdout.lines
        if "reproduce: " in x and "--kic-id klanten-create-201 " in x
    }
    assert line.startswith(f"pytest --kic-url {double.url_for('/api/v1')} --kic-client-id plugin")
    assert '--kic-secret "$KIC_CONFORMANCE_SECRET"' in line and SECRET not in line
    assert f"--kic-scenarios {scenario_folder}" in line
    assert "--kic-id klanten-create-201 --kic-no-fuzz -k kic-conformance" in line
    assert "kic-conformance run" not in line and " --target " not in line
    # As a user's shell has it: this environment's commands first on PATH, the secret set.
    environment = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    environment["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environment["PATH"]
    environment["KIC_CONFORMANCE_SECRET"] = SECRET
    pasted = subprocess.run(
        ["bash", "-c", line],
        cwd=pytester.path,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert pasted.returncode == 1, pasted.stdout + pasted.stderr
    assert "1 failed" in pasted.stdout and "passed" not in pasted.stdout.splitlines()[-1]
    assert "FAILED kic-conformance::klanten-create-201" in pasted.stdout


def test_reproduce_lines_of_a_plugin_run_name_the_plugin_options() -> None:
    """Narrow client, TLS, an embedded mock DRC and the demo: every option a ``--kic-*`` one."""
    from harness.config import RunConfig

    config = RunConfig(
        target="https://kic/api/v1",
        client_id="c",
        secret="s",
        narrow_client=("n", "ns"),
        tls_ca_bundle=Path("/ca.pem"),
        drc_url="http://127.0.0.1:4321",
        drc_callback_client=("cb", "cb-secret"),
        option_prefix="--kic-",
    )
    config.embedded_drc = _drc_options(
        {
            "drc_host": "0.0.0.0",
            "drc_port": 8500,
            "drc_public_url": "http://drc:8500",
            "drc_client": ("kic-x", "kic-x-secret"),
            "drc_lenient": True,
            "drc_accept_any_token": False,
        }
    )
    line = config.reproduce_command("kic-001-create-mirrors")
    assert line.startswith("pytest --kic-url https://kic/api/v1 --kic-client-id c ")
    assert '--kic-narrow-client-id n --kic-narrow-secret "$KIC_CONFORMANCE_NARROW_SECRET"' in line
    assert "--kic-tls-ca-bundle /ca.pem" in line
    assert "--kic-drc-host 0.0.0.0 --kic-drc-port 8500 --kic-drc-public-url http://drc:8500" in line
    assert "--kic-drc-lenient" in line and "4321" not in line
    assert '--kic-drc-client "$KIC_CONFORMANCE_DRC_CLIENT"' in line
    assert '--kic-drc-callback-client "$KIC_CONFORMANCE_DRC_CALLBACK_CLIENT"' in line
    assert "ns" not in line.split() and '"s"' not in line
    assert "cb-secret" not in line and "kic-x-secret" not in line
    options = [word for word in line.split("#")[0].split() if word.startswith("--")]
    assert options and all(word.startswith("--kic-") for word in options), options
    config.demo_defects = ()
    assert config.reproduce_command("x").startswith(
        "pytest --kic-demo --kic-id x --kic-no-fuzz -k kic-conformance"
    )
