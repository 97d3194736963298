"""The runner against misbehaving targets: every case is a clear failure, never a crash or hang."""

from __future__ import annotations

import json
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import harness.run
from harness.config import RunConfig
from harness.results import Outcome
from harness.run import run
from harness.runner import run_scenario
from zgw.serving import free_port

API = {"API-version": "1.0.0-rc1"}
SECRET = "b-secret-long-enough-for-hs256-keys"


def failed_messages(case) -> str:
    return "\n".join(f"{c.name}: {c.message}" for c in case.failed_checks()) + (case.error or "")


def test_a_conforming_double_passes(httpserver: HTTPServer, list_scenario, context_for) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    case = run_scenario(list_scenario, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is Outcome.PASSED, failed_messages(case)
    [exchange] = case.exchanges
    assert exchange.request_headers["Authorization"] == "Bearer ***"
    assert exchange.status == 200 and exchange.operation_id == "klant_list"


def test_connection_refused_is_an_error_with_the_exchange(list_scenario, context_for) -> None:
    target = f"http://127.0.0.1:{free_port()}/api/v1"
    case = run_scenario(list_scenario, context_for(target))
    assert case.outcome is Outcome.ERROR
    assert "target unreachable" in case.error
    assert case.exchanges[0].error.startswith("connection failed")


def test_unreachable_before_the_first_scenario_aborts_the_run(list_scenario) -> None:
    config = RunConfig(
        target=f"http://127.0.0.1:{free_port()}/api/v1",
        client_id="a",
        secret=SECRET,
    )
    result = run(config, scenarios=[list_scenario])
    assert result.aborted and "no answer (connection failed" in result.aborted
    assert (result.exit_code, result.verdict) == (2, "COULD NOT RUN")


def test_a_timeout_is_a_failed_check(httpserver: HTTPServer, list_scenario, context_for) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("[]", headers=API, content_type="application/json")

    httpserver.expect_request("/api/v1/klanten").respond_with_handler(slow)
    case = run_scenario(list_scenario, context_for(httpserver.url_for("/api/v1"), timeout=0.3))
    assert case.outcome is Outcome.FAILED
    assert "timeout" in failed_messages(case)
    assert case.exchanges[0].status is None


def test_a_non_json_body_fails_the_schema(
    httpserver: HTTPServer, list_scenario, context_for
) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_data(
        "hello", headers=API, content_type="text/plain"
    )
    case = run_scenario(list_scenario, context_for(httpserver.url_for("/api/v1")))
    assert case.outcome is Outcome.FAILED
    assert "not valid JSON" in failed_messages(case)
    assert case.exchanges[0].response_body == "hello"


def test_an_html_500_page(httpserver: HTTPServer, list_scenario, context_for) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_data(
        "<html><body>Server Error</body></html>", status=500, content_type="text/html"
    )
    case = run_scenario(list_scenario, context_for(httpserver.url_for("/api/v1")))
    text = failed_messages(case)
    assert case.outcome is Outcome.FAILED
    assert "expected status 200, got 500" in text
    assert "server error 500" in text
    assert "API-version header is missing" in text


def test_a_redirect_to_another_host_is_not_followed(
    httpserver: HTTPServer, list_scenario, context_for
) -> None:
    elsewhere = HTTPServer(host="localhost", port=free_port())
    elsewhere.expect_request("/steal").respond_with_json([], headers=API)
    elsewhere.start()
    try:
        httpserver.expect_request("/api/v1/klanten").respond_with_data(
            "", status=302, headers={"Location": elsewhere.url_for("/steal"), **API}
        )
        case = run_scenario(list_scenario, context_for(httpserver.url_for("/api/v1")))
        assert case.outcome is Outcome.FAILED
        assert "expected status 200, got 302" in failed_messages(case)
        assert "another host" in case.exchanges[0].error
        assert elsewhere.log == []  # the token never reached the other host
    finally:
        elsewhere.clear()
        elsewhere.stop()


def test_a_huge_body_is_cut_off(httpserver: HTTPServer, list_scenario, context_for) -> None:
    huge = json.dumps([{"voornaam": "x" * 1000}] * 3000)  # about 3 MB
    httpserver.expect_request("/api/v1/klanten").respond_with_data(
        huge, headers=API, content_type="application/json"
    )
    context = context_for(httpserver.url_for("/api/v1"), max_body_bytes=50_000)
    case = run_scenario(list_scenario, context)
    assert case.outcome is Outcome.FAILED
    assert "larger than 50000 bytes" in failed_messages(case)
    assert len(case.exchanges[0].response_body) < 70_000


def test_run_fills_observed_statuses(httpserver: HTTPServer, list_scenario) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    config = RunConfig(target=httpserver.url_for("/api/v1"), client_id="a", secret=SECRET)
    config.fuzz_examples = 0
    result = run(config, scenarios=[list_scenario])
    assert result.aborted is None and result.verdict_state == "NO FAILURES"
    assert result.observed_statuses["klant_list"][200] == 1


def test_a_crashing_fuzzer_is_recorded_not_silent(
    httpserver: HTTPServer, list_scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/api/v1/klanten").respond_with_json([], headers=API)
    httpserver.expect_request("/api/v1/").respond_with_json({}, headers=API)
    config = RunConfig(target=httpserver.url_for("/api/v1"), client_id="a", secret=SECRET)
    config.fuzz_examples = 1

    def crash(config, result, drc=None, progress=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(harness.run, "run_fuzz", crash)
    result = run(config, scenarios=[list_scenario])
    [fuzz] = [c for c in result.cases if c.kind == "fuzz"]
    assert fuzz.outcome is Outcome.ERROR and "boom" in fuzz.error
    assert result.verdict == "NOT CONFORMANT"
