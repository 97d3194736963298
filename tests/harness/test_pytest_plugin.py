"""The pytest plugin, through pytester: scenarios become items, marks and -k select, must
failures fail, should failures warn, and without --kic-url/--kic-demo nothing happens."""

from __future__ import annotations

import textwrap

import pytest
from pytest_httpserver import HTTPServer

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
    result = pytester.runpytest_subprocess(
        *kic_args(double, scenario_folder), "-m", "oas_klant_list"
    )
    result.assert_outcomes(passed=2, warnings=1)
    result = pytester.runpytest_subprocess(*kic_args(double, scenario_folder), "-m", "should")
    result.assert_outcomes(passed=1, deselected=2, warnings=1)
    result = pytester.runpytest_subprocess(*kic_args(double, scenario_folder), "-k", "create")
    result.assert_outcomes(failed=1, deselected=2)


def test_inert_without_options(pytester) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "kic-conformance::" not in result.stdout.str()


def test_unreachable_target_fails_items_clearly(pytester, scenario_folder) -> None:
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
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*cannot be reached*"])
